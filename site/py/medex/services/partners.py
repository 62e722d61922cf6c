"""Referral partners: the pipeline, the outreach log, the follow-ups due and the practice
introduction letter (the caseload's outcomes as evidence, on the letterhead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from ..caseload import group_by, summarise
from ..dashboard import DashboardItem
from ..documents import Communication, Owed, letterhead
from ..forms import Refused, clean_form
from ..intake import Client, Referral, ReferringProvider
from ..letters import salutation
from ..navigation import Screen
from ..partners import (
    INTRODUCTION_NOTE,
    FollowUp,
    Outreach,
    OutreachMethod,
    PartnerSettings,
    PartnerStatus,
    follow_up_needed,
    latest_outreach,
    partner_status,
)
from ..records import utc_now
from ..repository import Repository
from .caseload import caseload_entries
from .practice import load_document_settings, load_practice_profile

# After an introduction letter, a call to follow it up (unless one is planned already).
LETTER_FOLLOW_UP_DAYS = 14


class LogOutreach(BaseModel):
    """A contact with a referral partner, as typed: when, how, a note, the next follow-up."""

    provider_id: str
    contacted_on: str = ""
    method: str = ""
    note: str = ""
    next_follow_up: str = ""
    today: date


OUTREACH_FIELDS = ("contacted_on", "method", "note", "next_follow_up")


class SavePartnerSettings(BaseModel):
    dormant_after_months: str = ""


class RecordIntroduction(BaseModel):
    """The practice introduction letter was printed (or sent) to ``provider_id`` today."""

    provider_id: str
    today: date
    method: OutreachMethod = OutreachMethod.LETTER


async def load_partner_settings(repo: Repository) -> PartnerSettings:
    found = await repo.get(PartnerSettings, PartnerSettings.model_fields["id"].default)
    return found or PartnerSettings()


async def save_partner_settings(repo: Repository, command: SavePartnerSettings) -> PartnerSettings:
    current = await repo.get(PartnerSettings, PartnerSettings.model_fields["id"].default)
    raw = command.dormant_after_months.strip()
    if not raw:
        raise Refused({"dormant_after_months": "Enter a number of months"})
    try:
        months = int(raw)
    except ValueError:
        raise Refused({"dormant_after_months": "Enter a whole number of months"}) from None
    try:
        settings = PartnerSettings(
            dormant_after_months=months,
            **({"created_at": current.created_at, "updated_at": utc_now()} if current else {}),
        )
    except ValidationError as exc:
        raise Refused({"dormant_after_months": "Between 1 and 36 months"}) from exc
    await repo.save(settings)
    return settings


async def log_outreach(repo: Repository, command: LogOutreach) -> Outreach:
    """Add a contact to the partner's outreach log."""
    if await repo.get(ReferringProvider, command.provider_id) is None:
        raise Refused({"__all__": "This referral partner could not be found."})
    data = clean_form(command.model_dump(include=set(OUTREACH_FIELDS)))
    if not data.get("contacted_on"):
        raise Refused({"contacted_on": "Enter the date of the contact"})
    if not data.get("method"):
        raise Refused({"method": "Choose how you were in touch"})
    try:
        outreach = Outreach.model_validate(
            {**data, "provider_id": command.provider_id}, context={"today": command.today}
        )
    except ValidationError as exc:
        raise Refused.invalid(
            exc, {"The next follow-up cannot be before the contact": "next_follow_up"}
        ) from exc
    await repo.save(outreach)
    return outreach


async def record_introduction(repo: Repository, command: RecordIntroduction) -> Outreach | None:
    """Log the introduction letter in the outreach log, once a day (printing it again the
    same day adds nothing); None when it was logged already."""
    if await repo.get(ReferringProvider, command.provider_id) is None:
        raise Refused({"__all__": "This referral partner could not be found."})
    logged = await repo.find(Outreach, "provider_id", command.provider_id)
    for o in logged:
        if o.introduction_letter and o.contacted_on == command.today:
            return None
    # A follow-up already planned stays; else a call two weeks after the letter.
    latest = latest_outreach(logged)
    pending = latest.next_follow_up if latest else None
    follow_up = pending or command.today + timedelta(days=LETTER_FOLLOW_UP_DAYS)
    outreach = Outreach.model_validate(
        {
            "provider_id": command.provider_id,
            "contacted_on": command.today,
            "method": command.method,
            "note": INTRODUCTION_NOTE,
            "introduction_letter": True,
            "next_follow_up": max(follow_up, command.today),
        },
        context={"today": command.today},
    )
    await repo.save(outreach)
    return outreach


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    provider: ReferringProvider
    status: PartnerStatus
    clients: int


class _ReferralDate(BaseModel):
    """What the pipeline reads of a referral (not the whole record: one per client)."""

    id: str  # the tab keeps a store's projection up to date with its own writes by id
    provider_id: str = ""
    referred_on: date


async def _referral_dates(repo: Repository) -> dict[str, list[date]]:
    out: dict[str, list[date]] = {}
    for r in await repo.project(_ReferralDate, Referral.store):
        out.setdefault(r.provider_id, []).append(r.referred_on)
    return out


async def _outreach(repo: Repository) -> dict[str, list[Outreach]]:
    out: dict[str, list[Outreach]] = {}
    for o in await repo.list(Outreach):
        out.setdefault(o.provider_id, []).append(o)
    return out


async def _sent(repo: Repository) -> dict[str, list[date]]:
    out: dict[str, list[date]] = {}
    for c in await repo.list(Communication):
        if c.sent_on is not None and c.provider_id:
            out.setdefault(c.provider_id, []).append(c.sent_on)
    return out


async def partners(repo: Repository, today: date, *, count_clients: bool = True) -> list[Partner]:
    """Every referring provider with their pipeline status, by name (and the clients each
    referred, unless ``count_clients`` is False: 0 then)."""
    settings = await load_partner_settings(repo)
    referrals, outreach, sent = (
        await _referral_dates(repo),
        await _outreach(repo),
        await _sent(repo),
    )
    counts: dict[str, int] = {}
    for c in await repo.list(Client) if count_clients else []:
        if c.provider_id:
            counts[c.provider_id] = counts.get(c.provider_id, 0) + 1
    out = []
    for p in await repo.list(ReferringProvider):
        status = partner_status(
            referrals.get(p.id, []),
            outreach.get(p.id, []),
            today,
            settings.dormant_after_months,
            sent.get(p.id, []),
        )
        out.append(Partner(p, status, counts.get(p.id, 0)))
    return sorted(out, key=lambda x: x.provider.name.lower())


async def partner(repo: Repository, provider_id: str, today: date) -> Partner | None:
    return next((p for p in await partners(repo, today) if p.provider.id == provider_id), None)


async def outreach_log(repo: Repository, provider_id: str) -> list[Outreach]:
    """Newest first."""
    found = await repo.find(Outreach, "provider_id", provider_id)
    return sorted(found, key=lambda o: (o.contacted_on, o.created_at), reverse=True)


async def introduction_letters(repo: Repository) -> int:
    """Practice introduction letters printed for referral partners (the set-up step)."""
    return sum(1 for o in await repo.list(Outreach) if o.introduction_letter)


async def follow_ups_due(repo: Repository, today: date) -> list[FollowUp]:
    """Referral partners to get back in touch with, the longest waiting first."""
    due = [
        f
        for p in await partners(repo, today, count_clients=False)
        if (f := follow_up_needed(p.provider.id, p.provider.display_name, p.status, today))
    ]
    return sorted(due, key=lambda f: (f.since, f.name.lower()))


async def follow_up_items(repo: Repository, today: date) -> list[DashboardItem]:
    """The home screen's "Referral follow-ups due"."""
    return [
        DashboardItem(
            kind="partner_follow_up",
            title=f"Follow up with {f.name}",
            detail=f.reason,
            link=Screen("provider", {"id": f.provider_id}),
            link_label="Log the contact",
            severity="due",
        )
        for f in await follow_ups_due(repo, today)
    ]


def owed_to(owed: list[Owed], provider_id: str, today: date) -> list[Owed]:
    """The reports owed to this partner now (due or overdue)."""
    return [o for o in owed if o.provider_id == provider_id and o.due_on <= today]


# -- the practice introduction letter ------------------------------------------------------------


INTRO_CONDITIONS = 4  # conditions shown in the introduction letter (one page)


async def introduction_letter(repo: Repository, provider_id: str, today: date) -> dict[str, Any]:
    """The letter's content as plain data for ``templates/reports/practice_intro.html``: the
    practice's caseload outcomes (clients discharged, share meeting the discharge criteria,
    mean change on the main measures) overall and by condition."""
    provider = await repo.get(ReferringProvider, provider_id)
    if provider is None:
        raise KeyError(provider_id)
    entries = await caseload_entries(repo, today)
    profile = await load_practice_profile(repo)
    settings = await load_document_settings(repo)
    overall = summarise(entries, "", "All clients")
    # Largest first (group_by): the letter is one page, so the conditions with most clients.
    by_condition = [g for g in group_by(entries, "condition") if g.key and g.measures]
    return {
        "kind": "practice_intro",
        "title": "Introducing our practice",
        "one_page": True,
        "date": today.isoformat(),
        "paper": settings.paper,
        "letterhead": letterhead(profile),
        "client": None,
        "provider": {
            "display_name": provider.display_name,
            "practice": provider.practice,
            "fax": provider.fax,
            "salutation": salutation(provider.name, provider.credentials),
        },
        "clients": overall.clients,
        "discharged": sum(e.status == "discharged" for e in entries),
        "overall": overall.as_dict(),
        "main_measures": [m.as_dict() for m in overall.measures[:5]],
        "conditions": [
            {**g.as_dict(), "measures": [m.as_dict() for m in g.measures[:3]]}
            for g in by_condition[:INTRO_CONDITIONS]
        ],
        "scope_statement": settings.statement(profile.business_name if profile else ""),
        "signature": {
            "name": profile.practitioner_name if profile else "",
            "credentials": profile.credentials if profile else "",
        },
    }
