"""The walking skeleton, end to end: boot, profile, validation, persistence, offline."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.support.browser import assert_accessible, open_app, wait_ready

PROFILE = {
    "practitioner_name": "Dana Reyes",
    "credentials": "MS, ACSM-CEP",
    "business_name": "Reyes Medical Exercise",
    "address": "12 Elm St\nSpringfield, IL 62701",
    "phone": "(217) 555-0134",
    "email": "dana@reyes-medex.com",
    "npi": "1234567893",
}


def fill_profile(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def test_boots_to_first_run_with_a_splash_that_goes_away(page, console_errors):
    open_app(page)
    expect(page.locator("#splash")).to_be_hidden()
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()
    expect(page.locator("#field-business_name")).to_be_visible()
    assert page.evaluate("document.documentElement.dataset.bootStep") == "Opening your records"
    assert console_errors == []
    assert_accessible(page, "on the first-run screen")


def test_bad_input_shows_message_next_to_field_and_keeps_typing(page):
    open_app(page)
    fill_profile(page, {**PROFILE, "email": "dana.reyes-medex.com", "business_name": ""})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.locator("#error-email")).to_contain_text("needs an @")
    expect(page.locator("#error-business_name")).to_contain_text("required")
    expect(page.locator("#field-email")).to_have_value("dana.reyes-medex.com")
    expect(page.locator("#field-practitioner_name")).to_have_value("Dana Reyes")
    expect(page.locator("#field-address")).to_have_value(PROFILE["address"])
    expect(page.locator("#field-email")).to_have_attribute("aria-invalid", "true")
    # The message is tied to its field for screen readers.
    assert "error-email" in page.locator("#field-email").get_attribute("aria-describedby")
    assert_accessible(page, "with field errors shown")
    # Nothing was saved: a reload still shows the first-run screen.
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()


def test_profile_persists_across_reload_new_page_and_offline(page, context, tmp_path):
    open_app(page)
    fill_profile(page, PROFILE)
    logo = tmp_path / "logo.png"
    logo.write_bytes((Path(__file__).parents[2] / "site/icons/icon-512.png").read_bytes())
    page.locator("#field-logo").set_input_files(str(logo))
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.locator("#flash")).to_contain_text("Practice profile saved")
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()
    assert_accessible(page, "on the dashboard")

    page.reload()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()

    # Closing the tab and opening a new one (same browser profile) keeps it too.
    page.close()
    page = context.new_page()
    open_app(page, "./#/settings")
    expect(page.locator("#field-npi")).to_have_value("1234567893")
    expect(page.locator("#field-address")).to_have_value(PROFILE["address"])
    logo_src = page.locator(".logo-preview img").get_attribute("src")
    assert logo_src.startswith("data:image/png;base64,")

    # Offline: the service worker serves the whole app; the profile is still there.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    context.set_offline(True)
    page.reload()
    wait_ready(page)
    expect(page.locator("#field-business_name")).to_have_value("Reyes Medical Exercise")
    context.set_offline(False)


def test_settings_shows_storage_persistence_and_estimate(page):
    open_app(page, "./#/settings")
    expect(page.locator("#storage-persisted")).to_contain_text(
        re.compile("Granted|Not granted|Not available")
    )
    expect(page.locator("#storage-usage")).to_contain_text("available to this app")
    assert_accessible(page, "on Settings")


def test_boot_failure_is_shown_in_words(page):
    # Make the app wheel unavailable: the page must say what failed, not spin forever.
    page.route(
        re.compile(r".*medex_practice-.*\.whl$"),
        lambda route: route.fulfill(status=404, body="gone"),
    )
    page.goto("./")
    page.wait_for_function("!!document.documentElement.dataset.appError", timeout=90_000)
    expect(page.locator("#boot-error")).to_be_visible()
    expect(page.locator("#boot-error-message")).not_to_be_empty()
    assert page.evaluate("document.documentElement.dataset.appReady") is None


def test_domain_unit_tests_pass_inside_pyodide(page):
    page.goto("./tests.html")
    page.wait_for_function("document.documentElement.dataset.testsDone === 'true'", timeout=900_000)
    report = page.locator("#report").inner_text()
    code = page.evaluate("document.documentElement.dataset.testsExitCode")
    assert code == "0", report[-4000:]
    assert re.search(r"\d+ passed", report), report[-2000:]


def test_profile_survives_closing_the_browser(
    browser_type, browser_type_launch_args, base_url, tmp_path
):
    """A persistent browser profile: save, quit Chromium entirely, start it again."""
    profile_dir = tmp_path / "chromium-profile"
    args = {k: v for k, v in browser_type_launch_args.items() if k in ("executable_path", "args")}
    foreign = []

    def launch():
        ctx = browser_type.launch_persistent_context(str(profile_dir), base_url=base_url, **args)
        ctx.on(
            "request",
            lambda r: (
                foreign.append(r.url)
                if not r.url.startswith((base_url, "blob:", "data:"))
                else None
            ),
        )
        return ctx

    ctx = launch()
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    open_app(page)
    fill_profile(page, PROFILE)
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.locator("#flash")).to_contain_text("Practice profile saved")
    ctx.close()

    ctx = launch()
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    open_app(page, "./#/settings")
    expect(page.locator("#field-business_name")).to_have_value("Reyes Medical Exercise")
    expect(page.locator("#field-email")).to_have_value(PROFILE["email"])
    ctx.close()
    assert foreign == []


def test_what_was_typed_survives_a_reload_until_saved(page):
    open_app(page)
    page.locator("#field-practitioner_name").fill("Dana Reyes")
    page.locator("#field-address").fill("12 Elm St\nSpringfield")
    page.wait_for_function("Number(document.documentElement.dataset.draftsSaved || 0) >= 1")
    page.reload()
    wait_ready(page)
    expect(page.locator("#field-practitioner_name")).to_have_value("Dana Reyes")
    expect(page.locator("#field-address")).to_have_value("12 Elm St\nSpringfield")
    expect(page.locator("#profile-form")).to_have_attribute("data-draft-restored", "true")
    # Saving discards the draft: after a reload the form shows the saved record, not the draft.
    page.locator("#field-business_name").fill("Reyes Medical Exercise")
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.locator("#flash")).to_contain_text("Practice profile saved")
    # (the page was reloaded: its draft-save counter started again at 0)
    page.wait_for_function("Number(document.documentElement.dataset.draftsSaved || 0) >= 1")
    open_app(page, "./#/settings")
    expect(page.locator("#field-practitioner_name")).to_have_value("Dana Reyes")
    expect(page.locator("#profile-form")).not_to_have_attribute("data-draft-restored", "true")
