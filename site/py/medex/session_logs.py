"""Objective session logs: what was done, how the client responded, signed and locked.

Fields follow the recommended log of docs/clinical.md §8.1 (an objective log by an exercise
professional, not a SOAP note: no diagnosis, the "assessment" is the client's response).

Pure domain (no I/O). The rules that matter most:

- **Safety flags** come from ``safety.evaluate_session_safety`` (docs/clinical.md §7); the flags
  shown at signing are stored in the log as a snapshot, so later rule changes never rewrite
  what the practitioner saw.
- **Acting against a hard stop** needs a recorded reason (``safety.SafetyOverride``, validated
  by ``safety.validate_override_reason``). "Acting against" means exercising although a
  *pre-exercise* hard stop was showing (resting vitals, pre-session symptoms, pre-exercise
  glucose, back-pain red flags). A stop raised *during or after* exercise cannot be prevented
  by a reason; it needs the action taken instead (docs/clinical.md §8.1 "action taken and who
  was notified"), as does every hard stop.
- **Medical clearance**: an attended session needs the clearance when the screening
  recommends it, or a reason (``screening.session_logging_allowed``). No screening on file
  is treated as "clearance unknown" and needs a reason too (conservative).
- **Signing locks the log**. The signature stores a SHA-256 of the canonical JSON of the
  clinical content plus the signer and time; ``check_update_allowed`` refuses any change to
  a signed log by any path (edit, re-save, import); ``verify_signature`` detects tampering.
  Corrections are ``Addendum`` records that never modify the log.

The hash alone is tamper-EVIDENCE: someone who edits the stored JSON and recomputes it with
this code is not detected by it. So at signing the practice key (ECDSA P-256, kept on this
device: medex.signing, js/signing.js) also signs the hash (``Signature.key_id`` /
``key_signature``), and every view checks both: a rewrite with a recomputed hash no longer
fits the key signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .dashboard import DashboardItem
from .exercises import KG_PER_LB, Dosage, Exercise, ExerciseCategory, LoadUnit, load_in_kg
from .forms import Refused, field_errors
from .heart_rate import HR_PLAUSIBLE_MAX, HR_PLAUSIBLE_MIN, RpeRating
from .letters import local_time_text, long_date
from .navigation import Screen
from .records import LongText, Record, RequiredText, Text
from .repository import SignedRecordError
from .safety import (
    TIMING_LABELS,
    MskRedFlag,
    SafetyFlag,
    SafetyOverride,
    Severity,
    Symptom,
    Timing,
    Vitals,
    check_override,
    evaluate_session_safety,
    validate_override_reason,
)
from .screening import AcsmOutcome, Clearance, session_logging_allowed
from .signing import KEY_ID_PATTERN, SIGNATURE_PATTERN, Claim, Signer, signing_message

HASH_VERSION = 1

# --- Enums -----------------------------------------------------------------------------


class Attendance(StrEnum):
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


ATTENDANCE_LABELS = {
    Attendance.ATTENDED: "Attended",
    Attendance.CANCELLED: "Cancelled",
    Attendance.NO_SHOW: "No-show",
}


class AssistanceLevel(StrEnum):
    """Rehabilitation assistance terms (labels only; no percentage bands, which are not in
    the reference set)."""

    INDEPENDENT = "independent"
    MODIFIED_INDEPENDENT = "modified_independent"
    SUPERVISION = "supervision"
    CONTACT_GUARD = "contact_guard"
    MINIMAL = "minimal"
    MODERATE = "moderate"
    MAXIMAL = "maximal"


ASSISTANCE_LABELS = {
    AssistanceLevel.INDEPENDENT: "Independent",
    AssistanceLevel.MODIFIED_INDEPENDENT: "Independent with a device",
    AssistanceLevel.SUPERVISION: "Supervision / stand-by",
    AssistanceLevel.CONTACT_GUARD: "Contact guard",
    AssistanceLevel.MINIMAL: "Minimal assistance",
    AssistanceLevel.MODERATE: "Moderate assistance",
    AssistanceLevel.MAXIMAL: "Maximal assistance",
}


class Tolerance(StrEnum):
    WELL = "well"
    WITH_MODIFICATIONS = "with_modifications"
    POORLY = "poorly"
    STOPPED_EARLY = "stopped_early"


TOLERANCE_LABELS = {
    Tolerance.WELL: "Tolerated well",
    Tolerance.WITH_MODIFICATIONS: "Tolerated with modifications",
    Tolerance.POORLY: "Tolerated poorly",
    Tolerance.STOPPED_EARLY: "Session stopped early",
}


class AddendumKind(StrEnum):
    CORRECTION = "correction"
    LATE_ENTRY = "late_entry"
    CLARIFICATION = "clarification"


ADDENDUM_KIND_LABELS = {
    AddendumKind.CORRECTION: "Correction",
    AddendumKind.LATE_ENTRY: "Late entry",
    AddendumKind.CLARIFICATION: "Clarification",
}


# --- Exercise entries ------------------------------------------------------------------


class ExerciseEntry(Dosage):
    """One exercise as performed. ``exercise_name`` is a snapshot of the library name when
    the exercise was logged: renaming the library exercise never changes this entry."""

    exercise_id: RequiredText
    exercise_name: RequiredText
    category: ExerciseCategory | None = None
    modality: Text = ""
    rpe: RpeRating | None = None
    # Highest heart rate during this exercise (aerobic work, docs/clinical.md §8.1).
    heart_rate_bpm: int | None = None
    modifications: Text = ""
    assistance: AssistanceLevel | None = None
    notes: Text = ""

    @field_validator("heart_rate_bpm")
    @classmethod
    def _hr(cls, value: int | None) -> int | None:
        if value is not None and not HR_PLAUSIBLE_MIN <= value <= HR_PLAUSIBLE_MAX:
            raise ValueError(
                f"Heart rate must be between {HR_PLAUSIBLE_MIN} and {HR_PLAUSIBLE_MAX} bpm: "
                "check the reading"
            )
        return value

    @model_validator(mode="after")
    def _something_done(self):
        if self.is_empty:
            raise ValueError(f"{self.exercise_name}: enter sets × reps, or a time or distance")
        return self

    @classmethod
    def from_exercise(cls, exercise: Exercise, dosage: Dosage | None = None) -> ExerciseEntry:
        """An entry for a library exercise, with its current name and the given (or default)
        parameters."""
        d = dosage if dosage is not None else exercise.defaults
        return cls(
            exercise_id=exercise.id,
            exercise_name=exercise.name,
            category=exercise.category,
            modality=exercise.modality,
            **d.model_dump(include=set(Dosage.model_fields)),
        )

    @property
    def dosage(self) -> Dosage:
        return Dosage(**self.model_dump(include=set(Dosage.model_fields)))


# --- Signature -------------------------------------------------------------------------


class Signature(BaseModel):
    """Who signed, when, and the hash of what they signed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signed_by: RequiredText
    credentials: Text = ""
    signed_at: datetime
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash_version: int = HASH_VERSION
    # The practice key's signature of ``signing_message("session_log", content_hash)`` and
    # the key's fingerprint (medex.signing). None on logs signed before signature keys.
    key_id: str | None = Field(default=None, pattern=KEY_ID_PATTERN)
    key_signature: str | None = Field(default=None, pattern=SIGNATURE_PATTERN)

    @field_validator("signed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("The signing time must include the time zone")
        return value

    @property
    def text(self) -> str:
        who = f"{self.signed_by}, {self.credentials}" if self.credentials else self.signed_by
        return f"Signed by {who} on {self.signed_at.strftime('%Y-%m-%d %H:%M')} UTC"

    def local_text(self, utc_offset: timedelta | None) -> str:
        """ "Signed by Dana Reyes, MS on Mar 10, 2026 at 09:20 (UTC−5)": the signing time on
        the device's clock (``utc_offset`` at that moment, from the platform)."""
        who = f"{self.signed_by}, {self.credentials}" if self.credentials else self.signed_by
        return f"Signed by {who} on {local_time_text(self.signed_at, utc_offset)}"


# --- The session log -------------------------------------------------------------------

_SYMPTOM_ORDER = {s: i for i, s in enumerate(Symptom)}
_MSK_ORDER = {s: i for i, s in enumerate(MskRedFlag)}


def _check_timing(value: Vitals | None, expected: Timing) -> Vitals | None:
    if value is not None and value.timing != expected:
        raise ValueError(
            f"This reading is marked '{TIMING_LABELS[value.timing]}' but was entered as "
            f"'{TIMING_LABELS[expected]}'"
        )
    return value


def _pain(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 10:
        raise ValueError("Pain must be a whole number from 0 (no pain) to 10")
    return value


class SessionLog(Record):
    """One session (or a cancelled / missed one) of one client."""

    store: ClassVar[str] = "session_logs"

    client_id: RequiredText
    episode_id: str | None = None
    session_date: date
    start_time: time | None = None
    session_number: int | None = Field(default=None, ge=1, le=10_000)

    attendance: Attendance = Attendance.ATTENDED
    attendance_reason: Text = ""

    # Pre-session (docs/clinical.md §8.1)
    pre_vitals: Vitals | None = None
    # The pre-session symptoms check (docs/clinical.md §6.4, §7.5).
    symptoms: list[Symptom] = Field(default_factory=list)
    msk_red_flags: list[MskRedFlag] = Field(default_factory=list)
    has_diabetes: bool = False
    # Hypertension, heart disease or an HR/BP medication in the health history: a resting BP
    # is expected before exercise (docs/clinical.md §7.1, §8.1).
    bp_check_needed: bool = False
    severe_hypo_last_24h: bool = False
    pain: int | None = None  # NPRS 0–10 before the session
    pain_previous: int | None = None  # last score, shown and used for the pain flags
    medication_changes: LongText = ""
    target_hr_text: LongText = ""  # the target shown, with its method (or "use RPE")

    # Exercises
    exercises: list[ExerciseEntry] = Field(default_factory=list)

    # Intra- and post-session
    during_vitals: list[Vitals] = Field(default_factory=list)
    symptoms_during: list[Symptom] = Field(
        default_factory=list
    )  # symptoms that appeared during or after exercise
    post_vitals: Vitals | None = None
    recovery_notes: LongText = ""
    tolerance: Tolerance | None = None
    response_notes: LongText = ""
    adverse_events: LongText = ""
    action_taken: LongText = ""  # what was done about a flag, and who was notified
    plan_next: LongText = ""
    # Days the client did the home program since the last session, as they report it (None:
    # not asked). Adherence is counted from it (docs/clinical.md §9.2).
    home_program_days: int | None = Field(default=None, ge=0, le=366)

    # Safety and clearance (snapshots, set when the log is signed)
    safety_flags: list[SafetyFlag] = Field(default_factory=list)
    safety_override: SafetyOverride | None = None
    clearance_status: LongText = ""
    clearance_override_reason: LongText = ""

    # The practitioner's choice for this session (None: the default rule, see
    # ``counts_against_package`` / ``billed_as_service``). Words, not booleans: the signed
    # content hash leaves out False, and the choice must be covered by the signature.
    package_use: Literal["counted", "not_counted"] | None = None
    billing: Literal["billed", "not_billed"] | None = None

    signature: Signature | None = None

    @field_validator("symptoms", "symptoms_during")
    @classmethod
    def _symptom_set(cls, value: list[Symptom]) -> list[Symptom]:
        return sorted(set(value), key=_SYMPTOM_ORDER.__getitem__)

    @field_validator("msk_red_flags")
    @classmethod
    def _msk_set(cls, value: list[MskRedFlag]) -> list[MskRedFlag]:
        return sorted(set(value), key=_MSK_ORDER.__getitem__)

    @field_validator("pre_vitals")
    @classmethod
    def _pre(cls, value: Vitals | None) -> Vitals | None:
        return _check_timing(value, Timing.PRE)

    @field_validator("during_vitals")
    @classmethod
    def _during(cls, value: list[Vitals]) -> list[Vitals]:
        for v in value:
            _check_timing(v, Timing.DURING)
        return value

    @field_validator("post_vitals")
    @classmethod
    def _post(cls, value: Vitals | None) -> Vitals | None:
        return _check_timing(value, Timing.POST)

    @field_validator("pain", "pain_previous")
    @classmethod
    def _pain_range(cls, value: int | None) -> int | None:
        return _pain(value)

    @model_validator(mode="after")
    def _attendance(self) -> SessionLog:
        if self.attendance is Attendance.ATTENDED:
            return self
        label = ATTENDANCE_LABELS[self.attendance].lower()
        if (
            self.exercises
            or self.pre_vitals
            or self.during_vitals
            or self.post_vitals
            or self.tolerance
        ):
            raise ValueError(
                f"A {label} session has no vitals, exercises or tolerance: mark it attended "
                "to record them"
            )
        if self.attendance is Attendance.CANCELLED and not self.attendance_reason:
            raise ValueError("Give the reason for the cancellation")
        return self

    # -- derived --

    @property
    def is_signed(self) -> bool:
        return self.signature is not None

    @property
    def exercised(self) -> bool:
        return self.attendance is Attendance.ATTENDED and bool(self.exercises)

    @property
    def when(self) -> datetime:
        """Naive local date and time of the session (midnight when no time was given)."""
        return datetime.combine(self.session_date, self.start_time or time.min)

    @property
    def hard_stops(self) -> list[SafetyFlag]:
        return [f for f in self.safety_flags if f.severity is Severity.HARD_STOP]

    @property
    def exercise_stopped(self) -> bool:
        return exercise_stopped(self)

    @property
    def counts_against_package(self) -> bool:
        return counts_against_package(self)

    @property
    def billed_as_service(self) -> bool:
        return billed_as_service(self)


def exercise_stopped(log: SessionLog | SessionLogSummary) -> bool:
    """An attended session where a stop flag was raised and exercise did not go ahead with a
    recorded override: stopped before it started or during it (docs/clinical.md §7)."""
    if log.attendance is not Attendance.ATTENDED:
        return False
    stops = {f.code for f in log.safety_flags if f.severity is Severity.HARD_STOP}
    override = getattr(log, "safety_override", None)
    covered = override.flag_codes if override is not None else frozenset()
    return bool(stops - covered)


def counts_against_package(log: SessionLog | SessionLogSummary) -> bool:
    """Whether an attended session uses one of the package's sessions: yes by default (also
    a stopped one: the time was booked and spent), unless the practitioner chose not to count
    it. Cancelled and missed sessions never count."""
    if log.attendance is not Attendance.ATTENDED:
        return False
    return log.package_use != "not_counted"


def billed_as_service(log: SessionLog | SessionLogSummary) -> bool:
    """Whether an attended session is a date of service on the superbill: yes by default,
    except a session where exercise was stopped, which is billed only when the practitioner
    chooses to. An explicit choice always wins."""
    if log.attendance is not Attendance.ATTENDED:
        return False
    if log.billing is not None:
        return log.billing == "billed"
    return not exercise_stopped(log)


# Model-level messages → the form field they belong to (for the screens).
MODEL_ERROR_FIELDS = {"Give the reason for the cancellation": "attendance_reason"}


def log_errors(exc: ValidationError) -> dict[str, str]:
    errors = field_errors(exc)
    general = errors.get("__all__")
    if general in MODEL_ERROR_FIELDS:
        errors.pop("__all__")
        errors.setdefault(MODEL_ERROR_FIELDS[general], general)
    return errors


# --- Flags -----------------------------------------------------------------------------


def compute_flags(log: SessionLog) -> list[SafetyFlag]:
    """All safety flags for the log's readings, hard stops first."""
    return evaluate_session_safety(
        log.pre_vitals,
        log.during_vitals,
        log.post_vitals,
        symptoms={*log.symptoms, *log.symptoms_during},
        pain_now=log.pain,
        pain_previous=log.pain_previous,
        has_diabetes=log.has_diabetes,
        msk_red_flags=log.msk_red_flags,
        severe_hypo_last_24h=log.severe_hypo_last_24h,
        bp_check_needed=log.bp_check_needed,
    )


def pre_exercise_flags(log: SessionLog) -> list[SafetyFlag]:
    """The flags showing before exercise started: the ones a practitioner can act against."""
    return evaluate_session_safety(
        log.pre_vitals,
        symptoms=log.symptoms,
        pain_now=log.pain,
        pain_previous=log.pain_previous,
        has_diabetes=log.has_diabetes,
        msk_red_flags=log.msk_red_flags,
        severe_hypo_last_24h=log.severe_hypo_last_24h,
        bp_check_needed=log.bp_check_needed,
    )


def pre_exercise_hard_stops(log: SessionLog) -> list[SafetyFlag]:
    return [f for f in pre_exercise_flags(log) if f.severity is Severity.HARD_STOP]


def override_needed(log: SessionLog) -> bool:
    """True when the client exercised although a pre-exercise hard stop was showing."""
    return log.exercised and bool(pre_exercise_hard_stops(log))


# --- Content hash, signing, lock -------------------------------------------------------

# Stored bookkeeping that is not clinical content.
_NOT_CONTENT = {"created_at", "updated_at", "schema_version", "signature"}


def _prune(value: Any) -> Any:
    """Drop empty values (None, "", [], {}, False) recursively, so that adding an optional
    field with an empty default in a later version does not change old logs' hashes."""
    # Only containers recurse: a backup check hashes every signed log again, and a call per
    # scalar made this most of that work in the browser's Python.
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                v = _prune(v)
                if not v:
                    continue
            elif v is None or v is False or v == "":
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_prune(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json_doc(log: SessionLog, exclude: set[str]) -> dict:
    """The JSON document with sets in a fixed order. A frozenset (the override's flag codes)
    dumps in hash order, which changes between processes (string hash randomisation)."""
    doc = log.model_dump(mode="json", exclude=exclude)
    override = doc.get("safety_override")
    if override:
        override["flag_codes"] = sorted(override["flag_codes"])
    return doc


def content_document(log: SessionLog) -> dict:
    """The clinical content that a signature covers (id and client included, so a signature
    cannot be moved to another log)."""
    return _prune(_json_doc(log, _NOT_CONTENT))


def content_hash(log: SessionLog, signed_by: str, credentials: str, signed_at: datetime) -> str:
    doc = {
        "v": HASH_VERSION,
        "log": content_document(log),
        "signed_by": signed_by,
        "credentials": credentials,
        "signed_at": signed_at.isoformat(),
    }
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def verify_signature(log: SessionLog) -> bool:
    """True when the log is signed and its content is exactly what was signed."""
    sig = log.signature
    if sig is None or sig.hash_version != HASH_VERSION:
        return False
    expected = content_hash(log, sig.signed_by, sig.credentials, sig.signed_at)
    return hmac.compare_digest(expected, sig.content_hash)


SIGNING_KIND = "session_log"


def stored_signature_claim(doc: Mapping[str, Any]) -> Claim | None:
    """The claim of a signed log from its stored document as it is, when that document's
    content is exactly what was signed; None otherwise (not signed, another hash version, or
    the hash does not match): the caller then checks the validated log
    (``signature_claim``), which alone may conclude "does not match". A stored document is
    the validated log's JSON, so when its own content hashes to the signed hash the log's
    does too: the sha256 cannot match content that was changed."""
    sig = doc.get("signature")
    if not isinstance(sig, dict) or sig.get("hash_version", HASH_VERSION) != HASH_VERSION:
        return None
    try:
        signed_at = datetime.fromisoformat(str(sig["signed_at"]).replace("Z", "+00:00"))
        content = {k: v for k, v in doc.items() if k not in _NOT_CONTENT and k[:1] != "_"}
        override = content.get("safety_override")
        if isinstance(override, dict) and isinstance(override.get("flag_codes"), list):
            content["safety_override"] = {**override, "flag_codes": sorted(override["flag_codes"])}
        signed = {
            "v": HASH_VERSION,
            "log": _prune(content),
            "signed_by": sig["signed_by"],
            "credentials": sig.get("credentials", ""),
            "signed_at": signed_at.isoformat(),
        }
        expected = hashlib.sha256(canonical_json(signed).encode("utf-8")).hexdigest()
        if not hmac.compare_digest(expected, str(sig["content_hash"])):
            return None
    except (KeyError, TypeError, ValueError):
        return None
    return Claim(
        record_id=str(doc["id"]),
        hash_ok=True,
        kind=SIGNING_KIND,
        content_hash=str(sig["content_hash"]),
        key_id=sig.get("key_id"),
        signature=sig.get("key_signature"),
    )


def signature_claim(log: SessionLog) -> Claim:
    """What checking this signed log's signature needs (medex.signing): whether its content
    still matches its hash, and the key signature it carries."""
    sig = log.signature
    if sig is None:
        raise ValueError("This session log is not signed")
    return Claim(
        record_id=log.id,
        hash_ok=verify_signature(log),
        kind=SIGNING_KIND,
        content_hash=sig.content_hash,
        key_id=sig.key_id,
        signature=sig.key_signature,
    )


async def sign_with_key(log: SessionLog, signer: Signer) -> tuple[SessionLog, dict]:
    """The signed log with the practice key's signature of its content hash added, and the
    public key that made it (for the practice profile)."""
    sig = log.signature
    if sig is None:
        raise ValueError("Sign the log (sign_log) before signing it with the practice key")
    made = await signer.sign_message(signing_message(SIGNING_KIND, sig.content_hash))
    keyed = sig.model_copy(update={"key_id": made["key_id"], "key_signature": made["signature"]})
    # Validate the signer's output like any stored value.
    keyed = Signature.model_validate(keyed.model_dump())
    return log.model_copy(update={"signature": keyed}), made["public_key"]


class SigningRefused(Refused):
    """The log cannot be signed yet; ``errors`` maps the log's fields to plain-words messages
    (the one refusal of every use case, ``medex.forms.Refused``)."""


class LockedLogError(SignedRecordError, ValueError):
    """A signed log (or addendum) was about to be changed: the same refusal as the storage's
    own check of a signed record, so the shell handles both alike (nothing written, what was
    typed kept and listed)."""

    def __init__(self, message: str, store: str = "session_logs", record_id: str = ""):
        super().__init__(store, record_id, message)


def _clearance_check(
    log: SessionLog, outcome: AcsmOutcome | None, clearance: Clearance | None
) -> tuple[dict[str, str], str, str]:
    """(errors, clearance_status, cleaned reason) for signing."""
    reason = log.clearance_override_reason
    if log.attendance is not Attendance.ATTENDED:
        if reason:
            return (
                {"clearance_override_reason": "No session took place: clear this reason"},
                "",
                "",
            )
        return {}, "Not applicable: no session took place.", ""
    if outcome is None:
        needed = True
        allowed_msg = ""
        blocked_msg = (
            "No pre-participation screening is recorded for this client. Record the screening, "
            "or give a reason for logging this session without it."
        )
    else:
        needed, msg = session_logging_allowed(outcome, clearance, None)
        needed = not needed
        allowed_msg, blocked_msg = msg, msg
    if not needed:
        if reason:
            return (
                {
                    "clearance_override_reason": (
                        "Medical clearance is not outstanding: clear this reason"
                    )
                },
                "",
                "",
            )
        return {}, allowed_msg, ""
    if not reason:
        return {"clearance_override_reason": blocked_msg}, "", ""
    try:
        cleaned = validate_override_reason(reason)
    except ValueError as exc:
        return {"clearance_override_reason": str(exc)}, "", ""
    if outcome is None:
        status = f"Logged with no screening on file. Reason given: {cleaned}"
    else:
        status = session_logging_allowed(outcome, clearance, cleaned)[1]
    return {}, status, cleaned


def signing_problems(
    log: SessionLog,
    outcome: AcsmOutcome | None,
    clearance: Clearance | None,
) -> tuple[dict[str, str], list[SafetyFlag], str, str]:
    """Everything that stops this log from being signed: (errors, flags, clearance_status,
    clearance reason). Pure; used by ``sign_log`` and by screens to show problems early."""
    errors: dict[str, str] = {}
    try:
        log = SessionLog.model_validate(log.model_dump())
    except ValidationError as exc:
        return log_errors(exc), [], "", ""
    flags = compute_flags(log)
    hard = [f for f in flags if f.severity is Severity.HARD_STOP]
    pre_stops = pre_exercise_hard_stops(log)
    override = log.safety_override
    if log.exercised and pre_stops:
        try:
            check_override(pre_stops, override)
        except ValueError as exc:
            errors["safety_override"] = str(exc)
    if override is not None and "safety_override" not in errors:
        if not (log.exercised and pre_stops):
            errors["safety_override"] = (
                "No exercise went ahead despite a stop flag, so no override reason is "
                "recorded: clear it"
            )
        elif stale := override.flag_codes - {f.code for f in hard}:
            errors["safety_override"] = (
                "The override names a stop flag that no longer applies: "
                + ", ".join(sorted(c.value for c in stale))
            )
    if hard and not log.action_taken:
        errors["action_taken"] = (
            "A stop flag was raised: write what you did and who you notified (e.g. 'Sent "
            "home; called Dr Lee's office at 10:20')"
        )
    clearance_errors, status, reason = _clearance_check(log, outcome, clearance)
    errors.update(clearance_errors)
    return errors, flags, status, reason


def sign_log(
    log: SessionLog,
    *,
    signed_by: str,
    credentials: str = "",
    signed_at: datetime,
    screening_outcome: AcsmOutcome | None,
    clearance: Clearance | None,
) -> SessionLog:
    """The signed (locked) log, with its flag and clearance snapshots and content hash.

    ``screening_outcome`` None means no screening is on file. Raises ``SigningRefused`` with
    field errors when something is missing or inconsistent.
    """
    if log.is_signed:
        raise SigningRefused({"__all__": "This session log is already signed"})
    errors, flags, status, reason = signing_problems(log, screening_outcome, clearance)
    name = " ".join(str(signed_by or "").split())
    if not name:
        errors["signed_by"] = "Type your name to sign"
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware (UTC)")
    if errors:
        raise SigningRefused(errors)
    credentials = " ".join(str(credentials or "").split())
    if len(status) > _STATUS_MAX:
        # The status quotes the clearance's restrictions or the override reason (each up to
        # 5,000 characters): shorten the quote rather than refuse to sign. The full text stays
        # on the clearance / in clearance_override_reason.
        status = status[: _STATUS_MAX - 1].rstrip() + "…"
    content = log.model_copy(
        update={
            "safety_flags": flags,
            "clearance_status": status,
            "clearance_override_reason": reason,
            "updated_at": signed_at,
        }
    )
    # Re-validate so the stored document is exactly what validation produces.
    content = SessionLog.model_validate(content.model_dump())
    digest = content_hash(content, name, credentials, signed_at)
    signature = Signature(
        signed_by=name, credentials=credentials, signed_at=signed_at, content_hash=digest
    )
    return content.model_copy(update={"signature": signature})


_STATUS_MAX = 5000  # SessionLog.clearance_status is LongText


def _doc_for_compare(log: SessionLog) -> dict:
    return _json_doc(log, {"updated_at"})


def changed_fields(a: SessionLog, b: SessionLog) -> list[str]:
    da, db = _doc_for_compare(a), _doc_for_compare(b)
    return sorted(k for k in da.keys() | db.keys() if da.get(k) != db.get(k))


def check_update_allowed(existing: SessionLog | None, incoming: SessionLog) -> None:
    """Refuse (ValueError) any write that would change a signed log, by any path: editing,
    re-saving, importing. An identical re-save (only ``updated_at`` differing) is allowed. A
    signed incoming log must match its own signature."""
    if existing is not None and existing.id != incoming.id:
        raise ValueError("These are two different session logs")
    if existing is not None and existing.is_signed:
        changed = changed_fields(existing, incoming)
        if changed:
            sig = existing.signature
            assert sig is not None
            raise LockedLogError(
                f"This session log was signed by {sig.signed_by} on "
                f"{sig.signed_at.strftime('%Y-%m-%d')} and is locked: it cannot be changed "
                f"(changed: {', '.join(changed)}). Add an addendum to correct or add to it.",
                record_id=incoming.id,
            )
    if incoming.is_signed and not verify_signature(incoming):
        raise LockedLogError(
            "This signed session log does not match its signature: it was changed after "
            "signing, so it cannot be saved",
            record_id=incoming.id,
        )


# --- Addenda ---------------------------------------------------------------------------


class Addendum(Record):
    """A signed correction or late entry shown under a signed log. It never changes the log."""

    store: ClassVar[str] = "addenda"

    session_log_id: RequiredText
    client_id: RequiredText
    kind: AddendumKind = AddendumKind.CORRECTION
    text: LongText
    author: RequiredText
    credentials: Text = ""
    signed_at: datetime
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    # The practice key's signature of ``signing_message("addendum", content_hash)`` (None on
    # addenda written before signature keys), as on the log's Signature.
    key_id: str | None = Field(default=None, pattern=KEY_ID_PATTERN)
    key_signature: str | None = Field(default=None, pattern=SIGNATURE_PATTERN)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value:
            raise ValueError("Write the addendum")
        return value

    @field_validator("signed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("The signing time must include the time zone")
        return value


_ADDENDUM_CONTENT = ("id", "session_log_id", "client_id", "kind", "text", "author", "credentials")


def addendum_hash(data: Mapping[str, Any], signed_at: datetime) -> str:
    doc = {k: str(data.get(k, "")) for k in _ADDENDUM_CONTENT}
    doc["signed_at"] = signed_at.isoformat()
    doc["v"] = str(HASH_VERSION)
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def make_addendum(
    log: SessionLog,
    text: str,
    *,
    author: str,
    credentials: str = "",
    signed_at: datetime,
    kind: AddendumKind = AddendumKind.CORRECTION,
    addendum_id: str | None = None,
) -> Addendum:
    """A signed addendum to a signed log. ValueError (plain words) when it cannot be made;
    pydantic ValidationError for empty text or author."""
    if not log.is_signed:
        raise ValueError(
            "This session log is not signed yet: edit it instead of adding an addendum"
        )
    data: dict[str, Any] = {
        "session_log_id": log.id,
        "client_id": log.client_id,
        "kind": kind,
        "text": text,
        "author": author,
        "credentials": credentials,
        "signed_at": signed_at,
        "created_at": signed_at,
        "updated_at": signed_at,
        "content_hash": "0" * 64,
    }
    if addendum_id:
        data["id"] = addendum_id
    draft = Addendum.model_validate(data)  # normalises text/author before hashing
    digest = addendum_hash(draft.model_dump(mode="json"), draft.signed_at)
    return draft.model_copy(update={"content_hash": digest})


def verify_addendum(addendum: Addendum) -> bool:
    expected = addendum_hash(addendum.model_dump(mode="json"), addendum.signed_at)
    return hmac.compare_digest(expected, addendum.content_hash)


ADDENDUM_KIND = "addendum"


def addendum_claim(addendum: Addendum) -> Claim:
    return Claim(
        record_id=addendum.id,
        hash_ok=verify_addendum(addendum),
        kind=ADDENDUM_KIND,
        content_hash=addendum.content_hash,
        key_id=addendum.key_id,
        signature=addendum.key_signature,
    )


async def sign_addendum_with_key(addendum: Addendum, signer: Signer) -> tuple[Addendum, dict]:
    made = await signer.sign_message(signing_message(ADDENDUM_KIND, addendum.content_hash))
    keyed = Addendum.model_validate(
        {**addendum.model_dump(), "key_id": made["key_id"], "key_signature": made["signature"]}
    )
    return keyed, made["public_key"]


def check_addendum_update_allowed(existing: Addendum | None, incoming: Addendum) -> None:
    """Addenda are signed when written: no change is allowed afterwards (identical re-save
    and first save of an untampered addendum are fine)."""
    if not verify_addendum(incoming):
        raise LockedLogError(
            "This addendum does not match its signature: it was changed after signing",
            store=Addendum.store,
            record_id=incoming.id,
        )
    if existing is None:
        return
    a, b = existing.model_dump(mode="json"), incoming.model_dump(mode="json")
    a.pop("updated_at"), b.pop("updated_at")
    if a != b:
        raise LockedLogError(
            "An addendum cannot be changed once signed: add another addendum instead",
            store=Addendum.store,
            record_id=incoming.id,
        )


# --- Prefill ("same as last time") -----------------------------------------------------


def prefill_from_previous(
    previous_log: SessionLog | None,
    program_exercises: Sequence[Exercise] = (),
    *,
    client_id: str | None = None,
    session_date: date | None = None,
    episode_id: str | None = None,
    has_diabetes: bool | None = None,
    bp_check_needed: bool | None = None,
    exercises_from: SessionLog | None = None,
) -> SessionLog:
    """A new draft log: the program's exercises with last time's parameters ("same as last
    time, then adjust").

    - Exercises come from ``exercises_from`` (default: the previous log), never from a
      session where exercise was stopped for safety: what was cut short is not the plan.

    - With a program: its exercises in program order, each with the parameters from the
      previous log when it was done then, else the library defaults; names are the CURRENT
      library names. Without a program: the previous log's exercises as they were.
    - Never copied: vitals, symptoms, pain, RPE, heart rate, tolerance, notes (they are
      measured or observed fresh each session). ``pain_previous`` is last time's pain score.
    """
    if previous_log is None and client_id is None:
        raise ValueError("Say which client the session is for")
    prev = previous_log
    did = prev.exercised if prev is not None else False
    source = exercises_from if exercises_from is not None else prev
    if source is not None and (not source.exercised or exercise_stopped(source)):
        source = None
    last: dict[str, ExerciseEntry] = {}
    if source is not None:
        for e in source.exercises:
            last.setdefault(e.exercise_id, e)
    entries: list[ExerciseEntry] = []
    if program_exercises:
        for ex in program_exercises:
            if ex.archived:
                continue
            before = last.get(ex.id)
            entry = ExerciseEntry.from_exercise(ex, before.dosage if before else None)
            if before is not None:
                entry = entry.model_copy(
                    update={
                        "modality": before.modality or ex.modality,
                        "modifications": before.modifications,
                        "assistance": before.assistance,
                    }
                )
            entries.append(entry)
    elif source is not None:
        entries = [
            e.model_copy(update={"rpe": None, "heart_rate_bpm": None, "notes": ""})
            for e in source.exercises
        ]
    session_number = None
    if prev is not None and prev.session_number is not None:
        session_number = prev.session_number + (1 if did else 0)
    return SessionLog(
        client_id=client_id or (prev.client_id if prev else ""),
        episode_id=episode_id if episode_id is not None else (prev.episode_id if prev else None),
        session_date=session_date or date.today(),
        session_number=session_number,
        has_diabetes=has_diabetes
        if has_diabetes is not None
        else (prev.has_diabetes if prev else False),
        bp_check_needed=bp_check_needed
        if bp_check_needed is not None
        else (prev.bp_check_needed if prev else False),
        pain_previous=prev.pain if prev is not None else None,
        target_hr_text=prev.target_hr_text if prev is not None else "",
        exercises=entries,
    )


def latest_attended(
    logs: Iterable[SessionLog], before: date | None = None, *, not_stopped: bool = False
) -> SessionLog | None:
    """The most recent attended session (optionally strictly before a date; with
    ``not_stopped``, leaving out sessions where exercise was stopped for safety)."""
    candidates = [
        log
        for log in logs
        if log.attendance is Attendance.ATTENDED
        and (before is None or log.session_date < before)
        and not (not_stopped and exercise_stopped(log))
    ]
    return max(candidates, key=timeline_key) if candidates else None


# --- Volume ----------------------------------------------------------------------------


@dataclass
class ExerciseVolume:
    """Totals for one exercise in one session (entries of the same exercise are added up).
    A dataclass, not a model: it is derived, never stored, and built for every log shown."""

    exercise_id: str
    exercise_name: str
    sets: int = 0
    reps: int = 0  # sets × reps
    volume_load: float | None = None  # Σ sets × reps × load, in ``load_unit`` (kg or lb)
    load_unit: str | None = None
    volume_load_kg: float | None = None
    duration_s: int = 0  # sets × duration
    distance_m: float = 0.0  # sets × distance


@dataclass
class SessionVolume:
    exercises: list[ExerciseVolume] = field(default_factory=list)
    total_sets: int = 0
    total_reps: int = 0
    # External weights only (kg and lb, lb converted); watts, levels and body weight have no
    # volume load.
    volume_load_kg: float = 0.0
    duration_s: int = 0
    distance_m: float = 0.0
    # The same total in pounds, and the units the loads were entered in: a total is shown
    # in the unit the practitioner used (``volume_load_text``).
    volume_load_lb: float = 0.0
    load_units: tuple[str, ...] = ()

    @property
    def volume_load_text(self) -> str:
        return volume_load_text(self.volume_load_kg, self.volume_load_lb, self.load_units)


def _amount(value: float) -> str:
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def volume_load_text(kg: float, lb: float, units: Iterable[str]) -> str:
    """A volume load in the unit it was entered in: "1,200 lb" when every load was in
    pounds, "540 kg" when in kilograms, "540 kg (1,190.5 lb)" when both were used ("" for
    none). Pounds are never added up as kilograms."""
    used = set(units)
    if kg <= 0 or not used:
        return ""
    if used == {"lb"}:
        return f"{_amount(lb)} lb"
    if used == {"kg"}:
        return f"{_amount(kg)} kg"
    return f"{_amount(kg)} kg ({_amount(lb)} lb)"


class DosedExercise(Protocol):
    """What a volume is counted from, of one exercise as performed (``ExerciseEntry``)."""

    @property
    def exercise_id(self) -> str: ...
    @property
    def exercise_name(self) -> str: ...
    @property
    def sets(self) -> int | None: ...
    @property
    def reps(self) -> int | None: ...
    @property
    def load(self) -> float | None: ...
    @property
    def load_unit(self) -> LoadUnit | None: ...
    @property
    def duration_s(self) -> int | None: ...
    @property
    def distance_m(self) -> float | None: ...


class Dosed(Protocol):
    """What a session's volume is counted from (a ``SessionLog``, or the part of it the
    sessions timeline reads: ``session_timeline.TimelineLog``)."""

    @property
    def attendance(self) -> Attendance: ...
    @property
    def exercises(self) -> Sequence[DosedExercise]: ...


def session_volume(log: Dosed) -> SessionVolume:
    """Sets × reps × load per exercise and overall (a cancelled session has none)."""
    per: dict[str, ExerciseVolume] = {}
    lb_total = 0.0
    units: dict[str, None] = {}
    for e in log.exercises if log.attendance is Attendance.ATTENDED else []:
        v = per.setdefault(e.exercise_id, ExerciseVolume(e.exercise_id, e.exercise_name))
        sets = e.sets or 1
        v.sets += e.sets or 0
        reps = sets * e.reps if e.reps is not None else 0
        v.reps += reps
        kg = load_in_kg(e.load, e.load_unit)
        if kg is not None and reps:
            assert e.load is not None and e.load_unit is not None
            units[e.load_unit.value] = None
            lb_total += reps * (e.load if e.load_unit is LoadUnit.LB else kg / KG_PER_LB)
            if v.load_unit in (None, e.load_unit.value):
                v.load_unit = e.load_unit.value
                v.volume_load = (v.volume_load or 0.0) + reps * e.load
            else:  # same exercise logged in kg and lb: keep the figure in kg
                v.load_unit = "kg"
                v.volume_load = (v.volume_load_kg or 0.0) + reps * kg
            v.volume_load_kg = (v.volume_load_kg or 0.0) + reps * kg
        if e.duration_s is not None:
            v.duration_s += sets * e.duration_s
        if e.distance_m is not None:
            v.distance_m += sets * e.distance_m
    items = list(per.values())
    return SessionVolume(
        exercises=items,
        total_sets=sum(v.sets for v in items),
        total_reps=sum(v.reps for v in items),
        volume_load_kg=sum(v.volume_load_kg or 0.0 for v in items),
        duration_s=sum(v.duration_s for v in items),
        distance_m=sum(v.distance_m for v in items),
        volume_load_lb=lb_total,
        load_units=tuple(units),
    )


# --- Attendance ------------------------------------------------------------------------


class AttendanceSummary(BaseModel):
    planned: int
    logged: int
    attended: int
    cancelled: int
    no_show: int
    rate: float | None  # attended / planned (None when nothing was planned)

    @property
    def text(self) -> str:
        pct = f" ({round(self.rate * 100)}%)" if self.rate is not None else ""
        return (
            f"{self.attended} of {self.planned} planned sessions attended{pct}; "
            f"{self.cancelled} cancelled, {self.no_show} no-show"
        )


def attendance_summary(logs: Iterable[Dosed], planned: int | None = None) -> AttendanceSummary:
    """Sessions attended of planned, cancellations, no-shows and the attendance rate.

    ``planned`` is the number of sessions planned for the period (from the program); when it
    is not known, every logged session (attended, cancelled or missed) counts as planned.
    The rate is not capped: extra sessions can make it exceed 100%.
    """
    logs = list(logs)
    counts = dict.fromkeys(Attendance, 0)
    for log in logs:
        counts[log.attendance] += 1
    if planned is not None and planned < 0:
        raise ValueError("The number of planned sessions cannot be negative")
    plan = len(logs) if planned is None else planned
    return AttendanceSummary(
        planned=plan,
        logged=len(logs),
        attended=counts[Attendance.ATTENDED],
        cancelled=counts[Attendance.CANCELLED],
        no_show=counts[Attendance.NO_SHOW],
        rate=counts[Attendance.ATTENDED] / plan if plan else None,
    )


# --- Timeline and dashboard ------------------------------------------------------------


class Timed(Protocol):
    """What the timeline orders and filters sessions by (a ``SessionLog``, or the part of it
    the sessions timeline reads)."""

    @property
    def session_date(self) -> date: ...
    @property
    def start_time(self) -> time | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def attendance(self) -> Attendance: ...


TimedLog = TypeVar("TimedLog", bound=Timed)


def timeline_key(log: Timed) -> tuple:
    return (log.session_date, log.start_time or time.min, log.created_at)


def filter_logs(
    logs: Iterable[TimedLog],
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    attendance: Attendance | Iterable[Attendance] | None = None,
) -> list[TimedLog]:
    """Logs in the date range (inclusive) with the given attendance, newest first."""
    wanted: set[Attendance] | None
    if isinstance(attendance, Attendance | str):
        wanted = {Attendance(attendance)}
    else:
        wanted = {Attendance(a) for a in attendance} if attendance is not None else None
    out = [
        log
        for log in logs
        if (date_from is None or log.session_date >= date_from)
        and (date_to is None or log.session_date <= date_to)
        and (wanted is None or log.attendance in wanted)
    ]
    return sorted(out, key=timeline_key, reverse=True)


UNSIGNED_AFTER_HOURS = 24


class SessionLogSummary(BaseModel):
    """What the dashboard and the referral loop need of every session log (not stored: read
    as a projection of the stored logs, so 50,000 logs do not have to be parsed whole)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    client_id: str
    episode_id: str | None = None
    session_date: date
    start_time: time | None = None
    attendance: Attendance = Attendance.ATTENDED
    created_at: datetime
    safety_flags: list[SafetyFlag] = Field(default_factory=list)
    safety_override: SafetyOverride | None = None
    package_use: Literal["counted", "not_counted"] | None = None
    billing: Literal["billed", "not_billed"] | None = None
    signature: Signature | None = None

    @property
    def is_signed(self) -> bool:
        return self.signature is not None


class LogMoments(Protocol):
    """A log's id and the moments its signing deadline is reckoned from."""

    @property
    def id(self) -> str: ...

    @property
    def session_date(self) -> date: ...

    @property
    def start_time(self) -> time | None: ...

    @property
    def created_at(self) -> datetime: ...


class LogTimes(LogMoments, Protocol):
    """What the signing deadline reads of a log: a whole log, its summary, or a client
    summary's unsigned log (``client_summary.PendingLog``)."""

    @property
    def client_id(self) -> str: ...

    @property
    def is_signed(self) -> bool: ...


# A whole session log or its summary (the dashboard reads only the summaries).
LogLike = TypeVar("LogLike", bound=LogTimes)


def signing_due_by(log: LogTimes) -> datetime:
    """When an unsigned log becomes late (device-local time, naive): 24 hours after the
    session, from its start time, or from the end of the session's day when no time was
    given. Measured from the session, not from when the draft was typed: a log written up
    two days late is late at once."""
    start = datetime.combine(log.session_date, log.start_time or time.max)
    return start + timedelta(hours=UNSIGNED_AFTER_HOURS)


def unsigned_older_than(
    logs: Iterable[LogLike], now: datetime, local_now: datetime | None = None
) -> list[LogLike]:
    """Unsigned logs whose session was more than 24 hours ago (strictly), oldest first.

    ``local_now`` is the device's wall-clock time (naive): the session's date and time are
    local and carry no time zone. Without it, ``now`` (UTC) is read as local time.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    wall = local_now if local_now is not None else now.replace(tzinfo=None)
    if wall.tzinfo is not None:
        raise ValueError("local_now is the device's wall-clock time, without a time zone")
    late = [log for log in logs if not log.is_signed and wall > signing_due_by(log)]
    return sorted(late, key=lambda log: (log.session_date, log.start_time or time.min))


def unsigned_log_items(
    logs: Iterable[LogTimes],
    now: datetime,
    client_names: Mapping[str, str] | None = None,
    local_now: datetime | None = None,
) -> list[DashboardItem]:
    """Dashboard items for unsigned logs whose session was more than 24 h ago: one per log,
    or one per client with several (the client's sessions list, where each is signed), so
    the list of what needs doing stays readable however many logs are waiting."""
    names = client_names or {}
    late: dict[str, list[LogTimes]] = {}
    for log in unsigned_older_than(logs, now, local_now):
        late.setdefault(log.client_id, []).append(log)
    return [
        late_signature_item(
            client_id,
            names.get(client_id, "a client"),
            len(waiting),
            waiting[0],  # the oldest session
            min(lg.created_at for lg in waiting),
        )
        for client_id, waiting in late.items()
    ]


def late_signature_item(
    client_id: str, who: str, count: int, oldest: LogTimes, since: datetime
) -> DashboardItem:
    """The one item of a client's ``count`` late unsigned logs (``since``: the earliest
    written of them)."""
    if count > 1:
        return DashboardItem(
            kind="unsigned_log",
            title=f"{count:,} unsigned session logs: {who}",
            detail=f"The oldest is from {long_date(oldest.session_date)}. Session logs "
            "should be signed within 24 hours. Review and sign them.",
            link=Screen("client-sessions", {"id": client_id}),
            link_label="Review and sign",
            severity="due",
            since=since,
        )
    return DashboardItem(
        kind="unsigned_log",
        title=f"Unsigned session log: {who}, {long_date(oldest.session_date)}",
        detail="Session logs should be signed within 24 hours. Review and sign it.",
        link=Screen("session", {"id": oldest.id}),
        link_label="Review and sign",
        severity="due",
        since=oldest.created_at,
    )
