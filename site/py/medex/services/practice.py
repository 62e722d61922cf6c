"""The practice profile: who the practitioner is, printed on every document's letterhead."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..documents import DocumentSettings
from ..forms import FormResult, clean_form, field_errors
from ..records import PracticeProfile, utc_now
from ..repository import Repository, StorageFullError
from ..signing import SigningPublicKey

PROFILE_FIELDS = (
    "practitioner_name",
    "credentials",
    "business_name",
    "address",
    "phone",
    "email",
    "npi",
)


async def load_practice_profile(repo: Repository) -> PracticeProfile | None:
    profiles = await repo.list(PracticeProfile)
    return max(profiles, key=lambda p: p.updated_at) if profiles else None


async def load_document_settings(repo: Repository) -> DocumentSettings:
    """Paper size and scope-of-practice statement, printed on every document."""
    found = await repo.get(DocumentSettings, DocumentSettings.model_fields["id"].default)
    return found or DocumentSettings()


async def save_practice_profile(
    repo: Repository, form: dict[str, Any], logo_data_url: str | None = None
) -> tuple[FormResult, PracticeProfile | None]:
    """Validate the profile form and store it (one profile per practice; edits keep its id).

    On any failure nothing is stored and the result carries what was typed and the messages.
    """
    typed = {k: form.get(k, "") for k in PROFILE_FIELDS}
    data = clean_form(typed)
    current = await load_practice_profile(repo)
    if logo_data_url is not None:
        data["logo_data_url"] = logo_data_url or None
    elif current is not None and not form.get("remove_logo"):
        data["logo_data_url"] = current.logo_data_url
    if current is not None and current.signing_key is not None:
        data["signing_key"] = current.signing_key  # not on the form: kept as it is
    try:
        if current is None:
            profile = PracticeProfile(**data)
        else:
            profile = PracticeProfile(
                **data, id=current.id, created_at=current.created_at, updated_at=utc_now()
            )
    except ValidationError as exc:
        return FormResult(ok=False, errors=field_errors(exc), values=typed), None
    try:
        await repo.save(profile)
    except StorageFullError:
        return (
            FormResult(
                ok=False,
                errors={
                    "__all__": "This device's storage is full: nothing was saved. Export a backup, then free space."
                },
                values=typed,
            ),
            None,
        )
    return FormResult(ok=True, values=typed), profile


async def profile_with_signing_key(repo: Repository, public_key: dict) -> PracticeProfile | None:
    """The practice profile updated to name the public signing key (to be saved in the same
    write as the record just signed), or None: no profile yet, or it names this key already."""
    profile = await load_practice_profile(repo)
    key = SigningPublicKey.model_validate(public_key)
    if profile is None or profile.signing_key == key:
        return None
    return profile.model_copy(update={"signing_key": key, "updated_at": utc_now()})
