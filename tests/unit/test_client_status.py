"""The client's status follows the episode of care (medex.client_status), written in the same
save as the event that moves it."""

from __future__ import annotations

from datetime import date

import pytest

from medex.client_status import StatusEvent, manual_statuses, status_on
from medex.intake import Client, ClientStatus
from medex.programs import default_program
from medex.repository import InMemoryRepository
from medex.screening import Clearance
from medex.services.outcomes import DischargeEpisode, StartEpisode, discharge_episode, start_episode
from tests.support.aio import run

R, P, A, D = (
    ClientStatus.REFERRED,
    ClientStatus.PENDING_CLEARANCE,
    ClientStatus.ACTIVE,
    ClientStatus.DISCHARGED,
)
TODAY = date(2025, 6, 1)


@pytest.mark.parametrize(
    ("event", "current", "outstanding", "in_program", "expected"),
    [
        (StatusEvent.ENROLLED, R, False, True, A),
        (StatusEvent.ENROLLED, D, False, True, A),  # a returning client: a new episode
        (StatusEvent.ENROLLED, P, True, True, P),  # clearance still outstanding
        (StatusEvent.SESSION_SIGNED, R, False, False, A),  # first signed session
        (StatusEvent.SESSION_SIGNED, A, False, True, A),
        (StatusEvent.SESSION_SIGNED, P, True, False, P),  # signed with a reason: still pending
        (StatusEvent.PROGRAM_DISCHARGED, A, False, False, D),
        (StatusEvent.PROGRAM_DISCHARGED, A, False, True, A),  # another program still running
        (StatusEvent.REFERRED, D, False, False, R),  # returning client
        (StatusEvent.REFERRED, A, False, True, A),  # a new referral during care changes nothing
        (StatusEvent.CLEARANCE_ASKED, A, True, True, P),
        (StatusEvent.CLEARANCE_ASKED, R, True, False, P),
        (StatusEvent.CLEARANCE_ASKED, D, True, False, D),
        (StatusEvent.CLEARANCE_RECEIVED, P, False, True, A),  # back to the program
        (StatusEvent.CLEARANCE_RECEIVED, P, False, False, R),
        (StatusEvent.CLEARANCE_RECEIVED, P, True, True, P),  # an old clearance: still pending
        (StatusEvent.CLEARANCE_RECEIVED, A, False, True, A),
    ],
)
def test_status_on(event, current, outstanding, in_program, expected):
    assert (
        status_on(event, current, clearance_outstanding=outstanding, in_program=in_program)
        is expected
    )


def test_only_discharge_is_left_to_set_by_hand_and_only_outside_a_program():
    assert manual_statuses(R, in_program=False) == [D]
    assert manual_statuses(A, in_program=True) == []
    assert manual_statuses(D, in_program=False) == []


def _start(repo, client, when):
    command = StartEpisode(
        client_id=client.id,
        today=TODAY,
        program_id=default_program("post_tkr").id,
        start_date=when,
    )
    return run(start_episode(repo, command))


def _discharge(repo, episode, when):
    command = DischargeEpisode(
        episode_id=episode.id, today=TODAY, discharge_date=when, discharge_reason="client_request"
    )
    return run(discharge_episode(repo, command))


def _client(repo):
    client = Client(first_name="Ann", last_name="Lee", date_of_birth=date(1952, 8, 1), sex="female")
    run(repo.save(client))
    return client


def test_enrolment_makes_a_returning_client_active_again():
    repo = InMemoryRepository()
    client = _client(repo)
    first = _start(repo, client, "2025-01-06")
    assert run(repo.get(Client, client.id)).status is A
    _discharge(repo, first, "2025-03-31")
    assert run(repo.get(Client, client.id)).status is D
    second = _start(repo, client, "2025-05-01")
    assert second.id != first.id
    assert run(repo.get(Client, client.id)).status is A


def test_enrolment_with_clearance_outstanding_keeps_the_client_pending(monkeypatch):
    repo = InMemoryRepository()
    client = _client(repo)
    run(repo.save(client.model_copy(update={"status": P})))

    async def outstanding(_repo, client_id):
        from medex.services.intake import ClientFile

        class Pending(ClientFile):
            @property
            def clearance_outstanding(self) -> bool:
                return True

        return Pending()

    monkeypatch.setattr("medex.services.outcomes.load_client_file", outstanding)
    run(
        start_episode(
            repo,
            StartEpisode(
                client_id=client.id,
                program_id=default_program("post_tkr").id,
                start_date="2025-05-01",
                today=TODAY,
            ),
        )
    )
    assert run(repo.get(Client, client.id)).status is P
    assert run(repo.list(Clearance)) == []


def test_the_first_signed_session_makes_a_referred_client_active_in_the_same_save():
    from medex.services.sessions import sign_session_log
    from tests.support.seeders import CLIENT, draft, repo_with_client

    repo = repo_with_client()  # screened: clearance not needed
    client = Client(
        id=CLIENT, first_name="Ann", last_name="Lee", date_of_birth=date(1952, 8, 1), sex="female"
    )
    run(repo.save(client))
    writes = repo.writes
    run(sign_session_log(repo, draft()))
    assert repo.writes == writes + 1
    assert run(repo.get(Client, CLIENT)).status is A


def test_a_cancelled_session_does_not_make_the_client_active():
    from medex.services.sessions import sign_session_log
    from medex.session_logs import Attendance, SessionLog
    from tests.support.seeders import CLIENT, repo_with_client

    repo = repo_with_client()
    run(
        repo.save(
            Client(
                id=CLIENT,
                first_name="Ann",
                last_name="Lee",
                date_of_birth=date(1952, 8, 1),
                sex="female",
            )
        )
    )
    log = SessionLog(
        client_id=CLIENT,
        session_date=date(2025, 3, 10),
        attendance=Attendance.CANCELLED,
        attendance_reason="Unwell",
    )
    run(sign_session_log(repo, log))
    assert run(repo.get(Client, CLIENT)).status is R


def _screened_needing_clearance(repo, client, on):
    from medex.screening import AcsmScreeningInputs, Intensity, ScreeningRecord

    inputs = AcsmScreeningInputs(
        exercises_regularly=False,
        known_cmr_disease=True,
        symptomatic=False,
        desired_intensity=Intensity.MODERATE,
    )
    run(repo.save(ScreeningRecord(client_id=client.id, screened_on=on, acsm=inputs)))


def test_clearance_received_during_a_program_makes_the_client_active_again():
    from medex.services.intake import SaveClearance, save_clearance

    repo = InMemoryRepository()
    client = _client(repo)
    _start(repo, client, "2025-01-06")
    _screened_needing_clearance(repo, client, date(2025, 3, 1))
    run(repo.save(run(repo.get(Client, client.id)).model_copy(update={"status": P})))
    old = SaveClearance(
        client_id=client.id, today=TODAY, requested_on="2024-01-02", received_on="2024-01-20"
    )
    run(save_clearance(repo, old))  # older than the screening: still pending
    assert run(repo.get(Client, client.id)).status is P
    new = SaveClearance(
        client_id=client.id, today=TODAY, requested_on="2025-03-01", received_on="2025-03-05"
    )
    run(save_clearance(repo, new))
    assert run(repo.get(Client, client.id)).status is A


def test_a_new_referral_brings_a_discharged_client_back_as_referred():
    from medex.intake import ReferringProvider
    from medex.services.intake import RecordReferral, record_referral

    repo = InMemoryRepository()
    client = _client(repo)
    provider = ReferringProvider(name="Robert Okafor", credentials="MD")
    run(repo.save(client.model_copy(update={"status": D}), provider))
    command = RecordReferral(
        client_id=client.id,
        today=TODAY,
        provider_id=provider.id,
        referred_on="2025-05-20",
        reason="Second knee",
        diagnoses=[
            {"code": "M17.12", "description": "Unilateral primary osteoarthritis, left knee"}
        ],
    )
    run(record_referral(repo, command))
    assert run(repo.get(Client, client.id)).status is R


@pytest.mark.parametrize(
    ("screened", "clearance", "outstanding"),
    [
        (None, None, False),  # no screening on file
        (date(2025, 3, 1), None, True),
        (date(2025, 3, 1), ("2025-03-01", ""), True),  # asked, not received yet
        (date(2025, 3, 1), ("2024-01-02", "2024-01-20"), True),  # older than the screening
        (date(2025, 3, 1), ("2025-03-01", "2025-03-01"), False),  # the same day counts
        (date(2025, 3, 1), ("2025-03-01", "2025-03-05"), False),
    ],
)
def test_signing_reads_the_outstanding_clearance_as_the_client_file_does(
    screened, clearance, outstanding
):
    """Signing moves the status with the clearance it loaded to sign: the same answer as the
    client's file gives, so the file is not read again on every signature."""
    from medex.services.intake import SaveClearance, load_client_file, save_clearance
    from medex.services.sessions import load_clearance_context

    repo = InMemoryRepository()
    client = _client(repo)
    if screened:
        _screened_needing_clearance(repo, client, screened)
    if clearance:
        asked, received = clearance
        run(
            save_clearance(
                repo,
                SaveClearance(
                    client_id=client.id, today=TODAY, requested_on=asked, received_on=received
                ),
            )
        )
    file = run(load_client_file(repo, client.id))
    context = run(load_clearance_context(repo, client.id))
    assert file.clearance_outstanding is outstanding
    assert context.clearance_outstanding is outstanding


def test_signing_with_a_reason_while_clearance_is_outstanding_keeps_the_client_pending():
    from medex.services.sessions import sign_session_log
    from medex.session_logs import SessionLog

    repo = InMemoryRepository()
    client = _client(repo)
    _screened_needing_clearance(repo, client, date(2025, 3, 1))
    run(repo.save(run(repo.get(Client, client.id)).model_copy(update={"status": R})))
    log = SessionLog(
        client_id=client.id,
        session_date=date(2025, 3, 10),
        clearance_override_reason="Physician cleared by phone; letter to follow",
    )
    run(sign_session_log(repo, log, signed_by="Dana Reyes"))
    assert run(repo.get(Client, client.id)).status is P
