"""The home-program screens through the DOM-free App and the in-memory repository: build a
program from the library, typed values kept on a refused save, print on letterhead with every
printed version kept and shown inert, the session log's home-program days, and adherence and
the program on the physician documents."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from medex.documents import DocKind
from medex.home_programs import HomeProgram, HomeProgramPrint, home_program_id
from medex.session_logs import SessionLog
from tests.support.aio import run
from tests.support.images import TINY_JPEG
from tests.support.pages import Elements, FormData
from tests.support.screens import (
    add_client,
    documents_app,
    html,
    open_doc,
    session_app,
    start,
    submit,
)
from tests.support.seeders import TODAY


@pytest.fixture
def app(monkeypatch):
    return documents_app(monkeypatch)


def client_of(app):
    return app.seeded[0]


def form(app) -> dict:
    client = client_of(app)
    return FormData(
        html(app, f"#/home-program?client={client.id}"), f"home-program-form-{client.id}"
    ).data


def add(app, name):
    page = html(app, f"#/home-program?client={client_of(app).id}")
    exercise_id = re.search(rf'<option value="([^"]+)">{re.escape(name)}</option>', page).group(1)
    run(
        app.dispatch(
            "home-program-form", {**form(app), "op": "add", "add_exercise_id": exercise_id}
        )
    )


def program(app) -> HomeProgram:
    return run(app.repo.get(HomeProgram, home_program_id(client_of(app).id)))


def test_the_client_page_has_a_home_program_tab_and_an_empty_program(app):
    page = html(app, f"#/home-program?client={client_of(app).id}")
    assert 'id="tab-home-program"' in page and 'aria-current="page">Home program' in page
    assert Elements(page).text["no-exercises"] == "No exercises in the home program yet."
    assert "Sit-to-stand" in page  # the library to pick from


def test_building_a_program_and_editing_a_dose(app):
    for name in ("Sit-to-stand", "Heel raise", "Bridge"):
        add(app, name)
    assert app.state.flash == "Bridge added to the home program."
    rows = program(app).exercises
    assert [e.name for e in rows] == ["Sit-to-stand", "Heel raise", "Bridge"]
    assert rows[0].drawing == "sit_to_stand"
    k = rows[2].key
    data = {**form(app), f"r_{k}_seconds": "1:30", f"r_{k}_reps": "", f"r_{k}_days_per_week": "7"}
    data[f"r_{k}_safety"] = "Sharp pain in the back"
    run(app.dispatch("home-program-form", {**data, "op": "save"}))
    assert app.state.flash == "Home program saved."
    bridge = program(app).exercises[2]
    assert bridge.dose.seconds == 90 and bridge.dose.reps is None
    assert bridge.dose.text == "1 minute 30 seconds, 2 times; every day, once a day"
    assert bridge.safety == "Sharp pain in the back"
    page = html(app)
    assert Elements(page).inputs[f"r_{k}_seconds"]["value"] == "1:30"
    # Move up and remove.
    run(app.dispatch("home-program-form", {**form(app), "op": f"up:{k}"}))
    assert [e.name for e in program(app).exercises] == ["Sit-to-stand", "Bridge", "Heel raise"]
    first = program(app).exercises[0].key
    run(app.dispatch("home-program-form", {**form(app), "op": f"remove:{first}"}))
    assert [e.name for e in program(app).exercises] == ["Bridge", "Heel raise"]


def test_a_refused_save_keeps_what_was_typed_with_the_message_next_to_the_field(app):
    add(app, "Bridge")
    k = program(app).exercises[0].key
    data = {**form(app), f"r_{k}_days_per_week": "9", f"r_{k}_cues": "Squeeze, lift, lower"}
    run(app.dispatch("home-program-form", {**data, "op": "save"}))
    page = html(app)
    el = Elements(page)
    assert el.text[f"error-r_{k}_days_per_week"] == "Must be at most 7"
    assert el.inputs[f"r_{k}_days_per_week"]["value"] == "9"
    assert "Squeeze, lift, lower" in page
    assert app.state.focus == f"field-r_{k}_days_per_week"
    assert program(app).exercises[0].dose.days_per_week == 3  # nothing stored


def test_a_photo_is_kept_and_a_photo_that_could_not_be_read_is_said_next_to_its_row(app):
    add(app, "Bridge")
    k = program(app).exercises[0].key
    run(
        app.dispatch(
            "home-program-form",
            {**form(app), f"r_{k}_photo_error": "This image could not be read.", "op": "save"},
        )
    )
    assert Elements(html(app)).text[f"error-r_{k}_photo"] == "This image could not be read."
    run(
        app.dispatch(
            "home-program-form", {**form(app), f"r_{k}_photo_data_url": TINY_JPEG, "op": "save"}
        )
    )
    assert app.state.flash == "Home program saved. 1 photo kept."
    page = html(app)
    assert f'id="picture-{k}"' in page and TINY_JPEG in page


def test_printing_renders_large_type_pages_and_keeps_each_version(app):
    for name in ("Sit-to-stand", "Heel raise", "Bridge", "Wall push-up", "Marching in place"):
        add(app, name)
    client = client_of(app)
    page = html(app, f"#/home-program-print?client={client.id}")
    assert "5 exercises on 2 pages" in page
    report = page[page.index('id="report"') :]
    assert report.count('class="hep-ex"') == 5
    assert report.count('class="hep-page hep-break"') == 1
    assert "Reyes Medical Exercise" in report  # the letterhead
    assert "2 sets of 8 repetitions" in report and "How often:" in report
    assert report.count("<svg") == 5  # the starter drawings
    assert 'data-action="home-program-printed"' in page
    run(app.dispatch("home-program-printed", {"client": client.id}))
    assert app.state.flash == f"Printed version of {TODAY:%b %-d, %Y} kept."
    run(app.dispatch("home-program-printed", {"client": client.id}))  # the same again: no copy
    (kept,) = run(app.repo.find(HomeProgramPrint, "client_id", client.id))
    assert kept.exercise_count == 5 and "Marching in place" in kept.html
    versions = html(app, f"#/home-program?client={client.id}")
    assert f"#/home-program-version?id={kept.id}" in versions
    shown = html(app, f"#/home-program-version?id={kept.id}")
    (frame,) = re.findall(r'<iframe class="snapshot-frame"[^>]*>', shown)
    assert 'sandbox="allow-same-origin allow-modals"' in frame
    inner = html_lib.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "Marching in place" in inner and "home_program.css" in inner
    assert "<script" not in inner


def test_the_print_screen_without_exercises_says_so(app):
    page = html(app, f"#/home-program-print?client={client_of(app).id}")
    assert "The home program has no exercises yet." in page
    assert "home-program-printed" not in page


def test_the_discharge_summary_lists_the_program_and_reports_show_adherence(app):
    for name in ("Sit-to-stand", "Bridge"):
        add(app, name)
    client = client_of(app)
    logs = sorted(
        run(app.repo.find(SessionLog, "client_id", client.id)), key=lambda lg: lg.session_date
    )
    attended = [lg for lg in logs if lg.attendance.value == "attended"]
    # The program was printed at the fourth visit; the next visits report the days done.
    printed_on = attended[3].session_date
    run(
        app.repo.save(
            HomeProgramPrint(
                client_id=client.id,
                program_id=program(app).id,
                printed_on=printed_on,
                days_per_week=3,
                exercise_count=2,
                content_sha256=program(app).content_digest(),
                html="<p>program</p>",
            )
        )
    )
    run(app.repo.save(*[lg.model_copy(update={"home_program_days": 1}) for lg in attended[4:]]))
    discharge = open_doc(app, DocKind.DISCHARGE_SUMMARY)
    table = Elements(discharge).text["home-program-exercises"]
    assert "Sit-to-stand" in table and "2 sets of 8 repetitions; 3 days a week, once a day" in table
    assert f"given to the client {printed_on:%b %-d, %Y}" in table
    assert "Continue the program below at home." in discharge
    progress = open_doc(app, DocKind.PROGRESS_REPORT)
    assert re.search(r"Home program adherence:</b> done on \d+ of \d+ planned days", progress)
    assert "Attendance:" in progress


def test_reports_say_nothing_of_adherence_without_a_printed_program(app):
    assert "Home program done" not in open_doc(app, DocKind.PROGRESS_REPORT)
    assert 'id="home-program-exercises"' not in open_doc(app, DocKind.DISCHARGE_SUMMARY)


def test_the_session_log_records_the_home_program_days(monkeypatch):
    app = session_app(monkeypatch)
    client = add_client(app)
    log = start(app, client)
    submit(app, log, home_program_days="4")
    assert run(app.repo.get(SessionLog, log.id)).home_program_days == 4
    submit(app, log, home_program_days="-2")
    page = html(app)
    assert "home_program_days" in Elements(page).inputs
    assert Elements(page).inputs["home_program_days"]["value"] == "-2"
    assert Elements(page).text["error-home_program_days"] == "Must be at least 0"
    assert run(app.repo.get(SessionLog, log.id)).home_program_days == 4
    submit(app, log, home_program_days="")
    assert run(app.repo.get(SessionLog, log.id)).home_program_days is None


def test_a_changed_program_printed_the_same_day_is_a_new_version(app):
    add(app, "Bridge")
    client = client_of(app)
    run(app.dispatch("home-program-printed", {"client": client.id}))
    add(app, "Heel raise")
    run(app.dispatch("home-program-printed", {"client": client.id}))
    prints = run(app.repo.find(HomeProgramPrint, "client_id", client.id))
    assert sorted(p.exercise_count for p in prints) == [1, 2]
    assert all(p.printed_on == TODAY for p in prints)
