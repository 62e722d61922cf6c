"""Outcome use cases over the Repository: assessments, program episodes, payments, discharge,
and everything a progress or discharge report table needs.

Writers return ``(FormResult, record | None)`` like the intake services: field errors in plain
words keyed by dotted path (``measurements.2.value``), nothing written on error, and every
write is ONE ``repo.save(...)`` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from ..assessments import (
    CUSTOM_MEASURES_KEY,
    Assessment,
    definition_for,
    interpret_assessment,
    observations_by_measure,
)
from ..dashboard import DashboardItem
from ..forms import FormResult, field_errors
from ..intake import Client, ClientStatus, Referral, age_on
from ..measures import CustomMeasure
from ..outcomes import ReportRow, interpret
from ..programs import (
    DEFAULT_PROGRAMS,
    EPISODE_ERROR_FIELDS,
    CriteriaStatus,
    DueItem,
    Episode,
    Payment,
    ProgramTemplate,
    SessionsSummary,
    conditions_from_diagnoses,
    discharge_criteria_status,
    in_episode,
    parse_money,
    program_measure_order,
    reassessment_dashboard_items,
    reassessments_due,
    sessions_summary,
)
from ..records import Record, utc_now
from ..repository import R, Repository, StorageFullError
from ..session_logs import Attendance, SessionLog
from .intake import change_status

__all__ = [
    "ClientOutcomes",
    "client_outcomes",
    "discharge_client_after_program",
    "discharge_episode",
    "list_programs",
    "reassessment_dashboard",
    "record_assessment",
    "record_payment",
    "start_episode",
]

STORAGE_FULL = (
    "The device is out of storage space: nothing was saved. Free some space or export a backup."
)


def _errors(exc: ValidationError) -> dict[str, str]:
    errors = field_errors(exc)
    general = errors.get("__all__")
    if general in EPISODE_ERROR_FIELDS:
        errors.pop("__all__")
        errors.setdefault(EPISODE_ERROR_FIELDS[general], general)
    return errors


async def _store(
    repo: Repository, typed: dict, record: R, *others: Record
) -> tuple[FormResult, R | None]:
    """Save ``record`` with ``others`` in one transaction; the result carries ``record``."""
    try:
        await repo.save(record, *others)
    except StorageFullError:
        return FormResult(ok=False, errors={"__all__": STORAGE_FULL}, values=typed), None
    return FormResult(ok=True, values=typed), record


def _fail(typed: dict, field_name: str, message: str) -> tuple[FormResult, None]:
    return FormResult(ok=False, errors={field_name: message}, values=typed), None


async def custom_measure_map(repo: Repository) -> dict[str, CustomMeasure]:
    return {c.measure_id: c for c in await repo.list(CustomMeasure)}


async def list_programs(repo: Repository, include_archived: bool = False) -> list[ProgramTemplate]:
    """The practice's program templates; the shipped defaults until the practitioner saves
    their own (a saved template with a default's id replaces it)."""
    saved = {p.id: p for p in await repo.list(ProgramTemplate)}
    merged = {p.id: p for p in DEFAULT_PROGRAMS} | saved
    out = [p for p in merged.values() if include_archived or not p.archived]
    return sorted(out, key=lambda p: p.name.lower())


async def _program(repo: Repository, program_id: str) -> ProgramTemplate | None:
    for p in await list_programs(repo, include_archived=True):
        if p.id == program_id:
            return p
    return None


# -- assessments ------------------------------------------------------------------------------


async def record_assessment(
    repo: Repository, data: dict[str, Any], today: date, assessment_id: str | None = None
) -> tuple[FormResult, Assessment | None]:
    """Validate and save an assessment. ``data`` is the Assessment's fields (``client_id``,
    ``kind``, ``assessed_on``, ``vitals``, ``measurements`` as a list of dicts …)."""
    typed = dict(data)
    client = await repo.get(Client, str(data.get("client_id") or ""))
    if client is None:
        return _fail(typed, "client_id", "Choose the client")
    current = await repo.get(Assessment, assessment_id) if assessment_id else None
    keep = {}
    if current is not None:
        keep = {"id": current.id, "created_at": current.created_at, "updated_at": utc_now()}
    context = {
        "today": today,
        "date_of_birth": client.date_of_birth,
        CUSTOM_MEASURES_KEY: await custom_measure_map(repo),
    }
    try:
        assessment = Assessment.model_validate({**data, **keep}, context=context)
    except ValidationError as exc:
        return FormResult(ok=False, errors=_errors(exc), values=typed), None
    if assessment.episode_id:
        episode = await repo.get(Episode, assessment.episode_id)
        if episode is None or episode.client_id != client.id:
            return _fail(typed, "episode_id", "This program does not belong to the client")
        if assessment.assessed_on < episode.start_date:
            return _fail(typed, "assessed_on", "The assessment is dated before the program start")
        if assessment.kind == "baseline":
            others = await repo.find(Assessment, "client_id", client.id)
            clash = [
                a
                for a in others
                if a.episode_id == episode.id and a.kind == "baseline" and a.id != assessment.id
            ]
            if clash:
                return _fail(
                    typed,
                    "kind",
                    f"This program already has a baseline ({clash[0].assessed_on.isoformat()}): "
                    "record a reassessment instead",
                )
    return await _store(repo, typed, assessment)


# -- episodes ---------------------------------------------------------------------------------


async def start_episode(
    repo: Repository,
    client_id: str,
    program_id: str,
    start_date: Any,
    today: date,
    *,
    baseline_deficits: str = "",
    physician_follow_up: Any = None,
    sessions_prior: Any = 0,
) -> tuple[FormResult, Episode | None]:
    """Start a client's program from a template (its settings are copied into the episode).
    The physician's follow-up date defaults to the latest referral's."""
    typed = {
        "program_id": program_id,
        "start_date": start_date,
        "baseline_deficits": baseline_deficits,
        "physician_follow_up": physician_follow_up,
        "sessions_prior": sessions_prior,
    }
    client = await repo.get(Client, client_id)
    if client is None:
        return _fail(typed, "client_id", "Choose the client")
    template = await _program(repo, program_id) if program_id else None
    if template is None:
        return _fail(typed, "program_id", "Choose a program")
    active = [e for e in await repo.find(Episode, "client_id", client_id) if e.is_active]
    if active:
        return _fail(
            typed,
            "program_id",
            f"{client.full_name} is already on the program '{active[0].program.name}': "
            "discharge it first",
        )
    follow_up = physician_follow_up
    if follow_up in (None, ""):
        referrals = await repo.find(Referral, "client_id", client_id)
        if referrals:
            latest = max(referrals, key=lambda r: (r.referred_on, r.created_at))
            follow_up = latest.physician_follow_up
    try:
        episode = Episode.model_validate(
            {
                "client_id": client_id,
                "program_id": template.id,
                "program": template.snapshot().model_dump(),
                "start_date": start_date,
                "baseline_deficits": baseline_deficits,
                "physician_follow_up": follow_up,
                "sessions_prior": sessions_prior if sessions_prior not in (None, "") else 0,
            },
            context={"today": today},
        )
    except ValidationError as exc:
        return FormResult(ok=False, errors=_errors(exc), values=typed), None
    return await _store(repo, typed, episode)


async def record_payment(
    repo: Repository, episode_id: str, data: dict[str, Any], today: date
) -> tuple[FormResult, Episode | None]:
    """Add a payment (``paid_on``, ``amount`` as typed, e.g. "450.00", ``method``,
    ``reference``) to an episode."""
    typed = dict(data)
    episode = await repo.get(Episode, episode_id)
    if episode is None:
        return _fail(typed, "__all__", "This program no longer exists")
    try:
        cents = parse_money(data.get("amount", ""))
    except ValueError as exc:
        return _fail(typed, "amount", str(exc))
    if cents == 0:
        return _fail(typed, "amount", "Enter the amount received")
    fields = {
        k: data[k] for k in ("paid_on", "method", "reference") if data.get(k) not in (None, "")
    }
    try:
        payment = Payment.model_validate(
            {**fields, "amount_cents": cents}, context={"today": today}
        )
    except ValidationError as exc:
        errors = {k.replace("amount_cents", "amount"): v for k, v in field_errors(exc).items()}
        return FormResult(ok=False, errors=errors, values=typed), None
    updated = episode.model_copy(
        update={"payments": [*episode.payments, payment], "updated_at": utc_now()}
    )
    return await _store(repo, typed, updated)


async def discharge_episode(
    repo: Repository,
    episode_id: str,
    discharge_date: Any,
    reason: str | None,
    today: date,
    note: str = "",
) -> tuple[FormResult, Episode | None]:
    """Discharge a program. 'Criteria met' is refused unless every discharge criterion is met
    on the latest values; any other reason (client request, referred back, other + text) is
    accepted and recorded."""
    typed = {"discharge_date": discharge_date, "discharge_reason": reason, "discharge_note": note}
    episode = await repo.get(Episode, episode_id)
    if episode is None:
        return _fail(typed, "__all__", "This program no longer exists")
    if not episode.is_active:
        return _fail(typed, "__all__", "This program is already discharged")
    if not reason:
        return _fail(typed, "discharge_reason", "Choose the reason for discharge")
    if reason == "criteria_met":
        outcomes = await client_outcomes(repo, episode.client_id, today, episode_id=episode.id)
        status = outcomes.criteria
        if status is None or status.overall != "met":
            why = status.sentence if status is not None else "No discharge criteria are set."
            return _fail(
                typed,
                "discharge_reason",
                f"{why} Record the values that meet them, or choose another reason and "
                "describe it.",
            )
    try:
        updated = Episode.model_validate(
            {
                **episode.model_dump(),
                "status": "discharged",
                "discharge_date": discharge_date,
                "discharge_reason": reason,
                "discharge_note": note,
                "updated_at": utc_now(),
            },
            context={"today": today},
        )
    except ValidationError as exc:
        return FormResult(ok=False, errors=_errors(exc), values=typed), None
    return await _store(repo, typed, updated)


async def discharge_client_after_program(repo: Repository, client_id: str, today: date) -> str:
    """After a program's discharge: a client with no program left in progress is discharged
    too (the practice's rule; the status change follows ``change_status``'s transitions).
    Returns the sentence saying what happened to the client's status, "" when nothing did."""
    client = await repo.get(Client, client_id)
    if client is None or client.status is ClientStatus.DISCHARGED:
        return ""
    if any(e.is_active for e in await repo.find(Episode, "client_id", client.id)):
        return ""
    ok, message, _ = await change_status(repo, client, ClientStatus.DISCHARGED, today)
    return message if ok else f"The client's status was kept: {message}"


# -- reports ----------------------------------------------------------------------------------


@dataclass
class ClientOutcomes:
    """What a progress / discharge report table needs, for one client (and episode)."""

    client: Client
    age: int
    episode: Episode | None
    assessments: list[Assessment]  # oldest first (the episode's, when there is one)
    rows: list[ReportRow]  # one per measure: program measures first, then the others
    conditions: list[str]
    criteria: CriteriaStatus | None
    due: list[DueItem] = field(default_factory=list)
    sessions: SessionsSummary | None = None
    attended_dates: list[date] = field(default_factory=list)

    @property
    def baseline(self) -> Assessment | None:
        return self.assessments[0] if self.assessments else None

    @property
    def latest(self) -> Assessment | None:
        return self.assessments[-1] if self.assessments else None

    def row(self, measure_id: str) -> ReportRow | None:
        return next((r for r in self.rows if r.measure_id == measure_id), None)


async def client_outcomes(
    repo: Repository, client_id: str, today: date, *, episode_id: str | None = None
) -> ClientOutcomes:
    """Rows (baseline, previous, now, change vs MDC/MCID, norm band then and now, flags) for
    every measure of the episode (the active one, else the latest, else all assessments),
    the discharge-criteria status, what is due, and sessions used/remaining."""
    client = await repo.get(Client, client_id)
    if client is None:
        raise KeyError("Unknown client")
    episodes = await repo.find(Episode, "client_id", client_id)
    episode = None
    if episode_id:
        episode = next((e for e in episodes if e.id == episode_id), None)
    elif episodes:
        episode = max(episodes, key=lambda e: (e.is_active, e.start_date, e.created_at))
    all_assessments = await repo.find(Assessment, "client_id", client_id)
    if episode is not None:
        chosen = [a for a in all_assessments if a.episode_id == episode.id]
    else:
        chosen = list(all_assessments)
    chosen.sort(key=lambda a: (a.assessed_on, a.created_at, a.id))

    referrals = await repo.find(Referral, "client_id", client_id)
    codes = [d.code for r in referrals for d in r.diagnoses]
    conditions = list(
        dict.fromkeys(
            conditions_from_diagnoses(codes) + (episode.program.conditions if episode else [])
        )
    )
    customs = await custom_measure_map(repo)
    ref_day = episode.discharge_date if episode and episode.discharge_date else today
    age = age_on(client.date_of_birth, ref_day)

    rows: list[ReportRow] = []
    if chosen:
        latest = chosen[-1]
        latest_rows = interpret_assessment(
            latest,
            chosen,
            age,
            client.sex,
            conditions,
            date_of_birth=client.date_of_birth,
            custom_measures=customs,
        )
        # Measures not taken at the latest assessment still get a row from their history.
        history = observations_by_measure(chosen, client.date_of_birth)
        order = program_measure_order(
            episode.program.measure_ids if episode else [], [mid for mid, _v in history]
        )
        for mid in order:
            found = [r for r in latest_rows if r.measure_id == mid]
            if found:
                rows.extend(found)
                continue
            m = definition_for(mid, customs)
            obs = next((o for (k, _v), o in history.items() if k == mid), None)
            if m is not None:  # a program measure never taken reads "Not assessed"
                rows.append(interpret(m, obs or [], age, client.sex, conditions=conditions))

    criteria = None
    due: list[DueItem] = []
    sessions = None
    attended: list[date] = []
    if episode is not None:
        criteria = discharge_criteria_status(episode, rows, age, client.sex, conditions)
        logs = await repo.find(SessionLog, "client_id", client_id)
        attended = sorted(
            log.session_date
            for log in logs
            if in_episode(episode, log.episode_id, log.session_date)
            and log.attendance == Attendance.ATTENDED
        )
        due = reassessments_due(episode, chosen, attended, today)
        sessions = sessions_summary(episode, len(attended))
    return ClientOutcomes(
        client=client,
        age=age,
        episode=episode,
        assessments=chosen,
        rows=rows,
        conditions=conditions,
        criteria=criteria,
        due=due,
        sessions=sessions,
        attended_dates=attended,
    )


async def reassessment_dashboard(repo: Repository, today: date) -> list[DashboardItem]:
    """Due and overdue baselines/reassessments of every active program, for the home screen."""
    entries = []
    for episode in await repo.list(Episode):
        if not episode.is_active:
            continue
        client = await repo.get(Client, episode.client_id)
        if client is None:
            continue
        assessments = [
            a
            for a in await repo.find(Assessment, "client_id", client.id)
            if a.episode_id == episode.id
        ]
        attended = [
            log.session_date
            for log in await repo.find(SessionLog, "client_id", client.id)
            if in_episode(episode, log.episode_id, log.session_date)
            and log.attendance == Attendance.ATTENDED
        ]
        items = reassessments_due(episode, assessments, attended, today)
        entries.append((client.id, client.full_name, items))
    return reassessment_dashboard_items(entries)
