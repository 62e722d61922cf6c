"""Every published source the app's numbers and rules come from, for the Sources page.

Screens and documents cite a source by author and year only; this list gives each one in
full, with what it is used for. Gathered from the catalogues themselves (outcome measures,
session safety rules, heart-rate formulas, screening, medication classes), so a new number
with a new source appears here without a second list to keep. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import health, heart_rate, measures, safety, screening


@dataclass
class SourceEntry:
    citation: str
    used_for: list[str] = field(default_factory=list)
    population: str = ""
    evidence: str = ""  # how the number was read: "primary", "two agreeing secondaries" …
    web_address: str = ""  # where it can be read (this page only; never on a document)


@dataclass
class SourceGroup:
    title: str
    entries: list[SourceEntry]


def _add(
    into: dict[str, SourceEntry],
    citation: str,
    used_for: str,
    *,
    population: str = "",
    evidence: str = "",
    web_address: str = "",
) -> None:
    citation = " ".join(citation.split())
    if not citation:
        return
    entry = into.setdefault(citation, SourceEntry(citation))
    if used_for and used_for not in entry.used_for:
        entry.used_for.append(used_for)
    entry.population = entry.population or population
    entry.evidence = entry.evidence or evidence
    entry.web_address = entry.web_address or web_address


def _measure_sources() -> dict[str, SourceEntry]:
    out: dict[str, SourceEntry] = {}
    for m in measures.CATALOGUE.values():

        def add(src: measures.Source, what: str, m: measures.MeasureDefinition = m) -> None:
            _add(
                out,
                src.citation,
                f"{m.name}: {what}",
                population=src.population,
                evidence=src.confidence,
                web_address=src.web_address,
            )

        for n in m.norms:
            add(n.source, "age norms")
        for r in m.reference_values:
            add(r.source, "reference values")
        for c in m.cutoffs:
            add(c.source, c.meaning.lower())
        for t in m.mdc:
            add(t.source, "minimal detectable change")
        for t in m.mcid:
            add(t.source, "minimal clinically important difference")
        for b in m.bands:
            add(b.source, b.name.lower())
        if m.loinc_source is not None:
            add(m.loinc_source, "LOINC code")
    return out


def _safety_sources() -> dict[str, SourceEntry]:
    out: dict[str, SourceEntry] = {}
    for rule in safety.RULES.values():
        _add(out, rule.source, rule.title, population=rule.population)
    return out


def _intensity_sources() -> dict[str, SourceEntry]:
    out: dict[str, SourceEntry] = {}
    for f in heart_rate.HR_MAX_FORMULAS.values():
        what = f"Age-predicted maximum heart rate ({f.name}: {f.formula})"
        _add(out, f.citation, what, population=f.population)
    for b in heart_rate.INTENSITY_BANDS.values():
        _add(out, b.citation, f"Intensity band: {b.label}", population=b.population)
    _add(out, heart_rate.KARVONEN_CITATION, "Target heart rate from heart-rate reserve")
    _add(out, heart_rate.USE_RPE_CITATION, "Effort (RPE) instead of heart rate")
    for info in health.MEDICATION_CLASSES.values():
        _add(out, info.source, f"Medication: {info.label}")
    return out


def _screening_sources() -> dict[str, SourceEntry]:
    out: dict[str, SourceEntry] = {}
    _add(out, screening.ACSM_CITATION, "Pre-participation screening (ACSM algorithm)")
    _add(out, screening.PARQ_CITATION, "Physical activity readiness questionnaire")
    _add(
        out,
        "Colberg et al. 2016, Diabetes Care 39:2065 (American Diabetes Association)",
        "Diabetes and medical clearance (shown beside the ACSM result)",
    )
    return out


def source_groups() -> list[SourceGroup]:
    """The sources by area, each sorted by citation."""

    def group(title: str, found: dict[str, SourceEntry]) -> SourceGroup:
        return SourceGroup(title, sorted(found.values(), key=lambda e: e.citation.lower()))

    return [
        group("Outcome measures: norms, cut-offs and meaningful change", _measure_sources()),
        group("Session safety", _safety_sources()),
        group("Heart rate, intensity and medications", _intensity_sources()),
        group("Pre-participation screening", _screening_sources()),
    ]
