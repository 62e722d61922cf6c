"""The client's turn on the tablet: the domain (pages, answers, PIN) and the state machine
driven through the DOM-free App with the in-memory repository."""

from __future__ import annotations

import hashlib

import pytest

from app import core
from medex import client_turn as ct
from medex.assessments import Assessment
from medex.forms import Refused
from medex.intake import Consent
from medex.screening import PARQ_PAGE1_LABELS, ScreeningRecord
from tests.support.aio import run
from tests.support.pages import Elements
from tests.support.screens import SESSIONS_TODAY, session_app
from tests.support.seeders import add_client

TODAY = SESSIONS_TODAY
PIN = "4711"


# -- the domain -------------------------------------------------------------------------------


def test_item_forms_ask_one_question_a_page_in_the_practice_order():
    pages = ct.start_turn("c1", ["consent", "lefs", "parq"]).pages
    assert [p.form for p in pages] == ["parq"] + ["lefs"] * 20 + ["consent"]
    assert (pages[1].item, pages[1].number, pages[1].of) == ("lefs_01", 1, 20)
    assert pages[-2].item == "lefs_20"


def test_start_needs_a_client_and_a_known_form():
    with pytest.raises(Refused) as refused:
        ct.start_turn("c1", ["nonsense"])
    assert "forms" in refused.value.errors
    assert ct.start_turn("c1", ["lefs", "nprs"]).forms == ["nprs", "lefs"]


def test_lefs_scale_names_its_ends():
    choices = ct.item_choices("lefs", "lefs_01")
    assert [v for v, _ in choices] == [0, 1, 2, 3, 4]
    assert choices[0][1] == "Extreme difficulty or unable" and choices[-1][1] == "No difficulty"
    assert choices[2][1] == ""


@pytest.mark.parametrize("answer", ["", "5", "-1", "two", "1.5"])
def test_an_item_answer_outside_its_scale_is_refused(answer):
    page = ct.Page("lefs", "lefs_03", 3, 20)
    with pytest.raises(Refused) as refused:
        ct.check_page(page, {"lefs_03": answer})
    assert refused.value.errors == {"lefs_03": "Choose one answer"}


def test_parq_page_names_every_unanswered_question():
    data = {k: "no" for k in PARQ_PAGE1_LABELS}
    with pytest.raises(Refused) as refused:
        ct.check_page(ct.Page("parq"), data)
    assert set(refused.value.errors) == {*ct.ACSM_QUESTIONS, "desired_intensity"}


def test_activity_page_checks_days_and_minutes():
    page = ct.Page("physical_activity")
    with pytest.raises(Refused) as refused:
        ct.check_page(page, {"days_per_week": "8", "minutes_per_day": "30"})
    assert "days_per_week" in refused.value.errors
    assert ct.check_page(page, {"days_per_week": "3", "minutes_per_day": "40"}) == {
        "days_per_week": 3,
        "minutes_per_day": 40,
    }


def test_the_last_answer_locks_the_turn_and_only_complete_measures_are_scored():
    turn = ct.start_turn("c1", ["nprs", "lefs"])
    turn = ct.record_answers(turn, {"value": 4})
    for i in range(1, 20):
        turn = ct.record_answers(turn, {f"lefs_{i:02d}": 3})
    assert turn.phase == "answering"
    assert ct.measurements(turn) == [{"measure_id": "nprs", "value": 4}]  # LEFS not complete
    turn = ct.record_answers(turn, {"lefs_20": 2})
    assert turn.phase == "locked" and turn.current is None
    lefs = ct.measurements(turn)[1]
    assert lefs["measure_id"] == "lefs" and sum(lefs["items"].values()) == 19 * 3 + 2


def test_going_back_keeps_the_answers():
    turn = ct.record_answers(ct.start_turn("c1", ["lefs"]), {"lefs_01": 1})
    back = ct.go_back(turn)
    assert back.page == 0 and back.answers["lefs"]["lefs_01"] == 1
    assert ct.go_back(back).page == 0


def test_pin_hash_is_pbkdf2_sha256_by_the_published_test_vector():
    # RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1 (first 32 bytes).
    expected = bytes.fromhex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
    assert ct._pbkdf2_sha256("passwd", b"salt", 1) == expected


@pytest.mark.skipif(
    not hasattr(hashlib, "pbkdf2_hmac"), reason="this runtime has no hashlib.pbkdf2_hmac"
)
@pytest.mark.parametrize("pin", ["4711", "x" * 65])
def test_pin_hash_fallback_agrees_with_hashlib(pin):
    salt = bytes(range(16))
    expected = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, 1000)
    assert ct._pbkdf2_sha256(pin, salt, 1000) == expected
    # Without hashlib.pbkdf2_hmac (a runtime without OpenSSL, e.g. Pyodide) the same bytes.
    fast = hashlib.pbkdf2_hmac
    try:
        del hashlib.pbkdf2_hmac
        assert ct._pbkdf2_sha256(pin, salt, 1000) == expected
    finally:
        hashlib.pbkdf2_hmac = fast


def test_pin_matches_only_itself_and_is_never_stored_plain():
    stored = ct.hash_pin(PIN)
    assert PIN not in str(stored) and stored["iterations"] >= 100_000
    assert ct.pin_matches(stored, PIN)
    assert not ct.pin_matches(stored, "4712")
    assert not ct.pin_matches(stored, "")
    assert not ct.pin_matches(None, PIN)


@pytest.mark.parametrize(
    ("pin", "confirm", "problem"),
    [
        ("12", "12", "at least 4"),
        ("1111", "1111", "all the same"),
        ("1234", "1234", "in a row"),
        ("4711", "4712", "not the same"),
        ("47a1", "47a1", "at least 4"),
    ],
)
def test_weak_or_mistyped_pins_are_refused(pin, confirm, problem):
    assert problem in ct.pin_problem(pin, confirm)


# -- the state machine through the App --------------------------------------------------------


@pytest.fixture
def app(monkeypatch):
    return session_app(monkeypatch)  # the app on TODAY with the practice profile saved


def page(app, location=None):
    if location is not None:
        app.navigate(location)
    return run(app.html())


def hand_over(app, client, *forms):
    run(app.dispatch("set-practice-pin", {"pin": PIN, "confirm": PIN}))
    data = {"client_id": client.id, **{f"form_{f}": "1" for f in forms}}
    run(app.dispatch("client-turn-start", data))


def answer_lefs(app, value="3"):
    for i in range(1, 21):
        run(app.dispatch("client-turn-answer", {f"lefs_{i:02d}": value}))


def test_hand_over_needs_a_pin_when_no_passphrase_is_set(app):
    client = add_client(app)
    run(app.dispatch("client-turn-start", {"client_id": client.id, "form_lefs": "1"}))
    assert app.state.client_turn is None
    assert (
        "practice PIN"
        in Elements(page(app, f"#/client-turn-setup?id={client.id}")).text["error-forms"]
    )
    stored = run(app.repo.get_meta(ct.PIN_META_KEY))
    assert stored is None


def test_while_the_client_has_the_tablet_every_route_shows_their_form(app):
    client = add_client(app)
    hand_over(app, client, "lefs")
    for location in ("#/clients", "#/", f"#/client?id={client.id}", "#/settings", "#/data"):
        html = page(app, location)
        assert app.state.route == "client-turn"
        assert "Lower Extremity Functional Scale" in html
        assert 'href="#/' not in html  # no menu, no link anywhere
        assert "López" not in html  # not even the client's own file
    assert app.location() == "#/client-turn"


def test_practice_actions_do_not_run_during_the_turn(app):
    client = add_client(app)
    hand_over(app, client, "nprs")
    run(
        app.dispatch(
            "save-client",
            {
                "client_id": "",
                "first_name": "X",
                "last_name": "Y",
                "date_of_birth": "1970-01-01",
                "sex": "male",
            },
        )
    )
    run(app.dispatch("lock-now", {}))
    assert len(run(app.repo.list(type(client)))) == 1
    assert app.state.client_turn is not None and not app.state.locked


def test_the_turn_survives_a_reload(app):
    client = add_client(app)
    hand_over(app, client, "lefs")
    run(app.dispatch("client-turn-answer", {"lefs_01": "2"}))
    reloaded = core.App(app.repo, app.platform)
    run(reloaded.load())
    reloaded.navigate("#/clients")
    html = run(reloaded.html())
    assert reloaded.state.route == "client-turn"
    assert "question 2 of 20" in html


def test_an_unanswered_question_stays_on_its_page(app):
    client = add_client(app)
    hand_over(app, client, "lefs")
    run(app.dispatch("client-turn-answer", {}))
    shown = Elements(page(app))
    assert shown.text["error-lefs_01"] == "Choose one answer"
    assert app.state.client_turn.page == 0


def test_finishing_scores_an_assessment_and_locks_until_the_pin(app):
    client = add_client(app)
    hand_over(app, client, "lefs", "nprs", "physical_activity")
    run(app.dispatch("client-turn-answer", {"value": "6"}))
    answer_lefs(app, "3")
    run(app.dispatch("client-turn-answer", {"days_per_week": "2", "minutes_per_day": "30"}))
    turn = app.state.client_turn
    assert turn.phase == "locked"
    [assessment] = run(app.repo.list(Assessment))
    values = {m.measure_id: m.value for m in assessment.measurements}
    assert values == {"nprs": 6, "lefs": 60, "physical_activity": 60}
    assert assessment.kind == "baseline" and assessment.assessed_on == TODAY
    locked = page(app, "#/client-outcomes?id=" + client.id)
    assert "hand the tablet back" in locked and "Practice PIN" in locked
    assert app.state.route == "client-turn"
    run(app.dispatch("client-turn-leave", {"secret": "0000"}))
    assert app.state.client_turn is not None
    assert "not the practice PIN" in Elements(page(app)).text["error-secret"]
    run(app.dispatch("client-turn-leave", {"secret": PIN}))
    assert app.state.client_turn is None
    assert run(app.repo.get_meta(ct.TURN_META_KEY)) is None
    assert app.state.route == "client-outcomes"
    html = page(app)
    assert "Lower Extremity Functional Scale" in app.state.flash
    assert 'href="#/clients"' in html


def test_a_second_turn_is_a_reassessment(app):
    client = add_client(app)
    for _ in range(2):
        hand_over(app, client, "nprs")
        run(app.dispatch("client-turn-answer", {"value": "3"}))
        run(app.dispatch("client-turn-leave", {"secret": PIN}))
    kinds = sorted(a.kind for a in run(app.repo.list(Assessment)))
    assert kinds == ["baseline", "reassessment"]


def test_parq_goes_through_the_screening_and_consent_is_signed(app):
    client = add_client(app)
    hand_over(app, client, "parq", "consent")
    answers = {k: "no" for k in ct.YES_NO_QUESTIONS} | {"desired_intensity": "moderate"}
    run(app.dispatch("client-turn-answer", answers))
    [screening] = run(app.repo.list(ScreeningRecord))
    assert screening.client_id == client.id and not screening.parq.yes_labels
    html = page(app)
    assert "I have read this and I agree" in html and 'id="turn-back"' not in html
    run(app.dispatch("client-turn-answer", {"signed_name": "Ana López"}))
    assert "must tick" in Elements(page(app)).text["error-agree"]
    run(app.dispatch("client-turn-answer", {"agree": "1", "signed_name": "Ana López"}))
    [consent] = run(app.repo.list(Consent))
    assert consent.signed_name == "Ana López" and consent.key_signature
    assert app.state.client_turn.phase == "locked"
    assert run(app.repo.list(Assessment)) == []  # nothing to score


def test_a_timeout_locks_the_turn_and_scores_what_was_finished(app):
    client = add_client(app)
    hand_over(app, client, "nprs", "lefs")
    run(app.dispatch("client-turn-answer", {"value": "2"}))
    run(app.dispatch("client-turn-answer", {"lefs_01": "4"}))
    run(app.dispatch("client-turn-timeout", {}))
    assert app.state.client_turn.phase == "locked"
    [assessment] = run(app.repo.list(Assessment))
    assert [m.measure_id for m in assessment.measurements] == ["nprs"]
    run(app.dispatch("client-turn-answer", {"lefs_02": "4"}))  # the client cannot go on
    assert app.state.client_turn.phase == "locked"


def test_with_the_passphrase_on_only_the_passphrase_ends_the_turn(app):
    client = add_client(app)
    app.platform.state, app.platform.passphrase = "on", "correct horse battery"
    run(app.dispatch("client-turn-start", {"client_id": client.id, "form_nprs": "1"}))
    run(app.dispatch("client-turn-answer", {"value": "1"}))
    assert "Your passphrase" in page(app)
    run(app.dispatch("client-turn-leave", {"secret": PIN}))
    assert app.state.client_turn is not None
    run(app.dispatch("client-turn-leave", {"secret": "correct horse battery"}))
    assert app.state.client_turn is None


def test_the_turn_scores_into_the_running_program(app):
    from medex.programs import Episode, default_program

    client = add_client(app)
    program = default_program("post_tkr").id
    data = {"client_id": client.id, "program_id": program, "start_date": TODAY.isoformat()}
    run(app.dispatch("start-program", data))
    [episode] = run(app.repo.list(Episode))
    hand_over(app, client, "nprs")
    run(app.dispatch("client-turn-answer", {"value": "5"}))
    [assessment] = run(app.repo.list(Assessment))
    assert assessment.episode_id == episode.id and assessment.kind == "baseline"


def test_the_passphrase_unlock_after_an_idle_lock_ends_a_finished_turn(app):
    client = add_client(app)
    app.platform.state, app.platform.passphrase = "on", "correct horse battery"
    run(app.dispatch("client-turn-start", {"client_id": client.id, "form_nprs": "1"}))
    run(app.dispatch("client-turn-answer", {"value": "1"}))
    app.forget_everything()  # the device's idle lock
    app.platform.locked = True
    run(app.dispatch("unlock", {"secret": "wrong"}))
    assert app.state.locked
    run(app.dispatch("unlock", {"secret": "correct horse battery"}))
    assert not app.state.locked and app.state.client_turn is None
    assert app.state.route == "client-outcomes"
    assert run(app.repo.get_meta(ct.TURN_META_KEY)) is None


def test_the_passphrase_unlock_resumes_a_turn_being_answered(app):
    client = add_client(app)
    app.platform.state, app.platform.passphrase = "on", "correct horse battery"
    run(app.dispatch("client-turn-start", {"client_id": client.id, "form_lefs": "1"}))
    run(app.dispatch("client-turn-answer", {"lefs_01": "2"}))
    app.forget_everything()
    app.platform.locked = True
    run(app.dispatch("unlock", {"secret": "correct horse battery"}))
    assert app.state.client_turn is not None and "question 2 of 20" in page(app, "#/clients")
