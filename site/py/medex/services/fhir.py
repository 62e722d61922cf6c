"""FHIR use cases: export a client's record (or one report) as a FHIR R4 Bundle, read a
referral file from a physician's system for review, and save the reviewed referral.

Imported by the FHIR screen only, on first use (start-up does not load it). Each use case takes
the repository and a typed command and returns its result, or raises ``Refused({field:
message})`` with nothing stored::

    export = await export_bundle(repo, ExportBundle(client_id=c.id, now=moment))
    review = await read_referral_file(repo, ReadReferralFile(text=file_text))
    saved = await save_imported_referral(repo, SaveImportedReferral(...), index)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from ..assessments import Assessment
from ..documents import SentDocument
from ..fhir import ExportInput, build_bundle, export_filename, is_report
from ..fhir_referral import ImportedReferral, ReferralFileError, read_referral
from ..forms import Refused, clean_form
from ..icd10 import ICD10_CONTEXT_KEY, Icd10Index
from ..intake import MODEL_ERROR_FIELDS, Client, Referral, ReferringProvider, name_key
from ..measures import CustomMeasure
from ..programs import Episode
from ..repository import Repository
from ..session_logs import SessionLog
from .intake import (
    CLIENT_FIELDS,
    PROVIDER_FIELDS,
    REFERRAL_FIELDS,
    ChosenDiagnosis,
    RecordReferral,
    SaveClient,
    SaveProvider,
    list_providers,
    record_referral,
    save_client,
    save_provider,
)
from .practice import load_practice_profile

FHIR_MIME = "application/fhir+json"

# -- export -----------------------------------------------------------------------------------


class ExportBundle(BaseModel):
    """Export ``client_id``'s record, or only the report ``document_id`` (and what it rests
    on), as of ``now``."""

    client_id: str = ""
    document_id: str = ""
    now: datetime


@dataclass(frozen=True)
class FhirExport:
    filename: str
    text: str
    mime: str
    resources: int


async def export_bundle(repo: Repository, command: ExportBundle) -> FhirExport:
    document: SentDocument | None = None
    if command.document_id:
        document = await repo.get(SentDocument, command.document_id)
        if document is None:
            raise Refused({"document_id": "This document could not be found."})
        if not is_report(document):
            raise Refused(
                {
                    "document_id": "Only reports (assessment, progress, discharge, change in "
                    "status, session log) are exported for a physician's system."
                }
            )
    client_id = document.client_id if document is not None else command.client_id
    client = await repo.get(Client, client_id) if client_id else None
    if client is None:
        raise Refused({"client_id": "This client could not be found."})
    referrals = await repo.find(Referral, "client_id", client.id)
    providers = {
        p.id: p
        for p in [
            await repo.get(ReferringProvider, pid) for pid in {r.provider_id for r in referrals}
        ]
        if p is not None
    }
    inp = ExportInput(
        client=client,
        profile=await load_practice_profile(repo),
        generated_at=command.now,
        referrals=referrals,
        providers=providers,
        assessments=await repo.find(Assessment, "client_id", client.id),
        custom_measures={c.measure_id: c for c in await repo.list(CustomMeasure)},
        episodes=await repo.find(Episode, "client_id", client.id),
        session_logs=await repo.find(SessionLog, "client_id", client.id),
        documents=[document]
        if document is not None
        else await repo.find(SentDocument, "client_id", client.id),
    )
    bundle = build_bundle(inp, document.id if document is not None else None)
    return FhirExport(
        filename=export_filename(client, command.now.date(), document),
        text=json.dumps(bundle, ensure_ascii=False, indent=2) + "\n",
        mime=FHIR_MIME,
        resources=len(bundle["entry"]),
    )


# -- import: read the file --------------------------------------------------------------------


class ReadReferralFile(BaseModel):
    """A file the practitioner chose: its text (``None`` when none was chosen)."""

    text: str | None = None
    filename: str = ""


@dataclass(frozen=True)
class ReferralReview:
    """The referral as read, and the directory's provider it names (``""``: not in it)."""

    imported: ImportedReferral
    provider_id: str
    filename: str


async def find_provider(repo: Repository, npi: str, name: str) -> ReferringProvider | None:
    """The provider in the directory with this NPI, or else with this name."""
    providers = await list_providers(repo)
    if npi:
        for p in providers:
            if p.npi and p.npi == npi.replace(" ", "").replace("-", ""):
                return p
    key = name_key(name)
    if key:
        for p in providers:
            if name_key(p.name) == key:
                return p
    return None


async def read_referral_file(repo: Repository, command: ReadReferralFile) -> ReferralReview:
    """Read the file; nothing is stored (``Refused`` on ``referral_file`` if unreadable)."""
    if command.text is None:
        raise Refused({"referral_file": "Choose the referral file first."})
    try:
        imported = read_referral(command.text)
    except ReferralFileError as exc:
        raise Refused({"referral_file": f"{exc} Nothing was imported."}) from exc
    found = await find_provider(
        repo, imported.provider.get("npi", ""), imported.provider.get("name", "")
    )
    return ReferralReview(imported, found.id if found else "", command.filename)


# -- import: save what was reviewed -----------------------------------------------------------


class SaveImportedReferral(BaseModel):
    """The reviewed referral: the new client's details, the provider (``provider_id`` from the
    directory, or ``provider`` to add), the referral and its diagnoses."""

    today: date
    client: dict[str, str]
    provider_id: str = ""
    provider: dict[str, str] = {}
    referral: dict[str, str]
    diagnoses: list[ChosenDiagnosis] = []


@dataclass(frozen=True)
class SavedReferral:
    client: Client
    referral: Referral
    provider: ReferringProvider


_PLACEHOLDER = str(uuid.UUID(int=1))


def _prefixed(prefix: str, errors: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}.{k}": v for k, v in errors.items()}


async def _check(
    repo: Repository, command: SaveImportedReferral, index: Icd10Index | None
) -> dict[str, str]:
    """Every message the three saves would give, found before any of them writes."""
    errors: dict[str, str] = {}
    if command.provider_id:
        if await repo.get(ReferringProvider, command.provider_id) is None:
            errors["provider_id"] = "This provider is no longer in the directory: choose another"
    else:
        try:
            ReferringProvider(
                **clean_form({k: command.provider.get(k, "") for k in PROVIDER_FIELDS})
            )
        except ValidationError as exc:
            errors.update(_prefixed("provider", Refused.invalid(exc).errors))
    birth: date | None = None
    try:
        client = Client.model_validate(
            clean_form({k: command.client.get(k, "") for k in CLIENT_FIELDS}),
            context={"today": command.today},
        )
        birth = client.date_of_birth
    except ValidationError as exc:
        errors.update(_prefixed("client", Refused.invalid(exc, MODEL_ERROR_FIELDS).errors))
    context: dict[str, Any] = {"today": command.today}
    if birth is not None:
        context["date_of_birth"] = birth
    if index is not None:
        context[ICD10_CONTEXT_KEY] = index
    data = {
        **clean_form(
            {k: command.referral.get(k, "") for k in REFERRAL_FIELDS if k != "provider_id"}
        ),
        "client_id": _PLACEHOLDER,
        "provider_id": _PLACEHOLDER,
        "diagnoses": [d.model_dump() for d in command.diagnoses],
    }
    try:
        Referral.model_validate(data, context=context)
    except ValidationError as exc:
        found = Refused.invalid(exc).errors
        for key in list(found):
            if key.startswith("diagnoses."):
                found.setdefault("diagnoses", found.pop(key))
        if found.get("__all__", "").startswith("The physician's follow-up"):
            found["physician_follow_up"] = found.pop("__all__")
        errors.update(_prefixed("referral", found))
    return errors


async def save_imported_referral(
    repo: Repository, command: SaveImportedReferral, index: Icd10Index | None = None
) -> SavedReferral:
    """Add the client, the provider (when new) and the referral through the intake use cases.
    Everything is checked first: a refusal names every field at fault and stores nothing."""
    errors = await _check(repo, command, index)
    if errors:
        raise Refused(errors)
    if command.provider_id:
        provider = await repo.get(ReferringProvider, command.provider_id)
        assert provider is not None  # checked above
    else:
        provider = await save_provider(
            repo, SaveProvider(**{k: command.provider.get(k, "") for k in PROVIDER_FIELDS})
        )
    client = await save_client(
        repo,
        SaveClient(today=command.today, **{k: command.client.get(k, "") for k in CLIENT_FIELDS}),
    )
    fields = {k: command.referral.get(k, "") for k in REFERRAL_FIELDS if k != "provider_id"}
    try:
        referral = await record_referral(
            repo,
            RecordReferral(
                client_id=client.id,
                today=command.today,
                provider_id=provider.id,
                diagnoses=command.diagnoses,
                **fields,
            ),
            index,
        )
    except Refused as exc:
        raise Refused(_prefixed("referral", exc.errors)) from exc
    return SavedReferral(client=client, referral=referral, provider=provider)
