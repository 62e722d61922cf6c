"""Focus at intake: the referral section flags diagnoses outside the practice's programs and
records the practitioner's choice (accept anyway / refer on) on the referral."""

from __future__ import annotations

from typing import Any

from medex.focus import FOCUS_DECISION_LABELS, FocusDecision, outside_programs
from medex.forms import Refused
from medex.intake import Referral
from medex.services.focus import DecideFocus, decide_focus, is_outside
from medex.services.outcomes import list_programs

from ..core import App, action


async def focus_context(
    app: App, chosen: list[dict[str, Any]], referrals: list[Referral]
) -> dict[str, Any]:
    """For the referral section: are the codes being chosen outside every program, and which
    saved referrals are (with the choice made)."""
    programs = await list_programs(app.repo)
    return {
        "chosen_outside": outside_programs([d["code"] for d in chosen], programs),
        "outside": {r.id: is_outside(r, programs) for r in referrals},
        "focus_labels": {d.value: label for d, label in FOCUS_DECISION_LABELS.items()},
    }


@action("decide-focus")
async def decide_focus_action(app: App, data: dict[str, Any]) -> None:
    try:
        decision = FocusDecision(str(data.get("decision", "")))
    except ValueError:
        app.state.flash = "Choose: accept anyway, or refer on."
        return
    try:
        referral = await decide_focus(
            app.repo, DecideFocus(referral_id=str(data.get("referral_id", "")), decision=decision)
        )
    except Refused as exc:
        app.state.flash = next(iter(exc.errors.values()))
        return
    app.state.flash = (
        "Recorded: accepted although it is outside your programs."
        if referral.focus_decision == FocusDecision.ACCEPTED.value
        else "Recorded: referred on. Let the physician know who you referred the client to."
    )
