"""The home screen reads one compact row per client (``medex.dashboard_row``), kept in step
with every write: after random writes of every kind the stored rows are what a full
recomputation from the records gives, the home screen built from them is the one built from
every store as before (same items, same wording, same order), and it reads none of the
client-sized stores."""

from __future__ import annotations

import bisect
import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from medex.client_summary import ClientSummary
from medex.dashboard import DashboardItem, ordered
from medex.dashboard_row import (
    COMPLETE_ID,
    INSTANT_DIGITS,
    ROW_VERSION,
    DashboardRow,
    count_before,
    packed_instant,
    wall_micros,
)
from medex.documents import documents_owed
from medex.focus import caseload_by_program
from medex.intake import Client, ReferringProvider
from medex.practice_setup import setup_checklist
from medex.programs import Episode
from medex.services import dashboard_rows as rows_service
from medex.services.documents import documents_dashboard
from medex.services.focus import focus_dashboard
from medex.services.home import home_page, retention_risks, setup_facts
from medex.services.intake import intake_dashboard
from medex.services.outcomes import reassessment_dashboard
from medex.services.schedule import scheduled
from medex.services.sessions import unsigned_logs_dashboard
from medex.services.summaries import client_summaries
from tests.support.aio import run
from tests.support.fakes import DataRepo, FakeSigner
from tests.support.random_writes import random_writes
from tests.support.seeders import seed_demo_practice

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo():
    repo = DataRepo()
    seed_demo_practice(repo, TODAY, signer=FakeSigner())
    return repo


def in_key_order(repo) -> None:
    """Each store's records in key order, as IndexedDB gives them (the in-memory repository
    keeps them in the order written)."""
    repo.stores = {s: dict(sorted(docs.items())) for s, docs in repo.stores.items()}


def full_home(repo, today: date, now: datetime) -> dict:
    """The home screen's content recomputed from every store, as the home screen used to."""
    in_key_order(repo)
    clients = run(repo.list(Client))
    summaries = run(client_summaries(repo, clients))
    names = {c.id: c.full_name for c in clients}
    owed = run(intake_dashboard(repo))
    owed += run(unsigned_logs_dashboard(repo, now, client_names=names, summaries=summaries))
    owed += run(reassessment_dashboard(repo, today, summaries=summaries))
    owed += run(documents_dashboard(repo, today, summaries=summaries))
    owed += run(focus_dashboard(repo))
    signed = sum(s.signed_logs for s in summaries.values())
    return {
        "owed": ordered(owed),
        "risks": run(retention_risks(repo, today, clients=clients, summaries=summaries)),
        "setup": setup_checklist(run(setup_facts(repo, now, signed_sessions=signed))),
        "caseload": caseload_by_program(run(repo.list(Episode))),
        "clients": len(clients),
        "today": run(scheduled(repo, today, today, today, summaries=summaries)),
    }


def rows_home(repo, today: date, now: datetime) -> dict:
    page = run(home_page(repo, today, now))
    return {
        "owed": page.owed,
        "risks": page.risks,
        "setup": page.setup,
        "caseload": page.caseload,
        "clients": page.clients,
        "today": page.today,
    }


def assert_home_matches(repo) -> None:
    for today, now in (
        (TODAY, NOW),
        (TODAY + timedelta(days=9), NOW + timedelta(days=9)),
        (TODAY - timedelta(days=40), NOW - timedelta(days=40)),
    ):
        got, expected = rows_home(repo, today, now), full_home(repo, today, now)
        for part, value in expected.items():
            assert got[part] == value, (part, today)


def assert_rows_in_step(repo) -> None:
    held = {r.id: r for r in run(repo.list(DashboardRow)) if r.id != COMPLETE_ID}
    for row in run(rows_service.recomputed_rows(repo)):
        assert rows_service.same_row(held.get(row.id), row), row.name or row.id


# -- the home screen from the rows is the home screen from every store ---------------------------


def test_the_demo_home_screen_is_the_same_from_the_rows(demo):
    assert_rows_in_step(demo)
    page = rows_home(demo, TODAY, NOW)
    assert page["owed"] and page["risks"] and page["today"] and page["caseload"]
    assert {i.kind for i in page["owed"]} >= {"unsigned_log", "report", "focus"}
    assert_home_matches(demo)


def test_writes_of_every_kind_keep_the_rows_and_the_home_screen_in_step(demo):
    run(home_page(demo, TODAY, NOW))  # the seeded practice's rows marked complete
    steps = iter(range(90))

    def check() -> None:
        assert_rows_in_step(demo)
        if next(steps) % 10 == 9:
            assert_home_matches(demo)

    random_writes(demo, seed=3, n=90, after_each=check)
    assert_home_matches(demo)


def test_a_new_client_gets_a_row_with_the_write(demo):
    client = Client(first_name="Ida", last_name="Moss", date_of_birth="1950-01-02", sex="female")
    run(demo.save(client))
    row = run(demo.get(DashboardRow, client.id))
    assert row is not None and row.name == "Ida Moss" and row.status == "referred"
    assert not row.ready
    assert_rows_in_step(demo)


def test_only_the_items_shown_are_made_and_the_rest_are_counted(demo):
    device = [
        DashboardItem(kind="storage", title="Storage", severity="info"),
        DashboardItem(kind="setup", title="Profile", severity="urgent"),
    ]
    full = run(home_page(demo, TODAY, NOW, before=device, with_backup=True))
    expected = ordered([*device, *run(home_page(demo, TODAY, NOW)).owed, *full.backup])
    assert full.owed == expected and full.more == 0 and full.backup
    for shown in (0, 1, 3, len(expected) + 5):
        page = run(home_page(demo, TODAY, NOW, before=device, shown=shown, with_backup=True))
        assert page.owed == expected[:shown]
        assert page.more == max(0, len(expected) - shown)


# -- raw writes, missing rows ----------------------------------------------------------------------


def test_a_raw_write_drops_the_rows_it_touches_and_they_come_back_right(demo):
    run(home_page(demo, TODAY, NOW))
    client = run(demo.list(Client))[0]
    renamed = client.model_copy(update={"last_name": "Renamed"}).to_doc()
    bogus = run(demo.get(DashboardRow, client.id)).model_copy(update={"name": "X"}).to_doc()
    run(
        demo.write(
            [
                {"store": "clients", "doc": renamed},
                {"store": DashboardRow.store, "doc": bogus},  # never stored by a raw write
            ],
            [("update", "clients", client.id)],
        )
    )
    held = set(demo.stores[DashboardRow.store])
    assert client.id not in held and COMPLETE_ID not in held
    assert len(held) == 4  # the other clients' rows stay
    assert_home_matches(demo)  # rebuilt on read
    assert_rows_in_step(demo)
    assert COMPLETE_ID in demo.stores[DashboardRow.store]


def test_a_raw_write_that_deletes_drops_every_row(demo):
    run(home_page(demo, TODAY, NOW))
    log_id = next(
        i for i, t in demo.stores["session_logs"].items() if not json.loads(t).get("signed_at")
    )
    run(demo.write([{"store": "session_logs", "delete": log_id}], [("delete", "session_logs", "")]))
    assert demo.stores[DashboardRow.store] == {}
    assert_home_matches(demo)


def test_rows_of_an_older_version_are_rebuilt_when_read(demo):
    run(home_page(demo, TODAY, NOW))
    row_id = next(i for i in demo.stores[DashboardRow.store] if i != COMPLETE_ID)
    doc = json.loads(demo.stores[DashboardRow.store][row_id])
    demo.stores[DashboardRow.store][row_id] = json.dumps({**doc, "row_version": 0, "name": "X"})
    assert all(r.name != "X" for r in run(rows_service.dashboard_rows(demo)))
    assert_rows_in_step(demo)


def test_a_read_only_device_still_gets_correct_rows(demo):
    demo.stores[DashboardRow.store] = {}
    demo.read_only = True
    assert_home_matches(demo)
    assert demo.stores[DashboardRow.store] == {}


# -- what the home screen reads ----------------------------------------------------------------------

BIG = {
    "clients",
    "session_logs",
    "assessments",
    "episodes",
    "client_summaries",
    "health_histories",
    "screenings",
    "clearances",
    "consents",
    "goals",
    "documents",
    "schedules",
    "referrals",
}


def test_the_home_screen_reads_none_of_the_client_sized_stores(demo, monkeypatch):
    run(home_page(demo, TODAY, NOW))  # rows complete
    whole: list[str] = []
    real_project, real_find, real_list = demo.project, demo.find, demo.list

    async def project(model, store, where=None):
        if where is None and set(model.model_fields) - {"id", "provider_id", "referred_on"}:
            whole.append(store)  # the partners' referral dates: two fields of each
        return await real_project(model, store, where)

    async def find(model, field, value):
        whole.append(model.store)
        return await real_find(model, field, value)

    async def listed(model):
        whole.append(model.store)
        return await real_list(model)

    monkeypatch.setattr(demo, "project", project)
    monkeypatch.setattr(demo, "find", find)
    monkeypatch.setattr(demo, "list", listed)
    page = run(home_page(demo, TODAY, NOW))
    assert page.clients == 5 and page.owed
    assert not set(whole) & BIG, set(whole) & BIG
    assert DashboardRow.store in whole


# -- the compact facts -------------------------------------------------------------------------------


def test_late_unsigned_logs_are_counted_from_the_rows_as_from_the_summary(demo):
    for summary in run(demo.list(ClientSummary)):
        row = run(demo.get(DashboardRow, summary.id))
        moments = [p.due_by for p in summary.unsigned]
        for wall in [
            *moments,
            *(m + timedelta(microseconds=1) for m in moments),
            NOW.replace(tzinfo=None),
        ]:
            count, oldest, since = summary.late(wall)
            got = row.late(wall)
            assert (got[0], got[2]) == (count, since)
            assert (got[1].id if got[1] else None) == (oldest.id if oldest else None)


def test_a_report_owed_comes_up_falls_due_and_turns_urgent_as_days_pass_without_a_write(demo):
    """The rows hold the reports each client will owe with the days they come up and fall
    due, never whether they are owed on the day the row was written."""
    run(home_page(demo, TODAY, NOW))  # rows complete
    row, (kind, owed_from, due_on) = max(
        ((r, o) for r in run(rows_service.dashboard_rows(demo)) for o in r.owed if o[1] < o[2]),
        key=lambda pair: pair[1][2],
    )
    assert owed_from <= TODAY < due_on  # comes up before the rows were read, falls due after
    held = {s: dict(docs) for s, docs in demo.stores.items()}

    def report(day: date) -> list[DashboardItem]:
        now = NOW + (day - TODAY)
        page = run(home_page(demo, day, now))
        assert page.owed == full_home(demo, day, now)["owed"], day
        return [i for i in page.owed if i.kind == "report" and row.name in i.title]

    assert report(owed_from - timedelta(days=1)) == []
    coming = report(owed_from)
    assert [i.severity for i in coming] == ["info"] and "due by" in coming[0].title
    today = report(due_on)
    assert [i.severity for i in today] == ["due"] and "due today" in today[0].title
    late = report(due_on + timedelta(days=1))
    assert [i.severity for i in late] == ["urgent"] and "overdue since" in late[0].title
    assert demo.stores == held  # nothing was written: the same rows on every day
    assert kind in late[0].link.params.get("kind", "")


def test_the_rows_reports_owed_are_the_due_rules_on_every_day(demo):
    run(home_page(demo, TODAY, NOW))
    random_writes(demo, seed=8, n=40)
    providers = {p.id: p for p in run(demo.list(ReferringProvider))}
    for row in run(rows_service.dashboard_rows(demo)):
        provider = providers.get(row.provider_id)
        facts = row.loop_facts(
            provider.id if provider else "", provider.display_name if provider else ""
        )
        for offset in range(-60, 61, 2):
            day = TODAY + timedelta(days=offset)
            held = [(k, due) for k, f, due in row.owed if f <= day]
            owed = documents_owed(facts, day) if row.owed_reports() else []
            assert held == [(o.kind.value, o.due_on) for o in owed], (row.name, day)


def test_wall_micros_is_exact():
    moment = datetime(2026, 3, 10, 23, 59, 59, 999_999)
    assert wall_micros(moment) - wall_micros(moment - timedelta(microseconds=1)) == 1
    assert wall_micros(datetime(1970, 1, 2)) == 86_400_000_000


def test_packed_instants_count_as_the_instants_do():
    rng = random.Random(5)
    edges = [datetime(1, 1, 1), datetime(1969, 12, 31, 23, 59, 59), datetime(9999, 12, 31, 23, 59)]
    moments = sorted(
        [*edges]
        + [
            datetime(2026, 3, 10) + timedelta(microseconds=rng.randrange(-(10**14), 10**14))
            for _ in range(60)
        ]
    )
    packed = "".join(packed_instant(m) for m in moments)
    assert len(packed) == len(moments) * INSTANT_DIGITS
    for wall in [
        *moments,
        *(m + timedelta(microseconds=1) for m in moments[:-1]),
        *(m - timedelta(microseconds=1) for m in moments[1:]),
    ]:
        assert count_before(packed, wall) == bisect.bisect_left(moments, wall), wall
    assert count_before("", NOW.replace(tzinfo=None)) == 0


# -- the home screen's read of the rows: the facts only, never a crash --------------------------------


def test_the_home_screen_reads_the_rows_facts_not_the_stored_records(demo, monkeypatch):
    run(home_page(demo, TODAY, NOW))  # rows complete
    listed: list[str] = []
    real_list = demo.list

    async def counted(model):
        listed.append(model.__name__)
        return await real_list(model)

    monkeypatch.setattr(demo, "list", counted)
    assert_home_matches(demo)
    assert "DashboardRow" not in listed


def _damage(repo, row_id: str, **fields) -> None:
    doc = json.loads(repo.stores[DashboardRow.store][row_id])
    repo.stores[DashboardRow.store][row_id] = json.dumps({**doc, **fields})


def test_a_row_that_does_not_read_as_a_row_makes_them_rebuilt_not_a_crash(demo):
    run(home_page(demo, TODAY, NOW))
    row_id = next(i for i in demo.stores[DashboardRow.store] if i != COMPLETE_ID)
    _damage(demo, row_id, signed_logs="many", unsigned_due=17)
    assert_home_matches(demo)
    assert_rows_in_step(demo)  # the damaged row was stored again, rebuilt
    assert json.loads(demo.stores[DashboardRow.store][row_id])["signed_logs"] != "many"


def test_a_row_of_version_one_reads_and_is_rebuilt(demo):
    run(home_page(demo, TODAY, NOW))
    summary = next(s for s in run(demo.list(ClientSummary)) if s.unsigned)
    due = [wall_micros(p.due_by) for p in summary.unsigned]
    _damage(demo, summary.id, row_version=1, unsigned_due=due)
    old = DashboardRow.model_validate_json(demo.stores[DashboardRow.store][summary.id])
    assert old.unsigned_due == "".join(packed_instant(p.due_by) for p in summary.unsigned)
    assert_home_matches(demo)
    assert_rows_in_step(demo)
    assert json.loads(demo.stores[DashboardRow.store][summary.id])["row_version"] == ROW_VERSION
