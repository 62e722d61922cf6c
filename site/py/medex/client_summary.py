"""One small stored record per client, kept up to date in the same transaction as every write
that changes it, so the home screen reads a few facts per client instead of walking every
session log of the practice (50,000 logs take seconds to read on a tablet; 1,000 summaries,
milliseconds).

A summary is *derived*: ``summarize`` computes it from the client's session logs (their
summaries), episodes of care and assessment dates, and nothing else. The repository writes it
with every save that changes one of those (``services.summaries.summary_ops``: the one place
that says which summaries a write touches), a restore drops the summaries it may have made
wrong, and a summary that is missing or older than ``SUMMARY_VERSION`` is rebuilt when read.

What it holds is what the home screen's rules read (each rule stays where it is):

- the unsigned logs, in the order they fall due (late signatures: ``late``) and the number
  signed (the set-up checklist);
- per episode: the last two sessions, the sessions attended and the last attended one
  (``retention``), the assessment dates and the counted sessions since the last one
  (``programs.reassessments_due``), the first visit and the flagged safety events the
  referral loop reports (``services.documents.loop_facts``);
- the sessions of the last weeks (today's schedule: ``services.schedule.scheduled``).

Facts that depend on today (retention counts sessions up to today) are exact while no session
is dated after today; ``latest_log`` tells the reader when to fall back to the logs.

Pure: no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .programs import EpisodeSpan, in_episode
from .records import Record
from .retention import EpisodeAttendance, LogFact, episode_attendance
from .session_logs import (
    Attendance,
    LogMoments,
    SessionLogSummary,
    counts_against_package,
    signing_due_by,
)

# Bump when what a summary holds or how it is computed changes: older ones are rebuilt on read.
SUMMARY_VERSION = 1
# The summary keeps every session dated within this many days of the client's latest one
# (the schedule's attendance for today and the days around it).
RECENT_DAYS = 35


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class LogDay(_Part):
    """A session on a day: enough for the schedule's attendance and for retention."""

    id: str
    session_date: date
    attendance: Attendance = Attendance.ATTENDED


class PendingLog(_Part):
    """An unsigned session log: enough to tell when it becomes late."""

    id: str
    session_date: date
    start_time: time | None = None
    created_at: datetime
    due_by: datetime  # when it becomes late (``session_logs.signing_due_by``)
    created_min: datetime  # the earliest written of this one and those due before it


class PendingView:
    """An unsigned log of a client summary, with the client's id (``session_logs.LogTimes``)."""

    __slots__ = ("client_id", "created_at", "id", "session_date", "start_time")
    is_signed = False

    def __init__(self, client_id: str, log: LogMoments) -> None:
        self.client_id, self.id = client_id, log.id
        self.session_date, self.start_time = log.session_date, log.start_time
        self.created_at = log.created_at


class FlaggedSession(_Part):
    session_date: date
    title: str


class LoopPart(_Part):
    """What the referral loop reads of a set of logs."""

    first_visit: date | None = None
    flagged: list[FlaggedSession] = Field(default_factory=list)


class EpisodePart(_Part):
    """One episode of care's facts, from the logs that count against it."""

    episode_id: str
    last_two: list[LogDay] = Field(default_factory=list)  # the latest two sessions, oldest first
    attended: int = 0  # sessions attended
    last_attended: date | None = None
    assessed_on: list[date] = Field(default_factory=list)  # this episode's assessments, sorted
    counted_since_assessment: list[date] = Field(default_factory=list)  # package sessions after
    loop: LoopPart = Field(default_factory=LoopPart)  # logs naming this episode or none


class EpisodeDates(BaseModel):
    """What a summary needs of an episode of care."""

    model_config = ConfigDict(extra="ignore")

    id: str
    client_id: str
    start_date: date
    discharge_date: date | None = None


class AssessmentDate(BaseModel):
    """What a summary needs of an assessment."""

    model_config = ConfigDict(extra="ignore")

    id: str
    client_id: str
    episode_id: str | None = None
    kind: str = ""
    assessed_on: date


class ClientSummary(Record):
    """The facts of one client's care that the home screen reads (``id`` is the client's)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False, defer_build=True)

    store: ClassVar[str] = "client_summaries"
    DERIVED: ClassVar[bool] = True

    summary_version: int = SUMMARY_VERSION
    client_id: str
    signed_logs: int = 0
    unsigned: list[PendingLog] = Field(default_factory=list)  # the first due first
    latest_log: date | None = None  # the latest session date of any log
    recent_from: date | None = None  # ``recent`` holds every log dated on or after this day
    recent: list[LogDay] = Field(default_factory=list)
    assessed_on: list[date] = Field(default_factory=list)  # every assessment, sorted
    has_baseline: bool = False  # a baseline assessment is on file (the onboarding checklist)
    episodes: list[EpisodePart] = Field(default_factory=list)
    loop: LoopPart = Field(default_factory=LoopPart)  # all logs (a client without an episode)
    # The client's episodes and assessments as summarized: a session-log save recomputes the
    # summary from these and the client's logs, without reading those stores again.
    episode_dates: list[EpisodeDates] = Field(default_factory=list)
    assessments: list[AssessmentDate] = Field(default_factory=list)

    def episode(self, episode_id: str) -> EpisodePart:
        for part in self.episodes:
            if part.episode_id == episode_id:
                return part
        return EpisodePart(episode_id=episode_id)

    def facts(self) -> dict[str, Any]:
        """The summary's content, without what storage adds (to tell a change from none)."""
        return self.model_dump(mode="json", exclude={"created_at", "updated_at", "schema_version"})

    def late(self, wall: datetime) -> tuple[int, PendingView | None, datetime | None]:
        """How many unsigned logs are late at ``wall`` (the device's time, naive), the
        oldest of them and the earliest written: a search, not a walk over the logs."""
        count = bisect.bisect_left(self.unsigned, wall, key=lambda p: p.due_by)
        if count == 0:
            return 0, None, None
        return (
            count,
            PendingView(self.client_id, self.unsigned[0]),
            self.unsigned[count - 1].created_min,
        )

    def logs_on(self, first: date, last: date) -> list[LogDay] | None:
        """The sessions dated ``first`` to ``last``; None when the summary does not hold them
        all (days before ``recent_from``): read the logs then."""
        if self.recent_from is not None and first < self.recent_from:
            return None
        return [d for d in self.recent if first <= d.session_date <= last]


def log_order(log: SessionLogSummary) -> tuple:
    """Session logs in the order of their sessions (ties: time, then when written)."""
    return (log.session_date, log.start_time or time.min, log.created_at, log.id)


def _loop(logs: Iterable[SessionLogSummary]) -> LoopPart:
    logs = list(logs)
    attended = [lg.session_date for lg in logs if lg.attendance == Attendance.ATTENDED]
    return LoopPart(
        first_visit=min(attended) if attended else None,
        flagged=[
            FlaggedSession(session_date=lg.session_date, title=f.title)
            for lg in logs
            for f in lg.safety_flags
            if f.offer_change_in_status_report
        ],
    )


def _day(log: SessionLogSummary) -> LogDay:
    return LogDay(id=log.id, session_date=log.session_date, attendance=log.attendance)


def attendance_part(
    episode: EpisodeSpan, logs: Sequence[SessionLogSummary], today: date | None
) -> EpisodeAttendance:
    """Retention's facts of ``episode`` from the client's logs (sorted by ``log_order``)."""
    return episode_attendance(
        episode.start_date,
        episode.discharge_date,
        episode.id,
        [LogFact(lg.session_date, lg.attendance, lg.episode_id) for lg in logs],
        today,
    )


def _episode_part(
    episode: EpisodeDates,
    logs: Sequence[SessionLogSummary],
    assessments: Sequence[AssessmentDate],
) -> EpisodePart:
    mine = [lg for lg in logs if in_episode(episode, lg.episode_id, lg.session_date)]
    seen = attendance_part(episode, logs, None)
    assessed = sorted(a.assessed_on for a in assessments if a.episode_id == episode.id)
    counted = sorted(lg.session_date for lg in mine if counts_against_package(lg))
    return EpisodePart(
        episode_id=episode.id,
        last_two=[
            LogDay(id="", session_date=f.session_date, attendance=f.attendance)
            for f in seen.last_two
        ],
        attended=seen.attended,
        last_attended=seen.last_attended,
        assessed_on=assessed,
        counted_since_assessment=[d for d in counted if d > assessed[-1]] if assessed else [],
        loop=_loop(lg for lg in logs if lg.episode_id in (None, episode.id)),
    )


def _pending(logs: Iterable[SessionLogSummary]) -> list[PendingLog]:
    due = sorted(logs, key=lambda lg: (signing_due_by(lg), log_order(lg)))
    out: list[PendingLog] = []
    for lg in due:
        earliest = min(lg.created_at, out[-1].created_min) if out else lg.created_at
        out.append(
            PendingLog(
                id=lg.id,
                session_date=lg.session_date,
                start_time=lg.start_time,
                created_at=lg.created_at,
                due_by=signing_due_by(lg),
                created_min=earliest,
            )
        )
    return out


def summarize(
    client_id: str,
    logs: Iterable[SessionLogSummary],
    episodes: Iterable[EpisodeDates],
    assessments: Iterable[AssessmentDate],
) -> ClientSummary:
    """The client's summary, from all of the client's session logs, episodes and assessments."""
    ordered = sorted((lg for lg in logs if lg.client_id == client_id), key=log_order)
    mine_assessed = sorted(
        (a for a in assessments if a.client_id == client_id), key=lambda a: (a.assessed_on, a.id)
    )
    mine_episodes = sorted(
        (e for e in episodes if e.client_id == client_id), key=lambda e: (e.start_date, e.id)
    )
    latest = ordered[-1].session_date if ordered else None
    recent_from = latest - timedelta(days=RECENT_DAYS) if latest is not None else None
    earliest = ordered[0].session_date if ordered else None
    return ClientSummary(
        id=client_id,
        client_id=client_id,
        signed_logs=sum(1 for lg in ordered if lg.is_signed),
        unsigned=_pending(lg for lg in ordered if not lg.is_signed),
        latest_log=latest,
        # Every log is held when the oldest is recent: then any day is answered.
        recent_from=None
        if earliest is None or earliest >= (recent_from or earliest)
        else recent_from,
        recent=[
            _day(lg) for lg in ordered if recent_from is None or lg.session_date >= recent_from
        ],
        assessed_on=sorted(a.assessed_on for a in mine_assessed),
        has_baseline=any(a.kind == "baseline" for a in mine_assessed),
        episodes=[_episode_part(e, ordered, mine_assessed) for e in mine_episodes],
        loop=_loop(ordered),
        episode_dates=mine_episodes,
        assessments=mine_assessed,
    )


def same_facts(a: ClientSummary | None, b: ClientSummary) -> bool:
    return a is not None and a.summary_version == b.summary_version and a.facts() == b.facts()
