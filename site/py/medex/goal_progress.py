"""The client's own goals (PSFS activities) revisited: each activity's score at intake, its
score now (re-rated at each reassessment and at discharge) and whether the goal is met.

The rule (docs/clinical.md §3.1), per activity scored 0 (unable) to 10 (able at the level
before the problem):

- **met**: now 10, or up by at least 3 points: the change one activity must show to be beyond
  measurement error (single-activity MDC, Stratford 1995);
- **partly met**: up by at least 2 points: the whole-point score that reaches the smallest
  important difference (MID 1.3, J Orthop Sports Phys Ther 2014), short of the MDC;
- **not met**: less than that, unchanged or worse;
- **not re-scored**: no reassessment has rated the activity yet.

Pure domain: no I/O. The activities are matched by position (activity 1 at intake is item 1
of the PSFS in every assessment: the assessment form labels the items with the goals' words).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

__all__ = [
    "GOAL_STATUS_LABELS",
    "PSFS_ACTIVITY_MDC",
    "PSFS_PARTLY_MET_POINTS",
    "GoalProgress",
    "goal_progress",
    "goal_status",
]

PSFS_ACTIVITY_MDC = 3  # points, one activity, 90 % CI (Stratford 1995)
PSFS_PARTLY_MET_POINTS = 2  # the MID of 1.3 points on a whole-point scale
PSFS_TOP = 10

GoalStatus = Literal["met", "partly_met", "not_met", "not_rescored"]
GOAL_STATUS_LABELS: dict[str, str] = {
    "met": "Met",
    "partly_met": "Partly met",
    "not_met": "Not met",
    "not_rescored": "Not re-scored yet",
}


class _Activity(Protocol):
    @property
    def activity(self) -> str: ...

    @property
    def score(self) -> int: ...


class _Goals(Protocol):
    @property
    def recorded_on(self) -> date: ...

    @property
    def activities(self) -> Iterable[_Activity]: ...


class _Entry(Protocol):
    @property
    def measure_id(self) -> str: ...

    @property
    def items(self) -> dict[str, int | None]: ...


class _Assessment(Protocol):
    @property
    def assessed_on(self) -> date: ...

    @property
    def kind(self) -> str: ...

    @property
    def measurements(self) -> Iterable[_Entry]: ...


def goal_status(baseline: int, now: int | None) -> GoalStatus:
    """Met / partly met / not met for one PSFS activity (see the module docstring)."""
    if now is None:
        return "not_rescored"
    change = now - baseline
    if now >= PSFS_TOP or change >= PSFS_ACTIVITY_MDC:
        return "met"
    if change >= PSFS_PARTLY_MET_POINTS:
        return "partly_met"
    return "not_met"


@dataclass(frozen=True, slots=True)
class GoalProgress:
    activity: str
    baseline: int
    baseline_on: date
    now: int | None
    now_on: date | None
    status: GoalStatus

    @property
    def status_label(self) -> str:
        return GOAL_STATUS_LABELS[self.status]

    @property
    def change(self) -> int | None:
        return None if self.now is None else self.now - self.baseline

    @property
    def text(self) -> str:
        """'3 → 8 (+5)', or '3 → not re-scored yet'."""
        if self.now is None:
            return f"{self.baseline} → not re-scored yet"
        change = self.now - self.baseline
        return f"{self.baseline} → {self.now} ({change:+d})"


def _item_key(index: int) -> str:
    return f"psfs_{index + 1:02d}"


def goal_progress(goals: _Goals | None, assessments: Iterable[_Assessment]) -> list[GoalProgress]:
    """Each goal activity: its score at the start, its latest re-score and the status.

    The start is the score recorded with the goals, or the program's baseline assessment
    when it rated the activity again (the episode starts there). A re-score is the activity's
    rating at a later reassessment or discharge assessment (the newest one)."""
    if goals is None:
        return []
    ordered = sorted(assessments, key=lambda a: a.assessed_on)
    baselines = [a for a in ordered if a.kind == "baseline"]
    later = [a for a in reversed(ordered) if a.kind != "baseline"]
    out: list[GoalProgress] = []
    for i, activity in enumerate(goals.activities):
        key = _item_key(i)
        start, start_on = activity.score, goals.recorded_on
        for a in baselines:
            score = _score(a, key)
            if score is not None:
                start, start_on = score, a.assessed_on
                break
        now: int | None = None
        now_on: date | None = None
        for a in later:
            score = _score(a, key)
            if score is not None:
                now, now_on = score, a.assessed_on
                break
        out.append(
            GoalProgress(
                activity=activity.activity,
                baseline=start,
                baseline_on=start_on,
                now=now,
                now_on=now_on,
                status=goal_status(start, now),
            )
        )
    return out


def _score(assessment: _Assessment, key: str) -> int | None:
    entry = next((e for e in assessment.measurements if e.measure_id == "psfs"), None)
    score = entry.items.get(key) if entry is not None else None
    return None if score is None else int(score)
