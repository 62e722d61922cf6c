"""The caseload over the Repository: one ``CaseloadEntry`` per client with a program or an
assessment (their current program, as ``client_outcomes`` chooses it), and a provider's
roster for the outcomes summary letter built in the same pass, so the letter, the provider
page and the caseload screen show the same numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..assessments import Assessment
from ..caseload import (
    CaseloadEntry,
    CaseloadGroup,
    Dimension,
    change_from_row,
    condition_of,
    group_by,
    summarise,
)
from ..documents import letterhead, measure_row
from ..intake import Client, Referral, ReferringProvider
from ..programs import Episode
from ..repository import Repository
from .outcomes import ClientOutcomes, client_outcomes
from .practice import load_document_settings, load_practice_profile


def entry_for(
    oc: ClientOutcomes, provider: ReferringProvider | None, referral: Referral | None
) -> CaseloadEntry:
    """A client's caseload entry from their outcomes (pure)."""
    ep = oc.episode
    criteria = None
    if oc.criteria is not None and oc.criteria.results:
        criteria = oc.criteria.overall
    condition, label = condition_of(referral.diagnoses if referral else [])
    changes = tuple(c for c in (change_from_row(r) for r in oc.rows) if c is not None)
    return CaseloadEntry(
        client_id=oc.client.id,
        provider_id=provider.id if provider else "",
        provider_name=provider.display_name if provider else "",
        program=ep.program.name if ep else "",
        condition=condition,
        condition_label=label,
        status=("active" if ep.is_active else "discharged") if ep else "none",
        criteria=criteria,
        changes=changes,
    )


async def _latest_referrals(repo: Repository) -> dict[str, Referral]:
    latest: dict[str, Referral] = {}
    for r in sorted(await repo.list(Referral), key=lambda r: (r.referred_on, r.created_at)):
        latest[r.client_id] = r
    return latest


async def _outcomes(
    repo: Repository, today: date, provider_id: str | None
) -> list[tuple[Client, ClientOutcomes, CaseloadEntry]]:
    providers = {p.id: p for p in await repo.list(ReferringProvider)}
    referrals = await _latest_referrals(repo)
    with_data = {e.client_id for e in await repo.list(Episode)}
    with_data |= {a.client_id for a in await repo.list(Assessment)}
    clients = await repo.list(Client)
    if provider_id is not None:
        clients = [c for c in clients if (c.provider_id or "") == provider_id]
    out = []
    for c in sorted(clients, key=lambda c: c.sort_name):
        if c.id not in with_data:
            continue
        oc = await client_outcomes(repo, c.id, today)
        entry = entry_for(oc, providers.get(c.provider_id or ""), referrals.get(c.id))
        out.append((c, oc, entry))
    return out


async def caseload_entries(
    repo: Repository, today: date, *, provider_id: str | None = None
) -> list[CaseloadEntry]:
    """Every client with a program or an assessment (only a provider's, when given)."""
    return [entry for _c, _oc, entry in await _outcomes(repo, today, provider_id)]


async def provider_caseload(
    repo: Repository, provider_id: str, today: date
) -> tuple[list[dict[str, Any]], CaseloadGroup]:
    """A provider's referred clients (roster rows for the outcomes letter) and the summary
    across them (the same numbers as the caseload screen's row for this provider)."""
    found = {c.id: (oc, e) for c, oc, e in await _outcomes(repo, today, provider_id)}
    roster = []
    entries = []
    clients = [c for c in await repo.list(Client) if (c.provider_id or "") == provider_id]
    for c in sorted(clients, key=lambda c: c.sort_name):
        oc, entry = found.get(c.id, (None, None))
        if entry is not None:
            entries.append(entry)
        roster.append(
            {
                "client_id": c.id,
                "name": c.full_name,
                "status": c.status_label,
                "program": oc.episode.program.name if oc and oc.episode else "",
                "measures": [measure_row(r) for r in oc.rows] if oc else [],
                "criteria_met": (
                    (entry.criteria == "met") if entry and entry.criteria is not None else None
                ),
            }
        )
    return roster, summarise(entries, provider_id, "")


BY_LABELS: dict[Dimension, str] = {
    "program": "program",
    "condition": "condition",
    "provider": "referral source",
}


async def caseload_report(
    repo: Repository, today: date, *, by: str = "program", provider_id: str = ""
) -> dict[str, Any]:
    """The caseload table as plain data for ``templates/reports/caseload.html``: all clients
    first, then one group per program / condition / referral source. With ``provider_id``
    only that provider's clients."""
    dimension: Dimension = next((d for d in BY_LABELS if d == by), "program")
    entries = await caseload_entries(repo, today, provider_id=provider_id or None)
    provider = await repo.get(ReferringProvider, provider_id) if provider_id else None
    profile = await load_practice_profile(repo)
    settings = await load_document_settings(repo)
    groups = group_by(entries, dimension)
    return {
        "kind": "caseload",
        "title": "Caseload outcomes",
        "one_page": False,
        "date": today.isoformat(),
        "paper": settings.paper,
        "letterhead": letterhead(profile),
        "client": None,
        "provider": None,
        "provider_name": provider.display_name if provider else "",
        "by": dimension,
        "by_label": BY_LABELS[dimension],
        "overall": summarise(entries, "", "All clients").as_dict(),
        "groups": [g.as_dict() for g in groups],
        "scope_statement": settings.statement(profile.business_name if profile else ""),
        "signature": {
            "name": profile.practitioner_name if profile else "",
            "credentials": profile.credentials if profile else "",
        },
    }
