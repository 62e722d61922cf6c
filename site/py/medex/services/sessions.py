"""Session-log use cases over the Repository: drafts, signing, addenda, exercises (the
client's timeline of sessions is ``services.client_timeline``).

Every write is ONE ``repo.save(...)`` call (one IndexedDB transaction). Each writer takes
``extra=`` records that are saved in the same call (e.g. the audit entry designed later).
Locked-log rules are enforced here on every path that writes a log (draft save, signing,
import) by ``session_logs.check_update_allowed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from pydantic import BaseModel, ValidationError

from ..client_status import StatusEvent
from ..client_summary import ClientSummary
from ..dashboard import DashboardItem
from ..exercises import Exercise, name_clash, starter_library
from ..forms import Refused, field_errors
from ..health import HealthHistory, bp_check_needed
from ..heart_rate import IntensityLevel, intensity_of_target_text, session_target_text
from ..intake import Client
from ..programs import Episode, episode_on
from ..records import PracticeProfile, Record, utc_now
from ..repository import R, Repository
from ..screening import AcsmOutcome, Clearance, ScreeningRecord, clearance_for_screening
from ..session_logs import (
    Addendum,
    AddendumKind,
    Attendance,
    LockedLogError,
    SessionLog,
    SigningRefused,
    addendum_claim,
    check_addendum_update_allowed,
    check_update_allowed,
    compute_flags,
    late_signature_item,
    latest_attended,
    make_addendum,
    prefill_from_previous,
    sign_addendum_with_key,
    sign_log,
    sign_with_key,
    signature_claim,
)
from ..signing import SignatureCheck, Signer, VerificationCache
from .practice import profile_with_signing_key
from .summaries import client_summaries

__all__ = [
    "ClearanceContext",
    "LockedLogError",
    "SigningRefused",
    "add_addendum",
    "check_addendum_signatures",
    "check_log_signatures",
    "import_addendum",
    "import_session_log",
    "list_exercises",
    "load_clearance_context",
    "save_draft_log",
    "save_exercise",
    "seed_starter_exercises",
    "sign_session_log",
    "start_session",
    "unsigned_logs_dashboard",
]


def _newest(records: Iterable[R]) -> R | None:
    records = list(records)
    return max(records, key=lambda r: (r.created_at, r.updated_at)) if records else None


# --- Clearance -------------------------------------------------------------------------


@dataclass
class ClearanceContext:
    """What signing needs to know about screening and clearance. ``outcome`` None means no
    screening is on file."""

    outcome: AcsmOutcome | None
    clearance: Clearance | None = None
    has_diabetes: bool = False
    bp_check_needed: bool = False

    @property
    def clearance_outstanding(self) -> bool:
        """The latest screening recommends clearance and none received on or after it is on
        file (``clearance`` already reads as not received when it predates the screening)."""
        return bool(
            self.outcome
            and self.outcome.needs_clearance
            and (self.clearance is None or self.clearance.received_on is None)
        )


async def load_clearance_context(repo: Repository, client_id: str) -> ClearanceContext:
    """The latest screening's outcome with the clearance as it stands for that screening (one
    received before it does not count), and the reminders the health history calls for."""
    screening = _newest(await repo.find(ScreeningRecord, "client_id", client_id))
    clearance = _newest(await repo.find(Clearance, "client_id", client_id))
    history = _newest(await repo.find(HealthHistory, "client_id", client_id))
    return ClearanceContext(
        outcome=screening.outcome if screening else None,
        clearance=clearance_for_screening(clearance, screening.screened_on if screening else None),
        has_diabetes=bool(screening and screening.acsm.has_diabetes),
        bp_check_needed=bp_check_needed(history),
    )


# --- Session logs ----------------------------------------------------------------------


async def start_session(
    repo: Repository,
    client_id: str,
    session_date: date,
    program_exercises: Sequence[Exercise] = (),
    *,
    episode_id: str | None = None,
) -> SessionLog:
    """A pre-filled draft (not saved): the program with last time's parameters, last time's
    pain score, and 'has diabetes' from the screening."""
    logs = await repo.find(SessionLog, "client_id", client_id)
    previous = latest_attended(logs, before=session_date) or latest_attended(logs)
    # Exercises are never copied from a session stopped for safety: the last full one.
    planned = latest_attended(logs, before=session_date, not_stopped=True) or latest_attended(
        logs, not_stopped=True
    )
    context = await load_clearance_context(repo, client_id)
    if episode_id is None:
        # The session counts against the client's episode of care on that day (none: the
        # session is not tied to an episode, not even the last session's discharged one).
        episode = episode_on(await repo.find(Episode, "client_id", client_id), session_date)
        draft = prefill_from_previous(
            previous,
            program_exercises,
            client_id=client_id,
            session_date=session_date,
            has_diabetes=context.has_diabetes or (previous.has_diabetes if previous else False),
            bp_check_needed=context.bp_check_needed,
            exercises_from=planned,
        )
        return draft.model_copy(update={"episode_id": episode.id if episode else None})
    return prefill_from_previous(
        previous,
        program_exercises,
        client_id=client_id,
        session_date=session_date,
        episode_id=episode_id,
        has_diabetes=context.has_diabetes or (previous.has_diabetes if previous else False),
        bp_check_needed=context.bp_check_needed,
        exercises_from=planned,
    )


async def save_draft_log(
    repo: Repository,
    log: SessionLog,
    *,
    now: datetime | None = None,
    extra: Sequence[Record] = (),
) -> SessionLog:
    """Save an unsigned log (its current flags are stored for display; signing recomputes
    them). Refuses (LockedLogError) to change a signed log; an identical re-save of a signed
    log writes nothing and returns the stored log."""
    existing = await repo.get(SessionLog, log.id)
    check_update_allowed(existing, log)
    if log.is_signed:
        if existing is not None:
            return existing  # identical re-save of a signed log (checked above)
        raise LockedLogError(
            "Sign a session log with 'Sign', not by saving a draft", record_id=log.id
        )
    draft = log.model_copy(
        update={
            "safety_flags": compute_flags(log),
            "created_at": existing.created_at if existing else log.created_at,
            "updated_at": now or utc_now(),
        }
    )
    draft = SessionLog.model_validate(draft.model_dump())
    await repo.save(draft, *extra)
    return draft


async def _signer(
    repo: Repository, signed_by: str | None, credentials: str | None
) -> tuple[str, str]:
    if signed_by is not None:
        return signed_by, credentials or ""
    profiles = await repo.list(PracticeProfile)
    profile = max(profiles, key=lambda p: p.updated_at) if profiles else None
    if profile is None:
        raise SigningRefused({"signed_by": "Type your name to sign"})
    return profile.practitioner_name, (
        credentials if credentials is not None else profile.credentials
    )


async def sign_session_log(
    repo: Repository,
    log: SessionLog,
    *,
    signed_by: str | None = None,
    credentials: str | None = None,
    now: datetime | None = None,
    clearance: ClearanceContext | None = None,
    extra: Sequence[Record] = (),
    signer: Signer | None = None,
) -> SessionLog:
    """Validate, compute the flags, check the override and clearance rules, sign and store
    the log in ONE save. ``signed_by`` None signs as the practice profile's practitioner;
    ``clearance`` None looks up the client's latest screening and clearance. With ``signer``
    (the device's practice key) the content hash is also signed with the key, and the
    practice profile records the public key (in the same save) when it does not yet.

    Raises ``SigningRefused`` (field → message) or ``LockedLogError`` (already signed).
    """
    existing = await repo.get(SessionLog, log.id)
    if existing is not None and existing.is_signed:
        raise LockedLogError(
            "This session log is already signed and locked. Add an addendum to correct it.",
            record_id=log.id,
        )
    if existing is not None and existing.client_id != log.client_id:
        raise SigningRefused({"client_id": "This session log belongs to another client"})
    name, creds = await _signer(repo, signed_by, credentials)
    context = clearance or await load_clearance_context(repo, log.client_id)
    if existing is not None:
        log = log.model_copy(update={"created_at": existing.created_at})
    signed = sign_log(
        log,
        signed_by=name,
        credentials=creds,
        signed_at=now or utc_now(),
        screening_outcome=context.outcome,
        clearance=context.clearance,
    )
    more: list[Record] = list(extra)
    if signer is not None:
        signed, public_key = await sign_with_key(signed, signer)
        profile = await profile_with_signing_key(repo, public_key)
        if profile is not None:
            more.append(profile)
    if signed.attendance is Attendance.ATTENDED:
        # The first signed session makes the client active (medex.client_status), in this save.
        from .outcomes import client_moved_by

        moved = await client_moved_by(
            repo,
            signed.client_id,
            StatusEvent.SESSION_SIGNED,
            in_program=False,
            clearance_outstanding=context.clearance_outstanding,  # already loaded to sign
        )
        if moved is not None:
            more.append(moved)
    check_update_allowed(existing, signed)
    await repo.save(signed, *more)
    return signed


async def check_log_signatures(
    signer: Signer | None, cache: VerificationCache, logs: Iterable[SessionLog]
) -> dict[str, SignatureCheck]:
    """Verify the signed logs being shown: each content hash recomputed, each key signature
    checked against this device's keys (once per tab: ``cache``). Unsigned logs are left out."""
    return await cache.check(signer, [signature_claim(log) for log in logs if log.is_signed])


async def check_addendum_signatures(
    signer: Signer | None, cache: VerificationCache, addenda: Iterable[Addendum]
) -> dict[str, SignatureCheck]:
    return await cache.check(signer, [addendum_claim(a) for a in addenda])


async def import_session_log(
    repo: Repository, incoming: SessionLog, *, extra: Sequence[Record] = ()
) -> bool:
    """The import/restore path: refuses to change a signed log or to store a tampered one.
    Returns True when something was written (False for an identical signed log)."""
    existing = await repo.get(SessionLog, incoming.id)
    check_update_allowed(existing, incoming)
    if existing is not None and existing.is_signed:
        return False
    await repo.save(incoming, *extra)
    return True


# --- Addenda ---------------------------------------------------------------------------


class AddAddendum(BaseModel):
    """An addendum to a signed session log: what it corrects or adds, as typed."""

    log_id: str
    text: str = ""
    kind: AddendumKind = AddendumKind.CORRECTION


async def add_addendum(
    repo: Repository,
    command: AddAddendum,
    *,
    author: str | None = None,
    credentials: str | None = None,
    now: datetime | None = None,
    extra: Sequence[Record] = (),
    signer: Signer | None = None,
) -> Addendum:
    """A signed addendum under a signed log, in ONE save. The log itself is never written.
    With ``signer`` its content hash is also signed with the practice key. Refused on
    ``text`` (empty, too long, or the log not signed yet) or as a whole (no such log)."""
    log = await repo.get(SessionLog, command.log_id)
    if log is None:
        raise Refused({"__all__": "This session log no longer exists"})
    name, creds = await _signer(repo, author, credentials)
    try:
        addendum = make_addendum(
            log,
            command.text,
            author=name,
            credentials=creds,
            signed_at=now or utc_now(),
            kind=command.kind,
        )
    except ValidationError as exc:
        raise Refused({"text": next(iter(field_errors(exc).values()))}) from exc
    except ValueError as exc:
        raise Refused({"text": str(exc)}) from exc
    more: list[Record] = list(extra)
    if signer is not None:
        addendum, public_key = await sign_addendum_with_key(addendum, signer)
        profile = await profile_with_signing_key(repo, public_key)
        if profile is not None:
            more.append(profile)
    await repo.save(addendum, *more)
    return addendum


async def import_addendum(repo: Repository, incoming: Addendum) -> bool:
    existing = await repo.get(Addendum, incoming.id)
    check_addendum_update_allowed(existing, incoming)
    if existing is not None:
        return False
    await repo.save(incoming)
    return True


# --- History ---------------------------------------------------------------------------


async def unsigned_logs_dashboard(
    repo: Repository,
    now: datetime | None = None,
    client_names: dict[str, str] | None = None,
    *,
    local_now: datetime | None = None,
    summaries: dict[str, ClientSummary] | None = None,
) -> list[DashboardItem]:
    """Dashboard items for unsigned logs whose session was more than 24 h ago (``local_now``:
    the device's wall-clock time), from the client summaries' unsigned logs."""
    if summaries is None:
        summaries = await client_summaries(repo)
    now = now or utc_now()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    wall = local_now if local_now is not None else now.replace(tzinfo=None)
    names = client_names or {}
    late = []
    for summary in summaries.values():
        count, oldest, since = summary.late(wall)
        if oldest is not None and since is not None:
            who = names.get(summary.client_id, "a client")
            item = late_signature_item(summary.client_id, who, count, oldest, since)
            late.append(((oldest.session_date, oldest.start_time or time.min), item))
    # In the order of the oldest late session of each client, as ``unsigned_log_items``.
    return [item for _key, item in sorted(late, key=lambda pair: pair[0])]


# --- Exercise library ------------------------------------------------------------------


async def list_exercises(repo: Repository, include_archived: bool = False) -> list[Exercise]:
    exercises = await repo.list(Exercise)
    return sorted(
        (e for e in exercises if include_archived or not e.archived),
        key=lambda e: (e.category.value, e.name.casefold()),
    )


async def save_exercise(
    repo: Repository, exercise: Exercise, *, extra: Sequence[Record] = ()
) -> Exercise:
    """Add or edit a library exercise (a rename never touches past session logs)."""
    if not exercise.archived and name_clash(await repo.list(Exercise), exercise.name, exercise.id):
        raise ValueError(f"There is already an exercise called '{exercise.name}'")
    existing = await repo.get(Exercise, exercise.id)
    saved = exercise.model_copy(
        update={
            "created_at": existing.created_at if existing else exercise.created_at,
            "updated_at": utc_now(),
        }
    )
    await repo.save(saved, *extra)
    return saved


async def seed_starter_exercises(repo: Repository) -> int:
    """Add the starter exercises not yet in the library (one save). Returns how many."""
    new = starter_library(await repo.list(Exercise))
    if new:
        await repo.save(*new)
    return len(new)


# -- the session-log screen's query ---------------------------------------------------------------


@dataclass
class SessionLogPage:
    """Everything the session-log screen shows, read by one query (``session_log_page``)."""

    log: SessionLog | None
    client: Client | None = None
    history: HealthHistory | None = None
    addenda: list[Addendum] = field(default_factory=list)  # a signed log's, oldest first
    # A draft's: the last attended session's resting heart rate (the target heart rate's
    # fallback when none is typed yet), the clearance context and the exercise library.
    previous_resting_hr: int | None = None
    clearance: ClearanceContext | None = None
    exercises: list[Exercise] = field(default_factory=list)


async def session_log_page(repo: Repository, log_id: str) -> SessionLogPage:
    """The session-log screen's data in one call (signed: the log, client and addenda; draft:
    also what the target heart rate, the clearance check and the exercise picker need)."""
    log = await repo.get(SessionLog, log_id)
    if log is None:
        return SessionLogPage(log=None)
    client = await repo.get(Client, log.client_id)
    records = await repo.find(HealthHistory, "client_id", log.client_id)
    history = max(records, key=lambda r: (r.created_at, r.updated_at)) if records else None
    if log.is_signed:
        addenda = sorted(
            await repo.find(Addendum, "session_log_id", log.id), key=lambda a: a.signed_at
        )
        return SessionLogPage(log=log, client=client, history=history, addenda=addenda)
    others = [x for x in await repo.find(SessionLog, "client_id", log.client_id) if x.id != log.id]
    previous = latest_attended(others)
    return SessionLogPage(
        log=log,
        client=client,
        history=history,
        previous_resting_hr=previous.pre_vitals.heart_rate_bpm
        if previous and previous.pre_vitals
        else None,
        clearance=await load_clearance_context(repo, log.client_id),
        exercises=await list_exercises(repo),
    )


# -- opening a session ------------------------------------------------------------------------


def target_hr_for(
    client: Client | None,
    history: HealthHistory | None,
    resting: int | None,
    level: IntensityLevel,
    on: date,
) -> tuple[str, bool]:
    """(the target heart-rate text with its method, use RPE instead?) for the client on
    ``on`` (``medex.heart_rate.session_target_text``)."""
    return session_target_text(
        level,
        client.age(on) if client else None,
        resting,
        hr_response_altered=bool(history and history.hr_response_altered),
    )


async def exercise_library(repo: Repository) -> list[Exercise]:
    """The exercise library, seeded with the starter exercises the first time."""
    exercises = await list_exercises(repo)
    if not await repo.list(Exercise):
        await seed_starter_exercises(repo)
        exercises = await list_exercises(repo)
    return exercises


async def open_session(
    repo: Repository, client_id: str, on: date
) -> tuple[SessionLog, SessionLog | None]:
    """A new draft session log for the client, saved: pre-filled from the last attended
    session (returned with it, or None), with today's target heart rate."""
    client = await repo.get(Client, client_id)
    if client is None:
        raise Refused({"__all__": "This client could not be found."})
    await exercise_library(repo)
    draft = await start_session(repo, client.id, on)
    history = _newest(await repo.find(HealthHistory, "client_id", client.id))
    previous = latest_attended(await repo.find(SessionLog, "client_id", client.id))
    resting = previous.pre_vitals.heart_rate_bpm if previous and previous.pre_vitals else None
    level = intensity_of_target_text(draft.target_hr_text)
    text, _ = target_hr_for(client, history, resting, level, on)
    saved = await save_draft_log(repo, draft.model_copy(update={"target_hr_text": text}))
    return saved, previous
