"""The per-client summaries the home screen reads (``medex.client_summary``) are always what a
full recomputation from the records gives: after the demo practice is built through the use
cases, after every kind of write (log saved, signed, changed, deleted; assessment; episode
started, changed, discharged; attendance recorded; restore), and when one is missing or out of
date. A write whose summary cannot be written stores nothing at all."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from medex.assessments import Assessment
from medex.client_summary import (
    RECENT_DAYS,
    SUMMARY_VERSION,
    AssessmentDate,
    ClientSummary,
    EpisodeDates,
    summarize,
)
from medex.intake import Client
from medex.programs import Episode
from medex.repository import InMemoryRepository, MemoryStore, StaleWriteError, StorageFullError
from medex.retention import LogFact, client_risks
from medex.services import summaries as summaries_service
from medex.services.home import home_page, retention_risks
from medex.services.schedule import RecordAttendance, record_attendance, scheduled
from medex.services.sessions import sign_session_log, unsigned_logs_dashboard
from medex.session_logs import Attendance, SessionLog, SessionLogSummary, unsigned_log_items
from tests.support.aio import run
from tests.support.fakes import DataRepo, FakeSigner
from tests.support.random_writes import random_writes
from tests.support.seeders import seed_demo_practice

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
C = "00000000-0000-4000-8000-000000000001"


def recomputed(repo, client_id: str) -> ClientSummary:
    """The summary from every record of the practice, read whole (what the home screen used to
    walk on every visit)."""
    return summarize(
        client_id,
        run(repo.project(SessionLogSummary, "session_logs")),
        run(repo.project(EpisodeDates, "episodes")),
        run(repo.project(AssessmentDate, "assessments")),
    )


def stored(repo) -> dict[str, ClientSummary]:
    return {s.id: s for s in run(repo.list(ClientSummary))}


def assert_in_step(repo) -> None:
    """Every client's stored summary holds exactly the recomputed facts."""
    clients = run(repo.list(Client))
    held = stored(repo)
    for client in clients:
        assert client.id in held, f"no summary for {client.full_name}"
        assert held[client.id].facts() == recomputed(repo, client.id).facts(), client.full_name


@pytest.fixture
def demo():
    repo = DataRepo()
    seed_demo_practice(repo, TODAY, signer=FakeSigner())
    return repo


# -- the pure function ---------------------------------------------------------------------------


def _log(client=C, day=date(2026, 3, 2), **kw) -> SessionLogSummary:
    return SessionLogSummary(
        id=kw.pop("id", f"log-{day.isoformat()}-{kw.get('attendance', 'a')}"),
        client_id=client,
        session_date=day,
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        **kw,
    )


def test_a_client_without_records_has_an_empty_summary():
    s = summarize(C, [], [], [])
    assert (s.signed_logs, s.unsigned, s.latest_log, s.recent, s.episodes) == (0, [], None, [], [])
    assert s.logs_on(date(2020, 1, 1), date(2030, 1, 1)) == []  # no logs: every day answered


def test_only_the_clients_own_records_count():
    s = summarize(C, [_log(), _log(client="other", id="x")], [], [])
    assert [p.id for p in s.unsigned] == [_log().id]


def test_recent_days_hold_every_log_from_a_day_on_or_answer_none():
    first = date(2026, 1, 1)
    logs = [_log(day=first + timedelta(days=i), id=f"l{i}") for i in range(60)]
    s = summarize(C, logs, [], [])
    assert s.latest_log == first + timedelta(days=59)
    assert s.recent_from == s.latest_log - timedelta(days=RECENT_DAYS)
    assert all(d.session_date >= s.recent_from for d in s.recent)
    assert len(s.recent) == RECENT_DAYS + 1
    assert s.logs_on(s.latest_log, s.latest_log)[0].id == "l59"
    assert s.logs_on(first, first) is None  # older than the summary holds: read the logs
    short = summarize(C, logs[:5], [], [])
    assert short.recent_from is None and short.logs_on(first, first)[0].id == "l0"


def test_episode_parts_follow_the_episode_rules():
    ep = EpisodeDates(id="e1", client_id=C, start_date=date(2026, 2, 1))
    logs = [
        _log(day=date(2026, 1, 20), id="before"),  # before the start, names no episode
        _log(day=date(2026, 2, 3), id="a", episode_id="e1"),
        _log(day=date(2026, 2, 5), id="b"),  # names none, within the dates
        _log(day=date(2026, 2, 7), id="c", attendance=Attendance.NO_SHOW),
        _log(day=date(2026, 2, 9), id="d", package_use="not_counted"),
        _log(day=date(2026, 2, 11), id="other", episode_id="e2"),
    ]
    assessed = [AssessmentDate(id="x", client_id=C, episode_id="e1", assessed_on=date(2026, 2, 4))]
    part = summarize(C, logs, [ep], assessed).episode("e1")
    assert part.attended == 3 and part.last_attended == date(2026, 2, 9)
    assert [d.session_date.day for d in part.last_two] == [7, 9]
    assert part.assessed_on == [date(2026, 2, 4)]
    assert part.counted_since_assessment == [date(2026, 2, 5)]  # not the no-show, not "d"
    # The referral loop's filter: logs naming this episode or none (also the one before).
    assert part.loop.first_visit == date(2026, 1, 20)


# -- in step with every write ----------------------------------------------------------------------


def test_the_demo_practice_is_built_with_every_summary_in_step(demo):
    assert_in_step(demo)


def test_writes_of_every_kind_keep_the_summaries_in_step(demo):
    # The stores a summary is made from, and the clients.
    stores = sorted({*summaries_service.INPUTS, "clients"})
    random_writes(demo, seed=12, n=60, after_each=lambda: assert_in_step(demo), stores=stores)


def test_signing_and_recording_attendance_keep_them_in_step(demo):
    client = next(c for c in run(demo.list(Client)) if c.first_name == "Robert")
    draft = SessionLog(client_id=client.id, session_date=TODAY - timedelta(days=3))
    run(demo.save(draft))
    before = stored(demo)[client.id]
    assert draft.id in [p.id for p in before.unsigned]
    run(sign_session_log(demo, draft, signer=FakeSigner(), now=NOW))
    after = stored(demo)[client.id]
    assert draft.id not in [p.id for p in after.unsigned]
    assert after.signed_logs == before.signed_logs + 1
    run(
        record_attendance(
            demo,
            RecordAttendance(
                client_id=client.id,
                session_date=TODAY,
                attendance=Attendance.CANCELLED,
                reason="Unwell",
                today=TODAY,
            ),
        )
    )
    assert_in_step(demo)
    assert any(d.attendance == Attendance.CANCELLED for d in stored(demo)[client.id].recent)


# -- missing, out of date, restored ------------------------------------------------------------------


def test_a_missing_or_outdated_summary_is_rebuilt_when_read(demo):
    held = stored(demo)
    one, two = list(held)[:2]
    del demo.stores[ClientSummary.store][one]
    old = held[two].model_copy(update={"summary_version": SUMMARY_VERSION - 1, "signed_logs": 999})
    demo.stores[ClientSummary.store][two] = old.model_dump_json()
    read = run(summaries_service.client_summaries(demo))
    assert read[one].facts() == recomputed(demo, one).facts()
    assert read[two].facts() == recomputed(demo, two).facts()
    assert_in_step(demo)  # and stored again


def test_a_read_only_device_still_gets_correct_summaries(demo):
    one = next(iter(stored(demo)))
    del demo.stores[ClientSummary.store][one]
    demo.read_only = True
    read = run(summaries_service.client_summaries(demo))
    assert read[one].facts() == recomputed(demo, one).facts()
    assert one not in stored(demo)


def test_a_raw_write_drops_the_summaries_it_touches_and_they_come_back_right(demo):
    client = run(demo.list(Client))[0]
    log = SessionLog(client_id=client.id, session_date=TODAY - timedelta(days=2))
    untouched = {k: v for k, v in stored(demo).items() if k != client.id}
    bogus = stored(demo)[client.id].model_copy(update={"signed_logs": 999}).to_doc()
    run(
        demo.write(
            [
                {"store": "session_logs", "doc": log.to_doc()},
                {"store": ClientSummary.store, "doc": bogus},  # a backup's: never stored
            ],
            [("create", "session_logs", log.id)],
        )
    )
    assert client.id not in stored(demo)
    assert {k: v.facts() for k, v in stored(demo).items()} == {
        k: v.facts() for k, v in untouched.items()
    }
    run(summaries_service.client_summaries(demo))
    assert_in_step(demo)


def test_a_raw_write_that_deletes_drops_every_summary(demo):
    log = next(lg for lg in run(demo.list(SessionLog)) if not lg.is_signed)
    run(demo.write([{"store": "session_logs", "delete": log.id}], [("delete", "session_logs", "")]))
    assert stored(demo) == {}
    run(home_page(demo, TODAY, NOW))
    assert_in_step(demo)


# -- a write whose summary cannot be written stores nothing ------------------------------------------


class RacedRepository(InMemoryRepository):
    """A tab where another tab saves a log for the same client right after this one read the
    client's summary (so this tab's summary write finds a newer one)."""

    def __init__(self, store: MemoryStore, other: InMemoryRepository, log: SessionLog) -> None:
        super().__init__(store)
        self.other, self.other_log, self.raced = other, log, False

    async def get(self, model, record_id):
        found = await super().get(model, record_id)
        if model is ClientSummary and not self.raced:
            self.raced = True
            await self.other.save(self.other_log)
        return found


def test_a_write_whose_summary_is_stale_leaves_neither_stored(demo):
    client = run(demo.list(Client))[0]
    theirs = SessionLog(client_id=client.id, session_date=TODAY - timedelta(days=1))
    ours = SessionLog(client_id=client.id, session_date=TODAY - timedelta(days=2))
    tab = RacedRepository(demo.db, demo, theirs)
    with pytest.raises(StaleWriteError):
        run(tab.save(ours))
    assert run(demo.get(SessionLog, ours.id)) is None
    assert run(demo.get(SessionLog, theirs.id)) is not None
    assert_in_step(demo)  # the other tab's log is in the summary, this one's is not


def test_a_refused_write_changes_no_summary(demo):
    client = run(demo.list(Client))[0]
    before = stored(demo)[client.id].facts()
    demo.fail_next_write = StaleWriteError("session_logs", "x")
    with pytest.raises(StaleWriteError):
        run(demo.save(SessionLog(client_id=client.id, session_date=TODAY)))
    assert stored(demo)[client.id].facts() == before


# -- the readers give what the whole logs give -------------------------------------------------------


def test_late_signatures_from_summaries_match_the_whole_logs(demo):
    for c in run(demo.list(Client))[:3]:
        for k in range(3):
            run(demo.save(SessionLog(client_id=c.id, session_date=TODAY - timedelta(days=5 + k))))
    names = {c.id: c.full_name for c in run(demo.list(Client))}
    whole = unsigned_log_items(
        run(demo.project(SessionLogSummary, "session_logs")), NOW, names, None
    )
    assert run(unsigned_logs_dashboard(demo, NOW, names)) == whole
    assert len(whole) >= 3


def test_retention_with_a_session_dated_after_today_reads_the_logs(demo):
    clients = run(demo.list(Client))
    episodes = [e for e in run(demo.list(Episode)) if e.is_active]
    ep = episodes[0]
    run(
        demo.save(
            SessionLog(
                client_id=ep.client_id,
                episode_id=ep.id,
                session_date=TODAY + timedelta(days=3),
                attendance=Attendance.NO_SHOW,
            )
        )
    )
    name = next(c.full_name for c in clients if c.id == ep.client_id)
    logs = [
        LogFact(lg.session_date, lg.attendance, lg.episode_id)
        for lg in run(demo.project(SessionLogSummary, "session_logs"))
        if lg.client_id == ep.client_id
    ]
    assessed = [a.assessed_on for a in run(demo.find(Assessment, "client_id", ep.client_id))]
    for day in (TODAY, TODAY + timedelta(days=20)):
        expected = client_risks(ep.client_id, name, ep, logs, assessed, day)
        got = [r for r in run(retention_risks(demo, day)) if r.client_id == ep.client_id]
        assert got == expected


def test_the_schedule_of_a_day_older_than_the_summary_holds_reads_the_logs(demo):
    recent = run(scheduled(demo, TODAY - timedelta(days=7), TODAY, TODAY))
    long_ago = run(scheduled(demo, TODAY - timedelta(days=70), TODAY - timedelta(days=60), TODAY))
    logged = {lg.id for lg in run(demo.list(SessionLog))}
    assert any(r.log_id for r in recent)
    assert all(r.log_id in logged for r in recent + long_ago if r.log_id)


def test_the_home_screen_reads_no_session_log(demo, monkeypatch):
    reads: list[str] = []
    real_project, real_find, real_list = demo.project, demo.find, demo.list

    async def project(model, store, where=None):
        reads.append(store)
        return await real_project(model, store, where)

    async def find(model, field, value):
        reads.append(model.store)
        return await real_find(model, field, value)

    async def listed(model):
        reads.append(model.store)
        return await real_list(model)

    monkeypatch.setattr(demo, "project", project)
    monkeypatch.setattr(demo, "find", find)
    monkeypatch.setattr(demo, "list", listed)
    page = run(home_page(demo, TODAY, NOW))
    assert page.clients == 5
    assert "session_logs" not in reads and "assessments" not in reads


def test_a_read_only_repository_refuses_a_save_before_reading_anything_for_its_summary():
    """Full or closed storage: the save is refused as such at once (never a failed read of
    the summary first, which the app could not tell from any other error)."""
    repo = InMemoryRepository()
    client = Client(first_name="Ann", last_name="Lee", date_of_birth="1952-08-01", sex="female")
    run(repo.save(client))
    repo.read_only = True
    reads = []
    original = repo.get

    async def counted(model, record_id):
        reads.append((model.store, record_id))
        return await original(model, record_id)

    repo.get = counted  # type: ignore[method-assign]
    renamed = client.model_copy(update={"last_name": "Leigh"})
    with pytest.raises(StorageFullError):
        run(repo.save(renamed))
    with pytest.raises(StorageFullError):
        run(repo.delete(Client, client.id))
    assert reads == []
