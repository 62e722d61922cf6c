"""Importing a referral from a physician's system (medex.fhir_referral, services/fhir, the
review screen): a valid file pre-fills the new client, provider and referral; nothing is
stored before the practitioner saves; malformed and hostile files are refused with a plain
message and change nothing (the same standard as a backup restore)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime

import pytest

from app import clock, core, icd10_picker
from medex.fhir import build_bundle
from medex.fhir_referral import MAX_FILE_CHARS, ReferralFileError, read_referral
from medex.forms import Refused
from medex.icd10 import Icd10Index
from medex.intake import Client, Referral, ReferringProvider
from medex.repository import InMemoryRepository
from medex.services.fhir import (
    ExportBundle,
    ReadReferralFile,
    SaveImportedReferral,
    export_bundle,
    read_referral_file,
    save_imported_referral,
)
from medex.services.intake import ChosenDiagnosis
from tests.support.aio import run
from tests.support.fakes import FakePlatform
from tests.support.fhir import golden_input, golden_records, referral_bundle
from tests.support.pages import Elements, FormData
from tests.support.seeders import FIXTURE, GOOD

TODAY = date(2026, 3, 10)
INDEX = Icd10Index.from_text(FIXTURE)


def text_of(doc) -> str:
    return json.dumps(doc)


# -- reading a valid file ----------------------------------------------------------------------


def test_a_pa_referral_bundle_prefills_client_provider_and_referral():
    imported = read_referral(text_of(referral_bundle()))
    assert imported.client == {
        "first_name": "Roberto J.",
        "last_name": "Ortiz",  # the official name, not the usual "Bobby"
        "date_of_birth": "1961-11-23",
        "sex": "male",
        "phone": "(555) 410-2020",
        "email": "r.ortiz@example.com",
        "address": "88 River Road\nApt 2\nSpringfield, IL 62702",
    }
    assert imported.provider == {
        "name": "Priya Patel",
        "credentials": "MD",
        "npi": "1245319599",
        "phone": "(555) 300-1000",
        "fax": "(555) 300-1001",
        "address": "1 Main Street\nSpringfield, IL 62701",
        "practice": "Springfield Family Medicine",
    }
    assert imported.diagnoses == [
        {"code": "I10", "description": "Essential (primary) hypertension"},
        {"code": "E11.9", "description": "Type 2 diabetes mellitus without complications"},
    ]
    assert imported.referral == {
        "referred_on": "2026-03-02",
        "reason": "Deconditioning after a winter of inactivity\nProgressive weight gain",
        "precautions": "Check glucose before each session; beta-blocker (use RPE).",
        "requested_frequency": "2 sessions a week",
        "requested_duration": "8 weeks",
    }
    # the SNOMED-coded reason is kept as words and named in the notes
    assert any("Progressive weight gain" in n for n in imported.notes)


def test_a_bare_service_request_with_a_contained_patient():
    request = referral_bundle()["entry"][0]["resource"]
    patient = dict(referral_bundle()["entry"][1]["resource"], id="p")
    request = {**request, "contained": [patient], "subject": {"reference": "#p"}}
    request.pop("reasonReference")
    imported = read_referral(text_of(request))
    assert imported.client["last_name"] == "Ortiz"
    assert [d["code"] for d in imported.diagnoses] == ["I10"]
    # the requester is not in the file: its display name is what there is
    assert imported.provider == {"name": "Dr. Priya Patel"}


def test_a_service_request_without_patient_details_says_what_to_enter():
    request = dict(referral_bundle()["entry"][0]["resource"])
    imported = read_referral(text_of(request))
    assert imported.client == {"first_name": "Roberto", "last_name": "Ortiz"}
    assert any("date of birth and sex" in n for n in imported.notes)


def test_our_own_export_reads_back_as_the_same_referral():
    exported = build_bundle(golden_input(datetime(2025, 4, 30, tzinfo=UTC)))
    imported = read_referral(text_of(exported))
    records = golden_records()
    client = next(r for r in records if isinstance(r, Client))
    referral = next(r for r in records if isinstance(r, Referral))
    provider = next(r for r in records if isinstance(r, ReferringProvider))
    assert imported.client["first_name"] == client.first_name
    assert imported.client["last_name"] == client.last_name
    assert imported.client["date_of_birth"] == client.date_of_birth.isoformat()
    assert imported.client["address"] == client.address
    assert imported.provider["npi"] == provider.npi
    assert imported.provider["practice"] == provider.practice
    assert imported.provider["fax"] == provider.fax
    assert imported.diagnoses == [d.model_dump(exclude={"billable"}) for d in referral.diagnoses]
    assert imported.referral == {
        "referred_on": "2025-01-02",
        "reason": referral.reason,
        "precautions": referral.precautions,
        "requested_frequency": referral.requested_frequency,
        "requested_duration": referral.requested_duration,
        "physician_follow_up": "2025-04-06",
    }
    assert any("marks this referral as 'completed'" in n for n in imported.notes)


def test_several_referrals_the_latest_active_one_is_shown():
    bundle = referral_bundle()
    older = dict(bundle["entry"][0]["resource"], id="sr-0", authoredOn="2025-01-01")
    bundle["entry"].append(
        {"fullUrl": "http://ehr.example.org/fhir/ServiceRequest/sr-0", "resource": older}
    )
    imported = read_referral(text_of(bundle))
    assert imported.referral["referred_on"] == "2026-03-02"
    assert any("holds 2 referrals" in n for n in imported.notes)


def test_wrong_types_inside_the_file_read_as_missing_not_as_a_crash():
    bundle = referral_bundle()
    patient = bundle["entry"][1]["resource"]
    patient["name"] = [{"given": {"a": 1}, "family": 42}, "x", None]
    patient["birthDate"] = 19611123
    patient["telecom"] = "555"
    bundle["entry"][0]["resource"]["reasonCode"] = [{"coding": "I10"}, 7]
    bundle["entry"][0]["resource"]["note"] = {"text": "no list"}
    imported = read_referral(text_of(bundle))
    assert imported.client.get("first_name", "") == "" and imported.client["date_of_birth"] == ""
    assert [d["code"] for d in imported.diagnoses] == ["E11.9"]  # from the Condition


def test_partial_or_impossible_dates_are_left_for_the_practitioner():
    bundle = referral_bundle()
    bundle["entry"][1]["resource"]["birthDate"] = "1961"
    bundle["entry"][0]["resource"]["authoredOn"] = "2026-02-30"
    imported = read_referral(text_of(bundle))
    assert imported.client["date_of_birth"] == ""
    assert "referred_on" not in imported.referral
    assert any("not a full date" in n for n in imported.notes)
    assert any("does not date the referral" in n for n in imported.notes)


def test_script_in_names_is_kept_as_plain_text():
    bundle = referral_bundle()
    bundle["entry"][1]["resource"]["name"] = [
        {"family": "<script>alert(1)</script>", "given": ['"><img src=x onerror=alert(2)>']}
    ]
    imported = read_referral(text_of(bundle))
    assert imported.client["last_name"] == "<script>alert(1)</script>"
    assert imported.client["first_name"] == '"><img src=x onerror=alert(2)>'


def test_control_characters_are_removed_and_text_is_bounded():
    bundle = referral_bundle()
    bundle["entry"][1]["resource"]["name"] = [{"family": "Or\x00ti\x1bz", "given": ["R" * 10_000]}]
    imported = read_referral(text_of(bundle))
    assert imported.client["last_name"] == "Ortiz"
    assert len(imported.client["first_name"]) <= 200


# -- malformed and hostile files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("not json at all", "not valid JSON"),
        ('{"resourceType": "Bundle", "entry": [', "not valid JSON"),
        ("<Bundle xmlns='http://hl7.org/fhir'/>", "XML"),
        ("[1, 2, 3]", "names no resourceType"),
        ('{"hello": "world"}', "names no resourceType"),
        ('{"resourceType": "Patient", "id": "x"}', "holds a FHIR Patient, not a referral"),
        ('{"resourceType": "Bundle", "type": "collection"}', "holds no referral"),
        ('{"resourceType": "Bundle", "entry": []}', "holds no referral"),
        ('{"resourceType": "ServiceRequest", "x": NaN}', "not valid JSON"),
        (b"\xff\xfe\x00binary", "not a text file"),
    ],
)
def test_malformed_files_are_refused_with_a_plain_message(text, message):
    with pytest.raises(ReferralFileError, match=message):
        read_referral(text)


def test_a_huge_file_is_refused_before_it_is_parsed():
    huge = '{"resourceType": "Bundle", "entry": [], "x": "' + "a" * MAX_FILE_CHARS + '"}'
    with pytest.raises(ReferralFileError, match="too large"):
        read_referral(huge)


def test_a_deeply_nested_file_is_refused_without_recursion():
    deep = '{"resourceType": "ServiceRequest", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ReferralFileError, match="nested too deeply"):
        read_referral(deep)


def test_a_bundle_with_too_many_entries_is_refused():
    bundle = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Basic"}}] * 5000}
    with pytest.raises(ReferralFileError, match="too many"):
        read_referral(text_of(bundle))


# -- the use cases -----------------------------------------------------------------------------


def repo_with_profile() -> InMemoryRepository:
    return InMemoryRepository()


def counts(repo) -> dict[str, int]:
    return {
        "clients": len(run(repo.list(Client))),
        "providers": len(run(repo.list(ReferringProvider))),
        "referrals": len(run(repo.list(Referral))),
    }


def review_command(imported, provider_id: str = "") -> SaveImportedReferral:
    return SaveImportedReferral(
        today=TODAY,
        client=imported.client,
        provider_id=provider_id,
        provider=imported.provider,
        referral=imported.referral,
        diagnoses=[ChosenDiagnosis(**d) for d in imported.diagnoses],
    )


def test_reading_a_file_stores_nothing_and_finds_the_provider_by_npi():
    repo = InMemoryRepository()
    known = ReferringProvider(name="P. Patel", credentials="MD", npi="1245319599")
    run(repo.save(known))
    before = counts(repo)
    review = run(
        read_referral_file(
            repo, ReadReferralFile(text=text_of(referral_bundle()), filename="r.json")
        )
    )
    assert review.provider_id == known.id
    assert counts(repo) == before


def test_reading_an_unreadable_file_is_refused_on_the_file_field():
    repo = InMemoryRepository()
    with pytest.raises(Refused) as info:
        run(read_referral_file(repo, ReadReferralFile(text="{oops")))
    assert "Nothing was imported" in info.value.errors["referral_file"]
    with pytest.raises(Refused, match="Choose the referral file"):
        run(read_referral_file(repo, ReadReferralFile(text=None)))
    assert counts(repo) == {"clients": 0, "providers": 0, "referrals": 0}


def test_saving_the_reviewed_referral_adds_client_provider_and_referral():
    repo = InMemoryRepository()
    imported = read_referral(text_of(referral_bundle()))
    saved = run(save_imported_referral(repo, review_command(imported), INDEX))
    assert counts(repo) == {"clients": 1, "providers": 1, "referrals": 1}
    client = run(repo.get(Client, saved.client.id))
    assert client is not None and client.provider_id == saved.provider.id
    assert (
        saved.provider.npi == "1245319599"
        and saved.provider.practice == "Springfield Family Medicine"
    )
    referral = run(repo.get(Referral, saved.referral.id))
    assert [d.code for d in referral.diagnoses] == ["I10", "E11.9"]
    assert all(d.billable for d in referral.diagnoses)  # checked against the code index
    assert referral.requested_duration == "8 weeks"


def test_saving_with_a_provider_from_the_directory_adds_no_provider():
    repo = InMemoryRepository()
    known = ReferringProvider(name="Priya Patel", credentials="MD")
    run(repo.save(known))
    imported = read_referral(text_of(referral_bundle()))
    run(save_imported_referral(repo, review_command(imported, known.id), INDEX))
    assert counts(repo) == {"clients": 1, "providers": 1, "referrals": 1}


def test_a_refused_review_names_every_field_and_stores_nothing():
    repo = InMemoryRepository()
    imported = read_referral(text_of(referral_bundle()))
    imported.client["date_of_birth"] = ""
    imported.provider["npi"] = "1234567890"  # wrong check digit
    imported.referral["referred_on"] = "2099-01-01"
    imported.diagnoses.append({"code": "Q99.99", "description": "not a code"})
    with pytest.raises(Refused) as info:
        run(save_imported_referral(repo, review_command(imported), INDEX))
    errors = info.value.errors
    assert "client.date_of_birth" in errors
    assert "check digit" in errors["provider.npi"]
    assert "future" in errors["referral.referred_on"]
    assert "referral.diagnoses" in errors
    assert counts(repo) == {"clients": 0, "providers": 0, "referrals": 0}


def test_a_provider_gone_from_the_directory_is_refused():
    repo = InMemoryRepository()
    imported = read_referral(text_of(referral_bundle()))
    with pytest.raises(Refused) as info:
        run(
            save_imported_referral(
                repo, review_command(imported, "00000000-0000-4000-8000-00000000abcd"), INDEX
            )
        )
    assert "no longer in the directory" in info.value.errors["provider_id"]
    assert counts(repo) == {"clients": 0, "providers": 0, "referrals": 0}


def test_export_use_case_refuses_what_is_not_there():
    repo = InMemoryRepository()
    now = datetime(2025, 4, 30, tzinfo=UTC)
    with pytest.raises(Refused, match="client could not be found"):
        run(export_bundle(repo, ExportBundle(client_id="nobody", now=now)))
    with pytest.raises(Refused, match="document could not be found"):
        run(export_bundle(repo, ExportBundle(document_id="nothing", now=now)))


def test_export_use_case_reads_the_client_file():
    repo = InMemoryRepository()
    run(repo.save(*golden_records()))
    now = datetime(2025, 4, 30, 16, tzinfo=UTC)
    client_id = golden_input().client.id
    export = run(export_bundle(repo, ExportBundle(client_id=client_id, now=now)))
    assert json.loads(export.text) == build_bundle(golden_input(now))
    assert (
        export.filename == "fhir-lee-ann-2025-04-30.json" and export.mime == "application/fhir+json"
    )


# -- the screens (CPython App) -----------------------------------------------------------------


@pytest.fixture
def app(monkeypatch):
    core.load_screens()

    async def source():
        return INDEX

    monkeypatch.setattr(icd10_picker, "icd10_source", source)
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    a = core.App(InMemoryRepository(), FakePlatform())
    run(a.load())
    run(a.dispatch("save-profile", dict(GOOD)))
    return a


def page(app, location=None) -> Elements:
    if location:
        app.navigate(location)
    return Elements(run(app.html()))


def test_import_screen_flow_review_then_save(app):
    app.navigate("#/client-new")
    run(
        app.dispatch(
            "fhir-read-referral",
            {
                "referral_file_text": text_of(referral_bundle()),
                "referral_file_filename": "referral.json",
            },
        )
    )
    assert app.state.route == "referral-import"
    review = page(app)
    assert review.inputs["client_last_name"]["value"] == "Ortiz"
    assert review.inputs["referred_on"]["value"] == "2026-03-02"
    assert "Progressive weight gain" in review.text["import-notes"]
    assert counts(app.repo) == {"clients": 0, "providers": 0, "referrals": 0}
    data = FormData(run(app.html()), "referral-review-form").data
    assert data["client_sex"] == "male" and data["provider_id"] == "new"
    assert data["dx_keep_0"] is True and data["reason"].startswith("Deconditioning")
    data["dx_keep_1"] = None  # the practitioner leaves one code out
    del data["dx_keep_1"]
    run(app.dispatch("fhir-save-referral", data))
    assert counts(app.repo) == {"clients": 1, "providers": 1, "referrals": 1}
    (referral,) = run(app.repo.list(Referral))
    assert [d.code for d in referral.diagnoses] == ["I10"]
    assert app.state.route == "client" and "added with the referral" in app.state.flash


def test_import_screen_refusal_keeps_what_was_typed(app):
    run(app.dispatch("fhir-read-referral", {"referral_file_text": text_of(referral_bundle())}))
    run(
        app.dispatch(
            "fhir-save-referral",
            {
                "client_first_name": "Roberto",
                "client_last_name": "",
                "provider_id": "new",
                "provider_name": "Dr P",
                "referred_on": "2026-03-02",
            },
        )
    )
    review = page(app)
    assert "required" in review.text["error-client_last_name"]
    assert review.inputs["client_first_name"]["value"] == "Roberto"
    assert counts(app.repo) == {"clients": 0, "providers": 0, "referrals": 0}


def test_a_malformed_file_shows_a_message_on_the_new_client_screen(app):
    app.navigate("#/client-new")
    run(app.dispatch("fhir-read-referral", {"referral_file_text": '{"resourceType": "Patient"}'}))
    assert app.state.route == "client-new"
    shown = page(app)
    assert "not a referral" in shown.text["error-referral_file"]
    assert "Nothing was imported" in shown.text["error-referral_file"]
    assert counts(app.repo) == {"clients": 0, "providers": 0, "referrals": 0}


def test_hostile_names_are_escaped_on_the_review_screen(app):
    bundle = referral_bundle()
    bundle["entry"][1]["resource"]["name"] = [
        {"family": "<script>alert(1)</script>", "given": ["<b>x</b>"]}
    ]
    run(app.dispatch("fhir-read-referral", {"referral_file_text": text_of(bundle)}))
    html = run(app.html())
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html


def test_cancel_saves_nothing(app):
    run(app.dispatch("fhir-read-referral", {"referral_file_text": text_of(referral_bundle())}))
    run(app.dispatch("fhir-cancel-import", {}))
    assert app.state.route == "client-new" and "nothing was saved" in app.state.flash
    assert "choose-referral-again" in page(app, "#/referral-import").text
    assert counts(app.repo) == {"clients": 0, "providers": 0, "referrals": 0}


def test_export_button_downloads_the_bundle(app):
    run(app.repo.save(*golden_records()))
    client_id = golden_input().client.id
    app.navigate(f"#/client?id={client_id}&section=details")
    assert "fhir-export-client" in page(app).text
    run(app.dispatch("fhir-export-client", {"client_id": client_id}))
    (name,) = app.platform.files
    bundle = json.loads(app.platform.files[name])
    assert bundle["resourceType"] == "Bundle" and "downloaded as a FHIR file" in app.state.flash
    last = run(app.repo.audit_log())[-1]
    assert (last["action"], last["record_type"], last["record_id"]) == (
        "export",
        "clients",
        client_id,
    )


@pytest.mark.skipif(sys.platform == "emscripten", reason="needs a second Python process")
def test_startup_does_not_import_the_fhir_modules():
    """The export and import are loaded on first use: home, the client and document screens
    do not import them."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; sys.path[:0] = ['site/py', '.'];"
        "import app.core, app.screens.home, app.screens.clients, app.screens.documents;"
        "bad = [m for m in sys.modules if 'fhir' in m]; print(bad); assert not bad"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_sent_report_offers_its_own_export(app):
    from tests.support.fhir import REPORT_ID

    run(app.repo.save(*golden_records()))
    assert "fhir-export-document" in page(app, f"#/document?id={REPORT_ID}").text
    run(app.dispatch("fhir-export-document", {"document_id": REPORT_ID}))
    (name,) = app.platform.files
    assert name.startswith("fhir-lee-ann-progress-report-ann-lee-") and name.endswith(".json")
    bundle = json.loads(app.platform.files[name])
    reports = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DiagnosticReport"
    ]
    assert [r["id"] for r in reports] == [REPORT_ID]
    last = run(app.repo.audit_log())[-1]
    assert (last["action"], last["record_type"], last["record_id"]) == (
        "export",
        "documents",
        REPORT_ID,
    )


def test_a_letter_is_not_exported_as_a_report(app):
    from medex.documents import DocKind, SentDocument

    records = golden_records()
    client = next(r for r in records if isinstance(r, Client))
    letter = SentDocument(
        client_id=client.id,
        kind=DocKind.CLEARANCE_REQUEST,
        title="Clearance request",
        document_date=date(2025, 1, 3),
        html="<p>Please clear</p>",
    )
    run(app.repo.save(*records, letter))
    assert "fhir-export-document" not in page(app, f"#/document?id={letter.id}").text
    run(app.dispatch("fhir-export-document", {"document_id": letter.id}))
    assert app.platform.files == {} and "Only reports" in app.state.flash
