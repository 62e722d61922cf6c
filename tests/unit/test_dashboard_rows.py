"""The home screen reads one compact row per client (``medex.dashboard_row``), kept in step
with every write: after random writes of every kind the stored rows are what a full
recomputation from the records gives, the home screen built from them is the one built from
every store as before (same items, same wording, same order), and it reads none of the
client-sized stores."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from medex.client_summary import ClientSummary
from medex.dashboard import DashboardItem, ordered
from medex.dashboard_row import COMPLETE_ID, DashboardRow, wall_micros
from medex.focus import caseload_by_program
from medex.intake import Client
from medex.practice_setup import setup_checklist
from medex.programs import Episode
from medex.repository import WriteRefused
from medex.services import dashboard_rows as rows_service
from medex.services.documents import documents_dashboard
from medex.services.focus import focus_dashboard
from medex.services.home import home_page, retention_risks, setup_facts
from medex.services.intake import intake_dashboard
from medex.services.outcomes import reassessment_dashboard
from medex.services.schedule import scheduled
from medex.services.sessions import sign_session_log, unsigned_logs_dashboard
from medex.services.summaries import client_summaries
from medex.session_logs import Attendance, SessionLog
from medex.stores import by_store
from tests.support.aio import run
from tests.support.fakes import DataRepo, FakeSigner
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


def _shifted(value: str, days: int) -> str:
    return (date.fromisoformat(value) + timedelta(days=days)).isoformat()


CHANGES = {
    "clients": lambda d, rng: {
        "status": rng.choice(["referred", "onboarding", "active", "discharged"]),
        "last_name": rng.choice(["Lee", "Zhou", "Abbott"]),
    },
    "referrals": lambda d, rng: {
        "focus_decision": rng.choice([None, "accepted"]),
        "referred_on": _shifted(d["referred_on"], -rng.randrange(0, 9)),
        "diagnoses": rng.choice([d["diagnoses"], [{"code": "Z99.89", "description": "Other"}]]),
    },
    "screenings": lambda d, rng: {"screened_on": _shifted(d["screened_on"], -rng.randrange(9))},
    "clearances": lambda d, rng: {"received_on": rng.choice([None, d.get("received_on")])},
    "goals": lambda d, rng: {"recorded_on": _shifted(d["recorded_on"], -1)},
    "episodes": lambda d, rng: {
        "start_date": _shifted(d["start_date"], -rng.randrange(0, 30)),
        **(
            {
                "status": "discharged",
                "discharge_date": TODAY.isoformat(),
                "discharge_reason": "client_request",
            }
            if rng.random() < 0.3
            else {}
        ),
    },
    "session_logs": lambda d, rng: {
        "session_date": _shifted(d["session_date"], rng.randrange(-20, 5)),
    },
    "assessments": lambda d, rng: {"assessed_on": _shifted(d["assessed_on"], -rng.randrange(20))},
    "documents": lambda d, rng: {"document_date": _shifted(d["document_date"], 2)},
    "schedules": lambda d, rng: {"starts_on": _shifted(d["starts_on"], -7)},
    "consents": lambda d, rng: {"signed_on": d["signed_on"]},
    "health_histories": lambda d, rng: {},
}


def _model(store: str):
    import importlib

    module, name = by_store()[store].models[0].rsplit(".", 1)
    return getattr(importlib.import_module(f"medex.{module}"), name)


def random_write(repo, rng: random.Random) -> None:
    store = rng.choice([*sorted(rows_service.ROW_INPUTS), *["session_logs"] * 4])
    docs = [json.loads(t) for t in repo.stores.get(store, {}).values()]
    clients = list(repo.stores["clients"])
    if not docs:
        return
    doc = rng.choice(docs)
    model = _model(store)
    action = rng.choice(["copy", "change", "change", "delete"])
    try:
        if store == "session_logs" and action == "copy":  # a new log, then perhaps signed
            log = SessionLog(
                client_id=rng.choice(clients),
                session_date=TODAY - timedelta(days=rng.randrange(-3, 60)),
                start_time=time(rng.randrange(7, 19), 0),
                attendance=rng.choice(list(Attendance)),
                attendance_reason="Unwell",
                episode_id=rng.choice(
                    [None, *(json.loads(t)["id"] for t in repo.stores["episodes"].values())]
                ),
            )
            run(repo.save(log))
            if rng.random() < 0.4:
                run(sign_session_log(repo, log, signer=FakeSigner(), now=NOW))
            return
        if action == "delete" and store != "clients":
            run(repo.delete(model, doc["id"]))
            return
        update = CHANGES[store](doc, rng)
        if action == "copy" and store != "clients":
            doc = {k: v for k, v in doc.items() if k not in ("_rev", "_signed")}
            update = {**update, "id": str(uuid.uuid4()), "client_id": rng.choice(clients)}
            for key in ("key_id", "key_signature", "signature", "signed_at", "signed_by"):
                doc.pop(key, None)
        record = model.model_validate({**doc, **update}, context={"today": TODAY})
        run(repo.save(record))
    except (ValidationError, WriteRefused, ValueError):
        pass  # a signed record, or a change the records refuse: nothing written


def test_writes_of_every_kind_keep_the_rows_and_the_home_screen_in_step(demo):
    run(home_page(demo, TODAY, NOW))  # the seeded practice's rows marked complete
    rng = random.Random(3)
    for step in range(90):
        random_write(demo, rng)
        assert_rows_in_step(demo)
        if step % 10 == 9:
            assert_home_matches(demo)
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


def test_wall_micros_is_exact():
    moment = datetime(2026, 3, 10, 23, 59, 59, 999_999)
    assert wall_micros(moment) - wall_micros(moment - timedelta(microseconds=1)) == 1
    assert wall_micros(datetime(1970, 1, 2)) == 86_400_000_000
