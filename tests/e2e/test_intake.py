"""Journey 2 end to end: from a physician's referral to a client ready for the first session."""

import re
from datetime import date

from playwright.sync_api import expect

from medex.dashboard_row import COMPLETE_ID
from medex.intake import Client
from tests.support.browser import open_app, wait_ready


def fill(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def test_referral_and_intake_journey(page, console_errors):
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()

    # A referring provider.
    page.get_by_role("link", name="Providers").click()
    page.locator("#add-provider").click()
    fill(page, {"name": "Maria Chen", "credentials": "MD", "npi": "1234567890"})
    page.locator("#save-provider").click()
    expect(page.locator("#error-npi")).to_contain_text("check digit")
    fill(page, {"npi": "1234567893", "practice": "Springfield Orthopaedics"})
    page.locator("#save-provider").click()
    expect(page.get_by_role("heading", name="Maria Chen, MD")).to_be_visible()

    # A new client.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ana", "last_name": "López", "date_of_birth": "1958-03-10"})
    page.locator("#field-sex").select_option("female")
    fill(page, {"emergency_contact_name": "Luis López", "emergency_contact_phone": "555 123 4567"})
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")
    expect(page.locator("#tab-referral")).to_have_attribute("aria-current", "page")

    # The referral: two ICD-10-CM codes found by searching words (the index loads now).
    page.locator("#field-icd_query").fill("primary osteoarthritis right knee")
    page.locator("#icd-search-button").click()
    expect(page.locator("#icd-results")).to_contain_text("M17.11")
    page.get_by_role("button", name="Add M17.11", exact=False).first.click()
    expect(page.locator("#dx-chosen")).to_contain_text("M17.11")
    page.locator("#field-icd_query").fill("type 2 diabetes without complications")
    page.locator("#icd-search-button").click()
    expect(page.locator("#icd-results")).to_contain_text("E11.9")
    page.get_by_role("button", name="Add E11.9 ", exact=False).first.click()
    expect(page.locator("#dx-chosen")).to_contain_text("E11.9")
    page.locator("#field-provider_id").select_option(
        label="Maria Chen, MD (Springfield Orthopaedics)"
    )
    fill(
        page,
        {
            "referred_on": "2026-01-15",
            "reason": "Knee osteoarthritis; deconditioning",
            "precautions": "No running or jumping",
            "requested_frequency": "2 sessions a week",
            "requested_duration": "8 weeks",
        },
    )
    page.locator("#save-referral").click()
    expect(page.locator("#flash")).to_contain_text("Referral recorded")

    # Health history with medications: the beta-blocker is flagged.
    expect(page.locator("#tab-history")).to_have_attribute("aria-current", "page")
    fill(page, {"cond_name_0": "Type 2 diabetes", "surg_name_0": "Arthroscopy, right knee"})
    page.locator("#field-surg_performed_on_0").fill("2019-05-02")
    page.locator("#field-med_name_0").fill("Metoprolol")
    page.locator("#field-med_dose_0").fill("25 mg")
    page.get_by_role("button", name="Add a medication").click()
    page.locator("#field-med_name_1").fill("Metformin")
    page.locator("#save-history").click()
    expect(page.locator("#flash")).to_contain_text("use RPE")
    expect(page.locator("#hr-flag")).to_be_visible()

    # Screening: PAR-Q+ and ACSM → clearance recommended, with the diabetes note.
    expect(page.locator("#tab-screening")).to_have_attribute("aria-current", "page")
    for name in (
        "chest_pain",
        "dizziness_or_fainting",
        "other_chronic_condition",
        "bone_joint_soft_tissue",
        "supervised_activity_only",
    ):
        page.locator(f"#field-parq_{name}-no").check()
    page.locator("#field-parq_heart_condition_or_high_bp").check()
    page.locator("#field-parq_chronic_condition_medication").check()
    page.get_by_label("All No").check()
    page.locator("#field-acsm_exercises_regularly-no").check()
    page.locator("#field-acsm_known_cmr_disease").check()
    page.locator("#field-acsm_has_diabetes").check()
    page.locator("#field-acsm_symptomatic-no").check()
    page.locator("#field-acsm_desired_intensity").check()
    # Screened before the clearance it asks for arrives (an older clearance would not count).
    page.locator("#field-screened_on").fill("2026-01-18")
    page.locator("#save-screening").click()
    expect(page.locator("#screening-decision")).to_have_text("Medical clearance recommended")
    expect(page.locator("#diabetes-note")).to_contain_text("American Diabetes Association")

    # Clearance arrives.
    page.locator("#tab-clearance").click()
    page.locator("#field-received_on").fill("2026-02-01")
    page.locator("#field-requested_on").fill("2026-01-20")
    page.locator("#field-restrictions").fill("Keep RPE at or below 13")
    page.locator("#save-clearance").click()
    expect(page.locator("#clearance-status")).to_contain_text("Clearance received")

    # Consents signed on screen: a drawn signature (informed consent) and a typed name.
    page.locator("#tab-consent").click()
    expect(page.locator("#consent-informed_consent")).to_contain_text("Reyes Medical Exercise")
    for kind in ("informed_consent", "authorisation"):
        page.locator(f"#field-{kind}-agree").check()
        page.locator(f"#field-{kind}-signed_name").fill("Ana López")
        if kind == "informed_consent":
            canvas = page.locator(f"#sign-{kind} canvas")
            expect(canvas).to_be_visible()
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            page.mouse.move(box["x"] + 40, box["y"] + 120)
            page.mouse.down()
            for x, y in ((90, 60), (140, 130), (200, 50), (260, 120)):
                page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
            page.mouse.up()
            expect(page.locator(f"#sign-{kind} input[name=signature_svg]")).to_have_value(
                re.compile(r"^data:image/svg\+xml;base64,")
            )
        page.locator(f"#sign-{kind}-button").click()
        expect(page.locator(f"#signed-{kind}")).to_contain_text("Signed by Ana López")
    expect(page.locator("#consent-informed_consent img.signature")).to_be_visible()

    # Goals (PSFS) and deficits.
    page.locator("#tab-goals").click()
    for i, (activity, score) in enumerate(
        [("Climb stairs", "3"), ("Walk 20 min", "4"), ("Garden", "5")]
    ):
        page.locator(f"#field-psfs_activity_{i}").fill(activity)
        page.locator(f"#field-psfs_score_{i}").fill(score)
    page.locator("#field-deficits").fill("Cannot climb a flight of stairs\nWalks under 10 minutes")
    page.locator("#save-goals").click()

    # The checklist: all done but the baseline assessment and the program.
    expect(page.locator("#tab-checklist")).to_have_attribute("aria-current", "page")
    checklist = page.locator("#checklist")
    for key in ("referral", "history", "screening", "clearance", "consents", "goals"):
        expect(checklist.locator(f'li[data-item="{key}"]')).to_have_class("done")
    for key in ("assessment", "program"):
        expect(checklist.locator(f'li[data-item="{key}"]')).to_have_class("missing")
    expect(page.locator("#checklist-summary")).to_contain_text("2 item(s) still missing")

    # Everything survives a reload; the client list finds her and marks her not ready.
    page.reload()
    wait_ready(page)
    page.get_by_role("link", name="Clients", exact=True).click()
    page.locator("#field-q").fill("lop")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#client-list")).to_contain_text("López, Ana")
    expect(page.locator("#client-list")).to_contain_text("Not ready")
    assert console_errors == []


# -- the client list at practice size --------------------------------------------------------

SEED_CLIENTS = """async ([docs, complete]) => {
    // As the app's own raw writes (a restore) do, through its storage facade (which keeps the
    // dashboard rows many to a record): the rows are marked incomplete, so they are made
    // again, with these clients, when next read.
    const facade = await import(new URL("js/store.js", location.href).href);
    const ops = docs.map((doc) => ({ store: "clients", doc }));
    ops.push({ store: "dashboard_rows", delete: complete });
    await facade.write(JSON.stringify(ops), null);
}"""


def many_clients(n: int) -> list[dict]:
    """``n`` clients, one in eight a García (a name typed without its accent finds them)."""
    last = ["Lovelace", "Hopper", "García", "Chen", "Adeyemi", "Müller", "Haddad", "Kim"]
    first = ["Ada", "Grace", "José", "Mei", "Olu", "Zoë", "Ahmed", "Liam", "Noor", "Sven"]
    return [
        Client(
            first_name=first[i % len(first)],
            last_name=last[i % len(last)],
            date_of_birth=date(1940 + i % 50, 1 + i % 12, 1 + i % 28),
            sex="female",
        ).to_doc()
        for i in range(n)
    ]


def rows(page):
    return page.locator("#client-list tbody tr")


def test_a_big_client_list_shows_a_hundred_rows_and_search_follows_every_write(
    page, context, console_errors
):
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()
    page.reload()  # nothing of the app's own still being written while the clients are put
    wait_ready(page)
    page.evaluate(SEED_CLIENTS, [many_clients(130), COMPLETE_ID])
    page.reload()
    wait_ready(page)

    # A hundred rows by last name, the exact count, and every one on request.
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.locator("#client-count")).to_contain_text("The first 100 of 130 clients")
    expect(rows(page)).to_have_count(100)
    expect(rows(page).first).to_contain_text("Adeyemi, Ada")
    page.get_by_role("button", name="Show all 130").click()
    expect(page.locator("#client-count")).to_have_text("130 of 130 client(s)")
    expect(rows(page)).to_have_count(130)
    expect(page.locator("#show-all-clients")).to_have_count(0)

    # The search narrows it (no accent needed; either name first).
    page.locator("#field-q").fill("garcia jo")
    page.locator("#field-q").press("Enter")
    garcias = sum(1 for i in range(130) if i % 8 == 2 and i % 10 == 2)
    expect(page.locator("#client-count")).to_have_text(f"{garcias} of 130 client(s)")
    expect(rows(page).first).to_contain_text("García, José")

    # A name changed in this tab is found at once.
    rows(page).first.get_by_role("link", name="García, José").click()
    expect(page.locator("#client-name")).to_have_text("José García")
    page.locator("#field-last_name").fill("Garcés")
    page.locator("#save-client").click()
    expect(page.locator("#flash")).to_contain_text("José Garcés's details saved")
    page.get_by_role("link", name="Clients", exact=True).click()
    page.locator("#field-q").fill("garces")
    page.locator("#field-q").press("Enter")
    expect(page.locator("#client-count")).to_have_text("1 of 130 client(s)")
    expect(rows(page)).to_contain_text("Garcés, José")

    # A client added in another tab is found here too, without a reload.
    other = context.new_page()
    open_app(other)
    other.get_by_role("link", name="Clients", exact=True).click()
    other.locator("#add-client").click()
    fill(other, {"first_name": "Zed", "last_name": "Zorro", "date_of_birth": "1950-01-01"})
    other.locator("#field-sex").select_option("male")
    other.locator("#save-client").click()
    expect(other.locator("#client-name")).to_have_text("Zed Zorro")
    other.close()
    page.locator("#field-q").fill("zorro z")
    page.locator("#field-q").press("Enter")
    expect(page.locator("#client-count")).to_have_text("1 of 131 client(s)")
    expect(rows(page)).to_contain_text("Zorro, Zed")
    assert console_errors == []
