"""Journey 5 on a 768 px tablet: log a full session, sign and lock it, add an addendum; a
session with BP 210/100 shows the hard stop."""

from playwright.sync_api import expect

from tests.support.browser import open_app

SHOT = "/tmp/helper9-session-form.png"


def fill(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def test_session_log_journey(page, console_errors):
    page.set_viewport_size({"width": 768, "height": 1024})
    open_app(page)
    fill(
        page,
        {
            "practitioner_name": "Dana Reyes",
            "credentials": "MS",
            "business_name": "Reyes Medical Exercise",
        },
    )
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()

    # A client, quickly (no screening yet: signing asks for a reason).
    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ana", "last_name": "López", "date_of_birth": "1958-03-10"})
    page.locator("#field-sex").select_option("female")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")

    # Start a session from the client page; add two exercises from the library.
    page.locator("#start-session-top").click()
    expect(page.locator("#log-status")).to_have_text("Draft: not signed")
    for name in ("Sit-to-stand", "Recumbent bike"):
        page.locator("#add-exercise-list").get_by_role("button", name=f"+ {name}").click()
        expect(page.locator("#exercise-rows")).to_contain_text(name)
    fill(
        page,
        {
            "pre_heart_rate_bpm": "72",
            "pre_systolic_mmhg": "128",
            "pre_diastolic_mmhg": "78",
            "pre_spo2_percent": "97",
            "pain": "2",
            "ex_0_rpe": "12",
            "ex_0_modifications": "Higher seat",
            "ex_1_load": "40",
            "ex_1_rpe": "11",
            "post_heart_rate_bpm": "88",
            "post_systolic_mmhg": "132",
            "post_diastolic_mmhg": "80",
            "plan_next": "Add a third set of sit-to-stand",
            "clearance_override_reason": "Screening booked for Thursday; light session only today",
        },
    )
    page.locator("#field-pre_bp_position").select_option("seated")
    page.locator("#field-ex_1_load_unit").select_option("W")
    page.locator("#field-ex_0_assistance").select_option("supervision")
    page.get_by_label("Tolerated well").check()
    page.locator("#save-draft").click()
    expect(page.locator("#flash")).to_contain_text("Draft saved")
    expect(page.locator("#target-hr")).to_contain_text("Tanaka")
    diff = page.evaluate(
        """() => { const f = document.querySelector('form[data-draft-restored]');
        return f ? 'restored' : ''; }"""
    )
    assert diff == "", "a saved form must not show 'unsaved changes restored'"
    page.screenshot(path=SHOT, full_page=True)

    # Sign: the log locks, renders read-only, and only an addendum can be added.
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    expect(page.locator("#signature")).to_contain_text("Signed by Dana Reyes, MS")
    expect(page.locator("#ro-exercises")).to_contain_text("RPE 12 (Borg RPE 6–20)")
    expect(page.locator("#save-draft")).to_have_count(0)
    expect(page.locator("#sign-log")).to_have_count(0)
    expect(page.locator("form[data-action=session-form]")).to_have_count(0)
    editable = page.locator("main input:not([type=hidden]), main textarea, main select")
    expect(editable).to_have_count(2)  # the addendum's kind and text, nothing else
    expect(
        page.locator("#signed-log input, #signed-log textarea, #signed-log select")
    ).to_have_count(0)
    page.locator("#field-kind").select_option("late_entry")
    page.locator("#field-text").fill("Client phoned: mild knee ache that evening, gone by morning.")
    page.locator("#add-addendum").click()
    expect(page.locator("#addenda")).to_contain_text("Late entry")
    expect(page.locator("#addenda")).to_contain_text("Signed by Dana Reyes, MS")
    expect(page.locator("#signature")).to_contain_text("Signed by Dana Reyes, MS")

    # The client's sessions timeline.
    page.get_by_role("link", name="Ana López: sessions").click()
    expect(page.locator("#attendance-summary")).to_contain_text("1 of 1 planned sessions attended")
    expect(page.locator("#timeline")).to_contain_text("Signed")

    # The next session, from the dashboard: BP 210/100 is a hard stop.
    page.get_by_role("link", name="Home", exact=True).click()
    page.locator("#log-session").click()
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#exercise-rows")).to_contain_text("Sit-to-stand")  # same as last time
    fill(page, {"pre_systolic_mmhg": "210", "pre_diastolic_mmhg": "100"})
    page.locator("#save-draft").click()
    flags = page.locator("#flags")
    expect(flags).to_contain_text("Do not exercise today")
    expect(flags.locator(".flag-hard_stop").first).to_be_visible()
    expect(page.locator("#field-override_reason")).to_be_visible()
    expect(page.locator("#field-action_taken")).to_be_visible()
    page.locator("#sign-log").click()
    expect(page.locator("#error-override_reason")).to_contain_text("stop flag")
    expect(page.locator("#log-status")).to_have_text("Draft: not signed")
    assert console_errors == []
