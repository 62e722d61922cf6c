"""Pre-participation screening: PAR-Q+ page 1 and the ACSM 2015 algorithm, plus clearance tracking.

Sources (docs/clinical.md §6.1 ACSM algorithm, §6.2 diabetes, §6.3 PAR-Q+, §6.4 signs and
symptoms, §6.5 clearance):
- ACSM: Riebe D et al., "Updating ACSM's recommendations for exercise preparticipation health
  screening", Med Sci Sports Exerc 2015;47:2473; ACSM GETP 10th ed., ch. 2. Population: adults
  starting or continuing an exercise programme.
- PAR-Q+: Warburton et al., PAR-Q+ Collaboration (2020+ layout). The questionnaire is
  copyrighted and revised yearly: only short labels are kept here and the version year is
  stored with each completed form. The practitioner uses their own licensed copy.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .records import LongText, Record, RequiredText

ACSM_CITATION = (
    "Riebe D, et al. Updating ACSM's recommendations for exercise preparticipation health "
    "screening. Med Sci Sports Exerc 2015;47:2473. ACSM's Guidelines for Exercise Testing and "
    "Prescription, 10th ed., ch. 2."
)
PARQ_CITATION = (
    "PAR-Q+ (Warburton et al., PAR-Q+ Collaboration), 2020+ layout: page 1 and pages 2–3."
)

# ---------------------------------------------------------------------------------------------
# PAR-Q+ page 1
# ---------------------------------------------------------------------------------------------

# Short labels only (the question text is copyrighted). Keys are the ParqAnswers field names.
PARQ_PAGE1_LABELS: dict[str, str] = {
    "heart_condition_or_high_bp": "1. Heart condition or high blood pressure (doctor said)",
    "chest_pain": "2. Chest pain at rest, in daily activities or with physical activity",
    "dizziness_or_fainting": "3. Loses balance from dizziness, or lost consciousness (12 months)",
    "other_chronic_condition": "4. Other diagnosed chronic medical condition",
    "chronic_condition_medication": "5. Prescribed medication for a chronic medical condition",
    "bone_joint_soft_tissue": (
        "6. Bone, joint or soft-tissue problem that activity could worsen (12 months)"
    ),
    "supervised_activity_only": "7. Doctor said: medically supervised physical activity only",
}


class ParqAnswers(BaseModel):
    """The client's Yes (True) / No (False) answers to PAR-Q+ page 1, and pages 2–3 in summary."""

    model_config = ConfigDict(extra="forbid")

    heart_condition_or_high_bp: bool
    chest_pain: bool
    dizziness_or_fainting: bool
    other_chronic_condition: bool
    chronic_condition_medication: bool
    bone_joint_soft_tissue: bool
    supervised_activity_only: bool
    # Pages 2–3 are only filled in after a Yes on page 1. None = not completed yet;
    # True = at least one follow-up answer was Yes; False = all follow-up answers were No.
    follow_up_any_yes: bool | None = None
    # The PAR-Q+ is revised every year: keep the year printed on the form that was used.
    version_year: int | None = Field(default=None, ge=2011, le=2100)

    @property
    def yes_labels(self) -> list[str]:
        return [label for key, label in PARQ_PAGE1_LABELS.items() if getattr(self, key)]

    @model_validator(mode="after")
    def _follow_up_only_after_yes(self) -> ParqAnswers:
        if self.follow_up_any_yes is not None and not self.yes_labels:
            raise ValueError(
                "PAR-Q+ pages 2–3 are only completed after a Yes on page 1: "
                "clear the follow-up answer"
            )
        return self


class ParqStatus(StrEnum):
    CLEARED = "cleared"  # all page-1 answers No
    COMPLETE_FOLLOW_UP = "complete_follow_up"  # a Yes on page 1, pages 2–3 not done yet
    READY_TO_BE_MORE_ACTIVE = "ready_to_be_more_active"  # all follow-up answers No
    SEEK_FURTHER_INFORMATION = "seek_further_information"  # a Yes on pages 2–3


class ParqResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ParqStatus
    guidance: str
    yes_answers: list[str] = []
    source: str = PARQ_CITATION


PARQ_DELAY_ADVICE = (
    "Delay becoming more active if the client has a temporary illness such as a cold or fever, "
    "is pregnant (talk to the health care provider or a qualified exercise professional, or "
    "complete the ePARmed-X+), or their health changes."
)

_PARQ_GUIDANCE = {
    ParqStatus.CLEARED: (
        "All answers No: cleared for physical activity. The client signs the declaration "
        "(page 4), starts slowly and builds up gradually."
    ),
    ParqStatus.COMPLETE_FOLLOW_UP: (
        "At least one answer Yes: complete the follow-up questions on PAR-Q+ pages 2–3 before "
        "deciding."
    ),
    ParqStatus.READY_TO_BE_MORE_ACTIVE: (
        "All follow-up answers No: ready to become more active. Working with a qualified "
        "exercise professional is advised; aim for 20–60 minutes of low-to-moderate activity "
        "3–5 days a week. Over 45 and not used to vigorous or maximal exercise: consult a "
        "qualified exercise professional before exercising at that intensity."
    ),
    ParqStatus.SEEK_FURTHER_INFORMATION: (
        "A follow-up answer Yes: seek further information before becoming more active or doing "
        "a fitness appraisal. Complete the ePARmed-X+ (eparmedx.com) and/or see a qualified "
        "exercise professional; the health care provider may use the ePARmed-X+ Physician "
        "Clearance Follow-Up."
    ),
}


def parq_outcome(answers: ParqAnswers) -> ParqResult:
    """The PAR-Q+ result as laid out in docs/clinical.md §6.3."""
    yes = answers.yes_labels
    if not yes:
        status = ParqStatus.CLEARED
    elif answers.follow_up_any_yes is None:
        status = ParqStatus.COMPLETE_FOLLOW_UP
    elif answers.follow_up_any_yes:
        status = ParqStatus.SEEK_FURTHER_INFORMATION
    else:
        status = ParqStatus.READY_TO_BE_MORE_ACTIVE
    return ParqResult(status=status, guidance=_PARQ_GUIDANCE[status], yes_answers=yes)


# ---------------------------------------------------------------------------------------------
# ACSM 2015 pre-participation algorithm
# ---------------------------------------------------------------------------------------------


class Intensity(StrEnum):
    LIGHT = "light"
    MODERATE = "moderate"
    VIGOROUS = "vigorous"


# docs/clinical.md §5.3, §6.1: light = 30–39% HRR, moderate = 40–59%, vigorous = ≥60%; RPE
# from the same ACSM bands (BJSM table adapted from ACSM/Garber 2011). Help text for the
# intensity question.
INTENSITY_HELP: dict[Intensity, str] = {
    Intensity.LIGHT: "Light: 30–39% of heart-rate reserve (RPE 9–11)",
    Intensity.MODERATE: "Moderate: 40–59% of heart-rate reserve (RPE 12–13)",
    Intensity.VIGOROUS: "Vigorous: 60% of heart-rate reserve or more (RPE 14–17)",
}


class SignOrSymptom(StrEnum):
    """ACSM signs/symptoms suggestive of cardiovascular, metabolic or renal disease.

    ACSM GETP 10th ed. Table 2.2 (docs/clinical.md §6.4)."""

    ISCHAEMIC_PAIN = "ischaemic_pain"
    SHORTNESS_OF_BREATH = "shortness_of_breath"
    DIZZINESS_OR_SYNCOPE = "dizziness_or_syncope"
    ORTHOPNOEA_OR_PND = "orthopnoea_or_pnd"
    ANKLE_OEDEMA = "ankle_oedema"
    PALPITATIONS_OR_TACHYCARDIA = "palpitations_or_tachycardia"
    INTERMITTENT_CLAUDICATION = "intermittent_claudication"
    KNOWN_HEART_MURMUR = "known_heart_murmur"
    UNUSUAL_FATIGUE = "unusual_fatigue"


SIGN_OR_SYMPTOM_LABELS: dict[SignOrSymptom, str] = {
    SignOrSymptom.ISCHAEMIC_PAIN: (
        "Pain or discomfort in the chest, neck, jaw, arms or other areas that may be ischaemic"
    ),
    SignOrSymptom.SHORTNESS_OF_BREATH: "Shortness of breath at rest or with mild exertion",
    SignOrSymptom.DIZZINESS_OR_SYNCOPE: "Dizziness or fainting (syncope)",
    SignOrSymptom.ORTHOPNOEA_OR_PND: (
        "Breathless lying flat, or waking breathless at night (orthopnoea, PND)"
    ),
    SignOrSymptom.ANKLE_OEDEMA: "Ankle swelling (oedema)",
    SignOrSymptom.PALPITATIONS_OR_TACHYCARDIA: "Palpitations or a racing heart",
    SignOrSymptom.INTERMITTENT_CLAUDICATION: (
        "Leg pain on walking that eases with rest (intermittent claudication)"
    ),
    SignOrSymptom.KNOWN_HEART_MURMUR: "Known heart murmur",
    SignOrSymptom.UNUSUAL_FATIGUE: "Unusual fatigue or shortness of breath with usual activities",
}


class AcsmScreeningInputs(BaseModel):
    """The four ACSM screening inputs (Riebe 2015; docs/clinical.md §6.1)."""

    model_config = ConfigDict(extra="forbid")

    # Currently takes part in regular exercise. Riebe's definition of "regular" (≥30 min,
    # moderate, ≥3 d/wk, ≥3 months) is not verified (docs/clinical.md §6.1), so it is not shown.
    exercises_regularly: bool
    # Known cardiovascular (cardiac, PAD, cerebrovascular), metabolic (type 1/2 diabetes) or
    # renal disease.
    known_cmr_disease: bool
    # Type 1 or 2 diabetes: only adds the ADA-vs-ACSM note; it is already known metabolic disease.
    has_diabetes: bool = False
    symptomatic: bool
    symptoms: list[SignOrSymptom] = []
    desired_intensity: Intensity
    # Only used by the "exercises regularly + known disease + vigorous" branch.
    cleared_within_12_months: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> AcsmScreeningInputs:
        if self.symptoms and not self.symptomatic:
            raise ValueError(
                "Signs or symptoms are ticked, so answer Yes to 'signs or symptoms of disease'"
            )
        if self.has_diabetes and not self.known_cmr_disease:
            raise ValueError(
                "Type 1 or 2 diabetes is a known metabolic disease: answer Yes to 'known "
                "cardiovascular, metabolic or renal disease'"
            )
        return self


class AcsmDecision(StrEnum):
    CLEARANCE_NOT_NECESSARY = "clearance_not_necessary"
    CLEARANCE_RECOMMENDED = "clearance_recommended"
    DISCONTINUE_AND_SEEK_CLEARANCE = "discontinue_and_seek_clearance"


DECISION_LABELS: dict[AcsmDecision, str] = {
    AcsmDecision.CLEARANCE_NOT_NECESSARY: "Medical clearance not necessary",
    AcsmDecision.CLEARANCE_RECOMMENDED: "Medical clearance recommended",
    AcsmDecision.DISCONTINUE_AND_SEEK_CLEARANCE: "Discontinue exercise and seek medical clearance",
}

# docs/clinical.md §6.1: the final branch's verbatim wording could not be verified.
DISCONTINUE_WORDING_NOTE = (
    "The exact Riebe 2015 wording of this branch could not be checked against the original "
    "figure; the decision itself (stop and seek medical clearance) is not in doubt."
)

DIABETES_NOTE = (
    "Guidelines differ for diabetes. The American Diabetes Association (Colberg et al. 2016, "
    "Diabetes Care 39:2065) does not recommend medical clearance for people with diabetes and "
    "no symptoms who start low- or moderate-intensity activity not exceeding the demands of "
    "brisk walking or everyday living. The ACSM algorithm (Riebe 2015) recommends clearance for "
    "known metabolic disease at any intensity when the client is not exercising regularly. This "
    "screening shows the ACSM result; discuss the difference with the referring physician. "
    "(Colberg 2017 commentary, PMC5317029.)"
)


def diabetes_note(has_diabetes: bool) -> str | None:
    """The ADA-vs-ACSM guideline conflict to show for a client with diabetes, else None."""
    return DIABETES_NOTE if has_diabetes else None


class AcsmOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: AcsmDecision
    guidance: str  # intensity guidance, plain words
    explanation: str  # which branch applied and why
    citation: str = ACSM_CITATION
    wording_note: str | None = None
    diabetes_note: str | None = None

    @property
    def needs_clearance(self) -> bool:
        return self.decision is not AcsmDecision.CLEARANCE_NOT_NECESSARY

    @property
    def label(self) -> str:
        return DECISION_LABELS[self.decision]


GUIDE_START_LIGHT_MODERATE = (
    "Light-to-moderate intensity is recommended; the client may progress gradually to vigorous "
    "intensity following ACSM guidelines."
)
GUIDE_AFTER_CLEARANCE_LIGHT_MODERATE = (
    "After medical clearance: light-to-moderate intensity, progressing gradually as tolerated."
)
GUIDE_CONTINUE_MODERATE_OR_VIGOROUS = (
    "Continue at moderate or vigorous intensity, progressing gradually following ACSM guidelines."
)
GUIDE_CONTINUE_MODERATE = (
    "Continue at moderate intensity or lighter. Medical clearance is recommended before "
    "moving up to vigorous intensity."
)
GUIDE_VIGOROUS_AFTER_CLEARANCE = (
    "After medical clearance: progress gradually to vigorous intensity as tolerated."
)
GUIDE_VIGOROUS_ALREADY_CLEARED = (
    "Covered by the medical clearance from the last 12 months: progress gradually to vigorous "
    "intensity as tolerated."
)
GUIDE_RETURN_AFTER_CLEARANCE = (
    "Stop exercising until medically cleared. After clearance the client may return to "
    "exercise, progressing gradually as tolerated."
)


def acsm_screening(inputs: AcsmScreeningInputs) -> AcsmOutcome:
    """The ACSM 2015 pre-participation decision, branch for branch as docs/clinical.md §6.1."""
    i = inputs
    not_needed, recommended = (
        AcsmDecision.CLEARANCE_NOT_NECESSARY,
        AcsmDecision.CLEARANCE_RECOMMENDED,
    )
    wording_note, extra = None, ""

    if not i.exercises_regularly:
        if not i.known_cmr_disease and not i.symptomatic:
            decision, guidance = not_needed, GUIDE_START_LIGHT_MODERATE
        else:  # known disease without symptoms, or symptomatic whatever the disease status
            decision, guidance = recommended, GUIDE_AFTER_CLEARANCE_LIGHT_MODERATE
    elif not i.known_cmr_disease and not i.symptomatic:
        decision, guidance = not_needed, GUIDE_CONTINUE_MODERATE_OR_VIGOROUS
    elif i.known_cmr_disease and not i.symptomatic:
        if i.desired_intensity is not Intensity.VIGOROUS:
            # The pseudo-code names only "moderate" here. Light is below moderate and Riebe's
            # branch reads "clearance not necessary for moderate intensity", so light follows it.
            decision, guidance = not_needed, GUIDE_CONTINUE_MODERATE
            extra = f"; wants {i.desired_intensity.value} intensity, which needs no clearance"
        elif i.cleared_within_12_months:
            decision, guidance = not_needed, GUIDE_VIGOROUS_ALREADY_CLEARED
            extra = "; wants vigorous intensity and was medically cleared in the last 12 months"
        else:
            decision, guidance = recommended, GUIDE_VIGOROUS_AFTER_CLEARANCE
            extra = "; wants vigorous intensity, with no medical clearance in the last 12 months"
    else:  # exercises regularly and symptomatic, whatever the disease status
        decision = AcsmDecision.DISCONTINUE_AND_SEEK_CLEARANCE
        guidance, wording_note = GUIDE_RETURN_AFTER_CLEARANCE, DISCONTINUE_WORDING_NOTE

    activity = "Exercises regularly" if i.exercises_regularly else "Not exercising regularly"
    cmr = "cardiovascular, metabolic or renal disease"
    if i.symptomatic:
        listed = ", ".join(SIGN_OR_SYMPTOM_LABELS[s].lower() for s in i.symptoms)
        status = f"has signs or symptoms suggestive of {cmr}" + (f" ({listed})" if listed else "")
        status += ", whatever the disease status"
    elif i.known_cmr_disease:
        status = f"has known {cmr} and no signs or symptoms"
    else:
        status = f"no known {cmr} and no signs or symptoms"

    return AcsmOutcome(
        decision=decision,
        guidance=guidance,
        explanation=f"{activity}; {status}{extra}.",
        wording_note=wording_note,
        diabetes_note=diabetes_note(i.has_diabetes),
    )


# ---------------------------------------------------------------------------------------------
# Stored records
# ---------------------------------------------------------------------------------------------


class ScreeningRecord(Record):
    """One pre-participation screening of a client. The outcome is computed from the inputs
    when the record is made and kept as shown at the time; `outcome_is_current` tells whether
    today's rules still give the same result, `recomputed()` re-runs them."""

    store: ClassVar[str] = "screenings"

    client_id: RequiredText
    screened_on: date
    parq: ParqAnswers | None = None
    acsm: AcsmScreeningInputs
    outcome: AcsmOutcome | None = None
    notes: LongText = ""

    @model_validator(mode="before")
    @classmethod
    def _compute_outcome(cls, data):
        if isinstance(data, dict) and data.get("outcome") is None and data.get("acsm") is not None:
            try:
                inputs = AcsmScreeningInputs.model_validate(data["acsm"])
            except ValueError:
                return data  # the field error on `acsm` is reported by normal validation
            data = {**data, "outcome": acsm_screening(inputs)}
        return data

    @property
    def parq_result(self) -> ParqResult | None:
        return parq_outcome(self.parq) if self.parq else None

    @property
    def outcome_is_current(self) -> bool:
        return self.outcome == acsm_screening(self.acsm)

    def recomputed(self) -> ScreeningRecord:
        return self.model_copy(update={"outcome": acsm_screening(self.acsm)}).touched()


class Clearance(Record):
    """A medical clearance asked of the client's physician, tracked until it arrives."""

    store: ClassVar[str] = "clearances"

    client_id: RequiredText
    requested_on: date
    received_on: date | None = None
    restrictions: LongText = ""

    @model_validator(mode="after")
    def _received_after_requested(self) -> Clearance:
        if self.received_on is not None and self.received_on < self.requested_on:
            raise ValueError("The clearance cannot be received before the date it was requested")
        return self


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def cleared_within_12_months(clearance: Clearance | None, today: date) -> bool:
    """Whether a received clearance is dated within the 12 months up to today (for the
    'exercises regularly + known disease + vigorous' branch)."""
    received = clearance.received_on if clearance else None
    return received is not None and _year_before(today) <= received <= today


def clearance_counts(clearance: Clearance | None, screened_on: date | None) -> bool:
    """A clearance counts for a screening only when it was received on or after the day of
    that screening: an older clearance answered an older question (docs/clinical.md §6.5)."""
    if clearance is None or clearance.received_on is None:
        return False
    return screened_on is None or clearance.received_on >= screened_on


def clearance_for_screening(
    clearance: Clearance | None, screened_on: date | None
) -> Clearance | None:
    """The clearance as far as the screening of ``screened_on`` is concerned: a received
    clearance from before that screening reads as not received."""
    if (
        clearance is None
        or clearance.received_on is None
        or clearance_counts(clearance, screened_on)
    ):
        return clearance
    return clearance.model_copy(update={"received_on": None})


def session_logging_allowed(
    outcome: AcsmOutcome, clearance: Clearance | None, override_reason: str | None = None
) -> tuple[bool, str]:
    """A session may be logged when clearance is not needed, has been received, or the
    practitioner gives an explicit reason to go ahead without it."""
    if not outcome.needs_clearance:
        return True, "Medical clearance is not needed for this client's screening result."
    if clearance is not None and clearance.received_on is not None:
        message = f"Medical clearance received on {clearance.received_on.isoformat()}."
        if clearance.restrictions:
            message += f" Restrictions: {clearance.restrictions}"
        return True, message
    reason = (override_reason or "").strip()
    if reason:
        return True, f"Logged without the recommended medical clearance. Reason given: {reason}"
    return False, (
        f"{outcome.label}, and it has not been received. Record the clearance, or give a reason "
        "for logging this session without it."
    )


NO_SCREENING_MESSAGE = (
    "No pre-participation screening is recorded for this client. Record the screening, or "
    "give a reason for logging this session without it."
)


def session_clearance(outcome: AcsmOutcome | None, clearance: Clearance | None) -> tuple[bool, str]:
    """(may a session be logged without a reason?, what to tell the practitioner). As
    ``session_logging_allowed``; with no screening on file clearance is unknown, so a reason
    is needed too (conservative: the ACSM algorithm, docs/clinical.md §6.1, cannot be applied;
    §6.5)."""
    if outcome is None:
        return False, NO_SCREENING_MESSAGE
    return session_logging_allowed(outcome, clearance)
