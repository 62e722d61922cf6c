"""Referral and intake use cases: providers, clients, referrals, health history, screening,
clearance, consents, goals, the client list and the onboarding checklist.

Each ``save_*`` validates a form dict (strings as typed) and returns ``(FormResult, record)``:
on failure nothing is stored and the result carries what was typed and the messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from ..dashboard import DashboardItem
from ..forms import FormResult, clean_form, field_errors
from ..health import HealthHistory
from ..icd10 import ICD10_CONTEXT_KEY, Icd10Index
from ..intake import (
    CONSENT_SIGNING_KIND,
    MODEL_ERROR_FIELDS,
    Client,
    ClientStatus,
    Consent,
    ConsentKind,
    ConsentTexts,
    Goals,
    Referral,
    ReferringProvider,
    check_transition,
    name_key,
)
from ..navigation import Screen
from ..records import Record, utc_now
from ..repository import R, Repository, StorageFullError
from ..screening import (
    SIGN_OR_SYMPTOM_LABELS,
    Clearance,
    ParqAnswers,
    ScreeningRecord,
)
from ..signing import SignatureCheck, Signer, VerificationCache, signing_message
from .practice import profile_with_signing_key

STORAGE_FULL = "This device's storage is full: nothing was saved. Export a backup, then free space."

PROVIDER_FIELDS = (
    "name",
    "credentials",
    "practice",
    "phone",
    "fax",
    "email",
    "address",
    "npi",
    "notes",
)
CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "notes",
)
REFERRAL_FIELDS = (
    "provider_id",
    "referred_on",
    "reason",
    "precautions",
    "requested_frequency",
    "requested_duration",
    "physician_follow_up",
)


def _errors(exc: ValidationError) -> dict[str, str]:
    errors = field_errors(exc)
    general = errors.get("__all__")
    if general in MODEL_ERROR_FIELDS:
        errors.pop("__all__")
        errors.setdefault(MODEL_ERROR_FIELDS[general], general)
    return errors


async def _store(
    repo: Repository, typed: dict[str, Any], record: R, *others: Record
) -> tuple[FormResult, R | None]:
    """Save ``record`` with ``others`` in one transaction; the result carries ``record``."""
    try:
        await repo.save(record, *others)
    except StorageFullError:
        return FormResult(ok=False, errors={"__all__": STORAGE_FULL}, values=typed), None
    return FormResult(ok=True, values=typed), record


def _edit(current: Record | None) -> dict[str, Any]:
    """Keep id and creation time when a record is edited."""
    if current is None:
        return {}
    return {"id": current.id, "created_at": current.created_at, "updated_at": utc_now()}


# -- providers --------------------------------------------------------------------------------


async def save_provider(
    repo: Repository, form: dict[str, Any], provider_id: str | None = None
) -> tuple[FormResult, ReferringProvider | None]:
    typed = {k: form.get(k, "") for k in PROVIDER_FIELDS}
    current = await repo.get(ReferringProvider, provider_id) if provider_id else None
    try:
        provider = ReferringProvider(**clean_form(typed), **_edit(current))
    except ValidationError as exc:
        return FormResult(ok=False, errors=_errors(exc), values=typed), None
    return await _store(repo, typed, provider)


async def list_providers(repo: Repository) -> list[ReferringProvider]:
    return sorted(await repo.list(ReferringProvider), key=lambda p: name_key(p.name))


# -- clients ----------------------------------------------------------------------------------


async def save_client(
    repo: Repository, form: dict[str, Any], today: date, client_id: str | None = None
) -> tuple[FormResult, Client | None]:
    typed = {k: form.get(k, "") for k in CLIENT_FIELDS}
    current = await repo.get(Client, client_id) if client_id else None
    data = clean_form(typed)
    if current is not None:
        data.update(status=current.status, provider_id=current.provider_id)
    try:
        client = Client.model_validate({**data, **_edit(current)}, context={"today": today})
    except ValidationError as exc:
        return FormResult(ok=False, errors=_errors(exc), values=typed), None
    return await _store(repo, typed, client)


async def change_status(
    repo: Repository, client: Client, new: ClientStatus, today: date
) -> tuple[bool, str, Client]:
    """Move a client to another status. Making a client active needs the medical clearance
    when the latest screening recommends it (and it has not been received)."""
    try:
        check_transition(client.status, new)
    except ValueError as exc:
        return False, str(exc), client
    if new is ClientStatus.ACTIVE:
        file = await load_client_file(repo, client.id)
        if file.clearance_outstanding:
            return (
                False,
                "Medical clearance is recommended and has not been received: record it first",
                client,
            )
    updated = client.model_copy(update={"status": new}).touched()
    await repo.save(updated)
    return True, f"{client.full_name} is now {updated.status_label.lower()}.", updated


# -- client search ----------------------------------------------------------------------------


@dataclass
class ClientIndex:
    """The client list prepared for searching as the practitioner types: each client's name
    key is computed once, so a search is one substring test per client."""

    entries: list[tuple[str, Client]]

    @classmethod
    def build(cls, clients: Iterable[Client]) -> ClientIndex:
        ordered = sorted(clients, key=lambda c: (name_key(c.last_name), name_key(c.first_name)))
        # Both orders ("ana lopez" and "lopez ana") so "lopez an" and "ana lo" both match.
        return cls(
            [(f"{c.name_key}|{name_key(c.last_name + ' ' + c.first_name)}", c) for c in ordered]
        )

    def search(
        self,
        query: str = "",
        status: str = "",
        provider_id: str = "",
        limit: int | None = None,
    ) -> list[Client]:
        """Clients whose name contains every word typed (start of a word), optionally with
        a given status and referring provider; sorted by last name."""
        words = name_key(query).split()
        out: list[Client] = []
        for key, client in self.entries:
            if status and client.status != status:
                continue
            if provider_id and client.provider_id != provider_id:
                continue
            if words and not all((" " + w) in (" " + key) or ("|" + w) in key for w in words):
                continue
            out.append(client)
            if limit is not None and len(out) == limit:
                break
        return out


# -- referrals --------------------------------------------------------------------------------


def diagnoses_from_form(form: dict[str, Any]) -> list[dict[str, str]]:
    """The diagnoses of a referral form: fields dx_code_0, dx_description_0, dx_code_1…"""
    out = []
    i = 0
    while f"dx_code_{i}" in form:
        code = str(form.get(f"dx_code_{i}", "")).strip()
        if code:
            out.append({"code": code, "description": str(form.get(f"dx_description_{i}", ""))})
        i += 1
    return out


async def record_referral(
    repo: Repository,
    client: Client,
    form: dict[str, Any],
    diagnoses: list[dict[str, str]],
    today: date,
    index: Icd10Index | None = None,
    referral_id: str | None = None,
) -> tuple[FormResult, Referral | None]:
    """Validate and store a referral, and point the client at its provider."""
    typed = {k: form.get(k, "") for k in REFERRAL_FIELDS}
    current = await repo.get(Referral, referral_id) if referral_id else None
    context: dict[str, Any] = {"today": today, "date_of_birth": client.date_of_birth}
    if index is not None:
        context[ICD10_CONTEXT_KEY] = index
    data = {**clean_form(typed), "client_id": client.id, "diagnoses": diagnoses}
    data.setdefault("provider_id", "")
    errors: dict[str, str] = {}
    if data.get("provider_id") and await repo.get(ReferringProvider, data["provider_id"]) is None:
        errors["provider_id"] = "This provider is no longer in the directory: choose another"
    try:
        referral = Referral.model_validate({**data, **_edit(current)}, context=context)
    except ValidationError as exc:
        errors = {**_errors(exc), **errors}
        for key in list(errors):
            if key.startswith("diagnoses."):  # one message for the list, next to the search
                errors.setdefault("diagnoses", errors.pop(key))
        if errors.get("__all__", "").startswith("The physician's follow-up"):
            errors["physician_follow_up"] = errors.pop("__all__")
        return FormResult(ok=False, errors=errors, values=typed), None
    if errors:
        return FormResult(ok=False, errors=errors, values=typed), None
    updated = client.model_copy(update={"provider_id": referral.provider_id}).touched()
    return await _store(repo, typed, referral, updated)


def add_diagnosis(
    chosen: list[dict[str, Any]], code: str, index: Icd10Index
) -> tuple[list[dict[str, Any]], str]:
    """Add a code to the referral's draft list; returns (list, message). Unknown codes are
    refused with the index's message; non-billable codes are added with a warning."""
    try:
        found = index.validate_code(code)
    except ValueError as exc:
        return chosen, str(exc)
    if any(d["code"] == found.code for d in chosen):
        return chosen, f"{found.code} is already on this referral"
    entry = {"code": found.code, "description": found.description, "billable": found.billable}
    return [*chosen, entry], found.warning or ""


# -- health history, screening, clearance, goals ----------------------------------------------


def _rows(form: dict[str, Any], prefix: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Repeated rows named like med_name_0, med_dose_0… (blank rows dropped)."""
    rows = []
    i = 0
    while any(f"{prefix}_{n}_{i}" in form for n in names):
        row = {n: form.get(f"{prefix}_{n}_{i}", "") for n in names}
        if any(str(v).strip() for v in row.values() if not isinstance(v, bool)):
            rows.append(clean_form(row))
        i += 1
    return rows


def _row_errors(errors: dict[str, str], mapping: dict[str, str]) -> dict[str, str]:
    """'medications.0.name' -> 'med_name_0' (the form field)."""
    out = {}
    for key, message in errors.items():
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] in mapping and parts[1].isdigit():
            out[f"{mapping[parts[0]]}_{parts[2]}_{parts[1]}"] = message
        else:
            out[key] = message
    return out


async def save_health_history(
    repo: Repository, client: Client, form: dict[str, Any], today: date
) -> tuple[FormResult, HealthHistory | None]:
    current = await latest(repo, HealthHistory, client.id)
    data: dict[str, Any] = {
        "client_id": client.id,
        "conditions": _rows(form, "cond", ("name", "icd10", "since")),
        "surgeries": _rows(form, "surg", ("name", "performed_on")),
        "medications": _rows(form, "med", ("name", "dose", "frequency", "affects_hr_bp")),
        "allergies": [a for a in str(form.get("allergies", "")).splitlines() if a.strip()],
        "notes": str(form.get("notes", "")),
    }
    for med in data["medications"]:
        med["affects_hr_bp"] = bool(med.get("affects_hr_bp"))
    try:
        history = HealthHistory.model_validate({**data, **_edit(current)}, context={"today": today})
    except ValidationError as exc:
        mapping = {"conditions": "cond", "surgeries": "surg", "medications": "med"}
        return FormResult(
            ok=False, errors=_row_errors(_errors(exc), mapping), values=dict(form)
        ), None
    return await _store(repo, dict(form), history)


PARQ_KEYS = tuple(ParqAnswers.model_fields)[:7]


def _yes(form: dict[str, Any], key: str) -> bool | None:
    value = str(form.get(key, "")).strip().lower()
    return {"yes": True, "no": False}.get(value)


async def save_screening(
    repo: Repository, client: Client, form: dict[str, Any], today: date
) -> tuple[FormResult, ScreeningRecord | None]:
    """A new screening (each one is kept). Moves a referred client to pending clearance when
    clearance is needed, and opens a clearance request to track."""
    errors: dict[str, str] = {}
    parq: dict[str, Any] = {}
    for key in PARQ_KEYS:
        answer = _yes(form, f"parq_{key}")
        if answer is None:
            errors[f"parq_{key}"] = "Answer Yes or No"
        parq[key] = answer
    follow = str(form.get("parq_follow_up", "")).strip()
    parq["follow_up_any_yes"] = {"yes": True, "no": False}.get(follow)
    acsm: dict[str, Any] = {}
    for key in ("exercises_regularly", "known_cmr_disease", "symptomatic"):
        answer = _yes(form, f"acsm_{key}")
        if answer is None:
            errors[f"acsm_{key}"] = "Answer Yes or No"
        acsm[key] = answer
    acsm["has_diabetes"] = bool(form.get("acsm_has_diabetes"))
    acsm["cleared_within_12_months"] = bool(form.get("acsm_cleared_within_12_months"))
    acsm["symptoms"] = [s.value for s in SIGN_OR_SYMPTOM_LABELS if form.get(f"symptom_{s.value}")]
    intensity = str(form.get("acsm_desired_intensity", "")).strip()
    if not intensity:
        errors["acsm_desired_intensity"] = "Choose the intensity the client wants to reach"
    acsm["desired_intensity"] = intensity
    screened_on = str(form.get("screened_on", "")).strip() or today.isoformat()
    if errors:
        return FormResult(ok=False, errors=errors, values=dict(form)), None
    try:
        record = ScreeningRecord.model_validate(
            {
                "client_id": client.id,
                "screened_on": screened_on,
                "parq": parq,
                "acsm": acsm,
                "notes": str(form.get("notes", "")),
            }
        )
        if record.screened_on > today:
            raise ValueError("The screening date cannot be in the future")
    except ValidationError as exc:
        errs = _errors(exc)
        general = errs.pop("__all__", None) or errs.pop("acsm", None) or errs.pop("parq", None)
        if general:
            errs["screening"] = general
        return FormResult(ok=False, errors=errs, values=dict(form)), None
    except ValueError as exc:
        return FormResult(ok=False, errors={"screened_on": str(exc)}, values=dict(form)), None
    others: list[Record] = []
    assert record.outcome is not None
    clearance = await latest(repo, Clearance, client.id)
    if record.outcome.needs_clearance:
        if clearance is None or clearance.received_on is not None:
            others.append(Clearance(client_id=client.id, requested_on=today))
        if client.status in (ClientStatus.REFERRED, ClientStatus.ACTIVE):
            others.append(
                client.model_copy(update={"status": ClientStatus.PENDING_CLEARANCE}).touched()
            )
    return await _store(repo, dict(form), record, *others)


async def save_clearance(
    repo: Repository, client: Client, form: dict[str, Any], today: date
) -> tuple[FormResult, Clearance | None]:
    """Update the open clearance request (requested, received, restrictions). Receiving it
    moves a client pending clearance back to referred (ready to start once the rest is done)."""
    typed = {k: form.get(k, "") for k in ("requested_on", "received_on", "restrictions")}
    current = await latest(repo, Clearance, client.id)
    data = {"client_id": client.id, **clean_form(typed)}
    try:
        clearance = Clearance.model_validate({**data, **_edit(current)})
        for name in ("requested_on", "received_on"):
            day = getattr(clearance, name)
            if day is not None and day > today:
                return FormResult(
                    ok=False, errors={name: "This date cannot be in the future"}, values=typed
                ), None
    except ValidationError as exc:
        errs = _errors(exc)
        if "__all__" in errs:
            errs["received_on"] = errs.pop("__all__")
        return FormResult(ok=False, errors=errs, values=typed), None
    others: list[Record] = []
    if clearance.received_on and client.status is ClientStatus.PENDING_CLEARANCE:
        others.append(client.model_copy(update={"status": ClientStatus.REFERRED}).touched())
    return await _store(repo, typed, clearance, *others)


async def save_goals(
    repo: Repository, client: Client, form: dict[str, Any], today: date
) -> tuple[FormResult, Goals | None]:
    current = await latest(repo, Goals, client.id)
    activities = []
    errors: dict[str, str] = {}
    for i in range(5):
        name = str(form.get(f"psfs_activity_{i}", "")).strip()
        score = str(form.get(f"psfs_score_{i}", "")).strip()
        if not name and not score:
            continue
        if not name:
            errors[f"psfs_activity_{i}"] = "Name the activity this score is for"
        if not score:
            errors[f"psfs_score_{i}"] = "Score the activity from 0 to 10"
        activities.append({"activity": name, "score": score or 0})
    try:
        goals = Goals.model_validate(
            {
                "client_id": client.id,
                "recorded_on": today,
                "activities": activities,
                "deficits": str(form.get("deficits", "")),
                **_edit(current),
            }
        )
    except ValidationError as exc:
        for key, message in _errors(exc).items():
            parts = key.split(".")
            if parts[0] == "activities" and len(parts) == 3:
                errors.setdefault(
                    f"psfs_{'score' if parts[2] == 'score' else 'activity'}_{parts[1]}", message
                )
            else:
                errors.setdefault(key, message)
    if errors:
        return FormResult(ok=False, errors=errors, values=dict(form)), None
    return await _store(repo, dict(form), goals)


# -- consent ----------------------------------------------------------------------------------


async def load_consent_texts(repo: Repository) -> ConsentTexts:
    return await repo.get(ConsentTexts, ConsentTexts().id) or ConsentTexts()


async def save_consent_texts(
    repo: Repository, form: dict[str, Any]
) -> tuple[FormResult, ConsentTexts | None]:
    typed = {k: form.get(k, "") for k in ("informed_consent", "authorisation")}
    current = await repo.get(ConsentTexts, ConsentTexts().id)
    try:
        texts = ConsentTexts(**typed, **_edit(current))
    except ValidationError as exc:
        errs = _errors(exc)
        for key, message in list(errs.items()):
            if message == "This field is required" or "at least" in message:
                errs[key] = "Enter the full wording the client will sign"
        return FormResult(ok=False, errors=errs, values=typed), None
    return await _store(repo, typed, texts)


async def sign_consent(
    repo: Repository,
    client: Client,
    kind: ConsentKind,
    form: dict[str, Any],
    practice_name: str,
    today: date,
    signer: Signer | None = None,
) -> tuple[FormResult, Consent | None]:
    """Store the text as shown, with the typed name (and drawn signature if any), dated. With
    ``signer`` the practice key signs the consent's content digest (same save)."""
    typed = {k: form.get(k, "") for k in ("signed_name", "agree", "signature_svg")}
    errors = {}
    if not form.get("agree"):
        errors["agree"] = "The client must tick that they have read and agree to the text"
    texts = await load_consent_texts(repo)
    try:
        consent = Consent.model_validate(
            {
                "client_id": client.id,
                "kind": kind,
                "text": texts.text_for(kind, practice_name),
                "signed_name": str(form.get("signed_name", "")),
                "signed_on": today,
                "signature_svg": form.get("signature_svg") or None,
            },
            context={"today": today},
        )
    except ValidationError as exc:
        errors = {**_errors(exc), **errors}
        if "signed_name" in errors and "too long" not in errors["signed_name"]:
            errors["signed_name"] = "The client types their full name to sign"
        return FormResult(ok=False, errors=errors, values=typed), None
    if errors:
        return FormResult(ok=False, errors=errors, values=typed), None
    if signer is None:
        return await _store(repo, typed, consent)
    made = await signer.sign_message(signing_message(CONSENT_SIGNING_KIND, consent.digest))
    consent = Consent.model_validate(
        {**consent.model_dump(), "key_id": made["key_id"], "key_signature": made["signature"]},
        context={"today": today},
    )
    profile = await profile_with_signing_key(repo, made["public_key"])
    return await _store(repo, typed, consent, *([profile] if profile else []))


async def check_consent_signatures(
    signer: Signer | None, cache: VerificationCache, consents: Iterable[Consent]
) -> dict[str, SignatureCheck]:
    """Verify the signed consents being shown (see medex.signing)."""
    return await cache.check(signer, [c.claim() for c in consents])


# -- a client's file and the onboarding checklist ---------------------------------------------


async def latest(repo: Repository, model: type[R], client_id: str) -> R | None:
    records = await repo.find(model, "client_id", client_id)
    return max(records, key=lambda r: (r.created_at, r.updated_at)) if records else None


@dataclass
class ClientFile:
    client: Client | None = None
    referrals: list[Referral] = field(default_factory=list)
    history: HealthHistory | None = None
    screening: ScreeningRecord | None = None
    clearance: Clearance | None = None
    consents: list[Consent] = field(default_factory=list)
    goals: Goals | None = None
    assessment_done: bool = False  # the baseline assessment is recorded
    program_chosen: bool = False  # an outcome-based program is chosen

    @property
    def clearance_needed(self) -> bool:
        return bool(
            self.screening and self.screening.outcome and self.screening.outcome.needs_clearance
        )

    @property
    def clearance_outstanding(self) -> bool:
        return self.clearance_needed and not (self.clearance and self.clearance.received_on)

    def consent(self, kind: ConsentKind) -> Consent | None:
        signed = [c for c in self.consents if c.kind == kind]
        return max(signed, key=lambda c: c.created_at) if signed else None


async def load_client_file(repo: Repository, client_id: str) -> ClientFile:
    referrals = sorted(
        await repo.find(Referral, "client_id", client_id), key=lambda r: r.referred_on
    )
    return ClientFile(
        client=await repo.get(Client, client_id),
        referrals=referrals,
        history=await latest(repo, HealthHistory, client_id),
        screening=await latest(repo, ScreeningRecord, client_id),
        clearance=await latest(repo, Clearance, client_id),
        consents=await repo.find(Consent, "client_id", client_id),
        goals=await latest(repo, Goals, client_id),
        **(await _outcome_flags(repo, client_id)),
    )


async def _outcome_flags(repo: Repository, client_id: str | None = None) -> dict:
    """Checklist flags from the outcomes stores (imported here: they are larger modules).
    With a client id: that client's flags; without: ``{client_id: flags}`` for everyone."""
    from ..assessments import Assessment
    from ..programs import Episode

    if client_id is not None:
        return {
            "assessment_done": any(
                a.kind == "baseline" for a in await repo.find(Assessment, "client_id", client_id)
            ),
            "program_chosen": bool(await repo.find(Episode, "client_id", client_id)),
        }
    out: dict[str, dict] = {}
    for a in await repo.list(Assessment):
        if a.kind == "baseline":
            out.setdefault(a.client_id, {})["assessment_done"] = True
    for e in await repo.list(Episode):
        out.setdefault(e.client_id, {})["program_chosen"] = True
    return out


async def load_all_files(repo: Repository) -> dict[str, ClientFile]:
    """Every client's file from one read per store (for the list and the dashboard)."""
    files = {c.id: ClientFile(client=c) for c in await repo.list(Client)}

    def newest(records):
        out: dict[str, Any] = {}
        for r in sorted(records, key=lambda r: (r.created_at, r.updated_at)):
            out[r.client_id] = r
        return out

    for r in await repo.list(Referral):
        if r.client_id in files:
            files[r.client_id].referrals.append(r)
    for c in await repo.list(Consent):
        if c.client_id in files:
            files[c.client_id].consents.append(c)
    for attr, model in (
        ("history", HealthHistory),
        ("screening", ScreeningRecord),
        ("clearance", Clearance),
        ("goals", Goals),
    ):
        for client_id, record in newest(await repo.list(model)).items():
            if client_id in files:
                setattr(files[client_id], attr, record)
    for client_id, flags in (await _outcome_flags(repo)).items():
        if client_id in files:
            for attr, value in flags.items():
                setattr(files[client_id], attr, value)
    return files


class ChecklistItem(BaseModel):
    key: str
    label: str
    done: bool
    detail: str = ""
    section: str  # the client page section where it is completed


def onboarding_checklist(file: ClientFile) -> list[ChecklistItem]:
    """What is done and what is missing before the first session (pure)."""
    consent = file.consent(ConsentKind.INFORMED_CONSENT)
    authorisation = file.consent(ConsentKind.AUTHORISATION)
    if file.screening is None:
        clearance_done, clearance_detail = False, "Screen the client first"
    elif not file.clearance_needed:
        clearance_done, clearance_detail = True, "Not needed for this screening result"
    elif file.clearance and file.clearance.received_on:
        clearance_done = True
        clearance_detail = f"Received {file.clearance.received_on.isoformat()}"
    else:
        clearance_done, clearance_detail = False, "Recommended by the screening, not received yet"
    signed = [c for c in (consent, authorisation) if c]
    items = [
        ChecklistItem(
            key="referral",
            label="Referral recorded",
            done=bool(file.referrals),
            detail=f"{len(file.referrals)} referral(s)" if file.referrals else "",
            section="referral",
        ),
        ChecklistItem(
            key="history",
            label="Health history and medications",
            done=file.history is not None,
            section="history",
        ),
        ChecklistItem(
            key="screening",
            label="Pre-participation screening done",
            done=file.screening is not None,
            detail=file.screening.outcome.label
            if file.screening and file.screening.outcome
            else "",
            section="screening",
        ),
        ChecklistItem(
            key="clearance",
            label="Medical clearance received (when needed)",
            done=clearance_done,
            detail=clearance_detail,
            section="clearance",
        ),
        ChecklistItem(
            key="consents",
            label="Informed consent and authorisation signed",
            done=len(signed) == 2,
            detail=f"{len(signed)} of 2 signed",
            section="consent",
        ),
        ChecklistItem(
            key="goals",
            label="Goals (PSFS) and functional deficits",
            done=file.goals is not None,
            section="goals",
        ),
        ChecklistItem(
            key="assessment",
            label="Baseline assessment done",
            done=file.assessment_done,
            section="checklist",
        ),
        ChecklistItem(
            key="program",
            label="Program chosen",
            done=file.program_chosen,
            section="checklist",
        ),
    ]
    return items


def is_ready(file: ClientFile) -> bool:
    return all(item.done for item in onboarding_checklist(file))


# -- dashboard --------------------------------------------------------------------------------


def intake_dashboard_items(files: Iterable[ClientFile]) -> list[DashboardItem]:
    """Clearances pending (one item each) and the clients not ready for a first session."""
    items: list[DashboardItem] = []
    not_ready: list[Client] = []
    for f in files:
        c = f.client
        if c is None or c.status is ClientStatus.DISCHARGED:
            continue
        if f.clearance_outstanding:
            requested = f.clearance.requested_on if f.clearance else None
            items.append(
                DashboardItem(
                    kind="clearance",
                    title=f"Medical clearance pending: {c.full_name}",
                    detail=(
                        f"Requested {requested.isoformat()}. No session can be logged "
                        "without it (or a recorded reason)."
                        if requested
                        else "Recommended by the screening."
                    ),
                    link=Screen("client", {"id": c.id, "section": "clearance"}),
                    link_label="Clearance",
                    severity="due",
                )
            )
        if c.status is not ClientStatus.ACTIVE and not is_ready(f):
            not_ready.append(c)
    if not_ready:
        names = ", ".join(c.full_name for c in sorted(not_ready, key=lambda c: c.sort_name)[:5])
        more = len(not_ready) - 5
        items.append(
            DashboardItem(
                kind="onboarding",
                title=f"{len(not_ready)} client(s) not ready for a first session",
                detail=names + (f" and {more} more" if more > 0 else ""),
                link=Screen("clients", {"ready": "no"}),
                link_label="Clients",
                severity="info",
            )
        )
    return items


async def intake_dashboard(repo: Repository) -> list[DashboardItem]:
    """The dashboard's intake items, read from the repository."""
    return intake_dashboard_items((await load_all_files(repo)).values())
