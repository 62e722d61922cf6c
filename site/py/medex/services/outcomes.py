"""Outcome use cases over the Repository: assessments, program episodes, payments, discharge,
and everything a progress or discharge report table needs.

Every use case takes a typed command and returns the record it saved, or raises
``Refused`` with messages keyed by the command's fields (a dotted path into a list:
``measurements.2.value``); nothing is written on a refusal, and every write is ONE
``repo.save(...)`` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from ..assessments import (
    CUSTOM_MEASURES_KEY,
    Assessment,
    definition_for,
    interpret_assessment,
    observations_by_measure,
)
from ..client_status import StatusEvent, status_on
from ..client_summary import ClientSummary
from ..dashboard import DashboardItem
from ..forms import Refused, field_errors
from ..goal_progress import GoalProgress, goal_progress
from ..intake import Client, Goals, Referral, age_on
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
from ..records import utc_now
from ..repository import Repository
from ..session_logs import SessionLog, counts_against_package
from .intake import load_client_file
from .summaries import client_summaries

__all__ = [
    "ClientOutcomes",
    "DischargeEpisode",
    "RecordAssessment",
    "RecordPayment",
    "StartEpisode",
    "client_outcomes",
    "discharge_episode",
    "list_programs",
    "reassessment_dashboard",
    "record_assessment",
    "record_payment",
    "start_episode",
]


def _errors(exc: ValidationError) -> dict[str, str]:
    errors = field_errors(exc)
    general = errors.get("__all__")
    if general in EPISODE_ERROR_FIELDS:
        errors.pop("__all__")
        errors.setdefault(EPISODE_ERROR_FIELDS[general], general)
    return errors


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


class RecordAssessment(BaseModel):
    """An assessment as entered: the ``Assessment``'s own fields (``measurements`` as the
    entries' dicts, values as typed), or an edit of ``assessment_id``."""

    client_id: str
    today: date
    assessment_id: str = ""
    episode_id: str | None = None
    kind: str = "baseline"
    assessed_on: Any = ""
    performed_by: str = ""
    vitals: dict[str, Any] | None = None
    measurements: list[dict[str, Any]] = []
    notes: str = ""


async def record_assessment(repo: Repository, command: RecordAssessment) -> Assessment:
    """Validate and save an assessment. A refused measurement names its place in the list
    (``measurements.2.value``), which the form's binder maps back to its field."""
    client = await repo.get(Client, command.client_id) if command.client_id else None
    if client is None:
        raise Refused({"client_id": "Choose the client"})
    current = await repo.get(Assessment, command.assessment_id) if command.assessment_id else None
    keep = {}
    if current is not None:
        keep = {"id": current.id, "created_at": current.created_at, "updated_at": utc_now()}
    context = {
        "today": command.today,
        "date_of_birth": client.date_of_birth,
        CUSTOM_MEASURES_KEY: await custom_measure_map(repo),
    }
    data = command.model_dump(exclude={"today", "assessment_id"})
    try:
        assessment = Assessment.model_validate({**data, **keep}, context=context)
    except ValidationError as exc:
        raise Refused(_errors(exc)) from exc
    if assessment.episode_id:
        episode = await repo.get(Episode, assessment.episode_id)
        if episode is None or episode.client_id != client.id:
            raise Refused({"episode_id": "This program does not belong to the client"})
        if assessment.assessed_on < episode.start_date:
            raise Refused({"assessed_on": "The assessment is dated before the program start"})
        if assessment.kind == "baseline":
            others = await repo.find(Assessment, "client_id", client.id)
            clash = [
                a
                for a in others
                if a.episode_id == episode.id and a.kind == "baseline" and a.id != assessment.id
            ]
            if clash:
                raise Refused(
                    {
                        "kind": f"This program already has a baseline "
                        f"({clash[0].assessed_on.isoformat()}): record a reassessment instead"
                    }
                )
    await repo.save(assessment)
    return assessment


# -- episodes ---------------------------------------------------------------------------------


async def client_moved_by(
    repo: Repository,
    client_id: str,
    event: StatusEvent,
    *,
    in_program: bool,
    clearance_outstanding: bool | None = None,
) -> Client | None:
    """The client with the status ``event`` gives them (``medex.client_status``), to save in
    the same transaction as the event; None when the status does not change.
    ``in_program``: whether an episode is still in progress once the event is saved.
    ``clearance_outstanding``: when the caller already knows it (signing loads the screening
    and clearance), the client's file is not read again."""
    client = await repo.get(Client, client_id)
    if client is None:
        return None
    if clearance_outstanding is None:
        clearance_outstanding = (await load_client_file(repo, client_id)).clearance_outstanding
    new = status_on(
        event,
        client.status,
        clearance_outstanding=clearance_outstanding,
        in_program=in_program,
    )
    if new is client.status:
        return None
    return client.model_copy(update={"status": new}).touched()


class StartEpisode(BaseModel):
    """Start a client on a program (a template): the fields as typed."""

    client_id: str
    today: date
    program_id: str = ""
    start_date: Any = ""
    baseline_deficits: str = ""
    physician_follow_up: Any = None
    sessions_prior: Any = 0


async def start_episode(repo: Repository, command: StartEpisode) -> Episode:
    """Start a client's program from a template (its settings are copied into the episode).
    The physician's follow-up date defaults to the latest referral's."""
    client_id, today = command.client_id, command.today
    client = await repo.get(Client, client_id)
    if client is None:
        raise Refused({"client_id": "Choose the client"})
    template = await _program(repo, command.program_id) if command.program_id else None
    if template is None:
        raise Refused({"program_id": "Choose a program"})
    active = [e for e in await repo.find(Episode, "client_id", client_id) if e.is_active]
    if active:
        raise Refused(
            {
                "program_id": f"{client.full_name} is already on the program "
                f"'{active[0].program.name}': discharge it first"
            }
        )
    follow_up = command.physician_follow_up
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
                "start_date": command.start_date,
                "baseline_deficits": command.baseline_deficits,
                "physician_follow_up": follow_up,
                "sessions_prior": command.sessions_prior
                if command.sessions_prior not in (None, "")
                else 0,
            },
            context={"today": today},
        )
    except ValidationError as exc:
        raise Refused(_errors(exc)) from exc
    moved = await client_moved_by(repo, client_id, StatusEvent.ENROLLED, in_program=True)
    await repo.save(episode, *([moved] if moved else []))
    return episode


class RecordPayment(BaseModel):
    """Money received for an episode (any episode: also after discharge), or a refund to the
    client: the fields as typed."""

    episode_id: str
    today: date
    paid_on: str = ""
    amount: str = ""
    method: str = "card"
    reference: str = ""
    kind: Literal["payment", "refund"] = "payment"


async def record_payment(repo: Repository, command: RecordPayment) -> Episode:
    """Add a payment or a refund to an episode; returns the episode saved. Refused: the amount
    or date (next to the field), or a refund larger than what has been paid."""
    episode = await repo.get(Episode, command.episode_id)
    if episode is None:
        raise Refused({"__all__": "This program no longer exists"})
    try:
        cents = parse_money(command.amount)
    except ValueError as exc:
        raise Refused({"amount": str(exc)}) from None
    if cents == 0:
        raise Refused({"amount": "Enter the amount received"})
    if command.kind == "refund" and (why := episode.refund_refusal(cents)):
        raise Refused({"amount": why})
    fields = {
        "paid_on": command.paid_on.strip() or None,
        "method": command.method or "card",
        "reference": command.reference,
        "kind": command.kind,
    }
    try:
        payment = Payment.model_validate(
            {**{k: v for k, v in fields.items() if v is not None}, "amount_cents": cents},
            context={"today": command.today},
        )
    except ValidationError as exc:
        errors = {k.replace("amount_cents", "amount"): v for k, v in field_errors(exc).items()}
        raise Refused(errors) from None
    updated = episode.model_copy(
        update={"payments": [*episode.payments, payment], "updated_at": utc_now()}
    )
    await repo.save(updated)
    return updated


class DischargeEpisode(BaseModel):
    """Discharge a program: the date, the reason (and its description) as typed."""

    episode_id: str
    today: date
    discharge_date: Any = ""
    discharge_reason: str | None = None
    discharge_note: str = ""


async def discharge_episode(repo: Repository, command: DischargeEpisode) -> Episode:
    """Discharge a program. 'Criteria met' is refused unless every discharge criterion is met
    on the latest values; any other reason (client request, referred back, other + text) is
    accepted and recorded."""
    today, reason = command.today, command.discharge_reason
    episode = await repo.get(Episode, command.episode_id)
    if episode is None:
        raise Refused({"__all__": "This program no longer exists"})
    if not episode.is_active:
        raise Refused({"__all__": "This program is already discharged"})
    if not reason:
        raise Refused({"discharge_reason": "Choose the reason for discharge"})
    if reason == "criteria_met":
        outcomes = await client_outcomes(repo, episode.client_id, today, episode_id=episode.id)
        status = outcomes.criteria
        if status is None or status.overall != "met":
            why = status.sentence if status is not None else "No discharge criteria are set."
            raise Refused(
                {
                    "discharge_reason": f"{why} Record the values that meet them, or choose "
                    "another reason and describe it."
                }
            )
    try:
        updated = Episode.model_validate(
            {
                **episode.model_dump(),
                "status": "discharged",
                "discharge_date": command.discharge_date,
                "discharge_reason": reason,
                "discharge_note": command.discharge_note,
                "updated_at": utc_now(),
            },
            context={"today": today},
        )
    except ValidationError as exc:
        raise Refused(_errors(exc)) from exc
    others = [
        e
        for e in await repo.find(Episode, "client_id", episode.client_id)
        if e.is_active and e.id != episode.id
    ]
    moved = await client_moved_by(
        repo, episode.client_id, StatusEvent.PROGRAM_DISCHARGED, in_program=bool(others)
    )
    await repo.save(updated, *([moved] if moved else []))
    return updated


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
    attended_dates: list[date] = field(default_factory=list)  # sessions counted in the package
    goals: list[GoalProgress] = field(default_factory=list)  # PSFS goals: start → now

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
            if in_episode(episode, log.episode_id, log.session_date) and counts_against_package(log)
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
        goals=goal_progress(_newest_goals(await repo.find(Goals, "client_id", client_id)), chosen),
    )


def _newest_goals(found: list[Goals]) -> Goals | None:
    return max(found, key=lambda g: (g.created_at, g.updated_at)) if found else None


@dataclass(frozen=True)
class _Assessed:
    assessed_on: date


async def reassessment_dashboard(
    repo: Repository, today: date, *, summaries: dict[str, ClientSummary] | None = None
) -> list[DashboardItem]:
    """Due and overdue baselines/reassessments of every active program, for the home screen
    (the assessment dates and the package sessions since the last, from the client
    summaries)."""
    clients = {c.id: c for c in await repo.list(Client)}
    if summaries is None:
        summaries = await client_summaries(repo, clients.values())
    entries = []
    for episode in await repo.list(Episode):
        client = clients.get(episode.client_id)
        if not episode.is_active or client is None:
            continue
        part = summaries[client.id].episode(episode.id)
        items = reassessments_due(
            episode,
            [_Assessed(d) for d in part.assessed_on],
            part.counted_since_assessment,
            today,
        )
        entries.append((client.id, client.full_name, items))
    return reassessment_dashboard_items(entries)
