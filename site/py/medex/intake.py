"""Referral and intake records: referring providers, clients, referrals, consents, goals.

Pure domain: no I/O. Dates that depend on "today" take it from the pydantic validation
context (``context={"today": date}``) so tests and the browser's local date agree; without it
the device clock is used.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .icd10 import Diagnosis
from .letters import provider_display_name
from .records import (
    Email,
    LongText,
    Record,
    RequiredText,
    Text,
    _no_control_chars,
    validate_npi,
)
from .signing import KEY_ID_PATTERN, SIGNATURE_PATTERN, Claim, record_digest

Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
# Addresses are printed on letters: drop stray control characters like every other text field.
Address = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_no_control_chars)
]


def _today(info: ValidationInfo) -> date:
    context = info.context if isinstance(info.context, dict) else {}
    return context.get("today") or date.today()


def _phone(value: str) -> str:
    if not value:
        return value
    digits = sum(ch.isdigit() for ch in value)
    allowed = set("0123456789+-(). xext")
    if digits < 7 or any(ch.lower() not in allowed for ch in value):
        raise ValueError("Enter a phone number with at least 7 digits, e.g. (555) 123-4567")
    return value


def _blank_to_none(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def name_key(text: str) -> str:
    """Search form of a name: lower case, no accents, letters/digits and single spaces."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


# ---------------------------------------------------------------------------------------------
# Referring providers
# ---------------------------------------------------------------------------------------------


class ReferringProvider(Record):
    """A physician (or other provider) who refers clients."""

    store: ClassVar[str] = "providers"

    name: RequiredText
    credentials: Text = ""  # MD, DO, NP, PA-C…
    practice: Text = ""
    phone: Phone = ""
    fax: Phone = ""
    email: Email | None = None
    address: Address = ""
    npi: str | None = None
    notes: LongText = ""

    @field_validator("phone", "fax")
    @classmethod
    def _phones(cls, value: str) -> str:
        return _phone(value)

    @field_validator("email", mode="before")
    @classmethod
    def _blank_email(cls, value):
        return _blank_to_none(value)

    @field_validator("npi", mode="before")
    @classmethod
    def _npi(cls, value):
        value = _blank_to_none(value)
        return None if value is None else validate_npi(str(value))

    @property
    def display_name(self) -> str:
        """ "Maria Chen, MD" (or "Dr. Maria Chen" without credentials): one rule everywhere."""
        return provider_display_name(self.name, self.credentials)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------


class ClientStatus(StrEnum):
    REFERRED = "referred"
    PENDING_CLEARANCE = "pending_clearance"
    ACTIVE = "active"
    DISCHARGED = "discharged"


STATUS_LABELS: dict[ClientStatus, str] = {
    ClientStatus.REFERRED: "Referred",
    ClientStatus.PENDING_CLEARANCE: "Pending clearance",
    ClientStatus.ACTIVE: "Active",
    ClientStatus.DISCHARGED: "Discharged",
}

# referred → pending clearance → active → discharged. A referred client who needs no clearance
# goes straight to active; a discharged client returns as "referred" with a new referral; an
# active client goes back to "pending clearance" when a new screening calls for it.
ALLOWED_TRANSITIONS: dict[ClientStatus, frozenset[ClientStatus]] = {
    ClientStatus.REFERRED: frozenset(
        {ClientStatus.PENDING_CLEARANCE, ClientStatus.ACTIVE, ClientStatus.DISCHARGED}
    ),
    ClientStatus.PENDING_CLEARANCE: frozenset(
        {ClientStatus.REFERRED, ClientStatus.ACTIVE, ClientStatus.DISCHARGED}
    ),
    ClientStatus.ACTIVE: frozenset({ClientStatus.PENDING_CLEARANCE, ClientStatus.DISCHARGED}),
    ClientStatus.DISCHARGED: frozenset({ClientStatus.REFERRED}),
}


def check_transition(current: ClientStatus, new: ClientStatus) -> None:
    """Raise ValueError in plain words when a client cannot move from ``current`` to ``new``."""
    if new == current or new in ALLOWED_TRANSITIONS[current]:
        return
    raise ValueError(
        f"A client who is {STATUS_LABELS[current].lower()} cannot be made "
        f"{STATUS_LABELS[new].lower()} directly"
    )


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    INTERSEX = "intersex"
    NOT_STATED = "not_stated"


SEX_LABELS: dict[Sex, str] = {
    Sex.FEMALE: "Female",
    Sex.MALE: "Male",
    Sex.INTERSEX: "Intersex",
    Sex.NOT_STATED: "Not stated",
}


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day``: a birthday counts on the day itself (29 February birthdays
    count on 1 March in non-leap years)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


class Client(Record):
    store: ClassVar[str] = "clients"

    first_name: RequiredText
    last_name: RequiredText
    date_of_birth: date
    sex: Sex
    phone: Phone = ""
    email: Email | None = None
    address: Address = ""
    emergency_contact_name: Text = ""
    emergency_contact_relationship: Text = ""
    emergency_contact_phone: Phone = ""
    status: ClientStatus = ClientStatus.REFERRED
    # The provider of the latest referral (kept here so the client list filters without joins).
    provider_id: str | None = None
    notes: LongText = ""

    @field_validator("phone", "emergency_contact_phone")
    @classmethod
    def _phones(cls, value: str) -> str:
        return _phone(value)

    @field_validator("email", "provider_id", mode="before")
    @classmethod
    def _blank(cls, value):
        return _blank_to_none(value)

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, value: date, info: ValidationInfo) -> date:
        today = _today(info)
        if value > today:
            raise ValueError("The date of birth cannot be in the future")
        if today.year - value.year > 120:
            raise ValueError("Check the year of birth: this would make the client over 120")
        return value

    @model_validator(mode="after")
    def _emergency_contact_phone(self) -> Client:
        if self.emergency_contact_name and not self.emergency_contact_phone:
            raise ValueError("Add a phone number for the emergency contact")
        return self

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def name_key(self) -> str:
        return name_key(f"{self.first_name} {self.last_name}")

    def age(self, today: date) -> int:
        return age_on(self.date_of_birth, today)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


# pydantic puts a model-level error under "__all__"; the emergency contact one belongs next to
# the phone field.
MODEL_ERROR_FIELDS = {"Add a phone number for the emergency contact": "emergency_contact_phone"}


# ---------------------------------------------------------------------------------------------
# Referrals
# ---------------------------------------------------------------------------------------------


class Referral(Record):
    """A physician's referral. Validate with ``context={"date_of_birth": ..., "today": ...}``
    to check the dates against the client (and ``ICD10_CONTEXT_KEY`` to check the codes)."""

    store: ClassVar[str] = "referrals"

    client_id: RequiredText
    provider_id: RequiredText
    referred_on: date
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    reason: LongText = ""
    precautions: LongText = ""
    requested_frequency: Text = ""  # e.g. "2 sessions a week"
    requested_duration: Text = ""  # e.g. "8 weeks"
    physician_follow_up: date | None = None
    # A referral outside every program of the practice: accepted anyway or referred on
    # (medex.focus); None while not decided, or when it fits a program.
    focus_decision: Literal["accepted", "referred_on"] | None = None

    @field_validator("provider_id", mode="before")
    @classmethod
    def _provider(cls, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("Choose the referring provider")
        return value

    @field_validator("physician_follow_up", "focus_decision", mode="before")
    @classmethod
    def _blank_follow_up(cls, value):
        return _blank_to_none(value)

    @field_validator("diagnoses")
    @classmethod
    def _diagnoses(cls, value: list[Diagnosis]) -> list[Diagnosis]:
        if not value:
            raise ValueError("Add at least one diagnosis (ICD-10-CM code) from the referral")
        codes = [d.code for d in value]
        if len(set(codes)) != len(codes):
            raise ValueError("The same diagnosis code is listed twice")
        return value

    @field_validator("referred_on")
    @classmethod
    def _referred_on(cls, value: date, info: ValidationInfo) -> date:
        context = info.context if isinstance(info.context, dict) else {}
        birth = context.get("date_of_birth")
        if birth is not None and value < birth:
            raise ValueError("The referral date cannot be before the client's date of birth")
        if value > _today(info):
            raise ValueError("The referral date cannot be in the future")
        return value

    @model_validator(mode="after")
    def _follow_up_after_referral(self) -> Referral:
        if self.physician_follow_up is not None and self.physician_follow_up < self.referred_on:
            raise ValueError("The physician's follow-up date cannot be before the referral date")
        return self


# ---------------------------------------------------------------------------------------------
# Consent and authorisation
# ---------------------------------------------------------------------------------------------


class ConsentKind(StrEnum):
    INFORMED_CONSENT = "informed_consent"
    AUTHORISATION = "authorisation"


CONSENT_LABELS: dict[ConsentKind, str] = {
    ConsentKind.INFORMED_CONSENT: "Informed consent to take part in exercise",
    ConsentKind.AUTHORISATION: "Authorisation to communicate with the referring physician",
}

DEFAULT_CONSENT_TEXTS: dict[ConsentKind, str] = {
    ConsentKind.INFORMED_CONSENT: (
        "I agree to take part in an exercise program with {practice}. I understand that "
        "exercise carries some risk, including muscle soreness, injury, and in rare cases "
        "abnormal blood pressure or heart rhythm, fainting, or heart attack. I have answered the "
        "health questions truthfully and will tell my exercise professional at once about any "
        "change in my health, medications or symptoms, and about any discomfort during "
        "exercise. I understand that my exercise professional is not a licensed clinician, does "
        "not diagnose or treat medical conditions, and works from my physician's referral. I may "
        "stop any exercise, or the program, at any time."
    ),
    ConsentKind.AUTHORISATION: (
        "I authorise {practice} to communicate with my referring physician and the health care "
        "providers named in my referral about my exercise program: to request medical clearance "
        "and precautions, and to send assessment summaries, session records, progress reports "
        "and a discharge summary. This authorisation lasts for the length of my program unless "
        "I withdraw it in writing."
    ),
}

# One settings document per practice: a fixed id so every save replaces it.
CONSENT_SETTINGS_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "medex:settings:consent-texts"))


class ConsentTexts(Record):
    """The consent wording the practitioner configured (Settings). ``{practice}`` is replaced
    by the business name when shown to the client."""

    store: ClassVar[str] = "settings"

    id: str = CONSENT_SETTINGS_ID
    informed_consent: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=20, max_length=5000)
    ] = DEFAULT_CONSENT_TEXTS[ConsentKind.INFORMED_CONSENT]
    authorisation: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=20, max_length=5000)
    ] = DEFAULT_CONSENT_TEXTS[ConsentKind.AUTHORISATION]

    def text_for(self, kind: ConsentKind, practice: str) -> str:
        template = getattr(self, kind.value)
        return template.replace("{practice}", practice or "the practice")


class Consent(Record):
    """A signed consent: an immutable snapshot of the exact text the client signed."""

    store: ClassVar[str] = "consents"
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)

    client_id: RequiredText
    kind: ConsentKind
    text: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    text_sha256: str = ""
    signed_name: RequiredText
    signed_on: date
    signature_svg: str | None = Field(default=None, max_length=200_000)
    # The practice key's signature of the consent's content digest (medex.signing), taken when
    # the consent is stored: a rewrite of the stored consent no longer verifies. None on
    # consents signed before signature keys.
    key_id: str | None = Field(default=None, pattern=KEY_ID_PATTERN)
    key_signature: str | None = Field(default=None, pattern=SIGNATURE_PATTERN)

    @model_validator(mode="before")
    @classmethod
    def _hash(cls, data):
        if isinstance(data, dict) and not data.get("text_sha256") and "text" in data:
            text = str(data["text"])
            data = {**data, "text_sha256": hashlib.sha256(text.encode()).hexdigest()}
        return data

    @model_validator(mode="after")
    def _intact(self) -> Consent:
        if hashlib.sha256(self.text.encode()).hexdigest() != self.text_sha256:
            raise ValueError("This consent's text has been changed since it was signed")
        return self

    @field_validator("signature_svg", mode="before")
    @classmethod
    def _signature(cls, value):
        value = _blank_to_none(value)
        if value is not None and not str(value).startswith("data:image/svg+xml;base64,"):
            raise ValueError("The drawn signature could not be read: please sign again")
        return value

    @field_validator("signed_on")
    @classmethod
    def _signed_on(cls, value: date, info: ValidationInfo) -> date:
        if value > _today(info):
            raise ValueError("A consent cannot be signed on a future date")
        return value

    @property
    def label(self) -> str:
        return CONSENT_LABELS[self.kind]

    @property
    def digest(self) -> str:
        """What the practice key signs (medex.signing.record_digest of the consent)."""
        return record_digest(CONSENT_SIGNING_KIND, self.model_dump(mode="json"))

    def claim(self) -> Claim:
        """For checking its key signature. A consent has no stored hash of its own: with this
        practice's key a rewrite shows as a signature mismatch."""
        return Claim(
            record_id=self.id,
            hash_ok=True,
            kind=CONSENT_SIGNING_KIND,
            content_hash=self.digest,
            key_id=self.key_id,
            signature=self.key_signature,
        )


CONSENT_SIGNING_KIND = "consent"


# ---------------------------------------------------------------------------------------------
# Goals (PSFS) and functional deficits
# ---------------------------------------------------------------------------------------------


def _drop_blank_lines(value):
    if isinstance(value, str):
        value = value.splitlines()
    if isinstance(value, list):
        return [v for v in value if not (isinstance(v, str) and not v.strip())]
    return value


class PsfsActivity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activity: RequiredText
    score: int = Field(ge=0, le=10)  # 0 = unable to perform, 10 = able at pre-injury level


class Goals(Record):
    """Goals in the client's words (Patient-Specific Functional Scale: 3–5 activities, each
    scored 0–10; Stratford 1995) and functional deficits in the practitioner's words."""

    store: ClassVar[str] = "goals"

    client_id: RequiredText
    recorded_on: date
    activities: list[PsfsActivity]
    deficits: Annotated[list[RequiredText], BeforeValidator(_drop_blank_lines)] = Field(
        default_factory=list
    )

    @field_validator("activities")
    @classmethod
    def _three_to_five(cls, value: list[PsfsActivity]) -> list[PsfsActivity]:
        if not 3 <= len(value) <= 5:
            raise ValueError("The PSFS needs 3 to 5 activities the client finds hard")
        return value

    @property
    def psfs_mean(self) -> float:
        return round(sum(a.score for a in self.activities) / len(self.activities), 1)


Section = Literal[
    "details", "referral", "history", "screening", "clearance", "consent", "goals", "checklist"
]
