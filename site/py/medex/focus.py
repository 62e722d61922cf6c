"""Focus: the practice offers a few outcome-based programs, and a referral that fits none of
them is a decision, not a default ("taking every client to pay the bills" is one of the ways a
practice loses its focus; docs/clinical.md §8.6).

- ``outside_programs``: a referral's diagnoses match none of the practice's programs;
- ``FocusDecision``: what the practitioner chose for such a referral (kept on the referral);
- ``caseload_by_program``: active clients per program, for the home screen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .programs import Episode, ProgramTemplate, suggest_programs


class FocusDecision(StrEnum):
    ACCEPTED = "accepted"  # accepted although outside the practice's programs
    REFERRED_ON = "referred_on"  # referred on to another professional


FOCUS_DECISION_LABELS = {
    FocusDecision.ACCEPTED: "Accepted anyway",
    FocusDecision.REFERRED_ON: "Referred on",
}

OUTSIDE_PROGRAMS = "Outside your programs"


def outside_programs(diagnosis_codes: Iterable[str], programs: Sequence[ProgramTemplate]) -> bool:
    """True when the referral has at least one diagnosis code and none of them matches a
    diagnosis of any of the practice's programs (archived programs are not offered).

    >>> from medex.programs import default_program
    >>> outside_programs(["M17.11"], [default_program("post_tkr")])
    False
    >>> outside_programs(["J44.9"], [default_program("post_tkr")])
    True
    >>> outside_programs([], [default_program("post_tkr")])
    False
    """
    codes = [c for c in diagnosis_codes if c and c.strip()]
    if not codes:
        return False
    return not suggest_programs(codes, programs)


@dataclass(frozen=True, slots=True)
class ProgramCount:
    name: str
    clients: int
    share: float  # of all active clients on a program (0–1)


def caseload_by_program(episodes: Iterable[Episode]) -> list[ProgramCount]:
    """Active clients per program (one per client: their active episode), most clients first,
    then by name."""
    current: dict[str, Episode] = {}
    for e in episodes:
        if not e.is_active:
            continue
        seen = current.get(e.client_id)
        if seen is None or (e.start_date, e.created_at) > (seen.start_date, seen.created_at):
            current[e.client_id] = e
    return program_counts(e.program.name for e in current.values())


def program_counts(programs: Iterable[str]) -> list[ProgramCount]:
    """``caseload_by_program`` from each active client's program name."""
    counts = Counter(programs)
    total = sum(counts.values())
    rows = [ProgramCount(name, n, n / total) for name, n in counts.items()]
    return sorted(rows, key=lambda r: (-r.clients, r.name.lower()))
