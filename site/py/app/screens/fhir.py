"""Physicians' systems (FHIR R4): download a client's record or one report as a FHIR file, and
import a referral file from a physician's system into a new client after review.

Loaded on first use only (the screens manifest): start-up never imports the FHIR modules.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from medex.fhir_referral import ImportedReferral
from medex.forms import Refused
from medex.intake import SEX_LABELS
from medex.repository import StorageFullError
from medex.services.fhir import (
    ExportBundle,
    ReadReferralFile,
    export_bundle,
    read_referral_file,
    save_imported_referral,
)
from medex.services.intake import list_providers

from .. import clock
from .. import icd10_picker as picker
from ..core import App, View, action, route
from ..fhir_form import NEW_PROVIDER, bind_review, diagnosis_rows, review_values
from ..forms import fail, refuse, typed

PENDING = "fhir-referral"  # the referral read from a file, awaiting review
FILE_FORM = "referral-file"  # the file chooser on the new-client screen
REVIEW_FORM = "referral-import"  # the review form


# -- export -----------------------------------------------------------------------------------


async def _download(app: App, command: ExportBundle, what: str) -> None:
    try:
        export = await export_bundle(app.repo, command)
    except Refused as exc:
        app.state.flash = next(iter(exc.errors.values()))
        return
    app.platform.download(export.filename, export.text, export.mime)
    app.state.flash = (
        f"{what} downloaded as a FHIR file ({export.filename}, {export.resources} entries). "
        "Nothing was sent: pass the file on the way the physician's office accepts it."
    )
    # The audit log names what left the device (as for a backup or a CSV export).
    record = (
        ("documents", command.document_id)
        if command.document_id
        else ("clients", command.client_id)
    )
    with contextlib.suppress(StorageFullError):  # read-only: the file is what matters
        await app.repo.write([], [("export", *record)])


@action("fhir-export-client")
async def export_client(app: App, data: dict[str, Any]) -> None:
    command = ExportBundle(client_id=str(data.get("client_id", "")), now=datetime.now(UTC))
    await _download(app, command, "The client's record")


@action("fhir-export-document")
async def export_document(app: App, data: dict[str, Any]) -> None:
    command = ExportBundle(document_id=str(data.get("document_id", "")), now=datetime.now(UTC))
    await _download(app, command, "The report")


# -- import -----------------------------------------------------------------------------------


@action("fhir-read-referral")
async def read_referral(app: App, data: dict[str, Any]) -> None:
    """Read the chosen file; on success show the review (nothing is saved yet)."""
    app.state.pending.pop(PENDING, None)
    app.state.forms.pop(REVIEW_FORM, None)
    if data.get("referral_file_error"):
        fail(app, FILE_FORM, {}, {"referral_file": str(data["referral_file_error"])})
        return
    command = ReadReferralFile(
        text=data.get("referral_file_text"),
        filename=str(data.get("referral_file_filename", "")),
    )
    try:
        review = await read_referral_file(app.repo, command)
    except Refused as exc:
        refuse(app, FILE_FORM, {}, exc)
        app.state.focus = "field-referral_file"
        return
    app.state.forms.pop(FILE_FORM, None)
    app.state.pending[PENDING] = {
        "imported": review.imported.to_dict(),
        "provider_id": review.provider_id,
        "filename": review.filename,
    }
    app.navigate("#/referral-import")
    app.state.focus = "review-heading"


@route("referral-import")
async def referral_import(app: App, params: dict[str, str]) -> View:
    pending = app.state.pending.get(PENDING)
    if not pending:
        return "views/fhir/referral_review.html", {"pending": None}
    imported = ImportedReferral(**pending["imported"])
    values, errors = typed(app, REVIEW_FORM)
    if not values:
        values = review_values(imported, pending["provider_id"])
    providers = await list_providers(app.repo)
    return "views/fhir/referral_review.html", {
        "pending": pending,
        "notes": imported.notes,
        "file_provider": imported.provider,
        "values": values,
        "errors": errors,
        "provider_errors": any(k.startswith("provider_") and k != "provider_id" for k in errors),
        "providers": providers,
        "new_provider": NEW_PROVIDER,
        "diagnoses": diagnosis_rows(values),
        "sexes": SEX_LABELS,
    }


@action("fhir-save-referral")
async def save_referral(app: App, data: dict[str, Any]) -> None:
    if not app.state.pending.get(PENDING):
        app.state.flash = "The referral file is no longer open: choose it again."
        app.navigate("#/client-new")
        return
    bound = bind_review(data, clock.today())
    index = await picker.index_for_saving() if bound.command.diagnoses else None
    try:
        saved = await save_imported_referral(app.repo, bound.command, index)
    except Refused as exc:
        refuse(app, REVIEW_FORM, data, exc, bound.field)
        return
    app.state.pending.pop(PENDING, None)
    app.state.forms.pop(REVIEW_FORM, None)
    # The referral as saved (with the focus flag when its codes are outside the programs).
    app.navigate(f"#/client?id={saved.client.id}&section=referral")
    app.state.flash = (
        f"{saved.client.full_name} added with the referral from "
        f"{saved.provider.display_name}. Next: the health history."
    )


@action("fhir-cancel-import")
async def cancel_import(app: App, data: dict[str, Any]) -> None:
    app.state.pending.pop(PENDING, None)
    app.state.forms.pop(REVIEW_FORM, None)
    app.navigate("#/client-new")
    app.state.flash = "The referral was not imported: nothing was saved."
