"""Heart-rate methods (clinical.md §3D) and effort scales (clinical.md §1H)."""

import pytest
from pydantic import ValidationError

from medex.heart_rate import (
    INTENSITY_BANDS,
    HrMaxMethod,
    IntensityLevel,
    KarvonenInput,
    RpeRating,
    RpeScale,
    estimate_hr_max,
    karvonen_target,
    karvonen_target_for_intensity,
    measured_hr_max,
    round_half_up,
    rpe_intensity,
)

# --- HRmax equations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "age", "expected"),
    [
        # §3D "Tanaka 2001: 208 − 0.7 × age"
        (HrMaxMethod.TANAKA, 40, 180),  # 208 − 28
        (HrMaxMethod.TANAKA, 60, 166),  # 208 − 42
        (HrMaxMethod.TANAKA, 70, 159),  # 208 − 49
        # §3D "Fox: 220 − age"
        (HrMaxMethod.FOX, 60, 160),
        (HrMaxMethod.FOX, 40, 180),
        # §3D "Gellish 2007: 207 − 0.7 × age"
        (HrMaxMethod.GELLISH, 60, 165),
        # §3D "Beta-blocker equation: 164 − 0.7 × age"
        (HrMaxMethod.BETA_BLOCKER, 60, 122),
    ],
)
def test_hr_max_equations_match_worked_examples(method, age, expected):
    """Each named equation gives the hand-worked value."""
    est = estimate_hr_max(age, method)
    assert est.bpm == expected
    assert est.exact_bpm == pytest.approx(expected)


def test_tanaka_is_the_default_method():
    """Without a method, HRmax is Tanaka's and the text names it."""
    est = estimate_hr_max(60)
    assert est.bpm == 166
    assert "Tanaka" in est.method_text and "208 − 0.7 × age" in est.method_text


def test_hr_max_half_values_round_up():
    """Tanaka at 45: 208 − 31.5 = 176.5 → 177 (not banker's rounding to 176)."""
    est = estimate_hr_max(45)
    assert est.exact_bpm == pytest.approx(176.5)
    assert est.bpm == 177
    assert round_half_up(176.5) == 177
    assert round_half_up(176.49) == 176


def test_fox_equation_carries_its_error_note():
    """Fox's SEE of about 7–11 bpm (Robergs & Landwehr 2002) travels with the estimate."""
    assert "7–11 bpm" in estimate_hr_max(50, HrMaxMethod.FOX).note


@pytest.mark.parametrize(("age", "ok"), [(17, False), (18, True), (110, True), (111, False)])
def test_hr_max_age_limits(age, ok):
    """Adults only: 18 and 110 accepted, 17 and 111 refused with a plain message."""
    if ok:
        estimate_hr_max(age)
    else:
        with pytest.raises(ValueError, match="age must be 18 to 110"):
            estimate_hr_max(age)


def test_measured_hr_max_is_labelled_measured():
    """A measured HRmax is used as given and named as measured."""
    est = measured_hr_max(171)
    assert est.bpm == 171 and est.method_name == "Measured"


# --- Karvonen -------------------------------------------------------------------------


def test_karvonen_worked_example_tanaka():
    """Age 60 (Tanaka 166), rest 70, 40–59 %: 70 + 0.40×96 = 108.4 → 108; 70 + 0.59×96 = 126.64
    → 127."""
    t = karvonen_target(60, 70, 40, 59)
    assert not t.use_rpe
    assert (t.low_bpm, t.high_bpm) == (108, 127)
    assert t.hr_max is not None and t.hr_max.bpm == 166
    assert "Karvonen" in t.method_text and "Tanaka" in t.method_text
    assert "108–127 bpm" in t.method_text


def test_karvonen_worked_example_fox():
    """Age 40 (Fox 180), rest 60, 60–80 %: HRR 120 → 60 + 72 = 132 to 60 + 96 = 156."""
    t = karvonen_target(40, 60, 60, 80, method=HrMaxMethod.FOX)
    assert (t.low_bpm, t.high_bpm) == (132, 156)
    assert "Fox" in t.method_text


def test_karvonen_uses_measured_hr_max_when_given():
    """A measured HRmax (150) replaces the age prediction: rest 70, 50 % → 70 + 40 = 110."""
    t = karvonen_target(None, 70, 50, 50, hr_max_bpm=150)
    assert (t.low_bpm, t.high_bpm) == (110, 110)
    assert "Measured" in t.method_text


def test_karvonen_for_moderate_band_uses_40_to_59_percent():
    """§1H moderate = 40–59 % HRR; same numbers as the worked example."""
    t = karvonen_target_for_intensity(IntensityLevel.MODERATE, 60, 70)
    assert (t.intensity_low_pct, t.intensity_high_pct) == (40, 59)
    assert (t.low_bpm, t.high_bpm) == (108, 127)


def test_blunted_hr_response_gives_rpe_advice_not_numbers():
    """§3D: 'Flag beta-blocker users: use RPE instead of HR targets'."""
    t = karvonen_target(60, 70, 40, 59, hr_response_altered=True)
    assert t.use_rpe
    assert t.low_bpm is None and t.high_bpm is None and t.hr_max is None
    assert "RPE" in t.advice and "12–13" in t.advice  # moderate band on Borg 6–20
    assert "RPE" in t.method_text


def test_blunted_hr_response_with_mixed_band_lists_all_rpe_bands():
    """A range spanning two bands (35–55 %) names all bands rather than guessing one."""
    t = karvonen_target(60, 70, 35, 55, hr_response_altered=True)
    assert "light 9–11" in t.advice and "moderate 12–13" in t.advice


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (60, 40, "lower intensity"),
        (0, 40, "above 0"),
        (40, 101, "at most 100"),
    ],
)
def test_karvonen_refuses_bad_intensities(low, high, message):
    """Intensity must be 0 < low ≤ high ≤ 100 %."""
    with pytest.raises(ValidationError, match=message):
        karvonen_target(60, 70, low, high)


def test_karvonen_refuses_resting_at_or_above_hr_max():
    """Resting HR equal to HRmax (166 at age 60) leaves no reserve: refused."""
    with pytest.raises(ValueError, match="below the maximum"):
        karvonen_target(60, 166, 40, 59)
    karvonen_target(60, 165, 40, 59)  # just below: accepted


def test_karvonen_refuses_impossible_resting_hr():
    """Resting HR 400 is a typing error."""
    with pytest.raises(ValidationError, match="between 20 and 300"):
        KarvonenInput(resting_bpm=400, intensity_low_pct=40, intensity_high_pct=59)


def test_karvonen_needs_age_or_measured_max():
    """Without age or a measured HRmax there is nothing to compute from."""
    with pytest.raises(ValueError, match="age or a measured"):
        karvonen_target(None, 70, 40, 59)


# --- Intensity bands and RPE ----------------------------------------------------------


def test_intensity_bands_match_reference_table():
    """§1H: RPE light 9–11, moderate 12–13, vigorous 14–17, near-max ≥18; %HRR light 30–39,
    moderate 40–59; %HRmax light 57–63, moderate 64–76, vigorous 77–95."""
    b = INTENSITY_BANDS
    assert b[IntensityLevel.LIGHT].rpe_6_20 == (9, 11)
    assert b[IntensityLevel.MODERATE].rpe_6_20 == (12, 13)
    assert b[IntensityLevel.VIGOROUS].rpe_6_20 == (14, 17)
    assert b[IntensityLevel.NEAR_MAXIMAL].rpe_6_20 == (18, 20)
    assert b[IntensityLevel.LIGHT].pct_hrr == (30, 39)
    assert b[IntensityLevel.MODERATE].pct_hrr == (40, 59)
    assert b[IntensityLevel.LIGHT].pct_hrmax == (57, 63)
    assert b[IntensityLevel.MODERATE].pct_hrmax == (64, 76)
    assert b[IntensityLevel.VIGOROUS].pct_hrmax == (77, 95)


def test_vigorous_hrr_uses_the_conservative_of_two_conflicting_tables():
    """§1H conflict: vigorous 60–89 % (BJSM) vs 60–84 % (PMC8581515) → 60–84, noted."""
    vig = INTENSITY_BANDS[IntensityLevel.VIGOROUS]
    assert vig.pct_hrr == (60, 84)
    assert INTENSITY_BANDS[IntensityLevel.NEAR_MAXIMAL].pct_hrr == (85, 100)
    assert "conservative" in vig.note


@pytest.mark.parametrize(
    ("rpe", "level"),
    [
        (6, None),
        (8, None),  # below the light band: no descriptor in the reference
        (9, IntensityLevel.LIGHT),
        (11, IntensityLevel.LIGHT),
        (12, IntensityLevel.MODERATE),  # §1H "Moderate 12–13"
        (13, IntensityLevel.MODERATE),
        (14, IntensityLevel.VIGOROUS),
        (17, IntensityLevel.VIGOROUS),
        (18, IntensityLevel.NEAR_MAXIMAL),  # §1H "Near-max ≥18"
        (20, IntensityLevel.NEAR_MAXIMAL),
    ],
)
def test_borg_6_20_intensity_at_band_edges(rpe, level):
    """Each band edge lands in the band §1H gives it."""
    assert rpe_intensity(rpe) == level
    assert RpeRating(scale=RpeScale.BORG_6_20, value=rpe).intensity == level


@pytest.mark.parametrize("value", [5, 21, 12.5])
def test_borg_6_20_refuses_out_of_range_or_fractional(value):
    """Borg 6–20 takes whole numbers 6 to 20 only."""
    with pytest.raises(ValidationError, match="whole number from 6 to 20"):
        RpeRating(scale=RpeScale.BORG_6_20, value=value)


@pytest.mark.parametrize(("value", "ok"), [(-0.5, False), (0, True), (10, True), (10.5, False)])
def test_cr10_range(value, ok):
    """CR10 accepts 0 to 10 inclusive."""
    if ok:
        r = RpeRating(scale=RpeScale.CR10, value=value)
        assert r.intensity is None  # the reference gives no CR10 intensity mapping
        assert "CR10" in r.text
    else:
        with pytest.raises(ValidationError, match="from 0 to 10"):
            RpeRating(scale=RpeScale.CR10, value=value)


# --- The session log's target line ------------------------------------------------------


def test_session_target_text_names_the_band_range_and_method():
    """§3D Karvonen with Tanaka HRmax, §1H moderate = 40–59% HRR: age 68, rest 70 →
    HRmax 160, 70 + 40–59% × 90 = 106–123 bpm; the band is read back from the line."""
    from medex.heart_rate import intensity_of_target_text, session_target_text

    text, use_rpe = session_target_text(IntensityLevel.MODERATE, 68, 70)
    assert not use_rpe
    assert text.startswith("Moderate (40–59% HRR): 106–123 bpm. Karvonen")
    assert "Tanaka" in text and "=" not in text
    for level, band in INTENSITY_BANDS.items():
        line, _ = session_target_text(level, 68, 70)
        assert intensity_of_target_text(line) is level, band.label
    assert intensity_of_target_text("") is IntensityLevel.MODERATE


def test_session_target_text_without_a_resting_rate_or_with_blunted_response():
    """§3D "Flag beta-blocker users: use RPE instead of HR targets": no numbers at all."""
    from medex.heart_rate import session_target_text

    text, use_rpe = session_target_text(IntensityLevel.LIGHT, 68, None)
    assert "enter the resting heart rate" in text and not use_rpe
    text, use_rpe = session_target_text(IntensityLevel.MODERATE, 68, 70, hr_response_altered=True)
    assert use_rpe and "use RPE" in text and "bpm" not in text
    text, _ = session_target_text(IntensityLevel.MODERATE, 12, 70)
    assert "no target range" in text and "18 to 110" in text
