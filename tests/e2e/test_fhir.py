"""FHIR in Chromium: the client's record and one sent report downloaded from their screens and
read back (every resource parses with the FHIR models, references resolve); a physician's
referral file imported into a new client after review; a malformed file shows a message and
creates nothing."""

import base64
import json
from pathlib import Path

from playwright.sync_api import expect

from tests.support.browser import assert_accessible, dump, fill, goto, open_app, shoot
from tests.support.fhir import (
    CLIENT_ID,
    REPORT_ID,
    golden_records,
    referral_bundle,
    validate_bundle,
)

SHOTS = Path("/tmp/shots-fhir")


def practice(page) -> None:
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    # The first save on a busy machine can take a while (Pyodide builds the models).
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible(timeout=30_000)


def seed_golden(page) -> None:
    """Ann Lee's file (tests/support/fhir.py) written into the app's IndexedDB."""
    ops = [
        {"store": r.store, "doc": r.to_doc()}
        for r in golden_records()
        if r.store != "profile"  # the screens made the profile
    ]
    page.evaluate(
        """async (ops) => { const s = await import('./js/store.js');
           await s.write(JSON.stringify(ops)); }""",
        ops,
    )


def download(page, button: str, tmp_path) -> dict:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    expect(page.locator("#flash")).to_contain_text("downloaded as a FHIR file")
    return json.loads(path.read_text(encoding="utf-8"))


def test_export_the_client_and_one_report(page, tmp_path):
    practice(page)
    seed_golden(page)
    goto(page, f"./#/client?id={CLIENT_ID}&section=details", "#fhir-export-client")
    shoot(page, SHOTS, "client-details")
    bundle = download(page, "Download for the physician's system (FHIR)", tmp_path)
    kinds = validate_bundle(bundle)
    (patient,) = kinds["Patient"]
    assert patient["id"] == CLIENT_ID and patient["name"][0]["family"] == "Lee"
    loinc = {
        c["code"]
        for o in kinds["Observation"]
        for c in o["code"]["coding"]
        if c["system"] == "http://loinc.org"
    }
    assert {"89423-8", "66247-8", "83172-7", "97909-6", "64098-7"} <= loinc
    (task,) = kinds["Task"]
    assert task["status"] == "completed"
    # The practice's own profile (made on the screen) names the practitioner.
    assert any(p["name"][0]["text"] == "Dana Reyes" for p in kinds["Practitioner"])

    goto(page, f"./#/document?id={REPORT_ID}", "#fhir-export-document")
    shoot(page, SHOTS, "sent-report")
    one = download(page, "Download for the physician's system (FHIR)", tmp_path)
    kinds = validate_bundle(one)
    (report,) = kinds["DiagnosticReport"]
    html = base64.b64decode(report["presentedForm"][0]["data"]).decode("utf-8")
    assert "Ann Lee walked 6 minutes covering 410 m" in html and "<script" not in html


def test_import_a_referral_review_and_save(page, tmp_path):
    practice(page)
    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    expect(
        page.get_by_role("heading", name="Import a referral from a physician's system (FHIR)")
    ).to_be_visible()
    shoot(page, SHOTS, "client-new")
    assert_accessible(page, "new client with the referral import")
    path = tmp_path / "referral.json"
    path.write_text(json.dumps(referral_bundle()), encoding="utf-8")
    page.get_by_label("Referral file").set_input_files(str(path))
    page.get_by_role("button", name="Read the referral").click()
    expect(page.get_by_role("heading", name="Review the referral before saving")).to_be_visible()
    expect(page.get_by_label("Last name")).to_have_value("Ortiz")
    expect(page.locator("#field-referred_on")).to_have_value("2026-03-02")
    expect(page.locator("#import-notes")).to_contain_text("Progressive weight gain")
    shoot(page, SHOTS, "referral-review")
    assert_accessible(page, "referral review")
    assert dump(page)["stores"].get("clients", []) == []  # nothing saved before the review
    page.get_by_label("Emergency contact phone").fill("(555) 410-2021")
    page.get_by_label("Name", exact=True).first.fill("Ana Ortiz")
    page.get_by_role("button", name="Save client and referral").click()
    expect(page.locator("#client-name")).to_have_text("Roberto J. Ortiz")
    expect(page.locator("#flash")).to_contain_text("added with the referral from Priya Patel, MD")
    stores = dump(page)["stores"]
    (client,) = stores["clients"]
    assert client["emergency_contact_name"] == "Ana Ortiz"
    (referral,) = stores["referrals"]
    assert [d["code"] for d in referral["diagnoses"]] == ["I10", "E11.9"]
    assert referral["requested_frequency"] == "2 sessions a week"
    (provider,) = stores["providers"]
    assert provider["npi"] == "1245319599" and referral["provider_id"] == provider["id"]

    # Back to the physician: the imported client's export carries the same referral.
    goto(page, f"./#/client?id={client['id']}&section=details", "#fhir-export-client")
    bundle = download(page, "Download for the physician's system (FHIR)", tmp_path)
    kinds = validate_bundle(bundle)
    (request,) = kinds["ServiceRequest"]
    icd = [c["coding"][0]["code"] for c in request["reasonCode"] if "coding" in c]
    assert icd == ["I10", "E11.9"]
    (task,) = kinds["Task"]
    assert task["status"] in ("accepted", "on-hold")


def test_a_malformed_referral_file_shows_a_message_and_creates_nothing(page, tmp_path):
    practice(page)
    goto(page, "./#/client-new", "#field-referral_file")
    for name, text in (
        ("patient.json", json.dumps({"resourceType": "Patient", "id": "x"})),
        ("cut.json", json.dumps(referral_bundle())[:500]),
        ("deep.json", '{"resourceType": "Bundle", "entry": ' + "[" * 50_000 + "]" * 50_000 + "}"),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        page.get_by_label("Referral file").set_input_files(str(path))
        page.get_by_role("button", name="Read the referral").click()
        expect(page.locator("#error-referral_file")).to_contain_text("Nothing was imported")
    expect(page.locator("#error-referral_file")).to_contain_text("nested too deeply")
    shoot(page, SHOTS, "referral-refused")
    stores = dump(page)["stores"]
    assert not stores.get("clients") and not stores.get("referrals") and not stores.get("providers")
