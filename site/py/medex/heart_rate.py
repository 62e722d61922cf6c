"""Heart-rate and effort methods: age-predicted HRmax, Karvonen targets, RPE scales.

Pure Python (no I/O). Every formula carries its name, citation and the population it came
from, and the text shown to the practitioner names the method used.

Sources: docs/clinical.md §5.1 (HRmax equations), §5.2 (Karvonen), §5.4 ("use RPE for
beta-blocker users") and §5.3 (ACSM intensity bands for RPE 6–20, %HRR and %HRmax). The Borg
anchor wording is licensed (docs/clinical.md §8.5), so this module stores numbers and ACSM
intensity words only, never Borg's own anchor text.
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

# Plausibility limits for any heart-rate reading typed into the app (bpm; docs/clinical.md §1.4).
# Values outside are refused as typing errors. They are deliberately wide so that no real,
# alarming reading is ever refused (a refused reading cannot raise a safety flag):
#   - 20 bpm: below this a conscious client attending a session is not credible.
#   - 300 bpm: the fastest rhythms seen in practice (e.g. 1:1 atrial flutter) are about 300;
#     400 is a typing error. Our choice, not from the reference set.
HR_PLAUSIBLE_MIN = 20
HR_PLAUSIBLE_MAX = 300

# Age range for age-predicted HRmax. The equations are adult equations; the reference set
# gives no validity range, so we accept adults only (our choice).
AGE_MIN = 18
AGE_MAX = 110


def round_half_up(value: float) -> int:
    """Round to the nearest whole number, .5 going up (Python's round() goes to even)."""
    return math.floor(value + 0.5)


class HrMaxMethod(StrEnum):
    TANAKA = "tanaka"
    FOX = "fox"
    GELLISH = "gellish"
    BETA_BLOCKER = "beta_blocker"


class HrMaxFormula(BaseModel):
    """One age-predicted HRmax equation: HRmax = intercept − slope × age."""

    model_config = ConfigDict(frozen=True)

    method: HrMaxMethod
    name: str
    formula: str
    intercept: float
    slope: float
    citation: str
    population: str
    note: str = ""


# docs/clinical.md §5.1
HR_MAX_FORMULAS: dict[HrMaxMethod, HrMaxFormula] = {
    HrMaxMethod.TANAKA: HrMaxFormula(
        method=HrMaxMethod.TANAKA,
        name="Tanaka",
        formula="208 − 0.7 × age",
        intercept=208,
        slope=0.7,
        citation="Tanaka, Monahan & Seals 2001",
        population="Healthy adults (meta-analysis); population not restated in the reference set",
        note="Default method.",
    ),
    HrMaxMethod.FOX: HrMaxFormula(
        method=HrMaxMethod.FOX,
        name="Fox",
        formula="220 − age",
        intercept=220,
        slope=1.0,
        citation="Fox; history reviewed by Robergs & Landwehr 2002",
        population="Not stated; the equation's origin is poorly evidenced",
        note="Standard error about 7–11 bpm (Robergs & Landwehr 2002).",
    ),
    HrMaxMethod.GELLISH: HrMaxFormula(
        method=HrMaxMethod.GELLISH,
        name="Gellish",
        formula="207 − 0.7 × age",
        intercept=207,
        slope=0.7,
        citation="Gellish et al. 2007, via a secondary source",
        population="Not stated in the reference set",
    ),
    HrMaxMethod.BETA_BLOCKER: HrMaxFormula(
        method=HrMaxMethod.BETA_BLOCKER,
        name="Beta-blocker equation",
        formula="164 − 0.7 × age",
        intercept=164,
        slope=0.7,
        citation="AEROBICS 2019, via FAME",
        population="People taking beta-blockers",
        note="Even with this equation the reference advises RPE instead of heart-rate targets.",
    ),
}


class HrMaxEstimate(BaseModel):
    """An HRmax figure with the method that produced it."""

    model_config = ConfigDict(frozen=True)

    bpm: int
    exact_bpm: float
    method_name: str
    formula: str
    citation: str
    population: str
    note: str = ""

    @property
    def method_text(self) -> str:
        return f"HRmax {self.bpm} bpm ({self.method_name}: {self.formula})"


def _check_age(age: float) -> None:
    if isinstance(age, bool) or not isinstance(age, int | float) or math.isnan(age):
        raise ValueError("Enter the client's age in years")
    if not AGE_MIN <= age <= AGE_MAX:
        raise ValueError(
            f"Age-predicted maximum heart rate is for adults: age must be {AGE_MIN} to {AGE_MAX}"
        )


def estimate_hr_max(age: float, method: HrMaxMethod = HrMaxMethod.TANAKA) -> HrMaxEstimate:
    """Age-predicted HRmax by the named equation (Tanaka by default)."""
    _check_age(age)
    f = HR_MAX_FORMULAS[HrMaxMethod(method)]
    exact = f.intercept - f.slope * age
    return HrMaxEstimate(
        bpm=round_half_up(exact),
        exact_bpm=round(exact, 2),
        method_name=f.name,
        formula=f.formula,
        citation=f.citation,
        population=f.population,
        note=f.note,
    )


def measured_hr_max(bpm: int) -> HrMaxEstimate:
    """A maximal heart rate measured in an exercise test (entered by the practitioner)."""
    _check_hr(bpm, "Maximum heart rate")
    return HrMaxEstimate(
        bpm=bpm,
        exact_bpm=float(bpm),
        method_name="Measured",
        formula="measured in an exercise test",
        citation="Entered by the practitioner",
        population="This client",
    )


def _check_hr(bpm: float, what: str) -> None:
    if isinstance(bpm, bool) or not isinstance(bpm, int | float) or math.isnan(bpm):
        raise ValueError(f"{what} must be a number of beats per minute")
    if not HR_PLAUSIBLE_MIN <= bpm <= HR_PLAUSIBLE_MAX:
        raise ValueError(
            f"{what} must be between {HR_PLAUSIBLE_MIN} and {HR_PLAUSIBLE_MAX} bpm: "
            "check the reading"
        )


# --- Intensity bands (ACSM, docs/clinical.md §5.3) ---------------------------------------


class IntensityLevel(StrEnum):
    LIGHT = "light"
    MODERATE = "moderate"
    VIGOROUS = "vigorous"
    NEAR_MAXIMAL = "near_maximal"


class IntensityBand(BaseModel):
    """One ACSM intensity band. Ranges are inclusive (low, high); None = not in the reference."""

    model_config = ConfigDict(frozen=True)

    level: IntensityLevel
    label: str
    rpe_6_20: tuple[int, int]
    pct_hrr: tuple[int, int] | None
    pct_hrmax: tuple[int, int] | None
    citation: str = "ACSM GETP 10th ed. via BJSM table adapted from ACSM/Garber 2011 and PMC8581515"
    population: str = "Adults (ACSM exercise prescription)"
    note: str = ""


# %HRR conflict (docs/clinical.md §5.3): BJSM gives vigorous 60–89% and near-maximal ≥90%; the
# second ACSM 10th-ed. table (PMC8581515) gives vigorous 60–84% and ≥85% "very hard". Until resolved
# against GETP we use the conservative reading: vigorous stops at 84% and 85% counts as
# near-maximal, so targets stay lower and high efforts are named as such.
_HRR_NOTE = (
    "Sources differ on the vigorous %HRR band (60–89% vs 60–84%); the lower, conservative "
    "limit is used until checked against ACSM GETP."
)

INTENSITY_BANDS: dict[IntensityLevel, IntensityBand] = {
    IntensityLevel.LIGHT: IntensityBand(
        level=IntensityLevel.LIGHT,
        label="Light",
        rpe_6_20=(9, 11),
        pct_hrr=(30, 39),
        pct_hrmax=(57, 63),
    ),
    IntensityLevel.MODERATE: IntensityBand(
        level=IntensityLevel.MODERATE,
        label="Moderate",
        rpe_6_20=(12, 13),
        pct_hrr=(40, 59),
        pct_hrmax=(64, 76),
    ),
    IntensityLevel.VIGOROUS: IntensityBand(
        level=IntensityLevel.VIGOROUS,
        label="Vigorous",
        rpe_6_20=(14, 17),
        pct_hrr=(60, 84),
        pct_hrmax=(77, 95),
        note=_HRR_NOTE,
    ),
    IntensityLevel.NEAR_MAXIMAL: IntensityBand(
        level=IntensityLevel.NEAR_MAXIMAL,
        label="Near-maximal",
        rpe_6_20=(18, 20),
        pct_hrr=(85, 100),
        # The reference gives no %HRmax figure above the vigorous band.
        pct_hrmax=None,
        note=_HRR_NOTE,
    ),
}


# --- RPE scales ------------------------------------------------------------------------


class RpeScale(StrEnum):
    BORG_6_20 = "borg_6_20"
    CR10 = "cr10"


RPE_SCALE_LABELS = {RpeScale.BORG_6_20: "Borg RPE 6–20", RpeScale.CR10: "Borg CR10 (0–10)"}


def rpe_intensity(value: int) -> IntensityLevel | None:
    """ACSM intensity for a Borg 6–20 rating; None for 6–8 (below the light band: the reference
    gives no descriptor there)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 6 <= value <= 20:
        raise ValueError("On the Borg 6–20 scale, enter a whole number from 6 to 20")
    for band in INTENSITY_BANDS.values():
        low, high = band.rpe_6_20
        if low <= value <= high:
            return band.level
    return None


class RpeRating(BaseModel):
    """A rating of perceived exertion, with the scale named.

    Borg 6–20: whole numbers 6 to 20. CR10: 0 to 10 (decimals allowed). The reference maps
    only the 6–20 scale to intensity words; CR10 has no mapping there, so ``intensity`` is None.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: RpeScale
    value: float

    @model_validator(mode="after")
    def _range(self) -> RpeRating:
        if self.scale == RpeScale.BORG_6_20:
            if self.value != int(self.value) or not 6 <= self.value <= 20:
                raise ValueError("On the Borg 6–20 scale, enter a whole number from 6 to 20")
        elif not 0 <= self.value <= 10:
            raise ValueError("On the CR10 scale, enter a number from 0 to 10")
        return self

    @property
    def intensity(self) -> IntensityLevel | None:
        if self.scale == RpeScale.BORG_6_20:
            return rpe_intensity(int(self.value))
        return None

    @property
    def text(self) -> str:
        shown = f"{self.value:g}"
        return f"RPE {shown} ({RPE_SCALE_LABELS[self.scale]})"


# --- Karvonen ------------------------------------------------------------------------


KARVONEN_CITATION = "Karvonen / heart-rate reserve, via FAME"  # docs/clinical.md §5.2
USE_RPE_CITATION = (  # docs/clinical.md §5.4
    "Flag beta-blocker users: use RPE instead of HR targets (FAME, after AEROBICS 2019)"
)


class TargetHeartRate(BaseModel):
    """A Karvonen target range, or the advice to use RPE instead.

    When ``use_rpe`` is True no heart-rate numbers are given (``low_bpm``/``high_bpm`` are
    None) and ``advice`` says what to use instead.
    """

    model_config = ConfigDict(frozen=True)

    use_rpe: bool
    low_bpm: int | None = None
    high_bpm: int | None = None
    intensity_low_pct: float
    intensity_high_pct: float
    resting_bpm: int | None = None
    hr_max: HrMaxEstimate | None = None
    method_text: str
    advice: str = ""
    citation: str


class KarvonenInput(BaseModel):
    """Validated inputs for a Karvonen range (plain-words errors for the form)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resting_bpm: int
    intensity_low_pct: float
    intensity_high_pct: float

    @field_validator("resting_bpm")
    @classmethod
    def _resting(cls, value: int) -> int:
        _check_hr(value, "Resting heart rate")
        return value

    @field_validator("intensity_low_pct", "intensity_high_pct")
    @classmethod
    def _pct(cls, value: float) -> float:
        if not 0 < value <= 100:
            raise ValueError("Intensity must be a percentage above 0 and at most 100")
        return value

    @model_validator(mode="after")
    def _order(self) -> KarvonenInput:
        if self.intensity_low_pct > self.intensity_high_pct:
            raise ValueError("The lower intensity must not be above the upper intensity")
        return self


def _pct_text(value: float) -> str:
    return f"{value:g}%"


def _band_for_hrr(low: float, high: float) -> IntensityBand | None:
    for band in INTENSITY_BANDS.values():
        if band.pct_hrr and band.pct_hrr[0] <= low and high <= band.pct_hrr[1]:
            return band
    return None


def _rpe_advice(low: float, high: float) -> str:
    band = _band_for_hrr(low, high)
    if band is not None:
        lo, hi = band.rpe_6_20
        aim = f"For {band.label.lower()} intensity, aim for RPE {lo}–{hi} on the Borg 6–20 scale."
    else:
        aim = (
            "On the Borg 6–20 scale: light 9–11, moderate 12–13, vigorous 14–17, "
            "near-maximal 18 or more."
        )
    return (
        "Do not use heart-rate targets for this client: their medication can blunt the "
        f"heart-rate response. Use RPE instead. {aim} (ACSM intensity bands)"
    )


def karvonen_target(
    age: float | None,
    resting_bpm: int,
    intensity_low_pct: float,
    intensity_high_pct: float,
    *,
    method: HrMaxMethod = HrMaxMethod.TANAKA,
    hr_max_bpm: int | None = None,
    hr_response_altered: bool = False,
) -> TargetHeartRate:
    """Karvonen target range: resting + intensity × (HRmax − resting), rounded half up.

    HRmax is ``hr_max_bpm`` if measured, else age-predicted by ``method`` (Tanaka by default).
    If ``hr_response_altered`` (e.g. beta-blockers) no heart-rate range is returned: the
    result says to use RPE instead (docs/clinical.md §5.4).
    """
    inp = KarvonenInput(
        resting_bpm=resting_bpm,
        intensity_low_pct=intensity_low_pct,
        intensity_high_pct=intensity_high_pct,
    )
    low_pct, high_pct = inp.intensity_low_pct, inp.intensity_high_pct
    if hr_response_altered:
        return TargetHeartRate(
            use_rpe=True,
            intensity_low_pct=low_pct,
            intensity_high_pct=high_pct,
            method_text="RPE instead of heart rate (heart-rate response altered by medication)",
            advice=_rpe_advice(low_pct, high_pct),
            citation=USE_RPE_CITATION,
        )
    if hr_max_bpm is not None:
        hr_max = measured_hr_max(hr_max_bpm)
    elif age is None:
        raise ValueError("Enter the client's age or a measured maximum heart rate")
    else:
        hr_max = estimate_hr_max(age, method)
    if inp.resting_bpm >= hr_max.bpm:
        raise ValueError("Resting heart rate must be below the maximum heart rate")
    reserve = hr_max.bpm - inp.resting_bpm
    low = round_half_up(inp.resting_bpm + low_pct / 100 * reserve)
    high = round_half_up(inp.resting_bpm + high_pct / 100 * reserve)
    text = (
        f"Karvonen (heart-rate reserve): {inp.resting_bpm} + "
        f"{_pct_text(low_pct)}–{_pct_text(high_pct)} × ({hr_max.bpm} − {inp.resting_bpm}) "
        f"= {low}–{high} bpm; {hr_max.method_text}"
    )
    return TargetHeartRate(
        use_rpe=False,
        low_bpm=low,
        high_bpm=high,
        intensity_low_pct=low_pct,
        intensity_high_pct=high_pct,
        resting_bpm=inp.resting_bpm,
        hr_max=hr_max,
        method_text=text,
        citation=KARVONEN_CITATION,
    )


def karvonen_target_for_intensity(
    level: IntensityLevel,
    age: float | None,
    resting_bpm: int,
    *,
    method: HrMaxMethod = HrMaxMethod.TANAKA,
    hr_max_bpm: int | None = None,
    hr_response_altered: bool = False,
) -> TargetHeartRate:
    """Karvonen range for an ACSM intensity band (its %HRR limits, docs/clinical.md §5.3)."""
    band = INTENSITY_BANDS[IntensityLevel(level)]
    assert band.pct_hrr is not None
    low, high = band.pct_hrr
    return karvonen_target(
        age,
        resting_bpm,
        low,
        high,
        method=method,
        hr_max_bpm=hr_max_bpm,
        hr_response_altered=hr_response_altered,
    )


# --- The session log's target line (docs/clinical.md §5.2, §5.3) --------------------------
# Karvonen / heart-rate reserve with Tanaka 2001 HRmax (208 − 0.7 × age; §5.1), and "flag
# beta-blocker users: use RPE instead of HR targets" (FAME, docs/clinical.md §5.4); the %HRR
# bands are ACSM GETP 10th ed. (BJSM table adapted from ACSM/Garber 2011, docs/clinical.md §5.3).


def session_target_text(
    level: IntensityLevel,
    age: float | None,
    resting_bpm: int | None,
    *,
    hr_response_altered: bool = False,
) -> tuple[str, bool]:
    """(the session log's target line, use RPE?) for one intensity band.

    The line starts with the band ("Moderate (40–59% HRR)"), so ``intensity_of_target_text``
    reads the band back from a stored log. With a medication that alters the heart-rate
    response it gives RPE advice and no numbers; without a resting heart rate it says what to
    enter; otherwise the Karvonen range with the method named.

    >>> session_target_text(IntensityLevel.MODERATE, 60, 70)[0]
    'Moderate (40–59% HRR): 108–127 bpm. Karvonen (heart-rate reserve): 70 + 40%–59% × (166 − 70); HRmax 166 bpm (Tanaka: 208 − 0.7 × age)'
    """
    band = INTENSITY_BANDS[IntensityLevel(level)]
    head = (
        f"{band.label} ({band.pct_hrr[0]}–{band.pct_hrr[1]}% HRR)" if band.pct_hrr else band.label
    )
    if hr_response_altered:
        target = karvonen_target_for_intensity(level, None, 60, hr_response_altered=True)
        return f"{head}: use RPE. {target.advice}", True
    if resting_bpm is None:
        return (
            f"{head}: enter the resting heart rate before exercise to see the target range "
            "(Karvonen with Tanaka HRmax).",
            False,
        )
    try:
        target = karvonen_target_for_intensity(level, age, resting_bpm)
    except ValueError as exc:
        return f"{head}: no target range ({exc}).", False
    assert target.hr_max is not None
    method = target.method_text.split("= ", 1)[0].rstrip() + f"; {target.hr_max.method_text}"
    return f"{head}: {target.low_bpm}–{target.high_bpm} bpm. {method}", False


def intensity_of_target_text(text: str) -> IntensityLevel:
    """The band a stored target line was written for (moderate when it names none)."""
    for level, band in INTENSITY_BANDS.items():
        if text.startswith(band.label + " ("):
            return level
    return IntensityLevel.MODERATE
