"""The referral partner and schedule screens driven through the DOM-free App: the pipeline
list, a partner's outreach form (refused → what was typed kept), the dormancy setting, the
plan form (a bad time next to its day), today's list, a no-show and the .ics download."""

from __future__ import annotations

import pytest

from app import core
from medex.partners import Outreach
from medex.schedule import SessionPlan
from medex.session_logs import Attendance, SessionLog
from tests.support.aio import run
from tests.support.pages import Elements
from tests.support.screens import SESSIONS_TODAY, session_app
from tests.support.seeders import add_client, add_provider

TODAY = SESSIONS_TODAY  # a Tuesday


@pytest.fixture
def app(monkeypatch):
    return session_app(monkeypatch)  # the app on TODAY with the practice profile saved


def html(app, location):
    app.navigate(location)
    return run(app.html())


def test_the_schedule_is_in_the_menu_after_home():
    core.load_screens()
    names = [name for name, _ in core.NAVIGATION]
    assert names.index("") < names.index("schedule") < names.index("clients")


def test_a_prospect_contacted_becomes_introduced(app):
    provider = add_provider(app)
    listing = Elements(html(app, "#/providers"))
    assert "Prospect" in listing.text["provider-list"]
    app.navigate(f"#/provider?id={provider.id}")
    typed = {
        "provider_id": provider.id,
        "contacted_on": "2026-03-09",
        "method": "visit",
        "note": "Met the nurse manager",
        "next_follow_up": "2026-03-01",
    }
    run(app.dispatch("log-outreach", typed))
    page = Elements(run(app.html()))
    assert "before the contact" in page.text["error-next_follow_up"]
    assert page.text["field-note"] == "Met the nurse manager"
    assert run(app.repo.list(Outreach)) == []
    run(app.dispatch("log-outreach", {**typed, "next_follow_up": "2026-03-24"}))
    assert app.state.flash == "Visit on Mar 9, 2026 logged."
    page = Elements(run(app.html()))
    assert page.text["partner-stage"] == "Introduced"
    assert "Met the nurse manager" in page.text["outreach-log"]
    assert "Mar 24, 2026" in page.text["partner-follow-up"]


def test_the_introduction_letter_prints_the_caseload_and_is_logged(app):
    provider = add_provider(app, name="Helen Brooks")
    page = Elements(html(app, f"#/partner-letter?id={provider.id}"))
    assert "Dear Dr. Brooks," in page.text["partner-letter-preview"]
    assert "Discharge criteria met" in page.text["partner-letter-preview"]
    run(app.dispatch("partner-letter-printed", {"provider": provider.id}))
    run(app.dispatch("partner-letter-printed", {"provider": provider.id}))
    logged = run(app.repo.list(Outreach))
    assert len(logged) == 1 and logged[0].introduction_letter


def test_the_dormancy_setting_refuses_nonsense(app):
    app.navigate("#/providers")
    run(app.dispatch("save-partner-settings", {"dormant_after_months": "0"}))
    page = Elements(run(app.html()))
    assert "Between 1 and 36" in page.text["error-dormant_after_months"]
    assert page.inputs["dormant_after_months"]["value"] == "0"
    run(app.dispatch("save-partner-settings", {"dormant_after_months": "9"}))
    assert "9 months" in app.state.flash


def _plan_form(client_id, **extra):
    data = {
        "client_id": client_id,
        "starts_on": "2026-03-09",
        "ends_on": "",
        "minutes": "60",
        "day_1": "1",
        "time_1": "08:15",
        "day_4": "1",
        "time_4": "17:00",
    }
    data.update(extra)
    return data


def test_the_plan_form_shows_a_bad_time_next_to_its_day_and_keeps_the_rest(app):
    client = add_client(app)
    page = Elements(html(app, f"#/schedule-plan?client={client.id}"))
    assert "checked" in page.inputs["day_0"]  # the default pattern: Mon, Thu
    run(app.dispatch("save-plan", _plan_form(client.id, time_4="")))
    page = Elements(run(app.html()))
    assert "Enter a time" in page.text["error-time_4"]
    assert page.inputs["time_1"]["value"] == "08:15"
    assert "checked" not in page.inputs["day_0"]
    assert run(app.repo.list(SessionPlan)) == []
    run(app.dispatch("save-plan", _plan_form(client.id)))
    assert app.state.flash == "Plan saved: Tuesday 08:15, Friday 17:00."


def test_today_a_no_show_and_the_week_as_a_calendar_file(app):
    client = add_client(app)
    run(app.dispatch("save-plan", _plan_form(client.id)))
    page = Elements(html(app, "#/schedule"))
    assert "08:15" in page.text["schedule-day"] and "López" in page.text["schedule-day"]
    run(
        app.dispatch(
            "record-attendance",
            {
                "client_id": client.id,
                "session_date": "2026-03-10",
                "start_time": "08:15",
                "attendance": "cancelled",
                "reason": "",
            },
        )
    )
    page = Elements(run(app.html()))
    assert "Give the reason" in page.text["schedule-day"]
    run(
        app.dispatch(
            "record-attendance",
            {
                "client_id": client.id,
                "session_date": "2026-03-10",
                "start_time": "08:15",
                "attendance": "no_show",
            },
        )
    )
    logs = run(app.repo.list(SessionLog))
    assert [(lg.attendance, lg.session_date) for lg in logs] == [(Attendance.NO_SHOW, TODAY)]
    assert "No-show" in Elements(run(app.html())).text["schedule-day"]
    week = Elements(html(app, "#/schedule?view=week"))
    assert "Friday" in week.text["schedule-week"]
    run(app.dispatch("export-week-ics", {"week": "2026-03-10"}))
    files = app.platform.files
    assert list(files) == ["sessions-week-2026-03-09.ics"]
    text = files["sessions-week-2026-03-09.ics"]
    assert "DTSTART:20260310T081500\r\n" in text and "DTSTART:20260313T170000\r\n" in text
    run(app.dispatch("export-client-ics", {"client": client.id}))
    assert "sessions-ana.ics" in files
