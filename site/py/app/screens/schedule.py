"""The schedule: today's sessions and the week, each client's plan (a weekly pattern changed
date by date), attendance, and the .ics exports for the practitioner's own calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from medex.forms import Refused
from medex.intake import Client, ClientStatus
from medex.records import utc_now
from medex.schedule import WEEKDAYS, planned_sessions, week_start
from medex.services.practice import load_practice_profile
from medex.services.schedule import (
    ChangeDate,
    RecordAttendance,
    attendance_choices,
    change_date,
    client_ics,
    client_plan,
    proposed_plan,
    record_attendance,
    save_plan,
    scheduled,
    week_ics,
)
from medex.session_logs import Attendance

from .. import clock
from ..core import App, View, action, route
from ..forms import refuse, text
from ..partners_form import bind_plan, plan_values

PLAN_FORM = "plan"
ATTENDANCE_FORM = "attendance"


def _day(value: str, default: date) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return default


@route("schedule", label="Schedule", order=5)
async def schedule(app: App, params: dict[str, str]) -> View:
    today = clock.today()
    day = _day(params.get("date", ""), today)
    view = "week" if params.get("view") == "week" else "day"
    if view == "week":
        first = week_start(day)
        last = first + timedelta(days=6)
        step = timedelta(days=7)
    else:
        first = last = day
        step = timedelta(days=1)
    rows = await scheduled(app.repo, first, last, today)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    clients = sorted(
        (c for c in await app.repo.list(Client) if c.status is not ClientStatus.DISCHARGED),
        key=lambda c: c.sort_name,
    )
    planned = {
        r.client.id for r in await scheduled(app.repo, today, today + timedelta(days=27), today)
    }
    form = app.state.forms.get(ATTENDANCE_FORM)
    return "views/schedule.html", {
        "view": view,
        "day": day,
        "today": today,
        "days": [(d, [r for r in rows if r.session.day == d]) for d in days],
        "rows": rows,
        "prev": (day - step).isoformat(),
        "next": (day + step).isoformat(),
        "week_of": first,
        "clients": clients,
        "planned": planned,
        "choices": attendance_choices(),
        "attendance_values": form.values if form else {},
        "attendance_errors": form.errors if form else {},
    }


@route("schedule-plan")
async def schedule_plan(app: App, params: dict[str, str]) -> View:
    today = clock.today()
    client = await app.repo.get(Client, params.get("client", ""))
    if client is None:
        return "views/schedule_plan.html", {"client": None}
    current = await client_plan(app.repo, client.id)
    shown = current or await proposed_plan(app.repo, client.id, today)
    form = app.state.forms.get(PLAN_FORM)
    if form and form.values.get("client_id") == client.id:
        values, errors = form.values, form.errors
    else:
        values = {
            "starts_on": shown.starts_on.isoformat(),
            "ends_on": shown.ends_on.isoformat() if shown.ends_on else "",
            "minutes": str(shown.minutes),
        }
        by_day = {s.weekday: s for s in shown.slots}
        for n in range(len(WEEKDAYS)):
            slot = by_day.get(n)
            values[f"day_{n}"] = slot is not None
            values[f"time_{n}"] = (slot.start if slot else shown.slots[0].start).strftime("%H:%M")
        errors = {}
    upcoming = []
    if current is not None:
        first = max(today, current.starts_on)
        last = first + timedelta(weeks=4)
        if current.ends_on is not None:
            last = min(last, current.ends_on)
        sessions = planned_sessions(current, first, last)
        shown_dates = {s.planned_on for s in sessions}
        removed = [c for c in current.changes if c.removed and first <= c.planned_on <= last]
        upcoming = [(s, False) for s in sessions] + [
            (c, True) for c in removed if c.planned_on not in shown_dates
        ]
        upcoming.sort(key=lambda item: item[0].planned_on)
    return "views/schedule_plan.html", {
        "client": client,
        "plan": current,
        "values": {**values, "client_id": client.id},
        "errors": errors,
        "weekdays": list(enumerate(WEEKDAYS)),
        "upcoming": upcoming,
        "today": today,
    }


@action("save-plan")
async def save_plan_action(app: App, data: dict[str, Any]) -> None:
    client_id = text(data, "client_id")
    bound = bind_plan(data, client_id)
    try:
        saved = await save_plan(app.repo, bound.command)
    except Refused as exc:
        refuse(app, PLAN_FORM, {**plan_values(data), "client_id": client_id}, exc, bound.field)
        return
    app.state.forms.pop(PLAN_FORM, None)
    app.state.flash = f"Plan saved: {saved.pattern_text}."


@action("change-plan-date")
async def change_plan_date(app: App, data: dict[str, Any]) -> None:
    try:
        command = ChangeDate(
            client_id=text(data, "client_id"),
            planned_on=date.fromisoformat(text(data, "planned_on")),
            change=text(data, "change"),
            moved_to_date=text(data, "moved_to_date"),
            moved_to_time=text(data, "moved_to_time"),
        )
        await change_date(app.repo, command)
    except Refused as exc:
        app.state.flash = " ".join(exc.errors.values())
        return
    except ValueError:
        app.state.flash = "Choose the new day and time."
        return
    words = {
        "move": "Session moved.",
        "remove": "Session taken off the plan.",
        "restore": "Session back on the plan.",
    }
    app.state.flash = words[command.change]


@action("record-attendance")
async def record_attendance_action(app: App, data: dict[str, Any]) -> None:
    key = f"{text(data, 'client_id')}:{text(data, 'session_date')}"
    try:
        command = RecordAttendance(
            client_id=text(data, "client_id"),
            session_date=date.fromisoformat(text(data, "session_date")),
            attendance=Attendance(text(data, "attendance")),
            reason=text(data, "reason"),
            start_time=text(data, "start_time") or None,
            today=clock.today(),
        )
        log = await record_attendance(app.repo, command)
    except Refused as exc:
        values = {
            "key": key,
            "attendance": text(data, "attendance"),
            "reason": text(data, "reason"),
        }
        refuse(app, ATTENDANCE_FORM, values, exc)
        return
    except ValueError:
        app.state.flash = "Choose cancelled or no-show."
        return
    app.state.forms.pop(ATTENDANCE_FORM, None)
    client = await app.repo.get(Client, log.client_id)
    name = client.full_name if client else "The client"
    label = "a no-show" if log.attendance is Attendance.NO_SHOW else "cancelled"
    app.state.flash = f"{name}: recorded as {label}. Sign the session log with your others."


@action("export-week-ics")
async def export_week_ics(app: App, data: dict[str, Any]) -> None:
    monday = week_start(_day(text(data, "week"), clock.today()))
    profile = await load_practice_profile(app.repo)
    ics = await week_ics(app.repo, monday, utc_now(), profile.business_name if profile else "")
    app.platform.download(f"sessions-week-{monday.isoformat()}.ics", ics, "text/calendar")
    app.state.flash = "The week's sessions downloaded as a calendar file (.ics)."


@action("export-client-ics")
async def export_client_ics(app: App, data: dict[str, Any]) -> None:
    client_id = text(data, "client")
    profile = await load_practice_profile(app.repo)
    try:
        ics = await client_ics(
            app.repo, client_id, clock.today(), utc_now(), profile.business_name if profile else ""
        )
    except Refused as exc:
        app.state.flash = " ".join(exc.errors.values())
        return
    client = await app.repo.get(Client, client_id)
    first = (client.first_name if client else "client").lower().replace(" ", "-")
    app.platform.download(f"sessions-{first}.ics", ics, "text/calendar")
    app.state.flash = "The client's planned sessions downloaded as a calendar file (.ics)."
