"""The home screen is the day: one query (``home_page``) gathers what is owed, the clients at
risk of dropping out, the practice's set-up progress, the caseload by program and the days
since the last backup. Each part is a pure rule elsewhere (``medex.practice_setup``,
``medex.retention``, ``medex.focus``, the capabilities' dashboard items); this module only
reads the records once for them: the client's facts from the dashboard rows (one compact row
per client, kept in step with every write: ``services.dashboard_rows``), the practice-wide
ones from their small stores. What depends on today is worked out here, when read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import partial

from ..client_summary import ClientSummary, attendance_part, log_order
from ..dashboard import DashboardItem, order_key
from ..dashboard_row import RowFacts, packed_instant
from ..documents import (
    Communication,
    DocumentSettings,
    documents_owed,
    lmn_expiry_items,
    owed_dashboard_items,
    owed_severity_on,
)
from ..focus import ProgramCount, outside_programs, program_counts
from ..intake import Client, ClientStatus, ConsentTexts, ReferringProvider
from ..practice_setup import INTRODUCTION_KINDS, SetupChecklist, SetupFacts, setup_checklist
from ..programs import DueItem, Episode, ProgramTemplate, due_status, reassessment_dashboard_items
from ..records import PracticeProfile
from ..repository import Repository
from ..retention import EpisodeAttendance, LogFact, RetentionRisk, risks_from, risks_of
from ..schedule import LogOnDay, attendance_of, sessions_between
from ..session_logs import late_signature_item
from .dashboard_rows import home_rows
from .data import LAST_BACKUP_KEY, backup_items, days_since
from .focus import focus_item
from .intake import clearance_item, onboarding_item
from .outcomes import list_programs
from .partners import follow_up_items, introduction_letters
from .practice import load_practice_profile
from .schedule import ScheduledRow
from .summaries import client_logs, client_summaries

_DISCHARGED = ClientStatus.DISCHARGED.value
_ACTIVE = ClientStatus.ACTIVE.value


@dataclass
class HomePage:
    profile: PracticeProfile | None
    owed: list[DashboardItem] = field(default_factory=list)  # most urgent first
    more: int = 0  # owed, not in ``owed`` (beyond the number shown)
    risks: list[RetentionRisk] = field(default_factory=list)
    setup: SetupChecklist | None = None
    caseload: list[ProgramCount] = field(default_factory=list)
    days_since_backup: int | None = None
    backup: list[DashboardItem] = field(default_factory=list)
    clients: int = 0  # clients on file (an empty practice teaches its first step)
    today: list[ScheduledRow] = field(default_factory=list)  # today's planned sessions
    follow_ups: list[DashboardItem] = field(default_factory=list)  # referral partners due


def _letterhead_ready(profile: PracticeProfile | None) -> bool:
    return bool(
        profile
        and profile.business_name
        and (profile.address or "").strip()
        and (profile.phone or profile.email)
    )


async def setup_facts(
    repo: Repository,
    now: datetime,
    *,
    profile: PracticeProfile | None = None,
    signed_sessions: int | None = None,
) -> SetupFacts:
    profile = profile or await load_practice_profile(repo)
    programs = await list_programs(repo)
    saved = [p for p in await repo.list(ProgramTemplate) if not p.archived]
    comms = await repo.list(Communication)
    if signed_sessions is None:
        signed_sessions = sum(r.signed_logs for r in await home_rows(repo))
    return SetupFacts(
        profile_letterhead=_letterhead_ready(profile),
        consent_texts_saved=await repo.get(ConsentTexts, ConsentTexts().id) is not None,
        scope_statement_saved=await repo.get(DocumentSettings, DocumentSettings().id) is not None,
        programs_priced=sum(p.price_cents is not None for p in programs),
        programs_saved=len(saved),
        referral_partners=len(await repo.list(ReferringProvider)),
        introductions_sent=sum(
            1
            for c in comms
            if c.provider_id
            and c.status in ("sent", "acknowledged")
            and c.kind.value in INTRODUCTION_KINDS
        )
        + await introduction_letters(repo),
        days_since_backup=days_since(await repo.get_meta(LAST_BACKUP_KEY), now),
        signed_sessions=signed_sessions,
    )


async def retention_risks(
    repo: Repository,
    today: date,
    *,
    clients: list[Client] | None = None,
    summaries: dict[str, ClientSummary] | None = None,
) -> list[RetentionRisk]:
    """Every active client's retention risks, the longest-standing first (from the client
    summaries; from the client's logs when one is dated after ``today``)."""
    clients = clients if clients is not None else await repo.list(Client)
    names = {c.id: c.full_name for c in clients}
    if summaries is None:
        summaries = await client_summaries(repo, clients)
    active: dict[str, Episode] = {}
    for e in await repo.list(Episode):
        if e.is_active and e.client_id in names:
            seen = active.get(e.client_id)
            if seen is None or e.start_date > seen.start_date:
                active[e.client_id] = e
    risks: list[RetentionRisk] = []
    for client_id, episode in active.items():
        summary = summaries[client_id]
        if summary.latest_log is not None and summary.latest_log > today:
            logs = sorted(await client_logs(repo, client_id), key=log_order)
            attendance = attendance_part(episode, logs, today)
        else:
            part = summary.episode(episode.id)
            attendance = EpisodeAttendance(
                tuple(LogFact(d.session_date, d.attendance) for d in part.last_two),
                part.attended,
                part.last_attended,
            )
        risks += risks_from(
            client_id, names[client_id], episode, attendance, summary.assessed_on, today
        )
    return sorted(risks, key=lambda r: (r.since is None, r.since or today, r.client_name))


async def home_page(
    repo: Repository,
    today: date,
    now: datetime | None = None,
    *,
    before: Sequence[DashboardItem] = (),
    shown: int | None = None,
    with_backup: bool = False,
) -> HomePage:
    """Everything the home screen shows, in one call: from the dashboard rows (one small
    record per client, ``medex.dashboard_row``) and the practice-wide stores (programs,
    referral partners, letters), never from the client-sized ones.

    ``owed``: what needs doing, most urgent first: ``before`` (the device's own items), the
    records' and, ``with_backup``, the backup reminder; only the first ``shown`` of them are
    made (a practice years behind can owe thousands), ``more`` counts the rest."""
    now = now or datetime.now(UTC)
    profile = await load_practice_profile(repo)
    rows = await home_rows(repo)
    clients = [r for r in rows if r.on_file]
    active = [r for r in clients if r.status != _DISCHARGED]
    pending = [_made(i) for i in before]
    pending += [_made(i) for i in _intake_items(active)]
    pending += _late_signature_items(rows, now)
    pending += _reassessment_items(clients, today)
    pending += _document_items(clients, await repo.list(ReferringProvider), today)
    names = {r.client_id: r.name for r in clients}
    lmn = lmn_expiry_items(await repo.list(Communication), names, today)
    programs = await list_programs(repo)
    focus = [
        focus_item(r.client_id, r.name, r.referral_codes)
        for r in sorted(active, key=lambda r: r.first_referral_id)
        if r.focus_open and outside_programs(r.referral_codes, programs)
    ]
    backup = backup_items(await repo.get_meta(LAST_BACKUP_KEY), now)
    pending += [_made(i) for i in [*lmn, *focus, *(backup if with_backup else [])]]
    pending.sort(key=lambda p: p.key)  # stable: ties keep the order of the parts
    first = pending if shown is None else pending[:shown]
    facts = await setup_facts(
        repo, now, profile=profile, signed_sessions=sum(r.signed_logs for r in rows)
    )
    return HomePage(
        profile=profile,
        owed=[p.make() for p in first],
        more=len(pending) - len(first),
        risks=await _retention_risks(repo, clients, today),
        setup=setup_checklist(facts),
        caseload=program_counts(r.caseload_program for r in clients if r.caseload_program),
        days_since_backup=facts.days_since_backup,
        backup=backup,
        clients=len(clients),
        today=await _today_schedule(repo, active, today),
        follow_ups=await follow_up_items(repo, today),
    )


# -- the home screen's parts from the rows (each as its capability's dashboard function) -------


@dataclass(frozen=True, slots=True)
class _Pending:
    """An item of what needs doing, by its place in the order, made only if shown."""

    key: tuple[int, bool, float]
    make: Callable[[], DashboardItem]


def _made(item: DashboardItem) -> _Pending:
    return _Pending(order_key(item.severity, item.since), lambda: item)


def _intake_items(active: list[RowFacts]) -> list[DashboardItem]:
    """As ``services.intake.intake_dashboard``."""
    items = [
        clearance_item(r.client_id, r.name, r.clearance_requested)
        for r in active
        if r.clearance_outstanding
    ]
    not_ready = [(r.sort_name, r.name) for r in active if r.status != _ACTIVE and not r.ready]
    if not_ready:
        items.append(onboarding_item(not_ready))
    return items


def _late_signature_items(rows: list[RowFacts], now: datetime) -> list[_Pending]:
    """As ``services.sessions.unsigned_logs_dashboard`` (the device's wall-clock time)."""
    wall = packed_instant(now.replace(tzinfo=None))
    late = []
    for r in rows:
        count, oldest, since = r.late(wall)
        if oldest is not None and since is not None:
            who = r.name if r.on_file else "a client"
            item = _Pending(
                order_key("due", since if count > 1 else oldest.created_at),
                partial(late_signature_item, r.client_id, who, count, oldest, since),
            )
            late.append(((oldest.session_date, oldest.start_time or time.min), item))
    return [item for _key, item in sorted(late, key=lambda pair: pair[0])]


def _reassessment_items(clients: list[RowFacts], today: date) -> list[_Pending]:
    """As ``services.outcomes.reassessment_dashboard`` (in the order of the episodes)."""
    entries = []
    for r in clients:
        for due in r.dues:
            status, late = due_status(due.due_on, today)
            if status != "upcoming":
                item = DueItem(due.kind, status, due.due_on, due.reason, late)
                pending = _Pending(
                    order_key("urgent" if late > 7 else "due", None),
                    partial(_one_reassessment, r.client_id, r.name, item),
                )
                entries.append((due.episode_id, pending))
    return [pending for _id, pending in sorted(entries, key=lambda e: e[0])]


def _one_reassessment(client_id: str, name: str, item: DueItem) -> DashboardItem:
    return reassessment_dashboard_items([(client_id, name, [item])])[0]


def _document_items(
    clients: list[RowFacts], providers: list[ReferringProvider], today: date
) -> list[_Pending]:
    """As ``services.documents.documents_dashboard`` (its reports owed): from the reports
    each row will owe (``RowFacts.owed``), today only compared with their dates; the report
    itself worked out only when shown."""
    by_id = {p.id: p for p in providers}
    owed = [
        (due_on, r.name, kind, r)
        for r in clients
        for kind, owed_from, due_on in r.owed
        if owed_from <= today
    ]
    owed.sort(key=lambda o: (o[0], o[1]))  # stable: each client's in the order listed
    keys: dict[date, tuple[int, bool, float]] = {}
    for due_on, *_rest in owed:
        if due_on not in keys:
            keys[due_on] = order_key(owed_severity_on(due_on, today), None)
    return [
        _Pending(keys[due_on], partial(_one_document, row, kind, by_id, today))
        for due_on, _name, kind, row in owed
    ]


def _one_document(
    row: RowFacts, kind: str, providers: dict[str, ReferringProvider], today: date
) -> DashboardItem:
    provider = providers.get(row.provider_id)
    facts = row.loop_facts(
        provider.id if provider else "", provider.display_name if provider else ""
    )
    owed = next(o for o in documents_owed(facts, today) if o.kind.value == kind)
    return owed_dashboard_items([owed], today)[0]


async def _retention_risks(
    repo: Repository, clients: list[RowFacts], today: date
) -> list[RetentionRisk]:
    """As ``retention_risks``: from the rows, or from the client's logs and episode when a
    session is dated after ``today``."""
    risks: list[RetentionRisk] = []
    for r in sorted((r for r in clients if r.retention), key=lambda r: _order(r)):
        fact = r.retention
        assert fact is not None
        if r.latest_log is not None and r.latest_log > today:
            episode = await repo.get(Episode, fact.episode_id)
            if episode is None:
                continue
            logs = sorted(await client_logs(repo, r.client_id), key=log_order)
            attendance = attendance_part(episode, logs, today)
            risks += risks_from(r.client_id, r.name, episode, attendance, r.assessed_on, today)
            continue
        attendance = EpisodeAttendance(
            tuple(LogFact(d.session_date, d.attendance) for d in fact.last_two),
            fact.attended,
            fact.last_attended,
        )
        risks += risks_of(
            r.client_id,
            r.name,
            fact.start_date,
            (fact.remaining, fact.included),
            attendance,
            r.assessed_on,
            today,
        )
    return sorted(risks, key=lambda r: (r.since is None, r.since or today, r.client_name))


def _order(row: RowFacts) -> str:
    return row.retention.order_id if row.retention else ""


async def _today_schedule(
    repo: Repository, active: list[RowFacts], today: date
) -> list[ScheduledRow]:
    """As ``services.schedule.scheduled`` for today: the clients with a session today read."""
    by_id = {r.client_id: r for r in active}
    plans = [r.plan for r in active if r.plan is not None]
    out = []
    for s in sessions_between(plans, today, today):
        row = by_id[s.client_id]
        held = row.logs_on(today, today)
        if held is None:
            logs = [
                LogOnDay(lg.client_id, lg.session_date, lg.attendance, lg.id)
                for lg in sorted(await client_logs(repo, s.client_id), key=log_order)
                if lg.session_date == today
            ]
        else:
            logs = [LogOnDay(s.client_id, d.session_date, d.attendance, d.id) for d in held]
        client = await repo.get(Client, s.client_id)
        if client is None:
            continue
        same = [lg for lg in logs if lg.session_date == s.day]
        out.append(
            ScheduledRow(s, client, attendance_of(s, same, today), same[0].log_id if same else "")
        )
    return out
