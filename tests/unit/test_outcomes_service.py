"""Outcome use cases over the in-memory repository: assessments, episodes, payments,
discharge and the progress-report data."""

from datetime import date

import pytest

from medex.assessments import Assessment
from medex.forms import Refused
from medex.intake import Client, ClientStatus
from medex.programs import Episode, default_program
from medex.repository import InMemoryRepository, StorageFullError
from medex.services.outcomes import (
    DischargeEpisode,
    RecordAssessment,
    RecordPayment,
    StartEpisode,
    client_outcomes,
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
    ep = run(
        start_episode(
            repo, StartEpisode(client_id=client.id, program_id=TKR.id, start_date=when, today=TODAY)
        )
    )
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
    return run(record_assessment(repo, RecordAssessment(**data, today=TODAY)))


def test_record_assessment_saves_and_reports_field_errors():
    repo, client = setup()
    bad = {
        "client_id": client.id,
        "assessed_on": "2025-05-01",
        "measurements": [{"measure_id": "tug", "value": "abc"}],
    }
    with pytest.raises(Refused) as exc:
        run(record_assessment(repo, RecordAssessment(**bad, today=TODAY)))
    assert exc.value.errors == {"measurements.0.value": "Enter a number for Timed Up and Go"}
    assert repo.writes == 1  # only the client saved in setup
    good = {**bad, "measurements": [{"measure_id": "tug", "value": "9.8"}]}
    a = run(record_assessment(repo, RecordAssessment(**good, today=TODAY)))
    assert run(repo.get(Assessment, a.id)).measurements[0].value == 9.8


def test_assessment_before_birth_refused():
    repo, client = setup()
    data = {"client_id": client.id, "assessed_on": "1950-01-01", "vitals": {"resting_hr": 70}}
    with pytest.raises(Refused) as exc:
        run(record_assessment(repo, RecordAssessment(**data, today=TODAY)))
    assert exc.value.errors == {
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
    with pytest.raises(Refused) as exc:
        run(record_assessment(repo, RecordAssessment(**data, today=TODAY)))
    assert "already has a baseline" in exc.value.errors["kind"]


def test_storage_full_is_the_repository_s_refusal_and_nothing_is_saved():
    repo, client = setup()
    repo.fail_next_write = StorageFullError()
    data = {"client_id": client.id, "assessed_on": "2025-05-01", "vitals": {"resting_hr": 70}}
    with pytest.raises(StorageFullError):
        run(record_assessment(repo, RecordAssessment(**data, today=TODAY)))
    assert run(repo.list(Assessment)) == []


def test_start_episode_snapshots_the_template_and_refuses_a_second_active_one():
    repo, client = setup()
    ep = _start(repo, client)
    assert ep.program.name == "Post total knee replacement"
    assert ep.program.discharge_criteria == TKR.discharge_criteria
    with pytest.raises(Refused) as exc:
        run(
            start_episode(
                repo,
                StartEpisode(
                    client_id=client.id, program_id=TKR.id, start_date="2025-02-01", today=TODAY
                ),
            )
        )
    assert "already on the program" in exc.value.errors["program_id"]


def test_list_programs_defaults_replaced_by_saved_edits():
    repo, _ = setup()
    assert len(run(list_programs(repo))) == 7
    edited = TKR.model_copy(update={"price_cents": 150000})
    run(repo.save(edited))
    progs = {p.id: p for p in run(list_programs(repo))}
    assert progs[TKR.id].price_cents == 150000 and len(progs) == 7


def _pay(repo, ep, paid_on, amount, **kw):
    return run(
        record_payment(
            repo,
            RecordPayment(episode_id=ep.id, today=TODAY, paid_on=paid_on, amount=amount, **kw),
        )
    )


def test_record_payment_totals():
    repo, client = setup()
    ep = _start(repo, client)
    _pay(repo, ep, "2025-01-06", "600", method="card")
    ep = _pay(repo, ep, "2025-02-06", "$250.50")
    assert ep.paid_cents == 85050
    stored = run(repo.get(Episode, ep.id))
    assert [p.amount_cents for p in stored.payments] == [60000, 25050]


def test_record_payment_errors_next_to_the_field():
    repo, client = setup()
    ep = _start(repo, client)
    with pytest.raises(Refused) as exc:
        _pay(repo, ep, "2025-01-06", "-5")
    assert exc.value.errors == {"amount": "An amount cannot be negative"}
    with pytest.raises(Refused) as exc:
        _pay(repo, ep, "2025-07-01", "5")
    assert exc.value.errors == {"paid_on": "A payment date cannot be in the future"}
    assert run(repo.get(Episode, ep.id)).payments == []  # nothing written


def test_payments_and_refunds_after_discharge_settle_the_balance():
    """The package is $1,500; $1,000 paid during the program, the rest after discharge, then
    $100 refunded for a session not given."""
    repo, client = setup()
    run(repo.save(TKR.model_copy(update={"price_cents": 150000})))
    ep = _start(repo, client)
    assert ep.program.price_cents == 150000
    _pay(repo, ep, "2025-01-06", "1000")
    run(
        discharge_episode(
            repo,
            DischargeEpisode(
                episode_id=ep.id,
                discharge_date="2025-03-02",
                discharge_reason="client_request",
                today=TODAY,
            ),
        )
    )
    ep = _pay(repo, ep, "2025-03-10", "500", method="check", reference="1043")
    assert not ep.is_active and ep.balance_cents == 0
    ep = _pay(repo, ep, "2025-03-12", "100", kind="refund")
    assert ep.paid_cents == 140000 and ep.balance_cents == 10000
    assert ep.payments[-1].is_refund and ep.payments[-1].amount_text == "-$100.00"


def test_a_refund_cannot_exceed_what_was_paid():
    repo, client = setup()
    ep = _start(repo, client)
    _pay(repo, ep, "2025-01-06", "200")
    with pytest.raises(Refused) as exc:
        _pay(repo, ep, "2025-01-07", "200.01", kind="refund")
    assert exc.value.errors == {
        "amount": "A refund cannot be more than what has been paid ($200.00)"
    }
    assert run(repo.get(Episode, ep.id)).paid_cents == 20000


def test_payment_on_a_missing_program_is_refused():
    repo, _client = setup()
    with pytest.raises(Refused) as exc:
        run(record_payment(repo, RecordPayment(episode_id="nope", today=TODAY, amount="5")))
    assert exc.value.errors == {"__all__": "This program no longer exists"}


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
    with pytest.raises(Refused) as exc:
        run(
            discharge_episode(
                repo,
                DischargeEpisode(
                    episode_id=ep.id,
                    discharge_date="2025-03-01",
                    discharge_reason="criteria_met",
                    today=TODAY,
                ),
            )
        )
    assert "1 not yet met" in exc.value.errors["discharge_reason"]
    with pytest.raises(Refused) as exc:
        run(
            discharge_episode(
                repo,
                DischargeEpisode(
                    episode_id=ep.id,
                    discharge_date="2025-03-01",
                    discharge_reason=None,
                    today=TODAY,
                ),
            )
        )
    assert exc.value.errors == {"discharge_reason": "Choose the reason for discharge"}
    with pytest.raises(Refused) as exc:
        run(
            discharge_episode(
                repo,
                DischargeEpisode(
                    episode_id=ep.id,
                    discharge_date="2025-03-01",
                    discharge_reason="other",
                    today=TODAY,
                ),
            )
        )
    assert exc.value.errors == {"discharge_note": "Describe the reason for discharge"}
    done = run(
        discharge_episode(
            repo,
            DischargeEpisode(
                episode_id=ep.id,
                discharge_date="2025-03-01",
                discharge_reason="other",
                today=TODAY,
                discharge_note="Moved away",
            ),
        )
    )
    assert done.status == "discharged"
    assert done.discharge_reason_text == "Other: Moved away"


def test_discharge_when_criteria_met():
    repo, client = setup()
    ep = _start(repo, client)
    _assess(repo, client, ep, "2025-01-06", 14.0, 8, 0.8, 40, kind="baseline")
    _assess(repo, client, ep, "2025-03-31", 10.2, 12, 1.1, 52, kind="discharge")
    run(
        discharge_episode(
            repo,
            DischargeEpisode(
                episode_id=ep.id,
                discharge_date="2025-03-31",
                discharge_reason="criteria_met",
                today=TODAY,
            ),
        )
    )
    assert run(repo.get(Episode, ep.id)).discharge_reason == "criteria_met"
    with pytest.raises(Refused) as exc:
        run(
            discharge_episode(
                repo,
                DischargeEpisode(
                    episode_id=ep.id,
                    discharge_date="2025-04-01",
                    discharge_reason="client_request",
                    today=TODAY,
                ),
            )
        )
    assert exc.value.errors == {"__all__": "This program is already discharged"}


def test_status_follows_the_episode_in_the_same_save():
    """Enrolment makes the client active and discharge discharges them, each in the one
    transaction that saves the episode."""
    repo, client = setup()
    assert client.status is ClientStatus.REFERRED
    writes = repo.writes
    episode = _start(repo, client)
    assert repo.writes == writes + 1
    assert run(repo.get(Client, client.id)).status is ClientStatus.ACTIVE
    writes = repo.writes
    run(
        discharge_episode(
            repo,
            DischargeEpisode(
                episode_id=episode.id,
                discharge_date="2025-03-02",
                discharge_reason="client_request",
                today=TODAY,
            ),
        )
    )
    assert repo.writes == writes + 1
    assert run(repo.get(Client, client.id)).status is ClientStatus.DISCHARGED


def test_reassessment_dashboard_lists_overdue_programs_only():
    repo, client = setup()
    ep = _start(repo, client)
    _assess(repo, client, ep, "2025-01-06", 14.0, 8, 0.8, 40, kind="baseline")
    items = run(reassessment_dashboard(repo, date(2025, 2, 17)))  # 42 days: due today
    assert [i.title for i in items] == ["Ann Lee: reassessment due today"]
    assert run(reassessment_dashboard(repo, date(2025, 2, 16))) == []
