"""Outcome use cases over the in-memory repository: assessments, episodes, payments,
discharge and the progress-report data."""

from datetime import date

from medex.assessments import Assessment
from medex.intake import Client, ClientStatus
from medex.programs import Episode, default_program
from medex.repository import InMemoryRepository, StorageFullError
from medex.services.outcomes import (
    client_outcomes,
    discharge_client_after_program,
    discharge_episode,
    list_programs,
    reassessment_dashboard,
    record_assessment,
    record_payment,
    start_episode,
)
from medex.session_logs import SessionLog
from tests.support.aio import run

TODAY = date(2025, 6, 1)
TKR = default_program("post_tkr")


def setup():
    repo = InMemoryRepository()
    client = Client(first_name="Ann", last_name="Lee", date_of_birth=date(1952, 8, 1), sex="female")
    run(repo.save(client))
    return repo, client


def _start(repo, client, when="2025-01-06"):
    result, ep = run(start_episode(repo, client.id, TKR.id, when, TODAY))
    assert result.ok, result.errors
    return ep


def _assess(repo, client, ep, when, tug, chair, gait, lefs, kind="reassessment"):
    data = {
        "client_id": client.id,
        "episode_id": ep.id,
        "kind": kind,
        "assessed_on": when,
        "measurements": [
            {"measure_id": "tug", "value": tug},
            {"measure_id": "chair_stand_30s", "value": chair},
            {"measure_id": "gait_speed", "value": gait},
            {"measure_id": "lefs", "value": lefs},
        ],
    }
    result, a = run(record_assessment(repo, data, TODAY))
    assert result.ok, result.errors
    return a


def test_record_assessment_saves_and_reports_field_errors():
    repo, client = setup()
    bad = {
        "client_id": client.id,
        "assessed_on": "2025-05-01",
        "measurements": [{"measure_id": "tug", "value": "abc"}],
    }
    result, a = run(record_assessment(repo, bad, TODAY))
    assert not result.ok and a is None
    assert result.errors == {"measurements.0.value": "Enter a number for Timed Up and Go"}
    assert repo.writes == 1  # only the client saved in setup
    good = {**bad, "measurements": [{"measure_id": "tug", "value": "9.8"}]}
    result, a = run(record_assessment(repo, good, TODAY))
    assert result.ok and run(repo.get(Assessment, a.id)).measurements[0].value == 9.8


def test_assessment_before_birth_refused():
    repo, client = setup()
    data = {"client_id": client.id, "assessed_on": "1950-01-01", "vitals": {"resting_hr": 70}}
    result, _ = run(record_assessment(repo, data, TODAY))
    assert result.errors == {
        "assessed_on": "The assessment date cannot be before the client's date of birth"
    }


def test_second_baseline_in_an_episode_refused():
    repo, client = setup()
    ep = _start(repo, client)
    _assess(repo, client, ep, "2025-01-06", 14.0, 8, 0.8, 40, kind="baseline")
    data = {
        "client_id": client.id,
        "episode_id": ep.id,
        "kind": "baseline",
        "assessed_on": "2025-01-07",
        "measurements": [{"measure_id": "tug", "value": 13}],
    }
    result, _ = run(record_assessment(repo, data, TODAY))
    assert "already has a baseline" in result.errors["kind"]


def test_storage_full_reported_and_nothing_saved():
    repo, client = setup()
    repo.fail_next_write = StorageFullError()
    data = {"client_id": client.id, "assessed_on": "2025-05-01", "vitals": {"resting_hr": 70}}
    result, a = run(record_assessment(repo, data, TODAY))
    assert not result.ok and a is None and "out of storage" in result.errors["__all__"]


def test_start_episode_snapshots_the_template_and_refuses_a_second_active_one():
    repo, client = setup()
    ep = _start(repo, client)
    assert ep.program.name == "Post total knee replacement"
    assert ep.program.discharge_criteria == TKR.discharge_criteria
    result, second = run(start_episode(repo, client.id, TKR.id, "2025-02-01", TODAY))
    assert second is None and "already on the program" in result.errors["program_id"]


def test_list_programs_defaults_replaced_by_saved_edits():
    repo, _ = setup()
    assert len(run(list_programs(repo))) == 7
    edited = TKR.model_copy(update={"price_cents": 150000})
    run(repo.save(edited))
    progs = {p.id: p for p in run(list_programs(repo))}
    assert progs[TKR.id].price_cents == 150000 and len(progs) == 7


def test_record_payment_totals():
    repo, client = setup()
    ep = _start(repo, client)
    result, ep = run(
        record_payment(
            repo, ep.id, {"paid_on": "2025-01-06", "amount": "600", "method": "card"}, TODAY
        )
    )
    assert result.ok
    result, ep = run(
        record_payment(repo, ep.id, {"paid_on": "2025-02-06", "amount": "$250.50"}, TODAY)
    )
    assert result.ok and ep.paid_cents == 85050
    stored = run(repo.get(Episode, ep.id))
    assert [p.amount_cents for p in stored.payments] == [60000, 25050]


def test_record_payment_errors_next_to_the_field():
    repo, client = setup()
    ep = _start(repo, client)
    result, _ = run(record_payment(repo, ep.id, {"paid_on": "2025-01-06", "amount": "-5"}, TODAY))
    assert result.errors == {"amount": "An amount cannot be negative"}
    result, _ = run(record_payment(repo, ep.id, {"paid_on": "2025-07-01", "amount": "5"}, TODAY))
    assert result.errors == {"paid_on": "A payment date cannot be in the future"}


def test_client_outcomes_rows_criteria_due_and_sessions():
    """A 72-year-old woman: baseline, reassessment 6 weeks later, and sessions attended."""
    repo, client = setup()
    ep = _start(repo, client)
    _assess(repo, client, ep, "2025-01-06", 14.0, 8, 0.8, 40, kind="baseline")
    _assess(repo, client, ep, "2025-02-17", 11.5, 11, 1.0, 46)
    logs = [
        SessionLog(client_id=client.id, episode_id=ep.id, session_date=date(2025, 2, 17 + i))
        for i in range(0, 5)
    ]
    run(repo.save(*logs))
    out = run(client_outcomes(repo, client.id, TODAY))
    assert out.age == 72 and out.episode.id == ep.id
    assert [r.measure_id for r in out.rows] == [
        "tug",
        "chair_stand_30s",
        "gait_speed",
        "six_minute_walk",
        "lefs",
        "nprs",
    ]
    assert out.row("six_minute_walk").current_text == "Not assessed"
    chair = out.row("chair_stand_30s")
    assert (chair.baseline_norm.status, chair.norm.status) == ("below", "within")
    # LEFS +6 < MCID 9 → criteria not all met
    assert out.criteria.overall == "not_met"
    assert [r.status for r in out.criteria.results] == ["met", "met", "met", "not_met"]
    # 4 sessions after 17 Feb (the one on the day does not count) → 42 days decide: 31 Mar
    assert out.due[0].due_on == date(2025, 3, 31) and out.due[0].status == "overdue"
    assert out.sessions.used == 5 and out.sessions.remaining == 19


def test_discharge_refused_when_criteria_not_met_unless_another_reason():
    repo, client = setup()
    ep = _start(repo, client)
    _assess(repo, client, ep, "2025-01-06", 14.0, 8, 0.8, 40, kind="baseline")
    _assess(repo, client, ep, "2025-02-17", 11.5, 11, 1.0, 46)
    result, done = run(discharge_episode(repo, ep.id, "2025-03-01", "criteria_met", TODAY))
    assert done is None and "1 not yet met" in result.errors["discharge_reason"]
    result, done = run(discharge_episode(repo, ep.id, "2025-03-01", None, TODAY))
    assert result.errors == {"discharge_reason": "Choose the reason for discharge"}
    result, done = run(discharge_episode(repo, ep.id, "2025-03-01", "other", TODAY))
    assert result.errors == {"discharge_note": "Describe the reason for discharge"}
    result, done = run(
        discharge_episode(repo, ep.id, "2025-03-01", "other", TODAY, note="Moved away")
    )
    assert result.ok and done.status == "discharged"
    assert done.discharge_reason_text == "Other: Moved away"


def test_discharge_when_criteria_met():
    repo, client = setup()
    ep = _start(repo, client)
    _assess(repo, client, ep, "2025-01-06", 14.0, 8, 0.8, 40, kind="baseline")
    _assess(repo, client, ep, "2025-03-31", 10.2, 12, 1.1, 52, kind="discharge")
    result, _ = run(discharge_episode(repo, ep.id, "2025-03-31", "criteria_met", TODAY))
    assert result.ok, result.errors
    assert run(repo.get(Episode, ep.id)).discharge_reason == "criteria_met"
    result, _ = run(discharge_episode(repo, ep.id, "2025-04-01", "client_request", TODAY))
    assert result.errors == {"__all__": "This program is already discharged"}


def test_client_is_discharged_with_the_last_program_in_progress():
    """A program still running keeps the client in care; ending it discharges them."""
    repo, client = setup()
    episode = _start(repo, client)
    assert run(discharge_client_after_program(repo, client.id, TODAY)) == ""
    assert run(repo.get(Client, client.id)).status is ClientStatus.REFERRED
    run(discharge_episode(repo, episode.id, "2025-03-02", "client_request", TODAY))
    message = run(discharge_client_after_program(repo, client.id, TODAY))
    assert message == "Ann Lee is now discharged."
    assert run(repo.get(Client, client.id)).status is ClientStatus.DISCHARGED
    assert run(discharge_client_after_program(repo, client.id, TODAY)) == ""


def test_reassessment_dashboard_lists_overdue_programs_only():
    repo, client = setup()
    ep = _start(repo, client)
    _assess(repo, client, ep, "2025-01-06", 14.0, 8, 0.8, 40, kind="baseline")
    items = run(reassessment_dashboard(repo, date(2025, 2, 17)))  # 42 days: due today
    assert [i.title for i in items] == ["Ann Lee: reassessment due today"]
    assert run(reassessment_dashboard(repo, date(2025, 2, 16))) == []
