"""The client's sessions timeline (the Sessions tab): one query for what the tab shows.

A client seen twice a week for five years has 500 session logs, and the tab shows one row per
log. Each row needs only the date, attendance, volume, stop flags and whether the log is signed
(and, for a signed log, whether its content still matches its signature): so the logs are
read once as stored documents and each is validated only as that part of it
(``TimelineLog``), not as a whole ``SessionLog`` with every text field checked again. A signed
log's content hash is checked on the stored document (``session_logs.stored_signature_claim``);
only a log whose stored document does not match is validated whole and checked as before
(``signature_claim``), so "does not match its signature" is never concluded from less::

    timeline = await client_timeline(repo, client_id, attendance=Attendance.ATTENDED)
    checks = await signatures.check(signer, timeline.claims)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..exercises import LoadUnit
from ..repository import Repository
from ..safety import Severity
from ..session_logs import (
    Addendum,
    Attendance,
    AttendanceSummary,
    SessionLog,
    SessionVolume,
    attendance_summary,
    filter_logs,
    session_volume,
    signature_claim,
    stored_signature_claim,
    volume_load_text,
)
from ..signing import Claim


class _Read(BaseModel):
    # The stored document has every other field of the log: they are not read here. Text is
    # stripped as the log's own fields are (an exercise is counted once under its id).
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class TimelineExercise(_Read):
    """What a session's volume is counted from, of one exercise (``ExerciseEntry``)."""

    exercise_id: str
    exercise_name: str
    sets: int | None = None
    reps: int | None = None
    load: float | None = None
    load_unit: LoadUnit | None = None
    duration_s: int | None = None
    distance_m: float | None = None


class TimelineFlag(_Read):
    severity: Severity


class TimelineLog(_Read):
    """The part of a session log a timeline row shows (validated from the stored log)."""

    id: str
    created_at: datetime
    session_date: date
    start_time: time | None = None
    session_number: int | None = None
    attendance: Attendance = Attendance.ATTENDED
    exercises: list[TimelineExercise] = Field(default_factory=list)
    safety_flags: list[TimelineFlag] = Field(default_factory=list)
    signature: dict | None = None

    @property
    def is_signed(self) -> bool:
        return self.signature is not None


_TIMELINE = TypeAdapter(list[TimelineLog])


@dataclass
class TimelineEntry:
    log: TimelineLog
    addenda: list[Addendum]
    volume: SessionVolume

    @property
    def hard_stop(self) -> bool:
        return any(f.severity is Severity.HARD_STOP for f in self.log.safety_flags)


@dataclass
class ClientTimeline:
    """The timeline (newest first), its totals, and the signed logs' signatures to check."""

    entries: list[TimelineEntry]
    attendance: AttendanceSummary
    claims: list[Claim] = field(default_factory=list)
    total_sets: int = 0
    total_reps: int = 0
    volume_load_kg: float = 0.0
    volume_load_lb: float = 0.0
    load_units: tuple[str, ...] = ()
    duration_s: int = 0
    distance_m: float = 0.0
    unsigned: int = 0
    hard_stops: int = 0

    @property
    def volume_load_text(self) -> str:
        return volume_load_text(self.volume_load_kg, self.volume_load_lb, self.load_units)


async def client_timeline(
    repo: Repository,
    client_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    attendance: Attendance | Iterable[Attendance] | None = None,
) -> ClientTimeline:
    """A client's sessions (newest first, filtered by date range, inclusive, and attendance)
    with their addenda (oldest first) and totals: two reads (the logs' stored documents and
    the addenda, by client)."""
    docs = await repo.documents(SessionLog.store, ("client_id", client_id))
    logs = filter_logs(
        _TIMELINE.validate_python(docs),
        date_from=date_from,
        date_to=date_to,
        attendance=attendance,
    )
    by_log: dict[str, list[Addendum]] = {}
    for a in await repo.find(Addendum, "client_id", client_id):
        by_log.setdefault(a.session_log_id, []).append(a)
    shown = {log.id for log in logs if log.is_signed}
    claims = [_claim(doc) for doc in docs if doc.get("id") in shown]
    timeline = ClientTimeline(entries=[], attendance=attendance_summary(logs), claims=claims)
    units: dict[str, None] = {}
    for log in logs:
        added = sorted(by_log.get(log.id, []), key=lambda a: a.signed_at)
        entry = TimelineEntry(log, added, session_volume(log))
        timeline.entries.append(entry)
        v = entry.volume
        timeline.total_sets += v.total_sets
        timeline.total_reps += v.total_reps
        timeline.volume_load_kg += v.volume_load_kg
        timeline.volume_load_lb += v.volume_load_lb
        units.update(dict.fromkeys(v.load_units))
        timeline.duration_s += v.duration_s
        timeline.distance_m += v.distance_m
        timeline.unsigned += not log.is_signed
        timeline.hard_stops += entry.hard_stop
    timeline.load_units = tuple(units)
    return timeline


def _claim(doc: dict) -> Claim:
    """The signed log's claim from its stored document, or from the whole validated log
    when the stored document alone does not show the content matches."""
    return stored_signature_claim(doc) or signature_claim(SessionLog.model_validate(doc))
