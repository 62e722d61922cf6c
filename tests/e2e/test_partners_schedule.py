"""Referral partners and the schedule in Chromium, on the demo practice (real-looking outcomes):
the pipeline on the providers screen → add a prospect → log a call with a follow-up → print the
practice introduction letter (its PDF carries the caseload's outcomes; printing logs it) →
plan a client's weekly sessions → today's list → record a no-show → the week view → export
the week as .ics and parse it back with ``icalendar``. Screenshots at 768×1024 and 1024×768
go to /tmp/shots-partners/ to be looked at."""

from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar
from playwright.sync_api import expect

from tests.support.browser import assert_accessible, fill, open_app, print_pdf, shoot

SHOTS = Path("/tmp/shots-partners")


def test_referral_partners_and_the_schedule(page, console_errors, tmp_path):
    open_app(page)
    page.get_by_role("button", name="Open the demo practice").click()
    expect(page.locator("#demo-banner")).to_contain_text("DEMO", timeout=180_000)
    expect(page.locator("#dashboard[data-dashboard-ready]")).to_be_visible()
    expect(page.locator("#partner-follow-ups")).to_be_visible()

    # -- the pipeline: the demo's physicians refer; a prospect is added ---------------------
    page.get_by_role("link", name="Providers").click()
    expect(page.get_by_role("heading", name="Referral partners")).to_be_visible()
    expect(page.locator('#provider-list tr[data-stage="referring"]').first).to_be_visible()
    assert_accessible(page, "on the referral partners' pipeline")
    shoot(page, SHOTS, "partners")
    page.locator("#add-provider").click()
    fill(
        page, {"name": "Helen Brooks", "credentials": "MD", "practice": "Lakeside Family Medicine"}
    )
    page.locator("#save-provider").click()
    expect(page.get_by_role("heading", name="Helen Brooks, MD")).to_be_visible()
    expect(page.locator("#partner-stage")).to_have_text("Prospect")

    # An outreach: a follow-up before the contact is refused, what was typed kept.
    today = date.today()
    page.locator("#field-method").select_option(label="Call")
    fill(
        page,
        {
            "note": "Spoke with the practice manager; she asked for our outcomes.",
            "next_follow_up": (today - timedelta(days=3)).isoformat(),
        },
    )
    page.locator("#log-outreach").click()
    expect(page.locator("#error-next_follow_up")).to_contain_text("before the contact")
    expect(page.locator("#field-note")).to_have_value(
        "Spoke with the practice manager; she asked for our outcomes."
    )
    page.locator("#field-next_follow_up").fill(today.isoformat())
    page.locator("#log-outreach").click()
    expect(page.locator("#flash")).to_contain_text("logged")
    expect(page.locator("#partner-stage")).to_have_text("Introduced")
    expect(page.locator("#outreach-log")).to_contain_text("asked for our outcomes")
    expect(page.locator("#partner-follow-up")).to_contain_text("Due")
    assert_accessible(page, "on a referral partner's page")
    shoot(page, SHOTS, "partner")

    # -- the practice introduction letter ---------------------------------------------------
    page.locator("#intro-letter").click()
    preview = page.locator("#partner-letter-preview")
    expect(preview).to_contain_text("Dear Dr. Brooks,")
    expect(preview).to_contain_text("Change from baseline on our main measures")
    page.evaluate("() => { window.print = () => { (window.__printed ||= []).push(1); }; }")
    page.locator("#print-partner-letter").click()
    expect(page.locator("#flash")).to_contain_text("Introduction letter added to the outreach log")
    text = print_pdf(page, SHOTS, "introduction-letter")
    assert "Introducing Reyes Medical Exercise" in text
    assert "discharged" in text and "Discharge criteria met" in text
    assert "Mean change" in text and "By condition" in text
    assert "DEMO" in text
    shoot(page, SHOTS, "intro-letter")
    page.get_by_role("link", name="← Helen Brooks, MD").click()
    expect(page.locator("#outreach-log")).to_contain_text("Practice introduction letter")

    # The follow-up due shows on the home screen.
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#partner-follow-ups")).to_contain_text("Follow up with Helen Brooks, MD")
    shoot(page, SHOTS, "home")

    # -- the schedule ------------------------------------------------------------------------
    page.get_by_role("link", name="Schedule").click()
    expect(page.locator("#client-plans")).to_contain_text("Linda Park")
    page.locator("#client-plans").get_by_role("link", name="Linda Park").click()
    expect(page.get_by_role("heading", name="Planned sessions: Linda Park")).to_be_visible()
    for n in range(7):
        page.locator(f"#field-day_{n}").set_checked(False)
    page.locator("#save-plan").click()
    expect(page.locator("#error-time_0")).to_contain_text("at least one day")
    weekday = today.weekday()
    other = (weekday + 3) % 7
    page.locator(f"#field-day_{weekday}").check()
    page.locator(f"#field-time_{weekday}").fill("07:30")
    page.locator(f"#field-day_{other}").check()
    page.locator(f"#field-time_{other}").fill("16:00")
    page.locator("#field-starts_on").fill(today.isoformat())
    page.locator("#field-ends_on").fill((today + timedelta(weeks=6)).isoformat())
    page.locator("#save-plan").click()
    expect(page.locator("#flash")).to_contain_text("Plan saved")
    expect(page.locator("#plan-upcoming")).to_contain_text("07:30")
    assert_accessible(page, "on a client's plan")
    shoot(page, SHOTS, "plan")

    # Today's list: start a session from it is offered; record a no-show instead.
    page.get_by_role("link", name="← Schedule").click()
    row = page.locator('#schedule-day li[data-state="today"]', has_text="Linda Park")
    expect(row).to_contain_text("07:30")
    expect(row.get_by_role("button", name="Start session")).to_be_visible()
    shoot(page, SHOTS, "today")
    row.locator("summary", has_text="Did not attend").click()
    row.get_by_label("No-show").check()
    row.get_by_role("button", name="Record").click()
    expect(page.locator("#flash")).to_contain_text("Linda Park: recorded as a no-show")
    done = page.locator('#schedule-day li[data-state="no_show"]', has_text="Linda Park")
    expect(done).to_contain_text("No-show")
    expect(done.get_by_role("button", name="Open the log")).to_be_visible()
    assert_accessible(page, "on today's schedule")

    # The home screen's schedule shows it too.
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#today-schedule")).to_contain_text("Linda Park")

    # The week, and its calendar file.
    page.get_by_role("link", name="Schedule").click()
    page.locator("#schedule-switch").click()
    expect(page.locator("#schedule-week")).to_contain_text("Linda Park")
    assert_accessible(page, "on the week view")
    shoot(page, SHOTS, "week")
    with page.expect_download() as info:
        page.locator("#export-week").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name.endswith(".ics")
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    events = [e for e in cal.walk("VEVENT") if str(e["SUMMARY"]) == "Session: Linda P."]
    starts = {e.decoded("DTSTART") for e in events}
    assert datetime.combine(today, datetime.min.time()).replace(hour=7, minute=30) in starts
    assert all(e.decoded("DTSTART").tzinfo is None for e in events)  # floating local time
    assert "Park" not in path.read_text()  # first name and initial only
    assert console_errors == []
