"""Issue 13, point 1: sessions count against the program. A session belongs to the client's
episode of care on its date; the package's "sessions used" counts the attended ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from medex.intake import Client
from medex.programs import Episode, default_program, episode_on, in_episode
from medex.repository import InMemoryRepository
from medex.services.outcomes import StartEpisode, client_outcomes, start_episode
from medex.services.sessions import save_draft_log, start_session
from medex.session_logs import Attendance, SessionLog
from tests.support.aio import run

START = date(2026, 1, 5)


def episode(start=START, discharged=None, **kw) -> Episode:
    data = {
        "client_id": "00000000-0000-4000-8000-000000000001",
        "program": default_program("post_tkr").snapshot(),
        "start_date": start,
        **kw,
    }
    if discharged:
        data.update(
            status="discharged",
            discharge_date=discharged,
            discharge_reason="criteria_met",
        )
    return Episode.model_validate(data)


def test_a_session_belongs_to_the_episode_running_on_its_date():
    old = episode(START - timedelta(days=200), discharged=START - timedelta(days=100))
    current = episode(START)
    assert episode_on([old, current], START + timedelta(days=3)) == current
    assert episode_on([old, current], START - timedelta(days=150)) == old
    assert episode_on([old, current], START - timedelta(days=50)) is None
    assert episode_on([], START) is None


def test_a_session_counts_against_its_episode_or_by_date_when_it_names_none():
    ep = episode(START, discharged=START + timedelta(days=60))
    assert in_episode(ep, ep.id, START - timedelta(days=30))  # it names the episode
    assert not in_episode(ep, "another-episode", START + timedelta(days=1))
    assert in_episode(ep, None, START)  # logged before sessions were tied to episodes
    assert in_episode(ep, None, START + timedelta(days=60))
    assert not in_episode(ep, None, START - timedelta(days=1))
    assert not in_episode(ep, None, START + timedelta(days=61))


def test_four_attended_sessions_are_four_sessions_used_of_the_package():
    repo = InMemoryRepository()
    client = Client(first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female")
    run(repo.save(client))
    ep = run(
        start_episode(
            repo,
            StartEpisode(
                client_id=client.id,
                program_id=default_program("post_tkr").id,
                start_date=START.isoformat(),
                today=START,
            ),
        )
    )
    for week in range(4):
        draft = run(start_session(repo, client.id, START + timedelta(days=7 * week)))
        assert draft.episode_id == ep.id  # the session belongs to the running episode
        run(save_draft_log(repo, draft, now=datetime(2026, 1, 5, tzinfo=UTC)))
    # A cancelled session is not a session used.
    cancelled = run(start_session(repo, client.id, START + timedelta(days=30)))
    cancelled = cancelled.model_copy(
        update={"attendance": Attendance.CANCELLED, "attendance_reason": "Client unwell"}
    )
    run(save_draft_log(repo, SessionLog.model_validate(cancelled.model_dump())))
    outcomes = run(client_outcomes(repo, client.id, START + timedelta(days=31)))
    included = ep.program.sessions_included
    assert outcomes.sessions is not None and outcomes.sessions.used == 4
    assert outcomes.sessions.text.startswith(f"4 of {included} sessions used")
