"""The referral-import review form (views/fhir/referral_review.html) bound to its command, and
the way back from a refusal to the form's own field names.

Form fields: the client's details as ``client_<field>``; the provider as ``provider_id`` (a
directory id, or ``new``) and the new provider's details as ``provider_<field>``; the referral's
fields by their own names; the diagnoses as ``dx_code_<i>`` / ``dx_description_<i>`` with a
``dx_keep_<i>`` tick to keep each."""

from __future__ import annotations

from datetime import date
from typing import Any

from medex.fhir_referral import ImportedReferral
from medex.services.fhir import SaveImportedReferral
from medex.services.intake import (
    CLIENT_FIELDS,
    PROVIDER_FIELDS,
    REFERRAL_FIELDS,
    ChosenDiagnosis,
)

from .forms import Bound, checked, text

NEW_PROVIDER = "new"
REVIEW_REFERRAL_FIELDS = tuple(k for k in REFERRAL_FIELDS if k != "provider_id")


def review_values(imported: ImportedReferral, provider_id: str) -> dict[str, Any]:
    """The form's values as the file gives them (every diagnosis kept)."""
    values: dict[str, Any] = {f"client_{k}": imported.client.get(k, "") for k in CLIENT_FIELDS}
    values.update({f"provider_{k}": imported.provider.get(k, "") for k in PROVIDER_FIELDS})
    values["provider_id"] = provider_id or NEW_PROVIDER
    values.update({k: imported.referral.get(k, "") for k in REVIEW_REFERRAL_FIELDS})
    for i, d in enumerate(imported.diagnoses):
        values[f"dx_code_{i}"] = d.get("code", "")
        values[f"dx_description_{i}"] = d.get("description", "")
        values[f"dx_keep_{i}"] = "on"
    return values


def diagnosis_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    i = 0
    while f"dx_code_{i}" in values:
        rows.append(
            {
                "index": i,
                "code": text(values, f"dx_code_{i}"),
                "description": text(values, f"dx_description_{i}"),
                "keep": checked(values, f"dx_keep_{i}"),
            }
        )
        i += 1
    return rows


def bind_review(data: dict[str, Any], today: date) -> Bound[SaveImportedReferral]:
    provider_id = text(data, "provider_id").strip()
    command = SaveImportedReferral(
        today=today,
        client={k: text(data, f"client_{k}") for k in CLIENT_FIELDS},
        provider_id="" if provider_id == NEW_PROVIDER else provider_id,
        provider={k: text(data, f"provider_{k}") for k in PROVIDER_FIELDS},
        referral={k: text(data, k) for k in REVIEW_REFERRAL_FIELDS},
        diagnoses=[
            ChosenDiagnosis(code=row["code"], description=row["description"])
            for row in diagnosis_rows(data)
            if row["keep"] and row["code"].strip()
        ],
    )
    return Bound(command, review_field)


def review_field(path: str) -> str:
    """``client.first_name`` → ``client_first_name``; ``referral.reason`` → ``reason``."""
    head, _, rest = path.partition(".")
    if head in ("client", "provider") and rest:
        return f"{head}_{rest.split('.')[0]}"
    if head == "referral" and rest:
        return rest.split(".")[0]
    return path
