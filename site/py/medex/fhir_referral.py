"""Reading a referral from a physician's system: a FHIR R4 ``ServiceRequest``, or a ``Bundle``
holding one with its ``Patient`` and requester (HL7 Physical Activity IG, PA Service Request).

Pure domain: text in, an ``ImportedReferral`` out (the values that pre-fill the new client,
the referring provider and the referral for the practitioner to review), or
``ReferralFileError`` with a plain message. Nothing is stored here, and a file that is not a
readable referral is refused whole: too large, nested too deeply, not JSON, not FHIR, not a
referral. Every value taken from the file is text of bounded length, with control characters
removed; what could not be used is listed in ``notes`` so the practitioner sees it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .backup import nested_too_deep
from .fhir import ICD10CM, NPI

MAX_FILE_CHARS = 2_000_000  # a referral is a few kilobytes; a bundle with notes well under 1 MB
MAX_ENTRIES = 2_000
MAX_TEXT = 5_000  # the longest text field of a referral (records.LongText)
MAX_DIAGNOSES = 25
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class ReferralFileError(ValueError):
    """The file cannot be read as a referral; ``str(exc)`` says why, in plain words."""


@dataclass
class ImportedReferral:
    """What a referral file says, as form values (strings), for review before anything is
    saved. ``provider_key`` is the NPI (or name) used to find the provider in the directory."""

    client: dict[str, str] = field(default_factory=dict)
    provider: dict[str, str] = field(default_factory=dict)
    referral: dict[str, str] = field(default_factory=dict)
    diagnoses: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": dict(self.client),
            "provider": dict(self.provider),
            "referral": dict(self.referral),
            "diagnoses": [dict(d) for d in self.diagnoses],
            "notes": list(self.notes),
        }


# -- safe access ------------------------------------------------------------------------------


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    """A string from the file, cleaned (one kind of whitespace, no control characters) and
    bounded; anything that is not a string reads as empty."""
    if not isinstance(value, str):
        return ""
    return _CONTROL.sub("", value).strip()[:limit]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _date(value: Any) -> str:
    """The date part of a FHIR date or dateTime ("2025-06-01T10:00:00Z" → "2025-06-01");
    empty when it is not a full, real date."""
    match = _DATE.match(_text(value, 40))
    if not match:
        return ""
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return ""


def _concept_text(concept: Any) -> str:
    c = _dict(concept)
    text = _text(c.get("text"), 500)
    if text:
        return text
    for coding in _list(c.get("coding")):
        display = _text(_dict(coding).get("display"), 500)
        if display:
            return display
    return ""


# -- the file ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed")


def _load(text: Any) -> dict[str, Any]:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ReferralFileError("This file is not a referral: it is not a text file.") from exc
    if not isinstance(text, str):
        raise ReferralFileError("This file could not be read.")
    if len(text) > MAX_FILE_CHARS:
        raise ReferralFileError(
            "This file is too large to be a referral "
            f"(over {MAX_FILE_CHARS // 1_000_000} MB). Nothing was imported."
        )
    stripped = text.removeprefix("\ufeff").strip()
    if not stripped:
        raise ReferralFileError("This file is empty.")
    if nested_too_deep(stripped):
        raise ReferralFileError("This file is not a referral: it is nested too deeply.")
    try:
        doc = json.loads(stripped, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ReferralFileError("This file is not a referral: it is nested too deeply.") from exc
    except ValueError as exc:
        if stripped.startswith("<"):
            raise ReferralFileError(
                "This file is in XML: export the referral as FHIR JSON and choose that file."
            ) from exc
        raise ReferralFileError(
            "This file is not a FHIR referral: it is not valid JSON (perhaps it was cut off)."
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        raise ReferralFileError("This file is not a FHIR resource: it names no resourceType.")
    return doc


class _Resources:
    """The resources a reference may point at: the bundle's entries (by full URL and by
    ``Type/id``) and contained resources (``#id``)."""

    def __init__(self) -> None:
        self.by_ref: dict[str, dict[str, Any]] = {}

    def add(self, resource: dict[str, Any], full_url: str = "") -> None:
        kind, rid = _text(resource.get("resourceType"), 64), _text(resource.get("id"), 64)
        if full_url:
            self.by_ref[full_url] = resource
        if kind and rid:
            self.by_ref.setdefault(f"{kind}/{rid}", resource)
        for inner in _list(resource.get("contained")):
            inner = _dict(inner)
            cid = _text(inner.get("id"), 64)
            if cid:
                self.by_ref.setdefault(f"#{cid}", inner)

    def resolve(self, reference: Any, *kinds: str) -> dict[str, Any] | None:
        target = _text(_dict(reference).get("reference"), 500)
        if not target:
            return None
        found = self.by_ref.get(target)
        if found is None and "/" in target:  # an absolute URL ending in Type/id
            found = self.by_ref.get("/".join(target.rstrip("/").split("/")[-2:]))
        if found is not None and found.get("resourceType") in kinds:
            return found
        return None


def _service_requests(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], _Resources]:
    resources = _Resources()
    kind = doc["resourceType"]
    if kind == "ServiceRequest":
        resources.add(doc)
        return [doc], resources
    if kind != "Bundle":
        raise ReferralFileError(
            f"This file holds a FHIR {_text(kind, 64)}, not a referral: choose a ServiceRequest "
            "or a Bundle holding one."
        )
    entries = doc.get("entry")
    if not isinstance(entries, list):
        raise ReferralFileError("This FHIR Bundle is empty: it holds no referral.")
    if len(entries) > MAX_ENTRIES:
        raise ReferralFileError(
            f"This FHIR Bundle holds {len(entries):,} entries: too many for a referral."
        )
    found = []
    for entry in entries:
        resource = _dict(_dict(entry).get("resource"))
        if not isinstance(resource.get("resourceType"), str):
            continue
        resources.add(resource, _text(_dict(entry).get("fullUrl"), 500))
        if resource["resourceType"] == "ServiceRequest":
            found.append(resource)
    if not found:
        raise ReferralFileError(
            "This FHIR Bundle holds no referral (no ServiceRequest). Ask the physician's office "
            "for the referral itself."
        )
    return found, resources


def _chosen(requests: list[dict[str, Any]], notes: list[str]) -> dict[str, Any]:
    if len(requests) == 1:
        return requests[0]
    active = [r for r in requests if r.get("status") == "active"] or requests
    chosen = max(active, key=lambda r: _date(r.get("authoredOn")))
    notes.append(
        f"The file holds {len(requests)} referrals: the latest active one "
        f"({_date(chosen.get('authoredOn')) or 'undated'}) is shown."
    )
    return chosen


# -- people -----------------------------------------------------------------------------------


def _name(resource: dict[str, Any]) -> tuple[str, str, str]:
    """(given, family, whole name) of a Patient or Practitioner: the official name first."""
    names = [_dict(n) for n in _list(resource.get("name"))]
    names.sort(key=lambda n: n.get("use") != "official")
    for n in names:
        given = " ".join(_text(g, 100) for g in _list(n.get("given")) if _text(g, 100))
        family = _text(n.get("family"), 200)
        text = _text(n.get("text"), 200)
        if not (given or family) and text:
            words = text.split()
            given, family = " ".join(words[:-1]), words[-1] if words else ""
        whole = text or " ".join(p for p in (given, family) if p)
        if whole:
            suffix = " ".join(_text(s, 40) for s in _list(n.get("suffix")) if _text(s, 40))
            return (
                given,
                family,
                f"{whole}{', ' + suffix if suffix and suffix not in whole else ''}",
            )
    return "", "", ""


def _telecoms(resource: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in _list(resource.get("telecom")):
        t = _dict(t)
        system, value = _text(t.get("system"), 20), _text(t.get("value"), 254)
        if system in ("phone", "fax", "email") and value and system not in out:
            out[system] = value
    return out


def _address(resource: dict[str, Any]) -> str:
    for a in _list(resource.get("address")):
        a = _dict(a)
        lines = [_text(line, 200) for line in _list(a.get("line")) if _text(line, 200)]
        city = _text(a.get("city"), 100)
        rest = " ".join(p for p in (_text(a.get("state"), 40), _text(a.get("postalCode"), 20)) if p)
        city_line = ", ".join(p for p in (city, rest) if p)
        if lines or city_line:
            return "\n".join([*lines, *([city_line] if city_line else [])])[:500]
        text = _text(a.get("text"), 500)
        if text:
            return text
    return ""


_SEX = {"female": "female", "male": "male", "unknown": "not_stated"}


def _patient_values(
    patient: dict[str, Any] | None, subject: Any, notes: list[str]
) -> dict[str, str]:
    if patient is None:
        display = _text(_dict(subject).get("display"), 200)
        words = display.split()
        notes.append(
            "The file does not include the patient's details: enter the date of birth and sex."
        )
        return {"first_name": " ".join(words[:-1]), "last_name": words[-1] if words else ""}
    given, family, _ = _name(patient)
    telecom = _telecoms(patient)
    gender = _text(patient.get("gender"), 20)
    values = {
        "first_name": given,
        "last_name": family,
        "date_of_birth": _date(patient.get("birthDate")),
        "sex": _SEX.get(gender, ""),
        "phone": telecom.get("phone", ""),
        "email": telecom.get("email", ""),
        "address": _address(patient),
    }
    if patient.get("birthDate") and not values["date_of_birth"]:
        notes.append("The date of birth in the file is not a full date: enter it.")
    if gender == "other":
        notes.append("The file gives the sex as 'other': choose the one that applies.")
    return values


def _credentials(practitioner: dict[str, Any]) -> str:
    found = []
    for q in _list(practitioner.get("qualification")):
        text = _concept_text(_dict(q).get("code"))
        if text and text not in found:
            found.append(text)
    return ", ".join(found)[:200]


def _npi(practitioner: dict[str, Any]) -> str:
    for identifier in _list(practitioner.get("identifier")):
        identifier = _dict(identifier)
        if _text(identifier.get("system"), 200) == NPI:
            return _text(identifier.get("value"), 20)
    return ""


def _provider_values(requester: Any, resources: _Resources, notes: list[str]) -> dict[str, str]:
    found = resources.resolve(requester, "Practitioner", "PractitionerRole", "Organization")
    display = _text(_dict(requester).get("display"), 200)
    practitioner: dict[str, Any] | None = None
    organization: dict[str, Any] | None = None
    role: dict[str, Any] = {}
    if found is not None and found["resourceType"] == "PractitionerRole":
        role = found
        practitioner = resources.resolve(found.get("practitioner"), "Practitioner")
        organization = resources.resolve(found.get("organization"), "Organization")
    elif found is not None and found["resourceType"] == "Practitioner":
        practitioner = found
    elif found is not None:
        organization = found
    values = {"name": display}
    if practitioner is not None:
        _, _, whole = _name(practitioner)
        telecom = _telecoms(practitioner)
        values.update(
            name=whole.split(",")[0].strip() if whole else display,
            credentials=_credentials(practitioner),
            npi=_npi(practitioner),
            phone=telecom.get("phone", ""),
            fax=telecom.get("fax", ""),
            email=telecom.get("email", ""),
            address=_address(practitioner),
        )
    role_telecom = _telecoms(role)
    for key in ("phone", "fax", "email"):
        if not values.get(key) and role_telecom.get(key):
            values[key] = role_telecom[key]
    if organization is not None:
        values["practice"] = _text(organization.get("name"), 200)
        if not values.get("address"):
            values["address"] = _address(organization)
        org_telecom = _telecoms(organization)
        for key in ("phone", "fax"):
            if not values.get(key) and org_telecom.get(key):
                values[key] = org_telecom[key]
        if practitioner is None and not display:
            values["name"] = values["practice"]
    if not values.get("name"):
        notes.append("The file does not say who referred the client: choose the provider.")
    return {k: v for k, v in values.items() if v}


# -- the referral -----------------------------------------------------------------------------

_LABELS = {
    "precautions": "precautions",
    "requested frequency": "requested_frequency",
    "frequency": "requested_frequency",
    "requested duration": "requested_duration",
    "duration": "requested_duration",
    "physician's next follow-up": "physician_follow_up",
    "physician's follow-up": "physician_follow_up",
    "follow-up": "physician_follow_up",
}
_UNIT_WORDS = {"d": "day", "wk": "week", "mo": "month", "h": "hour", "a": "year"}


def _frequency(timing: dict[str, Any]) -> tuple[str, str]:
    repeat = _dict(timing.get("repeat"))
    frequency, period = repeat.get("frequency"), repeat.get("period")
    unit = _UNIT_WORDS.get(_text(repeat.get("periodUnit"), 4), "")
    freq_text = ""
    if (
        isinstance(frequency, int)
        and not isinstance(frequency, bool)
        and 0 < frequency < 100
        and unit
    ):
        if period in (1, 1.0, None):
            freq_text = f"{frequency} session{'s' if frequency != 1 else ''} a {unit}"
        elif isinstance(period, (int, float)) and 0 < period < 1000:
            freq_text = (
                f"{frequency} session{'s' if frequency != 1 else ''} every {period:g} {unit}s"
            )
    duration = _dict(repeat.get("boundsDuration"))
    length = duration.get("value")
    dur_unit = _UNIT_WORDS.get(_text(duration.get("code"), 4)) or _text(duration.get("unit"), 20)
    dur_text = ""
    if (
        isinstance(length, (int, float))
        and not isinstance(length, bool)
        and 0 < length < 1000
        and dur_unit
    ):
        word = dur_unit.rstrip("s")
        dur_text = f"{length:g} {word}{'s' if length != 1 else ''}"
    count = repeat.get("count")
    if not dur_text and isinstance(count, int) and not isinstance(count, bool) and 0 < count < 1000:
        dur_text = f"{count} sessions"
    return freq_text, dur_text


def _period_duration(period: dict[str, Any]) -> str:
    start, end = _date(period.get("start")), _date(period.get("end"))
    if not (start and end):
        return ""
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days
    if days <= 0:
        return ""
    weeks = round(days / 7)
    return f"{weeks} weeks" if weeks >= 2 else f"{days} days"


def _diagnoses(
    request: dict[str, Any], resources: _Resources, notes: list[str]
) -> tuple[list[dict[str, str]], list[str]]:
    """ICD-10-CM codes of the reasons (and of the conditions they point at); free-text reasons
    are returned apart."""
    concepts: list[dict[str, Any]] = [_dict(c) for c in _list(request.get("reasonCode"))]
    for reference in _list(request.get("reasonReference")):
        condition = resources.resolve(reference, "Condition")
        if condition is not None:
            concepts.append(_dict(condition.get("code")))
    found: list[dict[str, str]] = []
    texts: list[str] = []
    left_out: list[str] = []
    for concept in concepts:
        icd = [
            _dict(c)
            for c in _list(concept.get("coding"))
            if _text(_dict(c).get("system"), 200) == ICD10CM and _text(_dict(c).get("code"), 20)
        ]
        if icd:
            for coding in icd:
                code = _text(coding.get("code"), 20).upper()
                if any(d["code"] == code for d in found):
                    continue
                description = _text(coding.get("display"), 228) or _text(concept.get("text"), 228)
                found.append({"code": code, "description": description})
            continue
        text = _concept_text(concept)
        if concept.get("coding") and text:
            left_out.append(text)
        elif text:
            texts.append(text)
    if left_out:
        notes.append(
            "Reasons coded other than in ICD-10-CM were not added as diagnoses: "
            + "; ".join(left_out[:10])
        )
    if len(found) > MAX_DIAGNOSES:
        notes.append(f"Only the first {MAX_DIAGNOSES} of {len(found)} diagnoses are shown.")
        found = found[:MAX_DIAGNOSES]
    return found, texts + left_out


def _referral_values(
    request: dict[str, Any], reasons: list[str], notes: list[str]
) -> dict[str, str]:
    values: dict[str, str] = {"referred_on": _date(request.get("authoredOn"))}
    reason_parts = list(reasons)
    extra: list[str] = []
    for note in _list(request.get("note")):
        text = _text(_dict(note).get("text"))
        label, sep, rest = text.partition(":")
        key = _LABELS.get(label.strip().lower()) if sep else None
        if key and rest.strip() and not values.get(key):
            values[key] = rest.strip()
        elif text:
            extra.append(text)
    if not reason_parts:
        requested = _concept_text(request.get("code"))
        if requested:
            reason_parts.append(requested)
    for detail in _list(request.get("orderDetail")):
        text = _concept_text(detail)
        if text:
            reason_parts.append(text)
    values["reason"] = "\n".join([*reason_parts, *extra])[:MAX_TEXT]
    instruction = _text(request.get("patientInstruction"))
    if instruction:
        values["precautions"] = "\n".join(
            p for p in (values.get("precautions", ""), instruction) if p
        )[:MAX_TEXT]
    frequency, duration = _frequency(_dict(request.get("occurrenceTiming")))
    if not duration:
        duration = _period_duration(_dict(request.get("occurrencePeriod")))
    values.setdefault("requested_frequency", frequency)
    values.setdefault("requested_duration", duration)
    follow_up = values.get("physician_follow_up", "")
    if follow_up:
        values["physician_follow_up"] = _date(follow_up)
        if not values["physician_follow_up"]:
            notes.append(f"The physician's follow-up in the file is not a date: {follow_up[:40]}")
    if not values["referred_on"]:
        notes.append("The file does not date the referral: enter the referral date.")
    status = _text(request.get("status"), 40)
    if status and status not in ("active", "draft"):
        notes.append(f"The physician's system marks this referral as '{status}'.")
    return {k: v for k, v in values.items() if v}


def read_referral(text: Any) -> ImportedReferral:
    """The referral in a FHIR file, as values to review; ``ReferralFileError`` if the file is
    not one (the message says why)."""
    doc = _load(text)
    out = ImportedReferral()
    requests, resources = _service_requests(doc)
    request = _chosen(requests, out.notes)
    patient = resources.resolve(request.get("subject"), "Patient")
    out.client = _patient_values(patient, request.get("subject"), out.notes)
    out.provider = _provider_values(request.get("requester"), resources, out.notes)
    out.diagnoses, reasons = _diagnoses(request, resources, out.notes)
    out.referral = _referral_values(request, reasons, out.notes)
    if not out.diagnoses:
        out.notes.append(
            "The file has no ICD-10-CM diagnosis: add the diagnosis from the referral."
        )
    return out


def provider_key(values: Mapping[str, str]) -> tuple[str, str]:
    """(NPI, name) of the provider named in a file, to find them in the directory."""
    return values.get("npi", ""), values.get("name", "")
