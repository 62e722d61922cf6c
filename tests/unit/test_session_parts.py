"""The session form's parts (app.session_parts): each part's line says what it holds, a part
starts open while it still needs filling in, and a stop flag or a field in error inside a part
always opens it; through the DOM-free App, the rendered form shows the same."""

from __future__ import annotations

import re

import pytest

from app.session_parts import part_of, session_parts
from medex.safety import FlagCode
from medex.session_logs import SessionLog, compute_flags, pre_exercise_hard_stops
from tests.support.pages import Elements
from tests.support.screens import add_client, add_exercise, html, session_app, start, submit

READINGS = {
    "session_date": "2026-03-10",
    "start_time": "09:30",
    "session_number": "13",
    "attendance": "attended",
    "pre_heart_rate_bpm": "72",
    "pre_systolic_mmhg": "128",
    "pre_diastolic_mmhg": "82",
    "pre_bp_position": "seated",
    "pain": "2",
}


def parts(values, errors=None, flags=(), pre_stops=()):
    return session_parts(values, errors or {}, list(flags), list(pre_stops))


def test_each_field_belongs_to_the_part_it_is_shown_in():
    expected = {
        "session_date": "session",
        "attendance_reason": "session",
        "pre_systolic_mmhg": "pre",
        "pre_vitals": "pre",  # a refused signature's message on the readings
        "pain": "pre",
        "sym_chest_pain": "pre",
        "msk_trauma": "pre",
        "medication_changes": "pre",
        "ex_3_sets": "ex",
        "ex_3_row": "ex",
        "exercises": "ex",
        "add_exercise_id": "ex",
        "dur_systolic_mmhg": "post",
        "during_vitals": "post",
        "post_heart_rate_bpm": "post",
        "symd_nausea": "post",
        "tolerance": "post",
        "adverse_events": "post",
        "plan_next": "notes",
        "home_program_days": "notes",
        "action_taken": None,  # the safety section: never folded
        "override_reason": None,
        "clearance_override_reason": None,
    }
    assert {name: part_of(name) for name in expected} == expected


def test_the_lines_say_what_each_part_holds():
    values = {
        **READINGS,
        "pre_spo2_percent": "97",
        "ex_0_exercise_id": "a",
        "ex_0_exercise_name": "Recumbent bike",
        "ex_1_exercise_id": "b",
        "ex_1_exercise_name": "Sit-to-stand",
        "post_heart_rate_bpm": "84",
        "post_systolic_mmhg": "132",
        "post_diastolic_mmhg": "80",
        "tolerance": "well",
        "home_program_days": "4",
        "plan_next": "Add a third set of step-ups; try 4 kg.",
    }
    p = parts(values)
    assert p.session.digest == "Mar 10, 2026 09:30 · Attended · session 13"
    assert p.pre.digest == "BP 128/82 seated · HR 72 · SpO2 97% · pain 2/10 · no symptoms"
    assert p.ex.digest == "2 exercises: Recumbent bike, Sit-to-stand"
    assert p.post.digest == "BP 132/80 · HR 84 · no symptoms · Tolerated well"
    assert p.notes.digest == "Home program 4 days · plan: Add a third set of step-ups; try 4 kg."


def test_symptoms_warning_signs_and_medication_changes_show_in_the_line():
    values = {
        **READINGS,
        "sym_dizziness_or_fainting": "1",
        "msk_major_trauma": "1",
        "medication_changes": "New",
    }
    line = parts(values).pre.digest
    assert "symptoms: Dizziness or fainting" in line
    assert "back-pain warning signs ticked" in line and "medication changes noted" in line
    three = {**values, "sym_chest_pain": "1", "sym_ankle_swelling_both": "1"}
    assert "3 symptoms: " in parts(three).pre.digest


def test_a_long_plan_is_shortened_in_the_line_and_nothing_typed_reads_plainly():
    p = parts({"plan_next": "Progress " * 30})
    assert p.notes.digest.endswith("…") and len(p.notes.digest) < 100
    empty = parts({})
    assert empty.session.digest.startswith("No date")
    assert empty.pre.digest == "No readings yet · no symptoms"
    assert empty.ex.digest == "No exercises yet"
    assert empty.post.digest.startswith("No readings after exercise yet")
    assert empty.notes.digest == "No plan for next session yet"


def test_a_part_starts_open_while_it_needs_filling_in():
    fresh = parts({"attendance": "attended", "pain": "2"})
    assert fresh.pre.open and fresh.ex.open and fresh.post.open and fresh.notes.open
    assert not fresh.session.open
    done = parts(
        {
            **READINGS,
            "post_heart_rate_bpm": "84",
            "tolerance": "well",
            "plan_next": "Same again",
        }
    )
    assert not done.pre.open and not done.post.open and not done.notes.open
    assert done.ex.open  # the exercises are the session's work: open
    assert not any(p.attention for p in (done.session, done.pre, done.ex, done.post, done.notes))
    # Readings after exercise without the tolerance: still open.
    assert parts({**READINGS, "post_heart_rate_bpm": "84"}).post.open


def test_a_session_that_did_not_take_place_folds_what_is_not_kept():
    p = parts({**READINGS, "attendance": "cancelled"})
    assert p.session.attention  # the reason is asked there
    assert not p.pre.open and not p.ex.open and not p.post.open
    assert p.pre.digest.startswith("Not kept")


def test_a_field_in_error_opens_its_part_and_is_named_at_the_top():
    errors = {
        "pre_heart_rate_bpm": "Heart rate must be between 20 and 300 bpm",
        "ex_1_row": "Sit-to-stand: enter sets × reps, or a time or distance",
    }
    values = {**READINGS, "ex_1_exercise_id": "b", "ex_1_exercise_name": "Sit-to-stand"}
    p = parts(values, errors)
    assert p.pre.attention and p.pre.first_error == "field-pre_heart_rate_bpm"
    assert p.ex.attention and p.ex.first_error == "field-ex_1_sets"
    assert not p.post.attention and not p.session.attention
    assert [x.title for x in p.needing_attention] == ["Before exercise", "Exercises"]
    # A refused signature names the readings as a whole: the first reading field.
    signed = parts(values, {"post_vitals": "Record the blood pressure after exercise"})
    assert signed.post.attention and signed.post.first_error == "field-post_heart_rate_bpm"
    assert parts(values, {"__all__": "Set your name"}).needing_attention == []


def _log(**update):
    base = SessionLog(client_id="c", session_date="2026-03-10")
    return base.model_copy(update=update)


def test_a_stop_before_exercise_opens_before_exercise_and_a_later_stop_after_exercise():
    from medex.safety import Timing, Vitals

    pre = Vitals(timing=Timing.PRE, systolic_mmhg=210, diastolic_mmhg=100)
    log = _log(pre_vitals=pre)
    flags = compute_flags(log)
    stops = pre_exercise_hard_stops(log)
    assert stops and any(f.code is FlagCode.RESTING_BP_CONTRAINDICATION for f in stops)
    p = parts(
        {**READINGS, "pre_systolic_mmhg": "210", "pre_diastolic_mmhg": "100"}, {}, flags, stops
    )
    assert p.pre.attention and not p.post.attention

    during = Vitals(timing=Timing.DURING, heart_rate_bpm=128, systolic_mmhg=262, diastolic_mmhg=96)
    log = _log(
        pre_vitals=Vitals(timing=Timing.PRE, systolic_mmhg=128, diastolic_mmhg=80),
        during_vitals=[during],
    )
    flags = compute_flags(log)
    assert any(f.is_hard_stop for f in flags)
    values = {**READINGS, "dur_heart_rate_bpm": "128", "dur_systolic_mmhg": "262"}
    p = parts(values, {}, flags, pre_exercise_hard_stops(log))
    assert p.post.attention and not p.pre.attention
    assert p.folds["during"] == (True, True)  # the reading's own fold too
    assert p.folds["symd"] == (False, False)


# -- the rendered form -----------------------------------------------------------------------


def details_tag(page: str, element_id: str) -> str:
    match = re.search(rf'<details[^>]*\bid="{element_id}"[^>]*>', page)
    assert match, element_id
    return match[0]


@pytest.fixture
def app(monkeypatch):
    return session_app(monkeypatch)


def test_the_form_reads_in_the_order_of_a_session(app):
    log = start(app, add_client(app))
    page = html(app)
    order = [
        page.index(f'id="{x}"')
        for x in (
            "part-session",
            "part-pre",
            "part-ex",
            "part-post",
            "part-notes",
            "safety",
            "sign-log",
        )
    ]
    assert order == sorted(order)
    # Target heart rate and intensity with the exercises; adherence with the plan.
    assert page.index('id="part-ex"') < page.index('id="target-hr"') < page.index('id="part-post"')
    assert page.index('id="part-notes"') < page.index('name="home_program_days"')
    # A fresh draft: before exercise open, nothing needing attention.
    assert " open" in details_tag(page, "part-pre")
    assert "data-attention" not in page and "attention-summary" not in page
    assert log is not None


def test_a_saved_draft_folds_what_is_done_behind_its_line(app):
    log = start(app, add_client(app))
    add_exercise(app, log, "Sit-to-stand")
    submit(
        app,
        log,
        **{k: v for k, v in READINGS.items() if k != "session_date"},
        post_heart_rate_bpm="84",
        tolerance="well",
        plan_next="Same again",
    )
    assert app.state.flash == "Draft saved."
    page = html(app)
    pre = details_tag(page, "part-pre")
    assert " open" not in pre and "data-keep-open" in pre
    text = Elements(page).text
    assert text["pre-digest"] == "BP 128/82 seated · HR 72 · pain 2/10 · no symptoms"
    assert text["ex-digest"] == "1 exercise: Sit-to-stand"
    assert " open" in details_tag(page, "part-ex")


def test_a_stop_or_an_error_opens_its_part_at_once(app):
    log = start(app, add_client(app))
    submit(app, log, pre_systolic_mmhg="210", pre_diastolic_mmhg="100", pre_heart_rate_bpm="70")
    page = html(app)
    tag = details_tag(page, "part-pre")
    # data-attention before open: the shell's morph lets "open" through once it is set.
    assert re.search(rf'data-keep-open="{log.id}" data-attention open', tag), tag
    assert "stop-banner" in page

    submit(app, log, pre_systolic_mmhg="128", pre_diastolic_mmhg="80", pre_heart_rate_bpm="400")
    page = html(app)
    assert "data-attention open" in details_tag(page, "part-pre")
    summary = Elements(page).text["attention-summary"]
    assert "Before exercise" in summary
    assert 'href="#field-pre_heart_rate_bpm"' in page
    assert app.state.focus == "field-pre_heart_rate_bpm"
