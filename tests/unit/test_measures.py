"""Outcome-measure catalogue and scoring, checked against the reference tables.

Table rows are quoted from /work/shared/reference/clinical.md (§1) and clinical-gaps.md.
"""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from medex.forms import field_errors
from medex.measures import (
    CATALOGUE,
    SFT_AGES,
    CustomMeasure,
    NotComputable,
    bp_category,
    check_value,
    format_quantity,
    get_measure,
    list_measures,
    score,
    score_berg,
    score_bmi,
    score_chair_stand,
    score_four_stage_balance,
    score_gait_speed,
    score_grip,
    score_lefs,
    score_ndi,
    score_oswestry,
    score_psfs,
    score_quickdash,
)

REQUIRED_IDS = [
    "chair_stand_30s",
    "five_times_sts",
    "tug",
    "up_and_go_8ft",
    "step_test_2min",
    "gait_speed",
    "six_minute_walk",
    "four_stage_balance",
    "single_leg_stance",
    "berg_balance",
    "grip_strength",
    "grip_left",
    "grip_right",
    "arm_curl",
    "psfs",
    "lefs",
    "oswestry",
    "neck_disability_index",
    "quickdash",
    "nprs",
    "resting_hr",
    "bp_systolic",
    "bp_diastolic",
    "bmi",
    "waist_circumference",
]


def _norm(measure_id: str, sex: str, age_min: int):
    m = get_measure(measure_id)
    return next(b for b in m.norms if b.sex == sex and b.age_min == age_min)


def _cutoff(measure_id: str, sex: str | None, age_min: int | None):
    m = get_measure(measure_id)
    return next(c for c in m.cutoffs if c.sex == sex and c.age_min == age_min)


# --- catalogue shape -------------------------------------------------------------------------


@pytest.mark.parametrize("measure_id", REQUIRED_IDS)
def test_required_measure_is_catalogued_under_its_stable_id(measure_id):
    assert get_measure(measure_id).id == measure_id


def test_unknown_measure_id_gives_plain_error():
    with pytest.raises(KeyError, match="Unknown outcome measure"):
        get_measure("nope")


def test_definitions_are_frozen():
    m = get_measure("tug")
    with pytest.raises(ValidationError):
        m.unit = "min"


def test_list_measures_filters_by_category():
    balance = {m.id for m in list_measures("balance")}
    assert {"berg_balance", "four_stage_balance", "single_leg_stance"} <= balance
    assert "tug" not in balance
    assert len(list_measures()) == len(CATALOGUE)


@pytest.mark.parametrize("measure_id", sorted(CATALOGUE))
def test_every_number_has_a_source_and_every_mdc_mcid_a_population(measure_id):
    m = CATALOGUE[measure_id]
    for c in m.cutoffs:
        assert c.source.citation
    for t in (*m.mdc, *m.mcid):
        assert t.source.citation and t.population
    for n in m.norms:
        assert n.source.citation
    for r in m.reference_values:
        assert r.source.citation
    for scheme in m.bands:
        assert scheme.source.citation
    if m.loinc:
        assert m.loinc_source is not None


@pytest.mark.parametrize(
    ("measure_id", "direction"),
    [
        # clinical.md §0 rule 2: timed tests and disability indices are lower = better;
        # counts, distance, speed, grip, PSFS and LEFS are higher = better.
        ("tug", "lower_is_better"),
        ("five_times_sts", "lower_is_better"),
        ("up_and_go_8ft", "lower_is_better"),
        ("oswestry", "lower_is_better"),
        ("neck_disability_index", "lower_is_better"),
        ("quickdash", "lower_is_better"),
        ("nprs", "lower_is_better"),
        ("chair_stand_30s", "higher_is_better"),
        ("arm_curl", "higher_is_better"),
        ("six_minute_walk", "higher_is_better"),
        ("gait_speed", "higher_is_better"),
        ("grip_strength", "higher_is_better"),
        ("psfs", "higher_is_better"),
        ("lefs", "higher_is_better"),
        ("berg_balance", "higher_is_better"),
    ],
)
def test_direction_matches_reference_rule(measure_id, direction):
    assert get_measure(measure_id).direction == direction


@pytest.mark.parametrize(
    ("measure_id", "loinc"),
    [
        ("chair_stand_30s", "66247-8"),  # §1A "66247-8 Sit to stand frequency in 30 seconds"
        ("tug", "89423-8"),  # §1C
        ("gait_speed", "83172-7"),  # §1C 4-m walk computed gait speed
        ("six_minute_walk", "62619-2"),  # §1C
        ("grip_right", "83174-3"),  # §1E "83174-3 right"
        ("grip_left", "83173-5"),  # §1E "83173-5 left"
        ("oswestry", "97909-6"),  # gaps §7 "Score 97909-6"
        ("neck_disability_index", "82237-9"),  # gaps §7 "Total 82237-9"
        ("nprs", "72514-3"),  # gaps §7
        ("resting_hr", "8867-4"),  # §1G
        ("bp_systolic", "8480-6"),
        ("bp_diastolic", "8462-4"),
        ("bmi", "39156-5"),
        ("waist_circumference", "8280-0"),  # gaps §7 (newer than clinical.md's UNCONFIRMED)
    ],
)
def test_loinc_codes_from_reference(measure_id, loinc):
    assert get_measure(measure_id).loinc == loinc


@pytest.mark.parametrize(
    "measure_id",
    ["five_times_sts", "berg_balance", "psfs", "lefs", "quickdash", "single_leg_stance"],
)
def test_unconfirmed_loinc_is_left_out(measure_id):
    """gaps §7: 'PSFS, LEFS total, QuickDASH, BBS total, 5xSTS, single-leg stance … Still
    unconfirmed'."""
    assert get_measure(measure_id).loinc is None


@pytest.mark.parametrize(
    ("measure_id", "n_items", "lo", "hi"),
    [
        ("berg_balance", 14, 0, 4),
        ("lefs", 20, 0, 4),
        ("oswestry", 10, 0, 5),
        ("neck_disability_index", 10, 0, 5),
        ("quickdash", 11, 1, 5),
        ("psfs", 5, 0, 10),
    ],
)
def test_questionnaire_items_are_short_labels_with_the_published_ranges(
    measure_id, n_items, lo, hi
):
    m = get_measure(measure_id)
    assert len(m.items) == n_items
    for item in m.items:
        assert (item.min, item.max) == (lo, hi)
        assert len(item.label) <= 30  # a topic label, never instrument wording
        assert item.key.startswith(m.items[0].key.split("_")[0] + "_")


def test_licensed_instruments_carry_only_numbered_item_labels():
    """QuickDASH needs a licence: its item topics would paraphrase it, so numbers only."""
    for i, item in enumerate(get_measure("quickdash").items, start=1):
        assert item.label == f"item {i}"
    assert "Category B" in get_measure("quickdash").licence_note


def test_lefs_items_are_labelled_with_their_activity_in_the_published_order():
    """The practitioner scores each box knowing which activity it is (Binkley 1999 order)."""
    labels = [item.label for item in get_measure("lefs").items]
    assert len(labels) == 20 and len(set(labels)) == 20
    assert labels[0] == "work, housework or school"
    assert labels[10:13] == ["walking 2 blocks", "walking a mile", "up or down 10 stairs"]
    assert labels[-1] == "rolling over in bed"
    assert all(not label.startswith("item") for label in labels)


def test_mdc_and_mcid_are_separate_fields():
    m = get_measure("lefs")
    # §1F LEFS: "MDC 9 and MCID 9 points (90% CI), LE MSK outpatients (Binkley 1999)"
    assert [t.value for t in m.mdc] == [9]
    assert m.mcid[0].value == 9
    assert "Binkley" in m.mdc[0].source.citation


# --- norms tables ----------------------------------------------------------------------------

# §1B "| Age | Chair stand M | Chair stand W | Arm curl M (8 lb) | Arm curl W (5 lb) |
#      2-min step M | 2-min step W | 8-ft up-and-go M (s) | 8-ft up-and-go W (s) |"
SFT_TABLE = {
    60: ((14, 19), (12, 17), (14, 19), (12, 17), (87, 115), (75, 107), (3.8, 5.6), (4.4, 6.0)),
    65: ((13, 18), (11, 16), (13, 19), (11, 16), (86, 116), (73, 107), (4.3, 5.7), (4.8, 6.4)),
    70: ((12, 17), (10, 15), (12, 18), (10, 15), (86, 116), (75, 107), (4.2, 6.0), (4.9, 7.1)),
    75: ((11, 17), (10, 15), (12, 17), (10, 14), (80, 110), (70, 100), (4.6, 7.2), (5.2, 7.4)),
    80: ((10, 15), (9, 14), (11, 16), (9, 14), (73, 107), (65, 98), (5.2, 7.6), (5.7, 8.7)),
    85: ((8, 13), (8, 13), (9, 14), (8, 13), (65, 92), (60, 90), (5.3, 8.9), (6.2, 9.6)),
    90: ((7, 12), (4, 11), (8, 13), (5, 12), (59, 91), (52, 87), (6.2, 10.0), (7.3, 11.5)),
}
SFT_COLUMNS = [
    ("chair_stand_30s", "male"),
    ("chair_stand_30s", "female"),
    ("arm_curl", "male"),
    ("arm_curl", "female"),
    ("step_test_2min", "male"),
    ("step_test_2min", "female"),
    ("up_and_go_8ft", "male"),
    ("up_and_go_8ft", "female"),
]


@pytest.mark.parametrize("age_min", sorted(SFT_TABLE))
@pytest.mark.parametrize("column", range(8))
def test_senior_fitness_test_norms_match_table(age_min, column):
    """Each cell of the §1B table, except the two documented conflict cells."""
    measure_id, sex = SFT_COLUMNS[column]
    expected = SFT_TABLE[age_min][column]
    if (measure_id, sex, age_min) == ("chair_stand_30s", "male", 85):
        expected = (8, 14)  # conflict: 2013 "8–13" vs 1999 "8–14"; conservative upper 14
    band = _norm(measure_id, sex, age_min)
    assert (band.low, band.high) == expected
    assert band.age_max == age_min + 4


def test_sft_bands_cover_60_to_94_with_no_gaps():
    assert SFT_AGES[0] == (60, 64) and SFT_AGES[-1] == (90, 94)
    for (_, a1), (b0, _) in itertools.pairwise(SFT_AGES):
        assert a1 + 1 == b0


def test_chair_stand_conflict_rows_are_documented():
    """§1B ⚠: 'men 65–69, the 2013 reproduction says 13–18 but the 1999 … says 12–18. For men
    85–89, 2013 says 8–13 and 1999 says 8–14.'"""
    m65 = _norm("chair_stand_30s", "male", 65)
    m85 = _norm("chair_stand_30s", "male", 85)
    assert (m65.low, m65.high) == (13, 18) and "12–18" in m65.notes
    assert (m85.low, m85.high) == (8, 14) and "8–13" in m85.notes


# gaps §1a back scratch "| 60–64 | −6.5 to 0.0 | −3.0 to +1.5 |" …
BACK_SCRATCH = {
    60: ((-6.5, 0.0), (-3.0, 1.5)),
    65: ((-7.5, -1.0), (-3.5, 1.5)),
    70: ((-8.0, -1.0), (-4.0, 1.0)),
    75: ((-9.0, -2.0), (-5.0, 0.5)),
    80: ((-9.5, -2.0), (-5.5, 0.0)),
    85: ((-10.0, -3.0), (-7.0, -1.0)),
    90: ((-10.5, -4.0), (-8.0, -1.0)),
}


@pytest.mark.parametrize("age_min", sorted(BACK_SCRATCH))
def test_back_scratch_norms_match_gaps_table(age_min):
    men, women = BACK_SCRATCH[age_min]
    m, w = _norm("back_scratch", "male", age_min), _norm("back_scratch", "female", age_min)
    assert (m.low, m.high) == men
    assert (w.low, w.high) == women


def test_sit_and_reach_has_only_the_confirmed_row():
    """gaps §1b: 'Men 60–64: −2.5 to +4.0 … All other rows: still unconfirmed.'"""
    m = get_measure("chair_sit_and_reach")
    assert [(b.sex, b.age_min, b.age_max, b.low, b.high) for b in m.norms] == [
        ("male", 60, 64, -2.5, 4.0)
    ]


def test_five_times_sts_bohannon_average_limits():
    """§1A: 'Worse than average if time exceeds 11.4 s (60–69), 12.6 s (70–79), 14.8 s (80–89)'."""
    m = get_measure("five_times_sts")
    assert [(b.sex, b.age_min, b.age_max, b.low, b.high) for b in m.norms] == [
        (None, 60, 69, None, 11.4),
        (None, 70, 79, None, 12.6),
        (None, 80, 89, None, 14.8),
    ]


def test_gait_speed_decade_means_are_reference_values_not_ranges():
    """§1C decade table: 'Men | 1.36 | 1.43 | 1.43 | 1.43 | 1.34 | 1.26 | 0.97' and
    'Women | 1.34 | 1.34 | 1.39 | 1.31 | 1.24 | 1.13 | 0.94'."""
    m = get_measure("gait_speed")
    assert m.norms == ()
    men = [r.value for r in m.reference_values if r.sex == "male"]
    women = [r.value for r in m.reference_values if r.sex == "female"]
    assert men == [1.36, 1.43, 1.43, 1.43, 1.34, 1.26, 0.97]
    assert women == [1.34, 1.34, 1.39, 1.31, 1.24, 1.13, 0.94]
    assert all(r.statistic == "mean" for r in m.reference_values)


@pytest.mark.parametrize(
    "measure_id", ["single_leg_stance", "grip_strength", "six_minute_walk", "quickdash"]
)
def test_unconfirmed_norms_are_left_out(measure_id):
    assert get_measure(measure_id).norms == ()


# --- cut-off tables --------------------------------------------------------------------------

# §1A STEADI: "| Age | Men: at risk if < | Women: at risk if < |"
STEADI = {
    60: (14, 12),
    65: (12, 11),
    70: (12, 10),
    75: (11, 10),
    80: (10, 9),
    85: (8, 8),
    90: (7, 4),
}


@pytest.mark.parametrize("age_min", sorted(STEADI))
def test_steadi_chair_stand_cutoffs_match_table(age_min):
    men, women = STEADI[age_min]
    cm, cw = (
        _cutoff("chair_stand_30s", "male", age_min),
        _cutoff("chair_stand_30s", "female", age_min),
    )
    assert (cm.value, cm.comparison, cm.kind) == (men, "<", "fall_risk")
    assert (cw.value, cw.comparison) == (women, "<")
    assert "STEADI" in cm.source.citation


# §1B: "M/W 106/97 (60–64), 101/93, 95/89, 88/84, 80/78, 71/70, 60/60 (90–94)"
STEP_CRITERION = {60: (106, 97), 65: (101, 93), 70: (95, 89), 75: (88, 84), 80: (80, 78),
                  85: (71, 70), 90: (60, 60)}  # fmt: skip


@pytest.mark.parametrize("age_min", sorted(STEP_CRITERION))
def test_two_minute_step_criterion_scores_match_table(age_min):
    men, women = STEP_CRITERION[age_min]
    assert _cutoff("step_test_2min", "male", age_min).value == men
    assert _cutoff("step_test_2min", "female", age_min).value == women


@pytest.mark.parametrize(
    ("measure_id", "value", "comparison"),
    [
        ("tug", 12, ">="),  # §1C "STEADI: ≥12 s = at risk for falling"
        ("tug", 20, ">="),  # §1C "EWGSOP2 severe sarcopenia: TUG ≥20 s"
        ("five_times_sts", 12, ">="),  # §1A "≥12 s: post-test fall probability 41%"
        ("five_times_sts", 13.6, ">="),  # §1A "≥13.6 s linked to disability/morbidity"
        ("five_times_sts", 15, ">="),  # §1A "≥15 s predicts recurrent falls in healthy ≥65"
        ("five_times_sts", 15, ">"),  # §1A "EWGSOP2: chair-rise >15 s"
        ("gait_speed", 1.0, "<"),  # §1C "<1.0 m/s (usual pace, 6 m)"
        ("gait_speed", 0.8, "<="),  # §1C "≤0.8 m/s = low physical performance"
        ("four_stage_balance", 3, "<"),  # §1D "Cannot hold tandem stance ≥10 s"
        ("berg_balance", 45, "<="),  # §1D "<45" vs Muir "≤45": conservative ≤45
        ("waist_circumference", 102, ">"),  # §1G ">102 cm (40 in) men"
        ("waist_circumference", 88, ">"),  # §1G ">88 cm (35 in) women"
        ("grip_strength", 27, "<"),  # §1E "<27 kg men"
        ("grip_strength", 16, "<"),  # §1E "<16 kg women"
        ("bp_systolic", 180, ">"),  # §1G "Hypertensive crisis: >180"
        ("bp_diastolic", 120, ">"),  # §1G "… and/or >120"
        ("bp_systolic", 200, ">"),  # §3A "Resting SBP >200"
        ("bp_diastolic", 110, ">"),  # §3A "DBP >110"
        ("resting_hr", 120, ">"),  # §1C ATS "resting HR >120 (relative)"
    ],
)
def test_cutoff_values_and_comparisons_match_reference(measure_id, value, comparison):
    m = get_measure(measure_id)
    assert any(c.value == value and c.comparison == comparison for c in m.cutoffs)


def test_buatois_cutoff_only_for_65_and_over():
    c = next(c for c in get_measure("five_times_sts").cutoffs if "Buatois" in c.source.citation)
    assert c.age_min == 65


def test_post_stroke_gait_classes_need_the_stroke_condition():
    """gaps §5: 'Label them post-stroke walking classes … Do not apply them to healthy older
    adults without that label.'"""
    scheme = get_measure("gait_speed").bands[0]
    assert scheme.condition == "stroke"
    assert all("post-stroke" in b.label for b in scheme.bands)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        # gaps §5: "< 0.4 m/s household; 0.4–0.8 limited community; > 0.8 community"
        (0.39, "household"),
        (0.4, "limited community"),
        (0.8, "limited community"),
        (0.81, "community ambulation"),
    ],
)
def test_post_stroke_gait_class_boundaries(value, label):
    band = get_measure("gait_speed").bands[0].classify(value)
    assert band.label.startswith(label)


# --- MDC / MCID ------------------------------------------------------------------------------


def test_berg_mdc_bands_from_donoghue():
    """gaps §4: '4 pts if baseline 45–56; 5 if 35–44; 7 if 25–34; 5 if 0–24'."""
    rows = [
        (t.baseline_min, t.baseline_max, t.value)
        for t in get_measure("berg_balance").mdc
        if "Donoghue" in t.source.citation
    ]
    assert sorted(rows) == [(0, 24, 5), (25, 34, 7), (35, 44, 5), (45, 56, 4)]


def test_berg_stroke_mcid_is_limited_to_acute_stroke():
    """§1D: 'The MCID of 12.5 points is from acute stroke only'."""
    (mcid,) = get_measure("berg_balance").mcid
    assert (mcid.value, mcid.condition) == (12.5, "acute_stroke")


@pytest.mark.parametrize(
    ("measure_id", "field", "value"),
    [
        ("five_times_sts", "mdc", 2.5),  # gaps §4 Goldberg 2012 "MDC95 2.5 s"
        ("five_times_sts", "mcid", 2.6),  # gaps §4 SAGE Mexico "2.6 s"
        ("gait_speed", "mcid", 0.05),  # gaps §4 Perera "Small … ≈0.05 m/s"
        ("six_minute_walk", "mcid", 20),  # gaps §4 Perera "Small ≈20 m"
        ("psfs", "mdc", 2),  # §1F "MDC (90% CI): 2 points for the average"
        ("psfs", "mcid", 1.3),  # §1F "MID 1.3 (small)"
        ("oswestry", "mdc", 10),  # §1F "MDC 10 percentage points"
        ("oswestry", "mcid", 12),  # §1F "MID 12 points"
        ("neck_disability_index", "mdc", 5),  # §1F "MCID = MDC = 5 raw points (Vernon)"
        ("neck_disability_index", "mcid", 5),
        ("quickdash", "mcid", 14),  # §1F "MCID 14 (95% CI 9–20)"
        ("grip_strength", "mcid", 6.5),  # §1E "5.0–6.5 kg": conservative upper end
    ],
)
def test_first_general_change_threshold(measure_id, field, value):
    m = get_measure(measure_id)
    general = [t for t in getattr(m, field) if t.condition is None and not t.alternate]
    assert general[0].value == value


def test_population_specific_mdcs_carry_their_condition():
    """gaps §4: 30sCST MDC only in knee OA; TUG MDC only in knee OA (wrong population)."""
    assert [(t.value, t.condition) for t in get_measure("chair_stand_30s").mdc] == [
        (2.5, "knee_oa")
    ]
    assert [(t.value, t.condition) for t in get_measure("tug").mdc] == [(1.14, "knee_oa")]
    assert get_measure("tug").mcid == ()


def test_nprs_lbp_values_need_the_condition():
    """§1F NPRS: 'MDC 2. MCID 2.2 (1 wk) / 1.5 (4 wk), LBP PT patients (Childs 2005)'."""
    m = get_measure("nprs")
    assert all(t.condition == "low_back_pain" for t in m.mdc)
    childs = [t for t in m.mcid if "Childs" in t.source.citation]
    assert [(t.value, t.condition) for t in childs] == [(2.2, "low_back_pain")]


# --- value validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure_id", "value", "message"),
    [
        ("tug", 0, "Timed Up and Go must be more than 0 and at most 300 s"),
        ("tug", 301, "Timed Up and Go must be more than 0 and at most 300 s"),
        ("chair_stand_30s", -1, "30-Second Chair Stand must be between 0 and 50 stands"),
        ("chair_stand_30s", 12.5, "whole number of stands"),
        ("berg_balance", 57, "Berg Balance Scale must be between 0 and 56 points"),
        ("oswestry", 100.5, "Oswestry Disability Index must be between 0 and 100"),
        ("bp_systolic", 49, "Resting blood pressure, systolic must be between 50 and 300 mmHg"),
        ("nprs", "x", "Enter a number for Numeric Pain Rating Scale"),
        ("nprs", True, "Enter a number"),
        ("gait_speed", float("nan"), "Enter a number"),
    ],
)
def test_check_value_refuses_with_plain_words(measure_id, value, message):
    with pytest.raises(ValueError, match=message):
        check_value(get_measure(measure_id), value)


@pytest.mark.parametrize(
    ("measure_id", "value"),
    [("tug", 0.1), ("tug", 300), ("chair_stand_30s", 0), ("chair_stand_30s", "12"), ("nprs", 10)],
)
def test_check_value_accepts_range_edges(measure_id, value):
    assert check_value(get_measure(measure_id), value) == float(value)


def test_format_quantity_uses_singular_and_units():
    assert format_quantity(get_measure("chair_stand_30s"), 1) == "1 stand"
    assert format_quantity(get_measure("chair_stand_30s"), 4) == "4 stands"
    assert format_quantity(get_measure("tug"), 2.14) == "2.1 s"
    assert format_quantity(get_measure("gait_speed"), 1.3) == "1.30 m/s"
    assert format_quantity(get_measure("oswestry"), 24.0) == "24%"
    assert format_quantity(get_measure("oswestry"), 12, change=True) == "12 points"
    assert format_quantity(get_measure("nprs"), 1, change=True) == "1 point"


# --- questionnaire scoring -------------------------------------------------------------------


def test_berg_total_is_sum_of_14_items():
    items = {f"bbs_{i:02d}": 4 for i in range(1, 15)}
    items["bbs_14"] = 1
    r = score_berg(items)
    assert r.value == 53 and r.items_answered == 14


def test_berg_with_a_missing_item_is_not_computable():
    items = [4] * 13 + [None]
    with pytest.raises(NotComputable, match="bbs_14"):
        score_berg(items)


def test_berg_item_above_4_is_refused():
    with pytest.raises(ValueError, match="bbs_01 must be between 0 and 4"):
        score_berg([5] + [4] * 13)


def test_item_scores_must_be_whole_numbers_and_labels_known():
    with pytest.raises(ValueError, match="whole number"):
        score_lefs([2.5] + [2] * 19)
    with pytest.raises(ValueError, match="unknown item"):
        score_lefs({"lefs_21": 1})
    with pytest.raises(ValueError, match="whole number"):
        score_lefs([True] + [2] * 19)


def test_lefs_total_0_to_80():
    """§1F: '20 items scored 0–4, summed to 0–80'."""
    assert score_lefs([4] * 20).value == 80
    assert score_lefs([0] * 20).value == 0
    assert score_lefs([3] * 10 + [1] * 10).value == 40
    with pytest.raises(NotComputable):
        score_lefs([3] * 19)


def test_oswestry_full_is_sum_times_two():
    """§1F: 'Index = sum ÷ (5 × sections answered) × 100'. 10 answered, sum 17 → 34%."""
    r = score_oswestry([2, 2, 2, 2, 2, 2, 2, 1, 1, 1])
    assert r.value == 34.0 and r.items_missing == ()


def test_oswestry_missing_section_drops_5_from_denominator():
    """§1F: 'drop 5 from the denominator for each missing section': sum 17 over 9 → 37.8%."""
    r = score_oswestry([2, 2, 2, 2, 2, 2, 2, 1, 2, None])
    assert r.value == round(17 / 45 * 100, 1) == 37.8
    assert r.items_missing == ("odi_10",) and r.warnings
    r2 = score_oswestry({"odi_01": 5, "odi_02": 5})
    assert r2.value == 100.0


def test_oswestry_with_nothing_answered_is_not_computable():
    with pytest.raises(NotComputable):
        score_oswestry([None] * 10)


def test_ndi_raw_and_percent():
    """§1F: '10 items × 0–5, raw 0–50 (×2 for %)'."""
    r = score_ndi([1] * 10)
    assert r.value == 10 and r.details["percent"] == 20


def test_ndi_one_missing_item_adds_mean_of_others():
    """§1F: 'Missing item: add the mean of the other items': 9 answered summing 20 → 22.2."""
    r = score_ndi([3, 3, 2, 2, 2, 2, 2, 2, 2, None])
    assert r.value == round(20 + 20 / 9, 1) == 22.2
    assert r.items_missing == ("ndi_10",)


def test_ndi_two_missing_items_is_not_computable():
    with pytest.raises(NotComputable, match="one missing item"):
        score_ndi([3, 3, 2, 2, 2, 2, 2, 2, None, None])


def test_quickdash_formula():
    """§1F: 'Score = ((sum ÷ n) − 1) × 25, giving 0–100'."""
    assert score_quickdash([1] * 11).value == 0
    assert score_quickdash([5] * 11).value == 100
    assert score_quickdash([3] * 11).value == 50
    r = score_quickdash([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3])
    assert r.value == round((23 / 11 - 1) * 25, 1) == 27.3


def test_quickdash_one_missing_item_is_scored_over_the_answered_items():
    r = score_quickdash([2] * 10 + [None])
    assert r.value == 25.0 and r.items_answered == 10


def test_quickdash_more_than_one_missing_is_not_computable():
    """§1F: 'Not computable if more than 1 item is missing'."""
    with pytest.raises(NotComputable, match="more than 1 item"):
        score_quickdash([2] * 9 + [None, None])


def test_quickdash_item_zero_is_refused():
    with pytest.raises(ValueError, match="between 1 and 5"):
        score_quickdash([0] + [2] * 10)


def test_psfs_mean_of_3_to_5_activities():
    """§1F: 'Patient picks 3–5 activities, each rated 0 … to 10 … Score = mean'."""
    assert score_psfs([4, 5, 6]).value == 5.0
    assert score_psfs([3, 4, 4]).value == 3.7
    r = score_psfs([{"activity": "stairs", "score": 2}, {"activity": "garden", "score": 5},
                    {"activity": "walk dog", "score": 8}, {"activity": "golf", "score": 1}])  # fmt: skip
    assert r.value == 4.0 and r.details["activities"][0] == "stairs"


def test_psfs_needs_at_least_3_and_at_most_5_activities():
    with pytest.raises(NotComputable, match="3 to 5"):
        score_psfs([4, 5])
    with pytest.raises(ValueError, match="5 items"):
        score_psfs([4, 5, 6, 7, 8, 9])
    with pytest.raises(ValueError, match="between 0 and 10"):
        score_psfs([4, 5, 11])


# --- other scoring ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "stage"),
    [
        ([10, 10, 10, 10], 4),
        ([10, 10, 10, 3], 3),
        ([10, 10, 9.9], 2),  # tandem held 9.9 s: not 10 s
        ([10, 10, 10], 3),  # tandem held exactly 10 s passes ("hold tandem stance ≥10 s")
        ([9], 0),
        ([], 0),
    ],
)
def test_four_stage_balance_highest_stage_held_10s(seconds, stage):
    assert score_four_stage_balance(seconds).value == stage


def test_four_stage_balance_ignores_later_stages_after_a_failure():
    r = score_four_stage_balance([10, 5, 10, 10])
    assert r.value == 1 and r.warnings


def test_chair_stand_with_arms_is_zero():
    """§1A: 'If arms are used, stop and record 0 (CDC STEADI form)'."""
    assert score_chair_stand(9, arms_used=True).value == 0
    assert score("chair_stand_30s", {"stands": 9, "arms_used": True}).value == 0
    assert score("chair_stand_30s", 9).value == 9


def test_bmi_from_metric_and_us_units():
    assert score_bmi(175, 70).value == 22.9
    assert score("bmi", {"height_in": 69, "weight_lb": 154}).value == round(
        154 * 0.45359237 / (69 * 0.0254) ** 2, 1
    )
    with pytest.raises(NotComputable):
        score_bmi(175, None)
    with pytest.raises(ValueError, match="Height must be between 50 and 250 cm"):
        score_bmi(20, 70)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        # §1G CDC: "<18.5 underweight. 18.5–<25 healthy. 25–<30 overweight. ≥30 obesity
        # (class 1: 30–<35, class 2: 35–<40, class 3: ≥40)" — lower edges belong upward.
        (18.4, "underweight"),
        (18.5, "healthy weight"),
        (24.9, "healthy weight"),
        (25.0, "overweight"),
        (29.9, "overweight"),
        (30.0, "obesity class 1"),
        (35.0, "obesity class 2"),
        (39.9, "obesity class 2"),
        (40.0, "obesity class 3"),
    ],
)
def test_bmi_category_edges(value, label):
    assert get_measure("bmi").bands[0].classify(value).label == label


@pytest.mark.parametrize(
    ("value", "label"),
    [
        # §1F Fairbank: "0–20 minimal, 21–40 moderate, 41–60 severe, 61–80 crippled,
        # 81–100 bed-bound"; a fractional score between printed bands goes up.
        (20, "minimal"),
        (20.5, "moderate"),
        (40, "moderate"),
        (41, "severe"),
        (60, "severe"),
        (61, "'crippled'"),
        (80, "'crippled'"),
        (81, "bed-bound"),
    ],
)
def test_oswestry_band_edges(value, label):
    assert get_measure("oswestry").bands[0].classify(value).label.startswith(label)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        # §1F Vernon raw: "0–4 none, 5–14 mild, 15–24 moderate, 25–34 severe, >34 complete"
        (4, "no disability"),
        (5, "mild"),
        (14, "mild"),
        (15, "moderate"),
        (24, "moderate"),
        (25, "severe"),
        (34, "severe"),
        (34.4, "complete"),
        (35, "complete"),
    ],
)
def test_ndi_band_edges(value, label):
    assert get_measure("neck_disability_index").bands[0].classify(value).label.startswith(label)


@pytest.mark.parametrize(
    ("value", "label"),
    [(20, "wheelchair"), (21, "walks with assistance"), (40, "walks"), (41, "independent")],
)
def test_berg_band_edges(value, label):
    """§1D: 'Bands 0–20 / 21–40 / 41–56 (wheelchair / assisted / independent)'."""
    assert get_measure("berg_balance").bands[0].classify(value).label.startswith(label)


def test_gait_speed_from_distance_and_time():
    assert score_gait_speed(4, 4).value == 1.0
    assert score("gait_speed", {"distance_m": 6, "time_s": 7.5}).value == 0.8
    with pytest.raises(ValueError, match="Walk time"):
        score_gait_speed(4, 0)


def test_grip_best_and_mean_per_hand_and_stronger_hand():
    out = score_grip(left=[20, 22, 21], right=[25, 24, 26])
    assert out["grip_left"].value == 22 and out["grip_right"].value == 26
    assert out["grip_strength"].value == 26 and out["grip_strength"].details["hand"] == "right"
    mean = score_grip(left=[20, 22, 21], method="mean")
    assert mean["grip_left"].value == 21.0 and mean["grip_strength"].warnings
    assert score("grip_right", {"right": [30, 31]}).value == 31
    with pytest.raises(NotComputable):
        score("grip_left", {"right": [30]})


def test_generic_score_dispatches_questionnaires_and_numbers():
    assert score("lefs", [2] * 20).value == 40
    assert score("tug", "11.2").value == 11.2
    assert score("four_stage_balance", [10, 10, 4]).value == 2
    with pytest.raises(ValueError, match="single number"):
        score("tug", {"value": 3})


# --- blood pressure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sbp", "dbp", "label"),
    [
        # §1G 2017 ACC/AHA: "Normal <120 and <80. Elevated 120–129 and <80. Stage 1: 130–139
        # or 80–89. Stage 2: ≥140 or ≥90. Hypertensive crisis: >180 and/or >120. If SBP and
        # DBP fall in different categories, use the higher one."
        (119, 79, "normal"),
        (120, 79, "elevated"),
        (129, 79, "elevated"),
        (119, 80, "hypertension stage 1"),
        (130, 70, "hypertension stage 1"),
        (139, 89, "hypertension stage 1"),
        (140, 70, "hypertension stage 2"),
        (120, 90, "hypertension stage 2"),
        (180, 110, "hypertension stage 2"),
        (181, 100, "hypertensive crisis"),
        (170, 121, "hypertensive crisis"),
        (170, 120, "hypertension stage 2"),
    ],
)
def test_bp_category_edges(sbp, dbp, label):
    assert bp_category(sbp, dbp).label == label


def test_bp_category_reports_each_pressure_and_needs_sane_input():
    c = bp_category(125, 85)
    assert (c.systolic_label, c.diastolic_label, c.label) == (
        "elevated",
        "hypertension stage 1",
        "hypertension stage 1",
    )
    assert "2 or more readings" in c.note
    with pytest.raises(ValueError, match="Diastolic pressure must be lower"):
        bp_category(90, 95)
    with pytest.raises(ValueError, match="systolic must be between 50 and 300 mmHg"):
        bp_category(301, 95)


def test_vital_sign_limits_match_the_session_log():
    """A reading the session log accepts must not be refused here (safety.py, heart_rate.py)."""
    from medex import heart_rate, safety

    hr, sbp, dbp = (
        get_measure("resting_hr"),
        get_measure("bp_systolic"),
        get_measure("bp_diastolic"),
    )
    assert (hr.valid_min, hr.valid_max) == (
        heart_rate.HR_PLAUSIBLE_MIN,
        heart_rate.HR_PLAUSIBLE_MAX,
    )
    assert (sbp.valid_min, sbp.valid_max) == (safety.SBP_PLAUSIBLE_MIN, safety.SBP_PLAUSIBLE_MAX)
    assert (dbp.valid_min, dbp.valid_max) == (safety.DBP_PLAUSIBLE_MIN, safety.DBP_PLAUSIBLE_MAX)


# --- custom measures -------------------------------------------------------------------------


def test_custom_measure_becomes_a_definition():
    cm = CustomMeasure(name="Farmer carry", unit="m", direction="higher_is_better", mcid=10,
                       valid_min=0, valid_max=500, decimals=0)  # fmt: skip
    d = cm.to_definition()
    assert d.id == f"custom:{cm.id}" and d.custom
    assert d.mcid[0].value == 10 and d.mdc == ()
    assert d.norms == () and d.cutoffs == ()
    with pytest.raises(ValueError, match="Farmer carry must be between 0 and 500 m"):
        check_value(d, 600)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"valid_min": 10, "valid_max": 5}, "__all__", "lowest valid value must be below"),
        ({"mcid": 0}, "mcid", "above 0"),
        ({"mcid": -2}, "mcid", "above 0"),
        ({"name": ""}, "name", "required"),
        ({"direction": "up"}, "direction", "Choose one of the options"),
    ],
)
def test_custom_measure_validation_messages(data, field, message):
    base = {"name": "Plank", "unit": "s", "direction": "higher_is_better"}
    with pytest.raises(ValidationError) as exc:
        CustomMeasure(**{**base, **data})
    assert message in field_errors(exc.value)[field]


def test_gait_speed_and_bmi_are_computed_from_their_helper_inputs():
    """§1C gait speed = distance ÷ time (the timed distance is a protocol choice); §1G BMI =
    kg ÷ m². The assessment form offers exactly these helper inputs."""
    from medex.measures import HELPER_INPUTS, value_from_helpers

    assert {m: [h.key for h in hs] for m, hs in HELPER_INPUTS.items()} == {
        "gait_speed": ["time_s"],
        "bmi": ["height_cm", "weight_kg"],
    }
    assert value_from_helpers("gait_speed", {"distance_m": "4 m"}, {"time_s": "5"}) == 0.8
    assert value_from_helpers("gait_speed", {"distance_m": "10 m"}, {"time_s": 8}) == 1.25
    with pytest.raises(NotComputable, match="Choose the timed distance"):
        value_from_helpers("gait_speed", {"distance_m": "other"}, {"time_s": "5"})
    assert value_from_helpers("bmi", {}, {"height_cm": "175", "weight_kg": "70"}) == 22.9
    with pytest.raises(NotComputable, match="both height and weight"):
        value_from_helpers("bmi", {}, {"height_cm": "175", "weight_kg": ""})
    assert value_from_helpers("tug", {}, {}) is None
