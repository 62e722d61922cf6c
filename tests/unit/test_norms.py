"""Age norms and reference values for the TUG and gait speed, checked number by number.

The published values are written here as the sources give them (docs/clinical.md §2.4, §2.5):
Bohannon 2006 (TUG mean and 95% CI by decade, confirmed), Steffen 2002 (TUG mean (SD) by age
and sex, one reproduction) and Bohannon & Andrews 2011 (gait speed decade means, agreeing
reproductions; oldest band 80–99 confirmed). When the project's research note is next to the
repository (not in Pyodide), its tables are read too and must hold the same numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medex.measures import CATALOGUE, get_measure
from medex.outcomes import NO_NORM, interpret, norm_band

NOTE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "norms-confirmed.md"

# Bohannon 2006: age band -> (mean, lower 95% CI, upper 95% CI), seconds.
BOHANNON_TUG = {(60, 69): (8.1, 7.1, 9.0), (70, 79): (9.2, 8.2, 10.2), (80, 99): (11.3, 10.0, 12.7)}
# Steffen 2002: (sex, age band) -> (mean, SD), seconds.
STEFFEN_TUG = {
    ("male", 60, 69): (8, 2),
    ("female", 60, 69): (8, 2),
    ("male", 70, 79): (9, 3),
    ("female", 70, 79): (9, 2),
    ("male", 80, 89): (10, 1),
    ("female", 80, 89): (11, 3),
}
# Bohannon & Andrews 2011: age band -> (men, women), m/s.
GAIT = {
    (20, 29): (1.36, 1.34),
    (30, 39): (1.43, 1.34),
    (40, 49): (1.43, 1.39),
    (50, 59): (1.43, 1.31),
    (60, 69): (1.34, 1.24),
    (70, 79): (1.26, 1.13),
    (80, 99): (0.97, 0.94),
}


# -- the catalogue holds the published numbers ---------------------------------------------------


def test_tug_norm_bands_are_bohannon_2006_upper_confidence_limits():
    bands = {(b.age_min, b.age_max): b for b in get_measure("tug").norms}
    assert set(bands) == set(BOHANNON_TUG)
    for ages, (mean, _low, upper) in BOHANNON_TUG.items():
        band = bands[ages]
        assert band.sex is None  # the meta-analysis gives no sex-specific values
        assert (band.low, band.high) == (None, upper)
        assert f"mean {mean} s" in band.statistic
        assert band.source.citation.startswith("Bohannon 2006")
        assert band.source.confidence == "primary"
        assert band.worse_words == "slower than average for age"


def test_tug_reference_values_are_steffen_2002_means_and_sds():
    refs = {
        (r.sex, r.age_min, r.age_max): (r.value, r.sd) for r in get_measure("tug").reference_values
    }
    assert refs == STEFFEN_TUG
    for ref in get_measure("tug").reference_values:
        assert ref.statistic == "mean" and ref.source.citation.startswith("Steffen")


def test_gait_speed_reference_means_by_decade_with_the_oldest_band_80_to_99():
    m = get_measure("gait_speed")
    assert m.norms == ()  # means, not ranges: never a flag
    refs = {(r.sex, r.age_min, r.age_max): r.value for r in m.reference_values}
    expected = {}
    for (a0, a1), (men, women) in GAIT.items():
        expected[("male", a0, a1)] = men
        expected[("female", a0, a1)] = women
    assert refs == expected


# -- the rule and its words ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "age", "status"),
    [
        (9.0, 65, "within"),  # at the upper limit: not beyond it
        (9.1, 65, "below"),
        (10.2, 70, "within"),
        (10.3, 79, "below"),
        (12.7, 80, "within"),
        (12.8, 99, "below"),
        (6.0, 72, "within"),  # faster than average is not flagged either way
    ],
)
def test_tug_slower_than_average_for_age_above_the_upper_limit(seconds, age, status):
    r = norm_band("tug", seconds, age, "female")
    assert r.status == status
    if status == "below":
        assert r.words == "Slower than average for age"
        assert "is slower than average for age: above" in r.sentence
    else:
        assert r.words == "Not slower than average for age"
    assert "Bohannon 2006" in r.sentence
    for bad in ("abnormal", "fall risk", "unconfirmed"):
        assert bad not in r.sentence.lower()


def test_tug_rule_does_not_depend_on_sex():
    for sex in ("female", "male", None):
        assert norm_band("tug", 11.0, 72, sex).status == "below"


@pytest.mark.parametrize("age", [None, 40, 59, 100])
def test_tug_outside_the_published_ages_has_no_norm(age):
    r = norm_band("tug", 11.0, age, "female")
    assert r.status == "no_norm" and r.sentence.startswith(NO_NORM)


def test_tug_shows_the_steffen_mean_as_a_labelled_reference_only():
    r = norm_band("tug", 9.5, 72, "female")
    assert r.status == "within"
    assert r.reference is not None and (r.reference.value, r.reference.sd) == (9, 2)
    assert "Reference value: the published mean for women 70–79 is 9.0 s (SD 2.0)" in r.sentence
    assert "an average, not a normal range" in r.sentence
    # 9.5 s is slower than Steffen's mean of 9 s: a reference value never flags.
    assert r.words != "Slower than average for age"


def test_tug_and_the_steadi_fall_flag_stay_separate():
    """Two rules from two sources: Bohannon's age limit and the STEADI ≥12 s fall-risk flag."""
    row = interpret("tug", [("2026-01-10", 12.0)], 75, "female")
    assert row.norm.status == "below"
    assert [f.meaning for f in row.flags] == ["At risk for falling"]
    row = interpret("tug", [("2026-01-10", 11.0)], 85, "female")
    assert row.norm.status == "within"  # 11.0 ≤ 12.7 for ages 80–99
    assert row.flags == ()


def test_gait_speed_is_never_classified_by_its_reference_mean():
    for speed in (0.3, 0.94, 1.5):
        r = norm_band("gait_speed", speed, 85, "female")
        assert r.status == "no_norm"
        assert "Reference value: the published mean for women 80–99 is 0.94 m/s" in r.sentence


def test_six_minute_walk_and_grip_still_have_no_norm_for_a_72_year_old_woman():
    assert norm_band("six_minute_walk", 420, 72, "female").status == "no_norm"
    assert norm_band("grip_strength", 20, 72, "female").status == "no_norm"


def test_no_text_of_the_catalogue_says_unconfirmed():
    for m in CATALOGUE.values():
        texts = [m.name, m.description, m.scoring, m.valid_range_note, m.loinc_note, m.licence_note]
        texts += list(m.notes)
        texts += [n.statistic + n.notes + n.source.citation + n.source.confidence for n in m.norms]
        texts += [r.notes + r.source.citation + r.source.confidence for r in m.reference_values]
        for text in texts:
            assert "UNCONFIRMED" not in text.upper(), (m.id, text)


# -- against the research note itself ----------------------------------------------------------

needs_note = pytest.mark.skipif(not NOTE.exists(), reason="the research note is not shipped")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@needs_note
def test_bohannon_2006_numbers_match_the_research_note():
    section = _section(NOTE.read_text("utf-8"), "## 2. Bohannon 2006")
    rows = re.findall(r"^\| (\d\d)–(\d\d) \| ([\d.]+) \| ([\d.]+)–([\d.]+) \|$", section, re.M)
    found = {(int(a), int(b)): (float(m), float(lo), float(hi)) for a, b, m, lo, hi in rows}
    assert found == BOHANNON_TUG
    assert "slower than average for age" in section


@needs_note
def test_steffen_2002_numbers_match_the_research_note():
    section = _section(NOTE.read_text("utf-8"), "## 1. Steffen")
    rows = re.findall(
        r"^\| (\d\d)–(\d\d) \| ([MF]) \| \d+ \| \d+ \(\d+\) \| (\d+) \((\d+)\) \|$", section, re.M
    )
    found = {
        ("male" if sex == "M" else "female", int(a), int(b)): (int(mean), int(sd))
        for a, b, sex, mean, sd in rows
    }
    assert found == STEFFEN_TUG


@needs_note
def test_gait_speed_numbers_match_the_research_note():
    section = _section(NOTE.read_text("utf-8"), "## 3. Bohannon & Andrews 2011")
    rows = re.findall(r"^\| \**(\d\d)–(\d\d)\** \| ([\d.]+) \| ([\d.]+) \|", section, re.M)
    found = {(int(a), int(b)): (float(m), float(w)) for a, b, m, w in rows}
    assert found == GAIT


def test_a_program_may_discharge_on_the_tug_age_norm():
    from medex.programs import DischargeCriterion

    criterion = DischargeCriterion(measure_id="tug", kind="norm", norm="within_norm")
    assert criterion.measure_id == "tug"
