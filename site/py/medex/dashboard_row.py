"""One compact stored row per client: what the home screen needs of that client and that does
not depend on today, kept up to date in the same transaction as every write that changes it
(``services.dashboard_rows``), so the home screen reads one small store (about half a
kilobyte a client) instead of a dozen client-sized ones and every client's summary.

What a row holds, by where it comes from (each group is recomputed only when a write touches
one of its stores; the rest is carried over from the stored row):

- the client record: name, sort name, status, referring provider;
- the intake records (referrals, health history, screening, clearance, consents, goals): the
  clearance still outstanding and when it was requested, whether the first six steps of the
  onboarding checklist are done, the latest referral's diagnosis codes, focus decision and
  physician follow-up;
- the client summary (``medex.client_summary``: session logs and assessments): the signed
  count, the unsigned logs in the order they fall due (as instants, to tell at read time how
  many are late), the sessions of the last weeks, the assessment dates;
- the episodes of care with the summary: for each active episode, when its baseline or next
  reassessment falls due; the retention facts of the current one; the program of the caseload;
  the referral loop's facts of the latest episode;
- the documents sent (the latest date of each kind) and the latest plan of sessions.
- worked out from the facts above: the reports the client's referring provider will be owed
  (``documents.owed_candidates``), each with the first day it is owed and its due date, so
  that the home screen counts and orders them by comparing dates with today.

Whatever depends on today (late, due or overdue, quiet for two weeks, today's sessions) is
worked out when the row is read, by the same rules as before.

Pure: no I/O.
"""

from __future__ import annotations

import bisect
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .client_summary import FlaggedSession, LogDay, PendingLog, PendingView
from .documents import LoopFacts, owed_candidates
from .intake import ClientStatus
from .records import Record
from .schedule import SessionPlan

# Bump when what a row holds or how it is computed changes: the rows are rebuilt on read.
ROW_VERSION = 3  # 2: the unsigned logs' due instants packed into one string; 3: reports owed
# The id of the row that says "every client's row is here and current" (written with a
# rebuild of all rows, in the same save; a raw write deletes it with the rows it drops).
COMPLETE_ID = "00000000-0000-0000-0000-000000000000"  # the nil UUID: never a record's
_EPOCH = datetime(1970, 1, 1)
_DAY_ONE = datetime(1, 1, 1)
_DISCHARGED = ClientStatus.DISCHARGED.value
# Each packed instant: whole microseconds since 0001-01-01 in this many hexadecimal digits
# (year 9999 is about 3.2e17 µs < 16**15), zero-padded so that comparing the text of two
# instants compares the instants.
INSTANT_DIGITS = 15


def wall_micros(moment: datetime) -> int:
    """A naive (device wall-clock) instant as whole microseconds: exact, and small in JSON."""
    delta = moment.replace(tzinfo=None) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def packed_instant(moment: datetime) -> str:
    """A naive instant as ``INSTANT_DIGITS`` hexadecimal digits, in the order of the instants."""
    delta = moment.replace(tzinfo=None) - _DAY_ONE
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return format(micros, f"0{INSTANT_DIGITS}x")


def count_before(packed: str, moment: datetime | str) -> int:
    """How many of the instants packed in ``packed`` (in order, ``packed_instant`` each) are
    before ``moment`` (or before the instant ``moment`` packs): a binary search over the text,
    nothing unpacked."""
    key = moment if isinstance(moment, str) else packed_instant(moment)
    width = INSTANT_DIGITS
    lo, hi = 0, len(packed) // width
    while lo < hi:
        mid = (lo + hi) // 2
        if packed[mid * width : (mid + 1) * width] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FirstUnsigned(_Part):
    """The unsigned log that falls due first (the one a single late log links to)."""

    id: str
    session_date: date
    start_time: time | None = None
    created_at: datetime


class DueFact(_Part):
    """When an active episode's baseline or next reassessment falls due (``programs.
    reassessments_due`` without today: the status comes from today at read time)."""

    episode_id: str
    kind: Literal["baseline", "reassessment"]
    due_on: date
    reason: str


class RetentionFact(_Part):
    """Retention's facts of the client's current active episode (``retention.risks_of``)."""

    episode_id: str
    order_id: str  # the client's first active episode in store order (the reading order)
    start_date: date
    last_two: list[LogDay] = Field(default_factory=list)
    attended: int = 0
    last_attended: date | None = None
    remaining: int | None = None  # package sessions left (None: no package)
    included: int | None = None


class LoopRow(_Part):
    """The referral loop's facts of the latest episode (or of the client without one)."""

    has_episode: bool = False
    active: bool = True  # the episode is active (no episode: the client is not discharged)
    discharged_on: date | None = None
    episode_follow_up: date | None = None
    first_visit: date | None = None
    flagged: list[FlaggedSession] = Field(default_factory=list)


class RowFacts(BaseModel):
    """The home screen's facts of one client, and what they answer for a given moment."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    row_version: int = ROW_VERSION
    summary_version: int = 0  # the client summaries' version the row was made from
    client_id: str = ""
    on_file: bool = False  # the client record exists (records of a removed client still count)
    # the client record
    name: str = ""
    sort_name: str = ""
    first_name: str = ""
    last_name: str = ""
    date_of_birth: date | None = None
    status: str = ""
    provider_id: str = ""
    # the intake records
    clearance_outstanding: bool = False
    clearance_requested: date | None = None
    intake_ready: bool = False  # referral to goals of the onboarding checklist done
    first_referral_id: str = ""  # the client's first referral in store order
    referral_codes: list[str] = Field(default_factory=list)  # the latest referral's
    focus_open: bool = False  # the latest referral has no focus decision yet
    referral_follow_up: date | None = None
    # the client summary
    signed_logs: int = 0
    first_unsigned: FirstUnsigned | None = None
    unsigned_due: str = ""  # each due_by, ``packed_instant``, first due first
    # (index, earliest written of the unsigned logs up to that index) where it changes
    unsigned_since: list[tuple[int, datetime]] = Field(default_factory=list)
    latest_log: date | None = None
    recent_from: date | None = None
    recent: list[LogDay] = Field(default_factory=list)
    assessed_on: list[date] = Field(default_factory=list)
    has_baseline: bool = False
    # the episodes of care (with the summary)
    episodes: int = 0
    dues: list[DueFact] = Field(default_factory=list)  # by episode id
    retention: RetentionFact | None = None
    caseload_program: str | None = None
    loop: LoopRow = Field(default_factory=LoopRow)
    # documents sent, and the plan of sessions
    sent: dict[str, date] = Field(default_factory=dict)  # kind → latest document date
    plan: SessionPlan | None = None
    # the reports owed to the referring provider (``documents.owed_candidates``), without
    # today: (kind, first day owed, due date), in the order they are listed
    owed: list[tuple[str, date, date]] = Field(default_factory=list)

    @field_validator("unsigned_due", mode="before")
    @classmethod
    def _packed(cls, value: Any) -> Any:
        # A row of version 1 held a list of ``wall_micros``: read it packed (it is rebuilt,
        # being of an older version, but reads as a row on the way).
        if isinstance(value, list):
            return "".join(packed_instant(_EPOCH + timedelta(microseconds=v)) for v in value)
        return value

    @property
    def ready(self) -> bool:
        """Every step of the onboarding checklist is done (``services.intake.is_ready``)."""
        return self.intake_ready and self.has_baseline and self.episodes > 0

    def late(self, wall: datetime | str) -> tuple[int, PendingView | None, datetime | None]:
        """As ``ClientSummary.late``: how many unsigned logs are late at ``wall`` (or at the
        instant it packs: ``packed_instant``, worked out once for every row), the first due of
        them and the earliest written."""
        if not self.unsigned_due:
            return 0, None, None
        count = count_before(self.unsigned_due, wall)
        first = self.first_unsigned
        if count == 0 or first is None:
            return 0, None, None
        since = self.unsigned_since
        if len(since) == 1:
            return count, PendingView(self.client_id, first), since[0][1]
        index = bisect.bisect_right([i for i, _ in since], count - 1) - 1
        return count, PendingView(self.client_id, first), since[index][1]

    def loop_facts(self, provider_id: str = "", provider_name: str = "") -> LoopFacts:
        """What the reports' due rules need of this client (``documents.LoopFacts``)."""
        loop = self.loop
        return LoopFacts(
            client_id=self.client_id,
            client_name=self.name,
            provider_id=provider_id,
            provider_name=provider_name,
            first_visit=loop.first_visit,
            follow_up=loop.episode_follow_up or self.referral_follow_up,
            active=loop.active if loop.has_episode else self.status != _DISCHARGED,
            discharged_on=loop.discharged_on,
            flagged=tuple((f.session_date, f.title) for f in loop.flagged),
            sent=tuple(self.sent.items()),
        )

    def owed_reports(self) -> list[tuple[str, date, date]]:
        """The reports this client will owe, whatever today is (the ``owed`` field): none
        before a first visit or a discharge, as ``services.documents.loop_facts``."""
        if self.loop.first_visit is None and self.loop.discharged_on is None:
            return []
        return [(c.kind.value, c.owed_from, c.due_on) for c in owed_candidates(self.loop_facts())]

    def logs_on(self, first: date, last: date) -> list[LogDay] | None:
        """As ``ClientSummary.logs_on``."""
        if self.recent_from is not None and first < self.recent_from:
            return None
        return [d for d in self.recent if first <= d.session_date <= last]


class DashboardRow(Record, RowFacts):
    """The stored row of one client (``id`` is the client's)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False, defer_build=True)

    store: ClassVar[str] = "dashboard_rows"
    DERIVED: ClassVar[bool] = True


class RowView(RowFacts):
    """A stored row as the home screen reads it: only its facts, without the checks a stored
    record gets on its way in (``Record``: revision, UUID id, timestamps). The rows are the
    app's own derived records; one that does not read as a row makes the home screen rebuild
    them all (``services.dashboard_rows.home_rows``)."""

    id: str = ""


def unsigned_fields(pending: list[PendingLog]) -> dict:
    """The row's unsigned-log fields from a summary's unsigned logs (first due first)."""
    since: list[tuple[int, datetime]] = []
    for i, p in enumerate(pending):
        if not since or p.created_min != since[-1][1]:
            since.append((i, p.created_min))
    first = pending[0] if pending else None
    return {
        "first_unsigned": FirstUnsigned(
            id=first.id,
            session_date=first.session_date,
            start_time=first.start_time,
            created_at=first.created_at,
        )
        if first is not None
        else None,
        "unsigned_due": "".join(packed_instant(p.due_by) for p in pending),
        "unsigned_since": since,
    }
