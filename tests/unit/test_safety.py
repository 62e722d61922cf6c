"""Session safety rules (clinical.md §1G, §3A–§3C, §4A–§4C; clinical-gaps.md §6).

Boundary convention in the tests: each rule is tested exactly at its threshold, one unit
above and one unit below, and the test names say which side the reference puts the
threshold value itself.
"""

import pytest
from pydantic import ValidationError

from medex.forms import field_errors
from medex.safety import (
    GLUCOSE_VERY_LOW_MG_DL,
    MSK_NERVE_GROUP,
    MSK_SYSTEMIC_GROUP,
    MSK_TRAUMA_GROUP,
    RULES,
    SYMPTOM_LABELS,
    FlagCode,
    Ketones,
    MskRedFlag,
    SafetyOverride,
    SessionSafetyInput,
    Severity,
    Symptom,
    Timing,
    Vitals,
    check_override,
    evaluate_session_safety,
    glucose_flags,
    make_flag,
    pain_flags,
    requires_override,
    sort_flags,
    validate_override_reason,
)


def pre(**kw):
    return Vitals(timing=Timing.PRE, **kw)


def during(**kw):
    return Vitals(timing=Timing.DURING, **kw)


def post(**kw):
    return Vitals(timing=Timing.POST, **kw)


def codes(flags):
    return [f.code for f in flags]


def bp(sbp, dbp):
    return {"systolic_mmhg": sbp, "diastolic_mmhg": dbp}


# --- Impossible values refused; alarming values accepted ------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (bp(300, 20), "diastolic_mmhg", "Diastolic pressure must be between 30 and 200 mmHg"),
        (bp(301, 100), "systolic_mmhg", "Systolic pressure must be between 50 and 300 mmHg"),
        (bp(49, 30), "systolic_mmhg", "Systolic pressure must be between 50 and 300 mmHg"),
        (bp(250, 201), "diastolic_mmhg", "Diastolic pressure must be between 30 and 200 mmHg"),
        ({"heart_rate_bpm": 400}, "heart_rate_bpm", "between 20 and 300 bpm"),
        ({"heart_rate_bpm": 301}, "heart_rate_bpm", "between 20 and 300 bpm"),
        ({"heart_rate_bpm": 19}, "heart_rate_bpm", "between 20 and 300 bpm"),
        ({"spo2_percent": 101}, "spo2_percent", "SpO2 must be between 50 and 100"),
        ({"spo2_percent": 49}, "spo2_percent", "SpO2 must be between 50 and 100"),
        ({"glucose_mg_dl": 9}, "glucose_mg_dl", "between 10 and 1500 mg/dL"),
        ({"glucose_mg_dl": 1501}, "glucose_mg_dl", "between 10 and 1500 mg/dL"),
        ({"glucose_mg_dl": float("nan")}, "glucose_mg_dl", "between 10 and 1500 mg/dL"),
        (bp(120, 120), "diastolic_mmhg", "must be lower than systolic"),
        (bp(120, 130), "diastolic_mmhg", "must be lower than systolic"),
        ({"systolic_mmhg": 120}, "diastolic_mmhg", "Enter the diastolic pressure too"),
        ({"diastolic_mmhg": 80}, "diastolic_mmhg", "Enter the systolic pressure too"),
    ],
)
def test_impossible_vitals_refused_with_plain_message(fields, field, message):
    """Physiologically impossible or incomplete readings are refused, message on the field."""
    with pytest.raises(ValidationError) as exc:
        pre(**fields)
    assert message in field_errors(exc.value)[field]


@pytest.mark.parametrize(
    "fields",
    [
        bp(300, 199),  # limits themselves are accepted
        bp(50, 30),
        bp(121, 120),  # diastolic just below systolic
        {"heart_rate_bpm": 20},
        {"heart_rate_bpm": 300},
        {"spo2_percent": 50},
        {"spo2_percent": 100},
        {"glucose_mg_dl": 10},
        {"glucose_mg_dl": 1500},
        # plausible but alarming: accepted so that they can be flagged
        bp(260, 130),
        {"heart_rate_bpm": 190},
        {"spo2_percent": 82},
        {"glucose_mg_dl": 450, "ketones": Ketones.LARGE},
    ],
)
def test_plausible_alarming_vitals_are_accepted(fields):
    """Values at the plausibility limits and alarming-but-real values are not refused."""
    pre(**fields)


def test_empty_vitals_are_valid_and_raise_no_flags():
    """A reading with nothing measured is allowed and flags nothing."""
    assert evaluate_session_safety(pre()) == []


# --- §3A resting BP contraindication: "Resting SBP >200 and/or DBP >110 mmHg" ----------


@pytest.mark.parametrize(
    ("sbp", "dbp", "flagged"),
    [
        (199, 80, False),
        (200, 80, False),  # exactly 200: not above → not flagged (">200")
        (201, 80, True),
        (150, 109, False),
        (150, 110, False),  # exactly 110: not above (">110")
        (150, 111, True),
    ],
)
def test_resting_bp_contraindication_strictly_above_200_or_110(sbp, dbp, flagged):
    """§3A: SBP > 200 and/or DBP > 110 at rest → do not exercise; the limit value itself is OK."""
    flags = evaluate_session_safety(pre(**bp(sbp, dbp)))
    assert (FlagCode.RESTING_BP_CONTRAINDICATION in codes(flags)) is flagged
    if flagged:
        f = next(f for f in flags if f.code == FlagCode.RESTING_BP_CONTRAINDICATION)
        assert f.severity == Severity.HARD_STOP
        assert f.offer_change_in_status_report
        assert "Do not exercise today" in f.what_to_do


# --- §1G/§4B hypertensive crisis: ">180 and/or >120" ----------------------------------


@pytest.mark.parametrize(
    ("sbp", "dbp", "flagged"),
    [
        (179, 80, False),
        (180, 80, False),  # exactly 180: not above
        (181, 80, True),
        (170, 119, False),
        (170, 120, False),  # exactly 120: not above
        (170, 121, True),
    ],
)
def test_hypertensive_crisis_strictly_above_180_or_120(sbp, dbp, flagged):
    """§1G: crisis is > 180 and/or > 120; §4B: notify urgently (hard stop, contact today)."""
    flags = evaluate_session_safety(pre(**bp(sbp, dbp)))
    assert (FlagCode.HYPERTENSIVE_CRISIS in codes(flags)) is flagged
    if flagged:
        f = next(f for f in flags if f.code == FlagCode.HYPERTENSIVE_CRISIS)
        assert f.severity == Severity.HARD_STOP and "today" in f.what_to_do


def test_resting_bp_rules_use_the_pre_exercise_reading_only():
    """A high reading during exercise is judged by §3B, not by the resting limits."""
    flags = evaluate_session_safety(pre(**bp(130, 80)), [during(**bp(210, 100))])
    assert FlagCode.RESTING_BP_CONTRAINDICATION not in codes(flags)
    assert FlagCode.HYPERTENSIVE_CRISIS not in codes(flags)


# --- Resting HR (§1C ATS 6MWT relative contraindication: "resting HR >120") ------------


@pytest.mark.parametrize(("hr", "flagged"), [(119, False), (120, False), (121, True)])
def test_resting_hr_strictly_above_120(hr, flagged):
    """Resting HR > 120 flags; exactly 120 does not."""
    flags = evaluate_session_safety(pre(heart_rate_bpm=hr))
    assert (FlagCode.RESTING_HR_HIGH in codes(flags)) is flagged


def test_high_hr_during_exercise_is_not_a_resting_flag():
    """HR 150 during exercise is expected; the resting limit applies before exercise only."""
    flags = evaluate_session_safety(pre(heart_rate_bpm=70), [during(heart_rate_bpm=150)])
    assert flags == []


# --- §3B "SBP drop >10 mmHg from baseline" ---------------------------------------------


@pytest.mark.parametrize(
    ("sbp_during", "flagged"),
    [(131, False), (130, False), (129, True)],  # drop 9, exactly 10 (not >10), 11
)
def test_sbp_drop_more_than_10_below_pre(sbp_during, flagged):
    """Pre 140: a during reading of 130 (drop of exactly 10) is not flagged; 129 is."""
    flags = evaluate_session_safety(pre(**bp(140, 80)), [during(**bp(sbp_during, 80))])
    assert (FlagCode.SBP_DROP_DURING_EXERCISE in codes(flags)) is flagged


def test_sbp_drop_uses_the_lowest_during_reading():
    """Any during reading more than 10 below baseline flags, even if others are higher."""
    flags = evaluate_session_safety(
        pre(**bp(140, 80)), [during(**bp(160, 80)), during(**bp(125, 80)), during(**bp(150, 80))]
    )
    f = next(f for f in flags if f.code == FlagCode.SBP_DROP_DURING_EXERCISE)
    assert "125" in f.detail and "down 15" in f.detail
    assert f.severity == Severity.HARD_STOP


def test_post_exercise_fall_in_sbp_is_not_a_drop_flag():
    """Lower BP after exercise is not the §3B 'during exercise' drop."""
    flags = evaluate_session_safety(pre(**bp(140, 80)), [], post(**bp(120, 75)))
    assert flags == []


def test_during_bp_without_pre_bp_gives_a_note():
    """Without a baseline the drop cannot be checked: an info note, not a stop."""
    flags = evaluate_session_safety(pre(heart_rate_bpm=70), [during(**bp(150, 80))])
    assert codes(flags) == [FlagCode.SBP_DROP_NOT_CHECKABLE]
    assert flags[0].severity == Severity.INFO
    assert not requires_override(flags)


# --- §3B "Excessive BP rise: SBP >250 or DBP >115 mmHg" --------------------------------


@pytest.mark.parametrize(
    ("sbp", "dbp", "flagged"),
    [
        (249, 90, False),
        (250, 90, False),  # exactly 250: not above
        (251, 90, True),
        (200, 114, False),
        (200, 115, False),  # exactly 115: not above
        (200, 116, True),
    ],
)
def test_excessive_bp_rise_strictly_above_250_or_115(sbp, dbp, flagged):
    """During exercise, SBP > 250 or DBP > 115 stops exercise; the limit value does not."""
    flags = evaluate_session_safety(pre(**bp(140, 80)), [during(**bp(sbp, dbp))])
    assert (FlagCode.BP_EXCESSIVE_RISE in codes(flags)) is flagged


def test_excessive_bp_rise_also_checked_after_exercise():
    """A post-exercise reading above 250 systolic flags too (conservative)."""
    flags = evaluate_session_safety(pre(**bp(140, 80)), [], post(**bp(252, 90)))
    assert FlagCode.BP_EXCESSIVE_RISE in codes(flags)
    f = next(f for f in flags if f.code == FlagCode.BP_EXCESSIVE_RISE)
    assert "after exercise" in f.detail


# --- §3C / clinical-gaps §6 glucose ----------------------------------------------------


def glucose_codes(g, ketones=Ketones.UNKNOWN, has_diabetes=True, timing=Timing.PRE):
    v = Vitals(timing=timing, glucose_mg_dl=g, ketones=ketones)
    if timing == Timing.PRE:
        return codes(glucose_flags(v, has_diabetes=has_diabetes))
    if timing == Timing.DURING:
        return codes(glucose_flags(None, [v], has_diabetes=False))
    return codes(glucose_flags(None, [], v, has_diabetes=False))


def test_very_low_threshold_is_2_9_mmol_l():
    """T1D '<2.9 mmol/L (~52 mg/dL)': 2.9 × 18.016 = 52.25 mg/dL."""
    assert pytest.approx(52.25, abs=0.01) == GLUCOSE_VERY_LOW_MG_DL


@pytest.mark.parametrize(
    ("g", "expected"),
    [
        (51, [FlagCode.GLUCOSE_VERY_LOW]),
        (52, [FlagCode.GLUCOSE_VERY_LOW]),  # 52 mg/dL = 2.89 mmol/L: below 2.9
        (GLUCOSE_VERY_LOW_MG_DL, [FlagCode.GLUCOSE_LOW]),  # exactly 2.9: "<2.9" not met
        (53, [FlagCode.GLUCOSE_LOW]),
        (69, [FlagCode.GLUCOSE_LOW]),
        (70, [FlagCode.GLUCOSE_LOW]),  # "≤70 mg/dL": 70 itself is low
        (71, [FlagCode.GLUCOSE_BELOW_100]),
        (99, [FlagCode.GLUCOSE_BELOW_100]),
        (100, []),  # "<100": 100 itself is not flagged
        (101, []),
        (249, []),
    ],
)
def test_pre_exercise_low_glucose_boundaries(g, expected):
    """Very low < 2.9 mmol/L, low ≤ 70, carbohydrate check < 100 (client with diabetes)."""
    assert glucose_codes(g) == expected


def test_low_glucose_flags_are_hard_stops_and_carb_check_is_caution():
    """≤70 is 'stop and treat' (hard stop); <100 is a caution with no report."""
    assert RULES[FlagCode.GLUCOSE_VERY_LOW].severity == Severity.HARD_STOP
    assert RULES[FlagCode.GLUCOSE_LOW].severity == Severity.HARD_STOP
    assert "15 minutes" in RULES[FlagCode.GLUCOSE_LOW].what_to_do
    assert RULES[FlagCode.GLUCOSE_BELOW_100].severity == Severity.CAUTION
    assert not RULES[FlagCode.GLUCOSE_BELOW_100].offer_change_in_status_report


def test_carb_check_only_for_clients_with_diabetes_but_low_is_for_everyone():
    """Without diabetes, 85 mg/dL is not flagged; 65 mg/dL is still low."""
    assert glucose_codes(85, has_diabetes=False) == []
    assert glucose_codes(65, has_diabetes=False) == [FlagCode.GLUCOSE_LOW]


@pytest.mark.parametrize("timing", [Timing.DURING, Timing.POST])
def test_low_glucose_during_or_after_exercise_flags(timing):
    """Low glucose is checked in every reading: 70 flags, 71 does not (during/after)."""
    assert glucose_codes(70, timing=timing) == [FlagCode.GLUCOSE_LOW]
    assert glucose_codes(71, timing=timing) == []


def test_signs_of_low_blood_sugar_flag_without_a_reading():
    """§3C '≤70 mg/dL or symptomatic': the symptom alone raises the low-glucose stop."""
    flags = evaluate_session_safety(pre(), symptoms={Symptom.LOW_BLOOD_SUGAR_SIGNS})
    assert codes(flags) == [FlagCode.GLUCOSE_LOW]
    assert flags[0].detail == "Signs of low blood sugar"


@pytest.mark.parametrize(
    ("g", "ketones", "expected"),
    [
        # sources say ">250" and "250–350 … delay until <250": 250 itself counts (conservative)
        (249, Ketones.UNKNOWN, []),
        (250, Ketones.UNKNOWN, [FlagCode.GLUCOSE_HIGH_KETONES_UNKNOWN]),
        (251, Ketones.UNKNOWN, [FlagCode.GLUCOSE_HIGH_KETONES_UNKNOWN]),
        (249, Ketones.LARGE, []),  # no ketone rule below 250 in the reference
        (250, Ketones.TRACE, [FlagCode.GLUCOSE_HIGH_KETONES_PRESENT]),
        (250, Ketones.SMALL, [FlagCode.GLUCOSE_HIGH_KETONES_PRESENT]),
        (280, Ketones.MODERATE, [FlagCode.GLUCOSE_HIGH_KETONES_PRESENT]),
        (400, Ketones.LARGE, [FlagCode.GLUCOSE_HIGH_KETONES_PRESENT]),
        (250, Ketones.NONE, [FlagCode.GLUCOSE_HIGH_NO_KETONES]),
        (299, Ketones.NONE, [FlagCode.GLUCOSE_HIGH_NO_KETONES]),
        (300, Ketones.NONE, [FlagCode.GLUCOSE_HIGH_NO_KETONES]),  # ">300": 300 not above
        (301, Ketones.NONE, [FlagCode.GLUCOSE_VERY_HIGH_NO_KETONES]),
    ],
)
def test_pre_exercise_high_glucose_and_ketones(g, ketones, expected):
    """≥250 needs ketones tested; any ketones → stop; >300 without ketones → stop (conflict →
    conservative); 250–300 without ketones → caution."""
    assert glucose_codes(g, ketones) == expected


def test_high_glucose_severities():
    """Ketones present / unknown / >300 are hard stops; 250–300 without ketones is a caution."""
    assert RULES[FlagCode.GLUCOSE_HIGH_KETONES_PRESENT].severity == Severity.HARD_STOP
    assert RULES[FlagCode.GLUCOSE_HIGH_KETONES_UNKNOWN].severity == Severity.HARD_STOP
    assert RULES[FlagCode.GLUCOSE_VERY_HIGH_NO_KETONES].severity == Severity.HARD_STOP
    assert RULES[FlagCode.GLUCOSE_HIGH_NO_KETONES].severity == Severity.CAUTION
    assert "tested" in RULES[FlagCode.GLUCOSE_HIGH_KETONES_UNKNOWN].what_to_do


def test_ketone_rule_records_the_acsm_difference():
    """Trace/small ketones count (newer guidance); the note names the older moderate–large."""
    note = RULES[FlagCode.GLUCOSE_HIGH_KETONES_PRESENT].note
    assert "ACSM" in note and "moderate–large" in note
    source = RULES[FlagCode.GLUCOSE_HIGH_KETONES_PRESENT].source
    assert "ADA-attributed guidance via Illinois Extension" in source  # docs/clinical.md §7.4


def test_high_glucose_rules_are_pre_exercise_only():
    """A high reading after exercise is not judged by the pre-exercise ketone rules."""
    assert glucose_codes(320, Ketones.UNKNOWN, timing=Timing.POST) == []


def test_glucose_not_recorded_for_client_with_diabetes():
    """Diabetes and no glucose before exercise → caution; no diabetes → nothing."""
    assert codes(evaluate_session_safety(pre(), has_diabetes=True)) == [
        FlagCode.GLUCOSE_NOT_RECORDED
    ]
    assert evaluate_session_safety(pre(), has_diabetes=False) == []
    assert codes(evaluate_session_safety(None, has_diabetes=True)) == [
        FlagCode.GLUCOSE_NOT_RECORDED
    ]


def test_severe_hypo_in_last_24_hours_is_a_hard_stop():
    """T1D consensus: a severe hypo needing assistance in the previous 24 h → contraindicated."""
    flags = evaluate_session_safety(
        pre(glucose_mg_dl=140), has_diabetes=True, severe_hypo_last_24h=True
    )
    assert codes(flags) == [FlagCode.SEVERE_HYPO_LAST_24H]
    assert requires_override(flags)


# --- §4A / §3B symptoms, §3A acute illness ---------------------------------------------

GENERAL_SYMPTOMS = [
    s for s in Symptom if s not in {Symptom.FEVER_OR_ACUTE_INFECTION, Symptom.LOW_BLOOD_SUGAR_SIGNS}
]


@pytest.mark.parametrize("symptom", GENERAL_SYMPTOMS)
def test_any_symptom_is_a_hard_stop_with_referral(symptom):
    """§4A/§3B: any listed symptom → stop, contact physician, offer a Change in Status report."""
    flags = evaluate_session_safety(pre(), symptoms={symptom})
    assert codes(flags) == [FlagCode.SYMPTOMS]
    f = flags[0]
    assert f.severity == Severity.HARD_STOP and f.offer_change_in_status_report
    assert "physician" in f.what_to_do
    assert f.detail == SYMPTOM_LABELS[symptom]


def test_several_symptoms_make_one_flag_listing_each():
    """Two symptoms → one flag, both named in the detail."""
    flags = evaluate_session_safety(pre(), symptoms={Symptom.NAUSEA, Symptom.CHEST_PAIN})
    assert codes(flags) == [FlagCode.SYMPTOMS]
    assert SYMPTOM_LABELS[Symptom.NAUSEA] in flags[0].detail
    assert SYMPTOM_LABELS[Symptom.CHEST_PAIN] in flags[0].detail


def test_fever_is_an_acute_illness_stop():
    """§3A absolute contraindication: fever, body aches or swollen glands."""
    flags = evaluate_session_safety(pre(), symptoms={Symptom.FEVER_OR_ACUTE_INFECTION})
    assert codes(flags) == [FlagCode.ACUTE_ILLNESS]
    assert flags[0].severity == Severity.HARD_STOP


def test_no_symptoms_no_flag():
    """An empty symptom set flags nothing."""
    assert evaluate_session_safety(pre(), symptoms=set()) == []


# --- Pain (§4B new or worsening pain; NPRS MDC 2, §1F) ---------------------------------


@pytest.mark.parametrize(
    ("now", "previous", "expected"),
    [
        (4, 3, []),  # up 1: below the MDC of 2
        (5, 3, [FlagCode.PAIN_WORSE]),  # up exactly 2 = MDC: flagged
        (6, 3, [FlagCode.PAIN_WORSE]),
        (1, 0, []),  # new but 1 point: within measurement error
        (2, 0, [FlagCode.PAIN_NEW]),  # new, exactly 2
        (3, 0, [FlagCode.PAIN_NEW]),
        (2, 5, []),  # better
        (5, 5, []),
        (7, None, []),  # nothing to compare with
        (None, 3, []),
    ],
)
def test_pain_change_flags_at_the_mdc(now, previous, expected):
    """A rise of ≥ 2 points (the NPRS MDC) is flagged; a rise of 1 is not."""
    assert codes(pain_flags(now, previous)) == expected


def test_pain_flags_are_cautions_that_offer_a_report():
    """Worsening pain: caution (adapt the session), with a Change in Status report offered."""
    f = pain_flags(6, 2)[0]
    assert f.severity == Severity.CAUTION and f.offer_change_in_status_report
    assert "6/10" in f.detail and "2/10" in f.detail


@pytest.mark.parametrize(("now", "previous"), [(11, 2), (-1, 2), (3, 11)])
def test_pain_outside_0_to_10_is_refused(now, previous):
    """Pain is 0–10: 11 and −1 are refused with a plain message."""
    with pytest.raises(ValidationError) as exc:
        evaluate_session_safety(pre(), pain_now=now, pain_previous=previous)
    assert "from 0 (no pain) to 10" in next(iter(field_errors(exc.value).values()))


# --- §4C back-pain red flags -----------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "code"),
    [
        (MSK_TRAUMA_GROUP, FlagCode.MSK_RED_FLAG_TRAUMA),
        (MSK_SYSTEMIC_GROUP, FlagCode.MSK_RED_FLAG_SYSTEMIC),
        (MSK_NERVE_GROUP, FlagCode.MSK_RED_FLAG_NERVE),
    ],
)
def test_each_back_pain_red_flag_raises_its_group_stop(group, code):
    """Every §4C sign, alone, raises a hard stop for its group."""
    for red_flag in group:
        flags = evaluate_session_safety(pre(), msk_red_flags={red_flag})
        assert codes(flags) == [code], red_flag
        assert flags[0].severity == Severity.HARD_STOP


def test_red_flag_groups_cover_every_sign_once():
    """Each MskRedFlag belongs to exactly one group."""
    groups = [MSK_TRAUMA_GROUP, MSK_SYSTEMIC_GROUP, MSK_NERVE_GROUP]
    for red_flag in MskRedFlag:
        assert sum(red_flag in g for g in groups) == 1, red_flag


def test_nerve_signs_ask_for_contact_today():
    """Saddle numbness etc.: contact the physician today, urgent care if unreachable."""
    assert "today" in RULES[FlagCode.MSK_RED_FLAG_NERVE].what_to_do
    assert "urgent" in RULES[FlagCode.MSK_RED_FLAG_NERVE].what_to_do


# --- Whole-session evaluation ----------------------------------------------------------


def test_flags_sorted_hard_stop_then_caution_then_info():
    """Severity order regardless of rule order: stops, cautions, notes."""
    flags = evaluate_session_safety(
        pre(heart_rate_bpm=70),
        [during(**bp(150, 80))],  # info: no pre BP
        None,
        {Symptom.PALPITATIONS},  # hard stop
        5,
        2,  # caution: pain worse
        True,  # caution: glucose not recorded
    )
    assert [f.severity for f in flags] == [
        Severity.HARD_STOP,
        Severity.CAUTION,
        Severity.CAUTION,
        Severity.INFO,
    ]


def test_sort_flags_is_stable_within_a_severity():
    """Two cautions keep their given order."""
    a = make_flag(FlagCode.PAIN_WORSE, "a")
    b = make_flag(FlagCode.GLUCOSE_NOT_RECORDED, "b")
    i = make_flag(FlagCode.SBP_DROP_NOT_CHECKABLE, "i")
    s = make_flag(FlagCode.SYMPTOMS, "s")
    assert sort_flags([i, a, b, s]) == [s, a, b, i]


def test_safe_session_has_no_flags():
    """Normal vitals, no symptoms, stable pain, diabetes with a good glucose → no flags."""
    flags = evaluate_session_safety(
        pre(heart_rate_bpm=72, **bp(128, 78), spo2_percent=97, glucose_mg_dl=140),
        [during(heart_rate_bpm=118, **bp(150, 80))],
        post(heart_rate_bpm=88, **bp(124, 76)),
        set(),
        3,
        3,
        True,
    )
    assert flags == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pre": Vitals(timing=Timing.DURING)}, "pre"),
        ({"during": (Vitals(timing=Timing.POST),)}, "during"),
        ({"post": Vitals(timing=Timing.PRE)}, "post"),
    ],
)
def test_reading_in_the_wrong_slot_is_refused(kwargs, field):
    """A reading marked 'during' cannot be passed as the pre-exercise reading, etc."""
    with pytest.raises(ValidationError) as exc:
        SessionSafetyInput(**kwargs)
    assert "but was entered as" in field_errors(exc.value)[field]


def test_every_rule_names_its_source_population_and_threshold():
    """Every rule carries a citation, a population and the threshold in words."""
    for code in FlagCode:
        rule = RULES[code]
        assert rule.source and rule.population and rule.threshold and rule.what_to_do, code


def test_every_hard_stop_says_what_to_do_about_the_physician():
    """Hard stops tell the practitioner to stop or not start, and to involve the physician."""
    for rule in RULES.values():
        if rule.severity == Severity.HARD_STOP:
            text = rule.what_to_do.lower()
            assert "physician" in text, rule.code
            assert "do not" in text or "stop" in text, rule.code


DIAGNOSTIC_WORDS = [
    "diagnos",
    "angina",
    "ischaem",
    "heart failure",
    "thrombosis",
    "fracture",
    "tumour",
    "cancer is",
    "cauda",
    "ketoacidosis",
    "hypoglycaemia",
    "hypertension",
    "infarction",
]


def test_practitioner_facing_text_names_no_diagnosis():
    """Titles, actions and labels say what to do, never what the client has."""
    texts = [r.title + " " + r.what_to_do for r in RULES.values()]
    texts += list(SYMPTOM_LABELS.values())
    for text in texts:
        for word in DIAGNOSTIC_WORDS:
            assert word not in text.lower(), (word, text)


# --- Overrides -------------------------------------------------------------------------


def test_requires_override_only_for_hard_stops():
    """Any hard stop → override needed; cautions and notes alone → not."""
    assert requires_override([make_flag(FlagCode.SYMPTOMS, "x")])
    assert requires_override(
        [make_flag(FlagCode.PAIN_WORSE, "x"), make_flag(FlagCode.HYPERTENSIVE_CRISIS, "y")]
    )
    assert not requires_override([make_flag(FlagCode.PAIN_WORSE, "x")])
    assert not requires_override([make_flag(FlagCode.SBP_DROP_NOT_CHECKABLE, "x")])
    assert not requires_override([])


@pytest.mark.parametrize(
    "reason",
    [
        None,
        "",
        "   ",
        "ok",
        "n/a",
        "okokokokokokokokok",  # long enough but one word
        "Dr ok by fone",  # 4 words but 13 characters
        "x" * 500 + " " + "y " * 300,  # over 1000 characters
    ],
)
def test_inadequate_override_reasons_are_refused(reason):
    """A reason must be at least 15 characters and 3 words, at most 1000 characters."""
    with pytest.raises(ValueError):
        validate_override_reason(reason)


@pytest.mark.parametrize(
    ("reason", "stored"),
    [
        ("Dr Lee cleared by phone", "Dr Lee cleared by phone"),
        ("  Physician   approved\n today  ", "Physician approved today"),
        ("abc defghi jklmn", "abc defghi jklmn"),  # exactly 16 chars, 3 words
        ("ab cdefgh ijklm", "ab cdefgh ijklm"),  # exactly 15 chars, 3 words
    ],
)
def test_adequate_override_reasons_are_accepted_and_tidied(reason, stored):
    """At the minimum (15 characters, 3 words) the reason is accepted; spaces are tidied."""
    assert validate_override_reason(reason) == stored


def test_override_reason_of_14_characters_is_refused():
    """One character under the minimum (14 characters, 3 words) is refused."""
    with pytest.raises(ValueError, match="at least 3 words"):
        validate_override_reason("ab cdefg ijklm")


def test_check_override_requires_a_reason_for_every_hard_stop():
    """No override, or one not covering every stop, is refused; a covering one passes."""
    flags = evaluate_session_safety(pre(**bp(210, 95)))  # contraindication + crisis
    with pytest.raises(ValueError, match="needs a recorded reason"):
        check_override(flags, None)
    partial = SafetyOverride(
        flag_codes={FlagCode.RESTING_BP_CONTRAINDICATION}, reason="Dr Lee cleared by phone"
    )
    with pytest.raises(ValueError, match="crisis"):
        check_override(flags, partial)
    full = SafetyOverride(
        flag_codes={FlagCode.RESTING_BP_CONTRAINDICATION, FlagCode.HYPERTENSIVE_CRISIS},
        reason="Dr Lee cleared by phone",
    )
    check_override(flags, full)


def test_check_override_not_needed_without_hard_stops():
    """Cautions only: no override needed."""
    check_override(pain_flags(6, 2), None)


def test_safety_override_model_refuses_empty_codes_and_bad_reason():
    """The stored override names at least one flag and has an adequate reason."""
    with pytest.raises(ValidationError) as exc:
        SafetyOverride(flag_codes=set(), reason="ok")
    errors = field_errors(exc.value)
    assert "Choose the stop flag" in errors["flag_codes"]
    assert "at least 3 words" in errors["reason"]
