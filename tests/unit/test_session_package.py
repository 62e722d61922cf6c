"""Sessions and the package: a session stopped for safety counts as the practitioner decides
(default: counted, not billed); a new session never copies a stopped one; unsigned logs are
late 24 h after the session; the resting-BP prompt; a clearance counts only after its
screening; charts do not magnify trivial changes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta

import pytest

from medex.charts import measure_chart, minimum_span
from medex.exercises import starter_library
from medex.health import Condition, HealthHistory, Medication, bp_check_needed
from medex.measures import get_measure
from medex.repository import InMemoryRepository
from medex.safety import FlagCode, SafetyOverride, Timing, Vitals, evaluate_session_safety
from medex.screening import Clearance, clearance_counts, clearance_for_screening
from medex.services.sessions import load_clearance_context, start_session
from medex.session_logs import (
    Attendance,
    SessionLog,
    billed_as_service,
    compute_flags,
    content_document,
    counts_against_package,
    exercise_stopped,
    prefill_from_previous,
    signing_due_by,
    unsigned_older_than,
)
from tests.support.aio import run
from tests.support.seeders import CLIENT, draft, repo_with_client

T0 = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
REASON = "Dr Lee cleared by phone at 10:20 today"


def _flagged(log: SessionLog) -> SessionLog:
    return log.model_copy(update={"safety_flags": compute_flags(log)})


def _stopped(**kw) -> SessionLog:
    """Resting BP 185/105 before exercise: a hard stop; the client was sent home."""
    high = Vitals(timing=Timing.PRE, heart_rate_bpm=80, systolic_mmhg=205, diastolic_mmhg=105)
    return _flagged(draft(pre_vitals=high, exercises=[], action_taken="Sent home", **kw))


# -- counted and billed ----------------------------------------------------------------------


def test_a_normal_session_counts_and_is_billed():
    log = _flagged(draft())
    assert not exercise_stopped(log)
    assert counts_against_package(log) and billed_as_service(log)


def test_a_stopped_session_counts_but_is_not_billed_by_default():
    log = _stopped()
    assert exercise_stopped(log)
    assert counts_against_package(log)
    assert not billed_as_service(log)


def test_the_practitioners_choice_wins_both_ways():
    stopped = _stopped(package_use="not_counted", billing="billed")
    assert not counts_against_package(stopped) and billed_as_service(stopped)
    normal = _flagged(draft(billing="not_billed", package_use="counted"))
    assert counts_against_package(normal) and not billed_as_service(normal)


def test_a_stop_overridden_with_a_reason_is_not_a_stopped_session():
    high = Vitals(timing=Timing.PRE, heart_rate_bpm=80, systolic_mmhg=205, diastolic_mmhg=105)
    log = _flagged(draft(pre_vitals=high))
    codes = frozenset(f.code for f in log.safety_flags if f.is_hard_stop)
    went_ahead = log.model_copy(
        update={"safety_override": SafetyOverride(flag_codes=codes, reason=REASON)}
    )
    assert exercise_stopped(log) and not exercise_stopped(went_ahead)
    assert billed_as_service(went_ahead)


@pytest.mark.parametrize("attendance", [Attendance.CANCELLED, Attendance.NO_SHOW])
def test_sessions_that_did_not_take_place_never_count_or_bill(attendance):
    log = SessionLog(
        client_id=CLIENT,
        session_date=date(2025, 3, 10),
        attendance=attendance,
        attendance_reason="Unwell",
        package_use="counted",
        billing="billed",
    )
    assert not counts_against_package(log) and not billed_as_service(log)
    assert not exercise_stopped(log)


def test_the_choice_is_covered_by_the_signature_and_old_logs_keep_their_hash():
    plain = draft()
    assert "package_use" not in content_document(plain)  # empty defaults leave the hash alone
    chosen = draft(package_use="not_counted", billing="not_billed")
    doc = content_document(chosen)
    assert doc["package_use"] == "not_counted" and doc["billing"] == "not_billed"


# -- a new session does not copy a stopped one -----------------------------------------------


def test_prefill_skips_the_exercises_of_a_stopped_session():
    full = _flagged(draft(day=3))
    stopped = _flagged(
        draft(
            day=7,
            exercises=[
                draft().exercises[0].model_copy(update={"sets": 1, "reps": 3}),
            ],
            during_vitals=[
                Vitals(
                    timing=Timing.DURING, heart_rate_bpm=120, systolic_mmhg=260, diastolic_mmhg=90
                )
            ],
            action_taken="Stopped; called Dr Lee",
        )
    )
    assert exercise_stopped(stopped)
    new = prefill_from_previous(stopped, client_id=CLIENT, exercises_from=full)
    assert [(e.exercise_name, e.sets, e.reps) for e in new.exercises] == [
        ("Sit-to-stand", 2, 10),
        ("Band row", 2, 12),
    ]
    assert new.pain_previous == stopped.pain  # pain still compares with the last session
    alone = prefill_from_previous(stopped, client_id=CLIENT)
    assert alone.exercises == []


def test_start_session_takes_the_last_full_session_as_the_plan():
    repo = repo_with_client()
    from medex.services.sessions import save_draft_log

    run(save_draft_log(repo, draft(day=3)))
    high = Vitals(timing=Timing.PRE, heart_rate_bpm=80, systolic_mmhg=205, diastolic_mmhg=105)
    stopped = draft(
        day=7,
        pre_vitals=high,
        exercises=[draft().exercises[0].model_copy(update={"sets": 1, "reps": 2})],
        action_taken="Sent home",
    )
    run(save_draft_log(repo, stopped))
    lib = starter_library()[:1]
    new = run(start_session(repo, CLIENT, date(2025, 3, 10), lib))
    assert [(e.exercise_name, e.sets, e.reps) for e in new.exercises] == [("Sit-to-stand", 2, 10)]


# -- unsigned logs: 24 h after the session ---------------------------------------------------


def test_late_is_measured_from_the_session_not_from_the_draft():
    log = draft(day=10, created_at=T0 + timedelta(days=3))  # typed up three days later
    assert signing_due_by(log) == datetime(2025, 3, 11, 10, 0)
    local_now = datetime(2025, 3, 13, 16, 0)
    assert unsigned_older_than([log], T0 + timedelta(days=3, hours=1), local_now) == [log]


def test_a_session_without_a_time_is_late_after_the_end_of_the_next_day():
    log = draft(day=10, start_time=None)
    assert unsigned_older_than([log], T0, datetime(2025, 3, 11, 23, 59)) == []
    assert unsigned_older_than([log], T0, datetime(2025, 3, 12, 0, 0, 1)) == [log]


def test_a_draft_for_a_future_session_is_never_late():
    log = draft(day=20)
    assert unsigned_older_than([log], T0, datetime(2025, 3, 15, 9, 0)) == []


def test_local_now_must_be_wall_clock_time():
    with pytest.raises(ValueError):
        unsigned_older_than([draft()], T0, T0)


# -- resting BP not checked ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "needed"),
    [
        (HealthHistory(client_id=CLIENT, conditions=[Condition(name="High blood pressure")]), True),
        (HealthHistory(client_id=CLIENT, conditions=[Condition(name="HTN", icd10="I10")]), True),
        (
            HealthHistory(client_id=CLIENT, conditions=[Condition(name="Old MI", icd10="I25.2")]),
            True,
        ),
        (HealthHistory(client_id=CLIENT, conditions=[Condition(name="Atrial fibrillation")]), True),
        (HealthHistory(client_id=CLIENT, medications=[Medication(name="Metoprolol 25 mg")]), True),
        (
            HealthHistory(
                client_id=CLIENT, medications=[Medication(name="Amlodipine", affects_hr_bp=True)]
            ),
            True,
        ),
        (HealthHistory(client_id=CLIENT, conditions=[Condition(name="Heartburn")]), False),
        (
            HealthHistory(client_id=CLIENT, conditions=[Condition(name="Knee OA", icd10="M17.11")]),
            False,
        ),
        (
            HealthHistory(client_id=CLIENT, conditions=[Condition(name="Varicose", icd10="I83.9")]),
            False,
        ),
        (None, False),
    ],
)
def test_bp_check_needed_from_the_health_history(history, needed):
    assert bp_check_needed(history) is needed


def test_resting_bp_prompt_when_no_bp_was_taken():
    no_bp = Vitals(timing=Timing.PRE, heart_rate_bpm=70)
    flags = evaluate_session_safety(no_bp, bp_check_needed=True)
    assert [f.code for f in flags] == [FlagCode.RESTING_BP_NOT_RECORDED]
    assert not flags[0].is_hard_stop
    assert evaluate_session_safety(no_bp) == []
    with_bp = Vitals(timing=Timing.PRE, systolic_mmhg=130, diastolic_mmhg=80)
    assert evaluate_session_safety(with_bp, bp_check_needed=True) == []
    assert [f.code for f in evaluate_session_safety(None, bp_check_needed=True)] == [
        FlagCode.RESTING_BP_NOT_RECORDED
    ]


def test_the_session_log_carries_the_prompt_from_the_history():
    repo = repo_with_client()
    run(repo.save(HealthHistory(client_id=CLIENT, medications=[Medication(name="Atenolol 50 mg")])))
    new = run(start_session(repo, CLIENT, date(2025, 3, 10)))
    assert new.bp_check_needed
    codes = [f.code for f in compute_flags(new)]
    assert FlagCode.RESTING_BP_NOT_RECORDED in codes


# -- a clearance counts only after the screening that asked for it ---------------------------


def test_clearance_counts_only_on_or_after_the_screening():
    old = Clearance(client_id=CLIENT, requested_on=date(2022, 1, 3), received_on=date(2022, 1, 20))
    new = Clearance(client_id=CLIENT, requested_on=date(2025, 2, 1), received_on=date(2025, 2, 1))
    assert not clearance_counts(old, date(2025, 2, 1))
    assert clearance_counts(new, date(2025, 2, 1))  # the same day counts
    assert not clearance_counts(None, date(2025, 2, 1))
    pending = Clearance(client_id=CLIENT, requested_on=date(2025, 2, 1))
    assert not clearance_counts(pending, date(2025, 2, 1))
    assert clearance_for_screening(old, date(2025, 2, 1)).received_on is None
    assert clearance_for_screening(new, date(2025, 2, 1)) is new


def test_an_old_clearance_does_not_let_a_session_be_signed_without_a_reason():
    repo = repo_with_client(needs_clearance=True)  # screened 2025-02-01, clearance recommended
    run(
        repo.save(
            Clearance(
                client_id=CLIENT, requested_on=date(2022, 1, 3), received_on=date(2022, 1, 20)
            )
        )
    )
    context = run(load_clearance_context(repo, CLIENT))
    assert context.clearance is not None and context.clearance.received_on is None
    from medex.services.sessions import SigningRefused, sign_session_log

    with pytest.raises(SigningRefused) as exc:
        run(sign_session_log(repo, draft(), now=T0))
    assert "clearance_override_reason" in exc.value.errors


# -- charts: a trivial change stays small ----------------------------------------------------


def _plot_ys(svg: str) -> list[float]:
    """The y of each plotted value (the series line's points)."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    line = next(p for p in root.iter(f"{ns}polyline") if p.get("class") == "series")
    return [float(pt.split(",")[1]) for pt in line.get("points").split()]


def test_resting_hr_62_to_60_is_drawn_as_a_small_step():
    m = get_measure("resting_hr")
    assert minimum_span(m, [62, 60]) == pytest.approx(12.4)
    svg = measure_chart(m, [(date(2025, 1, 6), 62), (date(2025, 2, 17), 60)])
    ys = _plot_ys(svg)
    assert len(ys) == 2
    plot_height = 320 - 44 - 56
    assert abs(ys[1] - ys[0]) < plot_height * 0.25


def test_a_change_beyond_the_mcid_still_fills_the_axis():
    m = get_measure("lefs")  # MCID 9 points
    assert minimum_span(m, [40, 41]) == pytest.approx(36)
    svg = measure_chart(m, [(date(2025, 1, 6), 20), (date(2025, 3, 31), 60)])
    ys = _plot_ys(svg)
    assert abs(ys[1] - ys[0]) > (320 - 44 - 56) * 0.4


def test_the_minimum_span_never_exceeds_the_valid_range():
    m = get_measure("four_stage_balance")
    assert minimum_span(m, [1, 4]) <= m.valid_max - m.valid_min


def test_time_is_the_only_clock_that_matters():
    # A guard for the rule above: the session moment is local wall-clock time.
    log = draft(day=10, start_time=time(18, 30))
    assert signing_due_by(log) == datetime(2025, 3, 11, 18, 30)


# -- the package counts what the practitioner decided ------------------------------------------


def test_sessions_used_count_the_stopped_session_unless_the_practitioner_says_not():
    from medex.services.outcomes import client_outcomes
    from medex.session_logs import SessionLog as Log
    from tests.support.seeders import TODAY, seed_typical_client

    repo = InMemoryRepository()
    client, _provider, _episode = seed_typical_client(repo, TODAY)
    logs = run(repo.find(Log, "client_id", client.id))
    stopped = [lg for lg in logs if exercise_stopped(lg)]
    attended = [lg for lg in logs if lg.attendance is Attendance.ATTENDED]
    assert len(stopped) == 1
    used = run(client_outcomes(repo, client.id, TODAY)).sessions
    assert used is not None and used.used == len(attended)  # the stopped one counts
    run(repo.save(stopped[0].model_copy(update={"package_use": "not_counted"})))
    used = run(client_outcomes(repo, client.id, TODAY)).sessions
    assert used is not None and used.used == len(attended) - 1
