"""One-page physician documents for a realistic client (10 measures, 4 goals, 4 deficits) in
Chromium: the progress report, initial evaluation summary, change-in-status report and the
letter of medical necessity each print on ONE page on US Letter and on A4 (page.pdf() read back
with pypdf), with charts only for the measures that changed beyond the MCID; so does the
discharge summary with the client's home program (6 exercises); the preview warns
when the content would not fit one page, and a signature is never alone on a page. The letters
greet the physician by surname."""

import io
import json
import subprocess
from datetime import date, timedelta

from playwright.sync_api import expect
from pypdf import PdfReader

from medex.documents import DocumentSettings
from medex.exercises import starter_library
from medex.home_programs import HomeProgram, HomeProgramPrint, home_program_id, new_row
from medex.repository import InMemoryRepository
from medex.services.outcomes import DischargeEpisode, discharge_episode
from tests.support.aio import run
from tests.support.browser import open_app, wait_ready
from tests.support.seeders import seed_typical_client

OUT = "/tmp/shots-loopB"
ONE_PAGE = ("progress_report", "assessment_summary", "change_in_status", "lmn_draft")
WRITE = """async (ops) => { const s = await import('./js/store.js');
           await s.write(JSON.stringify(ops)); }"""


def seed(page, today: date, discharged: bool = False) -> str:
    """The realistic client and the practice, written into the app's IndexedDB;
    ``discharged``: with a home program of 6 exercises given to her, and discharged."""
    repo = InMemoryRepository()
    client, _provider, ep = seed_typical_client(repo, today, full=True)
    if discharged:
        lib = {e.name: e for e in starter_library()}
        names = ("Sit-to-stand", "Step-up", "Heel raise", "Bridge", "Tandem stance", "Calf stretch")
        program = HomeProgram(
            id=home_program_id(client.id),
            client_id=client.id,
            exercises=[new_row(lib[n]) for n in names],
        )
        printed = HomeProgramPrint(
            client_id=client.id,
            program_id=program.id,
            printed_on=today - timedelta(days=14),
            days_per_week=program.days_per_week,
            exercise_count=len(program.exercises),
            content_sha256=program.content_digest(),
            html="<p>The home program as printed</p>",
        )
        run(repo.save(program, printed))
        command = DischargeEpisode(
            episode_id=ep.id,
            today=today,
            discharge_date=today.isoformat(),
            discharge_reason="client_request",
        )
        run(discharge_episode(repo, command))
    docs = []
    for store, records in repo.stores.items():
        docs += [{"store": store, "doc": json.loads(text)} for text in records.values()]
    page.evaluate(WRITE, docs)
    return client.id


def set_paper(page, paper: str) -> None:
    settings = DocumentSettings(paper=paper)
    page.evaluate(WRITE, [{"store": "settings", "doc": json.loads(settings.model_dump_json())}])
    page.reload()
    wait_ready(page)


def open_document(page, client_id, kind):
    page.goto(f"./#/document?client={client_id}&kind={kind}")
    expect(page.locator(f'#report[data-kind="{kind}"]')).to_be_visible(timeout=30_000)
    # js/print.js has measured this document (the warning below depends on it).
    page.wait_for_function(
        "k => document.documentElement.dataset.reportKind === k", arg=kind, timeout=10_000
    )


def pdf(page, name):
    page.emulate_media(media="print")
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    path = f"{OUT}/{name}.pdf"
    with open(path, "wb") as f:
        f.write(data)
    subprocess.run(["pdftoppm", "-r", "50", "-png", path, f"{OUT}/{name}"], check=True)
    reader = PdfReader(io.BytesIO(data))
    return reader, [p.extract_text() for p in reader.pages]


def page_size_in(reader) -> tuple[float, float]:
    box = reader.pages[0].mediabox
    return round(float(box.width) / 72, 2), round(float(box.height) / 72, 2)


def test_one_page_documents_fit_on_letter_and_a4(page, console_errors):
    subprocess.run(["mkdir", "-p", OUT], check=True)
    today = date.today()
    open_app(page)
    client_id = seed(page, today)
    page.reload()
    wait_ready(page)
    for paper, size in (("letter", (8.5, 11.0)), ("a4", (8.26, 11.69))):  # A4: 210 × 297 mm
        set_paper(page, paper)
        for kind in ONE_PAGE:
            open_document(page, client_id, kind)
            expect(page.locator("#fit-warning")).to_be_hidden(timeout=20_000)
            reader, pages = pdf(page, f"{kind}-{paper}")
            assert page_size_in(reader) == size, (kind, paper)
            assert len(pages) == 1, (kind, paper, pages)
            text = pages[0]
            assert "Page 1 of 1" in text
            assert "Ann Lee" in text
            if kind in ("progress_report", "assessment_summary", "change_in_status"):
                for measure in ("Timed Up and Go", "6-Minute Walk", "Grip", "Resting"):
                    assert measure in text, (kind, measure)
            if kind == "lmn_draft":
                assert "Duration: 12 weeks (24 sessions)" in text
                assert text.count("Low walking endurance") == 1
            if kind == "progress_report":
                # Charts only for the measures that changed beyond the MCID (2 on one page).
                charts = page.locator("#report svg.measure-chart")
                assert charts.count() == 2
                names = page.locator("#report figure.chart title").all_text_contents()
                assert "Resting heart rate" not in " ".join(names)
                assert "Kneel in the garden" in text  # the 4th goal
    assert console_errors == []


def test_the_preview_warns_before_a_document_spills_and_the_signature_keeps_company(
    page, console_errors
):
    subprocess.run(["mkdir", "-p", OUT], check=True)
    open_app(page)
    client_id = seed(page, date.today())
    page.reload()
    wait_ready(page)
    open_document(page, client_id, "progress_report")
    expect(page.locator("#fit-warning")).to_be_hidden()
    long = "Add step-ups and a second balance circuit; review the home program weekly. " * 30
    page.locator("#field-plan_changes").fill(long)
    page.locator("#update-preview").click()
    warning = page.locator("#fit-warning")
    expect(warning).to_be_visible(timeout=20_000)  # a busy machine renders slowly
    expect(warning).to_contain_text("longer than one page")
    for width, height in ((768, 1024), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        warning.scroll_into_view_if_needed()
        page.screenshot(path=f"{OUT}/fit-warning-{width}.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    _reader, pages = pdf(page, "progress_report-spilled")
    assert len(pages) == 2
    # Page 2 never holds the signature alone: the recommendation goes with it.
    assert "Dana Reyes" in pages[1] and "Recommendation" in pages[1], pages[1]
    # Back to short wording: the warning goes.
    page.locator("#field-plan_changes").fill("Add step-ups.")
    page.locator("#update-preview").click()
    expect(warning).to_be_hidden(timeout=20_000)
    assert console_errors == []


def test_letters_greet_the_physician_by_surname(page, console_errors):
    open_app(page)
    client_id = seed(page, date.today())
    page.reload()
    wait_ready(page)
    open_document(page, client_id, "intro_letter")
    report = page.locator("#report")
    expect(report).to_contain_text("Dear Dr. Chen,")
    expect(report).to_contain_text("has started a post–total knee replacement program")
    expect(report).not_to_contain_text("Dear Dr. Maria Chen")
    _reader, pages = pdf(page, "intro_letter-letter")
    assert "Dear Dr. Chen," in pages[0]
    assert console_errors == []


def test_the_discharge_summary_with_the_home_program_fits_one_page(page, console_errors):
    """Outcomes first (measures, charts, attendance, reason, criteria, goals), then the home
    program given to the client, the follow-up and the signature: one page on Letter and A4."""
    subprocess.run(["mkdir", "-p", OUT], check=True)
    today = date.today()
    open_app(page)
    client_id = seed(page, today, discharged=True)
    page.reload()
    wait_ready(page)
    for paper, size in (("letter", (8.5, 11.0)), ("a4", (8.26, 11.69))):
        set_paper(page, paper)
        open_document(page, client_id, "discharge_summary")
        report = page.locator("#report")
        expect(report.locator("#home-program-exercises li")).to_have_count(6)
        expect(page.locator("#fit-warning")).to_be_hidden(timeout=20_000)
        reader, pages = pdf(page, f"discharge_summary-{paper}")
        assert page_size_in(reader) == size, paper
        assert len(pages) == 1, (paper, pages)
        text = pages[0]
        assert "Page 1 of 1" in text and "Ann Lee" in text
        for expected in (
            "Final measures compared with baseline",
            "Timed Up and Go",
            "6-Minute Walk",
            "Kneel in the garden",  # the 4th goal
            "At the client's request",
            "Home exercise program",
            "Calf stretch",  # its 6th exercise
            "Follow-up recommendation",
            "Dana Reyes",
        ):
            assert expected in text, (paper, expected)
        # The outcomes come first, the home program after them, the signature last.
        assert text.index("Timed Up and Go") < text.index("Home exercise program")
        assert text.index("Home exercise program") < text.rindex("Dana Reyes, MS")
        assert page.locator("#report svg.measure-chart").count() == 2
    assert console_errors == []
