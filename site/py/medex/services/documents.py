"""Document use cases over the Repository: gather a document's inputs, the referral loop
(what is owed), mark as sent (immutable snapshot + communication log), provider summaries.

Rendering HTML is the app's job (jinja2 templates): the screen renders ``view_model(...)`` and
hands the HTML back to ``mark_sent``. Every write is ONE ``repo.save(...)`` call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from ..assessments import definition_for, interpret_assessment
from ..charts import chart_for_row
from ..client_summary import ClientSummary
from ..dashboard import DashboardItem
from ..documents import (
    CHARTS_FIELD,
    COMM_ERROR_FIELDS,
    SPECS,
    Communication,
    DocKind,
    DocSpec,
    DocumentInputs,
    DocumentSettings,
    LoopFacts,
    Owed,
    SentDocument,
    acknowledge,
    charted_measures,
    client_documents,
    documents_owed,
    lmn_expiry_items,
    owed_dashboard_items,
    parse_scope_words,
)
from ..forms import Refused, field_errors
from ..health import HealthHistory
from ..home_programs import HomeProgramPrint
from ..intake import Client, ClientStatus, Goals, Referral, ReferringProvider
from ..programs import Episode
from ..records import utc_now
from ..repository import R, Repository
from ..screening import Clearance, ScreeningRecord
from ..session_logs import Attendance, SessionLog, SessionLogSummary
from .caseload import provider_caseload
from .home_programs import load_home_program, program_summary
from .outcomes import client_outcomes, custom_measure_map
from .practice import load_document_settings, load_practice_profile
from .summaries import client_summaries


class SaveDocumentSettings(BaseModel):
    """Paper, scope-of-practice statement and words (one a line, ``stem: reason``), and the
    superbill's fields, as typed."""

    paper: str = "letter"
    scope_statement: str = ""
    scope_words: str = ""
    show_npi_on_superbill: bool = False
    cpt_code: str = ""
    service_description: str = ""


async def save_settings(repo: Repository, command: SaveDocumentSettings) -> DocumentSettings:
    current = await load_document_settings(repo)
    try:
        words = parse_scope_words(command.scope_words)
    except ValueError as exc:
        raise Refused({"scope_words": str(exc)}) from exc
    data = {
        **current.model_dump(),
        **command.model_dump(exclude={"scope_words"}),
        "paper": command.paper or "letter",
        "scope_words": [w.model_dump() for w in words],
        "updated_at": utc_now(),
    }
    try:
        settings = DocumentSettings.model_validate(data)
    except ValidationError as exc:
        raise Refused.invalid(exc) from exc
    await repo.save(settings)
    return settings


def _newest(records: Iterable[R]) -> R | None:
    found = list(records)
    return max(found, key=lambda r: (r.created_at, r.updated_at)) if found else None


async def offered_for_client(repo: Repository, client_id: str) -> list[DocSpec]:
    """The documents to offer for a client (``documents.client_documents``)."""
    screening = _newest(await repo.find(ScreeningRecord, "client_id", client_id))
    return client_documents(screening.outcome if screening is not None else None)


async def sent_for_client(repo: Repository, client_id: str) -> list[SentDocument]:
    docs = await repo.find(SentDocument, "client_id", client_id)
    return sorted(docs, key=lambda d: (d.document_date, d.created_at), reverse=True)


def _first_visit(logs: Iterable[SessionLog | SessionLogSummary]) -> date | None:
    days = [lg.session_date for lg in logs if lg.attendance == Attendance.ATTENDED]
    return min(days) if days else None


def default_period(
    kind: DocKind,
    episode: Episode | None,
    logs: list[SessionLog],
    sent: list[SentDocument],
    today: date,
) -> tuple[date | None, date]:
    """The period a document covers: a progress report runs from the last progress report
    (or the start), a discharge summary to the discharge date, others from the start."""
    start = episode.start_date if episode else _first_visit(logs)
    end = today
    if episode is not None and episode.discharge_date and kind == DocKind.DISCHARGE_SUMMARY:
        end = episode.discharge_date
    if kind == DocKind.PROGRESS_REPORT:
        last = [d.document_date for d in sent if d.kind == DocKind.PROGRESS_REPORT]
        if last and max(last) < today:
            start = max(last) + timedelta(days=1)
    if kind == DocKind.CHANGE_IN_STATUS:
        flagged = [lg.session_date for lg in logs if lg.safety_flags or lg.adverse_events]
        last = [d.document_date for d in sent if d.kind == DocKind.CHANGE_IN_STATUS]
        if last:
            flagged = [d for d in flagged if d > max(last)]
        if flagged:
            start = min(flagged)
    return start, end


async def gather(
    repo: Repository,
    kind: DocKind,
    today: date,
    *,
    client_id: str = "",
    provider_id: str = "",
    authored: dict[str, str] | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
) -> DocumentInputs:
    """Everything one document needs. Raises KeyError for an unknown client/provider."""
    settings = await load_document_settings(repo)
    profile = await load_practice_profile(repo)
    inp = DocumentInputs(
        kind=kind, today=today, profile=profile, settings=settings, authored=authored or {}
    )
    if SPECS[kind].per_provider:
        provider = await repo.get(ReferringProvider, provider_id)
        if provider is None:
            raise KeyError("Unknown provider")
        inp.provider = provider
        roster, summary = await provider_caseload(repo, provider.id, today)
        inp.provider_clients = roster
        inp.caseload = summary.as_dict()
        return inp
    client = await repo.get(Client, client_id)
    if client is None:
        raise KeyError("Unknown client")
    referrals = sorted(
        await repo.find(Referral, "client_id", client_id),
        key=lambda r: (r.referred_on, r.created_at),
    )
    referral = referrals[-1] if referrals else None
    pid = (referral.provider_id if referral else "") or client.provider_id or ""
    inp.client = client
    inp.referral = referral
    inp.provider = await repo.get(ReferringProvider, pid) if pid else None
    inp.history = _newest(await repo.find(HealthHistory, "client_id", client_id))
    inp.screening = _newest(await repo.find(ScreeningRecord, "client_id", client_id))
    inp.clearance = _newest(await repo.find(Clearance, "client_id", client_id))
    inp.goals = _newest(await repo.find(Goals, "client_id", client_id))
    outcomes = await client_outcomes(repo, client_id, today)
    customs = await custom_measure_map(repo)
    if kind == DocKind.ASSESSMENT_SUMMARY and outcomes.baseline is not None:
        # The initial evaluation reports the baseline as it was, not today's values.
        base = outcomes.baseline
        outcomes = replace(
            outcomes,
            rows=interpret_assessment(
                base,
                [base],
                outcomes.age,
                client.sex,
                outcomes.conditions,
                date_of_birth=client.date_of_birth,
                custom_measures=customs,
            ),
        )
    inp.outcomes = outcomes
    logs = sorted(
        await repo.find(SessionLog, "client_id", client_id),
        key=lambda lg: (lg.session_date, lg.start_time or 0, lg.created_at),
    )
    if outcomes.episode is not None:
        logs = [lg for lg in logs if lg.episode_id in (None, outcomes.episode.id)]
    inp.logs = logs
    inp.home_prints = await repo.find(HomeProgramPrint, "client_id", client_id)
    inp.home_program = program_summary(await load_home_program(repo, client_id), inp.home_prints)
    sent = await sent_for_client(repo, client_id)
    start, end = default_period(kind, outcomes.episode, logs, sent, today)
    inp.period_from = period_from or start
    inp.period_to = period_to or end
    # Charts: the measures the practitioner ticked, or those that changed beyond the MCID.
    ids = charted_measures(kind, outcomes.rows, (authored or {}).get(CHARTS_FIELD))
    charted = [r for r in outcomes.rows if r.measure_id in ids]
    for r in charted:
        m = definition_for(r.measure_id, customs)
        inp.charts[r.measure_id] = chart_for_row(
            r,
            m,
            outcomes.age,
            client.sex,
            conditions=outcomes.conditions,
            chart_id=f"doc-chart-{r.measure_id}",
        )
    if kind == DocKind.SUPERBILL:
        inp.number = f"R-{today.strftime('%Y%m%d')}-{client.id[:4].upper()}"
    return inp


async def provider_outcomes(
    repo: Repository, provider_id: str, today: date
) -> list[dict[str, Any]]:
    """Each client the provider referred: status and outcome rows (the outcomes letter's
    roster; see ``services.caseload.provider_caseload``)."""
    roster, _summary = await provider_caseload(repo, provider_id, today)
    return roster


# -- the referral loop ------------------------------------------------------------------------


async def loop_facts(
    repo: Repository, today: date, *, summaries: dict[str, ClientSummary] | None = None
) -> list[LoopFacts]:
    """Facts for the due rules of every client with an active or recently ended program
    (the session-log facts from the client summaries)."""
    providers = {p.id: p for p in await repo.list(ReferringProvider)}
    episodes: dict[str, list[Episode]] = {}
    for e in await repo.list(Episode):
        episodes.setdefault(e.client_id, []).append(e)
    clients = await repo.list(Client)
    if summaries is None:
        summaries = await client_summaries(repo, clients)
    sent_by: dict[str, list[tuple[str, date]]] = {}
    for d in await repo.list(SentDocument):
        if d.client_id:
            sent_by.setdefault(d.client_id, []).append((d.kind.value, d.document_date))
    follow_ups: dict[str, date | None] = {}
    for r in sorted(await repo.list(Referral), key=lambda r: (r.referred_on, r.created_at)):
        follow_ups[r.client_id] = r.physician_follow_up
    facts = []
    for client in clients:
        summary = summaries[client.id]
        eps = episodes.get(client.id, [])
        ep = max(eps, key=lambda e: (e.is_active, e.start_date, e.created_at)) if eps else None
        loop = summary.episode(ep.id).loop if ep is not None else summary.loop
        first = loop.first_visit
        if first is None and (ep is None or ep.discharge_date is None):
            continue
        provider = providers.get(client.provider_id or "")
        flagged = tuple((f.session_date, f.title) for f in loop.flagged)
        fu = (ep.physician_follow_up if ep else None) or follow_ups.get(client.id)
        facts.append(
            LoopFacts(
                client_id=client.id,
                client_name=client.full_name,
                provider_id=provider.id if provider else "",
                provider_name=provider.display_name if provider else "",
                first_visit=first,
                follow_up=fu,
                active=(ep.is_active if ep else client.status != ClientStatus.DISCHARGED),
                discharged_on=ep.discharge_date if ep and not ep.is_active else None,
                flagged=flagged,
                sent=tuple(sent_by.get(client.id, [])),
            )
        )
    return facts


async def owed_documents(
    repo: Repository, today: date, *, summaries: dict[str, ClientSummary] | None = None
) -> list[Owed]:
    owed: list[Owed] = []
    for f in await loop_facts(repo, today, summaries=summaries):
        owed.extend(documents_owed(f, today))
    return sorted(owed, key=lambda o: (o.due_on, o.client_name))


async def documents_dashboard(
    repo: Repository, today: date, *, summaries: dict[str, ClientSummary] | None = None
) -> list[DashboardItem]:
    """Reports owed to physicians (what, to whom, since when) and expiring LMNs."""
    items = owed_dashboard_items(await owed_documents(repo, today, summaries=summaries), today)
    names = {c.id: c.full_name for c in await repo.list(Client)}
    items += lmn_expiry_items(await repo.list(Communication), names, today)
    return items


def log_title(vm: dict[str, Any]) -> str:
    title = vm["title"] + (f": {vm['client']['name']}" if vm.get("client") else "")
    # Communication.title is Text (200): a long client name must not stop the document opening.
    return title if len(title) <= 200 else title[:199].rstrip() + "…"


async def find_draft(
    repo: Repository, kind: DocKind, *, client_id: str, provider_id: str
) -> Communication | None:
    """The open "drafted" log entry of this document for this client (and provider)."""
    drafts = [
        c
        for c in await repo.find(Communication, "provider_id", provider_id)
        if c.status == "drafted" and c.kind == kind and c.client_id == client_id
    ]
    return min(drafts, key=lambda c: (c.drafted_on, c.created_at)) if drafts else None


async def record_draft(repo: Repository, vm: dict[str, Any], today: date) -> Communication:
    """The "drafted" entry in the provider's communication log, made the first time a
    document is previewed (or saved as a draft) and moved on to "sent" by ``mark_sent``.
    Returns the existing entry when there is one."""
    kind = DocKind(vm["kind"])
    client_id = (vm.get("client") or {}).get("id", "")
    provider_id = (vm.get("provider") or {}).get("id", "")
    found = await find_draft(repo, kind, client_id=client_id, provider_id=provider_id)
    if found is not None:
        return found
    comm = Communication(
        provider_id=provider_id,
        client_id=client_id,
        kind=kind,
        title=log_title(vm),
        status="drafted",
        drafted_on=today,
    )
    await repo.save(comm)
    return comm


class MarkSent(BaseModel):
    """A document marked as sent: its view-model and HTML exactly as shown, how and when it
    was sent (``sent_on`` as typed), and the scope words the practitioner let through."""

    document: dict[str, Any]
    html: str
    channel: str = ""
    sent_on: str = ""
    today: date
    scope_reviewed: list[str] = []
    notes: str = ""
    drafted_on: date | None = None


async def mark_sent(repo: Repository, command: MarkSent) -> tuple[SentDocument, Communication]:
    """Store the immutable snapshot (HTML + data) and the communication-log entry in ONE
    save; returns both. For a document that does not go to a physician (superbill, progress
    card) the channel may be 'hand'. The open "drafted" entry of this document (made when it
    was first opened) moves on to "sent" and keeps its drafted date."""
    vm, today = command.document, command.today
    kind = DocKind(vm["kind"])
    client_id = (vm.get("client") or {}).get("id", "")
    provider_id = (vm.get("provider") or {}).get("id", "")
    errors: dict[str, str] = {}
    if not command.channel:
        errors["channel"] = "Choose how it was sent"
    try:
        sent_day = date.fromisoformat(command.sent_on.strip()) if command.sent_on.strip() else None
    except ValueError:
        sent_day = None
    if sent_day is None:
        errors["sent_on"] = "Enter the date it was sent"
    elif sent_day > today:
        errors["sent_on"] = "The date sent cannot be in the future"
    if errors:
        raise Refused(errors)
    assert sent_day is not None
    draft = await find_draft(repo, kind, client_id=client_id, provider_id=provider_id)
    drafted_on = command.drafted_on
    if draft is not None:
        drafted_on = min(drafted_on or draft.drafted_on, draft.drafted_on)
    drafted = min(drafted_on or sent_day, sent_day)
    try:
        doc = SentDocument(
            client_id=client_id,
            provider_id=provider_id,
            kind=kind,
            title=vm["title"],
            document_date=date.fromisoformat(vm["date"]),
            paper=vm.get("paper", "letter"),
            html=command.html,
            data=vm,
            scope_reviewed=command.scope_reviewed,
        )
        keep = {"id": draft.id, "created_at": draft.created_at} if draft else {}
        comm = Communication(
            **keep,
            provider_id=provider_id,
            client_id=client_id,
            document_id=doc.id,
            kind=kind,
            title=log_title(vm),
            status="sent",
            channel=command.channel,
            drafted_on=drafted,
            sent_on=sent_day,
            notes=command.notes,
        )
    except ValidationError as exc:
        errs = field_errors(exc)
        general = errs.pop("__all__", None)
        if general:
            errs[COMM_ERROR_FIELDS.get(general, "__all__")] = general
        raise Refused(errs) from exc
    await repo.save(doc, comm)
    return doc, comm


class MarkAcknowledged(BaseModel):
    """The physician acknowledged a sent document (``on`` as typed; blank: today)."""

    communication_id: str
    on: str = ""
    today: date


async def mark_acknowledged(repo: Repository, command: MarkAcknowledged) -> Communication:
    """The log entry moved on to "acknowledged"; refusals on ``acknowledged_on``."""
    comm = await repo.get(Communication, command.communication_id)
    if comm is None:
        raise Refused({"__all__": "This log entry no longer exists"})
    try:
        day = date.fromisoformat(command.on.strip()) if command.on.strip() else command.today
    except ValueError:
        raise Refused({"acknowledged_on": "Enter the date it was acknowledged"}) from None
    if day > command.today:
        raise Refused({"acknowledged_on": "The date acknowledged cannot be in the future"})
    try:
        updated = acknowledge(comm, day)
    except ValidationError as exc:
        raise Refused({"acknowledged_on": next(iter(field_errors(exc).values()))}) from exc
    except ValueError as exc:
        raise Refused({"acknowledged_on": str(exc)}) from exc
    updated = updated.model_copy(update={"updated_at": utc_now()})
    await repo.save(updated)
    return updated


async def provider_log(repo: Repository, provider_id: str) -> list[Communication]:
    comms = await repo.find(Communication, "provider_id", provider_id)
    return sorted(comms, key=lambda c: (c.sent_on or c.drafted_on, c.created_at), reverse=True)
