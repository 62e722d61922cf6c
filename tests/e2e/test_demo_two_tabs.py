"""Two tabs when one of them opens or removes the demo practice (a database of its own): the
other tab never follows by itself. It says what happened and offers a reload; what is typed
in it stays on screen and is saved (if at all) only into the records it was typed for — never
a practice's form into the demo, never a demo form into the practice's records."""

from pathlib import Path

from playwright.sync_api import expect

from tests.support.browser import assert_accessible, dump, fill, open_app, shoot, wait_ready

SHOTS = Path("/tmp/shots-practice")


def profile(page) -> dict:
    (doc,) = dump(page)["stores"]["profile"]
    return doc


def test_the_other_tab_says_the_demo_was_opened_or_removed_and_writes_nowhere_else(
    page, context, console_errors
):
    open_app(page)
    other = context.new_page()
    open_app(other)

    # Tab B starts setting up the practice; tab A opens the demo meanwhile.
    fill(other, {"practitioner_name": "Sam Ortiz", "business_name": "Ortiz Exercise Clinic"})
    page.get_by_role("button", name="Open the demo practice").click()
    expect(page.locator("#demo-banner")).to_contain_text("DEMO", timeout=180_000)
    banner = other.locator("#practice-switched")
    expect(banner).to_contain_text("demo practice was opened in another tab")
    expect(banner.get_by_role("button", name="Reload")).to_be_visible()
    expect(other.locator("#demo-banner")).to_have_count(0)
    expect(other.locator("#field-business_name")).to_have_value("Ortiz Exercise Clinic")
    assert_accessible(other, "with the banner of a demo opened in another tab")
    shoot(other, SHOTS, "demo-opened-in-another-tab")

    # Saved in tab B: into the practice's own records, never into the demo's.
    other.get_by_role("button", name="Save practice profile").click()
    expect(other.get_by_role("heading", name="Ortiz Exercise Clinic")).to_be_visible()
    assert profile(other)["business_name"] == "Ortiz Exercise Clinic"
    assert profile(page)["business_name"] == "Reyes Medical Exercise"  # the demo's, untouched

    # Reload: tab B opens the demo too.
    banner.get_by_role("button", name="Reload").click()
    wait_ready(other)
    expect(other.locator("#demo-banner")).to_contain_text("DEMO")
    expect(other.locator("#practice-switched")).to_have_count(0)

    # Tab B types a new client into the demo; tab A removes the demo.
    other.goto("./#/client-new")
    expect(other.locator("#field-first_name")).to_be_visible()
    fill(other, {"first_name": "Typed", "last_name": "InTheDemo"})
    page.get_by_role("button", name="Remove the demo").click()
    expect(page.locator("#demo-banner")).to_have_count(0)
    expect(page.get_by_role("heading", name="Ortiz Exercise Clinic")).to_be_visible()
    expect(other.locator("#practice-switched")).to_contain_text(
        "demo practice was removed in another tab"
    )
    expect(other.locator("#field-first_name")).to_have_count(0)  # nothing left to save into
    expect(other.locator("#demo-banner")).to_have_count(0)
    shoot(other, SHOTS, "demo-removed-in-another-tab")
    clients = dump(page)["stores"]["clients"]
    assert all(c["last_name"] != "InTheDemo" for c in clients)

    other.locator("#practice-switched").get_by_role("button", name="Reload").click()
    wait_ready(other)
    expect(other.locator("#demo-banner")).to_have_count(0)
    expect(other.locator("#field-first_name")).to_have_value("")  # the demo's draft went with it
    other.get_by_role("link", name="Home", exact=True).click()
    expect(other.get_by_role("heading", name="Ortiz Exercise Clinic")).to_be_visible()
    assert all(c["last_name"] != "InTheDemo" for c in dump(other)["stores"]["clients"])
    assert console_errors == []
