"""Focus at intake: the referrals outside the practice's programs and the practitioner's
choice for each (accept anyway, or refer on), recorded on the referral."""

from __future__ import annotations

from pydantic import BaseModel

from ..dashboard import DashboardItem
from ..focus import FOCUS_DECISION_LABELS, OUTSIDE_PROGRAMS, FocusDecision, outside_programs
from ..forms import Refused
from ..intake import Client, ClientStatus, Referral
from ..navigation import Screen
from ..programs import ProgramTemplate
from ..records import utc_now
from ..repository import Repository
from .outcomes import list_programs


class DecideFocus(BaseModel):
    """The practitioner's choice for a referral outside the practice's programs."""

    referral_id: str
    decision: FocusDecision


async def decide_focus(repo: Repository, command: DecideFocus) -> Referral:
    referral = await repo.get(Referral, command.referral_id)
    if referral is None:
        raise Refused({"__all__": "This referral could not be found."})
    updated = referral.model_copy(
        update={"focus_decision": command.decision.value, "updated_at": utc_now()}
    )
    await repo.save(updated)
    return updated


def is_outside(referral: Referral, programs: list[ProgramTemplate]) -> bool:
    return outside_programs([d.code for d in referral.diagnoses], programs)


def decision_label(referral: Referral) -> str:
    if referral.focus_decision is None:
        return ""
    return FOCUS_DECISION_LABELS[FocusDecision(referral.focus_decision)]


async def outside_referrals(repo: Repository) -> dict[str, bool]:
    """Referral id → outside the practice's programs (for the client's referral cards)."""
    programs = await list_programs(repo)
    return {r.id: is_outside(r, programs) for r in await repo.list(Referral)}


def focus_items(
    referrals: list[Referral], programs: list[ProgramTemplate], clients: dict[str, Client]
) -> list[DashboardItem]:
    """Each client's latest referral that is outside every program and not yet decided
    (discharged clients left out)."""
    latest: dict[str, Referral] = {}
    for r in referrals:
        seen = latest.get(r.client_id)
        if seen is None or (r.referred_on, r.created_at) > (seen.referred_on, seen.created_at):
            latest[r.client_id] = r
    items = []
    for client_id, r in latest.items():
        client = clients.get(client_id)
        if client is None or client.status == ClientStatus.DISCHARGED:
            continue
        if r.focus_decision is None and is_outside(r, programs):
            items.append(focus_item(client_id, client.full_name, [d.code for d in r.diagnoses]))
    return items


def focus_item(client_id: str, name: str, codes: list[str]) -> DashboardItem:
    """A referral outside every program, waiting for the practitioner's decision."""
    return DashboardItem(
        kind="focus",
        title=f"{OUTSIDE_PROGRAMS}: {name}",
        detail=f"The referral ({', '.join(codes)}) matches none of your programs. Accept it "
        "anyway, or refer on to a professional who specialises in it.",
        link=Screen("client", {"id": client_id, "section": "referral"}),
        link_label="Decide",
        severity="due",
    )


async def focus_dashboard(repo: Repository) -> list[DashboardItem]:
    clients = {c.id: c for c in await repo.list(Client)}
    return focus_items(await repo.list(Referral), await list_programs(repo), clients)
