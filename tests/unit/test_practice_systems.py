"""The practice's own systems: the demo practice, the set-up checklist until referral-ready,
focus (referrals outside the practice's programs, caseload by program), retention risks and
the home screen's one query."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app import core
from medex.demo import CLIENTS, PROFILE, build_demo_practice
from medex.demo_marker import DEMO_META_KEY
from medex.focus import caseload_by_program, outside_programs
from medex.intake import Client
from medex.practice_setup import BACKUP_ROUTINE_DAYS, SetupFacts, setup_checklist
from medex.programs import DEFAULT_PROGRAMS, Episode, default_program
from medex.retention import NEARLY_USED, QUIET_DAYS, LogFact, client_risks
from medex.services.data import backup_meta
from medex.services.home import home_page
from medex.session_logs import Attendance, SessionLog
from medex.signing import SignatureCheck
from tests.support.aio import run
from tests.support.fakes import DataRepo, FakePlatform, FakeSigner
from tests.support.pages import Elements
from tests.support.seeders import GOOD

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# -- focus -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "outside"),
    [
        (["M17.11"], False),  # knee OA: post-TKR program
        (["Z96.651", "J44.9"], False),  # one code in a program is enough
        (["G20.A1"], False),  # Parkinson's
        (["E11.65"], False),
        (["J44.9"], True),  # COPD: no program
        (["I10"], True),
        ([], False),  # no diagnosis yet: nothing to judge
        (["", "  "], False),
    ],
)
def test_a_referral_outside_every_program_is_flagged(codes, outside):
    assert outside_programs(codes, DEFAULT_PROGRAMS) is outside


def test_archived_programs_are_not_offered_so_their_diagnoses_are_outside():
    tkr = default_program("post_tkr").model_copy(update={"archived": True})
    assert outside_programs(["M17.11"], [tkr])
    assert not outside_programs(["M17.11"], [tkr.model_copy(update={"archived": False})])


def _episode(client: str, key: str, start: date, **kw) -> Episode:
    program = default_program(key)
    return Episode.model_validate(
        {
            "client_id": client,
            "program_id": program.id,
            "program": program.snapshot().model_dump(),
            "start_date": start,
            **kw,
        },
        context={"today": TODAY},
    )


def test_caseload_by_program_counts_active_clients_once():
    start = TODAY - timedelta(days=30)
    eps = [
        _episode("a", "post_tkr", start),
        _episode("b", "post_tkr", start),
        _episode("c", "falls_prevention", start),
        _episode(
            "d",
            "parkinsons",
            start,
            status="discharged",
            discharge_date=TODAY,
            discharge_reason="criteria_met",
        ),
    ]
    rows = caseload_by_program(eps)
    assert [(r.name, r.clients) for r in rows] == [
        ("Post total knee replacement", 2),
        ("Falls prevention", 1),
    ]
    assert rows[0].share == pytest.approx(2 / 3)
    assert caseload_by_program([]) == []


# -- the set-up checklist ---------------------------------------------------------------------


def test_an_empty_practice_has_every_step_to_do_and_each_links_to_its_screen():
    checklist = setup_checklist(SetupFacts())
    assert checklist.done == 0 and checklist.total == 9 and not checklist.complete
    assert checklist.next_step is not None and checklist.next_step.key == "profile"
    routes = {s.key: s.link.route for s in checklist.steps}
    assert routes["profile"] == "settings" and routes["backup"] == "data"
    assert routes["partners"] == "provider" and routes["signed_session"] == "session-start"
    for route in routes.values():  # every screen the checklist names exists
        core.load_screens()
        assert route in core.ROUTES or f"route:{route}" in core._LAZY


def test_every_step_done_completes_the_checklist():
    facts = SetupFacts(
        profile_letterhead=True,
        consent_texts_saved=True,
        scope_statement_saved=True,
        programs_priced=1,
        programs_saved=1,
        referral_partners=2,
        introductions_sent=1,
        days_since_backup=0,
        signed_sessions=1,
    )
    checklist = setup_checklist(facts)
    assert checklist.complete and checklist.next_step is None


@pytest.mark.parametrize(
    ("days", "done"),
    [(None, False), (0, True), (BACKUP_ROUTINE_DAYS, True), (BACKUP_ROUTINE_DAYS + 1, False)],
)
def test_the_backup_routine_step_needs_a_recent_backup(days, done):
    steps = {s.key: s for s in setup_checklist(SetupFacts(days_since_backup=days)).steps}
    assert steps["backup"].done is done


def test_the_checklist_follows_the_records():
    repo = DataRepo()
    page = run(home_page(repo, TODAY, NOW))
    assert page.setup is not None and page.setup.done == 0
    from medex.services.practice import SaveProfile, save_practice_profile

    profile = SaveProfile(**{**GOOD, "address": "1 Main St", "phone": "(555) 123-4567"})
    run(save_practice_profile(repo, profile))
    run(repo.set_meta("last_backup", (NOW - timedelta(days=1)).isoformat()))
    page = run(home_page(repo, TODAY, NOW))
    done = {s.key for s in page.setup.steps if s.done}
    assert done == {"profile", "backup"}
    assert page.days_since_backup == 1


def test_a_profile_without_address_or_contact_is_not_a_letterhead_yet():
    repo = DataRepo()
    from medex.services.practice import SaveProfile, save_practice_profile

    run(save_practice_profile(repo, SaveProfile(**{**GOOD, "email": ""})))
    steps = {s.key: s.done for s in run(home_page(repo, TODAY, NOW)).setup.steps}
    assert steps["profile"] is False


# -- retention --------------------------------------------------------------------------------


def _logs(*days_and_attendance):
    return [LogFact(TODAY - timedelta(days=d), a) for d, a in days_and_attendance]


A, C, N = Attendance.ATTENDED, Attendance.CANCELLED, Attendance.NO_SHOW


def _risks(logs, start_ago=40, assessed=(), **ep):
    episode = _episode("c1", "post_tkr", TODAY - timedelta(days=start_ago), **ep)
    return {r.kind: r for r in client_risks("c1", "Ann Lee", episode, logs, assessed, TODAY)}


def test_two_missed_sessions_in_a_row_ask_for_a_call():
    risks = _risks(_logs((10, A), (7, N), (3, C)))
    assert set(risks) == {"missed_sessions"}
    assert [s.label for s in risks["missed_sessions"].steps] == ["Call"]
    # One attended in between: no risk.
    assert "missed_sessions" not in _risks(_logs((10, N), (7, A), (3, C)))


def test_no_session_in_14_days_counts_from_the_last_attended_one():
    assert "no_recent_session" not in _risks(_logs((QUIET_DAYS - 1, A)))
    risk = _risks(_logs((QUIET_DAYS, A)))["no_recent_session"]
    assert f"in {QUIET_DAYS} days" in risk.title
    # Nothing attended since the program started 20 days ago.
    assert "no_recent_session" in _risks([], start_ago=20)
    assert "no_recent_session" not in _risks([], start_ago=5)


def test_a_package_nearly_used_without_a_recent_reassessment_asks_to_reassess():
    included = default_program("post_tkr").sessions_included
    assert included is not None
    used = included - NEARLY_USED
    logs = [LogFact(TODAY - timedelta(days=1 + i // 3), A) for i in range(used)]
    risk = _risks(logs, start_ago=60, assessed=[TODAY - timedelta(days=40)])["package_ending"]
    assert [s.label for s in risk.steps] == ["Reassess", "Print the progress card"]
    assert risk.steps[1].link.params["kind"] == "progress_card"
    # Reassessed last week: no risk; one more session left than the threshold: no risk.
    assert "package_ending" not in _risks(logs, start_ago=60, assessed=[TODAY - timedelta(days=7)])
    assert "package_ending" not in _risks(logs[1:], start_ago=60, assessed=[])


def test_a_discharged_program_has_no_retention_risk():
    risks = _risks(
        _logs((30, N), (25, N)),
        status="discharged",
        discharge_date=TODAY - timedelta(days=20),
        discharge_reason="client_request",
    )
    assert risks == {}


# -- the demo practice ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    repo = DataRepo()
    signer = FakeSigner()
    built = run(build_demo_practice(repo, TODAY, signer=signer))
    return repo, signer, built


def test_the_demo_is_a_realistic_practice(demo):
    repo, _signer, built = demo
    clients = run(repo.list(Client))
    assert len(clients) == len(CLIENTS) == 5
    assert len(built.providers) == 3
    assert built.signed_logs >= 40 and built.documents_sent >= 8
    assert run(repo.get_meta(DEMO_META_KEY)) == {"built_on": TODAY.isoformat()}
    programs = {r.name for r in caseload_by_program(run(repo.list(Episode)))}
    assert programs == {
        "Post total knee replacement",
        "Falls prevention",
        "Type 2 diabetes",
        "Parkinson's disease",
    }


def test_the_demos_signed_logs_verify_with_the_practice_key(demo):
    repo, signer, _built = demo
    from medex.services.sessions import check_log_signatures
    from medex.signing import VerificationCache

    logs = [lg for lg in run(repo.list(SessionLog)) if lg.is_signed]
    checks = run(check_log_signatures(signer, VerificationCache(), logs))
    assert logs and set(checks.values()) == {SignatureCheck.VERIFIED}


def test_the_demo_home_shows_the_day(demo):
    repo, _signer, _built = demo
    page = run(home_page(repo, TODAY, NOW))
    kinds = {r.kind for r in page.risks}
    assert kinds == {"missed_sessions", "no_recent_session"}
    owed = {i.kind for i in page.owed}
    assert {"report", "unsigned_log", "onboarding"} <= owed
    assert page.setup is not None and 0 < page.setup.done < page.setup.total
    assert len(page.caseload) == 4


def test_the_demo_dates_follow_today():
    repo = DataRepo()
    later = TODAY + timedelta(days=200)
    run(build_demo_practice(repo, later))
    newest = max(lg.session_date for lg in run(repo.list(SessionLog)))
    assert newest == later - timedelta(days=2)


def test_a_backup_never_carries_the_demo_mark():
    assert DEMO_META_KEY not in backup_meta({DEMO_META_KEY: {"built_on": "x"}, "paper": 1})


# -- the app: first run, demo, remove ----------------------------------------------------------


@pytest.fixture
def app():
    core.load_screens()
    platform = FakePlatform()
    a = core.App(DataRepo(), platform)
    platform.repo = a.repo  # type: ignore[assignment]
    run(a.load())
    a.navigate("#/")
    return a


def test_first_run_offers_three_starts_and_the_passphrase_lock(app):
    html = run(app.html())
    page = Elements(html)
    assert 'data-action="start-demo"' in html
    assert 'href="#/data"' in html and 'href="#/security"' in html
    assert "practitioner_name" in page.inputs


def test_the_demo_opens_marked_and_is_removed_in_one_action(app):
    practice_db = app.repo.db
    run(app.dispatch("start-demo", {}))
    assert app.state.demo and app.repo.db is not practice_db
    html = run(app.html())
    assert 'id="demo-banner"' in html and PROFILE["business_name"] in html
    assert practice_db.stores == {} or all(not v for v in practice_db.stores.values())
    client = next(c for c in run(app.repo.list(Client)) if c.last_name == "Lee")
    app.navigate(f"#/document?client={client.id}&kind=progress_report")
    assert 'id="demo-stamp"' in run(app.html())
    run(app.dispatch("remove-demo", {}))
    assert not app.state.demo and app.state.profile is None
    assert app.repo.db is practice_db and app.platform.demo_db is None
    html = run(app.html())
    assert "demo-banner" not in html and 'data-action="start-demo"' in html


def test_the_demo_cannot_be_encrypted(app):
    run(app.dispatch("start-demo", {}))
    run(
        app.dispatch(
            "encryption-on",
            {"new_passphrase": "a long passphrase", "new_confirm": "a long passphrase"},
        )
    )
    assert app.platform.state == "off"
    assert "cannot be locked" in app.state.forms["encrypt"].errors["new_passphrase"]


# -- focus at intake (through the screens) ----------------------------------------------------


def test_a_referral_outside_the_programs_is_flagged_and_the_choice_recorded():
    from medex.intake import Referral
    from tests.support.practice import fixed_day
    from tests.support.seeders import add_client, add_provider

    with fixed_day():
        core.load_screens()
        app = core.App(DataRepo(), FakePlatform())
        run(app.load())
        run(app.dispatch("save-profile", dict(GOOD)))
        provider = add_provider(app)
        client = add_client(app)
        app.navigate(f"#/client?id={client.id}&section=referral")
        run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "M17.11"}))
        assert "focus-flag-new" not in run(app.html())  # knee OA: the post-TKR program
        run(app.dispatch("referral-form", {"client_id": client.id, "remove_code": "M17.11"}))
        run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "I10"}))
        html = run(app.html())
        assert 'id="focus-flag-new"' in html and "Outside your programs" in html
        typed = {"client_id": client.id, "provider_id": provider.id, "referred_on": "2026-03-01"}
        run(app.dispatch("referral-form", {**typed, "intent": "save"}))  # undecided: saved
        (referral,) = run(app.repo.list(Referral))
        assert referral.focus_decision is None
        app.navigate("#/")
        home = Elements(run(app.html()))
        assert "Outside your programs: Ana López" in home.text["dashboard"]
        app.navigate(f"#/client?id={client.id}&section=referral")
        assert 'id="focus-accept-1"' in run(app.html())
        run(app.dispatch("decide-focus", {"referral_id": referral.id, "decision": "referred_on"}))
        assert run(app.repo.get(Referral, referral.id)).focus_decision == "referred_on"
        html = run(app.html())
        assert "Referred on" in html and 'id="focus-accept-1"' not in html
        app.navigate("#/")
        assert "Outside your programs" not in Elements(run(app.html())).text["dashboard"]
        # Decided in the form itself, before saving.
        app.navigate(f"#/client?id={client.id}&section=referral")
        run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "I10"}))
        run(
            app.dispatch("referral-form", {**typed, "focus_decision": "accepted", "intent": "save"})
        )
        decisions = sorted(str(r.focus_decision) for r in run(app.repo.list(Referral)))
        assert decisions == ["accepted", "referred_on"]


def test_a_made_up_decision_is_refused():
    core.load_screens()
    app = core.App(DataRepo(), FakePlatform())
    run(app.dispatch("decide-focus", {"referral_id": "x", "decision": "maybe"}))
    assert "accept anyway, or refer on" in app.state.flash
    run(app.dispatch("decide-focus", {"referral_id": "missing", "decision": "accepted"}))
    assert "could not be found" in app.state.flash


def test_the_demo_is_stored_in_one_transaction_with_its_audit_entries():
    from medex.demo import open_demo_practice

    repo = DataRepo()
    run(open_demo_practice(repo, TODAY, signer=FakeSigner()))
    assert repo.writes == 1
    assert run(repo.get_meta(DEMO_META_KEY)) == {"built_on": TODAY.isoformat()}
    audit = run(repo.audit_log())
    assert {e["action"] for e in audit} >= {"create", "sign"}
    assert len(audit) == sum(len(docs) for docs in repo.stores.values())
    assert len(run(repo.list(Client))) == 5


def test_a_new_practice_sees_its_set_up_first_a_busy_one_its_day_first(app):
    run(app.dispatch("save-profile", dict(GOOD)))
    html = run(app.html())
    assert html.index('id="practice-setup"') < html.index('id="dashboard"')
    run(app.dispatch("remove-demo", {}))  # nothing to remove: the practice stays as it is
    assert app.state.profile is not None and not app.state.demo
    run(app.dispatch("start-demo", {}))
    html = run(app.html())
    assert html.index('id="dashboard"') < html.index('id="retention"')
    assert html.index('id="retention"') < html.index('id="practice-setup"')


def test_a_demo_that_cannot_be_stored_leaves_the_practice_as_it_was(app):
    from medex.repository import StorageFullError

    practice_db = app.repo.db
    app.repo.fail_next_write = StorageFullError("full")
    with pytest.raises(StorageFullError):
        run(app.dispatch("start-demo", {}))
    assert app.repo.db is practice_db and app.platform.demo_db is None
    assert not app.state.demo and app.state.profile is None
