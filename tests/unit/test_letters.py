"""How physician documents word names, programs, durations, dates, times and loads
(medex.letters, session volume), as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from medex.exercises import LoadUnit
from medex.letters import (
    local_time_text,
    long_date,
    program_duration,
    program_phrase,
    salutation,
    unique_lines,
)
from medex.session_logs import (
    Attendance,
    ExerciseEntry,
    SessionLog,
    Signature,
    session_volume,
    volume_load_text,
)

# -- salutation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "credentials", "expected"),
    [
        ("Robert Okafor", "MD", "Dear Dr. Okafor,"),
        ("Dr. Robert Okafor", "MD", "Dear Dr. Okafor,"),
        ("Dr Robert Okafor", "", "Dear Dr. Okafor,"),
        ("Robert Okafor, MD", "", "Dear Dr. Okafor,"),
        ("Robert Okafor MD", "MD", "Dear Dr. Okafor,"),
        ("Maria Chen", "M.D.", "Dear Dr. Chen,"),
        ("Maria Chen", "DO, FACP", "Dear Dr. Chen,"),
        ("John Smith Jr.", "DO", "Dear Dr. Smith,"),
        ("Anna van der Berg", "MD", "Dear Dr. van der Berg,"),
        ("Okafor", "MD", "Dear Dr. Okafor,"),
        ("Sam Patel", "NP", "Dear Sam Patel,"),  # not a doctor: no "Dr."
        ("Ms. Lee Park", "PA-C", "Dear Lee Park,"),
        ("", "", "Dear Doctor,"),
    ],
)
def test_salutation_uses_the_surname_without_first_name_or_credentials(name, credentials, expected):
    assert salutation(name, credentials) == expected


# -- the program in a sentence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Post total knee replacement", "a post–total knee replacement program"),
        ("Falls prevention", "a falls prevention program"),
        ("Type 2 diabetes", "a type 2 diabetes program"),
        ("Low back pain", "a low back pain program"),
        ("Parkinson's disease", "a Parkinson's disease program"),
        ("Osteoporosis", "an osteoporosis program"),
        ("General deconditioning", "a general deconditioning program"),
        ("COPD maintenance", "a COPD maintenance program"),
        ("Pre surgery conditioning", "a pre–surgery conditioning program"),
        ("Cardiac Strength Club", "the Cardiac Strength Club program"),
        ("Balance class", "a balance class"),
        ("Strength program", "a strength program"),
        ("", "an exercise program"),
    ],
)
def test_program_phrase_names_the_program_naturally(name, expected):
    assert program_phrase(name) == expected


@pytest.mark.parametrize(
    ("weeks", "sessions", "expected"),
    [
        (12, 24, "12 weeks (24 sessions)"),
        (12, None, "12 weeks"),
        (None, 24, "24 sessions"),
        (1, 1, "1 week (1 session)"),
        (None, None, ""),
    ],
)
def test_program_duration(weeks, sessions, expected):
    assert program_duration(weeks, sessions) == expected


def test_unique_lines_lists_each_deficit_once():
    assert unique_lines(
        ["Reduced knee strength", "Slow gait"], "slow  gait.\nPoor balance\n\n"
    ) == ["Reduced knee strength", "Slow gait", "Poor balance"]
    assert unique_lines([], "") == []


# -- dates and times -----------------------------------------------------------------------------


def test_long_date_is_the_documents_one_format():
    assert long_date(date(2026, 3, 9)) == "Mar 9, 2026"
    assert long_date(None) == ""


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(hours=-5), "Mar 10, 2026 at 09:20 (UTC−5)"),
        (timedelta(hours=-4), "Mar 10, 2026 at 10:20 (UTC−4)"),
        (timedelta(hours=5, minutes=30), "Mar 10, 2026 at 19:50 (UTC+5:30)"),
        (timedelta(hours=-10), "Mar 10, 2026 at 04:20 (UTC−10)"),
        (timedelta(hours=-15), "Mar 9, 2026 at 23:20 (UTC−15)"),  # the day before, locally
        (timedelta(0), "Mar 10, 2026 at 14:20 (UTC)"),
        (None, "Mar 10, 2026 at 14:20 (UTC)"),
    ],
)
def test_local_time_is_the_device_clock_with_its_offset(offset, expected):
    signed = datetime(2026, 3, 10, 14, 20, tzinfo=UTC)
    assert local_time_text(signed, offset) == expected


def test_local_time_of_an_aware_time_in_another_zone_is_converted_from_utc():
    moment = datetime(2026, 3, 10, 9, 20, tzinfo=timezone(timedelta(hours=-5)))
    assert local_time_text(moment, timedelta(hours=1)) == "Mar 10, 2026 at 15:20 (UTC+1)"


def test_signature_text_in_the_device_time_zone():
    sig = Signature(
        signed_by="Dana Reyes",
        credentials="MS",
        signed_at=datetime(2026, 3, 10, 14, 20, tzinfo=UTC),
        content_hash="0" * 64,
    )
    assert sig.local_text(timedelta(hours=-5)) == (
        "Signed by Dana Reyes, MS on Mar 10, 2026 at 09:20 (UTC−5)"
    )
    assert "UTC−5" not in sig.text  # the stored form stays UTC


# -- loads -----------------------------------------------------------------------------------------


def _log(*entries: tuple[float, LoadUnit]) -> SessionLog:
    return SessionLog(
        client_id="c",
        session_date=date(2026, 3, 10),
        start_time=time(9, 0),
        attendance=Attendance.ATTENDED,
        exercises=[
            ExerciseEntry(
                exercise_id=f"e{i}",
                exercise_name=f"Exercise {i}",
                sets=2,
                reps=10,
                load=load,
                load_unit=unit,
            )
            for i, (load, unit) in enumerate(entries)
        ],
    )


def test_loads_entered_in_lb_are_totalled_in_lb():
    v = session_volume(_log((20, LoadUnit.LB), (15, LoadUnit.LB)))
    assert v.volume_load_lb == pytest.approx(700)  # 2×10×20 + 2×10×15
    assert v.volume_load_text == "700 lb"
    assert v.volume_load_kg == pytest.approx(700 * 0.45359237)


def test_loads_entered_in_kg_are_totalled_in_kg():
    assert session_volume(_log((10, LoadUnit.KG), (5, LoadUnit.KG))).volume_load_text == "300 kg"


def test_mixed_units_show_both_never_lb_added_as_kg():
    v = session_volume(_log((10, LoadUnit.KG), (22, LoadUnit.LB)))
    kg = 200 + 440 * 0.45359237
    assert v.volume_load_kg == pytest.approx(kg)
    assert v.volume_load_text == volume_load_text(kg, kg / 0.45359237, ["kg", "lb"])
    assert v.volume_load_text.startswith("399.6 kg (") and v.volume_load_text.endswith(" lb)")
    assert "640" not in v.volume_load_text  # 200 + 440 would be lb summed as kg


def test_no_weights_no_volume_load_text():
    assert session_volume(_log((50, LoadUnit.WATTS))).volume_load_text == ""
    assert volume_load_text(0, 0, []) == ""
