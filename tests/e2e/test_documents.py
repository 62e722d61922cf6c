"""Physician documents in Chromium: a client made through the UI (the rest of a typical
record seeded into IndexedDB from the domain models), then the introductory letter, progress
report and superbill rendered, printed with page.pdf() and read back with pypdf: right
values, one page for the one-page documents, nothing clipped, hostile text inert and
wrapped. Mark as sent: the snapshot re-opens exactly as sent after the records change."""

import io
import json
import subprocess
from datetime import date

from playwright.sync_api import expect
from pypdf import PdfReader

from medex.assessments import Assessment
from medex.intake import Client
from medex.records import PracticeProfile
from medex.repository import InMemoryRepository
from tests.support.browser import open_app, wait_ready
from tests.support.seeders import seed_typical_client

OUT = "/tmp/docs-e2e"
HOSTILE = (
    "<script>alert(1)</script> {{ 7*7 }} \u05e9\u05dc\u05d5\u05dd \u202eevil\u202c \U0001f600 "
    + "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
)


def fill(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def seed(page, client_id: str, today: date) -> None:
    """Write a typical client's referral, history, program, assessments and sessions into the
    app's IndexedDB (the assessment screens are built elsewhere), for the UI-made client."""
    repo = InMemoryRepository()
    seed_typical_client(repo, today, client_id=client_id)
    docs = []
    for store, records in repo.stores.items():
        if store == PracticeProfile.store:
            continue  # the UI made the profile
        docs += [{"store": store, "doc": json.loads(text)} for text in records.values()]
    page.evaluate(
        """async (ops) => { const s = await import('./js/store.js');
           await s.write(JSON.stringify(ops)); }""",
        docs,
    )


def pdf_text(page, name):
    page.emulate_media(media="print")
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    path = f"{OUT}/{name}.pdf"
    with open(path, "wb") as f:
        f.write(data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", path, f"{OUT}/{name}"], check=True)
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(p.extract_text() for p in reader.pages)


def assert_nothing_clipped(page):
    """In print layout, no table or text box is wider than the page's content box."""
    page.emulate_media(media="print")
    wide = page.evaluate(
        """() => { const r = document.querySelector('#report');
          const w = r.getBoundingClientRect().width + 1;
          return [...r.querySelectorAll('table, p, td, th, li, span')]
            .filter(e => e.getBoundingClientRect().width > w || e.scrollWidth > e.clientWidth + 1
                      && getComputedStyle(e).overflow !== 'visible')
            .map(e => e.tagName + ':' + e.textContent.slice(0, 40)); }"""
    )
    overflow = page.evaluate(
        "() => document.querySelector('#report').scrollWidth"
        " - document.querySelector('#report').clientWidth"
    )
    page.emulate_media(media="screen")
    assert wide == [] and overflow <= 1, (wide, overflow)


def open_document(page, client_id, kind):
    page.goto(f"./#/document?client={client_id}&kind={kind}")
    expect(page.locator("#report")).to_be_visible()


def test_documents_print_one_page_with_the_right_values(page, console_errors):
    subprocess.run(["mkdir", "-p", OUT], check=True)
    today = date.today()
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
    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1952-08-01"})
    page.locator("#field-sex").select_option("female")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Ann Lee")
    client_id = page.evaluate("new URLSearchParams(location.hash.split('?')[1]).get('id')")
    seed(page, client_id, today)

    # The dashboard lists what is owed, to whom, since when. (The seed wrote behind the app's
    # back, so reload: the app caches what it has read and only its own writes refresh it.)
    page.goto("./#/")
    page.reload()
    wait_ready(page)
    owed = page.locator("li[data-kind=report]")
    expect(owed.first).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Introductory letter for Ann Lee to Maria Chen, MD"
    )

    # Introductory letter: one page, letterhead, client identifiers, hostile text inert.
    open_document(page, client_id, "intro_letter")
    page.locator("#field-request").fill(HOSTILE)
    page.locator("#update-preview").click()
    expect(page.locator("#report")).to_contain_text("<script>alert(1)</script>")
    assert page.evaluate("document.querySelectorAll('#report script').length") == 0
    assert_nothing_clipped(page)
    reader, text = pdf_text(page, "intro_letter")
    assert len(reader.pages) == 1, text
    page.get_by_role("button", name="Save as draft").click()  # viewing alone records nothing
    expect(page.locator("#flash")).to_contain_text("Saved as a draft")
    for expected in (
        "Reyes Medical Exercise",
        "Ann Lee",
        "Aug 1, 1952",
        "Maria Chen, MD",
        "Dear Dr. Chen,",
        "<script>alert(1)</script>",
        "{{ 7*7 }}",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "49" not in text.replace("1952", "")

    # Progress report: outcomes first, one page, scope check before sending.
    open_document(page, client_id, "progress_report")
    page.locator("#field-plan_changes").fill("Continue treatment; add step-ups. " + HOSTILE)
    page.locator("#update-preview").click()
    expect(page.locator("#scope-banner")).to_contain_text("1 word outside")
    expect(page.locator(".findings-list")).to_contain_text("Treatment is the physician")
    assert_nothing_clipped(page)
    reader, text = pdf_text(page, "progress_report")
    assert len(reader.pages) == 1, text
    for expected in (
        "Progress report",
        "Timed Up and Go",
        "14.2",
        "12.1",
        "10.4",
        "−3.8",
        "MCID",
        "Attendance",
        "11 of 12",
        "Recommendation",
        "Dana Reyes",
        "do not diagnose",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert page.locator("#report svg.measure-chart").count() == 2

    # Print button: calls the browser's print (stubbed here).
    page.evaluate(
        "() => { window.print = () => { (window.__printed ||= []).push(new Error().stack); }; }"
    )
    page.locator("#print-document").click()
    printed = page.evaluate("window.__printed")
    assert len(printed) == 1, printed

    # Mark as sent: refused until the flagged wording is reviewed, then stored as sent.
    page.locator("#field-_channel").select_option("fax")
    page.locator("#mark-sent").click()
    expect(page.locator("#error-_scope_ok")).to_contain_text("Review the 1 highlighted")
    page.locator("#field-_scope_ok").check()
    page.locator("#mark-sent").click()
    expect(page.locator("#sent-status")).to_contain_text("Sent")
    sent_url = page.url
    as_sent = page.locator("#document-preview").inner_html()
    # The records change (a new reassessment) — the sent document does not.
    new = Assessment(
        client_id=client_id,
        episode_id=None,
        kind="reassessment",
        assessed_on=today,
        measurements=[{"measure_id": "tug", "value": 8.1}],
    )
    page.evaluate(
        """async (ops) => { const s = await import('./js/store.js');
           await s.write(JSON.stringify(ops)); }""",
        [{"store": "assessments", "doc": json.loads(new.model_dump_json())}],
    )
    page.goto(f"./#/documents?client={client_id}")
    expect(page.locator("#sent-list")).to_contain_text("Progress report")
    page.goto(sent_url)
    expect(page.locator("#sent-status")).to_be_visible()
    assert page.locator("#document-preview").inner_html() == as_sent
    page.screenshot(path=f"{OUT}/sent.png", full_page=True)
    page.locator("#field-acknowledged_on").press("Enter")
    expect(page.locator("#sent-status")).to_contain_text("Acknowledged")

    # Superbill: ICD-10 from the referral, dates of service, payments, CPT note.
    open_document(page, client_id, "superbill")
    page.locator("#field-fee_per_session").fill("85")
    page.locator("#update-preview").click()
    # 10 dates of service: 12 booked, 1 cancelled, 1 stopped for blood pressure (not billed).
    expect(page.locator("#report")).to_contain_text("$850.00")
    assert_nothing_clipped(page)
    reader, text = pdf_text(page, "superbill")
    for expected in ("Z96.651", "M17.11", "$850.00", "$450.00", "HSA/FSA", "97110"):
        assert expected in text, expected
    page.get_by_role("button", name="Print / save as PDF").click()  # printing records it

    # Provider page: documents sent/acknowledged and outcomes across their clients.
    page.goto("./#/")
    client = Client.model_validate(
        page.evaluate(
            """async (id) => { const s = await import('./js/store.js');
               return JSON.parse(await s.get('clients', id)); }""",
            client_id,
        )
    )
    page.goto(f"./#/provider?id={client.provider_id}")
    expect(page.locator("#provider-documents")).to_contain_text("Progress report")
    expect(page.locator("#provider-outcomes")).to_contain_text("Timed Up and Go")
    # The provider's log: drafted (saved as a draft or printed) → sent → acknowledged.
    log = page.locator("#comm-log")
    drafted = log.locator("tr[data-status=drafted]")
    expect(drafted.filter(has_text="Introductory letter")).to_have_count(1)
    expect(drafted.filter(has_text="Superbill")).to_have_count(1)
    expect(log.locator("tr[data-status=acknowledged]")).to_contain_text("Progress report")

    # Caseload outcomes for this provider: a printable table to show physicians.
    page.locator("#provider-caseload").click()
    expect(page.locator("#caseload-table")).to_contain_text("Timed Up and Go")
    page.screenshot(path=f"{OUT}/caseload.png", full_page=True)
    assert_nothing_clipped(page)
    reader, text = pdf_text(page, "caseload")
    for expected in ("Caseload outcomes", "Post total knee replacement", "−3.80", "MCID", "Page 1"):
        assert expected in text, expected
    assert console_errors == []


def test_a4_from_settings_prints_on_a4(page):
    """The paper size chosen in the document settings is the PDF page size."""
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()
    repo = InMemoryRepository()
    client, _p, _e = seed_typical_client(repo, date.today())
    docs = [
        {"store": s, "doc": json.loads(t)}
        for s, records in repo.stores.items()
        if s != "profile"
        for t in records.values()
    ]
    page.evaluate(
        """async (ops) => { const s = await import('./js/store.js');
           await s.write(JSON.stringify(ops)); }""",
        docs,
    )
    page.goto("./#/documents")
    page.reload()  # the records were written behind the app's back (see above)
    wait_ready(page)
    expect(page.locator("#owed-list")).to_contain_text("Ann Lee")
    page.goto("./#/document-settings")
    page.locator("#paper-a4").check()
    page.locator("#save-document-settings").click()
    expect(page.locator("#flash")).to_contain_text("saved")
    open_document(page, client.id, "progress_report")
    reader, _text = pdf_text(page, "progress_report_a4")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert len(reader.pages) == 1
