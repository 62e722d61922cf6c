"""Referral and intake use cases: providers, clients, referrals, health history, screening,
clearance, consents, goals, the client search index and the onboarding checklist.

Every use case takes the repository and a typed command (the fields as typed, named as the
records name them) and returns the record it saved, or raises ``Refused({field: message})``
with nothing stored. The forms' own field names are the app's business (``app/intake_form.py``)::

    history = await save_health_history(repo, SaveHealthHistory(client_id=c.id, today=day))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from ..client_status import StatusEvent, status_on
from ..dashboard import DashboardItem
from ..forms import Refused, clean_form
from ..health import HealthHistory
from ..icd10 import ICD10_CONTEXT_KEY, Icd10Index
from ..intake import (
    CONSENT_LABELS,
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
from ..repository import R, Repository
from ..screening import (
    SIGN_OR_SYMPTOM_LABELS,
    Clearance,
    ParqAnswers,
    ScreeningRecord,
    clearance_counts,
)
from ..signing import SignatureCheck, Signer, VerificationCache, signing_message
from .practice import profile_with_signing_key


class SaveProvider(BaseModel):
    """Add a referring provider, or edit ``provider_id``'s details: the fields as typed."""

    provider_id: str = ""
    name: str = ""
    credentials: str = ""
    practice: str = ""
    phone: str = ""
    fax: str = ""
    email: str = ""
    address: str = ""
    npi: str = ""
    notes: str = ""


class SaveClient(BaseModel):
    """Add a client, or edit ``client_id``'s details (status and provider are kept)."""

    client_id: str = ""
    today: date
    first_name: str = ""
    last_name: str = ""
    date_of_birth: str = ""
    sex: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    emergency_contact_name: str = ""
    emergency_contact_relationship: str = ""
    emergency_contact_phone: str = ""
    notes: str = ""


# The details' fields (what the forms show and the records keep), from the commands.
PROVIDER_FIELDS = tuple(SaveProvider.model_fields)[1:]
CLIENT_FIELDS = tuple(SaveClient.model_fields)[2:]


class ChangeStatus(BaseModel):
    """Move a client to another status (refused with a reason on ``status``)."""

    client_id: str
    status: ClientStatus
    today: date


def _invalid(exc: ValidationError) -> Refused:
    return Refused.invalid(exc, MODEL_ERROR_FIELDS)


def _edit(current: Record | None) -> dict[str, Any]:
    """Keep id and creation time when a record is edited."""
    if current is None:
        return {}
    return {"id": current.id, "created_at": current.created_at, "updated_at": utc_now()}


async def _client(repo: Repository, client_id: str) -> Client:
    client = await repo.get(Client, client_id) if client_id else None
    if client is None:
        raise Refused({"__all__": "This client could not be found."})
    return client


# -- providers --------------------------------------------------------------------------------


async def save_provider(repo: Repository, command: SaveProvider) -> ReferringProvider:
    """Store the provider (an edit keeps its id and creation time)."""
    current = (
        await repo.get(ReferringProvider, command.provider_id) if command.provider_id else None
    )
    try:
        provider = ReferringProvider(
            **clean_form(command.model_dump(include=set(PROVIDER_FIELDS))), **_edit(current)
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await repo.save(provider)
    return provider


async def list_providers(repo: Repository) -> list[ReferringProvider]:
    return sorted(await repo.list(ReferringProvider), key=lambda p: name_key(p.name))


# -- clients ----------------------------------------------------------------------------------


async def save_client(repo: Repository, command: SaveClient) -> Client:
    """Store the client's details (an edit keeps the status and the referring provider)."""
    current = await repo.get(Client, command.client_id) if command.client_id else None
    data = clean_form(command.model_dump(include=set(CLIENT_FIELDS)))
    if current is not None:
        data.update(status=current.status, provider_id=current.provider_id)
    try:
        client = Client.model_validate({**data, **_edit(current)}, context={"today": command.today})
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await repo.save(client)
    return client


async def change_status(repo: Repository, command: ChangeStatus) -> Client:
    """Move a client to another status. Making a client active needs the medical clearance
    when the latest screening recommends it (and it has not been received)."""
    client = await _client(repo, command.client_id)
    try:
        check_transition(client.status, command.status)
    except ValueError as exc:
        raise Refused({"status": str(exc)}) from exc
    if command.status is ClientStatus.ACTIVE:
        file = await load_client_file(repo, client.id)
        if file.clearance_outstanding:
            raise Refused(
                {
                    "status": "Medical clearance is recommended and has not been received: "
                    "record it first"
                }
            )
    updated = client.model_copy(update={"status": command.status}).touched()
    await repo.save(updated)
    return updated


# -- client search ----------------------------------------------------------------------------


class Named(Protocol):
    """What the search index needs of a client (a ``Client``, or a ``ListedClient``)."""

    id: str
    first_name: str
    last_name: str
    status: ClientStatus
    provider_id: str | None


N = TypeVar("N", bound=Named)


@dataclass
class ClientIndex(Generic[N]):
    """The client list prepared for searching as the practitioner types: each client's name
    key is computed once, so a search is one substring test per client; ``ready``: whether
    each client is ready for a first session (``is_ready``), when known."""

    entries: list[tuple[str, N]]
    ready: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def build(cls, clients: Iterable[N], ready: dict[str, bool] | None = None) -> ClientIndex[N]:
        keyed = []
        for c in clients:
            first, last = name_key(c.first_name), name_key(c.last_name)
            # Both orders ("ana lopez" and "lopez ana") so "lopez an" and "ana lo" both match.
            key = f"{_joined(first, last)}|{_joined(last, first)}"
            keyed.append(((last, first, c.id), key, c))
        keyed.sort(key=lambda k: k[0])  # by last name, then first name (then a fixed order)
        return cls([(key, c) for _order, key, c in keyed], ready if ready is not None else {})

    def search(
        self,
        query: str = "",
        status: str = "",
        provider_id: str = "",
        limit: int | None = None,
        not_ready_only: bool = False,
    ) -> list[N]:
        """Clients whose name contains every word typed (start of a word), optionally with
        a given status and referring provider, or only those not ready; by last name."""
        return self.find(query, status, provider_id, not_ready_only, limit)[0]

    def find(
        self,
        query: str = "",
        status: str = "",
        provider_id: str = "",
        not_ready_only: bool = False,
        limit: int | None = None,
    ) -> tuple[list[N], int]:
        """As ``search``: the first ``limit`` clients found, and how many match in all."""
        words = name_key(query).split()
        ready = self.ready
        out: list[N] = []
        count = 0
        for key, client in self.entries:
            if status and client.status != status:
                continue
            if provider_id and client.provider_id != provider_id:
                continue
            if not_ready_only and ready.get(client.id, False):
                continue
            if words and not all((" " + w) in (" " + key) or ("|" + w) in key for w in words):
                continue
            count += 1
            if limit is None or len(out) < limit:
                out.append(client)
        return out, count


def _joined(*words: str) -> str:
    return " ".join(w for w in words if w)


# -- referrals --------------------------------------------------------------------------------


class ChosenDiagnosis(BaseModel):
    code: str
    description: str = ""


class RecordReferral(BaseModel):
    """Record a physician's referral for a client (or edit ``referral_id``): the fields as
    typed and the diagnoses chosen from the code index."""

    client_id: str
    today: date
    referral_id: str = ""
    provider_id: str = ""
    referred_on: str = ""
    reason: str = ""
    precautions: str = ""
    requested_frequency: str = ""
    requested_duration: str = ""
    physician_follow_up: str = ""
    focus_decision: str = ""  # outside the practice's programs: "accepted" / "referred_on"
    diagnoses: list[ChosenDiagnosis] = []


REFERRAL_FIELDS = tuple(RecordReferral.model_fields)[3:-1]


async def record_referral(
    repo: Repository, command: RecordReferral, index: Icd10Index | None = None
) -> Referral:
    """Validate and store a referral (its codes checked against ``index`` when given), and
    point the client at its provider, in one save."""
    client = await _client(repo, command.client_id)
    current = await repo.get(Referral, command.referral_id) if command.referral_id else None
    context: dict[str, Any] = {"today": command.today, "date_of_birth": client.date_of_birth}
    if index is not None:
        context[ICD10_CONTEXT_KEY] = index
    data = {
        **clean_form(command.model_dump(include=set(REFERRAL_FIELDS))),
        "client_id": client.id,
        "diagnoses": [d.model_dump() for d in command.diagnoses],
    }
    data.setdefault("provider_id", "")
    errors: dict[str, str] = {}
    if data["provider_id"] and await repo.get(ReferringProvider, data["provider_id"]) is None:
        errors["provider_id"] = "This provider is no longer in the directory: choose another"
    try:
        referral = Referral.model_validate({**data, **_edit(current)}, context=context)
    except ValidationError as exc:
        errors = {**_invalid(exc).errors, **errors}
        for key in list(errors):
            if key.startswith("diagnoses."):  # one message for the list, next to the search
                errors.setdefault("diagnoses", errors.pop(key))
        if errors.get("__all__", "").startswith("The physician's follow-up"):
            errors["physician_follow_up"] = errors.pop("__all__")
        raise Refused(errors) from exc
    if errors:
        raise Refused(errors)
    # A returning (discharged) client is referred again (medex.client_status).
    status = status_on(StatusEvent.REFERRED, client.status)
    updated = client.model_copy(
        update={"provider_id": referral.provider_id, "status": status}
    ).touched()
    await repo.save(referral, updated)
    return referral


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


class ConditionRow(BaseModel):
    name: str = ""
    icd10: str = ""
    since: str = ""


class SurgeryRow(BaseModel):
    name: str = ""
    performed_on: str = ""


class MedicationRow(BaseModel):
    name: str = ""
    dose: str = ""
    frequency: str = ""
    affects_hr_bp: bool = False


class SaveHealthHistory(BaseModel):
    """The client's health history as typed: one row per condition, surgery and medication
    (blank rows left out), allergies one a line."""

    client_id: str
    today: date
    conditions: list[ConditionRow] = []
    surgeries: list[SurgeryRow] = []
    medications: list[MedicationRow] = []
    allergies: list[str] = []
    notes: str = ""


async def save_health_history(repo: Repository, command: SaveHealthHistory) -> HealthHistory:
    """Store the history (an edit of the latest one). Refusals name the row's field, e.g.
    ``surgeries.0.performed_on``."""
    client = await _client(repo, command.client_id)
    current = await latest(repo, HealthHistory, client.id)
    data: dict[str, Any] = {
        "client_id": client.id,
        "conditions": [clean_form(r.model_dump()) for r in command.conditions],
        "surgeries": [clean_form(r.model_dump()) for r in command.surgeries],
        "medications": [clean_form(r.model_dump()) for r in command.medications],
        "allergies": [a for a in command.allergies if a.strip()],
        "notes": command.notes,
    }
    try:
        history = HealthHistory.model_validate(
            {**data, **_edit(current)}, context={"today": command.today}
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await repo.save(history)
    return history


PARQ_KEYS = tuple(ParqAnswers.model_fields)[:7]


class AcsmAnswers(BaseModel):
    """The ACSM pre-participation questions (None: not answered yet)."""

    exercises_regularly: bool | None = None
    known_cmr_disease: bool | None = None
    symptomatic: bool | None = None
    has_diabetes: bool = False
    cleared_within_12_months: bool = False
    symptoms: list[str] = []
    desired_intensity: str = ""


class RecordScreening(BaseModel):
    """A pre-participation screening as answered: the PAR-Q page 1 (``PARQ_KEYS``, and
    ``follow_up_any_yes``) and the ACSM questions; ``screened_on`` blank means today."""

    client_id: str
    today: date
    screened_on: str = ""
    parq: dict[str, bool | None] = {}
    acsm: AcsmAnswers = AcsmAnswers()
    notes: str = ""


async def save_screening(repo: Repository, command: RecordScreening) -> ScreeningRecord:
    """A new screening (each one is kept). Moves a referred client to pending clearance when
    clearance is needed, and opens a clearance request to track. Unanswered questions are
    refused as ``parq.<question>`` / ``acsm.<question>``."""
    client = await _client(repo, command.client_id)
    today = command.today
    errors: dict[str, str] = {}
    parq: dict[str, Any] = {key: command.parq.get(key) for key in PARQ_KEYS}
    for key, answer in parq.items():
        if answer is None:
            errors[f"parq.{key}"] = "Answer Yes or No"
    parq["follow_up_any_yes"] = command.parq.get("follow_up_any_yes")
    acsm = command.acsm.model_dump()
    for key in ("exercises_regularly", "known_cmr_disease", "symptomatic"):
        if acsm[key] is None:
            errors[f"acsm.{key}"] = "Answer Yes or No"
    acsm["symptoms"] = [s.value for s in SIGN_OR_SYMPTOM_LABELS if s.value in acsm["symptoms"]]
    if not acsm["desired_intensity"].strip():
        errors["acsm.desired_intensity"] = "Choose the intensity the client wants to reach"
    if errors:
        raise Refused(errors)
    try:
        record = ScreeningRecord.model_validate(
            {
                "client_id": client.id,
                "screened_on": command.screened_on.strip() or today.isoformat(),
                "parq": parq,
                "acsm": acsm,
                "notes": command.notes,
            }
        )
    except ValidationError as exc:
        errs = _invalid(exc).errors
        general = errs.pop("__all__", None) or errs.pop("acsm", None) or errs.pop("parq", None)
        if general:
            errs["screening"] = general
        raise Refused(errs) from exc
    if record.screened_on > today:
        raise Refused({"screened_on": "The screening date cannot be in the future"})
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
    await repo.save(record, *others)
    return record


class SaveClearance(BaseModel):
    """The open clearance request's dates and restrictions, as typed."""

    client_id: str
    today: date
    requested_on: str = ""
    received_on: str = ""
    restrictions: str = ""


async def save_clearance(repo: Repository, command: SaveClearance) -> Clearance:
    """Update the open clearance request (requested, received, restrictions). Receiving it
    moves a client pending clearance back to referred (ready to start once the rest is done)."""
    client = await _client(repo, command.client_id)
    current = await latest(repo, Clearance, client.id)
    data = {
        "client_id": client.id,
        **clean_form(command.model_dump(include={"requested_on", "received_on", "restrictions"})),
    }
    try:
        clearance = Clearance.model_validate({**data, **_edit(current)})
    except ValidationError as exc:
        errs = _invalid(exc).errors
        if "__all__" in errs:
            errs["received_on"] = errs.pop("__all__")
        raise Refused(errs) from exc
    for name in ("requested_on", "received_on"):
        day = getattr(clearance, name)
        if day is not None and day > command.today:
            raise Refused({name: "This date cannot be in the future"})
    others: list[Record] = []
    if clearance.received_on and client.status is ClientStatus.PENDING_CLEARANCE:
        # Back to active when a program is in progress, else to referred; a clearance older
        # than the screening changes nothing (medex.client_status, screening.clearance_counts).
        from ..programs import Episode

        screening = await latest(repo, ScreeningRecord, client.id)
        in_program = any(e.is_active for e in await repo.find(Episode, "client_id", client.id))
        status = status_on(
            StatusEvent.CLEARANCE_RECEIVED,
            client.status,
            clearance_outstanding=not clearance_counts(
                clearance, screening.screened_on if screening else None
            ),
            in_program=in_program,
        )
        if status is not client.status:
            others.append(client.model_copy(update={"status": status}).touched())
    await repo.save(clearance, *others)
    return clearance


class PsfsEntry(BaseModel):
    """One line of the Patient-Specific Functional Scale as typed (both blank: unused)."""

    activity: str = ""
    score: str = ""


class SaveGoals(BaseModel):
    """The PSFS activities (the form's lines, blank ones included) and the functional
    deficits, one a line."""

    client_id: str
    today: date
    activities: list[PsfsEntry] = []
    deficits: str = ""


async def save_goals(repo: Repository, command: SaveGoals) -> Goals:
    """Store the goals (an edit of the latest). A refusal of an activity names its line on
    the form (``activities.<line>.activity`` / ``.score``), blank lines counted."""
    client = await _client(repo, command.client_id)
    current = await latest(repo, Goals, client.id)
    activities: list[dict[str, Any]] = []
    lines: list[int] = []  # the form line of each activity kept
    errors: dict[str, str] = {}
    for i, entry in enumerate(command.activities):
        name, score = entry.activity.strip(), entry.score.strip()
        if not name and not score:
            continue
        if not name:
            errors[f"activities.{i}.activity"] = "Name the activity this score is for"
        if not score:
            errors[f"activities.{i}.score"] = "Score the activity from 0 to 10"
        activities.append({"activity": name, "score": score or 0})
        lines.append(i)
    try:
        goals = Goals.model_validate(
            {
                "client_id": client.id,
                "recorded_on": command.today,
                "activities": activities,
                "deficits": command.deficits,
                **_edit(current),
            }
        )
    except ValidationError as exc:
        for key, message in _invalid(exc).errors.items():
            parts = key.split(".")
            if parts[0] == "activities" and len(parts) == 3 and parts[1].isdigit():
                line = lines[int(parts[1])]
                part = "score" if parts[2] == "score" else "activity"
                errors.setdefault(f"activities.{line}.{part}", message)
            else:
                errors.setdefault(key, message)
        raise Refused(errors) from exc
    if errors:
        raise Refused(errors)
    await repo.save(goals)
    return goals


# -- consent ----------------------------------------------------------------------------------


async def load_consent_texts(repo: Repository) -> ConsentTexts:
    return await repo.get(ConsentTexts, ConsentTexts().id) or ConsentTexts()


class SaveConsentTexts(BaseModel):
    """The wording clients sign, as typed."""

    informed_consent: str = ""
    authorisation: str = ""


async def save_consent_texts(repo: Repository, command: SaveConsentTexts) -> ConsentTexts:
    current = await repo.get(ConsentTexts, ConsentTexts().id)
    try:
        texts = ConsentTexts(**command.model_dump(), **_edit(current))
    except ValidationError as exc:
        errs = _invalid(exc).errors
        for key, message in list(errs.items()):
            if message == "This field is required" or "at least" in message:
                errs[key] = "Enter the full wording the client will sign"
        raise Refused(errs) from exc
    await repo.save(texts)
    return texts


class SignConsent(BaseModel):
    """The client signs the practice's current text of ``kind``: ticked agreement, typed
    name, and a drawn signature if any."""

    client_id: str
    kind: ConsentKind
    today: date
    practice_name: str = ""
    agree: bool = False
    signed_name: str = ""
    signature_svg: str = ""


async def sign_consent(
    repo: Repository, command: SignConsent, signer: Signer | None = None
) -> Consent:
    """Store the text as shown, with the typed name (and drawn signature if any), dated. With
    ``signer`` the practice key signs the consent's content digest (same save)."""
    client = await _client(repo, command.client_id)
    today = command.today
    errors = {}
    if not command.agree:
        errors["agree"] = "The client must tick that they have read and agree to the text"
    texts = await load_consent_texts(repo)
    try:
        consent = Consent.model_validate(
            {
                "client_id": client.id,
                "kind": command.kind,
                "text": texts.text_for(command.kind, command.practice_name),
                "signed_name": command.signed_name,
                "signed_on": today,
                "signature_svg": command.signature_svg or None,
            },
            context={"today": today},
        )
    except ValidationError as exc:
        errors = {**_invalid(exc).errors, **errors}
        if "signed_name" in errors and "too long" not in errors["signed_name"]:
            errors["signed_name"] = "The client types their full name to sign"
        raise Refused(errors) from exc
    if errors:
        raise Refused(errors)
    if signer is None:
        await repo.save(consent)
        return consent
    made = await signer.sign_message(signing_message(CONSENT_SIGNING_KIND, consent.digest))
    consent = Consent.model_validate(
        {**consent.model_dump(), "key_id": made["key_id"], "key_signature": made["signature"]},
        context={"today": today},
    )
    profile = await profile_with_signing_key(repo, made["public_key"])
    await repo.save(consent, *([profile] if profile else []))
    return consent


async def check_consent_signatures(
    signer: Signer | None, cache: VerificationCache, consents: Iterable[Consent]
) -> dict[str, SignatureCheck]:
    """Verify the signed consents being shown (see medex.signing)."""
    return await cache.check(signer, [c.claim() for c in consents])


@dataclass
class ConsentRow:
    """One consent on the client's page: the wording the client signs now (the practice's
    current text), and the consent signed, if any, with the check of its key signature."""

    kind: ConsentKind
    label: str
    text: str
    signed: Consent | None
    check: str = ""  # a SignatureCheck value, for a signed consent


async def consent_rows(
    repo: Repository,
    file: ClientFile,
    practice_name: str,
    signer: Signer | None,
    cache: VerificationCache,
) -> list[ConsentRow]:
    texts = await load_consent_texts(repo)
    signed = [c for kind in ConsentKind if (c := file.consent(kind)) is not None]
    checks = await check_consent_signatures(signer, cache, signed)
    return [
        ConsentRow(
            kind,
            CONSENT_LABELS[kind],
            texts.text_for(kind, practice_name),
            consent := file.consent(kind),
            checks[consent.id].value if consent is not None else "",
        )
        for kind in ConsentKind
    ]


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
    def clearance_current(self) -> bool:
        """A clearance received on or after the latest screening (an older one does not count)."""
        return clearance_counts(
            self.clearance, self.screening.screened_on if self.screening else None
        )

    @property
    def clearance_outstanding(self) -> bool:
        return self.clearance_needed and not self.clearance_current

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
    from .summaries import client_summaries  # one small record per client, not every record

    out: dict[str, dict] = {}
    for summary in (await client_summaries(repo)).values():
        if summary.has_baseline:
            out.setdefault(summary.client_id, {})["assessment_done"] = True
        if summary.episodes:
            out.setdefault(summary.client_id, {})["program_chosen"] = True
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
    clearance_done, clearance_detail = _clearance_step(file)
    signed = _signed_consents(file)
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


def _clearance_step(file: ClientFile) -> tuple[bool, str]:
    """The checklist's clearance step: done, and what to say about it."""
    if file.screening is None:
        return False, "Screen the client first"
    if not file.clearance_needed:
        return True, "Not needed for this screening result"
    if file.clearance and file.clearance_current and file.clearance.received_on:
        return True, f"Received {file.clearance.received_on.isoformat()}"
    return False, "Recommended by the screening, not received yet"


def _signed_consents(file: ClientFile) -> list[Consent]:
    kinds = (ConsentKind.INFORMED_CONSENT, ConsentKind.AUTHORISATION)
    return [c for kind in kinds if (c := file.consent(kind)) is not None]


def is_ready(file: ClientFile) -> bool:
    """Every step of ``onboarding_checklist`` done (the same steps, without building the
    checklist: the client list asks it of every client)."""
    return (
        bool(file.referrals)
        and file.history is not None
        and file.screening is not None
        and _clearance_step(file)[0]
        and len(_signed_consents(file)) == 2
        and file.goals is not None
        and file.assessment_done
        and file.program_chosen
    )


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
            items.append(clearance_item(c.id, c.full_name, requested))
        if c.status is not ClientStatus.ACTIVE and not is_ready(f):
            not_ready.append(c)
    if not_ready:
        items.append(onboarding_item([(c.sort_name, c.full_name) for c in not_ready]))
    return items


def clearance_item(client_id: str, name: str, requested: date | None) -> DashboardItem:
    """A medical clearance the screening asked for and that is not received yet."""
    return DashboardItem(
        kind="clearance",
        title=f"Medical clearance pending: {name}",
        detail=(
            f"Requested {requested.isoformat()}. No session can be logged "
            "without it (or a recorded reason)."
            if requested
            else "Recommended by the screening."
        ),
        link=Screen("client", {"id": client_id, "section": "clearance"}),
        link_label="Clearance",
        severity="due",
    )


def onboarding_item(not_ready: list[tuple[str, str]]) -> DashboardItem:
    """The clients not ready for a first session (``(sort name, full name)``)."""
    names = ", ".join(full for _key, full in sorted(not_ready, key=lambda n: n[0])[:5])
    more = len(not_ready) - 5
    return DashboardItem(
        kind="onboarding",
        title=f"{len(not_ready)} client(s) not ready for a first session",
        detail=names + (f" and {more} more" if more > 0 else ""),
        link=Screen("clients", {"ready": "no"}),
        link_label="Clients",
        severity="info",
    )


async def intake_dashboard(repo: Repository) -> list[DashboardItem]:
    """The dashboard's intake items, read from the repository."""
    return intake_dashboard_items((await load_all_files(repo)).values())
