"""Session safety rules: vitals, symptoms and pain → "stop / refer back" flags.

Pure functions, no I/O. The flags tell the exercise professional what to do in plain words
("Do not exercise today; contact the physician"). They never name a diagnosis.

Sources (every threshold below carries its published citation and population in ``RULES``;
the values and their sources are documented in docs/clinical.md §7):
  - §7.1 blood pressure before exercise (ACSM GETP Box 3.5; 2017 ACC/AHA categories, §4.1),
    §7.2 resting heart rate (ATS 2002), §7.3 stop criteria (ACSM), §7.4 glucose,
    §7.5 symptoms and acute illness (ACSM GETP Table 2.2, §6.4), §7.6 pain (NPRS MDC, §3.6),
    §7.7 back-pain red flags (AHCPR).

Deliberately NOT encoded (the reference set gives no threshold, so none is invented):
  - SpO2: stored and range-checked, but no low-SpO2 flag (no figure in the reference).
  - Low resting heart rate, "failure of HR to rise" and workload-based rules (the log has no
    workload per reading).
  - An absolute pain level that stops a session (only a change in pain is flagged).

Plausibility limits (readings outside are refused as typing errors). They are wide on purpose:
a refused reading cannot raise a flag, so a real but alarming value must always be accepted,
while a mistyped extreme value fails safe (it raises a stop flag the practitioner will see).
  - Heart rate 20–300 bpm (see heart_rate.py).
  - Systolic 50–300 mmHg: 300 is the top of a standard manual sphygmomanometer scale, so a
    higher number cannot be read from a cuff; below 50 no cuff reading is credible.
  - Diastolic 30–200 mmHg and below systolic. Below 30 is taken as a mis-read (during exercise
    record the muffling point if the sounds go on to 0); so 300/20 is refused.
  - SpO2 50–100 %: above 100 is impossible; fingertip oximeters are not accurate below ~70.
  - Glucose 10–1500 mg/dL: meters read about 20–600; the wider range only avoids refusing a
    laboratory value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from .heart_rate import HR_PLAUSIBLE_MAX, HR_PLAUSIBLE_MIN

# --- Plausibility limits (our choice; see module docstring) ----------------------------

SBP_PLAUSIBLE_MIN = 50
SBP_PLAUSIBLE_MAX = 300
DBP_PLAUSIBLE_MIN = 30
DBP_PLAUSIBLE_MAX = 200
SPO2_PLAUSIBLE_MIN = 50
SPO2_PLAUSIBLE_MAX = 100
GLUCOSE_PLAUSIBLE_MIN = 10
GLUCOSE_PLAUSIBLE_MAX = 1500
PAIN_MIN = 0
PAIN_MAX = 10

# --- Clinical thresholds (each used in RULES with its citation) ------------------------

# docs/clinical.md §7.1: ACSM relative contraindication, resting SBP > 200 and/or DBP > 110
# (strictly above).
REST_SBP_CONTRAINDICATION = 200
REST_DBP_CONTRAINDICATION = 110
# docs/clinical.md §4.1, §7.1: ACC/AHA hypertensive crisis, > 180 and/or > 120 (strictly above).
CRISIS_SBP = 180
CRISIS_DBP = 120
# docs/clinical.md §7.2: ATS 6MWT relative contraindication, resting HR > 120 (strictly above).
REST_HR_HIGH = 120
# docs/clinical.md §7.3: ACSM stop criteria, SBP drop > 10 from baseline; SBP > 250 or DBP > 115
# (strictly above).
SBP_DROP_MAX = 10
EXERCISE_SBP_MAX = 250
EXERCISE_DBP_MAX = 115
# docs/clinical.md §7.4: glucose (mg/dL).
MG_DL_PER_MMOL_L = 18.016  # glucose: 180.16 g/mol
GLUCOSE_VERY_LOW_MMOL_L = 2.9  # T1D: < 2.9 mmol/L (~52 mg/dL) → contraindicated (strict <)
GLUCOSE_VERY_LOW_MG_DL = GLUCOSE_VERY_LOW_MMOL_L * MG_DL_PER_MMOL_L  # 52.25 mg/dL
GLUCOSE_LOW = 70  # hypoglycaemia: ≤ 70 mg/dL (70 itself is low)
GLUCOSE_CARB_CHECK = 100  # < 100 mg/dL: carbohydrate may be needed (100 itself is not flagged)
GLUCOSE_HIGH = 250  # "> 250" / "250–350 … delay until < 250": 250 itself is flagged (conservative)
GLUCOSE_VERY_HIGH = 300  # "> 300 without ketosis": strictly above
# NPRS minimal detectable change 2 points (Childs 2005, LBP; docs/clinical.md §3.6, §7.6): an
# increase ≥ 2 is a real change.
PAIN_MDC = 2


# --- Enums -----------------------------------------------------------------------------


class Timing(StrEnum):
    PRE = "pre"
    DURING = "during"
    POST = "post"


TIMING_LABELS = {
    Timing.PRE: "before exercise",
    Timing.DURING: "during exercise",
    Timing.POST: "after exercise",
}


class BpPosition(StrEnum):
    SEATED = "seated"
    STANDING = "standing"
    SUPINE = "supine"


class Ketones(StrEnum):
    UNKNOWN = "unknown"
    NONE = "none"
    TRACE = "trace"
    SMALL = "small"
    MODERATE = "moderate"
    LARGE = "large"


# docs/clinical.md §7.4: the newest, ADA-attributed guidance says "do not exercise if ketones
# are present"; the older ACSM/ADA joint statement and PMC7510348 name moderate–large ketones.
# Conservative: any positive reading (trace or more) counts as present.
KETONES_PRESENT = frozenset({Ketones.TRACE, Ketones.SMALL, Ketones.MODERATE, Ketones.LARGE})


class Severity(StrEnum):
    HARD_STOP = "hard_stop"
    CAUTION = "caution"
    INFO = "info"


SEVERITY_RANK = {Severity.HARD_STOP: 0, Severity.CAUTION: 1, Severity.INFO: 2}
SEVERITY_LABELS = {
    Severity.HARD_STOP: "Stop",
    Severity.CAUTION: "Caution",
    Severity.INFO: "Note",
}


class Symptom(StrEnum):
    """Signs and symptoms that stop the session and go back to the physician.

    docs/clinical.md §7.5: the ACSM signs/symptoms suggestive of cardiovascular, metabolic or
    renal disease (§6.4) and the symptom-type stop criteria (§7.3). Short labels only. "Known
    heart murmur" is a screening item, not something noticed in a session, so it is not
    listed here.
    """

    CHEST_PAIN = "chest_pain"
    BREATHLESS_AT_REST_OR_MILD_EFFORT = "breathless_at_rest_or_mild_effort"
    DIZZINESS_OR_FAINTING = "dizziness_or_fainting"
    BREATHLESS_LYING_FLAT = "breathless_lying_flat"
    ANKLE_SWELLING_BOTH = "ankle_swelling_both"
    LEG_SWELLING_ONE_SIDE = "leg_swelling_one_side"
    PALPITATIONS = "palpitations"
    CLAUDICATION = "claudication"
    UNUSUAL_FATIGUE = "unusual_fatigue"
    WHEEZING = "wheezing"
    LEG_CRAMPS = "leg_cramps"
    CONFUSION = "confusion"
    UNSTEADY = "unsteady"
    PALLOR = "pallor"
    BLUE_LIPS_OR_SKIN = "blue_lips_or_skin"
    NAUSEA = "nausea"
    COLD_CLAMMY_SKIN = "cold_clammy_skin"
    HEART_RHYTHM_CHANGE = "heart_rhythm_change"
    # ACSM absolute contraindication (docs/clinical.md §7.1, §7.5).
    FEVER_OR_ACUTE_INFECTION = "fever_or_acute_infection"
    # "≤ 70 mg/dL or symptomatic" (docs/clinical.md §7.4).
    LOW_BLOOD_SUGAR_SIGNS = "low_blood_sugar_signs"


SYMPTOM_LABELS: dict[Symptom, str] = {
    Symptom.CHEST_PAIN: "Chest, neck, jaw or arm pain or discomfort",
    Symptom.BREATHLESS_AT_REST_OR_MILD_EFFORT: "Short of breath at rest or with mild effort",
    Symptom.DIZZINESS_OR_FAINTING: "Dizziness or fainting",
    Symptom.BREATHLESS_LYING_FLAT: "Breathless lying flat or waking breathless at night",
    Symptom.ANKLE_SWELLING_BOTH: "Swollen ankles (both)",
    Symptom.LEG_SWELLING_ONE_SIDE: "Swollen ankle or leg (one side)",
    Symptom.PALPITATIONS: "Palpitations or racing heart",
    Symptom.CLAUDICATION: "Leg pain on walking that eases with rest",
    Symptom.UNUSUAL_FATIGUE: "Unusual tiredness or breathlessness in usual activities",
    Symptom.WHEEZING: "Wheezing",
    Symptom.LEG_CRAMPS: "Leg cramps",
    Symptom.CONFUSION: "Confusion",
    Symptom.UNSTEADY: "Loss of coordination or unsteadiness",
    Symptom.PALLOR: "Unusually pale",
    Symptom.BLUE_LIPS_OR_SKIN: "Blue or grey lips or skin",
    Symptom.NAUSEA: "Nausea",
    Symptom.COLD_CLAMMY_SKIN: "Cold, clammy skin",
    Symptom.HEART_RHYTHM_CHANGE: "Noticeable change in heart rhythm",
    Symptom.FEVER_OR_ACUTE_INFECTION: "Fever, body aches or swollen glands",
    Symptom.LOW_BLOOD_SUGAR_SIGNS: "Signs of low blood sugar",
}

_SPECIAL_SYMPTOMS = frozenset({Symptom.FEVER_OR_ACUTE_INFECTION, Symptom.LOW_BLOOD_SUGAR_SIGNS})


class MskRedFlag(StrEnum):
    """Back-pain warning signs (AHCPR acute low back problems guideline; docs/clinical.md §7.7).

    Tick these when the client reports new or worsening back pain. The guideline's age
    criterion (> 50 or < 20) is not an input: on its own it would flag most clients.
    """

    # Fracture group
    MAJOR_TRAUMA = "major_trauma"
    MINOR_TRAUMA_OLDER_OR_OSTEOPOROTIC = "minor_trauma_older_or_osteoporotic"
    # Tumour / infection group
    HISTORY_OF_CANCER = "history_of_cancer"
    FEVER_CHILLS_WEIGHT_LOSS = "fever_chills_weight_loss"
    INFECTION_RISK = "infection_risk"
    PAIN_WORSE_LYING_DOWN = "pain_worse_lying_down"
    SEVERE_NIGHT_PAIN = "severe_night_pain"
    # Nerve (cauda equina) group
    SADDLE_NUMBNESS = "saddle_numbness"
    NEW_BLADDER_PROBLEM = "new_bladder_problem"
    PROGRESSIVE_LEG_WEAKNESS = "progressive_leg_weakness"
    MAJOR_MOTOR_WEAKNESS = "major_motor_weakness"


MSK_RED_FLAG_LABELS: dict[MskRedFlag, str] = {
    MskRedFlag.MAJOR_TRAUMA: "Back pain after major trauma",
    MskRedFlag.MINOR_TRAUMA_OLDER_OR_OSTEOPOROTIC: (
        "Back pain after a minor fall or strenuous lifting (older or osteoporotic client)"
    ),
    MskRedFlag.HISTORY_OF_CANCER: "History of cancer",
    MskRedFlag.FEVER_CHILLS_WEIGHT_LOSS: "Fever, chills or unexplained weight loss",
    MskRedFlag.INFECTION_RISK: "Recent bacterial infection, IV drug use or lowered immunity",
    MskRedFlag.PAIN_WORSE_LYING_DOWN: "Pain worse when lying down",
    MskRedFlag.SEVERE_NIGHT_PAIN: "Severe pain at night",
    MskRedFlag.SADDLE_NUMBNESS: "Numbness in the saddle area (groin, buttocks, inner thighs)",
    MskRedFlag.NEW_BLADDER_PROBLEM: "New bladder problem (cannot pass urine, frequency, leaking)",
    MskRedFlag.PROGRESSIVE_LEG_WEAKNESS: "Severe or worsening leg weakness or numbness",
    MskRedFlag.MAJOR_MOTOR_WEAKNESS: "Major leg weakness (e.g. foot drop)",
}

MSK_TRAUMA_GROUP = frozenset(
    {MskRedFlag.MAJOR_TRAUMA, MskRedFlag.MINOR_TRAUMA_OLDER_OR_OSTEOPOROTIC}
)
MSK_SYSTEMIC_GROUP = frozenset(
    {
        MskRedFlag.HISTORY_OF_CANCER,
        MskRedFlag.FEVER_CHILLS_WEIGHT_LOSS,
        MskRedFlag.INFECTION_RISK,
        MskRedFlag.PAIN_WORSE_LYING_DOWN,
        MskRedFlag.SEVERE_NIGHT_PAIN,
    }
)
MSK_NERVE_GROUP = frozenset(
    {
        MskRedFlag.SADDLE_NUMBNESS,
        MskRedFlag.NEW_BLADDER_PROBLEM,
        MskRedFlag.PROGRESSIVE_LEG_WEAKNESS,
        MskRedFlag.MAJOR_MOTOR_WEAKNESS,
    }
)


class FlagCode(StrEnum):
    RESTING_BP_CONTRAINDICATION = "resting_bp_contraindication"
    HYPERTENSIVE_CRISIS = "hypertensive_crisis"
    RESTING_BP_NOT_RECORDED = "resting_bp_not_recorded"
    RESTING_HR_HIGH = "resting_hr_high"
    SBP_DROP_DURING_EXERCISE = "sbp_drop_during_exercise"
    BP_EXCESSIVE_RISE = "bp_excessive_rise"
    SBP_DROP_NOT_CHECKABLE = "sbp_drop_not_checkable"
    GLUCOSE_VERY_LOW = "glucose_very_low"
    GLUCOSE_LOW = "glucose_low"
    SEVERE_HYPO_LAST_24H = "severe_hypo_last_24h"
    GLUCOSE_BELOW_100 = "glucose_below_100"
    GLUCOSE_HIGH_KETONES_PRESENT = "glucose_high_ketones_present"
    GLUCOSE_HIGH_KETONES_UNKNOWN = "glucose_high_ketones_unknown"
    GLUCOSE_VERY_HIGH_NO_KETONES = "glucose_very_high_no_ketones"
    GLUCOSE_HIGH_NO_KETONES = "glucose_high_no_ketones"
    GLUCOSE_NOT_RECORDED = "glucose_not_recorded"
    SYMPTOMS = "symptoms"
    ACUTE_ILLNESS = "acute_illness"
    PAIN_NEW = "pain_new"
    PAIN_WORSE = "pain_worse"
    MSK_RED_FLAG_TRAUMA = "msk_red_flag_trauma"
    MSK_RED_FLAG_SYSTEMIC = "msk_red_flag_systemic"
    MSK_RED_FLAG_NERVE = "msk_red_flag_nerve"


# --- Flag rules ------------------------------------------------------------------------


class SafetyRule(BaseModel):
    """The fixed part of a flag: what it means, what to do, and where the number comes from."""

    model_config = ConfigDict(frozen=True)

    code: FlagCode
    severity: Severity
    title: str
    what_to_do: str
    offer_change_in_status_report: bool
    threshold: str
    source: str
    population: str
    note: str = ""


class SafetyFlag(BaseModel):
    """One safety flag raised for a session, with the reading that raised it (``detail``)."""

    model_config = ConfigDict(frozen=True)

    code: FlagCode
    severity: Severity
    title: str
    what_to_do: str
    detail: str
    offer_change_in_status_report: bool
    threshold: str
    source: str
    population: str
    note: str = ""

    @property
    def is_hard_stop(self) -> bool:
        return self.severity == Severity.HARD_STOP


_STOP_CONTACT = "Do not exercise today. Contact the referring physician."

RULES: dict[FlagCode, SafetyRule] = {
    r.code: r
    for r in [
        SafetyRule(
            code=FlagCode.RESTING_BP_CONTRAINDICATION,
            severity=Severity.HARD_STOP,
            title="Resting blood pressure above the exercise limit",
            what_to_do=_STOP_CONTACT,
            offer_change_in_status_report=True,
            threshold=(
                f"Resting systolic above {REST_SBP_CONTRAINDICATION} and/or diastolic above "
                f"{REST_DBP_CONTRAINDICATION} mmHg"
            ),
            # docs/clinical.md §7.1
            source="ACSM GETP Box 3.5 relative contraindication (modified from ACC/AHA 2002)",
            population="Adults before exercise testing (ACSM)",
            note="Listed by ACSM as a relative contraindication: do not exercise and notify the "
            "physician.",
        ),
        SafetyRule(
            code=FlagCode.HYPERTENSIVE_CRISIS,
            severity=Severity.HARD_STOP,
            title="Blood pressure in the crisis range",
            what_to_do=(
                "Do not exercise today. Contact the referring physician today. If the client "
                "feels unwell, call emergency services."
            ),
            offer_change_in_status_report=True,
            threshold=(
                f"Resting systolic above {CRISIS_SBP} and/or diastolic above {CRISIS_DBP} mmHg"
            ),
            # docs/clinical.md §4.1, §7.1
            source="2017 ACC/AHA blood pressure guideline (Whelton et al. 2018)",
            population="Adults",
        ),
        SafetyRule(
            code=FlagCode.RESTING_HR_HIGH,
            severity=Severity.HARD_STOP,
            title="Resting heart rate above the exercise limit",
            what_to_do=(
                "Do not exercise today unless the physician has said to go ahead. "
                "Contact the referring physician."
            ),
            offer_change_in_status_report=True,
            threshold=f"Resting heart rate above {REST_HR_HIGH} bpm",
            # docs/clinical.md §7.2
            source="ATS 2002 six-minute walk test guideline, relative contraindication",
            population="Adults before a six-minute walk test",
            note=(
                "The only resting heart-rate limit in the reference set; it comes from the "
                "walk-test guideline and is applied to sessions. Relative contraindications "
                "mean 'proceed only with clinician direction' (ACSM), hence a stop."
            ),
        ),
        SafetyRule(
            code=FlagCode.SBP_DROP_DURING_EXERCISE,
            severity=Severity.HARD_STOP,
            title="Systolic pressure fell during exercise",
            what_to_do="Stop exercise now. Do not continue today. Contact the referring physician.",
            offer_change_in_status_report=True,
            threshold=f"Systolic more than {SBP_DROP_MAX} mmHg below the pre-exercise reading",
            source="ACSM indications for stopping an exercise test",  # docs/clinical.md §7.3
            population="Low-risk adults during exercise testing (applied to sessions)",
            note=(
                "ACSM applies this 'despite increasing workload'. The session log does not "
                "record workload with each reading, so every during-exercise reading is "
                "compared with the pre-exercise reading (conservative)."
            ),
        ),
        SafetyRule(
            code=FlagCode.BP_EXCESSIVE_RISE,
            severity=Severity.HARD_STOP,
            title="Blood pressure too high during exercise",
            what_to_do="Stop exercise now. Do not continue today. Contact the referring physician.",
            offer_change_in_status_report=True,
            threshold=(
                f"Systolic above {EXERCISE_SBP_MAX} or diastolic above {EXERCISE_DBP_MAX} mmHg "
                "during or after exercise"
            ),
            source="ACSM indications for stopping an exercise test",  # docs/clinical.md §7.3
            population="Low-risk adults during exercise testing (applied to sessions)",
            note="Also applied to the after-exercise reading (conservative).",
        ),
        SafetyRule(
            code=FlagCode.SBP_DROP_NOT_CHECKABLE,
            severity=Severity.INFO,
            title="No pre-exercise blood pressure to compare with",
            what_to_do=(
                "Record a resting blood pressure before exercise so that a fall in systolic "
                "pressure during exercise can be checked."
            ),
            offer_change_in_status_report=False,
            threshold="Blood pressure taken during exercise without a pre-exercise reading",
            source="ACSM indications for stopping an exercise test",  # docs/clinical.md §7.3
            population="Low-risk adults during exercise testing (applied to sessions)",
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_VERY_LOW,
            severity=Severity.HARD_STOP,
            title="Blood glucose very low",
            what_to_do=(
                "Do not exercise today. Give fast-acting carbohydrate now and re-test after "
                "15 minutes. Contact the referring physician."
            ),
            offer_change_in_status_report=True,
            threshold=(
                f"Glucose below {GLUCOSE_VERY_LOW_MMOL_L} mmol/L "
                f"({GLUCOSE_VERY_LOW_MG_DL:.1f} mg/dL)"
            ),
            # docs/clinical.md §7.4
            source="Turner 2019 (Sports Med Open) summarising the Riddell 2017 type 1 diabetes "
            "consensus",
            population="Adults with type 1 diabetes",
            note=(
                "Applied to every client (conservative): the reference gives this cut-off for "
                "type 1 diabetes only."
            ),
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_LOW,
            severity=Severity.HARD_STOP,
            title="Blood glucose low",
            what_to_do=(
                "Do not start, or stop, exercise. Give fast-acting carbohydrate and re-test "
                "after 15 minutes. Tell the referring physician."
            ),
            offer_change_in_status_report=True,
            threshold=f"Glucose at or below {GLUCOSE_LOW} mg/dL, or signs of low blood sugar",
            # docs/clinical.md §7.4
            source="Diabetes Foundation; 15 g rule (Turner 2019, Sports Med Open)",
            population="People with diabetes",
        ),
        SafetyRule(
            code=FlagCode.SEVERE_HYPO_LAST_24H,
            severity=Severity.HARD_STOP,
            title="Severe low blood sugar in the last 24 hours",
            what_to_do=_STOP_CONTACT,
            offer_change_in_status_report=True,
            threshold="Severe low blood sugar needing help from another person in the last 24 h",
            # docs/clinical.md §7.4
            source="Turner 2019 summarising the Riddell 2017 type 1 diabetes consensus",
            population="Adults with type 1 diabetes",
            note="Applied to every client with diabetes (conservative).",
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_BELOW_100,
            severity=Severity.CAUTION,
            title="Blood glucose below 100 mg/dL before exercise",
            what_to_do=(
                "The client may need carbohydrate before starting. Follow the client's "
                "diabetes plan from their physician, and re-check if in doubt."
            ),
            offer_change_in_status_report=False,
            threshold=f"Glucose above {GLUCOSE_LOW} and below {GLUCOSE_CARB_CHECK} mg/dL",
            # docs/clinical.md §7.4
            source="Illinois Extension; medicalalgorithms; older ACSM/ADA joint statement",
            population="People with diabetes, especially insulin or secretagogue users",
            note=(
                "Sources give < 90 mg/dL (Wilderness Environ Med 2019; ADA-attributed) or "
                "< 100 mg/dL; the "
                "higher, more cautious figure is used."
            ),
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_HIGH_KETONES_PRESENT,
            severity=Severity.HARD_STOP,
            title="High blood glucose with ketones",
            what_to_do=_STOP_CONTACT,
            offer_change_in_status_report=True,
            threshold=f"Glucose {GLUCOSE_HIGH} mg/dL or more with any ketones",
            # docs/clinical.md §7.4
            source=(
                "ADA-attributed guidance via Illinois Extension; Wilderness Environ Med 2019; "
                "medicalalgorithms"
            ),
            population="People with diabetes",
            note=(
                "Newer guidance (ADA-attributed): do not exercise if ketones are present. "
                "The older ACSM/ADA joint statement and Wilderness Environ Med 2019 say "
                "moderate–large ketones; trace or small ketones are counted as present here "
                "(conservative). The sources say '> 250'; 250 itself is included because they "
                "also say to wait until glucose is below 250."
            ),
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_HIGH_KETONES_UNKNOWN,
            severity=Severity.HARD_STOP,
            title="High blood glucose: ketones not tested",
            what_to_do=(
                "Do not start until ketones have been tested. If any ketones are present, do "
                "not exercise today and contact the referring physician."
            ),
            offer_change_in_status_report=False,
            threshold=f"Glucose {GLUCOSE_HIGH} mg/dL or more, ketones unknown",
            # docs/clinical.md §7.4
            source="ADA-attributed guidance via Illinois Extension; Wilderness Environ Med 2019",
            population="People with diabetes",
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_VERY_HIGH_NO_KETONES,
            severity=Severity.HARD_STOP,
            title="Blood glucose very high",
            what_to_do=_STOP_CONTACT,
            offer_change_in_status_report=True,
            threshold=f"Glucose above {GLUCOSE_VERY_HIGH} mg/dL without ketones",
            # docs/clinical.md §7.4
            source="medicalalgorithms; Wilderness Environ Med 2019; older ACSM/ADA joint statement",
            population="People with diabetes",
            note=(
                "Sources conflict: 'do not exercise' (medicalalgorithms), 'use caution' "
                "(older ACSM/ADA), light–moderate allowed up to 350 (Wilderness Environ Med "
                "2019). The reference "
                "asks for the conservative value as a flag for physician review."
            ),
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_HIGH_NO_KETONES,
            severity=Severity.CAUTION,
            title="Blood glucose high",
            what_to_do=(
                "Light to moderate exercise only; no vigorous exercise until glucose is below "
                f"{GLUCOSE_HIGH} mg/dL."
            ),
            offer_change_in_status_report=False,
            threshold=(
                f"Glucose {GLUCOSE_HIGH}–{GLUCOSE_VERY_HIGH} mg/dL with no ketones on testing"
            ),
            source="Wilderness Environ Med 2019; Illinois Extension",  # docs/clinical.md §7.4
            population="People with diabetes",
        ),
        SafetyRule(
            code=FlagCode.RESTING_BP_NOT_RECORDED,
            severity=Severity.CAUTION,
            title="Resting blood pressure not checked before exercise",
            what_to_do=(
                "Take a resting blood pressure (seated, after 5 minutes' rest) before starting."
            ),
            offer_change_in_status_report=False,
            threshold=(
                "Client with high blood pressure, heart disease or a medication that changes "
                "heart rate or blood pressure, and no resting blood pressure"
            ),
            # docs/clinical.md §7.1, §8.1
            source=(
                "Recommended objective session-log fields (IDEA Fit; trade guidance); the "
                "resting blood-pressure limits need a reading (ACSM; 2017 ACC/AHA)"
            ),
            population=(
                "People with high blood pressure or heart disease, or taking a medication that "
                "changes heart rate or blood pressure"
            ),
        ),
        SafetyRule(
            code=FlagCode.GLUCOSE_NOT_RECORDED,
            severity=Severity.CAUTION,
            title="Blood glucose not checked before exercise",
            what_to_do="Check blood glucose before starting.",
            offer_change_in_status_report=False,
            threshold="Client with diabetes and no pre-exercise glucose",
            # docs/clinical.md §7.4, §8.1
            source="Recommended objective session-log fields (IDEA Fit; trade guidance)",
            population="People with diabetes",
        ),
        SafetyRule(
            code=FlagCode.SYMPTOMS,
            severity=Severity.HARD_STOP,
            title="Symptoms that need the physician's review",
            what_to_do=(
                "Stop exercise. Do not continue today. Contact the referring physician. "
                "If symptoms are severe or do not settle with rest, call emergency services."
            ),
            offer_change_in_status_report=True,
            threshold="Any listed sign or symptom",
            # docs/clinical.md §7.5
            source=(
                "ACSM GETP Table 2.2 signs and symptoms; ACSM indications for stopping exercise"
            ),
            population="Adults (ACSM)",
        ),
        SafetyRule(
            code=FlagCode.ACUTE_ILLNESS,
            severity=Severity.HARD_STOP,
            title="Acute illness",
            what_to_do=(
                "Do not exercise today. Resume only when recovered; tell the referring physician."
            ),
            offer_change_in_status_report=True,
            threshold="Fever, body aches or swollen glands",
            source="ACSM GETP Box 3.5 absolute contraindication",  # docs/clinical.md §7.5
            population="Adults before exercise testing (ACSM)",
        ),
        SafetyRule(
            code=FlagCode.PAIN_NEW,
            severity=Severity.CAUTION,
            title="New pain",
            what_to_do=(
                "Ask where and since when. Do not load the painful area. If the pain does not "
                "settle, refer back to the physician."
            ),
            offer_change_in_status_report=True,
            threshold=f"Pain {PAIN_MDC}/10 or more when the last score was 0",
            # docs/clinical.md §7.6, §3.6
            source=(
                "New or worsening pain (fitness-certification guidance, low authority); NPRS "
                "MDC 2 points (Childs et al. 2005, Spine)"
            ),
            population="MDC from low-back-pain physiotherapy patients",
            note=(
                "The reference gives no pain threshold for stopping; a change smaller than the "
                "MDC can be measurement error, so changes from 2 points up are flagged."
            ),
        ),
        SafetyRule(
            code=FlagCode.PAIN_WORSE,
            severity=Severity.CAUTION,
            title="Pain is worse than last time",
            what_to_do=(
                "Ask what changed. Do not load the painful area. If the pain does not settle, "
                "refer back to the physician."
            ),
            offer_change_in_status_report=True,
            threshold=f"Pain up by {PAIN_MDC} or more points (0–10) since the last score",
            # docs/clinical.md §7.6, §3.6
            source=(
                "New or worsening pain (fitness-certification guidance, low authority); NPRS "
                "MDC 2 points (Childs et al. 2005, Spine)"
            ),
            population="MDC from low-back-pain physiotherapy patients",
            note=(
                "The reference gives no pain threshold for stopping; a change smaller than the "
                "MDC can be measurement error, so changes from 2 points up are flagged."
            ),
        ),
        SafetyRule(
            code=FlagCode.MSK_RED_FLAG_TRAUMA,
            severity=Severity.HARD_STOP,
            title="Back-pain warning signs after a fall or injury",
            what_to_do=_STOP_CONTACT,
            offer_change_in_status_report=True,
            threshold="Any listed sign",
            source="AHCPR acute low back problems guideline (NBK52120)",  # docs/clinical.md §7.7
            population="Adults with acute low back problems",
        ),
        SafetyRule(
            code=FlagCode.MSK_RED_FLAG_SYSTEMIC,
            severity=Severity.HARD_STOP,
            title="Back-pain warning signs",
            what_to_do=_STOP_CONTACT,
            offer_change_in_status_report=True,
            threshold="Any listed sign",
            source="AHCPR acute low back problems guideline (NBK52120)",  # docs/clinical.md §7.7
            population="Adults with acute low back problems",
        ),
        SafetyRule(
            code=FlagCode.MSK_RED_FLAG_NERVE,
            severity=Severity.HARD_STOP,
            title="Back-pain warning signs affecting nerves",
            what_to_do=(
                "Do not exercise today. Contact the referring physician today; if they cannot "
                "be reached, advise the client to seek urgent medical care."
            ),
            offer_change_in_status_report=True,
            threshold="Any listed sign",
            source="AHCPR acute low back problems guideline (NBK52120)",  # docs/clinical.md §7.7
            population="Adults with acute low back problems",
        ),
    ]
}


def make_flag(code: FlagCode, detail: str) -> SafetyFlag:
    """A flag from its rule, with the reading that raised it."""
    rule = RULES[code]
    return SafetyFlag(detail=detail, **rule.model_dump())


# --- Input models ----------------------------------------------------------------------


_N = TypeVar("_N", int, float)


def _in_range(value: _N | None, low: float, high: float, message: str) -> _N | None:
    if value is not None and not low <= value <= high:
        raise ValueError(message)
    return value


class Vitals(BaseModel):
    """One set of vitals taken before, during or after exercise. All readings optional.

    Physiologically impossible values are refused (see the module docstring for the limits);
    plausible but alarming values are accepted and flagged by the rules.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timing: Timing
    heart_rate_bpm: int | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = Field(default=None, validate_default=True)
    bp_position: BpPosition | None = None
    spo2_percent: int | None = None
    glucose_mg_dl: float | None = None
    ketones: Ketones = Ketones.UNKNOWN

    @field_validator("heart_rate_bpm")
    @classmethod
    def _hr(cls, value: int | None) -> int | None:
        return _in_range(
            value,
            HR_PLAUSIBLE_MIN,
            HR_PLAUSIBLE_MAX,
            f"Heart rate must be between {HR_PLAUSIBLE_MIN} and {HR_PLAUSIBLE_MAX} bpm: "
            "check the reading",
        )

    @field_validator("systolic_mmhg")
    @classmethod
    def _sbp(cls, value: int | None) -> int | None:
        return _in_range(
            value,
            SBP_PLAUSIBLE_MIN,
            SBP_PLAUSIBLE_MAX,
            f"Systolic pressure must be between {SBP_PLAUSIBLE_MIN} and {SBP_PLAUSIBLE_MAX} "
            "mmHg: check the reading",
        )

    @field_validator("diastolic_mmhg")
    @classmethod
    def _dbp(cls, value: int | None, info: ValidationInfo) -> int | None:
        _in_range(
            value,
            DBP_PLAUSIBLE_MIN,
            DBP_PLAUSIBLE_MAX,
            f"Diastolic pressure must be between {DBP_PLAUSIBLE_MIN} and {DBP_PLAUSIBLE_MAX} "
            "mmHg: check the reading",
        )
        if "systolic_mmhg" not in info.data:
            return value  # systolic itself was refused; its own message says why
        systolic = info.data["systolic_mmhg"]
        if systolic is None and value is not None:
            raise ValueError("Enter the systolic pressure too (the top number)")
        if systolic is not None and value is None:
            raise ValueError("Enter the diastolic pressure too (the bottom number)")
        if systolic is not None and value is not None and value >= systolic:
            raise ValueError(
                "Diastolic pressure (bottom number) must be lower than systolic (top number)"
            )
        return value

    @field_validator("spo2_percent")
    @classmethod
    def _spo2(cls, value: int | None) -> int | None:
        return _in_range(
            value,
            SPO2_PLAUSIBLE_MIN,
            SPO2_PLAUSIBLE_MAX,
            f"SpO2 must be between {SPO2_PLAUSIBLE_MIN} and {SPO2_PLAUSIBLE_MAX} %: "
            "check the reading",
        )

    @field_validator("glucose_mg_dl")
    @classmethod
    def _glucose(cls, value: float | None) -> float | None:
        return _in_range(
            value,
            GLUCOSE_PLAUSIBLE_MIN,
            GLUCOSE_PLAUSIBLE_MAX,
            f"Blood glucose must be between {GLUCOSE_PLAUSIBLE_MIN} and {GLUCOSE_PLAUSIBLE_MAX} "
            "mg/dL: check the reading",
        )

    @property
    def has_bp(self) -> bool:
        return self.systolic_mmhg is not None and self.diastolic_mmhg is not None

    @property
    def bp_text(self) -> str:
        where = f", {self.bp_position.value}" if self.bp_position else ""
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg} mmHg{where}"


def _check_pain(value: int | None) -> int | None:
    if value is not None and not PAIN_MIN <= value <= PAIN_MAX:
        raise ValueError("Pain must be a whole number from 0 (no pain) to 10")
    return value


def _check_timing(value: Vitals | None, expected: Timing) -> Vitals | None:
    if value is not None and value.timing != expected:
        raise ValueError(
            f"This reading is marked '{TIMING_LABELS[value.timing]}' but was entered as "
            f"'{TIMING_LABELS[expected]}'"
        )
    return value


class SessionSafetyInput(BaseModel):
    """Everything the safety rules look at for one session."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pre: Vitals | None = None
    during: tuple[Vitals, ...] = ()
    post: Vitals | None = None
    symptoms: frozenset[Symptom] = frozenset()
    pain_now: int | None = None
    pain_previous: int | None = None
    has_diabetes: bool = False
    bp_check_needed: bool = False
    msk_red_flags: frozenset[MskRedFlag] = frozenset()
    severe_hypo_last_24h: bool = False

    @field_validator("pre")
    @classmethod
    def _pre(cls, value: Vitals | None) -> Vitals | None:
        return _check_timing(value, Timing.PRE)

    @field_validator("during")
    @classmethod
    def _during(cls, value: tuple[Vitals, ...]) -> tuple[Vitals, ...]:
        for v in value:
            _check_timing(v, Timing.DURING)
        return value

    @field_validator("post")
    @classmethod
    def _post(cls, value: Vitals | None) -> Vitals | None:
        return _check_timing(value, Timing.POST)

    @field_validator("pain_now", "pain_previous")
    @classmethod
    def _pain(cls, value: int | None) -> int | None:
        return _check_pain(value)


# --- Rules -----------------------------------------------------------------------------


def resting_bp_flags(pre: Vitals | None, *, bp_check_needed: bool = False) -> list[SafetyFlag]:
    """Contraindication (> 200 / > 110) and hypertensive crisis (> 180 / > 120), at rest; and,
    for a client with high blood pressure, heart disease or an HR/BP medication, a reminder
    when no resting blood pressure was taken.

    docs/clinical.md §7.1."""
    if pre is None or not pre.has_bp:
        if bp_check_needed:
            return [
                make_flag(FlagCode.RESTING_BP_NOT_RECORDED, "No blood pressure before exercise")
            ]
        return []
    sbp, dbp = pre.systolic_mmhg, pre.diastolic_mmhg
    assert sbp is not None and dbp is not None
    detail = f"Resting {pre.bp_text}"
    flags = []
    if sbp > REST_SBP_CONTRAINDICATION or dbp > REST_DBP_CONTRAINDICATION:
        flags.append(make_flag(FlagCode.RESTING_BP_CONTRAINDICATION, detail))
    if sbp > CRISIS_SBP or dbp > CRISIS_DBP:
        flags.append(make_flag(FlagCode.HYPERTENSIVE_CRISIS, detail))
    return flags


def resting_hr_flags(pre: Vitals | None) -> list[SafetyFlag]:
    """Resting HR above 120 bpm (ATS 6MWT relative contraindication)."""
    if pre is None or pre.heart_rate_bpm is None or pre.heart_rate_bpm <= REST_HR_HIGH:
        return []
    return [make_flag(FlagCode.RESTING_HR_HIGH, f"Resting heart rate {pre.heart_rate_bpm} bpm")]


def exercise_bp_flags(
    pre: Vitals | None, during: Sequence[Vitals], post: Vitals | None
) -> list[SafetyFlag]:
    """SBP drop > 10 mmHg below the pre-exercise reading; SBP > 250 or DBP > 115.

    docs/clinical.md §7.3."""
    flags = []
    during_bp = [v for v in during if v.has_bp]
    if during_bp:
        if pre is not None and pre.has_bp:
            lowest = min(during_bp, key=lambda v: v.systolic_mmhg or 0)
            assert pre.systolic_mmhg is not None and lowest.systolic_mmhg is not None
            drop = pre.systolic_mmhg - lowest.systolic_mmhg
            if drop > SBP_DROP_MAX:
                flags.append(
                    make_flag(
                        FlagCode.SBP_DROP_DURING_EXERCISE,
                        f"Systolic {pre.systolic_mmhg} mmHg before exercise, "
                        f"{lowest.systolic_mmhg} mmHg during exercise (down {drop} mmHg)",
                    )
                )
        else:
            flags.append(
                make_flag(
                    FlagCode.SBP_DROP_NOT_CHECKABLE,
                    "Blood pressure taken during exercise, none before",
                )
            )
    exercising = [*during_bp, *([post] if post is not None and post.has_bp else [])]
    high = [
        v
        for v in exercising
        if (v.systolic_mmhg or 0) > EXERCISE_SBP_MAX or (v.diastolic_mmhg or 0) > EXERCISE_DBP_MAX
    ]
    if high:
        worst = max(high, key=lambda v: (v.systolic_mmhg or 0, v.diastolic_mmhg or 0))
        flags.append(
            make_flag(FlagCode.BP_EXCESSIVE_RISE, f"{worst.bp_text} {TIMING_LABELS[worst.timing]}")
        )
    return flags


def _glucose_text(v: Vitals) -> str:
    assert v.glucose_mg_dl is not None
    return f"Glucose {v.glucose_mg_dl:g} mg/dL {TIMING_LABELS[v.timing]}"


def glucose_flags(
    pre: Vitals | None,
    during: Sequence[Vitals] = (),
    post: Vitals | None = None,
    *,
    has_diabetes: bool = False,
    low_blood_sugar_signs: bool = False,
    severe_hypo_last_24h: bool = False,
) -> list[SafetyFlag]:
    """Glucose rules (docs/clinical.md §7.4).

    Low-glucose rules apply to every reading (before, during, after). High-glucose and ketone
    rules are pre-exercise rules and apply to the pre-exercise reading only. Readings are
    checked whether or not the client is known to have diabetes; the carbohydrate reminder
    and the "not checked" reminder are for clients with diabetes.
    """
    flags: list[SafetyFlag] = []
    readings = [v for v in [pre, *during, post] if v is not None and v.glucose_mg_dl is not None]

    very_low = [v for v in readings if (v.glucose_mg_dl or 0) < GLUCOSE_VERY_LOW_MG_DL]
    low = [v for v in readings if (v.glucose_mg_dl or 0) <= GLUCOSE_LOW]
    if very_low:
        worst = min(very_low, key=lambda v: v.glucose_mg_dl or 0)
        flags.append(make_flag(FlagCode.GLUCOSE_VERY_LOW, _glucose_text(worst)))
    elif low or low_blood_sugar_signs:
        if low:
            worst = min(low, key=lambda v: v.glucose_mg_dl or 0)
            detail = _glucose_text(worst)
            if low_blood_sugar_signs:
                detail += "; signs of low blood sugar"
        else:
            detail = "Signs of low blood sugar"
        flags.append(make_flag(FlagCode.GLUCOSE_LOW, detail))

    if severe_hypo_last_24h:
        flags.append(
            make_flag(FlagCode.SEVERE_HYPO_LAST_24H, "Severe low blood sugar in the last 24 hours")
        )

    g = pre.glucose_mg_dl if pre is not None else None
    if g is None:
        if has_diabetes:
            flags.append(make_flag(FlagCode.GLUCOSE_NOT_RECORDED, "No glucose before exercise"))
        return flags
    assert pre is not None
    detail = _glucose_text(pre)
    if g >= GLUCOSE_HIGH:
        detail += f", ketones {pre.ketones.value}"
        if pre.ketones in KETONES_PRESENT:
            flags.append(make_flag(FlagCode.GLUCOSE_HIGH_KETONES_PRESENT, detail))
        elif pre.ketones == Ketones.UNKNOWN:
            flags.append(make_flag(FlagCode.GLUCOSE_HIGH_KETONES_UNKNOWN, detail))
        elif g > GLUCOSE_VERY_HIGH:
            flags.append(make_flag(FlagCode.GLUCOSE_VERY_HIGH_NO_KETONES, detail))
        else:
            flags.append(make_flag(FlagCode.GLUCOSE_HIGH_NO_KETONES, detail))
    elif has_diabetes and GLUCOSE_LOW < g < GLUCOSE_CARB_CHECK:
        flags.append(make_flag(FlagCode.GLUCOSE_BELOW_100, detail))
    return flags


def symptom_flags(symptoms: Iterable[Symptom]) -> list[SafetyFlag]:
    """Symptoms → one stop flag listing them; acute illness → its own flag (docs/clinical.md
    §7.5).

    Signs of low blood sugar are handled by ``glucose_flags``.
    """
    present = set(symptoms)
    flags = []
    general = [s for s in Symptom if s in present and s not in _SPECIAL_SYMPTOMS]
    if general:
        flags.append(make_flag(FlagCode.SYMPTOMS, "; ".join(SYMPTOM_LABELS[s] for s in general)))
    if Symptom.FEVER_OR_ACUTE_INFECTION in present:
        flags.append(
            make_flag(FlagCode.ACUTE_ILLNESS, SYMPTOM_LABELS[Symptom.FEVER_OR_ACUTE_INFECTION])
        )
    return flags


def pain_flags(pain_now: int | None, pain_previous: int | None) -> list[SafetyFlag]:
    """New pain (0 → ≥ 2) or pain up by ≥ 2 points (NPRS MDC) since the previous score.

    No flag without both scores, and none for a rise of 1 point (within measurement error).
    """
    _check_pain(pain_now)
    _check_pain(pain_previous)
    if pain_now is None or pain_previous is None:
        return []
    rise = pain_now - pain_previous
    if rise < PAIN_MDC:
        return []
    detail = f"Pain {pain_now}/10 now, {pain_previous}/10 last time"
    code = FlagCode.PAIN_NEW if pain_previous == 0 else FlagCode.PAIN_WORSE
    return [make_flag(code, detail)]


def msk_red_flag_flags(red_flags: Iterable[MskRedFlag]) -> list[SafetyFlag]:
    """Back-pain red flags, one stop flag per group present (docs/clinical.md §7.7)."""
    present = set(red_flags)
    flags = []
    for code, group in [
        (FlagCode.MSK_RED_FLAG_NERVE, MSK_NERVE_GROUP),
        (FlagCode.MSK_RED_FLAG_TRAUMA, MSK_TRAUMA_GROUP),
        (FlagCode.MSK_RED_FLAG_SYSTEMIC, MSK_SYSTEMIC_GROUP),
    ]:
        found = [f for f in MskRedFlag if f in present and f in group]
        if found:
            flags.append(make_flag(code, "; ".join(MSK_RED_FLAG_LABELS[f] for f in found)))
    return flags


def sort_flags(flags: Iterable[SafetyFlag]) -> list[SafetyFlag]:
    """Hard stops first, then cautions, then notes; rule order kept within a severity."""
    return sorted(flags, key=lambda f: SEVERITY_RANK[f.severity])


def evaluate_safety_input(data: SessionSafetyInput) -> list[SafetyFlag]:
    """All flags for a validated session input, sorted by severity."""
    flags: list[SafetyFlag] = []
    flags += symptom_flags(data.symptoms)
    flags += resting_bp_flags(data.pre, bp_check_needed=data.bp_check_needed)
    flags += resting_hr_flags(data.pre)
    flags += exercise_bp_flags(data.pre, data.during, data.post)
    flags += glucose_flags(
        data.pre,
        data.during,
        data.post,
        has_diabetes=data.has_diabetes,
        low_blood_sugar_signs=Symptom.LOW_BLOOD_SUGAR_SIGNS in data.symptoms,
        severe_hypo_last_24h=data.severe_hypo_last_24h,
    )
    flags += msk_red_flag_flags(data.msk_red_flags)
    flags += pain_flags(data.pain_now, data.pain_previous)
    return sort_flags(flags)


def evaluate_session_safety(
    pre: Vitals | None,
    during: Sequence[Vitals] = (),
    post: Vitals | None = None,
    symptoms: Iterable[Symptom] = frozenset(),
    pain_now: int | None = None,
    pain_previous: int | None = None,
    has_diabetes: bool = False,
    *,
    msk_red_flags: Iterable[MskRedFlag] = frozenset(),
    severe_hypo_last_24h: bool = False,
    bp_check_needed: bool = False,
) -> list[SafetyFlag]:
    """The session's safety flags, hard stops first.

    ``pain_previous`` is the last recorded score (previous session, or baseline if none).
    Raises pydantic ``ValidationError`` for invalid input (e.g. pain 11, a 'during' reading
    passed as ``pre``).
    """
    data = SessionSafetyInput(
        pre=pre,
        during=tuple(during),
        post=post,
        symptoms=frozenset(symptoms),
        pain_now=pain_now,
        pain_previous=pain_previous,
        has_diabetes=has_diabetes,
        bp_check_needed=bp_check_needed,
        msk_red_flags=frozenset(msk_red_flags),
        severe_hypo_last_24h=severe_hypo_last_24h,
    )
    return evaluate_safety_input(data)


# --- Overrides -------------------------------------------------------------------------

OVERRIDE_REASON_MIN_CHARS = 15
OVERRIDE_REASON_MIN_WORDS = 3
OVERRIDE_REASON_MAX_CHARS = 1000


def requires_override(flags: Iterable[SafetyFlag]) -> bool:
    """True if any flag is a hard stop: going ahead then needs a recorded reason."""
    return any(f.severity == Severity.HARD_STOP for f in flags)


def validate_override_reason(reason: Any) -> str:
    """The reason for going ahead despite a hard stop, stripped; ValueError if not adequate.

    Our rule (no reference figure): at least 15 characters and 3 words, so that "ok" or
    "n/a" cannot be recorded; at most 1000 characters.
    """
    text = " ".join(str(reason or "").split())
    if len(text) < OVERRIDE_REASON_MIN_CHARS or len(text.split()) < OVERRIDE_REASON_MIN_WORDS:
        raise ValueError(
            "Write why you are going ahead despite the stop flag, in at least "
            f"{OVERRIDE_REASON_MIN_WORDS} words (e.g. 'Dr Lee cleared by phone at 10:20')"
        )
    if len(text) > OVERRIDE_REASON_MAX_CHARS:
        raise ValueError(
            f"Keep the reason under {OVERRIDE_REASON_MAX_CHARS} characters; put details in the notes"
        )
    return text


class SafetyOverride(BaseModel):
    """A recorded decision to act against one or more hard-stop flags, with the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flag_codes: frozenset[FlagCode]
    reason: str

    @field_validator("flag_codes")
    @classmethod
    def _codes(cls, value: frozenset[FlagCode]) -> frozenset[FlagCode]:
        if not value:
            raise ValueError("Choose the stop flag(s) you are going ahead despite")
        return value

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return validate_override_reason(value)


def check_override(flags: Iterable[SafetyFlag], override: SafetyOverride | None) -> None:
    """Raise ValueError unless every hard-stop flag is covered by a recorded override."""
    stops = [f for f in flags if f.severity == Severity.HARD_STOP]
    if not stops:
        return
    covered = override.flag_codes if override is not None else frozenset()
    missing = [f for f in stops if f.code not in covered]
    if missing:
        titles = "; ".join(f.title for f in missing)
        raise ValueError(
            f"Going ahead despite a stop flag needs a recorded reason. Not covered: {titles}"
        )
