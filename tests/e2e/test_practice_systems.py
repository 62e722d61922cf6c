"""The practice's own systems in Chromium: the first run's three starts → the demo practice
(its own database, DEMO on every screen and on a printed document) → remove it in one click →
the first run again, the practice's own database untouched → set up a practice and watch the
checklist progress on the home screen → a referral outside the practice's programs flagged at
intake, the choice recorded. Screenshots of home (demo and empty) at 768×1024 and 1024×768
go to /tmp/shots-practice/ to be looked at."""

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.support.browser import STORE, assert_accessible, fill, open_app, print_pdf, shoot

SHOTS = Path("/tmp/shots-practice")


def where(page) -> dict:
    return json.loads(page.evaluate(f"async () => (await {STORE}).liveLocation()"))


def step_done(page, key: str):
    return expect(page.locator(f'#practice-setup li[data-step="{key}"]'))


def test_first_run_demo_practice_removed_then_a_practice_set_up(page, console_errors):
    open_app(page)
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()
    starts = page.locator("#first-run-starts")
    expect(starts.get_by_role("heading", name="Set up my practice")).to_be_visible()
    expect(starts.get_by_role("heading", name="Try it with a demo practice")).to_be_visible()
    expect(starts.get_by_role("button", name="Restore a backup")).to_have_attribute(
        "href", "#/data"
    )
    expect(page.get_by_role("button", name="Set a passphrase")).to_have_attribute(
        "href", "#/security"
    )
    practice_db = where(page)
    shoot(page, SHOTS, "first-run")

    # -- the demo practice ------------------------------------------------------------------
    page.get_by_role("button", name="Open the demo practice").click()
    expect(page.locator("#demo-banner")).to_contain_text("DEMO", timeout=180_000)
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()
    expect(page.locator("#dashboard[data-dashboard-ready]")).to_be_visible()
    assert where(page) != practice_db  # a database of its own
    expect(page.locator("#retention")).to_contain_text("Robert Hughes missed the last two sessions")
    expect(page.locator("#retention")).to_contain_text("No session for Linda Park in 17 days")
    expect(page.locator("#caseload-by-program")).to_contain_text("Parkinson's disease")
    expect(page.locator("#dashboard")).to_contain_text("Outside your programs: Susan Wright")
    expect(page.locator("#practice-setup")).to_contain_text("steps done")
    assert_accessible(page, "on the demo's home screen")
    shoot(page, SHOTS, "home-demo")

    # DEMO on every screen, and on a printed document.
    page.get_by_role("link", name="Clients").click()
    expect(page.locator("#demo-banner")).to_be_visible()
    page.get_by_role("link", name="Lee, Ann").first.click()
    expect(page.locator("#client-name")).to_have_text("Ann Lee")
    expect(page.locator("#demo-banner")).to_be_visible()
    client_id = page.evaluate("new URLSearchParams(location.hash.split('?')[1]).get('id')")
    page.goto(f"./#/document?client={client_id}&kind=progress_report")
    expect(page.locator("#demo-stamp")).to_be_visible()
    expect(page.locator("#report")).to_contain_text("Ann Lee")
    text = print_pdf(page, SHOTS, "demo-progress-report", first_page_only=True)
    assert "DEMO" in text and "Ann Lee" in text
    # The demo's session logs are signed with this device's practice key.
    page.goto(f"./#/client-sessions?id={client_id}")
    expect(page.locator("#demo-banner")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("not verified")

    # A reload keeps the demo open (every tab that starts follows the pointer).
    page.reload()
    open_app(page, page.url)
    expect(page.locator("#demo-banner")).to_be_visible()

    # -- remove it in one action ------------------------------------------------------------
    page.get_by_role("button", name="Remove the demo").click()
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()
    expect(page.locator("#demo-banner")).to_have_count(0)
    assert where(page) == practice_db
    page.reload()
    open_app(page, page.url)
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()
    expect(page.locator("#demo-banner")).to_have_count(0)
    demo_left = page.evaluate(
        "async () => navigator.storageBuckets ? (await navigator.storageBuckets.keys()) : []"
    )
    assert "medex-demo" not in demo_left

    # -- set up a practice and watch the checklist --------------------------------------------
    fill(
        page,
        {
            "practitioner_name": "Jordan Blake",
            "credentials": "MS",
            "business_name": "Blake Exercise Health",
        },
    )
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Blake Exercise Health")).to_be_visible(timeout=30_000)
    expect(page.locator("#setup-count")).to_contain_text("0 of 9 steps done")
    step_done(page, "profile").to_have_class("todo-step")
    expect(page.locator("#retention")).to_contain_text("Start a client on a program first")
    expect(page.locator("#caseload-by-program")).to_contain_text("Add your first client")
    assert_accessible(page, "on the empty home screen")
    shoot(page, SHOTS, "home-empty")

    page.locator('#practice-setup li[data-step="profile"] a').click()
    fill(page, {"address": "4 Oak Avenue, Springfield", "phone": "(555) 222-1000"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.locator("#flash")).to_contain_text("Practice profile saved")
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#setup-count")).to_contain_text("1 of 9 steps done")
    step_done(page, "profile").to_have_class("done")

    page.locator('#practice-setup li[data-step="consent"] a').click()
    page.locator("#save-consent-texts").click()
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#setup-count")).to_contain_text("2 of 9 steps done")

    page.locator('#practice-setup li[data-step="partners"] a').click()
    fill(page, {"name": "Dr. Maria Chen", "credentials": "MD"})
    page.locator("#save-provider").click()
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#setup-count")).to_contain_text("3 of 9 steps done")
    step_done(page, "partners").to_have_class("done")

    # -- focus at intake: a referral outside the practice's programs ---------------------------
    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Susan", "last_name": "Wright", "date_of_birth": "1960-07-09"})
    page.locator("#field-sex").select_option("female")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Susan Wright")
    page.locator("#field-icd_query").fill("J44.9")
    page.locator("#icd-search-button").click()
    expect(page.locator("#icd-results")).to_contain_text("J44.9")
    page.get_by_role("button", name="Add J44.9", exact=False).first.click()
    flag = page.locator("#focus-flag-new")
    expect(flag).to_contain_text("Outside your programs")
    page.locator("#field-provider_id").select_option(label="Maria Chen, MD")
    flag.get_by_label("Refer on to another professional").check()
    page.locator("#save-referral").click()
    expect(page.locator("#flash")).to_contain_text("Referral recorded")
    page.goto(page.url.replace("section=history", "section=referral"))
    expect(page.locator("#focus-flag-1")).to_contain_text("Referred on")
    stored = json.loads(page.evaluate(f"async () => (await {STORE}).getAll('referrals')"))
    assert [r["focus_decision"] for r in stored] == ["referred_on"]
    assert console_errors == []
