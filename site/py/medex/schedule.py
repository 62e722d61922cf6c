"""The schedule: each client's planned sessions, from a weekly pattern changed date by date.

A client's plan is a weekly pattern (days of the week, each with a start time) from a first
day, for the program's length when it has one. The pattern's default comes from the
program's frequency (its expected sessions over its expected weeks) or, without one, from the
frequency the physician requested on the referral ("2 sessions a week"). One date can be
moved (another day or time) or taken off the plan without changing the pattern.

Attendance is read from the session logs, never typed twice: a log of that client on that
day records it (attended, cancelled or no-show); a planned session of a past day without a
log is "not recorded". Pure: the caller reads the records (``medex.services.schedule``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .records import Record, RequiredText
from .session_logs import ATTENDANCE_LABELS, Attendance

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_TIME = time(9, 0)
DEFAULT_MINUTES = 60
DEFAULT_PER_WEEK = 2
# The weekdays a frequency spreads over (rest days between sessions where the week allows).
SPREAD: dict[int, tuple[int, ...]] = {
    1: (0,),
    2: (0, 3),
    3: (0, 2, 4),
    4: (0, 1, 3, 4),
    5: (0, 1, 2, 3, 4),
    6: (0, 1, 2, 3, 4, 5),
    7: (0, 1, 2, 3, 4, 5, 6),
}


class WeeklySlot(BaseModel):
    """A session every week on ``weekday`` (0 = Monday) at ``start``."""

    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=0, le=6)
    start: time

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start.strftime('%H:%M')}"


class DateChange(BaseModel):
    """One planned date changed: moved to ``moved_to`` (day and time), or taken off the plan."""

    model_config = ConfigDict(extra="forbid")

    planned_on: date
    moved_to: datetime | None = None
    removed: bool = False

    @model_validator(mode="after")
    def _one(self) -> DateChange:
        if self.removed == (self.moved_to is not None):
            raise ValueError("Move the session to another day or time, or take it off the plan")
        return self


class SessionPlan(Record):
    """A client's planned sessions: a weekly pattern from ``starts_on`` (to ``ends_on``)."""

    store: ClassVar[str] = "schedules"

    client_id: RequiredText
    episode_id: str | None = None
    starts_on: date
    ends_on: date | None = None
    slots: list[WeeklySlot] = Field(default_factory=list)
    minutes: int = Field(default=DEFAULT_MINUTES, ge=10, le=240)
    changes: list[DateChange] = Field(default_factory=list)

    @field_validator("ends_on", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slots")
    @classmethod
    def _slots(cls, value: list[WeeklySlot]) -> list[WeeklySlot]:
        if not value:
            raise ValueError("Choose at least one day of the week")
        days = [s.weekday for s in value]
        if len(set(days)) != len(days):
            raise ValueError("Each day of the week once: one session a day")
        return sorted(value, key=lambda s: s.weekday)

    @model_validator(mode="after")
    def _dates(self) -> SessionPlan:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("The last day cannot be before the first day")
        return self

    @property
    def pattern_text(self) -> str:
        return ", ".join(s.label for s in self.slots)

    def change_for(self, planned_on: date) -> DateChange | None:
        return next((c for c in self.changes if c.planned_on == planned_on), None)

    def with_change(self, change: DateChange | None, planned_on: date) -> list[DateChange]:
        """The changes with ``planned_on``'s replaced by ``change`` (None: back to the plan)."""
        kept = [c for c in self.changes if c.planned_on != planned_on]
        return sorted([*kept, change] if change else kept, key=lambda c: c.planned_on)


def sessions_per_week(
    expected_sessions: int | None, expected_weeks: int | None, requested: str = ""
) -> int:
    """The program's frequency (sessions over weeks, rounded, 1–7), else the referral's
    requested frequency ("2 sessions a week", "3x/week", "twice weekly"), else 2."""
    if expected_sessions and expected_weeks:
        return min(7, max(1, round(expected_sessions / expected_weeks)))
    return requested_per_week(requested) or DEFAULT_PER_WEEK


_WORDS = {"once": 1, "twice": 2, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def requested_per_week(text: str) -> int | None:
    """Sessions a week in a physician's words, or None when it does not say per week."""
    t = text.lower()
    if not re.search(r"week|wk|/w\b", t):
        return None
    m = re.search(r"(\d+)\s*(?:x|×|times|sessions?|visits?|/)", t) or re.search(r"(\d+)", t)
    if m:
        n = int(m.group(1))
        return n if 1 <= n <= 7 else None
    for word, n in _WORDS.items():
        if re.search(rf"\b{word}\b", t):
            return n
    return None


def default_slots(per_week: int, start: time = DEFAULT_TIME) -> list[WeeklySlot]:
    return [WeeklySlot(weekday=d, start=start) for d in SPREAD[min(7, max(1, per_week))]]


def plan_end(starts_on: date, expected_weeks: int | None) -> date | None:
    return starts_on + timedelta(weeks=expected_weeks, days=-1) if expected_weeks else None


@dataclass(frozen=True, slots=True)
class PlannedSession:
    client_id: str
    plan_id: str
    planned_on: date  # the pattern's date (the key of a change)
    at: datetime  # when it takes place (moved or not)
    minutes: int
    moved: bool = False

    @property
    def day(self) -> date:
        return self.at.date()

    @property
    def ends(self) -> datetime:
        return self.at + timedelta(minutes=self.minutes)


def planned_sessions(plan: SessionPlan, first: date, last: date) -> list[PlannedSession]:
    """The plan's sessions taking place from ``first`` to ``last`` (inclusive), in time order.

    A moved session is listed on the day it was moved to (even from outside the range), a
    removed one not at all; the pattern runs from ``starts_on`` to ``ends_on``.
    """
    out: list[PlannedSession] = []
    by_day = {s.weekday: s for s in plan.slots}
    # Pattern dates whose session may land in range: the range itself, plus any moved date.
    candidates = {c.planned_on for c in plan.changes if c.moved_to is not None}
    day = first
    while day <= last:
        candidates.add(day)
        day += timedelta(days=1)
    for planned_on in candidates:
        slot = by_day.get(planned_on.weekday())
        if slot is None or planned_on < plan.starts_on:
            continue
        if plan.ends_on is not None and planned_on > plan.ends_on:
            continue
        change = plan.change_for(planned_on)
        if change is not None and change.removed:
            continue
        at = datetime.combine(planned_on, slot.start)
        moved = change is not None and change.moved_to is not None
        if change is not None and change.moved_to is not None:
            at = change.moved_to
        if first <= at.date() <= last:
            out.append(PlannedSession(plan.client_id, plan.id, planned_on, at, plan.minutes, moved))
    return sorted(out, key=lambda s: (s.at, s.client_id))


AttendanceState = Literal["attended", "cancelled", "no_show", "today", "upcoming", "unrecorded"]
STATE_LABELS: dict[str, str] = {
    **{a.value: label for a, label in ATTENDANCE_LABELS.items()},
    "today": "Today",
    "upcoming": "Planned",
    "unrecorded": "Not recorded",
}


@dataclass(frozen=True, slots=True)
class LogOnDay:
    """What the schedule needs of one session log."""

    client_id: str
    session_date: date
    attendance: Attendance
    log_id: str = ""


def attendance_of(
    session: PlannedSession, logs: Iterable[LogOnDay], today: date
) -> AttendanceState:
    """A log of that client on that day records attendance (an attended log wins over a
    cancellation logged the same day); else today, upcoming, or not recorded."""
    found = [
        log
        for log in logs
        if log.client_id == session.client_id and log.session_date == session.day
    ]
    if found:
        if any(log.attendance is Attendance.ATTENDED for log in found):
            return "attended"
        return found[-1].attendance.value
    if session.day == today:
        return "today"
    return "upcoming" if session.day > today else "unrecorded"


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def sessions_between(plans: Sequence[SessionPlan], first: date, last: date) -> list[PlannedSession]:
    return sorted(
        (s for p in plans for s in planned_sessions(p, first, last)),
        key=lambda s: (s.at, s.client_id),
    )
