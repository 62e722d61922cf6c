"""Home exercise programs (medex.home_programs, medex.drawings, services.home_programs): the
home dose in the client's words, pages of the printed sheet, adherence against the planned
days, printed versions kept intact, pictures checked, the starter library's drawings, and the
pictures in a backup round trip."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from medex.backup import make_backup, parse_backup
from medex.drawings import DRAWINGS, drawing_svg
from medex.exercises import STARTER_EXERCISES, Dosage, ExerciseCategory, starter_library
from medex.forms import Refused
from medex.home_programs import (
    Adherence,
    ExercisePicture,
    HomeDose,
    HomeExercise,
    HomeProgram,
    HomeProgramPrint,
    adherence,
    home_program_id,
    new_row,
    pages,
    planned_days,
    seconds_text,
)
from medex.inert import inert_html
from medex.intake import Client
from medex.repository import InMemoryRepository
from medex.services.home_programs import (
    RecordPrint,
    RowCommand,
    SaveHomeProgram,
    load_home_program,
    pictures_for,
    program_summary,
    record_print,
    save_home_program,
)
from medex.session_logs import Attendance, SessionLog
from tests.support.aio import run
from tests.support.images import TINY_JPEG

# -- the home dose --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "amount", "often"),
    [
        (dict(sets=2, reps=10), "2 sets of 10 repetitions", "3 days a week, once a day"),
        (dict(sets=1, reps=1, days_per_week=1), "1 repetition", "1 day a week, once a day"),
        (
            dict(sets=3, seconds=30, days_per_week=7, times_per_day=2),
            "30 seconds, 3 times",
            "every day, twice a day",
        ),
        (dict(seconds=600, days_per_week=5), "10 minutes", "5 days a week, once a day"),
        (
            dict(sets=2, reps=8, seconds=5, times_per_day=3),
            "2 sets of 8 repetitions, hold each 5 seconds",
            "3 days a week, 3 times a day",
        ),
        (dict(sets=1, seconds=90), "1 minute 30 seconds", "3 days a week, once a day"),
    ],
)
def test_the_dose_reads_in_plain_words(dose, amount, often):
    d = HomeDose(**dose)
    assert d.amount_text == amount
    assert d.how_often_text == often
    assert d.text == f"{amount}; {often}"


def test_a_dose_needs_repetitions_or_a_time():
    with pytest.raises(ValidationError, match="Enter the repetitions or the time of each set"):
        HomeDose(sets=2)


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("sets", 11, 10),
        ("sets", 0, 1),
        ("reps", 101, 100),
        ("seconds", 3601, 3600),
        ("days_per_week", 8, 7),
        ("days_per_week", 0, 1),
        ("times_per_day", 7, 6),
    ],
)
def test_dose_limits_refuse_typing_errors_and_accept_the_limit(field, bad, good):
    base = {"reps": 10}
    assert getattr(HomeDose(**{**base, field: good}), field) == good
    with pytest.raises(ValidationError):
        HomeDose(**{**base, field: bad})


def test_seconds_text():
    assert [seconds_text(s) for s in (1, 45, 60, 61, 600, 3600)] == [
        "1 second",
        "45 seconds",
        "1 minute",
        "1 minute 1 second",
        "10 minutes",
        "60 minutes",
    ]


def test_a_starting_dose_comes_from_the_library_defaults():
    strength = HomeDose.from_library(Dosage(sets=2, reps=12), ExerciseCategory.STRENGTH)
    assert (strength.sets, strength.reps, strength.days_per_week) == (2, 12, 3)
    balance = HomeDose.from_library(Dosage(sets=3, duration_s=30), ExerciseCategory.BALANCE)
    assert (balance.sets, balance.seconds, balance.days_per_week) == (3, 30, 5)
    # Distance does not carry over to a home dose: repetitions instead.
    walk = HomeDose.from_library(Dosage(sets=2, distance_m=6), ExerciseCategory.BALANCE)
    assert walk.reps == 10 and walk.seconds is None
    # Long library times are capped at the home limit.
    long = HomeDose.from_library(Dosage(sets=1, duration_s=4 * 3600), ExerciseCategory.AEROBIC)
    assert long.seconds == 3600


def test_every_starter_exercise_gives_a_valid_row_with_its_drawing():
    for exercise in starter_library():
        row = new_row(exercise)
        assert row.name == exercise.name and row.cues == exercise.cues
        assert row.drawing == exercise.starter_key
        assert row.dose.text


# -- the program and its pages ----------------------------------------------------------------


def _row(name="Bridge", **dose) -> HomeExercise:
    return HomeExercise(name=name, dose=HomeDose(**(dose or {"sets": 2, "reps": 10})))


def test_pages_hold_two_exercises_then_three():
    assert pages([]) == [[]]
    assert [len(p) for p in pages(range(1))] == [1]
    assert [len(p) for p in pages(range(2))] == [2]
    assert [len(p) for p in pages(range(5))] == [2, 3]
    assert [len(p) for p in pages(range(6))] == [2, 3, 1]
    assert [len(p) for p in pages(range(12))] == [2, 3, 3, 3, 1]


def test_program_days_are_its_most_frequent_exercise_and_the_digest_ignores_row_keys():
    a = HomeProgram(client_id="c1", exercises=[_row(reps=5), _row("Walk", seconds=600)])
    assert a.days_per_week == 3
    b = a.model_copy(update={"exercises": [_row(reps=5, days_per_week=6)]})
    assert b.days_per_week == 6
    same = HomeProgram(client_id="c1", exercises=[_row(reps=5), _row("Walk", seconds=600)])
    assert same.content_digest() == a.content_digest()  # new row keys, same content
    assert b.content_digest() != a.content_digest()
    assert HomeProgram(client_id="c1").days_per_week == 0


def test_a_program_refuses_duplicate_rows_and_more_than_twelve_exercises():
    row = _row()
    with pytest.raises(ValidationError, match="same key"):
        HomeProgram(client_id="c1", exercises=[row, row])
    with pytest.raises(ValidationError):
        HomeProgram(client_id="c1", exercises=[_row() for _ in range(13)])


def test_one_program_per_client_with_the_same_id_everywhere():
    assert home_program_id("c1") == home_program_id("c1") != home_program_id("c2")


def test_a_printed_version_is_kept_intact():
    kept = HomeProgramPrint(
        client_id="c1",
        program_id="p",
        printed_on=date(2026, 3, 1),
        days_per_week=3,
        exercise_count=1,
        content_sha256="x",
        html="<p>Bridge</p>",
    )
    doc = kept.model_dump(mode="json")
    doc["html"] = "<p>Bridge, 50 repetitions</p>"
    with pytest.raises(ValidationError, match="changed since it was printed"):
        HomeProgramPrint.model_validate(doc)
    with pytest.raises(ValidationError):
        kept.html = "<p>other</p>"  # frozen


def test_a_picture_must_be_an_image_data_url():
    assert ExercisePicture(data_url=TINY_JPEG).data_url == TINY_JPEG
    for bad in (
        "data:text/html;base64,PHNjcmlwdD4=",
        "javascript:alert(1)//" + "A" * 30,
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=AAAAAAAAAA",
        TINY_JPEG + '" onerror="x',
    ):
        with pytest.raises(ValidationError, match="not a picture"):
            ExercisePicture(data_url=bad)
    with pytest.raises(ValidationError):
        ExercisePicture(data_url="data:image/jpeg;base64," + "A" * 2_000_000)


# -- adherence --------------------------------------------------------------------------------

D0 = date(2026, 3, 2)  # a Monday: the program is first printed


def _print(day: date, days_per_week: int) -> HomeProgramPrint:
    return HomeProgramPrint(
        client_id="c1",
        program_id="p",
        printed_on=day,
        days_per_week=days_per_week,
        exercise_count=3,
        content_sha256=str(days_per_week),
        html="<p>x</p>",
    )


def _log(day: date, done: int | None, attendance=Attendance.ATTENDED) -> SessionLog:
    return SessionLog(
        client_id="c1",
        session_date=day,
        attendance=attendance,
        attendance_reason="" if attendance == Attendance.ATTENDED else "Unwell",
        home_program_days=done,
    )


@pytest.mark.parametrize(
    ("elapsed", "per_week", "planned"),
    [(7, 5, 5), (3, 5, 2), (14, 3, 6), (2, 7, 2), (10, 7, 10), (4, 3, 2), (0, 5, 0), (5, 0, 0)],
)
def test_planned_days_are_the_weekly_days_pro_rata(elapsed, per_week, planned):
    assert planned_days(elapsed, per_week) == planned


def test_adherence_counts_done_against_planned_days_since_each_previous_session():
    prints = [_print(D0, 5)]
    logs = [
        _log(D0, None),  # the day it was printed: nothing to report
        _log(D0 + timedelta(days=7), 4),  # 4 of 5
        _log(D0 + timedelta(days=10), 2),  # 3 days elapsed → 2 planned; 2 done
        _log(D0 + timedelta(days=14), None),  # not asked: left out
        _log(D0 + timedelta(days=21), 3),  # 7 days since the last session → 5 planned
    ]
    a = adherence(logs, prints)
    assert (a.done, a.planned, a.reports, a.rate) == (9, 12, 3, 75)
    assert a.text == "done on 9 of 12 planned days (75%), as reported at 3 sessions"


def test_adherence_follows_the_version_in_force_and_skips_missed_sessions():
    prints = [_print(D0, 3), _print(D0 + timedelta(days=7), 7)]
    logs = [
        _log(D0 + timedelta(days=7), 3),  # under the first version: 3 planned
        _log(D0 + timedelta(days=10), None, Attendance.NO_SHOW),  # not a visit
        _log(D0 + timedelta(days=14), 6),  # the daily version: 7 planned
    ]
    a = adherence(logs, prints)
    assert (a.done, a.planned, a.reports) == (9, 10, 2)


def test_reported_days_above_the_days_elapsed_count_as_the_days_elapsed():
    a = adherence([_log(D0 + timedelta(days=3), 9)], [_print(D0, 7)])
    assert (a.done, a.planned) == (3, 3)


def test_adherence_within_a_period_and_without_a_printed_program():
    logs = [_log(D0 + timedelta(days=7 * i), 3) for i in range(1, 5)]
    prints = [_print(D0, 3)]
    a = adherence(logs, prints, D0 + timedelta(days=15), D0 + timedelta(days=28))
    assert (a.done, a.planned, a.reports) == (6, 6, 2)
    assert adherence(logs, []) == Adherence()
    assert Adherence().text == "not recorded in this period"
    assert Adherence().as_dict()["rate"] is None


def test_adherence_of_a_session_before_the_first_print_is_not_counted():
    a = adherence(
        [_log(D0 - timedelta(days=1), 3), _log(D0 + timedelta(days=2), 2)], [_print(D0, 7)]
    )
    assert (a.done, a.planned, a.reports) == (2, 2, 1)


def test_the_session_log_field_refuses_impossible_numbers():
    with pytest.raises(ValidationError):
        _log(D0, -1)
    with pytest.raises(ValidationError):
        _log(D0, 367)


# -- drawings ---------------------------------------------------------------------------------


def test_every_starter_exercise_has_a_drawing():
    assert {t.key for t in STARTER_EXERCISES} == set(DRAWINGS)


@pytest.mark.parametrize("key", sorted(DRAWINGS))
def test_each_drawing_is_well_formed_svg_that_stays_when_made_inert(key):
    svg = drawing_svg(key, 'Sit <tall> & "breathe"')
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 200 170"
    assert root.get("aria-label") == 'Sit <tall> & "breathe"'
    kinds = {el.tag.rpartition("}")[2] for el in root.iter()}
    assert kinds <= {"svg", "title", "rect", "polyline", "circle", "ellipse"}
    assert "<tall>" not in svg
    assert inert_html(svg).count("<polyline") == svg.count("<polyline")
    for el in root.iter():
        for x in ("cx", "x"):
            if el.get(x) is not None:
                assert 0 <= float(el.get(x)) <= 200


def test_no_drawing_for_an_exercise_the_project_did_not_draw():
    assert drawing_svg("practitioners_own", "Own") == ""


# -- use cases -------------------------------------------------------------------------------


def _repo_with_client() -> tuple[InMemoryRepository, Client]:
    repo = InMemoryRepository()
    client = Client(
        first_name="Ana", last_name="López", date_of_birth=date(1950, 1, 2), sex="female"
    )
    run(repo.save(client, *starter_library()))
    return repo, client


def _rows(program: HomeProgram) -> list[RowCommand]:
    return [
        RowCommand(
            key=e.key,
            exercise_id=e.exercise_id,
            name=e.name,
            drawing=e.drawing,
            picture_id=e.picture_id,
            dose={k: "" if v is None else str(v) for k, v in e.dose.model_dump().items()},
            cues=e.cues,
            safety=e.safety,
        )
        for e in program.exercises
    ]


def _add(repo, client, name) -> HomeProgram:
    exercise = next(e for e in starter_library() if e.name == name)
    current = run(load_home_program(repo, client.id))
    rows = _rows(current) if current else []
    changed = run(
        save_home_program(
            repo, SaveHomeProgram(client_id=client.id, rows=rows, add_exercise_id=exercise.id)
        )
    )
    return changed[0]


def test_building_a_program_adds_moves_and_removes_exercises():
    repo, client = _repo_with_client()
    for name in ("Sit-to-stand", "Heel raise", "Bridge"):
        program = _add(repo, client, name)
    assert [e.name for e in program.exercises] == ["Sit-to-stand", "Heel raise", "Bridge"]
    third = program.exercises[2].key
    run(
        save_home_program(
            repo, SaveHomeProgram(client_id=client.id, rows=_rows(program), move_up_key=third)
        )
    )
    program = run(load_home_program(repo, client.id))
    assert [e.name for e in program.exercises] == ["Sit-to-stand", "Bridge", "Heel raise"]
    first = program.exercises[0].key
    run(
        save_home_program(
            repo, SaveHomeProgram(client_id=client.id, rows=_rows(program), remove_key=first)
        )
    )
    program = run(load_home_program(repo, client.id))
    assert [e.name for e in program.exercises] == ["Bridge", "Heel raise"]
    assert program.id == home_program_id(client.id)


def test_a_bad_dose_is_refused_with_the_row_and_field_and_nothing_is_stored():
    repo, client = _repo_with_client()
    program = _add(repo, client, "Bridge")
    rows = _rows(program)
    rows[0].dose.update(days_per_week="9", reps="", seconds="")
    with pytest.raises(Refused) as refused:
        run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    assert refused.value.errors == {"rows.0.days_per_week": "Must be at most 7"}
    rows[0].dose.update(days_per_week="5")
    with pytest.raises(Refused) as refused:
        run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    assert refused.value.errors == {"rows.0.reps": "Enter the repetitions or the time of each set"}
    assert run(load_home_program(repo, client.id)).exercises[0].dose == program.exercises[0].dose


def test_adding_an_unknown_exercise_or_to_an_unknown_client_is_refused():
    repo, client = _repo_with_client()
    with pytest.raises(Refused) as refused:
        run(save_home_program(repo, SaveHomeProgram(client_id=client.id, add_exercise_id="nope")))
    assert "add_exercise_id" in refused.value.errors
    with pytest.raises(Refused):
        run(save_home_program(repo, SaveHomeProgram(client_id="nobody")))


def test_a_photo_is_stored_per_client_or_with_the_exercise_for_everyone():
    repo, client = _repo_with_client()
    program = _add(repo, client, "Bridge")
    rows = _rows(program)
    rows[0].new_picture = TINY_JPEG
    changed = run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    picture = changed[1]
    assert isinstance(picture, ExercisePicture) and picture.client_id == client.id
    program = run(load_home_program(repo, client.id))
    assert program.exercises[0].picture_id == picture.id
    # The same photo sent again (a form saved twice) is not stored twice.
    rows = _rows(program)
    rows[0].new_picture = TINY_JPEG
    changed = run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    assert len(changed) == 1 and len(run(repo.list(ExercisePicture))) == 1
    assert run(pictures_for(repo, program)) == {program.exercises[0].key: TINY_JPEG}
    # Print without the photo: the library's drawing is shown again.
    rows = _rows(program)
    rows[0].use_drawing = True
    run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    program = run(load_home_program(repo, client.id))
    assert run(pictures_for(repo, program)) == {}
    # A photo kept with the exercise shows in every client's program without one of its own.
    rows = _rows(program)
    rows[0].new_picture, rows[0].picture_for_everyone = TINY_JPEG, True
    changed = run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    assert changed[1].client_id == ""
    other = Client(first_name="Bo", last_name="Kim", date_of_birth=date(1949, 5, 6), sex="male")
    run(repo.save(other))
    theirs = _add(repo, other, "Bridge")
    assert run(pictures_for(repo, theirs)) == {theirs.exercises[0].key: TINY_JPEG}


def test_a_photo_that_is_not_an_image_is_refused_next_to_its_row():
    repo, client = _repo_with_client()
    program = _add(repo, client, "Bridge")
    rows = _rows(program)
    rows[0].new_picture = "data:text/html;base64,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    with pytest.raises(Refused) as refused:
        run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    assert set(refused.value.errors) == {"rows.0.new_picture"}
    assert run(repo.list(ExercisePicture)) == []


def test_printing_keeps_each_version_once_per_content_and_day():
    repo, client = _repo_with_client()
    with pytest.raises(Refused):
        run(record_print(repo, RecordPrint(client_id=client.id, html="<p>x</p>", today=D0)))
    program = _add(repo, client, "Bridge")
    first = run(record_print(repo, RecordPrint(client_id=client.id, html="<p>1</p>", today=D0)))
    assert first is not None and first.days_per_week == 3 and first.exercise_count == 1
    assert (
        run(record_print(repo, RecordPrint(client_id=client.id, html="<p>1</p>", today=D0))) is None
    )
    later = D0 + timedelta(days=7)
    assert run(record_print(repo, RecordPrint(client_id=client.id, html="<p>1</p>", today=later)))
    _add(repo, client, "Heel raise")
    changed = run(
        record_print(repo, RecordPrint(client_id=client.id, html="<p>2</p>", today=later))
    )
    assert changed is not None and changed.exercise_count == 2
    prints = run(repo.find(HomeProgramPrint, "client_id", client.id))
    assert len(prints) == 3
    summary = program_summary(run(load_home_program(repo, client.id)), prints)
    assert summary["current"] is True and summary["printed_on"] == later.isoformat()
    assert [e["name"] for e in summary["exercises"]] == ["Bridge", "Heel raise"]
    assert program_summary(program.model_copy(update={"exercises": []}), prints) is None


def test_pictures_and_programs_survive_a_backup_round_trip():
    repo, client = _repo_with_client()
    program = _add(repo, client, "Bridge")
    rows = _rows(program)
    rows[0].new_picture = TINY_JPEG
    run(save_home_program(repo, SaveHomeProgram(client_id=client.id, rows=rows)))
    run(record_print(repo, RecordPrint(client_id=client.id, html="<p>v1</p>", today=D0)))
    dump = run(repo.export_all())
    text = make_backup(dump["stores"], dump["audit"], {}, "test")
    restored = parse_backup(text)
    assert restored.counts["exercise_pictures"] == 1
    assert restored.counts["home_programs"] == 1
    assert restored.counts["home_program_prints"] == 1
    (picture,) = restored.data["exercise_pictures"]
    assert ExercisePicture.model_validate(picture).data_url == TINY_JPEG
    assert TINY_JPEG in json.loads(text)["data"]["exercise_pictures"][0]["data_url"]
    (kept,) = restored.data["home_program_prints"]
    assert HomeProgramPrint.model_validate(kept).html == "<p>v1</p>"
