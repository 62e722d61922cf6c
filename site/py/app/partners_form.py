"""Binders of the referral partner and schedule forms: the HTML names → the typed commands."""

from __future__ import annotations

from datetime import date
from typing import Any

from medex.schedule import WEEKDAYS
from medex.services.partners import OUTREACH_FIELDS, LogOutreach, SavePartnerSettings
from medex.services.schedule import PLAN_FIELDS, SavePlan, TypedSlot

from .forms import Bound, checked, text, texts


def bind_outreach(data: dict[str, Any], provider_id: str, today: date) -> Bound[LogOutreach]:
    return Bound(LogOutreach(provider_id=provider_id, today=today, **texts(data, OUTREACH_FIELDS)))


def bind_partner_settings(data: dict[str, Any]) -> Bound[SavePartnerSettings]:
    return Bound(SavePartnerSettings(dormant_after_months=text(data, "dormant_after_months")))


# The plan form: one checkbox ``day_<n>`` and one time ``time_<n>`` per weekday (0 = Monday).
DAY_FIELDS = tuple(f"day_{n}" for n in range(len(WEEKDAYS)))
TIME_FIELDS = tuple(f"time_{n}" for n in range(len(WEEKDAYS)))


def _plan_field(path: str) -> str:
    # "slots.3.start" → "time_3"; "slots" (no day ticked) → the first day's box.
    parts = path.split(".")
    if parts[0] == "slots":
        return f"time_{parts[1]}" if len(parts) > 2 else "day_0"
    return path


def bind_plan(data: dict[str, Any], client_id: str) -> Bound[SavePlan]:
    slots = [
        TypedSlot(weekday=n, start=text(data, f"time_{n}"))
        for n in range(len(WEEKDAYS))
        if checked(data, f"day_{n}")
    ]
    return Bound(
        SavePlan(client_id=client_id, slots=slots, **texts(data, PLAN_FIELDS)), _plan_field
    )


def plan_values(data: dict[str, Any]) -> dict[str, Any]:
    """What was typed in the plan form, kept when it is refused."""
    values: dict[str, Any] = texts(data, (*PLAN_FIELDS, *TIME_FIELDS))
    values.update({f: checked(data, f) for f in DAY_FIELDS})
    return values
