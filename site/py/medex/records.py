"""Pydantic models of stored records.

Every stored record is a self-contained JSON document with a random UUID ``id``, a
``schema_version`` and ``created_at`` / ``updated_at`` timestamps (UTC, ISO 8601).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from .signing import SigningPublicKey


def new_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    # Microseconds kept: "saved again" must differ from "created" even within one second
    # (the audit log tells create from update by created_at == updated_at).
    return datetime.now(UTC)


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _no_control_chars(value: str) -> str:
    # Keep tabs/newlines (addresses, notes); drop other C0 controls and DEL which only
    # ever arrive by accident (pasted from PDFs) and break printing.
    return _CONTROL_CHARS.sub("", value)


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_control_chars)
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=5000),
    AfterValidator(_no_control_chars),
]
RequiredText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_control_chars),
]


_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[A-Za-z]{2,}$")


def _email(value: str) -> str:
    # Deliberately simple (no DNS, no email-validator dependency): catches the typos a
    # practitioner makes (missing @, missing domain, spaces).
    if "@" not in value:
        raise ValueError("An e-mail address needs an @, e.g. name@example.com")
    if not _EMAIL.match(value):
        raise ValueError("This e-mail address does not look complete, e.g. name@example.com")
    return value


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)
]


class Record(BaseModel):
    """Base of every stored record."""

    # defer_build: a model builds its validator on first use, not at import (start-up time).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    # The IndexedDB store this record type lives in; set by each subclass.
    store: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1
    # A record computed from others (a client summary): saved expecting exactly the revision
    # it was computed over (``_rev``; "" for none), not the one a screen showed.
    DERIVED: ClassVar[bool] = False

    id: str = Field(default_factory=new_id)
    schema_version: int = 1
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    # The stored revision ("<generation>-<hash>", CouchDB's ``_rev`` form) this copy was read
    # at; "" for a record never stored. The repository sets it and checks it on save: a save
    # of a copy read at an older revision is refused (another tab changed the record).
    # A private attribute: never part of the record's content, JSON schema or content hash.
    _rev: str = PrivateAttr(default="")

    @model_validator(mode="wrap")
    @classmethod
    def _stored_revision(cls, data: Any, handler: Any) -> Any:
        # A stored document carries its revision (and a "signed" marker the write path reads
        # while the content is encrypted); they belong to storage, not to the record.
        if isinstance(data, dict) and ("_rev" in data or "_signed" in data):
            data = dict(data)
            rev = data.pop("_rev", "") or ""
            data.pop("_signed", None)
            record = handler(data)
            record._rev = str(rev)
            return record
        return handler(data)

    @model_validator(mode="before")
    @classmethod
    def _same_moment_when_new(cls, data: Any) -> Any:
        # A new record is created and updated at the same instant (one clock reading).
        if isinstance(data, dict) and ("created_at" not in data or "updated_at" not in data):
            data = dict(data)
            data.setdefault("created_at", utc_now())
            data.setdefault("updated_at", data["created_at"])
        return data

    @field_validator("id")
    @classmethod
    def _id_is_uuid(cls, value: str) -> str:
        try:
            return str(uuid.UUID(value))
        except (ValueError, AttributeError, TypeError) as exc:
            raise ValueError("Record id must be a UUID") from exc

    def to_doc(self) -> dict:
        """The JSON-compatible document stored in IndexedDB."""
        return self.model_dump(mode="json")

    def touched(self) -> Self:
        return self.model_copy(update={"updated_at": utc_now()})


# The steps of every record's validation that ``stored_document_schema`` replaces.
_ID_IS_UUID = Record._id_is_uuid.__func__  # type: ignore[attr-defined]
_STORED_REVISION = Record._stored_revision.__func__
_SAME_MOMENT_WHEN_NEW = Record._same_moment_when_new.__func__


# What a stored text never holds: the characters ``_no_control_chars`` removes.
CONTROL_FREE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
# A record id as stored: ``str(uuid.UUID(...))``, the form ``_id_is_uuid`` gives.
STORED_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def stored_document_schema(schema: Any) -> Any:
    """A record type's core schema (or any schema holding records) made for documents as
    stored, where the Python calls of every record are replaced by checks pydantic-core makes
    itself: text refuses a control character instead of removing it (``CONTROL_FREE``), an id
    must already be in its stored form (``STORED_ID``) instead of being normalised, both
    timestamps must be present (no "same moment when new" step), and the storage fields
    ``_rev``/``_signed`` must have been taken off by the caller (no wrap step).

    A document this accepts validates to exactly the record the record type itself makes of it
    (each replaced step is the identity on such a document); one it refuses may still be
    valid for the record type, which the caller then asks (``medex.backup.RecordChecker``)."""
    if isinstance(schema, list):
        return [stored_document_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind in ("function-after", "function-before", "function-wrap"):
        step = getattr(schema.get("function", {}).get("function"), "__func__", None) or (
            schema.get("function", {}).get("function")
        )
        inner = stored_document_schema(schema["schema"])
        if step is _no_control_chars and inner.get("type") == "str":
            return {**inner, "pattern": CONTROL_FREE}
        if step is _ID_IS_UUID and inner.get("type") == "str":
            return {**inner, "pattern": STORED_ID}
        if step in (_STORED_REVISION, _SAME_MOMENT_WHEN_NEW):
            return inner
        return {**schema, "schema": inner}
    if kind == "default" and schema.get("default_factory") in (utc_now, new_id):
        return stored_document_schema(schema["schema"])
    return {
        key: stored_document_schema(value) if isinstance(value, dict | list) else value
        for key, value in schema.items()
    }


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def validate_npi(value: str) -> str:
    """A US National Provider Identifier: 10 digits with a Luhn check digit over '80840' + NPI."""
    digits = value.replace(" ", "").replace("-", "")
    if not (len(digits) == 10 and digits.isdigit()):
        raise ValueError("An NPI is exactly 10 digits")
    if digits[0] not in "12":
        raise ValueError("An NPI starts with 1 or 2")
    if not luhn_ok("80840" + digits):
        raise ValueError("This NPI's check digit is wrong: please re-check the number")
    return digits


class PracticeProfile(Record):
    """The practitioner and their business: the letterhead of every document."""

    store: ClassVar[str] = "profile"

    practitioner_name: RequiredText
    credentials: Text = ""
    business_name: RequiredText
    address: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=500),
        AfterValidator(_no_control_chars),
    ] = ""
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    email: Email | None = None
    npi: str | None = None
    logo_data_url: str | None = Field(default=None, max_length=400_000)
    # The public half of the practice signing key (medex.signing), set at the first signature.
    signing_key: SigningPublicKey | None = None

    @field_validator("phone")
    @classmethod
    def _phone_plausible(cls, value: str) -> str:
        if not value:
            return value
        digits = sum(ch.isdigit() for ch in value)
        allowed = set("0123456789+-(). xext")
        if digits < 7 or any(ch.lower() not in allowed for ch in value):
            raise ValueError("Enter a phone number with at least 7 digits, e.g. (555) 123-4567")
        return value

    @field_validator("npi", mode="before")
    @classmethod
    def _npi(cls, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return validate_npi(str(value))

    @field_validator("email", mode="before")
    @classmethod
    def _blank_email(cls, value):
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("logo_data_url")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(
            ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/webp;base64,")
        ):
            raise ValueError("The logo must be a PNG, JPEG or WebP image")
        return value

    @property
    def display_name(self) -> str:
        return (
            f"{self.practitioner_name}, {self.credentials}"
            if self.credentials
            else self.practitioner_name
        )
