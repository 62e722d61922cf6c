"""FHIR test data: one realistic client with fixed ids and times (the golden export), a
referral file as a physician's system sends it (HL7 Physical Activity IG style), and the
checks every exported bundle must pass, with the FHIR model library (``fhir.resources``,
R4B models; a test requirement only, never shipped with the app).

- ``golden_records()``: the records of Ann Lee's file (profile, provider, client, referral,
  two assessments, a discharged program, a signed session with a safety stop, a sent progress
  report), every id and timestamp fixed;
- ``golden_input(now)``: the same as a ``medex.fhir.ExportInput``;
- ``referral_bundle()``: a physician's referral (Bundle: ServiceRequest, Patient,
  PractitionerRole → Practitioner + Organization, Condition);
- ``validate_bundle(bundle)``: every resource parses with the model library, every reference
  resolves inside the bundle; returns the resources by type.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from medex.assessments import Assessment
from medex.documents import DocKind, SentDocument
from medex.fhir import ExportInput
from medex.intake import Client, Referral, ReferringProvider
from medex.measures import CustomMeasure
from medex.programs import Episode, default_program
from medex.records import PracticeProfile
from medex.safety import BpPosition, Timing, Vitals
from medex.session_logs import Attendance, ExerciseEntry, SessionLog, Signature, compute_flags

NOW = datetime(2025, 4, 30, 16, 0, tzinfo=UTC)
TODAY = NOW.date()


def _at(day: date, hour: int = 12) -> dict[str, datetime]:
    moment = datetime.combine(day, time(hour, 0), tzinfo=UTC)
    return {"created_at": moment, "updated_at": moment}


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


PROFILE_ID, PROVIDER_ID, CLIENT_ID, REFERRAL_ID = _uuid(1), _uuid(2), _uuid(3), _uuid(4)
BASELINE_ID, DISCHARGE_ID, EPISODE_ID, LOG_ID = _uuid(5), _uuid(6), _uuid(7), _uuid(8)
REPORT_ID, CUSTOM_ID, STOP_LOG_ID = _uuid(9), _uuid(10), _uuid(11)

REPORT_HTML = (
    '<article class="report"><header class="letterhead"><p class="lh-business">Reyes Medical '
    "Exercise</p></header><h1>Progress report</h1><p>Ann Lee walked 6 minutes covering 410 m "
    "(baseline 350 m).</p><script>alert('never')</script><button data-action=\"lock-now\">x"
    "</button></article>"
)


def golden_records() -> list[Any]:
    profile = PracticeProfile(
        id=PROFILE_ID,
        practitioner_name="Dana Reyes",
        credentials="MS, ACSM-CEP",
        business_name="Reyes Medical Exercise",
        address="12 Elm Street\nSpringfield, IL 62701",
        phone="(555) 123-4567",
        email="dana@example.com",
        npi="1234567893",
        **_at(date(2025, 1, 2)),
    )
    provider = ReferringProvider(
        id=PROVIDER_ID,
        name="Maria Chen",
        credentials="MD",
        practice="Springfield Orthopaedics",
        phone="(555) 987-0000",
        fax="(555) 987-6543",
        npi="1245319599",
        **_at(date(2025, 1, 2)),
    )
    client = Client(
        id=CLIENT_ID,
        first_name="Ann",
        last_name="Lee",
        date_of_birth=date(1952, 8, 1),
        sex="female",
        phone="(555) 222-3344",
        email="ann.lee@example.com",
        address="4 Oak Lane\nSpringfield, IL 62704",
        emergency_contact_name="Tom Lee",
        emergency_contact_relationship="Husband",
        emergency_contact_phone="(555) 222-3345",
        provider_id=PROVIDER_ID,
        status="discharged",
        **_at(date(2025, 1, 3)),
    )
    referral = Referral(
        id=REFERRAL_ID,
        client_id=CLIENT_ID,
        provider_id=PROVIDER_ID,
        referred_on=date(2025, 1, 2),
        diagnoses=[
            {"code": "Z96.651", "description": "Presence of right artificial knee joint"},
            {"code": "M17.11", "description": "Unilateral primary osteoarthritis, right knee"},
        ],
        reason="Post-PT reconditioning after right TKR",
        precautions="No kneeling; no impact loading",
        requested_frequency="2 sessions a week",
        requested_duration="12 weeks",
        physician_follow_up=date(2025, 4, 6),
        **_at(date(2025, 1, 3)),
    )
    custom = CustomMeasure(
        id=CUSTOM_ID,
        name="Stair climb (12 steps)",
        unit="s",
        direction="lower_is_better",
        decimals=1,
        **_at(date(2025, 1, 3)),
    )
    program = default_program("post_tkr")
    episode = Episode.model_validate(
        {
            "id": EPISODE_ID,
            "client_id": CLIENT_ID,
            "program_id": program.id,
            "program": program.snapshot().model_dump(),
            "start_date": "2025-01-06",
            "status": "discharged",
            "discharge_date": "2025-04-28",
            "discharge_reason": "criteria_met",
            **_at(date(2025, 1, 6)),
        },
        context={"today": TODAY},
    )
    context = {
        "today": TODAY,
        "date_of_birth": client.date_of_birth,
        "custom_measures": {custom.measure_id: custom},
    }
    baseline = Assessment.model_validate(
        {
            "id": BASELINE_ID,
            "client_id": CLIENT_ID,
            "episode_id": EPISODE_ID,
            "kind": "baseline",
            "assessed_on": "2025-01-06",
            "vitals": {"resting_hr": 72, "systolic": 134, "diastolic": 82, "arm": "left"},
            "measurements": [
                {"measure_id": "tug", "value": 14.2, "protocol": {"device": "cane"}},
                {"measure_id": "chair_stand_30s", "value": 8},
                {"measure_id": "gait_speed", "value": 0.78, "protocol": {"distance_m": "4 m"}},
                {"measure_id": "six_minute_walk", "value": 350, "protocol": {"course_m": 30}},
                {"measure_id": "oswestry", "value": 34},
                {"measure_id": "grip_right", "value": 21.5},
                {"measure_id": "lefs", "value": 38},
                {"measure_id": custom.measure_id, "value": 19.5},
                {
                    "measure_id": "physical_activity",
                    "protocol": {"days_per_week": 2, "minutes_per_day": 30},
                },
            ],
            **_at(date(2025, 1, 6)),
        },
        context=context,
    )
    discharge = Assessment.model_validate(
        {
            "id": DISCHARGE_ID,
            "client_id": CLIENT_ID,
            "episode_id": EPISODE_ID,
            "kind": "discharge",
            "assessed_on": "2025-04-24",
            "measurements": [
                {"measure_id": "tug", "value": 9.6},
                {"measure_id": "chair_stand_30s", "value": 13},
                {"measure_id": "gait_speed", "value": 1.02, "protocol": {"distance_m": "10 m"}},
                {"measure_id": "six_minute_walk", "value": 410, "protocol": {"course_m": 30}},
                {"measure_id": "oswestry", "value": 18},
                {"measure_id": "lefs", "value": 57, "notes": "Stairs with one rail now"},
            ],
            **_at(date(2025, 4, 24)),
        },
        context=context,
    )
    signature = Signature(
        signed_by="Dana Reyes",
        credentials="MS",
        signed_at=datetime(2025, 2, 3, 11, 0, tzinfo=UTC),
        content_hash="0" * 64,
    )
    session = SessionLog(
        id=LOG_ID,
        client_id=CLIENT_ID,
        episode_id=EPISODE_ID,
        session_date=date(2025, 2, 3),
        start_time=time(10, 0),
        session_number=8,
        attendance=Attendance.ATTENDED,
        pre_vitals=Vitals(
            timing=Timing.PRE,
            heart_rate_bpm=70,
            systolic_mmhg=128,
            diastolic_mmhg=78,
            bp_position=BpPosition.SEATED,
        ),
        exercises=[
            ExerciseEntry(exercise_id=_uuid(20), exercise_name="Sit-to-stand", sets=2, reps=10),
            ExerciseEntry(exercise_id=_uuid(21), exercise_name="Recumbent bike", duration_s=600),
        ],
        adverse_events="Light-headed for a minute after the bike; settled seated.",
        action_taken="Seated rest, BP rechecked 124/76; cool-down extended",
        signature=signature,
        **_at(date(2025, 2, 3)),
    )
    stopped = SessionLog(
        id=STOP_LOG_ID,
        client_id=CLIENT_ID,
        episode_id=EPISODE_ID,
        session_date=date(2025, 2, 10),
        start_time=time(10, 0),
        session_number=9,
        attendance=Attendance.ATTENDED,
        pre_vitals=Vitals(
            timing=Timing.PRE,
            heart_rate_bpm=74,
            systolic_mmhg=205,
            diastolic_mmhg=92,
            bp_position=BpPosition.SEATED,
        ),
        action_taken="Session stopped; client advised to call Dr. Chen",
        signature=signature.model_copy(
            update={"signed_at": datetime(2025, 2, 10, 11, 0, tzinfo=UTC)}
        ),
        **_at(date(2025, 2, 10)),
    )
    stopped = stopped.model_copy(update={"safety_flags": compute_flags(stopped)})
    report = SentDocument(
        id=REPORT_ID,
        client_id=CLIENT_ID,
        provider_id=PROVIDER_ID,
        kind=DocKind.PROGRESS_REPORT,
        title="Progress report: Ann Lee",
        document_date=date(2025, 4, 25),
        html=REPORT_HTML,
        **_at(date(2025, 4, 25)),
    )
    return [
        profile,
        provider,
        client,
        referral,
        custom,
        episode,
        baseline,
        discharge,
        session,
        stopped,
        report,
    ]


def golden_input(now: datetime = NOW) -> ExportInput:
    records = golden_records()

    def of(kind):
        return [r for r in records if isinstance(r, kind)]

    return ExportInput(
        client=of(Client)[0],
        profile=of(PracticeProfile)[0],
        generated_at=now,
        referrals=of(Referral),
        providers={p.id: p for p in of(ReferringProvider)},
        assessments=of(Assessment),
        custom_measures={c.measure_id: c for c in of(CustomMeasure)},
        episodes=of(Episode),
        session_logs=of(SessionLog),
        documents=of(SentDocument),
    )


# -- a referral as a physician's system sends it ----------------------------------------------


def referral_bundle(**changes: Any) -> dict[str, Any]:
    """A PA Service Request with its Patient and requester (PractitionerRole → Practitioner +
    Organization) and a Condition, as a physician's EHR exports it."""
    patient = {
        "resourceType": "Patient",
        "id": "pat-1",
        "identifier": [{"system": "http://hospital.example.org/mrn", "value": "MRN-55821"}],
        "name": [
            {"use": "usual", "text": "Bobby Ortiz"},
            {"use": "official", "family": "Ortiz", "given": ["Roberto", "J."]},
        ],
        "gender": "male",
        "birthDate": "1961-11-23",
        "telecom": [
            {"system": "phone", "value": "(555) 410-2020", "use": "mobile"},
            {"system": "email", "value": "r.ortiz@example.com"},
        ],
        "address": [
            {
                "line": ["88 River Road", "Apt 2"],
                "city": "Springfield",
                "state": "IL",
                "postalCode": "62702",
            }
        ],
    }
    practitioner = {
        "resourceType": "Practitioner",
        "id": "prac-1",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1245319599"}],
        "name": [{"family": "Patel", "given": ["Priya"], "suffix": ["MD"]}],
        "telecom": [{"system": "fax", "value": "(555) 300-1001"}],
        "qualification": [
            {
                "code": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0360",
                            "code": "MD",
                            "display": "Doctor of Medicine",
                        }
                    ],
                    "text": "MD",
                }
            }
        ],
    }
    organization = {
        "resourceType": "Organization",
        "id": "org-1",
        "name": "Springfield Family Medicine",
        "telecom": [{"system": "phone", "value": "(555) 300-1000"}],
        "address": [
            {"line": ["1 Main Street"], "city": "Springfield", "state": "IL", "postalCode": "62701"}
        ],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "practitioner": {"reference": "Practitioner/prac-1"},
        "organization": {"reference": "Organization/org-1"},
    }
    condition = {
        "resourceType": "Condition",
        "id": "cond-1",
        "subject": {"reference": "Patient/pat-1"},
        "code": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/sid/icd-10-cm",
                    "code": "E11.9",
                    "display": "Type 2 diabetes mellitus without complications",
                }
            ]
        },
    }
    request = {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "meta": {
            "profile": [
                "http://hl7.org/fhir/us/physical-activity/StructureDefinition/pa-servicerequest"
            ]
        },
        "status": "active",
        "intent": "original-order",
        "priority": "routine",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/physical-activity/CodeSystem/pa-temporary-codes",
                        "code": "PhysicalActivity",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "390893007",
                    "display": "Referral to physical activity program",
                }
            ]
        },
        "subject": {"reference": "Patient/pat-1", "display": "Roberto Ortiz"},
        "occurrenceTiming": {
            "repeat": {
                "boundsDuration": {
                    "value": 8,
                    "unit": "weeks",
                    "system": "http://unitsofmeasure.org",
                    "code": "wk",
                },
                "frequency": 2,
                "period": 1,
                "periodUnit": "wk",
            }
        },
        "authoredOn": "2026-03-02T09:30:00-06:00",
        "requester": {"reference": "PractitionerRole/role-1", "display": "Dr. Priya Patel"},
        "reasonCode": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/sid/icd-10-cm",
                        "code": "I10",
                        "display": "Essential (primary) hypertension",
                    }
                ]
            },
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "161832001",
                        "display": "Progressive weight gain",
                    }
                ]
            },
            {"text": "Deconditioning after a winter of inactivity"},
        ],
        "reasonReference": [{"reference": "Condition/cond-1"}],
        "note": [
            {
                "authorReference": {"reference": "Practitioner/prac-1"},
                "time": "2026-03-02T09:30:00-06:00",
                "text": "Precautions: Check glucose before each session; beta-blocker (use RPE).",
            },
        ],
    }
    resources = [request, patient, role, practitioner, organization, condition]
    bundle = {
        "resourceType": "Bundle",
        "id": "referral-1",
        "type": "collection",
        "entry": [
            {"fullUrl": f"http://ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }
    for key, value in changes.items():
        bundle[key] = value
    return bundle


# -- checks -----------------------------------------------------------------------------------


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def model_of(resource_type: str):
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def validate_bundle(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Parse the bundle and each resource with the FHIR R4B models; check every reference
    resolves to an entry's fullUrl and every id is unique. Returns resources by type."""
    model_of("Bundle").model_validate(json.loads(json.dumps(bundle)))
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls)), "two entries share a fullUrl"
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        model_of(resource["resourceType"]).model_validate(resource)
        by_type.setdefault(resource["resourceType"], []).append(resource)
    missing = {r for r in _references(bundle) if r not in set(urls)}
    assert not missing, f"references that do not resolve in the bundle: {missing}"
    return by_type
