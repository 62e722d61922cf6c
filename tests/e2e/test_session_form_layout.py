"""The session form on a tablet, in Chromium, for a realistic session (6 exercises, readings
before and after, notes): it reads in the order of a session, folds what is done behind a line
saying what it holds, and is about half as long as before (4,653 px at 768×1024 and 4,515 px at
1024×768 with every part open); an exercise's dose is one line; a stop flag or a field in
error inside a folded part opens it, and a field in error is named at the top with a link to
it. No sideways scroll, touch targets of 44 px, axe clean. Screenshots in /tmp/shots-form."""

import json
from datetime import date, time, timedelta
from pathlib import Path

from playwright.sync_api import expect

from medex.exercises import starter_library
from medex.heart_rate import RpeRating
from medex.repository import InMemoryRepository
from medex.safety import BpPosition, Timing, Vitals
from medex.screening import AcsmScreeningInputs, Intensity, ScreeningRecord
from medex.session_logs import Attendance, ExerciseEntry, SessionLog, compute_flags
from tests.support.aio import run
from tests.support.browser import assert_accessible, open_app, wait_ready
from tests.support.seeders import seed_typical_client

OUT = Path("/tmp/shots-form")
WRITE = """async (ops) => { const s = await import('./js/store.js');
           await s.write(JSON.stringify(ops)); }"""
# The form before its parts folded (same session, same build otherwise): every part open.
BEFORE = {768: 4653, 1024: 4515}


def realistic_session(client_id, episode_id, today, **changes) -> SessionLog:
    lib = {e.name: e for e in starter_library()}

    def ex(name, **kw):
        e = lib[name]
        return ExerciseEntry(
            exercise_id=e.id, exercise_name=e.name, category=e.category, modality=e.modality, **kw
        )

    def rpe(value):
        return RpeRating(scale="borg_6_20", value=value)

    log = SessionLog(
        client_id=client_id,
        episode_id=episode_id,
        session_date=today,
        start_time=time(9, 30),
        session_number=13,
        attendance=Attendance.ATTENDED,
        pre_vitals=Vitals(
            timing=Timing.PRE,
            heart_rate_bpm=72,
            systolic_mmhg=128,
            diastolic_mmhg=82,
            bp_position=BpPosition.SEATED,
            spo2_percent=97,
        ),
        pain=2,
        exercises=[
            ex("Recumbent bike", sets=1, duration_s=600, rpe=rpe(11), heart_rate_bpm=104),
            ex("Sit-to-stand", sets=3, reps=10, rpe=rpe(13), modifications="Higher seat"),
            ex("Band row", sets=2, reps=12, resistance="green band", rpe=rpe(12)),
            ex("Step-up", sets=2, reps=8, load=2, load_unit="kg", assistance="supervision"),
            ex("Heel raise", sets=2, reps=15, rpe=rpe(11)),
            ex("Tandem stance", sets=3, duration_s=30, assistance="contact_guard"),
        ],
        post_vitals=Vitals(
            timing=Timing.POST,
            heart_rate_bpm=84,
            systolic_mmhg=132,
            diastolic_mmhg=80,
            bp_position=BpPosition.SEATED,
        ),
        tolerance="well",
        response_notes="Good effort; knee ache 3/10 on step-ups, settled at rest.",
        plan_next="Add a third set of step-ups; try 4 kg.",
        home_program_days=4,
    ).model_copy(update=changes)
    return log.model_copy(update={"safety_flags": compute_flags(log)})


def seed(page) -> tuple[str, str]:
    """The realistic client, screened, with two drafts: a routine one and one with a resting
    blood pressure above the exercise limit. Returns their ids."""
    repo = InMemoryRepository()
    today = date.today()
    client, _provider, episode = seed_typical_client(repo, today, full=True)
    screening = AcsmScreeningInputs(
        exercises_regularly=False,
        known_cmr_disease=False,
        has_diabetes=False,
        symptomatic=False,
        desired_intensity=Intensity.MODERATE,
    )
    routine = realistic_session(client.id, episode.id, today)
    high = Vitals(timing=Timing.PRE, heart_rate_bpm=70, systolic_mmhg=205, diastolic_mmhg=92)
    stopped = realistic_session(client.id, episode.id, today, pre_vitals=high, session_number=14)
    run(
        repo.save(
            ScreeningRecord(
                client_id=client.id, screened_on=today - timedelta(days=60), acsm=screening
            ),
            routine,
            stopped,
        )
    )
    docs = [
        {"store": store, "doc": json.loads(text)}
        for store, records in repo.stores.items()
        for text in records.values()
    ]
    page.evaluate(WRITE, docs)
    return routine.id, stopped.id


def open_session(page, log_id):
    page.goto(f"./#/session?id={log_id}")
    expect(page.locator(f"#session-form-{log_id}")).to_be_visible(timeout=30_000)


def tops(page, selector) -> list[float]:
    return [round(b["y"]) for b in (e.bounding_box() for e in page.locator(selector).all())]


def test_a_realistic_session_reads_in_order_and_is_half_as_long(page, console_errors):
    OUT.mkdir(exist_ok=True)
    open_app(page)
    routine, _stopped = seed(page)
    page.reload()
    wait_ready(page)
    for width, height in ((768, 1024), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        open_session(page, routine)
        # Done parts are folded behind their line; the exercises are open.
        pre = page.locator("#part-pre")
        expect(pre).not_to_have_attribute("open", "")
        expect(page.locator("#pre-digest")).to_have_text(
            "BP 128/82 seated · HR 72 · SpO2 97% · pain 2/10 · no symptoms"
        )
        expect(page.locator("#post-digest")).to_contain_text("BP 132/80 seated · HR 84")
        expect(page.locator("#post-digest")).to_contain_text("Tolerated well")
        expect(page.locator("#notes-digest")).to_contain_text("Home program 4 days")
        expect(page.locator("#part-ex")).to_have_attribute("open", "")
        expect(page.locator("#ex-digest")).to_be_hidden()  # the line shows only when folded
        # Every dose field of an exercise on one line, labelled.
        assert len(set(tops(page, "#row-1 .dose-grid input, #row-1 .dose-grid select"))) == 1
        expect(page.locator("#row-1 .dose-grid label")).to_have_count(8)
        height_now = page.evaluate("document.documentElement.scrollHeight")
        assert height_now <= BEFORE[width] * 0.55, (width, height_now)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # Touch targets: every field, button and fold line at least 44 px high.
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                '#main form input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
                + '#main form select, #main form button:not(.visually-hidden), #main summary')]
              .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 43.5)
              .map(e => e.id || e.textContent.trim().slice(0, 30))"""
        )
        assert small == [], small
        page.screenshot(path=str(OUT / f"session-form-{width}x{height}.png"), full_page=True)
        print(f"session form at {width}×{height}: {height_now} px (was {BEFORE[width]})")

    # Opened, Before exercise shows its fields; its order follows a session.
    page.locator("#part-pre > summary").click()
    expect(page.get_by_label("Systolic").first).to_be_visible()
    order = page.evaluate(
        """() => ['part-session', 'part-pre', 'part-ex', 'part-post', 'part-notes', 'safety']
              .map(id => document.getElementById(id).getBoundingClientRect().y)"""
    )
    assert order == sorted(order), order
    assert_accessible(page, "session form, parts folded")
    assert console_errors == []


def test_a_stop_or_an_error_in_a_folded_part_opens_it(page, console_errors):
    OUT.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 768, "height": 1024})
    open_app(page)
    routine, stopped = seed(page)
    page.reload()
    wait_ready(page)

    # A saved stop before exercise: its part is open although its readings are in.
    open_session(page, stopped)
    expect(page.locator("#stop-banner")).to_be_visible()
    expect(page.locator("#part-pre")).to_have_attribute("open", "")
    expect(page.locator("#field-pre_systolic_mmhg")).to_have_value("205")

    # Typed into a part that was then folded: the stop opens it again, and shows at the top.
    open_session(page, routine)
    pre = page.locator("#part-pre")
    expect(pre).not_to_have_attribute("open", "")
    page.locator("#part-pre > summary").click()
    page.locator("#field-pre_systolic_mmhg").fill("210")
    page.locator("#field-pre_diastolic_mmhg").fill("100")
    page.locator("#part-pre > summary").click()  # folded before the check answers
    page.locator("#field-ex_0_modifications").fill("Seat 5")  # typing goes on elsewhere
    banner = page.locator("#stop-banner")
    expect(banner).to_be_visible(timeout=15_000)
    expect(banner).to_contain_text("210/100")
    expect(pre).to_have_attribute("open", "", timeout=15_000)
    expect(page.locator("#field-ex_0_modifications")).to_have_value("Seat 5")
    page.screenshot(path=str(OUT / "session-form-stop-768x1024.png"))

    # Back to a routine reading; then a field in error inside a folded part.
    page.locator("#field-pre_systolic_mmhg").fill("128")
    page.locator("#field-pre_diastolic_mmhg").fill("82")
    expect(banner).to_have_count(0, timeout=15_000)
    page.locator("#part-post > summary").click()
    page.locator("#field-post_heart_rate_bpm").fill("400")
    page.locator("#part-post > summary").click()
    expect(page.locator("#part-post")).not_to_have_attribute("open", "")
    page.locator("#save-draft").click()
    expect(page.locator("#part-post")).to_have_attribute("open", "", timeout=15_000)
    expect(page.locator("#error-post_heart_rate_bpm")).to_contain_text("between")
    summary = page.locator("#attention-summary")
    expect(summary).to_contain_text("After exercise")
    assert summary.bounding_box()["y"] < page.locator("#h-session").bounding_box()["y"]
    page.screenshot(path=str(OUT / "session-form-error-768x1024.png"))
    # The link at the top takes the person to the field; the screen stays.
    page.locator("#field-post_heart_rate_bpm").blur()
    summary.get_by_role("link", name="After exercise").click()
    expect(page.locator("#field-post_heart_rate_bpm")).to_be_focused()
    expect(page.locator(f"#session-form-{routine}")).to_be_visible()
    assert "#/session?id=" in page.url
    page.locator("#field-post_heart_rate_bpm").fill("84")
    page.locator("#save-draft").click()
    expect(page.locator("#flash")).to_contain_text("Draft saved")
    expect(summary).to_have_count(0)
    assert_accessible(page, "session form after a correction")
    assert console_errors == []
