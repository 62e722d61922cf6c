"""The client's turn, continued: the PSFS (the client's own activities), the QuickDASH, the
practice's licensed questionnaire wording, and the practice PIN in Settings — the domain rules
and the screens driven through the DOM-free App with the in-memory repository."""

from __future__ import annotations

import pytest

from medex import client_turn as ct
from medex import questionnaire_wording as qw
from medex.assessments import Assessment
from medex.forms import Refused
from medex.goal_progress import goal_progress
from medex.intake import Goals
from medex.measures import score
from medex.screening import PARQ_PAGE1_LABELS, ScreeningRecord
from medex.services.intake import PsfsEntry, SaveGoals, save_goals
from medex.services.questionnaire_wording import load_wordings
from tests.support.aio import run
from tests.support.pages import Elements
from tests.support.screens import SESSIONS_TODAY, session_app
from tests.support.seeders import add_client

TODAY = SESSIONS_TODAY
PIN = "4711"
GOALS = ("Walking to the shops", "Climbing the stairs at home", "Gardening")


# -- the PSFS: pages and answers -------------------------------------------------------------


def rate(turn: ct.ClientTurn, *scores: int) -> ct.ClientTurn:
    for value in scores:
        page = turn.current
        assert page is not None and page.form == "psfs" and page.item
        turn = ct.record_answers(turn, ct.check_page(page, {page.item: str(value)}))
    return turn


def test_goals_on_file_are_re_rated_one_activity_a_page():
    turn = ct.start_turn("c1", ["psfs"], list(GOALS))
    assert [(p.item, p.number, p.of) for p in turn.pages] == [
        ("psfs_01", 1, 3),
        ("psfs_02", 2, 3),
        ("psfs_03", 3, 3),
    ]
    turn = rate(turn, 4, 6, 10)
    assert turn.phase == "locked"
    assert ct.measurements(turn) == [
        {"measure_id": "psfs", "items": {"psfs_01": 4, "psfs_02": 6, "psfs_03": 10}}
    ]
    assert ct.named_goals(turn) == []  # the goals on file stay as they are


def test_without_goals_the_client_names_three_to_five_activities_first():
    turn = ct.start_turn("c1", ["psfs", "nprs"])
    assert turn.psfs_ask and [p.form for p in turn.pages] == ["nprs", "psfs"]
    turn = ct.record_answers(turn, {"value": 3})
    naming = turn.current
    assert naming == ct.Page("psfs")
    typed = {
        "activity_1": " Walking ",
        "activity_2": "",
        "activity_3": "Stairs",
        "activity_4": "Golf",
    }
    turn = ct.record_answers(turn, ct.check_page(naming, typed))
    assert turn.psfs_activities == ["Walking", "Stairs", "Golf"]
    assert [p.item for p in turn.pages[2:]] == ["psfs_01", "psfs_02", "psfs_03"]
    turn = rate(turn, 2, 5, 0)
    assert turn.phase == "locked"
    assert ct.named_goals(turn) == [("Walking", 2), ("Stairs", 5), ("Golf", 0)]
    assert ct.measurements(turn)[1]["items"] == {"psfs_01": 2, "psfs_02": 5, "psfs_03": 0}


@pytest.mark.parametrize(
    ("typed", "field", "words"),
    [
        ({}, "activity_1", "at least 3 activities (0 written"),
        ({"activity_1": "Walking", "activity_2": "Stairs"}, "activity_3", "(2 written"),
        ({"activity_1": "W" * 121, "activity_2": "S", "activity_3": "G"}, "activity_1", "shorter"),
    ],
)
def test_naming_fewer_than_three_or_too_long_is_refused_next_to_the_line(typed, field, words):
    with pytest.raises(Refused) as refused:
        ct.check_page(ct.Page("psfs"), typed)
    assert words in refused.value.errors[field]


@pytest.mark.parametrize("answer", ["", "11", "-1", "5.5", "ten"])
def test_a_rating_outside_0_to_10_is_refused(answer):
    page = ct.Page("psfs", "psfs_02", 2, 3)
    with pytest.raises(Refused) as refused:
        ct.check_page(page, {"psfs_02": answer})
    assert "0 (unable) to 10" in refused.value.errors["psfs_02"]


def test_renaming_after_going_back_asks_for_the_ratings_again():
    turn = ct.start_turn("c1", ["psfs"])
    names = {"activity_1": "A", "activity_2": "B", "activity_3": "C"}
    turn = ct.record_answers(turn, ct.check_page(turn.current, names))
    turn = rate(turn, 7)
    turn = ct.go_back(ct.go_back(turn))
    assert turn.current == ct.Page("psfs")
    turn = ct.record_answers(turn, ct.check_page(turn.current, {**names, "activity_4": "D"}))
    assert turn.answers["psfs"] == {"activities": ["A", "B", "C", "D"]}
    assert turn.pages[-1].of == 4


def test_a_psfs_left_unfinished_is_not_scored():
    turn = rate(ct.start_turn("c1", ["psfs", "physical_activity"], list(GOALS)), 4, 5)
    assert ct.psfs_ratings(turn) == {} and ct.measurements(turn) == []


# -- QuickDASH, ODI and NDI on the tablet -----------------------------------------------------


def answer_all(turn: ct.ClientTurn, form: str, values: dict[int, str | None]) -> ct.ClientTurn:
    """Answer every item page of ``form`` (number → value; None skips)."""
    while turn.current is not None and turn.current.form == form:
        page = turn.current
        value = values.get(page.number, "2")
        data = {"skip": "1"} if value is None else {page.item: value}
        turn = ct.record_answers(turn, ct.check_page(page, data))
    return turn


def test_quickdash_asks_eleven_items_of_1_to_5():
    pages = ct.start_turn("c1", ["quickdash"]).pages
    assert [(p.item, p.of) for p in pages[:1]] == [("qd_01", 11)] and len(pages) == 11
    assert [v for v, _ in ct.item_choices("quickdash", "qd_01")] == [1, 2, 3, 4, 5]


def test_quickdash_scores_with_one_item_skipped_by_the_published_formula():
    turn = answer_all(ct.start_turn("c1", ["quickdash"]), "quickdash", {5: None, 1: "5"})
    [entry] = ct.measurements(turn)
    assert entry["items"]["qd_05"] is None
    # ((sum ÷ n) − 1) × 25 with n = 10 answered: sum = 5 + 9 × 2 = 23 → (2.3 − 1) × 25 = 32.5
    assert score("quickdash", entry["items"]).value == 32.5


def test_quickdash_with_two_items_skipped_is_not_scored():
    turn = answer_all(ct.start_turn("c1", ["quickdash"]), "quickdash", {2: None, 9: None})
    assert turn.phase == "locked" and ct.measurements(turn) == []


def test_only_the_quickdash_may_be_skipped():
    with pytest.raises(Refused):
        ct.check_page(ct.Page("lefs", "lefs_01", 1, 20), {"skip": "1"})


@pytest.mark.parametrize(
    ("form", "measure", "items", "value"),
    [("odi", "oswestry", 10, 40.0), ("ndi", "neck_disability_index", 10, 20.0)],
)
def test_odi_and_ndi_pages_score_their_own_measures(form, measure, items, value):
    turn = answer_all(ct.start_turn("c1", [form]), form, {})
    assert len(turn.pages) == items
    [entry] = ct.measurements(turn)
    assert entry["measure_id"] == measure
    assert score(measure, entry["items"]).value == value  # every item 2


# -- pasted wording ---------------------------------------------------------------------------


def draft(key: str, **changes) -> qw.WordingDraft:
    spec = qw.INSTRUMENTS[key]
    options = [f"Answer {n}" for n in range(spec.options)]
    base = {
        "version": "2025" if spec.needs_version else "",
        "instructions": "Please answer every question.",
        "answers": "\n".join(options) if spec.options else "",
        "items": [f"Our test question number {i}?" for i in range(1, spec.items + 1)],
    }
    return qw.WordingDraft(**(base | changes))


@pytest.mark.parametrize("key", list(qw.INSTRUMENTS))
def test_a_whole_wording_is_accepted_and_kept_as_pasted(key):
    assert qw.check_wording(key, draft(key)) == {}
    wording = qw.wording_from(key, draft(key))
    assert len(wording.items) == qw.INSTRUMENTS[key].items
    stored = qw.QuestionnaireWordings(wordings={key: wording})
    assert qw.QuestionnaireWordings.model_validate(stored.to_doc()) == stored


def test_an_item_may_carry_its_own_answer_options():
    items = [f"Question {i}" for i in range(1, 12)]
    items[6] = "Question 7\nNot at all\nSlightly\nModerately\nQuite a bit\nExtremely"
    wording = qw.wording_from("quickdash", draft("quickdash", items=items))
    assert wording.items[6] == "Question 7"
    assert wording.answers_for(6)[-1] == "Extremely"
    assert wording.answers_for(0) == [f"Answer {n}" for n in range(5)]
    assert qw.draft_of(wording).items[6].splitlines()[1] == "Not at all"


@pytest.mark.parametrize(
    ("key", "changes", "field", "words"),
    [
        ("lefs", {"items": ["Q"] * 19}, "items", "has 20 items (you entered 19)"),
        ("lefs", {"items": ["Q"] * 5 + [""] + ["Q"] * 14}, "items.5", "item 6"),
        ("lefs", {"answers": "a\nb\nc"}, "answers", "Enter 5 answer options"),
        ("odi", {"items": ["Pain\na\nb"] + ["Q"] * 9}, "items.0", "6 answer options"),
        ("ndi", {"items": ["<b>Pain</b>"] + ["Q"] * 9}, "items.0", "plain text"),
        ("lefs", {"instructions": "<script>alert(1)</script>"}, "instructions", "plain text"),
        ("lefs", {"items": ["Q" * 401] + ["Q"] * 19}, "items.0", "under 400"),
        ("parq", {"version": ""}, "version", "version year"),
        ("parq", {"version": "the latest"}, "version", "version year"),
        ("parq", {"answers": "Yes\nNo"}, "answers", "Yes or No"),
        ("parq", {"items": ["Q\nYes\nNo"] + ["Q"] * 6}, "items.0", "Yes or No"),
        ("quickdash", {"answers": ""}, "items.0", "answer options"),
        ("lefs", {"answers": "\n".join(["x" * 201] * 5)}, "answers", "under 200"),
    ],
)
def test_wrong_wording_is_refused_next_to_its_field(key, changes, field, words):
    problems = qw.check_wording(key, draft(key, **changes))
    assert words in problems[field], problems


def test_a_lone_less_than_sign_is_text_not_html():
    items = ["Pain < 2 hours?"] + ["Q"] * 19
    assert qw.check_wording("lefs", draft("lefs", items=items)) == {}


def test_a_stored_wording_with_the_wrong_number_of_items_is_refused_on_load():
    wording = qw.Wording(items=["Q"] * 3)
    with pytest.raises(ValueError, match="LEFS"):
        qw.QuestionnaireWordings(wordings={"lefs": wording})


# -- through the App --------------------------------------------------------------------------


@pytest.fixture
def app(monkeypatch):
    return session_app(monkeypatch)  # the app on TODAY with the practice profile saved


def page(app, location=None):
    if location is not None:
        app.navigate(location)
    return run(app.html())


def set_pin(app):
    run(app.dispatch("set-practice-pin", {"pin": PIN, "confirm": PIN}))


def hand_over(app, client, *forms):
    run(
        app.dispatch(
            "client-turn-start", {"client_id": client.id} | {f"form_{f}": "1" for f in forms}
        )
    )


def finish(app, secret=PIN):
    run(app.dispatch("client-turn-leave", {"secret": secret}))
    assert app.state.client_turn is None


def wording_form(key: str, **changes) -> dict[str, str]:
    d = draft(key, **changes)
    data = {"instrument": key, "version": d.version, "instructions": d.instructions}
    data["answers"] = d.answers
    return data | {f"item_{i}": text for i, text in enumerate(d.items, 1)}


def test_the_pin_is_set_changed_and_removed_in_settings(app):
    assert "No PIN is set" in page(app, "#/settings")
    set_pin(app)
    assert "A PIN is set" in page(app, "#/settings")
    assert "current" in Elements(page(app, "#/practice-pin")).inputs
    run(app.dispatch("set-practice-pin", {"current": "1111", "pin": "8642", "confirm": "8642"}))
    assert "not the current practice PIN" in Elements(page(app)).text["error-current"]
    run(app.dispatch("set-practice-pin", {"pin": "8642", "confirm": "8642"}))
    assert "Enter the current practice PIN" in Elements(page(app)).text["error-current"]
    run(app.dispatch("set-practice-pin", {"current": PIN, "pin": "8642", "confirm": "8642"}))
    assert app.state.flash.startswith("Practice PIN changed")
    assert ct.pin_matches(run(app.repo.get_meta(ct.PIN_META_KEY)), "8642")
    run(app.dispatch("remove-practice-pin", {"current_remove": PIN}))
    assert "not the current" in Elements(page(app)).text["error-current_remove"]
    run(app.dispatch("remove-practice-pin", {"current_remove": "8642"}))
    assert run(app.repo.get_meta(ct.PIN_META_KEY)) is None
    client = add_client(app)
    hand_over(app, client, "nprs")  # no PIN, no passphrase: refused
    assert app.state.client_turn is None


def test_the_passphrase_can_stand_in_for_a_forgotten_pin(app):
    set_pin(app)
    app.platform.state, app.platform.passphrase = "on", "correct horse battery"
    page(app, "#/practice-pin")
    run(app.dispatch("set-practice-pin", {"current": "9999", "pin": "8642", "confirm": "8642"}))
    assert (
        "neither the current practice PIN nor your passphrase"
        in app.state.forms["practice-pin"].errors["current"]
    )
    run(
        app.dispatch(
            "set-practice-pin",
            {"current": "correct horse battery", "pin": "8642", "confirm": "8642"},
        )
    )
    assert ct.pin_matches(run(app.repo.get_meta(ct.PIN_META_KEY)), "8642")


def test_a_weak_new_pin_is_refused_after_the_current_one_is_right(app):
    set_pin(app)
    run(app.dispatch("set-practice-pin", {"current": PIN, "pin": "1234", "confirm": "1234"}))
    assert "in a row" in Elements(page(app, "#/practice-pin")).text["error-pin"]
    assert ct.pin_matches(run(app.repo.get_meta(ct.PIN_META_KEY)), PIN)


def test_the_hand_over_screen_sends_to_settings_for_a_pin_and_comes_back(app):
    client = add_client(app)
    shown = Elements(page(app, f"#/client-turn-setup?id={client.id}"))
    assert "open-practice-pin" in shown.text and "pin" not in shown.inputs
    run(app.dispatch("set-practice-pin", {"pin": PIN, "confirm": PIN, "back": client.id}))
    assert app.location() == f"#/client-turn-setup?id={client.id}"
    assert "open-practice-pin" not in Elements(page(app)).text


def test_the_hand_over_screen_tells_the_practitioner_which_forms_use_short_labels(app):
    client = add_client(app)
    set_pin(app)
    html = page(app, f"#/client-turn-setup?id={client.id}")
    note = Elements(html).text["short-label-note"]
    assert "LEFS" in note and "PAR-Q+" in note and "copyrighted or licensed" in note
    assert 'id="field-form_quickdash" name="form_quickdash" value="1" disabled' in html
    run(app.dispatch("save-questionnaire-wording", wording_form("lefs")))
    note = Elements(page(app, f"#/client-turn-setup?id={client.id}")).text["short-label-note"]
    assert "LEFS" not in note and "ODI" in note


def test_quickdash_needs_the_practice_wording_then_shows_it(app):
    client = add_client(app)
    set_pin(app)
    hand_over(app, client, "quickdash")
    assert app.state.client_turn is None
    assert "licensed form" in app.state.forms["client-turn-setup"].errors["forms"]
    items = [f"Our invented question {i}" for i in range(1, 12)]
    items[10] = "Our invented question 11\nNone\nA little\nSome\nA lot\nCannot sleep"
    run(app.dispatch("save-questionnaire-wording", wording_form("quickdash", items=items)))
    assert "QuickDASH wording saved" in app.state.flash
    hand_over(app, client, "quickdash")
    shown = Elements(page(app))
    assert "Our invented question 1" in shown.text["turn-form"]
    assert "Please answer every question." in shown.text["turn-form"]
    assert "Answer 0" in shown.text["turn-form"]  # the practice's answer words for 1 … 5
    for n in range(1, 11):
        if n == 3:
            run(app.dispatch("client-turn-skip", {}))
        else:
            run(app.dispatch("client-turn-answer", {f"qd_{n:02d}": "2"}))
    assert "Cannot sleep" in Elements(page(app)).text["turn-form"]
    assert "Our invented question 2" not in page(app)
    run(app.dispatch("client-turn-answer", {"qd_11": "4"}))
    [assessment] = run(app.repo.list(Assessment))
    [entry] = assessment.measurements
    # sum = 9 × 2 + 4 = 22 over 10 answered → (2.2 − 1) × 25 = 30
    assert entry.measure_id == "quickdash" and entry.value == 30
    finish(app)
    assert "QuickDASH" in app.state.flash


def test_refused_wording_keeps_what_was_typed_with_the_message_next_to_the_item(app):
    data = wording_form("odi") | {"item_3": "Lifting\nI can lift heavy weights"}
    page(app, "#/questionnaire-wording-edit?instrument=odi")
    run(app.dispatch("save-questionnaire-wording", data))
    shown = Elements(page(app))
    assert "6 answer options" in shown.text["error-item_3"]
    assert "I can lift heavy weights" in page(app)
    assert "Our test question number 7?" in page(app)
    assert run(load_wordings(app.repo)).get("odi") is None


def test_wording_is_listed_edited_and_removed(app):
    assert "the app's short labels" in page(app, "#/questionnaire-wording")
    run(app.dispatch("save-questionnaire-wording", wording_form("parq", version="PAR-Q+ 2025")))
    assert "your licensed wording (PAR-Q+ 2025)" in page(app, "#/questionnaire-wording")
    html = page(app, "#/questionnaire-wording-edit?instrument=parq")
    assert "Our test question number 4?" in html and "remove-wording" in html
    run(app.dispatch("remove-questionnaire-wording", {"instrument": "parq"}))
    assert run(load_wordings(app.repo)).get("parq") is None


def test_the_parq_shows_the_practice_wording_and_keeps_its_version(app):
    client = add_client(app)
    set_pin(app)
    run(app.dispatch("save-questionnaire-wording", wording_form("parq", version="2025")))
    hand_over(app, client, "parq")
    html = page(app)
    assert "Our test question number 1?" in html
    assert PARQ_PAGE1_LABELS["chest_pain"] not in html
    assert "Please answer every question." in html
    answers = {k: "no" for k in ct.YES_NO_QUESTIONS} | {"desired_intensity": "light"}
    run(app.dispatch("client-turn-answer", answers))
    [screening] = run(app.repo.list(ScreeningRecord))
    assert "licensed wording" in screening.notes and "2025" in screening.notes


def test_goals_on_file_are_re_rated_on_the_tablet_and_their_progress_follows(app):
    client = add_client(app)
    set_pin(app)
    entries = [PsfsEntry(activity=a, score="3") for a in GOALS]
    run(save_goals(app.repo, SaveGoals(client_id=client.id, today=TODAY, activities=entries)))
    for ratings in (("3", "3", "4"), ("9", "5", "4")):
        hand_over(app, client, "psfs")
        assert "Walking to the shops" in Elements(page(app)).text["turn-form"]
        for n, value in enumerate(ratings, 1):
            run(app.dispatch("client-turn-answer", {f"psfs_{n:02d}": value}))
        finish(app)
    assessments = run(app.repo.list(Assessment))
    assert sorted(a.kind for a in assessments) == ["baseline", "reassessment"]
    [goals] = run(app.repo.list(Goals))
    progress = goal_progress(goals, assessments)
    assert [(g.baseline, g.now, g.status) for g in progress] == [
        (3, 9, "met"),  # +6
        (3, 5, "partly_met"),  # +2
        (4, 4, "not_met"),  # the baseline assessment rated it 4
    ]


def test_activities_named_on_the_tablet_become_the_goals_and_the_baseline(app):
    client = add_client(app)
    set_pin(app)
    hand_over(app, client, "psfs")
    run(app.dispatch("client-turn-answer", {"activity_1": "Walking"}))
    assert app.state.client_turn.page == 0
    assert "(1 written" in Elements(page(app)).text["error-activity_2"]
    assert 'value="Walking"' in page(app)  # what was typed is kept
    named = {"activity_1": "Walking", "activity_2": "Stairs", "activity_3": "Carrying shopping"}
    run(app.dispatch("client-turn-answer", named))
    assert "Stairs" not in Elements(page(app)).text["turn-form"]  # activity 1 of 3 first
    for n, value in enumerate(("2", "4", "6"), 1):
        run(app.dispatch("client-turn-answer", {f"psfs_{n:02d}": value}))
    [goals] = run(app.repo.list(Goals))
    assert [(a.activity, a.score) for a in goals.activities] == [
        ("Walking", 2),
        ("Stairs", 4),
        ("Carrying shopping", 6),
    ]
    [assessment] = run(app.repo.list(Assessment))
    assert assessment.kind == "baseline" and assessment.measurements[0].value == 4
    finish(app)
    assert "kept as the client's goals" in app.state.flash


def test_new_activities_after_the_baseline_start_as_goals_not_as_a_re_score(app):
    client = add_client(app)
    set_pin(app)
    hand_over(app, client, "nprs")  # the baseline, without goals
    run(app.dispatch("client-turn-answer", {"value": "4"}))
    finish(app)
    hand_over(app, client, "psfs", "nprs")
    run(app.dispatch("client-turn-answer", {"value": "3"}))
    named = {"activity_1": "Walking", "activity_2": "Stairs", "activity_3": "Golf"}
    run(app.dispatch("client-turn-answer", named))
    for n in range(1, 4):
        run(app.dispatch("client-turn-answer", {f"psfs_{n:02d}": "5"}))
    later = [a for a in run(app.repo.list(Assessment)) if a.kind == "reassessment"]
    assert [m.measure_id for m in later[0].measurements] == ["nprs"]
    [goals] = run(app.repo.list(Goals))
    progress = goal_progress(goals, run(app.repo.list(Assessment)))
    assert {g.status for g in progress} == {"not_rescored"}


def test_a_question_of_a_form_that_needs_every_answer_cannot_be_skipped(app):
    client = add_client(app)
    set_pin(app)
    hand_over(app, client, "lefs")
    assert "turn-skip" not in Elements(page(app)).text
    run(app.dispatch("client-turn-skip", {}))
    assert app.state.client_turn.page == 0
    assert Elements(page(app)).text["error-lefs_01"] == "Choose one answer"
