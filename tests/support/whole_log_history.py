"""The Sessions tab as it was read before ``services.client_timeline``: every log of the client
validated whole as a ``SessionLog``. Kept only as the oracle the timeline is compared with
(``tests/unit/test_client_timeline.py``): same rows, same totals, whatever the logs hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from medex.repository import Repository
from medex.safety import Severity
from medex.session_logs import (
    Addendum,
    Attendance,
    AttendanceSummary,
    SessionLog,
    SessionVolume,
    attendance_summary,
    filter_logs,
    session_volume,
    timeline_key,
    verify_signature,
    volume_load_text,
)


@dataclass
class HistoryEntry:
    log: SessionLog
    addenda: list[Addendum]
    volume: SessionVolume
    # None: not checked (or not signed); False: the content no longer matches the signature.
    signature_ok: bool | None = None

    @property
    def hard_stop(self) -> bool:
        return any(f.severity is Severity.HARD_STOP for f in self.log.safety_flags)


@dataclass
class ClientHistory:
    entries: list[HistoryEntry]  # newest first
    attendance: AttendanceSummary
    total_sets: int = 0
    total_reps: int = 0
    volume_load_kg: float = 0.0
    duration_s: int = 0
    distance_m: float = 0.0
    unsigned: int = 0
    hard_stops: int = 0
    volume_load_lb: float = 0.0  # the same total in pounds (``volume_load_text``)
    load_units: tuple[str, ...] = ()
    # Oldest → newest attended sessions: (date, volume load kg, minutes) for a trend line.
    volume_trend: list[tuple[date, float, float]] = field(default_factory=list)

    @property
    def volume_load_text(self) -> str:
        return volume_load_text(self.volume_load_kg, self.volume_load_lb, self.load_units)


async def client_history(
    repo: Repository,
    client_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    attendance: Attendance | Iterable[Attendance] | None = None,
    planned: int | None = None,
    verify: bool = False,
) -> ClientHistory:
    """A client's sessions as a timeline (newest first) with their addenda (oldest first),
    filtered by date range (inclusive) and attendance, with attendance and volume totals.
    Two reads (session_logs and addenda by client). ``verify`` re-checks every signature."""
    logs = filter_logs(
        await repo.find(SessionLog, "client_id", client_id),
        date_from=date_from,
        date_to=date_to,
        attendance=attendance,
    )
    by_log: dict[str, list[Addendum]] = {}
    for a in await repo.find(Addendum, "client_id", client_id):
        by_log.setdefault(a.session_log_id, []).append(a)
    entries = []
    for log in logs:
        added = sorted(by_log.get(log.id, []), key=lambda a: a.signed_at)
        ok = verify_signature(log) if verify and log.is_signed else None
        entries.append(HistoryEntry(log, added, session_volume(log), ok))
    history = ClientHistory(entries=entries, attendance=attendance_summary(logs, planned))
    for e in entries:
        v = e.volume
        history.total_sets += v.total_sets
        history.total_reps += v.total_reps
        history.volume_load_kg += v.volume_load_kg
        history.volume_load_lb += v.volume_load_lb
        history.load_units = tuple(dict.fromkeys((*history.load_units, *v.load_units)))
        history.duration_s += v.duration_s
        history.distance_m += v.distance_m
        history.unsigned += not e.log.is_signed
        history.hard_stops += e.hard_stop
    history.volume_trend = [
        (e.log.session_date, round(e.volume.volume_load_kg, 1), round(e.volume.duration_s / 60, 1))
        for e in sorted(entries, key=lambda e: timeline_key(e.log))
        if e.log.attendance is Attendance.ATTENDED
    ]
    return history
