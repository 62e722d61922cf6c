"""Caseload analytics: mean change per measure by program, by condition and by referral
source, how many clients improved beyond the MCID, and the share meeting their program's
discharge criteria (discharged and active programs counted apart).

Pure (no I/O). ``services/documents.py`` turns each client's outcomes into one
``CaseloadEntry``; the caseload screen and the outcomes summary letter to a referring
provider are both built from ``summarise`` over those entries, so they show the same numbers.

Choices (PRODUCT.md "Beyond what practice software does today"):
- One entry per client: their current program (the active one, else the latest), the same
  episode the progress report shows. "Clients" therefore counts people, not programs.
- A measure counts for a client when it has a baseline and a later value in that program;
  the change is latest − baseline in the measure's unit (its sign is not "better": the table
  says which direction is better).
- MCID share: clients whose change reached the MCID in the better direction, out of the
  clients whose change could be compared with an MCID on file for them (a measure without a
  published MCID for the client's population is not counted as "not reached").
- Discharge criteria: met / clients whose program has criteria. "Cannot be judged yet" (a
  measure not assessed) counts as not met and is shown separately.
- Condition: the ICD-10 category (first three characters) of the referral's first
  diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

EpisodeStatus = Literal["active", "discharged", "none"]
CriteriaState = Literal["met", "not_met", "unknown"]
Dimension = Literal["program", "condition", "provider"]

NO_PROGRAM = "No program"
NO_CONDITION = "No diagnosis on file"
NO_PROVIDER = "No referring provider"
DIRECTION_WORDS = {
    "higher_is_better": "higher is better",
    "lower_is_better": "lower is better",
}


@dataclass(frozen=True)
class MeasureChange:
    """One client's change from baseline on one measure."""

    measure_id: str
    name: str
    unit: str
    difference: float  # latest − baseline
    trend: str  # improved / worse / no_change (up / down when no better direction)
    mcid: str  # improved / worse / no / none (no MCID on file)
    direction: str = ""
    decimals: int = 1


@dataclass(frozen=True)
class CaseloadEntry:
    """One client's current program, as the caseload needs it."""

    client_id: str
    provider_id: str = ""
    provider_name: str = ""
    program: str = ""
    condition: str = ""  # ICD-10 category, e.g. "M17"
    condition_label: str = ""  # the diagnosis as written on the referral
    status: EpisodeStatus = "none"
    criteria: CriteriaState | None = None  # None: no program, or no criteria set
    changes: tuple[MeasureChange, ...] = ()


def _decimals_of(values: Iterable[float]) -> int:
    best = 0
    for v in values:
        text = f"{v:.3f}".rstrip("0").rstrip(".")
        best = max(best, len(text.partition(".")[2]))
    return min(best, 2)


def change_from_row(row: Any) -> MeasureChange | None:
    """The change from baseline of an ``outcomes.ReportRow`` (None without a baseline and a
    later value)."""
    if row.change is None or row.baseline is None or row.current is None:
        return None
    c = row.change.since_baseline
    if c.exceeds_mcid is None:
        mcid = "none"
    elif c.meaningful_improvement:
        mcid = "improved"
    elif c.meaningful_worsening:
        mcid = "worse"
    else:
        mcid = "no"
    return MeasureChange(
        measure_id=row.measure_id,
        name=row.measure_name,
        unit=row.unit,
        difference=float(c.difference),
        trend=c.trend,
        mcid=mcid,
        direction=row.direction,
        decimals=_decimals_of(o.value for o in row.history),
    )


def _signed(value: float, decimals: int) -> str:
    text = f"{abs(value):.{decimals}f}"
    if float(text) == 0:
        return "±" + text
    return ("+" if value > 0 else "−") + text


def _share(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _share_text(part: int, whole: int) -> str:
    if not whole:
        return "—"
    return f"{part} of {whole} ({_share(part, whole)}%)"


@dataclass(frozen=True)
class MeasureSummary:
    measure_id: str
    name: str
    unit: str
    direction: str
    clients: int  # clients with a baseline and a later value
    mean_change: float
    improved: int  # changed in the better direction (any amount)
    worse: int
    mcid_known: int  # clients with an MCID on file to compare with
    mcid_improved: int  # improved by at least the MCID
    decimals: int = 1

    @property
    def mean_text(self) -> str:
        return _signed(self.mean_change, min(self.decimals + 1, 2))

    @property
    def mcid_share(self) -> int | None:
        """Percent of clients with an MCID on file who improved by at least it."""
        return _share(self.mcid_improved, self.mcid_known)

    @property
    def mcid_text(self) -> str:
        return _share_text(self.mcid_improved, self.mcid_known)

    @property
    def direction_text(self) -> str:
        return DIRECTION_WORDS.get(self.direction, "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.measure_id,
            "name": self.name,
            "unit": self.unit,
            "direction": self.direction_text,
            "clients": self.clients,
            "mean_change": self.mean_text,
            "improved": self.improved,
            "worse": self.worse,
            "mcid": self.mcid_improved,
            "mcid_known": self.mcid_known,
            "mcid_share": self.mcid_share,
            "mcid_text": self.mcid_text,
        }


@dataclass(frozen=True)
class CriteriaShare:
    """Clients (of one episode status) whose program has discharge criteria, and how many
    meet them on their latest values."""

    status: EpisodeStatus
    clients: int  # with criteria set
    met: int
    unknown: int  # cannot be judged yet (counted as not met)

    @property
    def share(self) -> int | None:
        return _share(self.met, self.clients)

    @property
    def text(self) -> str:
        return _share_text(self.met, self.clients)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "met": self.met,
            "unknown": self.unknown,
            "share": self.share,
            "text": self.text,
        }


@dataclass(frozen=True)
class CaseloadGroup:
    key: str
    label: str
    clients: int
    measures: tuple[MeasureSummary, ...]
    discharged: CriteriaShare
    active: CriteriaShare

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (kept in a sent outcomes letter's snapshot)."""
        return {
            "key": self.key,
            "label": self.label,
            "clients": self.clients,
            "measures": [m.as_dict() for m in self.measures],
            "discharged": self.discharged.as_dict(),
            "active": self.active.as_dict(),
        }


def summarise_measures(entries: Sequence[CaseloadEntry]) -> tuple[MeasureSummary, ...]:
    """Per measure across the entries: clients, mean change, improved / worse, MCID share.
    Most-measured first, then by name."""
    by: dict[str, list[MeasureChange]] = {}
    for e in entries:
        seen: set[str] = set()
        for ch in e.changes:
            if ch.measure_id in seen:  # one change per client and measure
                continue
            seen.add(ch.measure_id)
            by.setdefault(ch.measure_id, []).append(ch)
    out = []
    for mid, changes in by.items():
        first = changes[0]
        n = len(changes)
        out.append(
            MeasureSummary(
                measure_id=mid,
                name=first.name,
                unit=first.unit,
                direction=first.direction,
                clients=n,
                mean_change=sum(c.difference for c in changes) / n,
                improved=sum(c.trend == "improved" for c in changes),
                worse=sum(c.trend == "worse" for c in changes),
                mcid_known=sum(c.mcid != "none" for c in changes),
                mcid_improved=sum(c.mcid == "improved" for c in changes),
                decimals=max(c.decimals for c in changes),
            )
        )
    return tuple(sorted(out, key=lambda m: (-m.clients, m.name.lower())))


def criteria_share(entries: Sequence[CaseloadEntry], status: EpisodeStatus) -> CriteriaShare:
    judged = [e for e in entries if e.status == status and e.criteria is not None]
    return CriteriaShare(
        status=status,
        clients=len(judged),
        met=sum(e.criteria == "met" for e in judged),
        unknown=sum(e.criteria == "unknown" for e in judged),
    )


def summarise(entries: Sequence[CaseloadEntry], key: str = "", label: str = "") -> CaseloadGroup:
    return CaseloadGroup(
        key=key,
        label=label,
        clients=len({e.client_id for e in entries}),
        measures=summarise_measures(entries),
        discharged=criteria_share(entries, "discharged"),
        active=criteria_share(entries, "active"),
    )


_KEYS: dict[str, Callable[[CaseloadEntry], tuple[str, str]]] = {
    "program": lambda e: (e.program, e.program or NO_PROGRAM),
    "condition": lambda e: (e.condition, e.condition or NO_CONDITION),
    "provider": lambda e: (e.provider_id, e.provider_name or NO_PROVIDER),
}


def group_by(entries: Sequence[CaseloadEntry], dimension: Dimension) -> list[CaseloadGroup]:
    """One group per program / condition / referring provider, largest first; the group of
    entries without one ("No program" …) last."""
    buckets: dict[str, tuple[str, list[CaseloadEntry]]] = {}
    keyer = _KEYS[dimension]
    for e in entries:
        key, label = keyer(e)
        buckets.setdefault(key, (label, []))[1].append(e)
    groups = []
    for key, (label, items) in buckets.items():
        if dimension == "condition" and key:
            names = list(dict.fromkeys(e.condition_label for e in items if e.condition_label))
            label = key + (": " + "; ".join(names[:2]) if names else "")
            label += " …" if len(names) > 2 else ""
        groups.append(summarise(items, key, label))
    return sorted(groups, key=lambda g: (g.key == "", -g.clients, g.label.lower()))


@dataclass(frozen=True)
class Caseload:
    overall: CaseloadGroup
    by_program: list[CaseloadGroup] = field(default_factory=list)
    by_condition: list[CaseloadGroup] = field(default_factory=list)
    by_provider: list[CaseloadGroup] = field(default_factory=list)


def caseload(entries: Sequence[CaseloadEntry]) -> Caseload:
    return Caseload(
        overall=summarise(entries, "", "All clients"),
        by_program=group_by(entries, "program"),
        by_condition=group_by(entries, "condition"),
        by_provider=group_by(entries, "provider"),
    )


def condition_of(diagnoses: Sequence[Any]) -> tuple[str, str]:
    """(ICD-10 category, description) of the first diagnosis (``code``/``description``)."""
    for d in diagnoses:
        code = str(getattr(d, "code", "") or "").strip().upper()
        if code:
            return code.replace(".", "")[:3], str(getattr(d, "description", "") or "")
    return "", ""
