"""Intake screens driven through the DOM-free App with the in-memory repository."""

from __future__ import annotations

from datetime import date

import pytest

from app import clock, core, icd10_picker
from medex.health import HR_BLUNTED_ADVICE
from medex.icd10 import Icd10Index
from medex.intake import Client, ClientStatus, Consent, Referral, ReferringProvider
from medex.programs import default_program
from medex.repository import InMemoryRepository
from medex.screening import Clearance, ScreeningRecord
from tests.support.aio import run
from tests.support.fakes import FakePlatform
from tests.support.pages import Elements
from tests.support.seeders import FIXTURE, GOOD, add_client, add_provider, full_intake

TODAY = date(2026, 3, 10)
TKR_ID = default_program("post_tkr").id


@pytest.fixture
def app(monkeypatch):
    core.load_screens()
    index = Icd10Index.from_text(FIXTURE)

    async def source():
        return index

    monkeypatch.setattr(icd10_picker, "icd10_source", source)
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    a = core.App(InMemoryRepository(), FakePlatform())
    run(a.load())
    run(a.dispatch("save-profile", dict(GOOD)))
    a.navigate("#/")
    return a


def html(app, location):
    app.navigate(location)
    return run(app.html())


def test_menu_lists_clients_then_providers_after_home():
    core.load_screens()
    names = [name for name, _ in core.NAVIGATION]
    assert names.index("clients") < names.index("providers") < names.index("settings")
    assert names.index("") < names.index("clients")


def test_provider_with_a_bad_npi_keeps_what_was_typed(app):
    app.navigate("#/provider")
    run(app.dispatch("save-provider", {"provider_id": "", "name": "Dr X", "npi": "1234567890"}))
    page = Elements(run(app.html()))
    assert "check digit" in page.text["error-npi"]
    assert page.inputs["name"]["value"] == "Dr X"
    assert run(app.repo.list(ReferringProvider)) == []


def test_provider_page_lists_the_clients_they_referred(app):
    provider = add_provider(app, practice="Springfield Ortho")
    client = add_client(app)
    run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "M17.11"}))
    run(
        app.dispatch(
            "referral-form",
            {"client_id": client.id, "provider_id": provider.id, "referred_on": "2026-03-01"},
        )
    )
    page = Elements(html(app, f"#/provider?id={provider.id}"))
    assert "López, Ana" in page.text["provider-clients"]
    listing = Elements(html(app, "#/providers"))
    assert "Maria Chen, MD" in listing.text["provider-list"]


def test_new_client_with_a_future_birth_date_is_refused_next_to_the_field(app):
    app.navigate("#/client-new")
    run(
        app.dispatch(
            "save-client",
            {
                "client_id": "",
                "first_name": "Ana",
                "last_name": "Lopez",
                "date_of_birth": "2026-03-11",
                "sex": "female",
            },
        )
    )
    page = Elements(run(app.html()))
    assert "future" in page.text["error-date_of_birth"]
    assert page.inputs["first_name"]["value"] == "Ana"
    assert app.state.focus == "field-date_of_birth"


def test_new_client_goes_to_the_referral_and_shows_age_on_the_birthday(app):
    client = add_client(app)
    assert app.state.route == "client" and app.state.params["section"] == "referral"
    page = Elements(run(app.html()))
    assert page.text["client-age"] == "68 years"  # born 1958-03-10, today 2026-03-10
    assert "Not ready" in page.text["not-ready"]
    assert client.status is ClientStatus.REFERRED


def test_icd_search_by_words_then_add_marks_non_billable_and_refuses_unknown(app):
    client = add_client(app)
    run(
        app.dispatch(
            "referral-form",
            {"client_id": client.id, "intent": "search", "icd_query": "knee osteoarthritis"},
        )
    )
    page = Elements(run(app.html()))
    assert "M17.11" in page.text["icd-results"]
    run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "M17"}))
    page = Elements(run(app.html()))
    assert "not billable" in page.text["dx-chosen"]
    assert "category" in page.text["icd-message"]
    run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "M17.99"}))
    page = Elements(run(app.html()))
    assert "'M17.99' is not an ICD-10-CM code" in page.text["icd-message"]
    assert "M17.99" not in page.text["dx-chosen"]


def test_referral_without_a_diagnosis_or_provider_is_refused(app):
    client = add_client(app)
    run(app.dispatch("referral-form", {"client_id": client.id, "referred_on": "2026-03-01"}))
    page = Elements(run(app.html()))
    assert "at least one diagnosis" in page.text["error-diagnoses"]
    assert "Choose the referring provider" in page.text["error-provider_id"]
    assert run(app.repo.list(Referral)) == []


def test_referral_before_birth_is_refused(app):
    provider = add_provider(app)
    client = add_client(app)
    run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "I10"}))
    run(
        app.dispatch(
            "referral-form",
            {"client_id": client.id, "provider_id": provider.id, "referred_on": "1950-01-01"},
        )
    )
    page = Elements(run(app.html()))
    assert "before the client's date of birth" in page.text["error-referred_on"]


def test_full_intake_flags_beta_blocker_and_recommends_clearance_with_diabetes_note(app):
    _, client = full_intake(app)
    page = Elements(html(app, f"#/client?id={client.id}&section=screening"))
    assert page.text["screening-decision"] == "Medical clearance recommended"
    assert "American Diabetes Association" in page.text["diabetes-note"]
    assert "use RPE" in page.text["hr-flag"]
    assert run(app.repo.get(Client, client.id)).status is ClientStatus.PENDING_CLEARANCE
    assert len(run(app.repo.list(Clearance))) == 1
    history = Elements(html(app, f"#/client?id={client.id}&section=history"))
    assert "Affects HR/BP" in history.text["medication-list"]
    assert history.text["hr-advice"] == HR_BLUNTED_ADVICE  # the domain's own words


def test_screening_with_unanswered_questions_keeps_answers(app):
    client = add_client(app)
    app.navigate(f"#/client?id={client.id}&section=screening")
    run(app.dispatch("save-screening", {"client_id": client.id, "parq_chest_pain": "no"}))
    page = run(app.html())
    elements = Elements(page)
    assert "Answer Yes or No" in elements.text["error-parq_heart_condition_or_high_bp"]
    assert 'value="no" checked' in page
    assert run(app.repo.list(ScreeningRecord)) == []


def test_clearance_received_unblocks_activation_and_dashboard(app):
    _, client = full_intake(app)
    home = html(app, "#/")
    assert "Medical clearance pending: Ana López" in home
    assert "1 client(s) not ready for a first session" in home
    app.navigate(f"#/client?id={client.id}&section=details")
    # Activation is not a button: it follows the start of a program or a signed session.
    assert "Make active" not in html(app, f"#/client?id={client.id}&section=details")
    run(app.dispatch("client-status", {"client_id": client.id, "status": "active"}))
    assert "status follows their care" in app.state.flash
    assert run(app.repo.get(Client, client.id)).status is ClientStatus.PENDING_CLEARANCE
    run(
        app.dispatch(
            "save-clearance",
            {"client_id": client.id, "requested_on": "2026-03-02", "received_on": "2026-03-09"},
        )
    )
    assert run(app.repo.get(Client, client.id)).status is ClientStatus.REFERRED
    start = {"client_id": client.id, "program_id": TKR_ID, "start_date": TODAY.isoformat()}
    run(app.dispatch("start-program", start))
    assert run(app.repo.get(Client, client.id)).status is ClientStatus.ACTIVE


def test_consent_signed_is_a_snapshot_of_the_configured_text(app):
    client = add_client(app)
    run(
        app.dispatch(
            "save-consent-texts",
            {
                "informed_consent": "I, the client, agree to exercise with {practice}.",
                "authorisation": "I authorise {practice} to write to my physician about me.",
            },
        )
    )
    app.navigate(f"#/client?id={client.id}&section=consent")
    run(app.dispatch("sign-consent", {"client_id": client.id, "kind": "informed_consent"}))
    page = Elements(run(app.html()))
    assert "must tick" in page.text["error-informed_consent-agree"]
    assert "types their full name" in page.text["error-informed_consent-signed_name"]
    run(
        app.dispatch(
            "sign-consent",
            {
                "client_id": client.id,
                "kind": "informed_consent",
                "agree": "1",
                "signed_name": "Ana López",
            },
        )
    )
    run(app.dispatch("save-consent-texts", {"restore_defaults": "1"}))
    (consent,) = run(app.repo.list(Consent))
    assert consent.text == "I, the client, agree to exercise with Reyes Medical Exercise."
    assert consent.signed_on == TODAY
    page = Elements(html(app, f"#/client?id={client.id}&section=consent"))
    assert "Signed by Ana López" in page.text["signed-informed_consent"]


def test_goals_need_three_to_five_psfs_activities(app):
    client = add_client(app)
    app.navigate(f"#/client?id={client.id}&section=goals")
    data = {"client_id": client.id, "psfs_activity_0": "Stairs", "psfs_score_0": "3"}
    run(app.dispatch("save-goals", data))
    page = Elements(run(app.html()))
    assert "3 to 5 activities" in page.text["error-activities"]
    data.update(psfs_activity_1="Walk 1 km", psfs_score_1="11", psfs_activity_2="Garden")
    run(app.dispatch("save-goals", data))
    page = Elements(run(app.html()))
    assert "at most 10" in page.text["error-psfs_score_1"]
    assert "Score the activity" in page.text["error-psfs_score_2"]


def test_checklist_complete_except_assessment_and_program(app):
    _, client = full_intake(app)
    run(
        app.dispatch(
            "save-clearance",
            {"client_id": client.id, "requested_on": "2026-03-02", "received_on": "2026-03-09"},
        )
    )
    for kind in ("informed_consent", "authorisation"):
        run(
            app.dispatch(
                "sign-consent",
                {"client_id": client.id, "kind": kind, "agree": "1", "signed_name": "Ana López"},
            )
        )
    goals = {"client_id": client.id, "deficits": "Cannot climb stairs\nWalks < 10 min"}
    for i, (activity, score) in enumerate([("Stairs", "3"), ("Walking", "4"), ("Garden", "5")]):
        goals.update({f"psfs_activity_{i}": activity, f"psfs_score_{i}": score})
    run(app.dispatch("save-goals", goals))
    page = html(app, f"#/client?id={client.id}&section=checklist")
    missing = [
        key
        for key in ("referral", "history", "screening", "clearance", "consents", "goals")
        if f'class="missing" data-item="{key}"' in page
    ]
    assert missing == []
    assert 'class="missing" data-item="assessment"' in page
    assert 'class="missing" data-item="program"' in page
    assert f'href="#/client?id={client.id}&section=consent"' in page


def test_client_list_search_and_filters(app):
    provider = add_provider(app)
    add_client(app, first_name="Ana", last_name="López")
    add_client(app, first_name="Bob", last_name="Smith")
    ana = run(app.repo.list(Client))[0]
    run(app.dispatch("referral-form", {"client_id": ana.id, "add_code": "I10"}))
    run(
        app.dispatch(
            "referral-form",
            {"client_id": ana.id, "provider_id": provider.id, "referred_on": "2026-03-01"},
        )
    )
    app.navigate("#/clients")
    run(app.dispatch("search-clients", {"q": "lopez"}))
    page = Elements(run(app.html()))
    assert "López, Ana" in page.text["client-list"] and "Smith" not in page.text["client-list"]
    run(app.dispatch("search-clients", {"q": "", "provider": provider.id}))
    page = Elements(run(app.html()))
    assert "Smith" not in page.text["client-list"]
    run(app.dispatch("search-clients", {"q": "", "status": "active"}))
    page = Elements(run(app.html()))
    assert "No client matches" in run(app.html())
    run(app.dispatch("clear-client-search", {}))
    page = Elements(run(app.html()))
    assert page.text["client-count"] == "2 of 2 client(s)"
    assert "Not ready" in page.text["client-list"]


def test_referral_details_typed_are_kept_across_search_add_and_remove(app):
    provider = add_provider(app)
    client = add_client(app)
    typed = {
        "client_id": client.id,
        "provider_id": provider.id,
        "referred_on": "2026-03-01",
        "reason": "Knee pain",
    }
    run(app.dispatch("referral-form", {**typed, "intent": "search", "icd_query": "hypertension"}))
    run(app.dispatch("referral-form", {**typed, "add_code": "I10"}))
    run(app.dispatch("referral-form", {**typed, "add_code": "E11.9"}))
    run(app.dispatch("referral-form", {**typed, "remove_code": "I10"}))
    page = Elements(run(app.html()))
    assert "E11.9" in page.text["dx-chosen"] and "I10" not in page.text["dx-chosen"]
    assert page.inputs["referred_on"]["value"] == "2026-03-01"
    assert "Knee pain" in page.text["field-reason"]
    assert run(app.repo.list(Referral)) == []
    run(app.dispatch("referral-form", {**typed, "intent": "save"}))
    (referral,) = run(app.repo.list(Referral))
    assert [d.code for d in referral.diagnoses] == ["E11.9"]


def test_history_add_a_row_keeps_what_was_typed_and_saves_nothing(app):
    client = add_client(app)
    app.navigate(f"#/client?id={client.id}&section=history")
    typed = {"client_id": client.id, "med_name_0": "Atenolol", "cond_name_0": "Hypertension"}
    run(app.dispatch("save-history", {**typed, "add_row": "med"}))
    page = Elements(run(app.html()))
    assert page.inputs["med_name_0"]["value"] == "Atenolol"
    assert page.inputs["med_name_1"]["value"] == ""
    assert "med_name_2" not in page.inputs
    assert app.state.focus == "field-med_name_1"
    assert run(app.repo.list(Client))[0].status is ClientStatus.REFERRED


def test_provider_added_from_a_referral_returns_to_it_preselected(app):
    client = add_client(app)
    page = html(app, f"#/client?id={client.id}&section=referral")
    assert f'href="#/provider?client={client.id}"' in page
    app.navigate(f"#/provider?client={client.id}")
    form = Elements(run(app.html())).inputs
    run(
        app.dispatch(
            "save-provider",
            {"provider_id": "", "name": "Maria Chen", "return_to": form["return_to"]["value"]},
        )
    )
    assert app.state.route == "client" and app.state.params["section"] == "referral"
    (provider,) = run(app.repo.list(ReferringProvider))
    assert f'<option value="{provider.id}" selected>' in run(app.html())


def test_dashboard_not_ready_link_filters_the_list_then_a_search_takes_over(app):
    add_client(app)
    run(app.dispatch("search-clients", {"q": "nobody"}))
    page = Elements(html(app, "#/clients?ready=no"))
    assert "López, Ana" in page.text["client-list"]
    run(app.dispatch("search-clients", {"q": "lop", "ready": ""}))
    assert app.state.params == {}
    page = Elements(run(app.html()))
    assert "López, Ana" in page.text["client-list"]


def test_consent_texts_too_short_are_refused_and_kept(app):
    app.navigate("#/consent-texts")
    run(app.dispatch("save-consent-texts", {"informed_consent": "OK", "authorisation": ""}))
    page = Elements(run(app.html()))
    assert page.text["error-informed_consent"] == "Enter the full wording the client will sign"
    assert page.text["error-authorisation"] == "Enter the full wording the client will sign"
    assert page.text["field-informed_consent"] == "OK"
    assert app.state.focus == "field-informed_consent"
