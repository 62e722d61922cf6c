"""Every printed document the app makes, with the demo practice's content, printed as the
browser prints it: each PDF carries the DEMO mark, has the pages it should (one page where the
document is a one-page document) and no internal reference (file names, template syntax,
"None"). The pages go to /tmp/shots-practice/ as PNG (pdftoppm) to be looked at. One demo is
opened for them all."""

import io
import re
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.support.browser import dump, open_app, print_pdf

SHOTS = Path("/tmp/shots-practice")
# What no printout may show: file names, source or template syntax, empty values.
INTERNAL = re.compile(
    r"§|\.py\b|\.html\b|\.js\b|docs/|\bTODO\b|\{\{|\}\}|\{%|\bNone\b|\bnull\b|undefined"
    r"|\[object|\bNaN\b|\bnan\b|Traceback|[Ii]ssue \d|\bstub\b|lorem ipsum"
)

# Each client's document: (kind, client).
CLIENT_DOCUMENTS = [
    ("intro_letter", "Ann Lee"),
    ("assessment_summary", "Ann Lee"),  # the initial evaluation
    ("progress_report", "Ann Lee"),
    ("change_in_status", "Robert Hughes"),
    ("lmn_draft", "Ann Lee"),
    ("discharge_summary", "Ann Lee"),
    ("superbill", "Linda Park"),
    ("progress_card", "Ann Lee"),
    ("session_log", "George Alvarez"),  # ten sessions
    ("clearance_request", "Linda Park"),
]
# Pages: exactly one for the one-page documents; at most this many for the others.
ONE_PAGE = {
    "intro_letter",
    "assessment_summary",
    "progress_report",
    "change_in_status",
    "lmn_draft",
    "superbill",
    "progress_card",
    "clearance_request",
    "outcomes_letter",
    "practice_intro",
    "caseload",
}
AT_MOST = {"discharge_summary": 2, "session_log": 2, "home_program": 2}


def pages_of(name: str) -> int:
    return len(PdfReader(io.BytesIO((SHOTS / f"{name}.pdf").read_bytes())).pages)


def test_every_document_prints_with_the_demo_mark_on_the_pages_it_should(page):
    open_app(page)
    page.get_by_role("button", name="Open the demo practice").click()
    expect(page.locator("#demo-banner")).to_contain_text("DEMO", timeout=180_000)
    stores = dump(page)["stores"]
    clients = {f"{c['first_name']} {c['last_name']}": c["id"] for c in stores["clients"]}
    chen = next(p["id"] for p in stores["providers"] if "Chen" in p["name"])

    printed: dict[str, tuple[str, int]] = {}

    def print_it(name: str, address: str, preview: str) -> None:
        page.goto(address)
        report = page.locator(f'{preview} #report[data-kind="{name}"]')
        expect(report).to_be_visible()  # this document, not the one before
        expect(report.locator(".demo-stamp")).to_be_visible()
        text = print_pdf(page, SHOTS, f"demo-{name}")
        printed[name] = (text, pages_of(f"demo-{name}"))

    for kind, who in CLIENT_DOCUMENTS:
        print_it(kind, f"./#/document?client={clients[who]}&kind={kind}", "#document-preview")
    print_it(
        "outcomes_letter", f"./#/document?provider={chen}&kind=outcomes_letter", "#document-preview"
    )
    print_it("practice_intro", f"./#/partner-letter?id={chen}", "#partner-letter-preview")
    print_it(
        "home_program", f"./#/home-program-print?client={clients['Ann Lee']}", "#document-preview"
    )
    print_it("caseload", "./#/caseload", "#caseload-preview")

    problems = []
    for name, (text, pages) in printed.items():
        if "DEMO" not in text:
            problems.append(f"{name}: no DEMO mark")
        found = INTERNAL.findall(text)
        if found:
            problems.append(f"{name}: internal reference {found[:3]}")
        if name in ONE_PAGE and pages != 1:
            problems.append(f"{name}: {pages} pages, not one")
        if name in AT_MOST and not 1 <= pages <= AT_MOST[name]:
            problems.append(f"{name}: {pages} pages")
    assert problems == [], "\n".join(problems)
    assert set(printed) == ONE_PAGE | set(AT_MOST)
    # The demo's real-looking content: the package and its payment, the home program's four
    # exercises, the referring physician's name as lists show it.
    bill = printed["superbill"][0]
    assert "$960.00" in bill and "$900.00" in bill
    assert all(n in printed["home_program"][0] for n in ("Sit-to-stand", "Calf stretch"))
    assert "Maria Chen, MD" in printed["practice_intro"][0]
    assert "Dr. Maria Chen, MD" not in printed["practice_intro"][0]
