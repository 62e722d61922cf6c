"""The Outcomes tab's forms and their binders: starting a program, a payment or refund, and
a discharge (field names → the outcomes use cases' commands, and the forms' first values)::

    bound = bind_discharge(data, clock.today())
    await discharge_episode(app.repo, bound.command)   # Refused → refuse(..., bound.field)

The payment form's fields are named ``pay_<field>`` on the page (their ids), the command's
``amount``, ``paid_on`` …
"""

from __future__ import annotations

from datetime import date
from typing import Any

from medex.intake import Goals
from medex.programs import ProgramTemplate
from medex.services.outcomes import ClientOutcomes, DischargeEpisode, RecordPayment, StartEpisode

from .forms import Bound, text, texts


def bind_start(data: dict[str, Any], today: date) -> Bound[StartEpisode]:
    fields = ("program_id", "start_date", "baseline_deficits", "physician_follow_up")
    return Bound(
        StartEpisode(client_id=text(data, "client_id"), today=today, **texts(data, fields))
    )


def bind_payment(data: dict[str, Any], today: date) -> Bound[RecordPayment]:
    """A payment, or a refund when the Refund button was pressed."""
    command = RecordPayment(
        episode_id=text(data, "episode_id"),
        today=today,
        kind="refund" if text(data, "intent") == "refund" else "payment",
        **texts(data, ("paid_on", "amount", "method", "reference")),
    )
    return Bound(command)


def bind_discharge(data: dict[str, Any], today: date) -> Bound[DischargeEpisode]:
    command = DischargeEpisode(
        episode_id=text(data, "episode_id"),
        today=today,
        discharge_date=text(data, "discharge_date"),
        discharge_reason=text(data, "discharge_reason") or None,
        discharge_note=text(data, "discharge_note"),
    )
    return Bound(command)


def start_values(
    suggested: list[ProgramTemplate], goals: list[Goals], today: date
) -> dict[str, Any]:
    """A new program: the first suggested one, from today, with the latest goals' deficits."""
    latest = max(goals, key=lambda g: g.created_at) if goals else None
    return {
        "program_id": suggested[0].id if suggested else "",
        "start_date": today.isoformat(),
        "physician_follow_up": "",
        "baseline_deficits": "\n".join(latest.deficits) if latest else "",
    }


def discharge_values(outcomes: ClientOutcomes, today: date) -> dict[str, Any]:
    """Discharge today; "criteria met" already chosen when every criterion is met."""
    met = outcomes.criteria is not None and outcomes.criteria.overall == "met"
    return {"discharge_date": today.isoformat(), "discharge_reason": "criteria_met" if met else ""}
