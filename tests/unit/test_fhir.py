"""FHIR R4 export (medex.fhir): every resource of a realistic client's bundle parses with the
FHIR model library, references resolve inside the bundle, codes and UCUM units are the ones
docs/fhir.md names, the referral's Task follows the episode, and the golden file holds.

Regenerate the golden file after an intended change: MEDEX_UPDATE_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from medex.fhir import (
    ICD10CM,
    LOINC,
    MEASURES_SYSTEM,
    PA_CODES,
    PA_SERVICE_REQUEST,
    PA_TASK,
    UCUM,
    UCUM_UNITS,
    build_bundle,
    export_filename,
    loinc_for,
    task_state,
)
from medex.intake import Client, ClientStatus, Referral
from medex.measures import CATALOGUE
from medex.programs import Episode, default_program
from tests.support.fhir import (
    CLIENT_ID,
    REFERRAL_ID,
    REPORT_ID,
    golden_input,
    golden_records,
    validate_bundle,
)

GOLDEN = Path(__file__).resolve().parent / "golden" / "fhir-bundle-ann-lee.json"


@pytest.fixture(scope="module")
def bundle() -> dict:
    return build_bundle(golden_input())


@pytest.fixture
def models():
    return pytest.importorskip("fhir.resources.R4B")


def by_type(bundle: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in bundle["entry"]:
        out.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    return out


def codes(resource: dict) -> dict[str, str]:
    return {c["system"]: c["code"] for c in resource["code"].get("coding", [])}


def observation(bundle: dict, text: str, day: str) -> dict:
    found = [
        o
        for o in by_type(bundle)["Observation"]
        if o["code"].get("text") == text and o["effectiveDateTime"] == day
    ]
    assert len(found) == 1, (text, day, len(found))
    return found[0]


# -- the model library and references --------------------------------------------------------


def test_every_resource_parses_with_the_fhir_models_and_every_reference_resolves(bundle, models):
    resources = validate_bundle(bundle)
    assert set(resources) == {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "ServiceRequest",
        "Task",
        "Observation",
        "DetectedIssue",
        "AdverseEvent",
        "DiagnosticReport",
    }
    # the practice and the referring physician, each with a role at an organization
    assert len(resources["Practitioner"]) == 2
    assert len(resources["Organization"]) == 2


def test_a_bundle_with_a_broken_reference_is_caught_by_the_check(bundle, models):
    broken = json.loads(json.dumps(bundle))
    broken["entry"][1]["resource"]["name"] = [{"text": "x"}]
    for e in broken["entry"]:
        if e["resource"]["resourceType"] == "Task":
            e["resource"]["focus"] = {"reference": "urn:uuid:00000000-0000-4000-8000-999999999999"}
    with pytest.raises(AssertionError, match="do not resolve"):
        validate_bundle(broken)


def test_the_model_library_refuses_what_fhir_does_not_allow(bundle, models):
    """The validation is real: a wrong status or a string where a number belongs fails."""
    from pydantic import ValidationError

    from tests.support.fhir import model_of

    obs = json.loads(json.dumps(by_type(bundle)["Observation"][0]))
    obs["valueQuantity"]["value"] = "fourteen"
    with pytest.raises(ValidationError):
        model_of("Observation").model_validate(obs)
    task = json.loads(json.dumps(by_type(bundle)["Task"][0]))
    del task["status"]  # required
    with pytest.raises(ValidationError):
        model_of("Task").model_validate(task)
    report = json.loads(json.dumps(by_type(bundle)["DiagnosticReport"][0]))
    report["effectiveDateTime"] = "2025-13-45"
    with pytest.raises(ValidationError):
        model_of("DiagnosticReport").model_validate(report)


# The model library does not check required value sets: the codes we emit are checked here
# against the R4 value sets (task-status, request-status, observation-status …).
REQUIRED_CODES = {
    ("Task", "status"): {
        "draft",
        "requested",
        "received",
        "accepted",
        "rejected",
        "ready",
        "cancelled",
        "in-progress",
        "on-hold",
        "failed",
        "completed",
        "entered-in-error",
    },
    ("Task", "intent"): {"order"},
    ("ServiceRequest", "status"): {
        "draft",
        "active",
        "on-hold",
        "revoked",
        "completed",
        "entered-in-error",
    },
    ("ServiceRequest", "intent"): {"original-order", "order", "filler-order"},
    ("Observation", "status"): {"final"},
    ("DiagnosticReport", "status"): {"final"},
    ("DetectedIssue", "status"): {"final"},
    ("DetectedIssue", "severity"): {"high", "moderate", "low"},
    ("AdverseEvent", "actuality"): {"actual", "potential"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("Bundle", "type"): {"collection"},
}


def test_required_codes_are_from_their_value_sets(bundle):
    assert bundle["type"] in REQUIRED_CODES[("Bundle", "type")]
    checked = 0
    for e in bundle["entry"]:
        r = e["resource"]
        for (kind, element), allowed in REQUIRED_CODES.items():
            if r["resourceType"] == kind and element in r:
                assert r[element] in allowed, (kind, element, r[element])
                checked += 1
    assert checked > 20


# -- codes and units ---------------------------------------------------------------------------


def test_confirmed_loinc_codes_and_the_practice_code_for_every_measure(bundle):
    expected = {
        "Timed Up and Go": "89423-8",
        "30-Second Chair Stand": "66247-8",
        "Gait speed (usual pace)": "83172-7",  # 4 m at the baseline
        "6-Minute Walk Test": "64098-7",  # the distance, not the 62619-2 panel
        "Oswestry Disability Index": "97909-6",
    }
    for text, loinc in expected.items():
        obs = observation(bundle, text, "2025-01-06")
        assert codes(obs)[LOINC] == loinc, text
        assert codes(obs)[MEASURES_SYSTEM] == CATALOGUE[obs["code"]["coding"][-1]["code"]].id
    assert "62619-2" not in json.dumps(bundle)
    # Gait speed over 10 m is not the NIH 4-m walk: no LOINC code, the practice's code only.
    gait_10m = observation(bundle, "Gait speed (usual pace)", "2025-04-24")
    assert codes(gait_10m) == {MEASURES_SYSTEM: "gait_speed"}
    # Unconfirmed LOINC (LEFS, grip): the practice's own code system only.
    lefs = observation(bundle, "Lower Extremity Functional Scale", "2025-01-06")
    assert codes(lefs) == {MEASURES_SYSTEM: "lefs"}
    grip = observation(bundle, "Grip strength, right hand", "2025-01-06")
    assert LOINC not in codes(grip) and grip["bodySite"] == {"text": "Right"}


def test_loinc_only_for_the_protocol_the_code_names():
    assert loinc_for("gait_speed", {"distance_m": "4 m"}) == loinc_for(
        "gait_speed", {"distance_m": "4 m", "pace": "usual"}
    )
    assert loinc_for("gait_speed", {"distance_m": "4 m", "pace": "fast"}) is None
    assert loinc_for("gait_speed", {}) is None
    assert loinc_for("chair_stand_30s", {"arms_used": True}) is None
    assert loinc_for("chair_stand_30s", {})[0] == "66247-8"
    assert loinc_for("berg_balance", {}) is None  # Berg total: unconfirmed


def test_catalogue_loinc_codes_agree_except_the_six_minute_walk():
    """The export's table and the measure catalogue name the same codes; the 6MWT distance is
    64098-7 (the catalogue keeps the panel, 62619-2)."""
    from medex.fhir import LOINC_CODES

    for measure_id, (code, _display) in LOINC_CODES.items():
        if measure_id == "six_minute_walk":
            assert CATALOGUE[measure_id].loinc == "62619-2" and code == "64098-7"
        else:
            assert CATALOGUE[measure_id].loinc == code, measure_id


_UCUM_CODE = re.compile(r"^(\{[!-z|~]+\}|[A-Za-z0-9\[\]_/.%]+)(/[A-Za-z0-9\[\]_.]+)?$")


def test_every_quantity_is_ucum(bundle):
    quantities = []
    for o in by_type(bundle)["Observation"]:
        if "valueQuantity" in o:
            quantities.append(o["valueQuantity"])
        quantities += [c["valueQuantity"] for c in o.get("component", [])]
    assert len(quantities) > 15
    for q in quantities:
        assert q["system"] == UCUM, q
        assert _UCUM_CODE.match(q["code"]), q
        assert isinstance(q["value"], (int, float))
    units = {q["code"] for q in quantities}
    assert {"s", "m", "m/s", "%", "/min", "mm[Hg]", "{stands}", "{score}", "kg", "min"} <= units


def test_every_catalogue_unit_has_a_ucum_code():
    for m in CATALOGUE.values():
        assert m.unit in UCUM_UNITS, (m.id, m.unit)


def test_blood_pressure_is_one_panel_with_systolic_and_diastolic(bundle):
    bp = observation(bundle, "Resting blood pressure", "2025-01-06")
    assert codes(bp)[LOINC] == "85354-9"
    parts = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in bp["component"]}
    assert parts == {"8480-6": 134, "8462-4": 82}
    assert bp["category"][0]["coding"][0]["code"] == "vital-signs"


def test_categories_functional_status_activity_and_survey(bundle):
    tug = observation(bundle, "Timed Up and Go", "2025-01-06")
    assert tug["category"][0]["coding"][0]["code"] == "functional-status"
    odi = observation(bundle, "Oswestry Disability Index", "2025-01-06")
    assert [c["coding"][0]["code"] for c in odi["category"]] == ["functional-status", "survey"]
    activity = [o for o in by_type(bundle)["Observation"] if codes(o).get(LOINC) == "73985-4"]
    assert len(activity) == 1  # the signed, attended session with exercises
    cats = [c["coding"][0] for c in activity[0]["category"]]
    assert {"code": "activity"}.items() <= cats[0].items()
    assert cats[1] == {"system": PA_CODES, "code": "PhysicalActivity"}
    assert "Sit-to-stand 2 × 10" in activity[0]["valueCodeableConcept"]["text"]
    duration = [o for o in by_type(bundle)["Observation"] if codes(o).get(LOINC) == "55411-3"]
    assert duration[0]["valueQuantity"] == {
        "value": 10.0,
        "unit": "min",
        "system": UCUM,
        "code": "min",
    }


def test_the_exercise_vital_sign_is_the_guides_three_evs_observations(bundle):
    evs = {
        codes(o)[LOINC]: o
        for o in by_type(bundle)["Observation"]
        if codes(o).get(LOINC) in ("82290-8", "89555-7", "68516-4")
    }
    assert {
        k: (o["valueQuantity"]["value"], o["valueQuantity"]["code"]) for k, o in evs.items()
    } == {
        "82290-8": (60, "min/wk"),
        "89555-7": (2, "d/wk"),
        "68516-4": (30, "min/d"),
    }
    week = evs["82290-8"]
    assert week["meta"]["profile"][0].endswith("pa-observation-evs-min-per-week")
    assert {r["reference"] for r in week["derivedFrom"]} == {
        f"urn:uuid:{evs['89555-7']['id']}",
        f"urn:uuid:{evs['68516-4']['id']}",
    }
    for o in evs.values():
        assert [c["coding"][0]["code"] for c in o["category"]] == ["activity", "PhysicalActivity"]
        assert o["performer"] == [o["subject"]]  # as the client reports it


def test_the_referral_is_a_pa_service_request_with_icd10cm_reasons(bundle):
    (sr,) = by_type(bundle)["ServiceRequest"]
    assert sr["id"] == REFERRAL_ID and sr["meta"]["profile"] == [PA_SERVICE_REQUEST]
    icd = [c["coding"][0] for c in sr["reasonCode"] if "coding" in c]
    assert [(c["system"], c["code"]) for c in icd] == [(ICD10CM, "Z96.651"), (ICD10CM, "M17.11")]
    assert {"text": "Post-PT reconditioning after right TKR"} in sr["reasonCode"]
    notes = [n["text"] for n in sr["note"]]
    assert "Precautions: No kneeling; no impact loading" in notes
    assert sr["status"] == "completed"  # the program ended with the discharge criteria met
    practitioners = {p["id"]: p for p in by_type(bundle)["Practitioner"]}
    role = next(
        r for r in by_type(bundle)["PractitionerRole"] if r["id"] in sr["requester"]["reference"]
    )
    doctor = practitioners[role["practitioner"]["reference"].removeprefix("urn:uuid:")]
    assert doctor["identifier"] == [
        {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1245319599"}
    ]


def test_safety_events_are_exported_from_signed_logs(bundle):
    issues = by_type(bundle)["DetectedIssue"]
    assert {i["severity"] for i in issues} >= {"high"}
    assert any("205/92" in i["detail"] for i in issues)
    (event,) = by_type(bundle)["AdverseEvent"]
    assert event["actuality"] == "actual" and "Light-headed" in event["event"]["text"]


def test_unsigned_logs_are_not_exported():
    inp = golden_input()
    logs = [lg.model_copy(update={"signature": None}) for lg in inp.session_logs]
    bundle = build_bundle(type(inp)(**{**inp.__dict__, "session_logs": logs}))
    kinds = by_type(bundle)
    assert "DetectedIssue" not in kinds and "AdverseEvent" not in kinds
    assert not any(codes(o).get(LOINC) == "73985-4" for o in kinds["Observation"])


def test_the_report_carries_the_printed_document_made_inert(bundle):
    (report,) = by_type(bundle)["DiagnosticReport"]
    assert report["id"] == REPORT_ID
    form = report["presentedForm"][0]
    assert form["contentType"] == "text/html"
    page = base64.b64decode(form["data"]).decode("utf-8")
    assert "Ann Lee walked 6 minutes covering 410 m" in page
    assert "<script" not in page and "data-action" not in page and "<button" not in page
    assert page.startswith("<!doctype html>") and "<title>Progress report: Ann Lee</title>" in page
    # its results: every measurement up to the report's date
    days = {
        o["effectiveDateTime"]
        for o in by_type(bundle)["Observation"]
        if f"urn:uuid:{o['id']}" in {r["reference"] for r in report["result"]}
    }
    assert max(days) <= "2025-04-25"


def test_one_report_alone(models):
    bundle = build_bundle(golden_input(), document_id=REPORT_ID)
    kinds = validate_bundle(bundle)
    assert [r["id"] for r in kinds["DiagnosticReport"]] == [REPORT_ID]
    assert all(o["effectiveDateTime"] <= "2025-04-25" for o in kinds["Observation"])
    assert len(kinds["Task"]) == 1 and len(kinds["ServiceRequest"]) == 1


def test_the_same_records_give_the_same_bundle():
    assert build_bundle(golden_input()) == build_bundle(golden_input())


def test_golden_file(bundle):
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("MEDEX_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.is_file(), "run with MEDEX_UPDATE_GOLDEN=1 to write the golden file"
    assert json.loads(GOLDEN.read_text(encoding="utf-8")) == bundle


def test_export_filename_is_plain_ascii():
    client = next(r for r in golden_records() if isinstance(r, Client))
    renamed = client.model_copy(update={"first_name": "Ána", "last_name": "López / O'Neil"})
    assert export_filename(renamed, date(2025, 4, 30)) == "fhir-l-pez-o-neil-na-2025-04-30.json"
    assert export_filename(client, date(2025, 4, 30)) == "fhir-lee-ann-2025-04-30.json"


# -- the referral's status ---------------------------------------------------------------------


def _client(status: str) -> Client:
    return Client(
        first_name="A", last_name="B", date_of_birth=date(1960, 1, 1), sex="female", status=status
    )


def _referral(client: Client, day: date = date(2025, 1, 2)) -> Referral:
    return Referral(
        client_id=client.id,
        provider_id="p",
        referred_on=day,
        diagnoses=[{"code": "M17.11", "description": "x"}],
    )


def _episode(
    client: Client, status: str = "active", reason: str | None = None, start=date(2025, 1, 6)
):
    program = default_program("post_tkr")
    data = {
        "client_id": client.id,
        "program": program.snapshot().model_dump(),
        "start_date": start.isoformat(),
        "status": status,
    }
    if status == "discharged":
        data.update(
            discharge_date="2025-03-01", discharge_reason=reason, discharge_note="Moved away"
        )
    return Episode.model_validate(data, context={"today": date(2025, 4, 1)})


@pytest.mark.parametrize(
    ("client_status", "episode", "expected"),
    [
        ("referred", None, "accepted"),
        ("pending_clearance", None, "on-hold"),
        ("discharged", None, "cancelled"),
        ("active", ("active", None), "in-progress"),
        ("pending_clearance", ("active", None), "on-hold"),
        ("discharged", ("discharged", "criteria_met"), "completed"),
        ("discharged", ("discharged", "referred_back"), "completed"),
        ("discharged", ("discharged", "other"), "completed"),
        ("discharged", ("discharged", "client_request"), "cancelled"),
    ],
)
def test_task_status_follows_the_episode(client_status, episode, expected):
    client = _client(client_status)
    episodes = [_episode(client, *episode)] if episode else []
    state = task_state(client, _referral(client), episodes)
    assert state.status == expected
    # the guide: a reason exactly when rejected, on hold, cancelled or failed
    assert bool(state.reason) == (expected in ("on-hold", "cancelled"))


def test_a_program_before_the_referral_does_not_count():
    client = _client("referred")
    old = _episode(client, "discharged", "criteria_met", start=date(2024, 6, 1))
    state = task_state(client, _referral(client, date(2025, 2, 1)), [old])
    assert state.status == "accepted"


def test_every_task_status_validates(models):
    from tests.support.fhir import model_of

    inp = golden_input()
    for status in ClientStatus:
        client = inp.client.model_copy(update={"status": status})
        for episodes in ([], list(inp.episodes)):
            bundle = build_bundle(
                type(inp)(**{**inp.__dict__, "client": client, "episodes": episodes})
            )
            (task,) = by_type(bundle)["Task"]
            model_of("Task").model_validate(task)
            assert task["meta"]["profile"] == [PA_TASK]
            assert ("statusReason" in task) == (task["status"] in ("on-hold", "cancelled"))


def test_a_client_without_referral_or_profile_still_exports(models):
    client = _client("referred")
    inp = golden_input()
    bundle = build_bundle(
        type(inp)(client=client, profile=None, generated_at=datetime(2025, 1, 1, tzinfo=UTC))
    )
    kinds = validate_bundle(bundle)
    assert set(kinds) == {"Patient", "Practitioner", "PractitionerRole", "Organization"}
    assert kinds["Patient"][0]["id"] == client.id != CLIENT_ID
