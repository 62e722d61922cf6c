"""Session-log screens (issue 5) through the DOM-free App and the in-memory repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.dosage_form import duration_text, parse_duration
from medex.exercises import Exercise
from medex.repository import SignedRecordError
from medex.session_logs import Addendum, SessionLog
from tests.support.aio import run
from tests.support.pages import Elements, FormData
from tests.support.screens import (
    SESSIONS_TODAY,
    add_client,
    add_exercise,
    form_of,
    html,
    session_app,
    start,
    submit,
)
from tests.support.seeders import full_intake

TODAY = SESSIONS_TODAY


@pytest.fixture
def app(monkeypatch):
    return session_app(monkeypatch)


ROUTINE = {
    "pre_heart_rate_bpm": "72",
    "pre_systolic_mmhg": "128",
    "pre_diastolic_mmhg": "78",
    "pre_bp_position": "seated",
    "pre_spo2_percent": "97",
    "pain": "2",
    "post_heart_rate_bpm": "88",
    "post_systolic_mmhg": "132",
    "post_diastolic_mmhg": "80",
    "tolerance": "well",
    "plan_next": "Add a set of sit-to-stand",
}


def test_client_page_has_a_sessions_tab_and_start_button(app):
    client = add_client(app)
    page = Elements(html(app, f"#/client?id={client.id}"))
    assert "tab-sessions" in page.text and "start-session-top" in page.text
    sessions = Elements(html(app, f"#/client-sessions?id={client.id}"))
    assert "No sessions logged yet" in sessions.text["no-sessions"]


def test_every_client_tab_shows_the_one_client_header(app):
    """One component (app.client_header): the same header and tabs on every client tab, with
    the current tab marked."""
    from app.client_header import TEMPLATE
    from app.render import templates_dir

    page_template = (templates_dir() / "views" / "intake" / "client.html").read_text()
    assert f'{{% include "{TEMPLATE}" %}}' in page_template
    client = add_client(app)
    tabs = {
        f"#/client?id={client.id}&section=history": "tab-history",
        f"#/client-sessions?id={client.id}": "tab-sessions",
        f"#/client-outcomes?id={client.id}": "tab-outcomes",
        f"#/assessment-new?client={client.id}": "tab-outcomes",
    }
    for location, current in tabs.items():
        page = html(app, location)
        text = Elements(page).text
        assert text["client-name"] == "Ana López" and text["client-age"] == "68 years", location
        assert "Referred" in text["client-status"] and "tab-checklist" in text, location
        assert f'id="{current}" aria-current="page"' in page, location
        assert page.count('aria-current="page"') == 1, location


def test_start_session_saves_a_draft_and_seeds_the_library(app):
    client = add_client(app)
    log = start(app, client)
    assert log.client_id == client.id and not log.is_signed
    assert log.session_date == TODAY
    assert len(run(app.repo.list(Exercise))) >= 10  # the starter set, on first use
    page = Elements(html(app))
    assert page.text["log-status"] == "Draft: not signed"
    assert "no-exercises" in page.text


def test_routine_session_is_saved_signed_and_prefills_the_next(app):
    client = add_client(app)
    log = start(app, client)
    add_exercise(app, log, "Sit-to-stand")
    add_exercise(app, log, "Recumbent bike")
    data = form_of(app, log)
    assert data["ex_0_sets"] == "2" and data["ex_0_reps"] == "8"  # library defaults
    assert data["ex_1_duration"] == "10 min"
    submit(
        app,
        log,
        "sign",
        **ROUTINE,
        ex_0_rpe="12",
        ex_1_rpe="11",
        ex_1_load="40",
        ex_1_load_unit="W",
        ex_0_modifications="Higher seat",
    )
    signed = run(app.repo.get(SessionLog, log.id))
    assert signed.is_signed, app.state.forms
    assert signed.signature.signed_by == "Dana Reyes" and signed.signature.credentials == "MS"
    assert [e.exercise_name for e in signed.exercises] == ["Sit-to-stand", "Recumbent bike"]
    assert signed.exercises[0].rpe.text == "RPE 12 (Borg RPE 6–20)"
    assert signed.exercises[1].duration_s == 600
    # The next session: same as last time (exercises and parameters), fresh vitals and RPE.
    nxt = start(app, client)
    data = form_of(app, nxt)
    assert (
        data["ex_0_exercise_name"] == "Sit-to-stand" and data["ex_0_modifications"] == "Higher seat"
    )
    assert data["ex_1_load"] == "40" and data["ex_1_rpe"] == ""
    assert data.get("pre_systolic_mmhg", "") == ""
    assert "Last time: 2" in html(app)


def test_removed_exercise_row_keys_are_never_reused(app):
    log = start(app, add_client(app))
    for name in ("Sit-to-stand", "Bridge", "Heel raise"):
        add_exercise(app, log, name)
    submit(app, log, remove_row="1")
    add_exercise(app, log, "Wall push-up")
    data = form_of(app, log)
    names = {k: v for k, v in data.items() if k.endswith("_exercise_name")}
    assert names == {
        "ex_0_exercise_name": "Sit-to-stand",
        "ex_2_exercise_name": "Heel raise",
        "ex_3_exercise_name": "Wall push-up",
    }


def test_bp_210_over_100_shows_the_hard_stop_and_needs_action_and_reason(app):
    log = start(app, add_client(app))
    add_exercise(app, log, "Sit-to-stand")
    submit(app, log, pre_systolic_mmhg="210", pre_diastolic_mmhg="100", pre_heart_rate_bpm="70")
    assert "Draft saved with 2 stop flags" in app.state.flash
    assert app.state.flash.kind == "stop"  # the stop's colours, not a green confirmation
    page = html(app)
    assert 'class="flash flash-stop"' in page and "stop-banner" in page
    flags = Elements(page).text["flags"]
    assert "Stop" in flags and "Do not exercise today" in flags
    assert 'name="action_taken"' in page and 'name="override_reason"' in page
    submit(app, log, "sign")
    errors = app.state.forms[f"session:{log.id}"].errors
    assert "stop flag" in errors["override_reason"] and "action_taken" in errors
    assert not run(app.repo.get(SessionLog, log.id)).is_signed
    submit(
        app,
        log,
        "sign",
        override_reason="Re-measured 150/90 after rest; Dr Lee agreed by phone",
        action_taken="Called Dr Lee's office at 10:20; light session only",
    )
    signed = run(app.repo.get(SessionLog, log.id))
    assert signed.is_signed and signed.safety_override is not None
    assert signed.hard_stops


def test_no_exercise_after_a_hard_stop_needs_only_the_action_taken(app):
    log = start(app, add_client(app))
    submit(
        app,
        log,
        "sign",
        pre_systolic_mmhg="210",
        pre_diastolic_mmhg="100",
        action_taken="Sent home; faxed Dr Lee",
    )
    assert run(app.repo.get(SessionLog, log.id)).is_signed


def test_impossible_values_are_refused_next_to_the_field_and_kept(app):
    log = start(app, add_client(app))
    submit(app, log, pre_heart_rate_bpm="400", pre_systolic_mmhg="120", pre_diastolic_mmhg="130")
    page = Elements(html(app))
    assert "between 20 and 300" in page.text["error-pre_heart_rate_bpm"]
    assert "lower than systolic" in page.text["error-pre_diastolic_mmhg"]
    assert page.inputs["pre_heart_rate_bpm"]["value"] == "400"
    assert app.state.focus == "field-pre_heart_rate_bpm"


def test_exercise_time_needs_a_unit(app):
    log = start(app, add_client(app))
    add_exercise(app, log, "Treadmill walk")
    submit(app, log, ex_0_duration="12")
    assert "s or min" in Elements(html(app)).text["error-ex_0_duration"]


@pytest.mark.parametrize(
    "text, seconds",
    [("30 s", 30), ("30s", 30), ("10 min", 600), ("10m", 600), ("1:30", 90), ("", None)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds
    if seconds:
        assert parse_duration(duration_text(seconds)) == seconds


def test_signed_log_is_read_only_and_cannot_be_changed_by_the_form(app):
    log = start(app, add_client(app))
    add_exercise(app, log, "Bridge")
    stale = form_of(app, log)
    submit(app, log, "sign", **ROUTINE)
    signed = run(app.repo.get(SessionLog, log.id))
    page = html(app)
    assert f"session-form-{log.id}" not in page and "save-draft" not in page
    inputs = Elements(page).inputs
    assert set(inputs) == {"log_id", "text"}  # only the addendum form
    assert "Signed by Dana Reyes, MS" in Elements(page).text["signature"]
    with pytest.raises(SignedRecordError):  # an old tab submitting: refused, typing kept
        run(app.dispatch("session-form", {**stale, "pain": "9"}))
    assert run(app.repo.get(SessionLog, log.id)) == signed


def test_addendum_is_listed_with_date_and_signature(app):
    log = start(app, add_client(app))
    submit(app, log, "sign", **ROUTINE)
    run(app.dispatch("add-addendum", {"log_id": log.id, "kind": "correction", "text": " "}))
    assert "Write the addendum" in Elements(html(app)).text["error-text"]
    run(
        app.dispatch(
            "add-addendum",
            {
                "log_id": log.id,
                "kind": "late_entry",
                "text": "Client reported mild knee ache that evening.",
            },
        )
    )
    assert run(app.repo.list(Addendum))[0].author == "Dana Reyes"
    text = Elements(html(app)).text["addenda"]
    assert "Late entry" in text and "mild knee ache" in text and "Signed by Dana Reyes, MS" in text


def test_beta_blocker_client_is_told_to_use_rpe(app):
    _, client = full_intake(app)
    start(app, client)
    target = Elements(html(app)).text["target-hr"]
    assert "use RPE" in target and "bpm" not in target.split("use RPE")[0]


def test_target_hr_shows_karvonen_with_tanaka(app):
    log = start(app, add_client(app))
    submit(app, log, pre_heart_rate_bpm="70")
    target = Elements(html(app)).text["target-hr"]
    # Age 68 on 2026-03-10: Tanaka 208 − 0.7 × 68 = 160.4 → 160; 70 + 40–59% × 90 = 106–123
    assert "106–123 bpm" in target and "Tanaka" in target


def test_back_pain_warning_signs_are_worded_as_safety_words_them(app):
    """Each tick box says exactly what the flag it raises says (medex.safety's own labels)."""
    from medex.safety import MSK_RED_FLAG_LABELS, MskRedFlag

    log = start(app, add_client(app))
    page = html(app)
    for flag, label in MSK_RED_FLAG_LABELS.items():
        assert f'name="msk_{flag.value}" value="1"> {label}</label>' in page, flag
    submit(app, log, **{f"msk_{f.value}": "1" for f in MskRedFlag})
    details = " ".join(f.detail for f in run(app.repo.get(SessionLog, log.id)).safety_flags)
    for label in MSK_RED_FLAG_LABELS.values():
        assert label in details


def test_glucose_fields_only_for_clients_with_diabetes(app):
    _, client = full_intake(app)  # diabetes ticked in the screening
    start(app, client)
    assert 'name="pre_glucose_mg_dl"' in html(app)
    start(app, add_client(app))
    assert 'name="pre_glucose_mg_dl"' not in html(app)


def test_clearance_recommended_and_not_received_needs_a_reason(app):
    _, client = full_intake(app)  # clearance recommended, not received
    log = start(app, client)
    page = Elements(html(app))
    assert "has not been received" in page.text["clearance-needed"]
    submit(app, log, "sign", **ROUTINE, pre_glucose_mg_dl="140")
    assert "clearance_override_reason" in app.state.forms[f"session:{log.id}"].errors
    submit(
        app,
        log,
        "sign",
        clearance_override_reason="Verbal clearance from Dr Chen today, letter to follow",
    )
    signed = run(app.repo.get(SessionLog, log.id))
    assert signed.is_signed and "Reason given" in signed.clearance_status


def test_cancelled_session_drops_the_prefilled_exercises_and_needs_a_reason(app):
    log = start(app, add_client(app))
    add_exercise(app, log, "Bridge")
    submit(app, log, attendance="cancelled")
    assert (
        "reason for the cancellation"
        in app.state.forms[f"session:{log.id}"].errors["attendance_reason"]
    )
    submit(app, log, "sign", attendance="cancelled", attendance_reason="Flu")
    signed = run(app.repo.get(SessionLog, log.id))
    assert signed.is_signed and signed.exercises == []


def test_history_filters_and_attendance_rate(app):
    client = add_client(app)
    log = start(app, client)
    submit(app, log, "sign", **ROUTINE)
    log2 = start(app, client)
    submit(app, log2, "sign", attendance="no_show", session_date="2026-03-12")
    page = Elements(html(app, f"#/client-sessions?id={client.id}"))
    assert "1 of 2 planned sessions attended (50%)" in page.text["attendance-summary"]
    run(app.dispatch("filter-sessions", {"client_id": client.id, "attendance": "no_show"}))
    timeline = Elements(html(app)).text["timeline"]
    assert "No-show" in timeline and "Attended" not in timeline


def test_unsigned_log_older_than_a_day_is_on_the_dashboard(app):
    log = start(app, add_client(app))
    old = datetime.now(UTC) - timedelta(hours=25)
    run(app.repo.save(log.model_copy(update={"created_at": old})))
    home = html(app, "#/")
    assert "Unsigned session log: Ana López" in home
    assert f"#/session?id={log.id}" in home


def test_delete_draft_asks_first(app):
    client = add_client(app)
    log = start(app, client)
    run(app.dispatch("delete-session-draft", {"id": log.id}))
    assert run(app.repo.get(SessionLog, log.id)) is not None
    assert "confirm-delete" in Elements(html(app)).text
    run(app.dispatch("delete-session-draft", {"id": log.id, "confirm": "yes"}))
    assert run(app.repo.get(SessionLog, log.id)) is None


def test_exercise_library_add_rename_keeps_past_logs(app):
    html(app, "#/exercises")
    assert "common exercises" in app.state.flash
    log = start(app, add_client(app))
    add_exercise(app, log, "Bridge")
    submit(app, log, "sign", **ROUTINE)
    bridge = next(e for e in run(app.repo.list(Exercise)) if e.name == "Bridge")
    page = html(app, f"#/exercises?edit={bridge.id}")
    data = FormData(page, "exercise-form").data
    run(app.dispatch("save-exercise", {**data, "name": "Glute bridge"}))
    assert "keep the name" in app.state.flash
    assert run(app.repo.get(SessionLog, log.id)).exercises[0].exercise_name == "Bridge"
    app.navigate("#/exercises?edit=new")
    run(
        app.dispatch(
            "save-exercise",
            {
                "exercise_id": "",
                "name": "Glute bridge",
                "category": "strength",
                "sets": "2",
                "reps": "10",
            },
        )
    )
    assert "already an exercise" in Elements(html(app)).text["error-name"]
    run(
        app.dispatch(
            "save-exercise",
            {
                "exercise_id": "",
                "name": "Farmer carry",
                "category": "functional",
                "load": "8",
                "distance_m": "20",
            },
        )
    )
    assert "unit of the load" in Elements(html(app)).text["error-load_unit"]
