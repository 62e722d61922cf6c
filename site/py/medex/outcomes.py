"""Interpretation of outcome-measure values: validity, age/sex norms, cut-off flags, change
against MDC/MCID, and one report row per measure.

Pure functions over ``measures.MeasureDefinition`` (or a ``CustomMeasure``, or a catalogue
id). Results are small frozen dataclasses, cheap to build: a report of 20 measures × 30
assessments stays well under the 20 ms budget in Pyodide. Norm look-ups are precomputed at
import.

Conventions
- Age is in completed years (a float is truncated: 64.9 → 64). Age bands are inclusive, as
  printed in the tables (60–64, 65–69 …). Outside the published bands there is no norm: the
  app never extrapolates.
- ``NormResult.status`` speaks of performance: "below" means worse than the normal range
  (for a timed test, slower than its upper time), "above" means better.
- A change "exceeds" the MDC or MCID when its size is equal to or larger than the value.
  MCIDs are applied in both directions (the same size for improvement and for worsening).
- MDC/MCID values measured in one condition (knee OA, low back pain, stroke, fallers) are
  used only for clients with that condition (``conditions=``), preferred over the general
  value when they apply.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from .measures import (
    CATALOGUE,
    ChangeThreshold,
    CustomMeasure,
    Cutoff,
    MeasureDefinition,
    NormBand,
    ReferenceValue,
    Source,
    band_label,
    check_value,
    format_number,
    format_quantity,
    get_measure,
)

MeasureLike = MeasureDefinition | CustomMeasure | str

NormStatus = Literal["below", "within", "above", "no_norm"]
Trend = Literal["improved", "worse", "no_change", "up", "down"]

_EPS = 1e-9


def as_definition(measure: MeasureLike) -> MeasureDefinition:
    if isinstance(measure, MeasureDefinition):
        return measure
    if isinstance(measure, CustomMeasure):
        return measure.to_definition()
    if isinstance(measure, str):
        return get_measure(measure)
    raise TypeError("Expected a measure definition, a custom measure or a measure id")


def normalise_sex(sex: Any) -> str | None:
    """'female' / 'male' from common spellings; anything else (or blank) is unknown."""
    if sex is None:
        return None
    s = str(getattr(sex, "value", sex)).strip().lower()
    if s in ("female", "f", "woman", "women"):
        return "female"
    if s in ("male", "m", "man", "men"):
        return "male"
    return None


def _age_years(age: Any) -> int | None:
    if age is None or isinstance(age, bool):
        return None
    try:
        a = float(age)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(a) or a < 0:
        return None
    return int(a)


# ---------------------------------------------------------------------------------------------
# Precomputed norm look-ups
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _NormIndex:
    by_key: dict[tuple[str, int], NormBand]
    sexes: frozenset[str | None]
    age_min: int
    age_max: int


def _build_index(measure: MeasureDefinition) -> _NormIndex | None:
    if not measure.norms:
        return None
    by_key: dict[tuple[str, int], NormBand] = {}
    for band in measure.norms:
        for sex in ("female", "male") if band.sex is None else (band.sex,):
            for age in range(band.age_min, band.age_max + 1):
                by_key[(sex, age)] = band
    return _NormIndex(
        by_key=by_key,
        sexes=frozenset(b.sex for b in measure.norms),
        age_min=min(b.age_min for b in measure.norms),
        age_max=max(b.age_max for b in measure.norms),
    )


_INDEX: dict[str, _NormIndex | None] = {mid: _build_index(m) for mid, m in CATALOGUE.items()}


def _index_for(measure: MeasureDefinition) -> _NormIndex | None:
    if CATALOGUE.get(measure.id) is measure:
        return _INDEX[measure.id]
    return _build_index(measure)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def validate_value(measure: MeasureLike, value: Any) -> float:
    """The value as a float; ValueError with a plain message if it is not a number or lies
    outside the valid range ("Timed Up and Go must be more than 0 and at most 300 s")."""
    return check_value(as_definition(measure), value)


def is_valid(measure: MeasureLike, value: Any) -> bool:
    try:
        validate_value(measure, value)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NormResult:
    status: NormStatus
    sentence: str
    band: NormBand | None = None
    label: str | None = None  # "women 70–74"
    low: float | None = None
    high: float | None = None
    source: Source | None = None
    reference: ReferenceValue | None = None  # a published mean/median shown for context
    words: str = ""  # the source's own words for where the value sits ("" = the generic ones)

    @property
    def has_norm(self) -> bool:
        return self.status != "no_norm"


NO_NORM = "No published norm on file"


def _reference_for(
    measure: MeasureDefinition, age: int | None, sex: str | None
) -> ReferenceValue | None:
    for ref in measure.reference_values:
        if ref.sex is not None and ref.sex != sex:
            continue
        if ref.age_min is not None and (age is None or age < ref.age_min):
            continue
        if ref.age_max is not None and (age is None or age > ref.age_max):
            continue
        return ref
    return None


def _reference_sentence(measure: MeasureDefinition, ref: ReferenceValue | None) -> str:
    """' Reference value: the published mean for women 70–79 is 9 s (SD 2) (Steffen …); …'.

    A reference value is an average, shown for context and never used to flag a client.
    """
    if ref is None:
        return ""
    sd = f" (SD {format_number(ref.sd, measure.decimals)})" if ref.sd is not None else ""
    note = f" {ref.notes}" if ref.notes else ""
    return (
        f" Reference value: the published {ref.statistic} for {ref.label} is "
        f"{format_quantity(measure, ref.value)}{sd} ({ref.source.citation}); an average, not "
        f"a normal range.{note}"
    )


def _no_norm(measure: MeasureDefinition, why: str, age: int | None, sex: str | None) -> NormResult:
    ref = _reference_for(measure, age, sex)
    sentence = f"{NO_NORM}{why}.{_reference_sentence(measure, ref)}"
    return NormResult(status="no_norm", sentence=sentence, reference=ref)


def norm_band(measure: MeasureLike, value: Any, age: Any, sex: Any) -> NormResult:
    """Where the value sits against the published age/sex normal range, or no norm on file."""
    m = as_definition(measure)
    x = check_value(m, value)
    a = _age_years(age)
    s = normalise_sex(sex)
    index = _index_for(m)
    if index is None:
        return _no_norm(m, "", a, s)
    if a is None:
        return _no_norm(m, " (age not recorded)", a, s)
    if s is None and None not in index.sexes:
        return _no_norm(m, " (the published ranges are by sex, and sex is not recorded)", a, s)
    band = index.by_key.get((s, a)) if s else None
    if band is None and s is None:
        band = next((b for b in m.norms if b.sex is None and b.age_min <= a <= b.age_max), None)
    if band is None:
        return _no_norm(
            m,
            f" for age {a} (published ranges cover ages {index.age_min}–{index.age_max})",
            a,
            s,
        )
    lo, hi = band.low, band.high
    under = lo is not None and x < lo - _EPS
    over = hi is not None and x > hi + _EPS
    higher_better = m.direction != "lower_is_better"
    if under:
        status: NormStatus = "below" if higher_better else "above"
    elif over:
        status = "above" if higher_better else "below"
    else:
        status = "within"
    label = band.label
    value_text = format_quantity(m, x)
    if lo is not None and hi is not None:
        sep = " to " if lo < 0 or hi < 0 else "–"
        rng = f"{format_number(lo, m.decimals)}{sep}{format_quantity(m, hi)}"
        where = {
            "within": "within",
            "below": "below average: outside",
            "above": "above average: outside",
        }
        sentence = (
            f"{value_text} is {where[status]} the normal range for {label} ({rng}, "
            f"{band.statistic}; {band.source.citation})."
        )
    else:
        limit = hi if hi is not None else lo
        assert limit is not None  # a band has at least one limit (NormBand._check)
        limit_text = format_quantity(m, limit)
        if band.worse_words:
            # The source's own rule and words (Bohannon 2006: "slower than average for age").
            words = band.not_worse_words if status == "within" else band.worse_words
            if status == "within":
                beyond = "at or below" if hi is not None else "at or above"
            else:
                beyond = "above" if hi is not None else "below"
            sentence = (
                f"{value_text} is {words}: {beyond} {limit_text}, the {band.statistic} "
                f"for {label} ({band.source.citation})."
            )
        elif status == "within":
            sentence = (
                f"{value_text} is not worse than average for {label} (average limit "
                f"{limit_text}; {band.source.citation})."
            )
        else:
            sentence = (
                f"{value_text} is worse than average for {label} (beyond {limit_text}; "
                f"{band.source.citation})."
            )
    ref = _reference_for(m, a, s)
    words_shown = ""
    if band.worse_words:
        chosen = band.not_worse_words if status == "within" else band.worse_words
        words_shown = chosen[:1].upper() + chosen[1:]
    return NormResult(
        status=status,
        sentence=sentence + _reference_sentence(m, ref),
        band=band,
        label=label,
        low=lo,
        high=hi,
        source=band.source,
        reference=ref,
        words=words_shown,
    )


# ---------------------------------------------------------------------------------------------
# Cut-offs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flag:
    meaning: str
    kind: str
    threshold: str  # "below 11 stands for women 65–69"
    source: Source
    population: str
    notes: str = ""

    @property
    def text(self) -> str:
        """'At risk for falls — CDC STEADI 30-Second Chair Stand form'."""
        return f"{self.meaning} — {self.source.citation}"


_CMP_WORDS = {"<": "below", "<=": "at or below", ">": "above", ">=": "at or above"}


def _cutoff_applies(
    c: Cutoff,
    age: int | None,
    sex: str | None,
    conditions: frozenset[str],
    protocol: Mapping[str, Any] | None,
) -> bool:
    if c.condition is not None and c.condition not in conditions:
        return False
    if c.sex is not None and c.sex != sex:
        return False
    if c.age_min is not None or c.age_max is not None:
        if age is None:
            return False
        if c.age_min is not None and age < c.age_min:
            return False
        if c.age_max is not None and age > c.age_max:
            return False
    if protocol and c.requires:
        for key, wanted in c.requires:
            got = protocol.get(key)
            if got not in (None, "") and str(got) != wanted:
                return False
    return True


def cutoff_flags(
    measure: MeasureLike,
    value: Any,
    age: Any = None,
    sex: Any = None,
    *,
    conditions: Iterable[str] = (),
    protocol: Mapping[str, Any] | None = None,
) -> list[Flag]:
    """Published cut-offs this value meets (fall risk, sarcopenia, safety …), with sources.

    Age- or sex-specific cut-offs are skipped when age or sex is unknown; cut-offs published
    for one protocol (e.g. usual pace) are skipped when the recorded protocol differs.
    """
    m = as_definition(measure)
    x = check_value(m, value)
    a = _age_years(age)
    s = normalise_sex(sex)
    conds = frozenset(conditions)
    flags: list[Flag] = []
    for c in m.cutoffs:
        if not _cutoff_applies(c, a, s, conds, protocol) or not c.hit(x):
            continue
        who = ""
        if c.sex is not None or c.age_min is not None or c.age_max is not None:
            who = f" for {band_label(c.sex, c.age_min, c.age_max)}"
        flags.append(
            Flag(
                meaning=c.meaning,
                kind=c.kind,
                threshold=f"{_CMP_WORDS[c.comparison]} {format_quantity(m, c.value)}{who}",
                source=c.source,
                population=c.source.population,
                notes=c.notes,
            )
        )
    return flags


def bands_for(
    measure: MeasureLike, value: Any, age: Any = None, *, conditions: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """(scheme name, band label) for each interpretation scheme that applies."""
    m = as_definition(measure)
    x = check_value(m, value)
    a = _age_years(age)
    conds = frozenset(conditions)
    out: list[tuple[str, str]] = []
    for scheme in m.bands:
        if scheme.condition is not None and scheme.condition not in conds:
            continue
        if scheme.age_min is not None and (a is None or a < scheme.age_min):
            continue
        out.append((scheme.name, scheme.classify(x).label))
    return out


# ---------------------------------------------------------------------------------------------
# Change
# ---------------------------------------------------------------------------------------------


def select_threshold(
    thresholds: Sequence[ChangeThreshold],
    reference: float,
    conditions: Iterable[str] = (),
    level: str = "minimal",
) -> ChangeThreshold | None:
    """The MDC/MCID to use: a value for one of the client's conditions first, otherwise the
    general value; baseline-dependent values by the reference (starting) score."""
    conds = frozenset(conditions)
    general = None
    for t in thresholds:
        if t.alternate or t.level != level or not t.covers(reference):
            continue
        if t.condition is None:
            if general is None:
                general = t
        elif t.condition in conds:
            return t
    return general


@dataclass(frozen=True, slots=True)
class Comparison:
    since: str  # "baseline" / "the previous assessment"
    reference_value: float
    current_value: float
    difference: float  # current − reference
    trend: Trend
    sentence: str
    mdc: ChangeThreshold | None = None
    mcid: ChangeThreshold | None = None
    substantial: ChangeThreshold | None = None
    exceeds_mdc: bool | None = None  # None: no MDC on file
    exceeds_mcid: bool | None = None  # None: no MCID on file
    exceeds_substantial: bool | None = None

    @property
    def real_change(self) -> bool:
        """Beyond measurement error (False when no MDC is on file)."""
        return bool(self.exceeds_mdc)

    @property
    def meaningful_improvement(self) -> bool:
        return (
            self.trend == "improved" and bool(self.exceeds_mcid) and self.exceeds_mdc is not False
        )

    @property
    def meaningful_worsening(self) -> bool:
        return self.trend == "worse" and bool(self.exceeds_mcid) and self.exceeds_mdc is not False


@dataclass(frozen=True, slots=True)
class ChangeResult:
    since_baseline: Comparison
    since_previous: Comparison | None = None


def format_threshold(m: MeasureDefinition, value: float) -> str:
    """A threshold with the decimals it was published with (MDC 2.5 stands, not 2 stands)."""
    decimals = m.decimals
    while decimals < 3 and round(value, decimals) != value:
        decimals += 1
    return format_quantity(m, value, change=True, decimals=decimals)


def _reaches(size: float, threshold: ChangeThreshold | None) -> bool | None:
    if threshold is None:
        return None
    return size + _EPS >= threshold.value


def _beyond_word(size: float, threshold: ChangeThreshold) -> str:
    return "reaching" if abs(size - threshold.value) <= _EPS else "beyond"


def _compare(
    m: MeasureDefinition,
    reference: float,
    current: float,
    since: str,
    conditions: frozenset[str],
) -> Comparison:
    diff = current - reference
    size = round(abs(diff), m.decimals + 3)
    shown = float(format_number(size, m.decimals))
    mdc = select_threshold(m.mdc, reference, conditions)
    mcid = select_threshold(m.mcid, reference, conditions)
    subst = select_threshold(m.mcid, reference, conditions, level="substantial")
    ex_mdc, ex_mcid, ex_sub = _reaches(size, mdc), _reaches(size, mcid), _reaches(size, subst)
    if shown == 0:
        trend: Trend = "no_change"
    elif m.direction == "neither":
        trend = "up" if diff > 0 else "down"
    elif (diff > 0) == (m.direction == "higher_is_better"):
        trend = "improved"
    else:
        trend = "worse"
    q = format_quantity(m, size, change=True)

    def fq(t: ChangeThreshold) -> str:
        return format_threshold(m, t.value)

    if trend == "no_change":
        sentence = f"No change since {since}"
    else:
        verb = {"improved": "Improved", "worse": "Worse", "up": "Up", "down": "Down"}[trend]
        head = f"{verb} by {q} since {since}"
        if mdc is not None and not ex_mdc:
            sentence = f"Changed by {q} since {since}: within measurement error (MDC {fq(mdc)})"
        elif mcid is not None and ex_mcid:
            sentence = f"{head}, {_beyond_word(size, mcid)} the MCID of {fq(mcid)}"
            if subst is not None and ex_sub:
                sentence += f": a substantial change (at least {fq(subst)})"
        elif mdc is not None:  # beyond MDC, MCID missing or not reached
            sentence = f"{head}, {_beyond_word(size, mdc)} the MDC of {fq(mdc)}"
            sentence += (
                f" but below the MCID of {fq(mcid)}" if mcid is not None else " (no MCID on file)"
            )
        elif mcid is not None:
            sentence = f"{head}, below the MCID of {fq(mcid)} (no MDC on file)"
        else:
            sentence = f"{head} (no MDC or MCID on file for this measure and client)"
    return Comparison(
        since=since,
        reference_value=reference,
        current_value=current,
        difference=diff,
        trend=trend,
        sentence=sentence,
        mdc=mdc,
        mcid=mcid,
        substantial=subst,
        exceeds_mdc=ex_mdc,
        exceeds_mcid=ex_mcid,
        exceeds_substantial=ex_sub,
    )


def change(
    measure: MeasureLike,
    baseline: Any,
    previous: Any,
    current: Any,
    *,
    conditions: Iterable[str] = (),
) -> ChangeResult:
    """Change from baseline and from the previous assessment, judged against MDC and MCID in
    the measure's direction. ``previous`` may be ``None`` (only two assessments)."""
    m = as_definition(measure)
    conds = frozenset(conditions)
    b = check_value(m, baseline)
    c = check_value(m, current)
    since_prev = None
    if previous is not None:
        since_prev = _compare(m, check_value(m, previous), c, "the previous assessment", conds)
    return ChangeResult(
        since_baseline=_compare(m, b, c, "baseline", conds), since_previous=since_prev
    )


# ---------------------------------------------------------------------------------------------
# Report row
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observation:
    when: date
    value: float
    protocol: Mapping[str, Any] | None = None
    age: int | None = None  # age at that assessment, if known


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip()[:10])
    raise ValueError("Each assessment needs a date")


_Parts = tuple[date, Any, Mapping[str, Any] | None, int | None]


def _observation_parts(item: Any) -> _Parts:
    """(date, value as given, protocol, age) of a history item; the value is not checked yet
    (``build_row`` checks it and leaves out the ones outside the valid range)."""
    if isinstance(item, Observation):
        return item.when, item.value, item.protocol, item.age
    if type(item) is tuple and len(item) == 2:  # the common case, kept fast
        return _as_date(item[0]), item[1], None, None
    if isinstance(item, Mapping):
        return (
            _as_date(item.get("date", item.get("when"))),
            item.get("value"),
            item.get("protocol"),
            _age_years(item.get("age")),
        )
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) in (2, 3):
        return _as_date(item[0]), item[1], item[2] if len(item) == 3 else None, None
    raise ValueError("Each assessment needs a date and a value")


@dataclass(frozen=True, slots=True)
class ReportRow:
    measure_id: str
    measure_name: str
    unit: str
    direction: str
    history: tuple[Observation, ...]
    current: Observation | None
    baseline: Observation | None
    previous: Observation | None
    current_text: str
    norm: NormResult | None
    baseline_norm: NormResult | None
    flags: tuple[Flag, ...]
    bands: tuple[tuple[str, str], ...]
    change: ChangeResult | None
    notes: tuple[str, ...] = field(default=())

    @property
    def norm_moved(self) -> bool:
        return (
            self.norm is not None
            and self.baseline_norm is not None
            and self.norm.status != self.baseline_norm.status
        )


def _protocol_differences(
    baseline: Mapping[str, Any] | None, current: Mapping[str, Any] | None
) -> list[str]:
    if not baseline or not current:
        return []
    out = []
    for key in sorted(set(baseline) | set(current)):
        a, b = baseline.get(key), current.get(key)
        if a not in (None, "") and b not in (None, "") and a != b:
            out.append(f"{key}: {a} → {b}")
    return out


def interpret(
    measure: MeasureLike,
    history: Iterable[Any],
    age: Any = None,
    sex: Any = None,
    *,
    conditions: Iterable[str] = (),
) -> ReportRow:
    """One report row: latest value, norm (now and at baseline), flags, bands, and change
    from baseline and from the previous assessment.

    ``history`` items are ``(date, value)``, ``(date, value, protocol)``, ``{"date", "value",
    "protocol", "age"}`` or ``Observation``; they are sorted by date (same-day entries keep
    their order). ``age`` is the client's age now; an observation's own ``age`` is used for its
    norm when given. Values outside the valid range are left out with a note.
    """
    m = as_definition(measure)
    conds = frozenset(conditions)
    s = normalise_sex(sex)
    a = _age_years(age)
    notes: list[str] = []
    kept: list[Observation] = []
    dropped = 0
    for item in history:
        when, raw, protocol, obs_age = _observation_parts(item)
        try:
            v = check_value(m, raw)
        except ValueError:
            dropped += 1
            continue
        kept.append(Observation(when, v, protocol, obs_age))
    if dropped:
        notes.append(f"{dropped} value(s) outside the valid range were left out.")
    kept.sort(key=lambda o: o.when)
    hist = tuple(kept)
    if not hist:
        return ReportRow(
            measure_id=m.id,
            measure_name=m.name,
            unit=m.unit,
            direction=m.direction,
            history=(),
            current=None,
            baseline=None,
            previous=None,
            current_text="Not assessed",
            norm=None,
            baseline_norm=None,
            flags=(),
            bands=(),
            change=None,
            notes=tuple(notes),
        )
    current, baseline = hist[-1], hist[0]
    previous = hist[-2] if len(hist) >= 3 else None
    cur_age = current.age if current.age is not None else a
    norm = norm_band(m, current.value, cur_age, s)
    base_norm = None
    if len(hist) >= 2:
        base_age = baseline.age if baseline.age is not None else a
        base_norm = norm_band(m, baseline.value, base_age, s)
    if m.norms or m.cutoffs:
        if cur_age is None and (
            m.norms or any(c.age_min is not None or c.age_max is not None for c in m.cutoffs)
        ):
            notes.append("Age not recorded: age-specific norms and cut-offs were not applied.")
        if s is None and (m.has_sex_specific_norms or any(c.sex for c in m.cutoffs)):
            notes.append("Sex not recorded: sex-specific norms and cut-offs were not applied.")
    flags = tuple(
        cutoff_flags(m, current.value, cur_age, s, conditions=conds, protocol=current.protocol)
    )
    bands = tuple(bands_for(m, current.value, cur_age, conditions=conds))
    chg = None
    if len(hist) >= 2:
        chg = change(
            m,
            baseline.value,
            previous.value if previous is not None else None,
            current.value,
            conditions=conds,
        )
        diffs = _protocol_differences(baseline.protocol, current.protocol)
        if diffs:
            notes.append(
                "Protocol differs from baseline (" + "; ".join(diffs) + "): the change may "
                "not be comparable."
            )
    return ReportRow(
        measure_id=m.id,
        measure_name=m.name,
        unit=m.unit,
        direction=m.direction,
        history=hist,
        current=current,
        baseline=baseline,
        previous=previous,
        current_text=format_quantity(m, current.value),
        norm=norm,
        baseline_norm=base_norm,
        flags=flags,
        bands=bands,
        change=chg,
        notes=tuple(notes),
    )
