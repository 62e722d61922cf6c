"""A realistic client from referral to discharge, in Chromium, through the screens only:
referral → intake (an old clearance that does not count, then the new one) → enrolment in a
priced package → baseline with the client's goals → four signed sessions (one stopped for a
blood-pressure rise during exercise) → reassessment re-scoring the goals → discharge → payment
after discharge. Asserted from what the screens and the printed PDFs (pypdf) show: the
sessions counted, the goal table, the status moving with the episode, the balance, the dates
of service. Screenshots at 768×1024 and 1024×768 of the session form and the client screen."""

import io
import re
import subprocess
from datetime import date, timedelta

from playwright.sync_api import expect
from pypdf import PdfReader

from medex.programs import default_program
from tests.support.browser import assert_accessible, open_app, open_payment_form

OUT = "/tmp/shots-loopA"
TODAY = date.today()


def day(n: int) -> str:
    """The date ``n`` days before today (ISO)."""
    return (TODAY - timedelta(days=n)).isoformat()


def fill(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def shot(page, name, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.screenshot(path=f"{OUT}/{name}-{width}x{height}.png", full_page=True)


def no_sideways_scroll(page) -> int:
    """How far the page scrolls sideways (0: not at all); the widest elements if it does."""
    extra = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if extra > 0:
        wide = page.evaluate(
            """() => { const w = document.documentElement.clientWidth;
              return [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > w + 1)
                .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
                  + Math.round(e.getBoundingClientRect().right)); }"""
        )
        print("wider than the page:", wide)
    return extra


def pdf(page, name):
    page.emulate_media(media="print")
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    path = f"{OUT}/{name}.pdf"
    with open(path, "wb") as f:
        f.write(data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", path, f"{OUT}/{name}"], check=True)
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(p.extract_text() for p in reader.pages)


def open_document(page, client_id, kind):
    page.goto(f"./#/document?client={client_id}&kind={kind}")
    expect(page.locator("#report")).to_be_visible()


def client_tab(page, client_id, tab):
    page.goto(f"./#/client?id={client_id}&section={tab}")
    expect(page.locator("#client-name")).to_be_visible()


def log_session(page, client_id, when, *, bp=("128", "78"), stop_during=False, sets=None):
    """Start a session from the client's page, date it, record it and sign it."""
    client_tab(page, client_id, "details")
    page.locator("#start-session-top").click()
    expect(page.locator("#log-status")).to_have_text("Draft: not signed")
    rows = page.locator("#exercise-rows")
    if "Sit-to-stand" not in rows.inner_text():
        for name in ("Sit-to-stand", "Recumbent bike"):
            page.locator("#add-exercise-list").get_by_role("button", name=f"+ {name}").click()
            expect(rows).to_contain_text(name)
    page.locator("#part-session > summary").click()  # the Session part starts folded
    expect(page.locator("#session-digest")).to_contain_text("Attended")
    values = {
        "session_date": when,
        "pre_heart_rate_bpm": "70",
        "pre_systolic_mmhg": bp[0],
        "pre_diastolic_mmhg": bp[1],
        "pain": "2",
    }
    if sets is not None:
        values["ex_0_sets"] = sets
    fill(page, values)
    page.locator("#field-pre_bp_position").select_option("seated")
    if stop_during:
        page.get_by_text("Reading during exercise (HR, BP)").click()
        fill(
            page,
            {"dur_heart_rate_bpm": "128", "dur_systolic_mmhg": "262", "dur_diastolic_mmhg": "96"},
        )
    else:
        page.get_by_label("Tolerated well").check()
    page.locator("#save-draft").click()
    expect(page.locator("#flash")).to_contain_text("Draft saved")
    return page


def test_referral_to_discharge_and_payment_after_it(page, console_errors):
    subprocess.run(["mkdir", "-p", OUT], check=True)
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    page.set_viewport_size({"width": 768, "height": 1024})
    open_app(page)
    fill(
        page,
        {
            "practitioner_name": "Dana Reyes",
            "credentials": "MS, ACSM-CEP",
            "business_name": "Reyes Medical Exercise",
        },
    )
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()

    # The practice's post-TKR package: $1,200 for 24 sessions.
    page.goto(f"./#/program?id={default_program('post_tkr').id}")
    fill(page, {"price": "1200"})
    page.locator("#save-program").click()
    expect(page.locator("#flash")).to_contain_text("Program saved")

    # The referring physician and the client (a 72-year-old woman after a right TKR).
    page.get_by_role("link", name="Providers").click()
    page.locator("#add-provider").click()
    fill(page, {"name": "Robert Okafor", "credentials": "MD", "npi": "1234567893"})
    page.locator("#save-provider").click()
    expect(page.get_by_role("heading", name="Robert Okafor, MD")).to_be_visible()
    page.get_by_role("link", name="Clients", exact=True).click()
    page.locator("#add-client").click()
    born = date(TODAY.year - 72, 5, 4)
    fill(
        page,
        {"first_name": "Margaret", "last_name": "Ortiz", "date_of_birth": born.isoformat()},
    )
    page.locator("#field-sex").select_option("female")
    fill(page, {"emergency_contact_name": "Luis Ortiz", "emergency_contact_phone": "555 123 4567"})
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Margaret Ortiz")
    expect(page.locator("#client-status")).to_have_text("Referred")
    client_id = page.evaluate("new URLSearchParams(location.hash.split('?')[1]).get('id')")

    # Referral with the knee code.
    page.locator("#field-icd_query").fill("primary osteoarthritis right knee")
    page.locator("#icd-search-button").click()
    expect(page.locator("#icd-results")).to_contain_text("M17.11", timeout=60_000)
    page.get_by_role("button", name="Add M17.11", exact=False).first.click()
    page.locator("#field-provider_id").select_option(label="Robert Okafor, MD")
    fill(page, {"referred_on": day(72), "reason": "Reconditioning after right TKR"})
    page.locator("#save-referral").click()
    expect(page.locator("#flash")).to_contain_text("Referral recorded")

    # Health history: high blood pressure (the session log will ask for a resting BP).
    expect(page.locator("#tab-history")).to_have_attribute("aria-current", "page")
    fill(page, {"cond_name_0": "Hypertension", "med_name_0": "Lisinopril"})
    page.locator("#save-history").click()
    expect(page.locator("#tab-screening")).to_have_attribute("aria-current", "page")

    # Screening: known cardiovascular disease → medical clearance recommended.
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
    page.locator("#field-acsm_symptomatic-no").check()
    page.locator("#field-acsm_desired_intensity").check()
    fill(page, {"screened_on": day(70)})
    page.locator("#save-screening").click()
    expect(page.locator("#screening-decision")).to_have_text("Medical clearance recommended")
    client_tab(page, client_id, "details")
    expect(page.locator("#client-status")).to_have_text("Pending clearance")

    # An old clearance (from before this screening) does not count …
    page.locator("#tab-clearance").click()
    fill(page, {"requested_on": day(420), "received_on": day(400)})
    page.locator("#save-clearance").click()
    expect(page.locator("#clearance-status")).to_contain_text("before the latest screening")
    expect(page.locator("#client-status")).to_have_text("Pending clearance")
    # … the one answering it does.
    fill(page, {"requested_on": day(70), "received_on": day(66)})
    page.locator("#save-clearance").click()
    expect(page.locator("#clearance-status")).to_contain_text("Clearance received")
    expect(page.locator("#client-status")).to_have_text("Referred")

    # Consents and the client's goals (PSFS).
    page.locator("#tab-consent").click()
    pad = page.get_by_role("img", name="Signature pad for the", exact=False).first
    expect(pad).to_be_visible()
    assert_accessible(page, "consent with the signature pad")
    for kind in ("informed_consent", "authorisation"):
        page.locator(f"#field-{kind}-agree").check()
        page.locator(f"#field-{kind}-signed_name").fill("Margaret Ortiz")
        page.locator(f"#sign-{kind}-button").click()
        expect(page.locator(f"#signed-{kind}")).to_contain_text("Signed by Margaret Ortiz")
    page.locator("#tab-goals").click()
    goals = [("Climb stairs without the rail", "2"), ("Walk to the shops", "4"), ("Garden", "6")]
    for i, (activity, score) in enumerate(goals):
        page.locator(f"#field-psfs_activity_{i}").fill(activity)
        page.locator(f"#field-psfs_score_{i}").fill(score)
    page.locator("#field-deficits").fill("Cannot climb a flight of stairs\nWalks under 10 minutes")
    page.locator("#save-goals").click()
    expect(page.locator("#tab-checklist")).to_have_attribute("aria-current", "page")
    client_tab(page, client_id, "goals")
    expect(page.get_by_label("Score for “Walk to the shops” (0–10)")).to_have_value("4")

    # Enrolment: the client becomes active with the episode.
    page.locator("#tab-outcomes").click()
    page.locator("#field-program_id").select_option(label="Post total knee replacement — $1,200.00")
    fill(page, {"start_date": day(60)})
    page.locator("#start-program-button").click()
    expect(page.locator("#program-name")).to_have_text("Post total knee replacement")
    expect(page.locator("#client-status")).to_have_text("Active")
    expect(page.locator("#sessions-summary")).to_have_text("0 of 24 sessions used, 24 remaining")

    # Baseline: performance tests, the LEFS by its activities, and the goals re-rated.
    page.locator("#new-assessment").click()
    expect(page.locator("#assessment-title")).to_contain_text("Baseline assessment")
    fill(page, {"assessed_on": day(58), "m_tug_value": "14.2", "m_chair_stand_30s_value": "8"})
    expect(page.get_by_label("walking a mile", exact=False)).to_be_visible()
    for i in range(1, 21):
        page.locator(f"#field-m_lefs_i_lefs_{i:02d}").fill("2")
    for i, (activity, score) in enumerate(goals, start=1):
        expect(page.locator(f"label[for=field-m_psfs_i_psfs_{i:02d}]")).to_contain_text(activity)
        page.locator(f"#field-m_psfs_i_psfs_{i:02d}").fill(score)
    page.locator("#save-assessment").click()
    expect(page.locator("#flash")).to_contain_text("Baseline assessment saved")

    # Session 1: the resting-BP prompt for a client with high blood pressure, then signed.
    log_session(page, client_id, day(56), bp=("", ""))
    expect(page.locator("#flags")).to_contain_text("Resting blood pressure not checked")
    fill(page, {"pre_systolic_mmhg": "132", "pre_diastolic_mmhg": "80"})
    page.locator("#save-draft").click()
    expect(page.locator("#safety")).not_to_contain_text("Resting blood pressure not checked")
    expect(page.locator("#package-choice")).not_to_have_attribute("open", "")
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")

    # Session 2, then session 3 stopped for a blood-pressure rise during exercise.
    log_session(page, client_id, day(53))
    expect(page.locator("#field-ex_0_sets")).to_have_value("2")
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    log_session(page, client_id, day(49), stop_during=True, sets="1")
    expect(page.locator("#flags .flag-hard_stop").first).to_be_visible()
    choice = page.locator("#package-choice")
    expect(choice).to_have_attribute("open", "")
    expect(page.locator("#field-package_use-counted")).to_be_checked()
    expect(page.locator("#field-billing-not_billed")).to_be_checked()
    fill(
        page,
        {
            "action_taken": "Stopped the bike; BP back to 150/88 after 10 min; called Dr. Okafor's office"
        },
    )
    page.set_viewport_size({"width": 768, "height": 1024})
    assert no_sideways_scroll(page) <= 0, page.url
    shot(page, "session-form", 768, 1024)
    assert no_sideways_scroll(page) <= 0, page.url
    shot(page, "session-form", 1024, 768)
    assert no_sideways_scroll(page) <= 0, page.url
    page.set_viewport_size({"width": 768, "height": 1024})
    page.locator("#safety").screenshot(path=f"{OUT}/session-safety-768.png")
    assert_accessible(page, "session form with a stop")
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    expect(page.locator("#ro-package")).to_have_text(
        "Counts against the package · not billed (exercise was stopped)"
    )

    # Session 4 takes its plan from session 2, not from the stopped session 3.
    log_session(page, client_id, day(46))
    expect(page.locator("#field-ex_0_sets")).to_have_value("2")
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")

    # The package counts all four (the stopped one too, as chosen on its log).
    page.goto(f"./#/client-outcomes?id={client_id}")
    expect(page.locator("#sessions-summary")).to_have_text("4 of 24 sessions used, 20 remaining")
    open_payment_form(page)
    fill(page, {"pay_amount": "500", "pay_paid_on": day(60)})
    page.locator("#save-payment").click()
    expect(page.locator("#flash")).to_contain_text("Payment of $500.00 recorded")
    expect(page.locator("#balance")).to_contain_text("$700.00 due")

    # Reassessment six weeks in: the goals re-scored.
    page.locator("#new-assessment").click()
    expect(page.locator("#assessment-title")).to_contain_text("Reassessment")
    fill(page, {"assessed_on": day(30), "m_tug_value": "10.8", "m_chair_stand_30s_value": "12"})
    for i in range(1, 21):
        page.locator(f"#field-m_lefs_i_lefs_{i:02d}").fill("3")
    for i, score in enumerate(("7", "6", "7"), start=1):
        page.locator(f"#field-m_psfs_i_psfs_{i:02d}").fill(score)
    page.locator("#save-assessment").click()
    expect(page.locator("#flash")).to_contain_text("Reassessment saved")
    page.locator("#back-outcomes").click()
    table = page.locator("#goal-table")
    expect(table.locator("tr[data-goal='1']")).to_contain_text("Met")
    expect(table.locator("tr[data-goal='2']")).to_contain_text("Partly met")
    expect(table.locator("tr[data-goal='3']")).to_contain_text("Not met")
    expect(table.locator("tr[data-goal='1']")).to_contain_text("(+5)")
    table.screenshot(path=f"{OUT}/goal-table-768.png")
    assert_accessible(page, "outcomes tab with the goal table")

    # The progress report prints the sessions counted and the goal table.
    open_document(page, client_id, "progress_report")
    _reader, text = pdf(page, "progress-report")
    flat = " ".join(text.split())
    assert "4 of 24 sessions used" in flat, flat
    assert re.search(r"Climb stairs without the rail 2 7 \(\+5\) Met", flat), flat
    assert re.search(r"Walk to the shops 4 6 \(\+2\) Partly met", flat), flat
    assert re.search(r"Garden 6 7 \(\+1\) Not met", flat), flat
    assert "Me t" not in flat

    # Discharge: the client is discharged with the episode.
    page.goto(f"./#/client-outcomes?id={client_id}")
    fill(page, {"discharge_date": day(20)})
    page.locator("#field-discharge_reason").select_option("client_request")
    page.locator("#discharge-program").click()
    expect(page.locator("#flash")).to_contain_text("Margaret Ortiz is now discharged")
    expect(page.locator("#client-status")).to_have_text("Discharged")

    # Payment after discharge settles the balance.
    open_payment_form(page)
    fill(page, {"pay_amount": "700", "pay_paid_on": day(5), "pay_reference": "Check 1043"})
    page.locator("#field-pay_method").select_option("check")
    page.locator("#save-payment").click()
    expect(page.locator("#flash")).to_contain_text("Payment of $700.00 recorded")
    expect(page.locator("#balance")).to_contain_text("paid in full")
    open_payment_form(page)
    fill(page, {"pay_amount": "1300", "pay_paid_on": day(4)})
    page.locator("#save-refund").click()
    expect(page.locator("#error-pay_amount")).to_contain_text(
        "cannot be more than what has been paid"
    )
    fill(page, {"pay_amount": "50"})
    page.locator("#save-refund").click()
    expect(page.locator("#flash")).to_contain_text("Refund of $50.00 recorded")
    expect(page.locator("#balance")).to_contain_text("$50.00 due")
    expect(page.locator("#payment-list")).to_contain_text("Refund")
    for width, height in ((768, 1024), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        assert no_sideways_scroll(page) <= 0, page.url
        shot(page, "client-outcomes", width, height)
    page.set_viewport_size({"width": 768, "height": 1024})

    # The discharge summary: the goal table, the sessions counted, no wrapped "Met" header.
    open_document(page, client_id, "discharge_summary")
    _reader, text = pdf(page, "discharge-summary")
    flat = " ".join(text.split())
    assert "4 of 24 sessions used" in flat, flat
    assert re.search(r"Climb stairs without the rail 2 7 \(\+5\) Met", flat), flat
    assert "Me t" not in flat and "Criterion Result Met" in flat, flat

    # The superbill: the stopped session is not a date of service.
    open_document(page, client_id, "superbill")
    page.locator("#field-fee_per_session").fill("85")
    page.locator("#update-preview").click()
    expect(page.locator("#report")).to_contain_text("$255.00")
    _reader, text = pdf(page, "superbill")
    flat = " ".join(text.split())
    billed = [day(56), day(53), day(46)]
    shown = [d for d in (*billed, day(49)) if _date_in(d, flat)]
    assert shown == billed, (shown, flat)

    # The client list shows her as discharged.
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.locator("#client-list")).to_contain_text("Discharged")
    client_tab(page, client_id, "details")
    for width, height in ((768, 1024), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        assert no_sideways_scroll(page) <= 0, page.url
        shot(page, "client-details", width, height)
    assert console_errors == []


def _date_in(iso: str, text: str) -> bool:
    """A date as the documents print it ("Mar 6, 2026") or as ISO."""
    d = date.fromisoformat(iso)
    return iso in text or f"{d.strftime('%b')} {d.day}, {d.year}" in text
