"""The client list and its search stay as quick at 1,000 clients as at 50: the search index and
every client's readiness are prepared once (``services.intake.prepared_clients``) and reused
until a record they are made from changes — in this tab, in another tab, or on a lock — and
the list shows a bounded number of rows with the exact count of matches."""

from __future__ import annotations

import html as htmllib
import itertools
import random
import re
from datetime import date, timedelta

import pytest

from app import clock, core
from medex.dashboard_row import DashboardRow
from medex.health import HealthHistory
from medex.intake import Client, ClientStatus, Consent, ConsentKind, Goals, Referral
from medex.repository import InMemoryRepository, MemoryStore
from medex.screening import Clearance, ScreeningRecord
from medex.services.client_list import LIST_STORES, client_list
from medex.services.intake import (
    ChangeStatus,
    ClientFile,
    ClientIndex,
    change_status,
    is_ready,
    onboarding_checklist,
)
from medex.stores import by_store
from tests.support.aio import run
from tests.support.fakes import DataRepo, FakePlatform, FakeSigner
from tests.support.pages import Elements
from tests.support.seeders import GOOD, seed_demo_practice

TODAY = date(2026, 3, 10)
LAST = ["López", "Smith", "O'Neil", "Nguyen", "Schmidt", "Patel", "Brown", "Kim", "García"]
FIRST = ["Ana", "Bob", "Chloé", "Dev", "Eve", "Farid", "Gus", "Hana", "Ivan", "Jo", "Karl"]


def people(n: int, seed: int = 1) -> list[Client]:
    rng = random.Random(seed)
    return [
        Client(
            sex="female",
            first_name=rng.choice(FIRST),
            last_name=rng.choice(LAST),
            date_of_birth=date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
        )
        for i in range(n)
    ]


class CountingRepository(InMemoryRepository):
    """Counts the whole-store reads (``list`` and ``project``) a query makes."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        super().__init__(store)
        self.reads = 0

    async def list(self, model):
        self.reads += 1
        return await super().list(model)

    async def project(self, model, store, where=None):
        self.reads += 1
        return await super().project(model, store, where)


def practice(n: int) -> CountingRepository:
    repo = CountingRepository()
    run(repo.save(*people(n)))
    return repo


# -- prepared once, reused until a record changes ----------------------------------------------------


def test_a_search_reads_and_rebuilds_nothing_once_the_list_is_prepared():
    repo = practice(30)
    first = run(client_list(repo))  # the dashboard rows are completed by this first read
    assert repo.reads > 0 and first.total == 30
    run(client_list(repo))
    repo.reads = 0
    for query in ("lo", "lopez an", "ana lo", "", "zz"):
        run(client_list(repo, query, limit=100))
    run(client_list(repo, "", ClientStatus.REFERRED.value, "", True))
    assert repo.reads == 0


def test_a_client_saved_in_this_tab_is_found_at_once():
    repo = practice(5)
    run(client_list(repo, "zed"))
    zed = Client(sex="female", first_name="Zed", last_name="Zorro", date_of_birth=date(1950, 1, 1))
    run(repo.save(zed))
    found = run(client_list(repo, "zed"))
    assert [c.id for c in found.clients] == [zed.id] and found.total == 6


def test_a_status_changed_in_this_tab_filters_at_once():
    repo = practice(5)
    client = run(repo.list(Client))[0]
    assert run(client_list(repo, status="discharged")).matches == 0
    run(change_status(repo, ChangeStatus(client_id=client.id, status="discharged", today=TODAY)))
    found = run(client_list(repo, status="discharged"))
    assert [c.id for c in found.clients] == [client.id]


def test_a_client_saved_in_another_tab_is_found():
    store = MemoryStore()
    tab, other = CountingRepository(store), InMemoryRepository(store)
    run(tab.save(*people(5)))
    run(client_list(tab))
    assert run(client_list(tab)).total == 5 and tab.memos  # prepared and kept
    zed = Client(sex="female", first_name="Zed", last_name="Zorro", date_of_birth=date(1950, 1, 1))
    run(other.save(zed))  # another tab: this one's repository wrote nothing
    assert [c.id for c in run(client_list(tab, "zorro")).clients] == [zed.id]


def test_a_list_read_while_another_tab_wrote_is_not_kept():
    store = MemoryStore()
    other = InMemoryRepository(store)
    zed = Client(sex="female", first_name="Zed", last_name="Zorro", date_of_birth=date(1950, 1, 1))

    class Raced(CountingRepository):
        """Another tab saves a client right after this tab read the rows (once armed)."""

        armed = False

        async def project(self, model, store, where=None):
            found = await super().project(model, store, where)
            if self.armed and store == DashboardRow.store:
                self.armed = False
                await other.save(zed)
            return found

    tab = Raced(store)
    run(tab.save(*people(3)))
    run(client_list(tab))
    run(client_list(tab))
    assert tab.memos  # prepared and kept
    run(tab.save(people(1, seed=2)[0]))  # a write here: prepared again at the next read …
    tab.armed = True
    assert run(client_list(tab)).total == 4  # … read before the other tab's save
    assert run(client_list(tab)).total == 5  # so not kept: read again


def test_a_lock_forgets_the_prepared_list():
    repo = practice(3)
    run(client_list(repo))
    run(client_list(repo))
    assert repo.memos
    repo.forget()
    assert repo.memos == {}
    repo.reads = 0
    run(client_list(repo))
    assert repo.reads > 0


def test_the_list_is_prepared_from_stores_that_exist():
    assert set(LIST_STORES) <= set(by_store())


# -- readiness, from the records each client's checklist reads -------------------------------------


@pytest.fixture(scope="module")
def demo():
    repo = DataRepo()
    seed_demo_practice(repo, TODAY, signer=FakeSigner())
    return repo


def test_readiness_follows_a_deleted_intake_record(demo):
    listed = run(client_list(demo))
    ready = [c for c in listed.clients if listed.ready[c.id]]
    assert ready, "the demo practice has clients ready for a first session"
    client = ready[0]
    goals = run(demo.find(Goals, "client_id", client.id))
    for g in goals:
        run(demo.delete(Goals, g.id))
    after = run(client_list(demo, "", "", "", True))
    assert client.id in [c.id for c in after.clients] and after.ready[client.id] is False
    run(demo.save(*(g.model_copy(update={"id": g.id}) for g in goals[:1])))
    assert run(client_list(demo)).ready[client.id] is True


def test_is_ready_is_every_checklist_step_done():
    c = Client(sex="female", first_name="Ana", last_name="López", date_of_birth=date(1958, 3, 10))
    acsm = {"exercises_regularly": False, "symptomatic": False, "desired_intensity": "light"}
    screenings = [
        None,
        ScreeningRecord(
            client_id=c.id, screened_on=TODAY, acsm={**acsm, "known_cmr_disease": False}
        ),
        ScreeningRecord(
            client_id=c.id, screened_on=TODAY, acsm={**acsm, "known_cmr_disease": True}
        ),
    ]
    clearances = [
        None,
        Clearance(client_id=c.id, requested_on=TODAY),
        Clearance(client_id=c.id, requested_on=TODAY, received_on=TODAY),
        Clearance(
            client_id=c.id,
            requested_on=TODAY - timedelta(days=40),
            received_on=TODAY - timedelta(days=30),
        ),
    ]
    consent = {
        k: Consent(client_id=c.id, kind=k, text="x", signed_name="A", signed_on=TODAY)
        for k in ConsentKind
    }
    consents = [[], [consent[ConsentKind.INFORMED_CONSENT]], list(consent.values())]
    goals = Goals(client_id=c.id, recorded_on=TODAY, activities=[{"activity": "a", "score": 1}] * 3)
    referral = Referral(client_id=c.id, provider_id="p1", referred_on=TODAY)
    seen = set()
    for refs, history, screening, clearance, signed, goal, assessed, program in itertools.product(
        [[], [referral]],
        [None, HealthHistory(client_id=c.id)],
        screenings,
        clearances,
        consents,
        [None, goals],
        [False, True],
        [False, True],
    ):
        file = ClientFile(
            client=c,
            referrals=refs,
            history=history,
            screening=screening,
            clearance=clearance,
            consents=signed,
            goals=goal,
            assessment_done=assessed,
            program_chosen=program,
        )
        expected = all(item.done for item in onboarding_checklist(file))
        assert is_ready(file) is expected
        seen.add(expected)
    assert seen == {True, False}


# -- a bounded list, an exact count --------------------------------------------------------------------


def test_the_list_shows_the_first_rows_by_last_name_and_counts_every_match():
    repo = practice(250)
    found = run(client_list(repo, limit=100))
    assert len(found.clients) == 100 and found.matches == 250 and found.total == 250
    everyone = run(client_list(repo))
    assert [c.id for c in everyone.clients[:100]] == [c.id for c in found.clients]
    names = [(c.last_name, c.first_name) for c in everyone.clients]
    index = ClientIndex.build(run(repo.list(Client)))
    assert [c.id for c in index.search()] == [c.id for c in everyone.clients]
    assert len(names) == 250
    garcia = run(client_list(repo, "garcia", limit=10))
    every_garcia = [c for c in run(repo.list(Client)) if c.last_name == "García"]
    assert garcia.matches == len(every_garcia) > 10 and len(garcia.clients) == 10
    assert all(c.last_name == "García" for c in garcia.clients)
    not_ready = run(client_list(repo, "", "", "", True, limit=5))
    assert not_ready.matches == 250 and len(not_ready.clients) == 5


def test_search_still_matches_both_name_orders_and_accents():
    repo = CountingRepository()
    ana = Client(sex="female", first_name="Ana", last_name="López", date_of_birth=date(1958, 3, 10))
    chloe = Client(
        sex="female", first_name="Chloé", last_name="O'Neil", date_of_birth=date(1960, 1, 1)
    )
    run(repo.save(ana, chloe))
    for query in ("lopez an", "ana lo", "LÓPEZ", "lóp"):
        assert [c.id for c in run(client_list(repo, query)).clients] == [ana.id], query
    for query in ("chloe", "o neil", "neil chl"):
        assert [c.id for c in run(client_list(repo, query)).clients] == [chloe.id], query
    assert run(client_list(repo, "na lopez")).clients == []  # "na" starts no word of hers


@pytest.fixture
def app(monkeypatch):
    core.load_screens()
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    a = core.App(InMemoryRepository(), FakePlatform())
    run(a.load())
    run(a.dispatch("save-profile", dict(GOOD)))
    run(a.repo.save(*people(130)))
    return a


def rows(page: Elements) -> int:
    return page.text["client-list"].count("Not ready")


def show_all(markup: str) -> str:
    found = re.search(r'<a href="([^"]*)"[^>]*id="show-all-clients"', markup)
    assert found, "no Show all link"
    return htmllib.unescape(found.group(1))


def test_the_screen_shows_a_hundred_rows_and_a_link_to_all_of_them(app):
    app.navigate("#/clients")
    markup = run(app.html())
    page = Elements(markup)
    assert rows(page) == 100
    assert page.text["client-count"].startswith("The first 100 of 130 clients, by last name")
    assert page.text["show-all-clients"] == "Show all 130"
    app.navigate(show_all(markup))
    page = Elements(run(app.html()))
    assert rows(page) == 130 and page.text["client-count"] == "130 of 130 client(s)"
    assert "show-all-clients" not in page.text


def test_show_all_keeps_the_search(app):
    garcia = [c for c in run(app.repo.list(Client)) if c.last_name == "García"]
    app.navigate("#/clients")
    run(app.dispatch("search-clients", {"q": "garcia"}))
    page = Elements(run(app.html()))
    assert page.text["client-count"] == f"{len(garcia)} of 130 client(s)"
    run(app.dispatch("search-clients", {"q": "", "ready": "no"}))
    markup = run(app.html())
    assert "The first 100 of 130 clients" in Elements(markup).text["client-count"]
    assert "ready=no" in show_all(markup)
    app.navigate(show_all(markup))
    markup = run(app.html())
    assert rows(Elements(markup)) == 130
    assert '<option value="no" selected>' in markup
