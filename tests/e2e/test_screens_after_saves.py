"""Screens read after a save show the save: the tab keeps the stores it has read up to date with
its own writes (rather than reading 50,000 session logs again), so the home screen, the client
list and the client's sessions must reflect each draft, signature and status change at once."""

from datetime import date, timedelta

from playwright.sync_api import expect

from medex.letters import long_date
from tests.support.browser import open_app, wait_ready


def fill(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def home(page):
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#dashboard[data-dashboard-ready]")).to_be_visible()


def test_home_and_client_list_follow_a_draft_and_its_signature(page, console_errors):
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()

    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ana", "last_name": "López", "date_of_birth": "1958-03-10"})
    page.locator("#field-sex").select_option("female")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")

    # Both screens read once (and kept) before the writes below.
    home(page)
    expect(page.locator("main")).not_to_contain_text("Unsigned session log")
    page.get_by_role("link", name="Clients").click()
    row = page.locator("tr", has_text="López")
    expect(row).to_contain_text("Referred")

    # A draft from three days ago: late to sign, so the home screen asks for it.
    row.get_by_role("link").first.click()
    page.locator("#start-session-top").click()
    expect(page.locator("#log-status")).to_have_text("Draft: not signed")
    day = (date.today() - timedelta(days=3)).isoformat()
    page.locator("#h-session").click()  # the session's date and time, folded by default
    page.locator("#field-session_date").fill(day)
    fill(page, {"pain": "2", "clearance_override_reason": "Screening booked for Thursday"})
    page.locator("#save-draft").click()
    expect(page.locator("#flash")).to_contain_text("Draft saved")
    home(page)
    owed = f"Unsigned session log: Ana López, {long_date(date.fromisoformat(day))}"
    expect(page.locator("#dashboard")).to_contain_text(owed)

    # Signed: gone from the home screen, and the first signed session made her active.
    page.locator("li.todo", has_text=owed).get_by_role("button").click()
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    home(page)
    expect(page.locator("main")).not_to_contain_text("Unsigned session log")
    page.get_by_role("link", name="Clients").click()
    expect(page.locator("tr", has_text="López")).to_contain_text("Active")

    # And the same after a reload (what is stored, not only what this tab kept).
    page.reload()
    wait_ready(page)
    expect(page.locator("tr", has_text="López")).to_contain_text("Active")
    assert console_errors == []
