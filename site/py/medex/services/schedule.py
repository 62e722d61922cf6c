"""The schedule: each client's plan of sessions, today's list and the week, attendance (a
cancellation or a no-show is a session log, like every session), and ``.ics`` exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ValidationError

from ..client_summary import ClientSummary, log_order
from ..forms import Refused
from ..ical import Event, calendar
from ..intake import Client, ClientStatus, Referral
from ..programs import Episode, episode_on
from ..records import utc_now
from ..repository import Repository
from ..schedule import (
    STATE_LABELS,
    AttendanceState,
    DateChange,
    LogOnDay,
    PlannedSession,
    SessionPlan,
    WeeklySlot,
    attendance_of,
    default_slots,
    plan_end,
    planned_sessions,
    sessions_between,
    sessions_per_week,
)
from ..session_logs import ATTENDANCE_LABELS, Attendance, SessionLog
from .sessions import save_draft_log
from .summaries import client_logs, client_summaries


class TypedSlot(BaseModel):
    weekday: int
    start: str = ""


class SavePlan(BaseModel):
    """A client's weekly pattern as typed: the days ticked, each with its start time."""

    client_id: str
    starts_on: str = ""
    ends_on: str = ""
    minutes: str = ""
    slots: list[TypedSlot] = []


PLAN_FIELDS = ("starts_on", "ends_on", "minutes")


class ChangeDate(BaseModel):
    """One planned date: moved to another day / time, taken off the plan, or put back."""

    client_id: str
    planned_on: date
    change: Literal["move", "remove", "restore"]
    moved_to_date: str = ""
    moved_to_time: str = ""


class RecordAttendance(BaseModel):
    """A planned session the client did not attend: cancelled (with the reason) or no-show."""

    client_id: str
    session_date: date
    attendance: Attendance
    reason: str = ""
    start_time: time | None = None
    today: date


def _time(value: str, field: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise Refused({field: "Enter a time, e.g. 09:30"}) from None


def _date(value: str, field: str, required: bool = True) -> date | None:
    if not value.strip():
        if required:
            raise Refused({field: "Enter a date"})
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Refused({field: "Enter a date"}) from None


async def client_plan(repo: Repository, client_id: str) -> SessionPlan | None:
    plans = await repo.find(SessionPlan, "client_id", client_id)
    return max(plans, key=lambda p: p.created_at) if plans else None


async def proposed_plan(repo: Repository, client_id: str, today: date) -> SessionPlan:
    """A plan to start from (not saved): the program's frequency and length from its start
    (or today), else the frequency the referral asked for."""
    episodes = [e for e in await repo.find(Episode, "client_id", client_id) if e.is_active]
    ep = max(episodes, key=lambda e: (e.start_date, e.created_at)) if episodes else None
    referrals = await repo.find(Referral, "client_id", client_id)
    ref = max(referrals, key=lambda r: (r.referred_on, r.created_at)) if referrals else None
    per_week = sessions_per_week(
        ep.program.expected_sessions if ep else None,
        ep.program.expected_weeks if ep else None,
        ref.requested_frequency if ref else "",
    )
    starts = max(ep.start_date, today) if ep else today
    return SessionPlan(
        client_id=client_id,
        episode_id=ep.id if ep else None,
        starts_on=starts,
        ends_on=plan_end(ep.start_date, ep.program.expected_weeks) if ep else None,
        slots=default_slots(per_week),
    )


async def save_plan(repo: Repository, command: SavePlan) -> SessionPlan:
    """Store the client's weekly pattern (one plan per client; its date changes are kept)."""
    client = await repo.get(Client, command.client_id)
    if client is None:
        raise Refused({"__all__": "This client could not be found."})
    starts = _date(command.starts_on, "starts_on")
    ends = _date(command.ends_on, "ends_on", required=False)
    slots = [
        WeeklySlot(weekday=s.weekday, start=_time(s.start, f"slots.{s.weekday}.start"))
        for s in command.slots
    ]
    minutes_text = command.minutes.strip() or "60"
    if not minutes_text.isdigit():
        raise Refused({"minutes": "Enter the session length in minutes"})
    current = await client_plan(repo, client.id)
    episodes = [e for e in await repo.find(Episode, "client_id", client.id) if e.is_active]
    ep = max(episodes, key=lambda e: (e.start_date, e.created_at)) if episodes else None
    edit = (
        {"id": current.id, "created_at": current.created_at, "updated_at": utc_now()}
        if current
        else {}
    )
    try:
        plan = SessionPlan(
            client_id=client.id,
            episode_id=ep.id if ep else (current.episode_id if current else None),
            starts_on=starts,
            ends_on=ends,
            minutes=int(minutes_text),
            slots=slots,
            changes=current.changes if current else [],
            **edit,
        )
    except ValidationError as exc:
        raise Refused.invalid(
            exc, {"The last day cannot be before the first day": "ends_on"}
        ) from exc
    await repo.save(plan)
    return plan


async def change_date(repo: Repository, command: ChangeDate) -> SessionPlan:
    plan = await client_plan(repo, command.client_id)
    if plan is None:
        raise Refused({"__all__": "This client has no plan of sessions yet."})
    change: DateChange | None = None
    if command.change == "remove":
        change = DateChange(planned_on=command.planned_on, removed=True)
    elif command.change == "move":
        day = _date(command.moved_to_date, "moved_to_date")
        assert day is not None
        at = _time(command.moved_to_time, "moved_to_time")
        change = DateChange(planned_on=command.planned_on, moved_to=datetime.combine(day, at))
    updated = plan.model_copy(
        update={"changes": plan.with_change(change, command.planned_on), "updated_at": utc_now()}
    )
    await repo.save(SessionPlan.model_validate(updated.model_dump()))
    return updated


async def record_attendance(repo: Repository, command: RecordAttendance) -> SessionLog:
    """A cancelled or missed session, recorded as the day's session log (a draft to sign
    with the others). Refused when that day already has a log, or for a day to come."""
    if command.attendance is Attendance.ATTENDED:
        raise Refused({"attendance": "Start the session to record an attended one."})
    if command.session_date > command.today:
        raise Refused({"__all__": "Record attendance on the day or after, not ahead."})
    client = await repo.get(Client, command.client_id)
    if client is None:
        raise Refused({"__all__": "This client could not be found."})
    logs = await repo.find(SessionLog, "client_id", client.id)
    if any(lg.session_date == command.session_date for lg in logs):
        raise Refused({"__all__": "This day already has a session log for this client."})
    episode = episode_on(await repo.find(Episode, "client_id", client.id), command.session_date)
    try:
        log = SessionLog(
            client_id=client.id,
            episode_id=episode.id if episode else None,
            session_date=command.session_date,
            start_time=command.start_time,
            attendance=command.attendance,
            attendance_reason=command.reason.strip(),
        )
    except ValidationError as exc:
        raise Refused.invalid(exc, {"Give the reason for the cancellation": "reason"}) from exc
    return await save_draft_log(repo, log)


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledRow:
    session: PlannedSession
    client: Client
    state: AttendanceState
    log_id: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


async def _plans(repo: Repository) -> tuple[list[SessionPlan], dict[str, Client]]:
    clients = {c.id: c for c in await repo.list(Client) if c.status is not ClientStatus.DISCHARGED}
    latest: dict[str, SessionPlan] = {}
    for p in await repo.list(SessionPlan):
        if p.client_id in clients and (
            p.client_id not in latest or p.created_at > latest[p.client_id].created_at
        ):
            latest[p.client_id] = p
    return list(latest.values()), clients


async def scheduled(
    repo: Repository,
    first: date,
    last: date,
    today: date,
    *,
    summaries: dict[str, ClientSummary] | None = None,
) -> list[ScheduledRow]:
    """Every planned session from ``first`` to ``last``, with its attendance (the sessions
    logged on those days from the client summaries, or from the client's logs for days the
    summary does not hold)."""
    plans, clients = await _plans(repo)
    sessions = sessions_between(plans, first, last)
    planned = {s.client_id for s in sessions}
    if summaries is None and planned:
        summaries = await client_summaries(repo, [clients[c] for c in planned])
    logs: dict[str, list[LogOnDay]] = {}
    for client_id in planned:
        summary = (summaries or {}).get(client_id)
        held = summary.logs_on(first, last) if summary is not None else None
        if held is None:
            logs[client_id] = [
                LogOnDay(lg.client_id, lg.session_date, lg.attendance, lg.id)
                for lg in sorted(await client_logs(repo, client_id), key=log_order)
                if first <= lg.session_date <= last
            ]
        else:
            logs[client_id] = [
                LogOnDay(client_id, d.session_date, d.attendance, d.id) for d in held
            ]
    rows = []
    for s in sessions:
        same = [lg for lg in logs[s.client_id] if lg.session_date == s.day]
        rows.append(
            ScheduledRow(
                s,
                clients[s.client_id],
                attendance_of(s, same, today),
                same[0].log_id if same else "",
            )
        )
    return rows


def _short_name(client: Client) -> str:
    """First name and initial: enough to recognise the client in a synced calendar."""
    last = client.last_name.strip()
    return f"{client.first_name} {last[:1]}." if last else client.first_name


def _events(rows: list[tuple[PlannedSession, Client]], business: str) -> list[Event]:
    return [
        Event(
            uid=f"{s.plan_id}-{s.planned_on.strftime('%Y%m%d')}@medex-practice",
            start=s.at,
            minutes=s.minutes,
            summary=f"Session: {_short_name(c)}",
            description="Exercise session" + (f", {business}" if business else ""),
        )
        for s, c in rows
    ]


async def week_ics(repo: Repository, monday: date, stamp: datetime, business: str = "") -> str:
    plans, clients = await _plans(repo)
    sessions = sessions_between(plans, monday, monday + timedelta(days=6))
    return calendar(
        _events([(s, clients[s.client_id]) for s in sessions], business),
        f"Sessions, week of {monday.strftime('%b %-d, %Y')}",
        stamp,
    )


async def client_ics(
    repo: Repository, client_id: str, today: date, stamp: datetime, business: str = ""
) -> str:
    """The client's plan from today to its last day (12 weeks ahead when it has none)."""
    plan = await client_plan(repo, client_id)
    client = await repo.get(Client, client_id)
    if plan is None or client is None:
        raise Refused({"__all__": "This client has no plan of sessions yet."})
    first = max(today, plan.starts_on)
    last = plan.ends_on or first + timedelta(weeks=12)
    sessions = planned_sessions(plan, first, last)
    return calendar(
        _events([(s, client) for s in sessions], business),
        f"Sessions: {_short_name(client)}",
        stamp,
    )


def attendance_choices() -> list[tuple[str, str]]:
    return [(a.value, ATTENDANCE_LABELS[a]) for a in (Attendance.CANCELLED, Attendance.NO_SHOW)]
