"""The practice profile: who the practitioner is, printed on every document's letterhead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from ..forms import Refused, clean_form
from ..records import PracticeProfile, utc_now
from ..repository import Repository
from ..signing import SigningPublicKey

if TYPE_CHECKING:
    from ..documents import DocumentSettings


class SaveProfile(BaseModel):
    """The practice profile as typed. ``logo_data_url``: None keeps the current logo, ""
    removes it, a data URL (an image the app has already scaled) replaces it."""

    practitioner_name: str = ""
    credentials: str = ""
    business_name: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    npi: str = ""
    logo_data_url: str | None = None


PROFILE_FIELDS = tuple(SaveProfile.model_fields)[:-1]


async def load_practice_profile(repo: Repository) -> PracticeProfile | None:
    profiles = await repo.list(PracticeProfile)
    return max(profiles, key=lambda p: p.updated_at) if profiles else None


async def load_document_settings(repo: Repository) -> DocumentSettings:
    """Paper size and scope-of-practice statement, printed on every document."""
    # Imported here: the documents' domain is not needed to show the first screen.
    from ..documents import DocumentSettings

    found = await repo.get(DocumentSettings, DocumentSettings.model_fields["id"].default)
    return found or DocumentSettings()


async def save_practice_profile(repo: Repository, command: SaveProfile) -> PracticeProfile:
    """Store the profile (one per practice; edits keep its id and the signing key)."""
    data = clean_form(command.model_dump(include=set(PROFILE_FIELDS)))
    current = await load_practice_profile(repo)
    if command.logo_data_url is not None:
        data["logo_data_url"] = command.logo_data_url or None
    elif current is not None:
        data["logo_data_url"] = current.logo_data_url
    if current is not None and current.signing_key is not None:
        data["signing_key"] = current.signing_key  # not on the form: kept as it is
    edit = (
        {}
        if current is None
        else {"id": current.id, "created_at": current.created_at, "updated_at": utc_now()}
    )
    try:
        profile = PracticeProfile(**data, **edit)
    except ValidationError as exc:
        raise Refused.invalid(exc) from exc
    await repo.save(profile)
    return profile


async def profile_with_signing_key(repo: Repository, public_key: dict) -> PracticeProfile | None:
    """The practice profile updated to name the public signing key (to be saved in the same
    write as the record just signed), or None: no profile yet, or it names this key already."""
    profile = await load_practice_profile(repo)
    key = SigningPublicKey.model_validate(public_key)
    if profile is None or profile.signing_key == key:
        return None
    return profile.model_copy(update={"signing_key": key, "updated_at": utc_now()})
