"""The demo practice's schedule: each client on a program has a weekly plan (saved through the
schedule's use case) and the session logs fall on its dates, so that whatever day the demo
is opened, today's list and the week show real-looking sessions: three clients today, the
attended sessions of the past with their signed logs, a cancellation and one no-show."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from medex.demo import CLIENTS, build_demo_practice
from medex.intake import Client
from medex.schedule import SessionPlan, planned_sessions, week_start
from medex.services.home import home_page
from medex.services.schedule import client_plan, scheduled
from medex.session_logs import Attendance, SessionLog
from tests.support.aio import run
from tests.support.fakes import DataRepo, FakeSigner

TODAY = date(2026, 3, 10)  # a Tuesday
ON_PROGRAM = [c for c in CLIENTS if c.program]


def _build(today: date) -> DataRepo:
    repo = DataRepo()
    run(build_demo_practice(repo, today, signer=FakeSigner()))
    return repo


@pytest.fixture(scope="module")
def demo() -> DataRepo:
    return _build(TODAY)


def _names(repo: DataRepo) -> dict[str, str]:
    return {c.id: c.full_name for c in run(repo.list(Client))}


def test_every_client_on_a_program_has_one_plan_and_the_new_referral_none(demo):
    plans = run(demo.list(SessionPlan))
    names = _names(demo)
    assert sorted(names[p.client_id] for p in plans) == sorted(
        f"{c.person['first_name']} {c.person['last_name']}" for c in ON_PROGRAM
    )
    for plan in plans:
        assert plan.episode_id  # the running program's
        assert len(plan.slots) == 2 and plan.minutes == 60
        assert plan.ends_on is not None and plan.ends_on > TODAY


def test_every_session_log_falls_on_its_clients_plan(demo):
    for log in run(demo.list(SessionLog)):
        plan = run(client_plan(demo, log.client_id))
        assert plan is not None
        days = [s.day for s in planned_sessions(plan, log.session_date, log.session_date)]
        assert days == [log.session_date], log.session_date
        slot = next(s for s in plan.slots if s.weekday == log.session_date.weekday())
        assert log.start_time == slot.start


@pytest.mark.parametrize("offset", range(7))
def test_today_lists_three_clients_whatever_the_weekday(offset):
    today = TODAY + timedelta(days=offset)
    repo = _build(today)
    rows = run(scheduled(repo, today, today, today))
    assert len(rows) == 3
    assert {r.state for r in rows} == {"today"}
    assert [r.session.at.strftime("%H:%M") for r in rows] == ["09:00", "10:30", "13:00"]
    assert {r.client.full_name for r in rows} == {"Ann Lee", "Robert Hughes", "Linda Park"}


def test_the_last_days_show_signed_sessions_a_cancellation_a_no_show_and_a_log_to_sign(demo):
    rows = run(scheduled(demo, TODAY - timedelta(days=7), TODAY - timedelta(days=1), TODAY))
    states = [(r.client.full_name, r.session.day, r.state) for r in rows]
    ago = {n: TODAY - timedelta(days=n) for n in range(8)}
    assert ("Robert Hughes", ago[3], "no_show") in states
    assert ("Robert Hughes", ago[7], "cancelled") in states
    assert ("Ann Lee", ago[2], "attended") in states
    assert ("George Alvarez", ago[2], "attended") in states
    assert [s for s in states if s[2] == "no_show"] == [("Robert Hughes", ago[3], "no_show")]
    # Linda Park has not come for 17 days: her planned sessions since are not recorded.
    assert {s[2] for s in states if s[0] == "Linda Park"} == {"unrecorded"}
    logs = {lg.id: lg for lg in run(demo.list(SessionLog))}
    george = next(r.client.id for r in rows if r.client.full_name == "George Alvarez")
    for row in rows:
        if row.state in ("attended", "cancelled", "no_show"):
            log = logs[row.log_id]
            assert log.session_date == row.session.day
            assert log.is_signed == (log.session_date != ago[2] or log.client_id != george)
    (draft,) = [lg for lg in logs.values() if not lg.is_signed]
    assert (draft.client_id, draft.session_date) == (george, ago[2])
    assert draft.attendance is Attendance.ATTENDED


def test_a_friday_week_has_past_sessions_and_today():
    friday = date(2026, 3, 13)
    repo = _build(friday)
    monday = week_start(friday)
    rows = run(scheduled(repo, monday, monday + timedelta(days=6), friday))
    states = {r.state for r in rows}
    assert {"attended", "no_show", "today"} <= states
    assert all(r.session.day < friday for r in rows if r.state in ("attended", "no_show"))


def test_the_schedule_is_the_same_for_the_same_today():
    def week(repo: DataRepo) -> list[tuple[str, str, str]]:
        first = week_start(TODAY) - timedelta(days=7)
        rows = run(scheduled(repo, first, first + timedelta(days=20), TODAY))
        return [(r.client.full_name, r.session.at.isoformat(), r.state) for r in rows]

    assert week(_build(TODAY)) == week(_build(TODAY))


def test_the_plans_keep_the_demos_home_story(demo):
    page = run(home_page(demo, TODAY))
    risks = {(r.kind, r.client_name) for r in page.risks}
    assert risks == {("missed_sessions", "Robert Hughes"), ("no_recent_session", "Linda Park")}
