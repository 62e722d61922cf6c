"""The home screen is the day: one query (``home_page``) gathers what is owed, the clients at
risk of dropping out, the practice's set-up progress, the caseload by program and the days
since the last backup. Each part is a pure rule elsewhere (``medex.practice_setup``,
``medex.retention``, ``medex.focus``, the capabilities' dashboard items); this module only
reads the records once for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ..client_summary import ClientSummary, attendance_part, log_order
from ..dashboard import DashboardItem, ordered
from ..documents import Communication, DocumentSettings
from ..focus import ProgramCount, caseload_by_program
from ..intake import Client, ConsentTexts, ReferringProvider
from ..practice_setup import INTRODUCTION_KINDS, SetupChecklist, SetupFacts, setup_checklist
from ..programs import Episode, ProgramTemplate
from ..records import PracticeProfile
from ..repository import Repository
from ..retention import EpisodeAttendance, LogFact, RetentionRisk, risks_from
from .data import LAST_BACKUP_KEY, backup_items, days_since
from .documents import documents_dashboard
from .focus import focus_dashboard
from .intake import intake_dashboard
from .outcomes import list_programs, reassessment_dashboard
from .partners import follow_up_items, introduction_letters
from .practice import load_practice_profile
from .schedule import ScheduledRow, scheduled
from .sessions import unsigned_logs_dashboard
from .summaries import client_logs, client_summaries


@dataclass
class HomePage:
    profile: PracticeProfile | None
    owed: list[DashboardItem] = field(default_factory=list)  # most urgent first
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
    summaries: dict[str, ClientSummary] | None = None,
    profile: PracticeProfile | None = None,
) -> SetupFacts:
    profile = profile or await load_practice_profile(repo)
    programs = await list_programs(repo)
    saved = [p for p in await repo.list(ProgramTemplate) if not p.archived]
    comms = await repo.list(Communication)
    if summaries is None:
        summaries = await client_summaries(repo)
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
        signed_sessions=sum(s.signed_logs for s in summaries.values()),
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


async def home_page(repo: Repository, today: date, now: datetime | None = None) -> HomePage:
    """Everything the home screen shows, in one call."""
    now = now or datetime.now(UTC)
    profile = await load_practice_profile(repo)
    clients = await repo.list(Client)
    summaries = await client_summaries(repo, clients)
    names = {c.id: c.full_name for c in clients}
    owed = await intake_dashboard(repo)
    owed += await unsigned_logs_dashboard(repo, now, client_names=names, summaries=summaries)
    owed += await reassessment_dashboard(repo, today, summaries=summaries)
    owed += await documents_dashboard(repo, today, summaries=summaries)
    owed += await focus_dashboard(repo)
    facts = await setup_facts(repo, now, summaries=summaries, profile=profile)
    return HomePage(
        profile=profile,
        owed=ordered(owed),
        risks=await retention_risks(repo, today, clients=clients, summaries=summaries),
        setup=setup_checklist(facts),
        caseload=caseload_by_program(await repo.list(Episode)),
        days_since_backup=facts.days_since_backup,
        backup=backup_items(await repo.get_meta(LAST_BACKUP_KEY), now),
        clients=len(clients),
        today=await scheduled(repo, today, today, today, summaries=summaries),
        follow_ups=await follow_up_items(repo, today),
    )
