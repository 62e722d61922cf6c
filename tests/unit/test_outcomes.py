"""Interpretation of outcome values: validity, norms, cut-off flags, change vs MDC/MCID, rows.

Quoted rows come from /work/shared/reference/clinical.md §1 and clinical-gaps.md.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from medex.measures import CATALOGUE, CustomMeasure, get_measure
from medex.outcomes import (
    Observation,
    bands_for,
    change,
    cutoff_flags,
    interpret,
    is_valid,
    norm_band,
    normalise_sex,
    select_threshold,
    validate_value,
)

# --- validate_value --------------------------------------------------------------------------


def test_validate_value_refuses_out_of_range_with_plain_message():
    with pytest.raises(ValueError, match="Berg Balance Scale must be between 0 and 56 points"):
        validate_value("berg_balance", 60)
    with pytest.raises(ValueError, match="Numeric Pain Rating Scale must be between 0 and 10"):
        validate_value(get_measure("nprs"), 11)


def test_validate_value_accepts_edges_and_strings():
    assert validate_value("berg_balance", 56) == 56
    assert validate_value("berg_balance", "0") == 0
    assert is_valid("nprs", 10) and not is_valid("nprs", -1)


def test_validate_value_for_custom_measure_uses_its_range():
    cm = CustomMeasure(name="Plank hold", unit="s", direction="higher_is_better", valid_min=0,
                       valid_max=600)  # fmt: skip
    assert validate_value(cm, 600) == 600
    with pytest.raises(ValueError, match="Plank hold must be between 0 and 600 s"):
        validate_value(cm, 601)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("F", "female"), ("female", "female"), ("Men", "male"), ("m", "male"), ("x", None),
     (None, None), ("", None)],
)  # fmt: skip
def test_normalise_sex(raw, expected):
    assert normalise_sex(raw) == expected


# --- norm_band: 30-second chair stand (§1B, 2013 edition) ------------------------------------


@pytest.mark.parametrize(
    ("age", "value", "status", "label"),
    [
        # "| 60–64 | 14–19 | 12–17 |" and "| 65–69 | 13–18 ⚠ | 11–16 |" — women column
        (64, 11, "below", "women 60–64"),
        (65, 11, "within", "women 65–69"),
        (64, 12, "within", "women 60–64"),  # lower limit is inside the range
        (64, 17, "within", "women 60–64"),  # upper limit is inside the range
        (64, 18, "above", "women 60–64"),
        (69, 16, "within", "women 65–69"),
        (70, 16, "above", "women 70–74"),  # "| 70–74 | 12–17 | 10–15 |"
        # "| 85–89 | 8–13 ⚠ | 8–13 |" and "| 90–94 | 7–12 | 4–11 |" — women
        (89, 12, "within", "women 85–89"),
        (90, 12, "above", "women 90–94"),
        (89, 7, "below", "women 85–89"),
        (90, 7, "within", "women 90–94"),
        (94, 4, "within", "women 90–94"),
        (94, 3, "below", "women 90–94"),
        (64.9, 11, "below", "women 60–64"),  # completed years: 64.9 is still 64
    ],
)
def test_chair_stand_norms_women_band_edges(age, value, status, label):
    r = norm_band("chair_stand_30s", value, age, "female")
    assert (r.status, r.label) == (status, label)


@pytest.mark.parametrize(
    ("age", "value", "status"),
    [
        # men: "| 60–64 | 14–19 |", "| 65–69 | 13–18 ⚠ |" (2013; 1999 says 12–18)
        (64, 13, "below"),
        (65, 13, "within"),
        (65, 12, "below"),  # conservative: 13 kept as the lower limit
        (64, 19, "within"),
        (64, 20, "above"),
        # "| 85–89 | 8–13 ⚠ |" (1999: 8–14; upper 14 kept) and "| 90–94 | 7–12 |"
        (89, 14, "within"),
        (89, 15, "above"),
        (90, 13, "above"),
        (90, 7, "within"),
        (89, 7, "below"),
    ],
)
def test_chair_stand_norms_men_band_edges(age, value, status):
    assert norm_band("chair_stand_30s", value, age, "male").status == status


@pytest.mark.parametrize("age", [59, 95, 100, 30])
def test_no_norm_outside_the_published_ages(age):
    """No extrapolation below 60 or above 94: the table covers 60–94 only."""
    r = norm_band("chair_stand_30s", 12, age, "female")
    assert r.status == "no_norm" and not r.has_norm
    assert r.sentence.startswith("No published norm on file")
    assert "60–94" in r.sentence


def test_no_norm_without_age_or_sex_for_sex_specific_tables():
    assert norm_band("chair_stand_30s", 12, None, "female").status == "no_norm"
    r = norm_band("chair_stand_30s", 12, 70, None)
    assert r.status == "no_norm" and "by sex" in r.sentence


def test_no_norm_for_measures_without_confirmed_tables():
    r = norm_band("single_leg_stance", 9.0, 72, "female")
    assert r.status == "no_norm" and r.sentence == "No published norm on file."
    # The TUG age norm (Bohannon 2006) starts at 60: younger clients have none.
    assert norm_band("tug", 9.0, 59, "female").status == "no_norm"


def test_norm_sentence_names_band_range_and_source():
    r = norm_band("chair_stand_30s", 9, 72, "female")
    assert r.sentence.startswith("9 stands is below average")
    assert "women 70–74 (10–15 stands" in r.sentence and "Rikli & Jones" in r.sentence
    assert (r.low, r.high) == (10, 15)


# --- norm_band: lower-is-better tables --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        # §1B "| 70–74 | … | 8-ft up-and-go W (s) 7.1–4.9 |"; "a time above the upper number
        # is below average"
        (7.1, "within"),
        (7.2, "below"),
        (4.9, "within"),
        (4.8, "above"),
    ],
)
def test_eight_foot_up_and_go_direction(value, status):
    assert norm_band("up_and_go_8ft", value, 72, "female").status == status


@pytest.mark.parametrize(
    ("age", "value", "status"),
    [
        # §1A Bohannon 2006: "Worse than average if time exceeds 11.4 s (60–69), 12.6 s (70–79),
        # 14.8 s (80–89)" — exactly 11.4 s does not exceed 11.4 s.
        (69, 11.4, "within"),
        (69, 11.5, "below"),
        (70, 11.5, "within"),
        (79, 12.7, "below"),
        (80, 12.7, "within"),
        (89, 14.8, "within"),
        (89, 14.9, "below"),
    ],
)
def test_five_times_sts_average_limits(age, value, status):
    """Sex-neutral band: applies whether or not sex is recorded."""
    assert norm_band("five_times_sts", value, age, None).status == status
    assert norm_band("five_times_sts", value, age, "male").status == status


def test_five_times_sts_no_norm_from_90_or_under_60():
    assert norm_band("five_times_sts", 12, 90, "female").status == "no_norm"
    assert norm_band("five_times_sts", 12, 59, "female").status == "no_norm"


def test_five_times_sts_norm_sentences():
    assert "worse than average for ages 70–79" in norm_band("five_times_sts", 13, 75, "f").sentence
    assert "not worse than average" in norm_band("five_times_sts", 9, 75, "f").sentence


def test_arm_curl_and_step_test_norms_by_sex():
    # "| 75–79 | … | Arm curl M 12–17 | Arm curl W 10–14 | 2-min step M 80–110 | W 70–100 |"
    assert norm_band("arm_curl", 15, 77, "female").status == "above"
    assert norm_band("arm_curl", 15, 77, "male").status == "within"
    assert norm_band("step_test_2min", 79, 77, "male").status == "below"
    assert norm_band("step_test_2min", 79, 77, "female").status == "within"


def test_back_scratch_negative_ranges():
    """gaps §1a "| 70–74 | −8.0 to −1.0 | −4.0 to +1.0 |"."""
    assert norm_band("back_scratch", -8.0, 72, "male").status == "within"
    assert norm_band("back_scratch", -8.5, 72, "male").status == "below"
    assert norm_band("back_scratch", 1.5, 72, "female").status == "above"
    assert "−8.0 to −1.0" in norm_band("back_scratch", -5, 72, "male").sentence.replace("-", "−")


def test_gait_speed_shows_reference_mean_but_never_classifies():
    """§1C decade table 'Women … 70–79 1.13' is a mean, not a range."""
    r = norm_band("gait_speed", 0.9, 75, "female")
    assert r.status == "no_norm"
    assert r.reference is not None and r.reference.value == 1.13
    assert "mean for women 70–79 is 1.13 m/s" in r.sentence
    # The paper's oldest stratum is 80–99 (confirmed abstract), not 80–89.
    assert norm_band("gait_speed", 0.9, 90, "female").reference.value == 0.94
    assert norm_band("gait_speed", 0.9, 99, "male").reference.value == 0.97
    assert norm_band("gait_speed", 0.9, 100, "female").reference is None


def test_six_minute_walk_reference_mean_for_55_to_75():
    """§1C 'Healthy 55–75 y: mean 659 ± 62 m'."""
    r = norm_band("six_minute_walk", 500, 60, "male")
    assert r.status == "no_norm" and r.reference.value == 659 and "SD 62" in r.sentence
    assert norm_band("six_minute_walk", 500, 76, "male").reference is None


# --- cutoff_flags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "sex", "value", "flagged"),
    [
        # STEADI "| 60–64 | 14 | 12 |", "| 65–69 | 12 | 11 |": at risk if < the score
        (64, "female", 11, True),
        (64, "female", 12, False),  # equal to the score: not "<"
        (65, "female", 11, False),
        (65, "female", 10, True),
        (64, "male", 13, True),
        (64, "male", 14, False),
        (65, "male", 11, True),
        (65, "male", 12, False),
        # "| 85–89 | 8 | 8 |", "| 90–94 | 7 | 4 |"
        (89, "male", 7, True),
        (90, "male", 7, False),
        (89, "female", 7, True),
        (90, "female", 4, False),
        (90, "female", 3, True),
    ],
)
def test_steadi_chair_stand_fall_risk_edges(age, sex, value, flagged):
    flags = [f for f in cutoff_flags("chair_stand_30s", value, age, sex) if f.kind == "fall_risk"]
    assert bool(flags) is flagged


def test_flag_text_names_meaning_and_source():
    (flag,) = [f for f in cutoff_flags("chair_stand_30s", 10, 67, "female")]
    assert flag.text.startswith("At risk for falls — CDC STEADI")
    assert flag.threshold == "below 11 stands for women 65–69"
    assert "screen" in flag.notes


def test_no_steadi_flag_without_age_or_sex_or_beyond_94():
    assert cutoff_flags("chair_stand_30s", 3, None, "female") == []
    assert cutoff_flags("chair_stand_30s", 9, 70, None) == []
    assert cutoff_flags("chair_stand_30s", 3, 95, "female") == []


def test_rikli_fewer_than_8_stands_flag():
    """§1A 'scores below 8 unassisted stands [associated] with lower functional ability'."""
    meanings = [f.meaning for f in cutoff_flags("chair_stand_30s", 7, 85, "female")]
    assert "Associated with lower functional ability" in meanings
    meanings8 = [f.meaning for f in cutoff_flags("chair_stand_30s", 8, 85, "female")]
    assert "Associated with lower functional ability" not in meanings8


@pytest.mark.parametrize(
    ("value", "n_flags"),
    [
        # §1C "STEADI: ≥12 s = at risk for falling"; "EWGSOP2 severe sarcopenia: TUG ≥20 s"
        (11.9, 0),
        (12.0, 1),
        (19.9, 1),
        (20.0, 2),
    ],
)
def test_tug_cutoffs_are_inclusive(value, n_flags):
    assert len(cutoff_flags("tug", value)) == n_flags


def test_tug_flag_warns_not_to_use_alone():
    (flag,) = cutoff_flags("tug", 13)
    assert flag.text == "At risk for falling — CDC STEADI Timed Up and Go form"
    assert "should not be used in isolation" in flag.notes


@pytest.mark.parametrize(
    ("value", "age", "expected"),
    [
        # §1A: "≥12 s" (Lusardi), "≥13.6 s" (Guralnik), "≥15 s … healthy ≥65" (Buatois),
        # EWGSOP2 "chair-rise >15 s"
        (11.9, 70, set()),
        (12.0, 70, {"Lusardi"}),
        (13.5, 70, {"Lusardi"}),
        (13.6, 70, {"Lusardi", "Guralnik"}),
        (15.0, 70, {"Lusardi", "Guralnik", "Buatois"}),
        (15.0, 64, {"Lusardi", "Guralnik"}),  # Buatois only for 65 and over
        (15.1, 64, {"Lusardi", "Guralnik", "EWGSOP2"}),
        (15.1, 65, {"Lusardi", "Guralnik", "Buatois", "EWGSOP2"}),
    ],
)
def test_five_times_sts_cutoffs(value, age, expected):
    got = {f.source.citation.split()[0] for f in cutoff_flags("five_times_sts", value, age, "f")}
    assert got == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # §1C "<1.0 m/s (usual pace, 6 m)" and "≤0.8 m/s = low physical performance"
        (1.0, 0),
        (0.99, 1),
        (0.81, 1),
        (0.8, 2),
    ],
)
def test_gait_speed_cutoffs(value, expected):
    assert len(cutoff_flags("gait_speed", value, 75, "m", protocol={"pace": "usual"})) == expected
    assert len(cutoff_flags("gait_speed", value, 75, "m")) == expected  # protocol not recorded


def test_gait_speed_cutoffs_skipped_for_fast_pace():
    """The usual-pace cut-offs are not applied to a fast-pace walk."""
    assert cutoff_flags("gait_speed", 0.7, 75, "m", protocol={"pace": "fast"}) == []


def test_four_stage_balance_tandem_failure_flag():
    """§1D 'Cannot hold tandem stance ≥10 s = increased fall risk': stage 2 flagged, 3 not."""
    assert cutoff_flags("four_stage_balance", 2)[0].kind == "fall_risk"
    assert cutoff_flags("four_stage_balance", 3) == []


def test_berg_cutoff_boundary_45_is_flagged():
    """§1D: '<45' (secondary) vs Muir's '≤45' dichotomy; conservative: 45 is flagged."""
    assert len(cutoff_flags("berg_balance", 45)) == 1
    assert cutoff_flags("berg_balance", 46) == []


@pytest.mark.parametrize(
    ("sex", "value", "flagged"),
    [
        # §1E EWGSOP2 "<27 kg men, <16 kg women"
        ("male", 27.0, False),
        ("male", 26.9, True),
        ("female", 16.0, False),
        ("female", 15.9, True),
        (None, 10.0, False),  # sex-specific: not applied without sex
    ],
)
def test_grip_sarcopenia_cutoffs(sex, value, flagged):
    assert bool(cutoff_flags("grip_strength", value, 70, sex)) is flagged


def test_per_hand_grip_has_no_sarcopenia_flag():
    assert cutoff_flags("grip_left", 10, 70, "female") == []


@pytest.mark.parametrize(
    ("sex", "value", "flagged"),
    [("male", 102, False), ("male", 102.1, True), ("female", 88, False), ("female", 88.1, True)],
)
def test_waist_risk_cutoffs(sex, value, flagged):
    """§1G 'Elevated risk: >102 cm (40 in) men, >88 cm (35 in) women'."""
    assert bool(cutoff_flags("waist_circumference", value, 50, sex)) is flagged


@pytest.mark.parametrize(
    ("measure_id", "value", "n_flags"),
    [
        # SBP: crisis ">180" and ATS 6MWT ">180"; ACSM "SBP >200"
        ("bp_systolic", 180, 0),
        ("bp_systolic", 181, 2),
        ("bp_systolic", 200, 2),
        ("bp_systolic", 201, 3),
        # DBP: ATS ">100", ACSM ">110", crisis ">120"
        ("bp_diastolic", 100, 0),
        ("bp_diastolic", 101, 1),
        ("bp_diastolic", 111, 2),
        ("bp_diastolic", 121, 3),
        ("resting_hr", 120, 0),
        ("resting_hr", 121, 1),
    ],
)
def test_vital_sign_safety_cutoffs(measure_id, value, n_flags):
    assert len(cutoff_flags(measure_id, value)) == n_flags


def test_step_test_criterion_edges():
    """§1B criterion 'M/W 106/97 (60–64)': meeting the score is not flagged."""
    assert cutoff_flags("step_test_2min", 97, 62, "female") == []
    assert len(cutoff_flags("step_test_2min", 96, 62, "female")) == 1


def test_bands_for_respects_condition_and_age():
    assert bands_for("gait_speed", 0.5) == []
    assert bands_for("gait_speed", 0.5, conditions=["stroke"]) == [
        ("Post-stroke walking class", "limited community ambulation (post-stroke class)")
    ]
    assert bands_for("bmi", 31, 19) == []  # CDC adult categories from age 20
    assert bands_for("bmi", 31, 20) == [("BMI category (CDC, adults 20+)", "obesity class 1")]


# --- change ----------------------------------------------------------------------------------


def test_higher_is_better_improvement_beyond_mcid():
    """LEFS MCID 9 (Binkley): 40 → 50 is an improvement beyond the MCID."""
    c = change("lefs", 40, None, 50).since_baseline
    assert (c.trend, c.exceeds_mdc, c.exceeds_mcid) == ("improved", True, True)
    assert c.meaningful_improvement and not c.meaningful_worsening
    assert c.sentence == "Improved by 10 points since baseline, beyond the MCID of 9 points"


def test_higher_is_better_worsening_beyond_mcid():
    c = change("lefs", 50, None, 40).since_baseline
    assert (c.trend, c.difference) == ("worse", -10)
    assert c.meaningful_worsening and not c.meaningful_improvement
    assert c.sentence.startswith("Worse by 10 points since baseline, beyond the MCID")


def test_exactly_at_mcid_counts_and_says_reaching():
    c = change("lefs", 40, None, 49).since_baseline
    assert c.exceeds_mcid and c.sentence.endswith("reaching the MCID of 9 points")
    c8 = change("lefs", 40, None, 48).since_baseline
    assert not c8.exceeds_mcid and "within measurement error (MDC 9 points)" in c8.sentence


@pytest.mark.parametrize(
    ("baseline", "current", "trend", "meaningful"),
    [
        # 5xSTS lower = better; MDC 2.5 s (Goldberg), MCID 2.6 s (SAGE)
        (15.0, 12.0, "improved", True),
        (12.0, 15.0, "worse", True),
        (15.0, 12.5, "improved", False),  # 2.5 s: beyond MDC, below MCID
        (15.0, 13.0, "improved", False),  # 2.0 s: within measurement error
    ],
)
def test_lower_is_better_direction_for_five_times_sts(baseline, current, trend, meaningful):
    c = change("five_times_sts", baseline, None, current).since_baseline
    assert c.trend == trend
    assert (c.meaningful_improvement or c.meaningful_worsening) is meaningful


def test_five_times_sts_change_sentences():
    assert (
        change("five_times_sts", 15.0, None, 12.5).since_baseline.sentence
        == "Improved by 2.5 s since baseline, reaching the MDC of 2.5 s but below the MCID of 2.6 s"
    )
    assert (
        change("five_times_sts", 12.0, None, 14.1).since_baseline.sentence
        == "Changed by 2.1 s since baseline: within measurement error (MDC 2.5 s)"
    )
    assert (
        change("five_times_sts", 11.0, None, 14.0).since_baseline.sentence
        == "Worse by 3.0 s since baseline, beyond the MCID of 2.6 s"
    )


def test_mdc_only_measure_says_beyond_the_mdc():
    """TUG for a client with knee OA: MDC 1.14 s, no MCID on file."""
    c = change("tug", 10.0, None, 12.1, conditions=["knee_oa"]).since_baseline
    assert c.sentence == "Worse by 2.1 s since baseline, beyond the MDC of 1.14 s (no MCID on file)"
    assert c.real_change and not c.meaningful_worsening  # no MCID: not called meaningful


def test_within_error_sentence_for_counts():
    """30sCST with knee OA (MDC 2.5 stands): 1 stand is within measurement error."""
    c = change("chair_stand_30s", 10, None, 11, conditions=["knee_oa"]).since_baseline
    assert (
        c.sentence == "Changed by 1 stand since baseline: within measurement error (MDC 2.5 stands)"
    )
    assert c.exceeds_mdc is False


def test_population_specific_mdc_not_used_without_the_condition():
    c = change("tug", 10.0, None, 12.1).since_baseline
    assert c.mdc is None and c.exceeds_mdc is None
    assert (
        c.sentence
        == "Worse by 2.1 s since baseline (no MDC or MCID on file for this measure and client)"
    )


def test_since_previous_is_judged_separately():
    r = change("lefs", 30, 45, 50)
    assert r.since_baseline.meaningful_improvement
    prev = r.since_previous
    assert prev.reference_value == 45 and prev.difference == 5
    assert prev.sentence.startswith("Changed by 5 points since the previous assessment: within")


def test_no_change_sentence():
    c = change("lefs", 40, None, 40).since_baseline
    assert (c.trend, c.sentence) == ("no_change", "No change since baseline")
    assert not c.meaningful_improvement


def test_direction_neither_reports_up_and_down():
    up = change("resting_hr", 70, None, 76).since_baseline
    down = change("resting_hr", 76, None, 70).since_baseline
    assert (up.trend, down.trend) == ("up", "down")
    assert up.sentence.startswith("Up by 6 bpm since baseline")


def test_mcid_smaller_than_mdc_is_not_meaningful():
    """PSFS: MID 1.3 (small) but MDC 2 — a 1.5-point change is within measurement error."""
    c = change("psfs", 4.0, None, 5.5).since_baseline
    assert c.exceeds_mcid and c.exceeds_mdc is False
    assert not c.meaningful_improvement
    assert "within measurement error (MDC 2 points)" in c.sentence


def test_gait_speed_small_and_substantial_change():
    """gaps §4 Perera: 'Small ≈0.05 m/s … Substantial ≈0.10 m/s'."""
    small = change("gait_speed", 0.80, None, 0.85).since_baseline
    assert small.exceeds_mcid and not small.exceeds_substantial
    assert small.sentence == "Improved by 0.05 m/s since baseline, reaching the MCID of 0.05 m/s"
    big = change("gait_speed", 0.80, None, 0.91).since_baseline
    assert big.exceeds_substantial and "substantial change (at least 0.10 m/s)" in big.sentence
    assert not change("gait_speed", 0.80, None, 0.84).since_baseline.exceeds_mcid


def test_float_noise_does_not_hide_reaching_the_mcid():
    """0.85 − 0.80 is 0.04999… in binary floating point; it still reaches 0.05."""
    assert change("gait_speed", 0.8, None, 0.85).since_baseline.exceeds_mcid


@pytest.mark.parametrize(
    ("baseline", "mdc"),
    [
        # gaps §4 Donoghue: "4 pts if baseline 45–56; 5 if 35–44; 7 if 25–34; 5 if 0–24"
        (56, 4),
        (45, 4),
        (44, 5),
        (35, 5),
        (34, 7),
        (25, 7),
        (24, 5),
        (0, 5),
    ],
)
def test_berg_mdc_chosen_by_baseline_band(baseline, mdc):
    current = min(56, baseline + 1)
    assert change("berg_balance", baseline, None, current).since_baseline.mdc.value == mdc


def test_berg_mdc_for_fallers_is_romero():
    """gaps §4: 'Use 6.5 points only for fallers (Romero)'."""
    c = change("berg_balance", 40, None, 46, conditions=["falls_history"]).since_baseline
    assert c.mdc.value == 6.5 and c.exceeds_mdc is False
    assert change("berg_balance", 40, None, 46).since_baseline.mdc.value == 5


def test_berg_has_no_mcid_for_community_older_adults():
    c = change("berg_balance", 40, None, 50).since_baseline
    assert c.mcid is None
    assert change("berg_balance", 30, None, 45, conditions=["acute_stroke"]).since_baseline.mcid


@pytest.mark.parametrize(
    ("baseline", "mcid"),
    [
        # §1F NPRS: "MCID depends on baseline: 1 (baseline 1–4), 2 (5–7), 3–4 (8–10)";
        # 3–4 → 4 (conservative)
        (1, 1),
        (4, 1),
        (5, 2),
        (7, 2),
        (8, 4),
        (10, 4),
        (0, None),
    ],
)
def test_nprs_mcid_by_baseline(baseline, mcid):
    c = change("nprs", baseline, None, max(0, baseline - 1)).since_baseline
    assert (c.mcid.value if c.mcid else None) == mcid


def test_nprs_low_back_pain_uses_childs_values():
    c = change("nprs", 7, None, 5, conditions=["low_back_pain"]).since_baseline
    assert (c.mdc.value, c.mcid.value) == (2, 2.2)
    assert c.exceeds_mdc and not c.exceeds_mcid
    assert c.sentence == (
        "Improved by 2 points since baseline, reaching the MDC of 2 points but below the MCID of "
        "2.2 points"
    )


def test_select_threshold_skips_alternates():
    """NDI: Vernon 5 raw points is used; the JOSPT value (7 raw) is kept for display only."""
    m = get_measure("neck_disability_index")
    assert select_threshold(m.mcid, 20).value == 5
    alternates = tuple(t for t in m.mcid if t.alternate)
    assert [t.value for t in alternates] == [7]
    assert select_threshold(alternates, 20) is None


def test_oswestry_change_in_points():
    c = change("oswestry", 40, None, 28).since_baseline
    assert c.sentence == "Improved by 12 points since baseline, reaching the MCID of 12 points"


def test_custom_measure_lower_is_better_with_mcid():
    cm = CustomMeasure(name="Stair climb", unit="s", direction="lower_is_better", mcid=3)
    better = change(cm, 20, None, 16.5).since_baseline
    worse = change(cm, 20, None, 23.5).since_baseline
    assert better.meaningful_improvement and worse.meaningful_worsening
    assert better.sentence == "Improved by 3.5 s since baseline, beyond the MCID of 3.0 s"
    assert not change(cm, 20, None, 18).since_baseline.exceeds_mcid


def test_change_refuses_invalid_values():
    with pytest.raises(ValueError, match="between 0 and 80"):
        change("lefs", 40, None, 90)


# --- interpret -------------------------------------------------------------------------------


def test_interpret_sorts_history_and_picks_baseline_previous_current():
    row = interpret(
        "chair_stand_30s",
        [("2024-03-01", 13), ("2024-01-01", 9), (date(2024, 2, 1), 11)],
        72,
        "female",
    )
    assert [o.value for o in row.history] == [9, 11, 13]
    assert (row.baseline.value, row.previous.value, row.current.value) == (9, 11, 13)
    assert row.current_text == "13 stands"
    # baseline 9 was below the women 70–74 range (10–15); now 13 is within
    assert (row.baseline_norm.status, row.norm.status) == ("below", "within")
    assert row.norm_moved
    assert row.flags == ()  # 13 ≥ STEADI 10 for women 70–74
    assert row.change.since_baseline.difference == 4


def test_interpret_flags_and_notes_for_latest_value():
    row = interpret("tug", [("2024-01-01", 14.2)], 80, "male")
    assert row.change is None and row.previous is None and row.baseline_norm is None
    assert [f.meaning for f in row.flags] == ["At risk for falling"]
    # 14.2 s is above 12.7 s, Bohannon 2006's upper limit for ages 80–99.
    assert row.norm.status == "below" and row.norm.words == "Slower than average for age"


def test_interpret_two_assessments_has_no_since_previous():
    row = interpret("lefs", [("2024-01-01", 40), ("2024-02-01", 52)])
    assert row.previous is None and row.change.since_previous is None
    assert row.change.since_baseline.meaningful_improvement


def test_interpret_notes_missing_age_and_sex():
    row = interpret("chair_stand_30s", [("2024-01-01", 9)], None, None)
    assert any("Age not recorded" in n for n in row.notes)
    assert any("Sex not recorded" in n for n in row.notes)
    assert row.norm.status == "no_norm"


def test_interpret_drops_invalid_values_with_a_note():
    row = interpret("berg_balance", [("2024-01-01", 40), ("2024-02-01", 70), ("2024-03-01", 44)])
    assert [o.value for o in row.history] == [40, 44]
    assert any("outside the valid range" in n for n in row.notes)


def test_interpret_warns_when_protocol_changed():
    row = interpret(
        "gait_speed",
        [
            {
                "date": "2024-01-01",
                "value": 0.9,
                "protocol": {"pace": "usual", "distance_m": "4 m"},
            },
            {"date": "2024-02-01", "value": 1.1, "protocol": {"pace": "fast", "distance_m": "4 m"}},
        ],
        75,
        "f",
    )
    assert any("pace: usual → fast" in n for n in row.notes)
    assert row.flags == ()  # usual-pace cut-offs not applied to a fast walk


def test_interpret_uses_observation_age_for_baseline_norm():
    """Baseline at 64 (women 60–64: 12–17) vs now at 65 (11–16): 11 stands moves band."""
    row = interpret(
        "chair_stand_30s",
        [Observation(date(2023, 1, 1), 11, age=64), Observation(date(2024, 1, 1), 11, age=65)],
        65,
        "female",
    )
    assert (row.baseline_norm.status, row.norm.status) == ("below", "within")
    assert row.baseline_norm.label == "women 60–64" and row.norm.label == "women 65–69"


def test_interpret_empty_history():
    row = interpret("lefs", [])
    assert row.current is None and row.current_text == "Not assessed" and row.change is None


def test_interpret_custom_measure():
    cm = CustomMeasure(name="Farmer carry", unit="m", direction="higher_is_better", mcid=10,
                       valid_min=0, valid_max=500, decimals=0)  # fmt: skip
    row = interpret(cm, [("2024-01-01", 40), ("2024-02-01", 55)], 70, "m")
    assert row.measure_id == f"custom:{cm.id}"
    assert row.norm.sentence == "No published norm on file."
    assert row.change.since_baseline.sentence == (
        "Improved by 15 m since baseline, beyond the MCID of 10 m"
    )


def test_interpret_post_stroke_band_only_with_condition():
    hist = [("2024-01-01", 0.35)]
    assert interpret("gait_speed", hist, 70, "m").bands == ()
    banded = interpret("gait_speed", hist, 70, "m", conditions=["stroke"]).bands
    assert banded[0][1].startswith("household ambulation")


# --- speed -----------------------------------------------------------------------------------


def _histories():
    ids = [m for m in CATALOGUE if m not in ("bp_systolic", "bp_diastolic")][:20]
    start = date(2022, 1, 1)
    out = {}
    for mid in ids:
        m = CATALOGUE[mid]
        lo = m.valid_min if m.valid_min is not None else 0
        hi = m.valid_max if m.valid_max is not None else lo + 100
        span = hi - lo
        vals = []
        for i in range(30):
            v = lo + span * (0.2 + 0.6 * ((i * 7) % 30) / 30)
            v = round(v) if m.decimals == 0 else round(v, m.decimals)
            vals.append((start + timedelta(days=14 * i), v))
        out[mid] = vals
    return out


def test_report_of_20_measures_with_30_assessments_interprets_every_measure():
    """Each of 20 measures with 30 assessments gets its current value and change (the time it
    takes is measured by ``benchmarks/interpret.py``, side by side, not here)."""
    histories = _histories()
    assert len(histories) == 20
    rows = [interpret(mid, h, 72, "female") for mid, h in histories.items()]
    assert all(r.current is not None and r.change is not None for r in rows)
    assert [r.current.value for r in rows] == [h[-1][1] for h in histories.values()]
