"""The schedule: plans from the program's frequency, sessions across weeks, date changes,
attendance from the session logs, and the .ics export (RFC 5545: folding, escaping, floating
local times)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from medex.forms import Refused
from medex.ical import Event, calendar, escape_text, fold
from medex.intake import Client
from medex.repository import InMemoryRepository
from medex.schedule import (
    DateChange,
    LogOnDay,
    SessionPlan,
    WeeklySlot,
    attendance_of,
    default_slots,
    plan_end,
    planned_sessions,
    requested_per_week,
    sessions_per_week,
    week_start,
)
from medex.services.schedule import (
    ChangeDate,
    RecordAttendance,
    SavePlan,
    TypedSlot,
    change_date,
    client_ics,
    client_plan,
    record_attendance,
    save_plan,
    scheduled,
    week_ics,
)
from medex.session_logs import Attendance
from tests.support.aio import run

TODAY = date(2026, 3, 10)  # a Tuesday
STAMP = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def plan(**kw) -> SessionPlan:
    data = dict(
        client_id="c",
        starts_on=date(2026, 3, 9),
        slots=[WeeklySlot(weekday=0, start=time(9)), WeeklySlot(weekday=3, start=time(14, 30))],
    )
    data.update(kw)
    return SessionPlan(**data)


# -- frequency -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sessions", "weeks", "requested", "expected"),
    [
        (24, 12, "", 2),
        (36, 12, "", 3),
        (10, 12, "", 1),
        (100, 4, "", 7),
        (None, 12, "3x/week", 3),
        (None, None, "2 sessions a week", 2),
        (None, None, "twice weekly", 2),
        (None, None, "three times per week", 3),
        (None, None, "8 weeks", 2),  # a duration, not a frequency: the default
        (None, None, "", 2),
    ],
)
def test_sessions_per_week_from_the_program_then_the_referral(sessions, weeks, requested, expected):
    assert sessions_per_week(sessions, weeks, requested) == expected


def test_requested_frequency_without_a_week_is_not_read():
    assert requested_per_week("2 sessions") is None
    assert requested_per_week("12 per week") is None


def test_default_days_spread_the_week():
    assert [s.weekday for s in default_slots(2)] == [0, 3]
    assert [s.weekday for s in default_slots(3)] == [0, 2, 4]
    assert all(s.start == time(9) for s in default_slots(1))
    assert plan_end(date(2026, 3, 9), 12) == date(2026, 5, 31)


# -- generation ------------------------------------------------------------------------------


def test_sessions_across_weeks_in_time_order():
    got = planned_sessions(plan(), date(2026, 3, 1), date(2026, 3, 22))
    assert [s.at for s in got] == [
        datetime(2026, 3, 9, 9),
        datetime(2026, 3, 12, 14, 30),
        datetime(2026, 3, 16, 9),
        datetime(2026, 3, 19, 14, 30),
    ]
    assert all(s.minutes == 60 for s in got)


def test_the_plan_runs_from_its_first_to_its_last_day():
    p = plan(starts_on=date(2026, 3, 10), ends_on=date(2026, 3, 16))
    days = [s.day for s in planned_sessions(p, date(2026, 3, 1), date(2026, 4, 30))]
    assert days == [date(2026, 3, 12), date(2026, 3, 16)]


def test_a_year_boundary_and_a_long_range():
    p = plan(starts_on=date(2025, 12, 29), slots=[WeeklySlot(weekday=2, start=time(8))])
    got = planned_sessions(p, date(2025, 12, 29), date(2026, 1, 14))
    assert [s.day for s in got] == [date(2025, 12, 31), date(2026, 1, 7), date(2026, 1, 14)]
    assert len(planned_sessions(p, date(2026, 1, 1), date(2026, 12, 31))) == 52


def test_a_moved_session_shows_on_its_new_day_and_a_removed_one_not_at_all():
    p = plan(
        changes=[
            DateChange(planned_on=date(2026, 3, 12), moved_to=datetime(2026, 3, 13, 10)),
            DateChange(planned_on=date(2026, 3, 16), removed=True),
        ]
    )
    got = planned_sessions(p, date(2026, 3, 9), date(2026, 3, 22))
    assert [(s.at, s.moved) for s in got] == [
        (datetime(2026, 3, 9, 9), False),
        (datetime(2026, 3, 13, 10), True),
        (datetime(2026, 3, 19, 14, 30), False),
    ]
    # Moved into another week: listed in that week only.
    p = plan(changes=[DateChange(planned_on=date(2026, 3, 12), moved_to=datetime(2026, 3, 17, 9))])
    assert date(2026, 3, 12) not in [
        s.day for s in planned_sessions(p, date(2026, 3, 9), date(2026, 3, 15))
    ]
    assert datetime(2026, 3, 17, 9) in [
        s.at for s in planned_sessions(p, date(2026, 3, 16), date(2026, 3, 22))
    ]


def test_a_plan_needs_days_once_each_and_a_consistent_change():
    with pytest.raises(ValueError, match="at least one day"):
        plan(slots=[])
    with pytest.raises(ValueError, match="once"):
        plan(slots=[WeeklySlot(weekday=1, start=time(9)), WeeklySlot(weekday=1, start=time(17))])
    with pytest.raises(ValueError, match="before the first day"):
        plan(ends_on=date(2026, 3, 1))
    with pytest.raises(ValueError, match="another day"):
        DateChange(planned_on=TODAY)


def test_week_start_is_monday():
    assert week_start(date(2026, 3, 15)) == date(2026, 3, 9)
    assert week_start(date(2026, 3, 9)) == date(2026, 3, 9)


# -- attendance ------------------------------------------------------------------------------


def test_attendance_comes_from_the_days_log():
    s = planned_sessions(plan(), date(2026, 3, 9), date(2026, 3, 9))[0]
    assert attendance_of(s, [], TODAY) == "unrecorded"
    assert attendance_of(s, [], date(2026, 3, 9)) == "today"
    assert attendance_of(s, [], date(2026, 3, 1)) == "upcoming"
    logs = [LogOnDay("c", date(2026, 3, 9), Attendance.NO_SHOW)]
    assert attendance_of(s, logs, TODAY) == "no_show"
    logs.append(LogOnDay("c", date(2026, 3, 9), Attendance.ATTENDED))
    assert attendance_of(s, logs, TODAY) == "attended"
    assert attendance_of(s, [LogOnDay("other", date(2026, 3, 9), Attendance.ATTENDED)], TODAY) == (
        "unrecorded"
    )


# -- use cases -------------------------------------------------------------------------------


def _repo() -> tuple[InMemoryRepository, Client]:
    repo = InMemoryRepository()
    client = Client(
        first_name="Ana", last_name="López", date_of_birth=date(1958, 3, 10), sex="female"
    )
    run(repo.save(client))
    return repo, client


def _save(repo, client, **kw):
    data = dict(
        client_id=client.id,
        starts_on="2026-03-09",
        minutes="45",
        slots=[TypedSlot(weekday=1, start="10:00"), TypedSlot(weekday=4, start="16:15")],
    )
    data.update(kw)
    return run(save_plan(repo, SavePlan(**data)))


def test_save_plan_refuses_by_field_and_keeps_one_plan_per_client():
    repo, client = _repo()
    with pytest.raises(Refused) as exc:
        _save(repo, client, starts_on="")
    assert "starts_on" in exc.value.errors
    with pytest.raises(Refused) as exc:
        _save(repo, client, slots=[TypedSlot(weekday=1, start="25:00")])
    assert exc.value.errors == {"slots.1.start": "Enter a time, e.g. 09:30"}
    with pytest.raises(Refused) as exc:
        _save(repo, client, ends_on="2026-03-01")
    assert "ends_on" in exc.value.errors
    with pytest.raises(Refused) as exc:
        _save(repo, client, slots=[])
    assert "slots" in exc.value.errors
    assert run(client_plan(repo, client.id)) is None
    first = _save(repo, client)
    second = _save(repo, client, minutes="60")
    assert first.id == second.id
    assert run(client_plan(repo, client.id)).minutes == 60


def test_today_list_a_no_show_and_a_moved_date():
    repo, client = _repo()
    _save(repo, client)
    rows = run(scheduled(repo, TODAY, TODAY, TODAY))
    assert [(r.session.at, r.state) for r in rows] == [(datetime(2026, 3, 10, 10), "today")]
    log = run(
        record_attendance(
            repo,
            RecordAttendance(
                client_id=client.id,
                session_date=TODAY,
                attendance=Attendance.NO_SHOW,
                start_time=time(10),
                today=TODAY,
            ),
        )
    )
    assert log.attendance is Attendance.NO_SHOW and not log.is_signed
    rows = run(scheduled(repo, TODAY, TODAY, TODAY))
    assert rows[0].state == "no_show" and rows[0].log_id == log.id
    with pytest.raises(Refused, match="already has a session log"):
        run(
            record_attendance(
                repo,
                RecordAttendance(
                    client_id=client.id,
                    session_date=TODAY,
                    attendance=Attendance.CANCELLED,
                    reason="Sick",
                    today=TODAY,
                ),
            )
        )
    run(
        change_date(
            repo,
            ChangeDate(
                client_id=client.id,
                planned_on=date(2026, 3, 13),
                change="move",
                moved_to_date="2026-03-14",
                moved_to_time="09:00",
            ),
        )
    )
    week = run(scheduled(repo, date(2026, 3, 9), date(2026, 3, 15), TODAY))
    assert [r.session.at for r in week] == [datetime(2026, 3, 10, 10), datetime(2026, 3, 14, 9)]
    run(
        change_date(
            repo, ChangeDate(client_id=client.id, planned_on=date(2026, 3, 13), change="restore")
        )
    )
    week = run(scheduled(repo, date(2026, 3, 9), date(2026, 3, 15), TODAY))
    assert week[-1].session.at == datetime(2026, 3, 13, 16, 15)


def test_a_cancellation_needs_its_reason_and_a_day_to_come_is_refused():
    repo, client = _repo()
    base = dict(client_id=client.id, attendance=Attendance.CANCELLED, today=TODAY)
    with pytest.raises(Refused) as exc:
        run(record_attendance(repo, RecordAttendance(**base, session_date=TODAY)))
    assert "reason" in exc.value.errors
    with pytest.raises(Refused):
        run(
            record_attendance(
                repo, RecordAttendance(**base, session_date=date(2026, 3, 11), reason="Away")
            )
        )


# -- .ics ------------------------------------------------------------------------------------


def test_text_escaping():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert escape_text("x\r\ny") == "x\\ny"


def test_folding_at_75_octets_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line
    assert fold("SHORT:x") == "SHORT:x"


def test_calendar_lines_and_floating_times():
    text = calendar(
        [Event("u1@x", datetime(2026, 3, 10, 9, 30), 45, "Session: Ana L.", "Note, with; marks")],
        "Week",
        STAMP,
    )
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "DTSTART:20260310T093000" in lines
    assert "DTEND:20260310T101500" in lines
    assert "DTSTAMP:20260310T120000Z" in lines
    assert "DESCRIPTION:Note\\, with\\; marks" in lines
    assert "\n" not in text.replace("\r\n", "")


def test_ics_exports_parse_back_with_icalendar():
    icalendar = pytest.importorskip("icalendar")
    repo, client = _repo()
    _save(repo, client, ends_on="2026-03-31")
    week = run(week_ics(repo, date(2026, 3, 9), STAMP, "Reyes Medical Exercise"))
    cal = icalendar.Calendar.from_ical(week)
    events = list(cal.walk("VEVENT"))
    assert [e.decoded("DTSTART") for e in events] == [
        datetime(2026, 3, 10, 10),
        datetime(2026, 3, 13, 16, 15),
    ]
    assert events[0].decoded("DTSTART").tzinfo is None  # floating local time
    assert str(events[0]["SUMMARY"]) == "Session: Ana L."
    assert str(events[0]["DESCRIPTION"]) == "Exercise session, Reyes Medical Exercise"
    assert len({str(e["UID"]) for e in events}) == 2
    whole = run(client_ics(repo, client.id, TODAY, STAMP))
    assert len(list(icalendar.Calendar.from_ical(whole).walk("VEVENT"))) == 7  # Mar 10 … Mar 31
    assert "López" not in whole  # the calendar gets first name and initial only
