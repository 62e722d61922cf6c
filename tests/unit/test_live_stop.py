"""The session form shows a safety stop as soon as a reading is typed, before saving: the
shell sends what is typed to "session-check" (which saves nothing) and the page puts the
stop at its top, in the stop's colours; the notice after saving a stopped session is a
stop's, never a green confirmation."""

from __future__ import annotations

import pytest

from medex.session_logs import SessionLog
from tests.support.aio import run
from tests.support.pages import Elements
from tests.support.screens import (
    add_client,
    add_exercise,
    form_of,
    html,
    session_app,
    start,
    submit,
)


@pytest.fixture
def app(monkeypatch):
    return session_app(monkeypatch)


def typed(app, log, **changes):
    """What the shell sends while the person types (after a short pause)."""
    run(app.dispatch("session-check", {**form_of(app, log), **changes}))
    return html(app)


def test_a_typed_stop_shows_at_the_top_before_saving(app):
    log = start(app, add_client(app))
    page = html(app)
    assert 'id="stop-banner"' not in page
    assert 'data-live="session-check"' in page
    page = typed(app, log, pre_systolic_mmhg="185", pre_diastolic_mmhg="105")
    banner = Elements(page).text["stop-banner"]
    assert "Stop:" in banner and "Do not exercise today" in banner
    assert "185/105" in banner
    # At the top: before the form and its Safety section.
    assert page.index('id="stop-banner"') < page.index('id="session-form-')
    assert 'role="alert"' in page[page.index('id="stop-banner"') - 60 :][:200]
    # Nothing was saved.
    stored = run(app.repo.get(SessionLog, log.id))
    assert stored.pre_vitals is None and stored.safety_flags == []


def test_the_typed_values_are_kept_on_the_page(app):
    log = start(app, add_client(app))
    typed(app, log, pre_systolic_mmhg="185", pre_diastolic_mmhg="105")
    data = form_of(app, log)
    assert (data["pre_systolic_mmhg"], data["pre_diastolic_mmhg"]) == ("185", "105")


def test_the_stop_goes_away_when_the_reading_is_corrected(app):
    log = start(app, add_client(app))
    typed(app, log, pre_systolic_mmhg="185", pre_diastolic_mmhg="105")
    page = typed(app, log, pre_systolic_mmhg="128", pre_diastolic_mmhg="78")
    assert 'id="stop-banner"' not in page


def test_a_stop_shows_even_while_another_field_is_not_yet_valid(app):
    """A half-typed exercise row must not hide a stop typed in the vitals."""
    log = start(app, add_client(app))
    add_exercise(app, log, "Sit-to-stand")
    page = typed(app, log, pre_systolic_mmhg="200", pre_diastolic_mmhg="90", ex_0_sets="abc")
    assert 'id="stop-banner"' in page


def test_a_typed_symptom_stop_shows_too(app):
    log = start(app, add_client(app))
    page = typed(app, log, sym_chest_pain="on")
    assert 'id="stop-banner"' in page


def test_a_caution_is_not_a_stop(app):
    log = start(app, add_client(app))
    page = typed(app, log, pain="6")
    assert 'id="stop-banner"' not in page


def test_session_check_on_a_signed_or_missing_log_does_nothing(app):
    run(app.dispatch("session-check", {"log_id": "nope", "pre_systolic_mmhg": "200"}))
    assert not any(k.startswith("session:") for k in app.state.forms)


def test_saving_a_stopped_session_says_so_in_stop_colours(app):
    log = start(app, add_client(app))
    submit(app, log, pre_systolic_mmhg="185", pre_diastolic_mmhg="105")
    assert app.state.flash.kind == "stop"
    page = html(app)
    assert 'class="flash flash-stop"' in page and 'role="alert" id="flash"' in page
    assert "Draft saved with 1 stop flag" in Elements(page).text["flash"]
    assert 'id="stop-banner"' in page  # and the stop stays at the top


def test_saving_a_session_without_a_stop_is_a_plain_confirmation(app):
    log = start(app, add_client(app))
    submit(app, log, pre_systolic_mmhg="128", pre_diastolic_mmhg="78")
    assert app.state.flash == "Draft saved."
    page = html(app)
    assert 'class="flash"' in page and "flash-stop" not in page
