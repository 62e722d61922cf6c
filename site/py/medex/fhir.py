"""FHIR R4 export of a client's record, following the HL7 Physical Activity Implementation
Guide (STU1) where it applies (``docs/fhir.md`` says where and why we deviate).

Pure domain: the bundle is built as plain JSON-compatible dicts from records already read
(``ExportInput``); no FHIR library ships with the app (the tests validate every resource with
one). Resource ids are the records' own UUIDs, or UUIDs derived from them (``derived_id``), so
exporting the same records twice gives the same resources; references are the ``urn:uuid:``
full URLs of resources in the same bundle.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .assessments import VITAL_MEASURES, Assessment, MeasurementEntry, definition_for
from .documents import DocKind, SentDocument
from .inert import inert_html
from .intake import Client, ClientStatus, Referral, ReferringProvider, Sex
from .measures import CATALOGUE, MeasureDefinition
from .programs import DISCHARGE_REASONS, Episode
from .records import PracticeProfile
from .safety import SafetyFlag, Severity
from .session_logs import Attendance, SessionLog, session_volume

# -- systems and profiles ---------------------------------------------------------------------

FHIR_VERSION = "4.0.1"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"
RFC3986 = "urn:ietf:rfc:3986"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
SDOHCC_TEMPORARY = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
)
PA_IG = "http://hl7.org/fhir/us/physical-activity"
PA_CODES = f"{PA_IG}/CodeSystem/pa-temporary-codes"
PA_SERVICE_REQUEST = f"{PA_IG}/StructureDefinition/pa-servicerequest"
PA_TASK = f"{PA_IG}/StructureDefinition/pa-task-for-referral-management"
PA_ACTIVITY_MEASURE = f"{PA_IG}/StructureDefinition/pa-observation-activity-measure"
VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
BP_PROFILE = "http://hl7.org/fhir/StructureDefinition/bp"
HEART_RATE_PROFILE = "http://hl7.org/fhir/StructureDefinition/heartrate"
BMI_PROFILE = "http://hl7.org/fhir/StructureDefinition/bmi"
# The practice's own code system for measures without a confirmed LOINC code (every measure
# also carries its code here, so a receiving system can map them all one way).
MEASURES_SYSTEM = "https://medexpractice.app/fhir/CodeSystem/measures"
# The practice's own code system for the session safety flags (docs/clinical.md rules).
SAFETY_FLAGS_SYSTEM = "https://medexpractice.app/fhir/CodeSystem/safety-flags"

PA_CATEGORY = {"coding": [{"system": PA_CODES, "code": "PhysicalActivity"}]}
_NAMESPACE = uuid.UUID("5b0e3c1e-7a51-4d0e-9a4f-3c2f1e6d8b70")


def derived_id(*parts: str) -> str:
    """A stable UUID for a resource that is not a record of its own (an observation of one
    measure of an assessment, the practice's organization …)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def full_url(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def ref(resource_id: str, display: str = "") -> dict[str, str]:
    out = {"reference": full_url(resource_id)}
    if display:
        out["display"] = display
    return out


# -- codes: LOINC only where confirmed (docs/fhir.md "Codes") ---------------------------------

# (code, display) per catalogue measure. The LOINC codes confirmed on loinc.org, the 6MWT
# distance from several agreeing FHIR guides, and the vital signs of the FHIR core value set.
LOINC_CODES: dict[str, tuple[str, str]] = {
    "chair_stand_30s": ("66247-8", "Sit to stand frequency in 30 seconds"),
    "tug": (
        "89423-8",
        "Time to rise from chair, walk 10 feet and back, and return to sitting [TUG]",
    ),
    "gait_speed": ("83172-7", "4 meter walk gait speed [NIH Toolbox]"),
    "oswestry": ("97909-6", "Oswestry disability index score"),
    "six_minute_walk": ("64098-7", "Six minute walk test"),
    "resting_hr": ("8867-4", "Heart rate"),
    "bp_systolic": ("8480-6", "Systolic blood pressure"),
    "bp_diastolic": ("8462-4", "Diastolic blood pressure"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]"),
    # The Exercise Vital Sign: the guide's own codes (PA Observation EVS profiles).
    "physical_activity": ("82290-8", "Frequency of moderate to vigorous aerobic physical activity"),
}
EVS_DAYS = (
    "89555-7",
    "How many days per week did you engage in moderate to strenuous physical activity in the last 30 days",
)
EVS_MINUTES = (
    "68516-4",
    "On those days that you engage in moderate to strenuous exercise, how many minutes, on average, do you exercise",
)
PA_EVS_PROFILES = {
    "82290-8": f"{PA_IG}/StructureDefinition/pa-observation-evs-min-per-week",
    "89555-7": f"{PA_IG}/StructureDefinition/pa-observation-evs-days-per-week",
    "68516-4": f"{PA_IG}/StructureDefinition/pa-observation-evs-min-per-day",
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")


def loinc_for(measure_id: str, protocol: Mapping[str, Any]) -> tuple[str, str] | None:
    """The LOINC code of a value, when its protocol is the one the code names: 83172-7 is the
    4-metre walk at usual pace; 66247-8 is the standard chair stand (93125-3, the modified
    test using the arms, is not used: with the arms the STEADI score is 0)."""
    found = LOINC_CODES.get(measure_id)
    if found is None:
        return None
    if measure_id == "gait_speed" and (
        protocol.get("distance_m") != "4 m" or protocol.get("pace", "usual") != "usual"
    ):
        return None
    if measure_id == "chair_stand_30s" and protocol.get("arms_used") is True:
        return None
    return found


# Catalogue units → UCUM (case-sensitive codes); counts and scores are UCUM annotations.
UCUM_UNITS: dict[str, str] = {
    "s": "s",
    "m": "m",
    "m/s": "m/s",
    "cm": "cm",
    "in": "[in_i]",
    "kg": "kg",
    "%": "%",
    "bpm": "/min",
    "mmHg": "mm[Hg]",
    "kg/m²": "kg/m2",
    "min/week": "min/wk",
    "stands": "{stands}",
    "steps": "{steps}",
    "curls": "{curls}",
    "stage": "{stage}",
    "points": "{score}",
    "/10": "{score}",
}


def ucum_for(unit: str) -> str | None:
    """The UCUM code of a unit as the catalogue writes it; None when there is none (a custom
    measure's own unit is then sent as text only)."""
    return UCUM_UNITS.get(unit.strip())


def quantity(value: float, unit: str, decimals: int = 2) -> dict[str, Any]:
    number: float | int = round(value, decimals) if decimals else round(value)
    out: dict[str, Any] = {"value": number, "unit": unit}
    code = ucum_for(unit)
    if code is not None:
        out["system"] = UCUM
        out["code"] = code
    return out


# -- what an export is built from -------------------------------------------------------------


@dataclass(frozen=True)
class ExportInput:
    """Everything one client's bundle is built from, read by the use case."""

    client: Client
    profile: PracticeProfile | None
    generated_at: datetime
    referrals: Sequence[Referral] = ()
    providers: Mapping[str, ReferringProvider] = field(default_factory=dict)
    assessments: Sequence[Assessment] = ()
    custom_measures: Mapping[str, Any] = field(default_factory=dict)
    episodes: Sequence[Episode] = ()
    session_logs: Sequence[SessionLog] = ()
    documents: Sequence[SentDocument] = ()


# The documents that are reports of the service (the guide's intervention report); letters,
# requests and bills are not.
REPORT_KINDS = frozenset(
    {
        DocKind.ASSESSMENT_SUMMARY,
        DocKind.PROGRESS_REPORT,
        DocKind.DISCHARGE_SUMMARY,
        DocKind.CHANGE_IN_STATUS,
        DocKind.SESSION_LOG,
    }
)


def is_report(document: SentDocument) -> bool:
    return document.kind in REPORT_KINDS and bool(document.client_id)


# -- people and organizations -----------------------------------------------------------------

_GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.INTERSEX: "other", Sex.NOT_STATED: "unknown"}


def _human_name(full: str) -> dict[str, Any]:
    """A name typed as one line: the text as typed, the last word as family name."""
    words = full.split()
    out: dict[str, Any] = {"text": full}
    if words:
        out["family"] = words[-1]
        if len(words) > 1:
            out["given"] = words[:-1]
    return out


def _telecom(**values: str | None) -> list[dict[str, str]]:
    return [
        {"system": system, "value": str(value)}
        for system, value in values.items()
        if value and str(value).strip()
    ]


def _address(text: str) -> list[dict[str, Any]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [{"text": ", ".join(lines), "line": lines}] if lines else []


def patient(client: Client) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": client.id,
        "identifier": [{"system": RFC3986, "value": full_url(client.id)}],
        "active": client.status is not ClientStatus.DISCHARGED,
        "name": [
            {
                "use": "official",
                "text": client.full_name,
                "family": client.last_name,
                "given": [client.first_name],
            }
        ],
        "gender": _GENDER[client.sex],
        "birthDate": client.date_of_birth.isoformat(),
    }
    telecom = _telecom(phone=client.phone, email=client.email)
    if telecom:
        out["telecom"] = telecom
    if client.address:
        out["address"] = _address(client.address)
    if client.emergency_contact_name:
        contact: dict[str, Any] = {
            "relationship": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C"}
                    ],
                    "text": client.emergency_contact_relationship or "Emergency contact",
                }
            ],
            "name": _human_name(client.emergency_contact_name),
        }
        phone = _telecom(phone=client.emergency_contact_phone)
        if phone:
            contact["telecom"] = phone
        out["contact"] = [contact]
    return out


def _npi_identifier(npi: str | None) -> list[dict[str, str]]:
    return [{"system": NPI, "value": npi}] if npi else []


def _practitioner(
    resource_id: str,
    name: str,
    credentials: str,
    npi: str | None,
    telecom: list[dict[str, str]],
    address: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Practitioner", "id": resource_id, "active": True}
    identifiers = _npi_identifier(npi)
    if identifiers:
        out["identifier"] = identifiers
    out["name"] = [_human_name(name)]
    if telecom:
        out["telecom"] = telecom
    if address:
        out["address"] = _address(address)
    if credentials:
        out["qualification"] = [{"code": {"text": credentials}}]
    return out


@dataclass(frozen=True)
class Practice:
    """The practice's three resources' ids (the practitioner, their role, the business)."""

    practitioner: str
    role: str
    organization: str
    name: str


def practice_resources(profile: PracticeProfile | None) -> tuple[Practice, list[dict[str, Any]]]:
    if profile is None:
        # No practice profile yet: an anonymous practitioner, so references still resolve.
        base = "practice"
        name, business = "The practitioner", "The practice"
        telecom: list[dict[str, str]] = []
        address, credentials, npi = "", "", None
    else:
        base = profile.id
        name, business = profile.practitioner_name, profile.business_name
        telecom = _telecom(phone=profile.phone, email=profile.email)
        address, credentials, npi = profile.address, profile.credentials, profile.npi
    ids = Practice(
        practitioner=derived_id(base, "practitioner"),
        role=derived_id(base, "role"),
        organization=derived_id(base, "organization"),
        name=f"{name}, {credentials}" if credentials else name,
    )
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "id": ids.organization,
        "active": True,
        "name": business,
    }
    if telecom:
        organization["telecom"] = telecom
    if address:
        organization["address"] = _address(address)
    role = {
        "resourceType": "PractitionerRole",
        "id": ids.role,
        "active": True,
        "practitioner": ref(ids.practitioner, ids.name),
        "organization": ref(ids.organization, business),
        "code": [{"text": "Medical exercise professional"}],
    }
    practitioner = _practitioner(ids.practitioner, name, credentials, npi, telecom, address)
    return ids, [practitioner, role, organization]


def provider_resources(provider: ReferringProvider) -> tuple[str, list[dict[str, Any]]]:
    """The referring provider as a Practitioner (and, with a practice name, a PractitionerRole
    at that Organization); returns the id a referral's requester points at."""
    telecom = _telecom(phone=provider.phone, fax=provider.fax, email=provider.email)
    practitioner = _practitioner(
        provider.id, provider.name, provider.credentials, provider.npi, telecom, provider.address
    )
    if not provider.practice:
        return provider.id, [practitioner]
    org_id, role_id = derived_id(provider.id, "organization"), derived_id(provider.id, "role")
    organization = {
        "resourceType": "Organization",
        "id": org_id,
        "active": True,
        "name": provider.practice,
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": role_id,
        "active": True,
        "practitioner": ref(provider.id, provider.display_name),
        "organization": ref(org_id, provider.practice),
    }
    return role_id, [practitioner, role, organization]


# -- the referral and its status --------------------------------------------------------------


@dataclass(frozen=True)
class TaskState:
    """Where the referral stands, in the guide's Task terms."""

    status: str  # accepted | on-hold | in-progress | completed | cancelled
    business: str  # the finer status, in words
    reason: str = ""  # why (on hold, cancelled)

    @property
    def request_status(self) -> str:
        """The matching ServiceRequest status."""
        return {"completed": "completed", "cancelled": "revoked"}.get(self.status, "active")


def _episode_for(referral: Referral, episodes: Iterable[Episode]) -> Episode | None:
    """The latest program started on or after the referral (none: not started yet)."""
    started = [e for e in episodes if e.start_date >= referral.referred_on]
    return max(started, key=lambda e: (e.start_date, e.created_at)) if started else None


def task_state(client: Client, referral: Referral, episodes: Iterable[Episode]) -> TaskState:
    """requested → accepted → in progress → completed: a recorded referral is accepted; a
    program under way is in progress; waiting for medical clearance puts it on hold; the
    discharge completes it (or cancels it, when the client chose to stop)."""
    episode = _episode_for(referral, episodes)
    waiting = client.status is ClientStatus.PENDING_CLEARANCE
    if episode is None:
        if client.status is ClientStatus.DISCHARGED:
            return TaskState("cancelled", "Discharged", "Discharged before a program started")
        if waiting:
            return TaskState(
                "on-hold", "Waiting for medical clearance", "Waiting for medical clearance"
            )
        return TaskState("accepted", "Referral received; intake under way")
    started = f"Program {episode.program.name} started {episode.start_date.isoformat()}"
    if episode.status == "active":
        if waiting:
            return TaskState(
                "on-hold", "Waiting for medical clearance", "Waiting for medical clearance"
            )
        return TaskState("in-progress", started)
    ended = episode.discharge_date.isoformat() if episode.discharge_date else ""
    why = DISCHARGE_REASONS.get(episode.discharge_reason or "", "Discharged")
    business = f"Discharged {ended}: {why}".strip()
    if episode.discharge_reason == "client_request":
        return TaskState("cancelled", business, why)
    return TaskState("completed", business)


def _referral_notes(referral: Referral, author: dict[str, str] | None) -> list[dict[str, Any]]:
    labelled = [
        ("Precautions", referral.precautions),
        ("Requested frequency", referral.requested_frequency),
        ("Requested duration", referral.requested_duration),
        (
            "Physician's next follow-up",
            referral.physician_follow_up.isoformat() if referral.physician_follow_up else "",
        ),
    ]
    notes = []
    for label, text in labelled:
        if text:
            note: dict[str, Any] = {
                "time": f"{referral.referred_on.isoformat()}T00:00:00Z",
                "text": f"{label}: {text}",
            }
            if author:
                note["authorReference"] = author
            notes.append(note)
    return notes


def service_request(
    referral: Referral,
    client: Client,
    requester: dict[str, str] | None,
    requester_practitioner: dict[str, str] | None,
    practice: Practice,
    status: str,
) -> dict[str, Any]:
    reasons: list[dict[str, Any]] = [
        {
            "coding": [{"system": ICD10CM, "code": d.code, "display": d.description}]
            if d.description
            else [{"system": ICD10CM, "code": d.code}],
            "text": d.description or d.code,
        }
        for d in referral.diagnoses
    ]
    if referral.reason:
        reasons.append({"text": referral.reason})
    out: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": referral.id,
        "meta": {"profile": [PA_SERVICE_REQUEST]} if requester else {},
        "identifier": [{"system": RFC3986, "value": full_url(referral.id)}],
        "status": status,
        "intent": "original-order",
        "category": [PA_CATEGORY],
        "code": {
            "coding": [{"system": SNOMED, "code": "229065009", "display": "Exercise therapy"}],
            "text": "Exercise therapy",
        },
        "subject": ref(client.id, client.full_name),
        "authoredOn": referral.referred_on.isoformat(),
        "performer": [ref(practice.role, practice.name)],
        "reasonCode": reasons,
    }
    if not out["meta"]:
        del out["meta"]
    if requester:
        out["requester"] = requester
    notes = _referral_notes(referral, requester_practitioner)
    if notes:
        out["note"] = notes
    return out


def task(
    referral: Referral,
    client: Client,
    state: TaskState,
    requester: dict[str, str] | None,
    practice: Practice,
    outputs: Sequence[str],
    updated: datetime,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Task",
        "id": derived_id(referral.id, "task"),
        "meta": {"profile": [PA_TASK]} if requester else {},
        "status": state.status,
        "businessStatus": {"text": state.business},
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": TASK_CODE, "code": "fulfill"}]},
        "focus": ref(referral.id, "Referral"),
        "for": ref(client.id, client.full_name),
        "authoredOn": referral.referred_on.isoformat(),
        "lastModified": updated.isoformat(),
        "owner": ref(practice.role, practice.name),
    }
    if not out["meta"]:
        del out["meta"]
    if state.reason:
        out["statusReason"] = {"text": state.reason}
    if requester:
        out["requester"] = requester
    if outputs:
        out["output"] = [
            {
                "type": {"coding": [{"system": SDOHCC_TEMPORARY, "code": "resulting-activity"}]},
                "valueReference": ref(report_id),
            }
            for report_id in outputs
        ]
    return out


# -- measurements -----------------------------------------------------------------------------


def _category(m: MeasureDefinition) -> list[dict[str, Any]]:
    if m.category == "vitals":
        return [
            {
                "coding": [
                    {
                        "system": OBSERVATION_CATEGORY,
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ]
    functional = {
        "coding": [
            {
                "system": US_CORE_CATEGORY,
                "code": "functional-status",
                "display": "Functional Status",
            }
        ]
    }
    if m.category == "questionnaire":
        survey = {
            "coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]
        }
        return [functional, survey]
    return [functional]


def measure_code(m: MeasureDefinition, protocol: Mapping[str, Any]) -> dict[str, Any]:
    codings = []
    found = loinc_for(m.id, protocol)
    if found is not None:
        codings.append({"system": LOINC, "code": found[0], "display": found[1]})
    codings.append({"system": MEASURES_SYSTEM, "code": m.id, "display": m.name})
    return {"coding": codings, "text": m.name}


def _protocol_text(m: MeasureDefinition, protocol: Mapping[str, Any]) -> str:
    labels = {p.key: (p.label, p.unit) for p in m.protocol}
    parts = []
    for key, value in protocol.items():
        label, unit = labels.get(key, (key.replace("_", " "), ""))
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, float) and value.is_integer():
            shown = str(int(value))
        else:
            shown = str(value)
        parts.append(f"{label}: {shown}{' ' + unit if unit and not shown.endswith(unit) else ''}")
    return "; ".join(parts)


def _based_on(referrals: Sequence[Referral], day: date) -> list[dict[str, str]]:
    earlier = [r for r in referrals if r.referred_on <= day]
    if not earlier:
        return []
    latest = max(earlier, key=lambda r: (r.referred_on, r.created_at))
    return [ref(latest.id)]


def measurement_observation(
    assessment: Assessment,
    index: int,
    entry: MeasurementEntry,
    m: MeasureDefinition,
    client: Client,
    practice: Practice,
    based_on: list[dict[str, str]],
) -> dict[str, Any]:
    assert entry.value is not None
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "id": derived_id(assessment.id, "measurement", str(index)),
        "status": "final",
        "category": _category(m),
        "code": measure_code(m, entry.protocol),
        "subject": ref(client.id, client.full_name),
        "effectiveDateTime": assessment.assessed_on.isoformat(),
        "performer": [ref(practice.role, practice.name)],
        "valueQuantity": quantity(entry.value, m.unit, m.decimals),
    }
    if based_on:
        out["basedOn"] = based_on
    variant = entry.variant
    if variant:
        out["bodySite"] = {"text": variant.capitalize()}
    method = _protocol_text(m, entry.protocol)
    if method:
        out["method"] = {"text": method}
    if entry.notes:
        out["note"] = [{"text": entry.notes}]
    return out


ACTIVITY_CATEGORY = {
    "coding": [{"system": OBSERVATION_CATEGORY, "code": "activity", "display": "Activity"}]
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def evs_observations(
    assessment: Assessment,
    index: int,
    entry: MeasurementEntry,
    client: Client,
    based_on: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """The Exercise Vital Sign as the guide's three EVS observations: minutes a week
    (82290-8, derived from) days a week (89555-7) and minutes a day (68516-4), as the client
    reported them (the client is the performer)."""
    assert entry.value is not None
    common: dict[str, Any] = {
        "status": "final",
        "category": [ACTIVITY_CATEGORY, PA_CATEGORY],
        "subject": ref(client.id, client.full_name),
        "effectiveDateTime": assessment.assessed_on.isoformat(),
        "performer": [ref(client.id, client.full_name)],
    }
    if based_on:
        common["basedOn"] = based_on

    def one(part: str, code: tuple[str, str], value: float, unit: str, ucum: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": derived_id(assessment.id, "measurement", str(index), part),
            "meta": {"profile": [PA_EVS_PROFILES[code[0]]]},
            **common,
            "code": {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}]},
            "valueQuantity": {"value": round(value), "unit": unit, "system": UCUM, "code": ucum},
        }

    week = one("week", LOINC_CODES["physical_activity"], entry.value, "min/week", "min/wk")
    week["code"]["text"] = CATALOGUE["physical_activity"].name
    week["code"]["coding"].append(
        {
            "system": MEASURES_SYSTEM,
            "code": "physical_activity",
            "display": CATALOGUE["physical_activity"].name,
        }
    )
    out = [week]
    days = _number(entry.protocol.get("days_per_week"))
    minutes = _number(entry.protocol.get("minutes_per_day"))
    if days is not None and minutes is not None:
        out.append(one("days", EVS_DAYS, days, "days/week", "d/wk"))
        out.append(one("minutes", EVS_MINUTES, minutes, "min/day", "min/d"))
        week["derivedFrom"] = [ref(out[1]["id"]), ref(out[2]["id"])]
    return out


def vitals_observations(
    assessment: Assessment, client: Client, practice: Practice, based_on: list[dict[str, str]]
) -> list[dict[str, Any]]:
    v = assessment.vitals
    if v is None or v.is_empty:
        return []
    common: dict[str, Any] = {
        "status": "final",
        "category": _category(CATALOGUE["resting_hr"]),
        "subject": ref(client.id, client.full_name),
        "effectiveDateTime": assessment.assessed_on.isoformat(),
        "performer": [ref(practice.role, practice.name)],
    }
    if based_on:
        common["basedOn"] = based_on
    out = []
    if v.resting_hr is not None:
        code, display = LOINC_CODES["resting_hr"]
        out.append(
            {
                "resourceType": "Observation",
                "id": derived_id(assessment.id, "vitals", VITAL_MEASURES["resting_hr"]),
                "meta": {"profile": [HEART_RATE_PROFILE]},
                **common,
                "code": {
                    "coding": [{"system": LOINC, "code": code, "display": display}],
                    "text": "Resting heart rate",
                },
                "valueQuantity": quantity(v.resting_hr, "bpm", 0),
            }
        )
    if v.systolic is not None and v.diastolic is not None:
        components = []
        for measure_id, value in (("bp_systolic", v.systolic), ("bp_diastolic", v.diastolic)):
            code, display = LOINC_CODES[measure_id]
            components.append(
                {
                    "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                    "valueQuantity": quantity(value, "mmHg", 0),
                }
            )
        bp: dict[str, Any] = {
            "resourceType": "Observation",
            "id": derived_id(assessment.id, "vitals", "blood_pressure"),
            "meta": {"profile": [BP_PROFILE]},
            **common,
            "code": {
                "coding": [{"system": LOINC, "code": BP_PANEL[0], "display": BP_PANEL[1]}],
                "text": "Resting blood pressure",
            },
            "component": components,
        }
        details = [f"position: {v.position}"] + ([f"arm: {v.arm}"] if v.arm else [])
        bp["method"] = {"text": "; ".join(details)}
        out.append(bp)
    return out


def _session_activity(
    log: SessionLog, client: Client, practice: Practice, based_on: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """A signed, attended session as the guide's activity measures: the exercise done (LOINC
    73985-4, in words) and, when times were logged, its duration (55411-3)."""
    if log.signature is None or log.attendance is not Attendance.ATTENDED or not log.exercises:
        return []
    common: dict[str, Any] = {
        "meta": {"profile": [PA_ACTIVITY_MEASURE]},
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": OBSERVATION_CATEGORY, "code": "activity", "display": "Activity"}
                ]
            },
            PA_CATEGORY,
        ],
        "subject": ref(client.id, client.full_name),
        "effectiveDateTime": log.session_date.isoformat(),
        "performer": [ref(practice.role, practice.name)],
    }
    if based_on:
        common["basedOn"] = based_on
    done = "; ".join(
        f"{e.exercise_name} {e.text}".strip() if e.text else e.exercise_name for e in log.exercises
    )
    out = [
        {
            "resourceType": "Observation",
            "id": derived_id(log.id, "activity"),
            **common,
            "code": {
                "coding": [{"system": LOINC, "code": "73985-4", "display": "Exercise activity"}]
            },
            "valueCodeableConcept": {"text": f"Supervised exercise session: {done}"[:2000]},
        }
    ]
    seconds = session_volume(log).duration_s
    if seconds > 0:
        out.append(
            {
                "resourceType": "Observation",
                "id": derived_id(log.id, "duration"),
                **common,
                "code": {
                    "coding": [{"system": LOINC, "code": "55411-3", "display": "Exercise duration"}]
                },
                "valueQuantity": {
                    "value": round(seconds / 60, 1),
                    "unit": "min",
                    "system": UCUM,
                    "code": "min",
                },
            }
        )
    return out


# -- safety -----------------------------------------------------------------------------------

_ISSUE_SEVERITY = {Severity.HARD_STOP: "high", Severity.CAUTION: "moderate", Severity.INFO: "low"}


def _safety_issue(
    log: SessionLog, index: int, flag: SafetyFlag, client: Client, practice: Practice
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": derived_id(log.id, "flag", str(index)),
        "status": "final",
        "code": {
            "coding": [{"system": SAFETY_FLAGS_SYSTEM, "code": flag.code.value}],
            "text": flag.title,
        },
        "severity": _ISSUE_SEVERITY[flag.severity],
        "patient": ref(client.id, client.full_name),
        "identifiedDateTime": log.session_date.isoformat(),
        "author": ref(practice.role, practice.name),
        "detail": f"{flag.detail} ({flag.threshold})"[:5000],
    }
    mitigation = [{"action": {"text": flag.what_to_do}, "date": log.session_date.isoformat()}]
    if log.action_taken:
        mitigation.append(
            {"action": {"text": log.action_taken}, "date": log.session_date.isoformat()}
        )
    out["mitigation"] = mitigation
    return out


def _adverse_event(log: SessionLog, client: Client, practice: Practice) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": derived_id(log.id, "adverse-event"),
        "actuality": "actual",
        "event": {"text": log.adverse_events},
        "subject": ref(client.id, client.full_name),
        "date": log.session_date.isoformat(),
        "recorder": ref(practice.role, practice.name),
    }
    return out


def safety_resources(log: SessionLog, client: Client, practice: Practice) -> list[dict[str, Any]]:
    """The safety flags and adverse events of a signed session log."""
    if log.signature is None:
        return []
    out = [_safety_issue(log, i, flag, client, practice) for i, flag in enumerate(log.safety_flags)]
    if log.adverse_events.strip():
        out.append(_adverse_event(log, client, practice))
    return out


# -- reports ----------------------------------------------------------------------------------

_DOCUMENT_PAGE = (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
    "</head>\n<body>\n{body}\n</body>\n</html>\n"
)


def presented_html(document: SentDocument) -> str:
    """The document as sent, as a self-contained page: its stored HTML made inert (no script,
    form, link or outside request survives), titled."""
    title = document.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _DOCUMENT_PAGE.format(title=title, body=inert_html(document.html))


def diagnostic_report(
    document: SentDocument,
    client: Client,
    practice: Practice,
    based_on: list[dict[str, str]],
    results: Sequence[str],
) -> dict[str, Any]:
    page = presented_html(document)
    out: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": document.id,
        "identifier": [{"system": RFC3986, "value": full_url(document.id)}],
        "status": "final",
        "category": [PA_CATEGORY],
        "code": {
            "coding": [
                {
                    "system": PA_CODES,
                    "code": "PAConsultNote",
                    "display": "Physical activity Consult note",
                }
            ],
            "text": document.title,
        },
        "subject": ref(client.id, client.full_name),
        "effectiveDateTime": document.document_date.isoformat(),
        "issued": document.created_at.isoformat(),
        "performer": [ref(practice.role, practice.name)],
        "presentedForm": [
            {
                "contentType": "text/html",
                "language": "en",
                "data": base64.b64encode(page.encode("utf-8")).decode("ascii"),
                "title": document.title,
                "creation": document.created_at.isoformat(),
            }
        ],
    }
    if based_on:
        out["basedOn"] = based_on
    if results:
        out["result"] = [ref(r) for r in results]
    return out


# -- the bundle -------------------------------------------------------------------------------


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url(resource["id"]), "resource": resource}


def build_bundle(inp: ExportInput, document_id: str | None = None) -> dict[str, Any]:
    """The client's FHIR R4 ``Bundle`` (type ``collection``). With ``document_id``: that one
    report with what it rests on (the client, the practice, the referral, its status and the
    measurements up to the report's date)."""
    client = inp.client
    practice, practice_res = practice_resources(inp.profile)
    resources: list[dict[str, Any]] = [patient(client), *practice_res]
    referrals = sorted(inp.referrals, key=lambda r: (r.referred_on, r.created_at))
    latest = referrals[-1] if referrals else None
    state = task_state(client, latest, inp.episodes) if latest else None

    reports = sorted(
        (d for d in inp.documents if d.client_id == client.id and is_report(d)),
        key=lambda d: (d.document_date, d.created_at),
    )
    if document_id is not None:
        reports = [d for d in reports if d.id == document_id]
        until: date | None = reports[0].document_date if reports else None
    else:
        until = None

    requesters: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    for r in referrals:
        provider = inp.providers.get(r.provider_id)
        if provider is None or provider.id in requesters:
            continue
        requester_id, provider_res = provider_resources(provider)
        resources.extend(provider_res)
        requesters[provider.id] = (
            ref(requester_id, provider.display_name),
            ref(provider.id, provider.display_name),
        )
    for r in referrals:
        requester, practitioner = requesters.get(r.provider_id, (None, None))
        status = state.request_status if r is latest and state else "completed"
        resources.append(service_request(r, client, requester, practitioner, practice, status))

    observations: list[dict[str, Any]] = []
    for a in sorted(inp.assessments, key=lambda a: (a.assessed_on, a.created_at)):
        if a.client_id != client.id or (until is not None and a.assessed_on > until):
            continue
        based_on = _based_on(referrals, a.assessed_on)
        for i, e in enumerate(a.measurements):
            m = definition_for(e.measure_id, inp.custom_measures)
            if e.value is None or m is None:
                continue
            if e.measure_id == "physical_activity":
                observations.extend(evs_observations(a, i, e, client, based_on))
                continue
            observations.append(measurement_observation(a, i, e, m, client, practice, based_on))
        observations.extend(vitals_observations(a, client, practice, based_on))
    logs = sorted(
        (lg for lg in inp.session_logs if lg.client_id == client.id and lg.signature is not None),
        key=lambda lg: (lg.session_date, lg.created_at),
    )
    if until is not None:
        logs = [lg for lg in logs if lg.session_date <= until]
    safety: list[dict[str, Any]] = []
    for lg in logs:
        based_on = _based_on(referrals, lg.session_date)
        observations.extend(_session_activity(lg, client, practice, based_on))
        safety.extend(safety_resources(lg, client, practice))

    report_resources = []
    for d in reports:
        results = [
            o["id"] for o in observations if o["effectiveDateTime"] <= d.document_date.isoformat()
        ]
        report_resources.append(
            diagnostic_report(d, client, practice, _based_on(referrals, d.document_date), results)
        )
    if latest is not None and state is not None:
        requester, _ = requesters.get(latest.provider_id, (None, None))
        resources.append(
            task(
                latest,
                client,
                state,
                requester,
                practice,
                [r["id"] for r in report_resources],
                inp.generated_at,
            )
        )
    resources.extend(observations)
    resources.extend(safety)
    resources.extend(report_resources)
    bundle_key = document_id or client.id
    return {
        "resourceType": "Bundle",
        "id": derived_id(bundle_key, "bundle", inp.generated_at.isoformat()),
        "meta": {"lastUpdated": inp.generated_at.isoformat()},
        "identifier": {"system": RFC3986, "value": full_url(derived_id(bundle_key, "bundle"))},
        "type": "collection",
        "timestamp": inp.generated_at.isoformat(),
        "entry": [_entry(r) for r in resources],
    }


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9]+")


def export_filename(client: Client, day: date, document: SentDocument | None = None) -> str:
    """``fhir-lopez-ana-2025-06-01.json`` (ASCII, no spaces), or with the report's title."""
    name = _UNSAFE_FILENAME.sub("-", f"{client.last_name} {client.first_name}".lower()).strip("-")
    what = ""
    if document is not None:
        what = "-" + _UNSAFE_FILENAME.sub("-", document.title.lower()).strip("-")[:40].strip("-")
    return f"fhir-{name or 'client'}{what}-{day.isoformat()}.json"
