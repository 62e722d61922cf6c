"""Referral partners: the physicians and clinics a practice wins referrals from, as a pipeline.

Referrals "come in waves — then disappear" when nobody keeps in touch with the people who
send them. Each referring provider is at one stage, derived from the records wherever it
can be, never typed by hand:

- **prospect**: no referral from them and no contact logged yet;
- **introduced**: contacted (an outreach logged: a letter, a call, a visit, an e-mail), no
  referral yet;
- **referring**: a referral names them, the last one less than ``dormant_after_months`` ago;
- **dormant**: their last referral is ``dormant_after_months`` or more ago (a practice
  setting, 6 months unless changed).

The outreach log keeps each contact (date, how, a note) with the next follow-up it set; the
partner's next follow-up is the one set by their latest contact. Pure: the caller reads the
records (``medex.services.partners``).
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .records import LongText, Record, RequiredText

DEFAULT_DORMANT_MONTHS = 6
PARTNER_SETTINGS_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "medex:settings:partners"))


class OutreachMethod(StrEnum):
    LETTER = "letter"
    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"


OUTREACH_LABELS: dict[OutreachMethod, str] = {
    OutreachMethod.LETTER: "Letter",
    OutreachMethod.CALL: "Call",
    OutreachMethod.VISIT: "Visit",
    OutreachMethod.EMAIL: "E-mail",
}


class PartnerStage(StrEnum):
    PROSPECT = "prospect"
    INTRODUCED = "introduced"
    REFERRING = "referring"
    DORMANT = "dormant"


STAGE_LABELS: dict[PartnerStage, str] = {
    PartnerStage.PROSPECT: "Prospect",
    PartnerStage.INTRODUCED: "Introduced",
    PartnerStage.REFERRING: "Referring",
    PartnerStage.DORMANT: "Dormant",
}

INTRODUCTION_NOTE = "Practice introduction letter with our caseload outcomes"


def _today(info: ValidationInfo) -> date:
    ctx = info.context or {}
    today = ctx.get("today")
    return today if isinstance(today, date) else date.today()


class Outreach(Record):
    """One contact with a referral partner, and the follow-up it set."""

    store: ClassVar[str] = "outreach"

    provider_id: RequiredText
    contacted_on: date
    method: OutreachMethod
    note: LongText = ""
    next_follow_up: date | None = None
    # The practice introduction letter (printed with the caseload outcomes as evidence).
    introduction_letter: bool = False

    @field_validator("next_follow_up", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("contacted_on")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        if value > _today(info):
            raise ValueError("The contact date cannot be in the future")
        return value

    @model_validator(mode="after")
    def _follow_up_after(self) -> Outreach:
        if self.next_follow_up is not None and self.next_follow_up < self.contacted_on:
            raise ValueError("The next follow-up cannot be before the contact")
        return self

    @property
    def method_label(self) -> str:
        return OUTREACH_LABELS[self.method]


class PartnerSettings(Record):
    """How the practice runs its referral pipeline (one record, in the settings store)."""

    store: ClassVar[str] = "settings"

    id: str = PARTNER_SETTINGS_ID
    dormant_after_months: int = Field(default=DEFAULT_DORMANT_MONTHS, ge=1, le=36)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day when shorter):
    Aug 31 + 6 months = Feb 28 (29 in a leap year)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class PartnerStatus:
    stage: PartnerStage
    referrals: int
    last_referral: date | None
    dormant_since: date | None  # the day they became dormant (last referral + N months)
    last_contact: date | None
    next_follow_up: date | None
    follow_up_due: bool  # the next follow-up is today or past

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]


def latest_outreach(outreach: Iterable[Outreach]) -> Outreach | None:
    items = list(outreach)
    return max(items, key=lambda o: (o.contacted_on, o.created_at)) if items else None


def partner_status(
    referral_dates: Sequence[date],
    outreach: Sequence[Outreach],
    today: date,
    dormant_after_months: int = DEFAULT_DORMANT_MONTHS,
    other_contacts: Sequence[date] = (),
) -> PartnerStatus:
    """The partner's stage and follow-up from their referrals and the contacts with them.

    ``other_contacts``: days the practice was otherwise in touch (a report sent to them);
    they count as the last contact, not as outreach.
    """
    last_referral = max(referral_dates, default=None)
    dormant_since = None
    if last_referral is not None:
        dormant_since = add_months(last_referral, dormant_after_months)
        stage = PartnerStage.DORMANT if dormant_since <= today else PartnerStage.REFERRING
        if stage is PartnerStage.REFERRING:
            dormant_since = None
    elif outreach:
        stage = PartnerStage.INTRODUCED
    else:
        stage = PartnerStage.PROSPECT
    contacts = [o.contacted_on for o in outreach] + [d for d in other_contacts if d <= today]
    latest = latest_outreach(outreach)
    follow_up = latest.next_follow_up if latest else None
    return PartnerStatus(
        stage=stage,
        referrals=len(referral_dates),
        last_referral=last_referral,
        dormant_since=dormant_since,
        last_contact=max(contacts, default=None),
        next_follow_up=follow_up,
        follow_up_due=follow_up is not None and follow_up <= today,
    )


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A referral partner to get back in touch with today."""

    provider_id: str
    name: str
    stage: PartnerStage
    reason: str
    since: date  # the day it became due (for ordering: the oldest first)


def follow_up_needed(
    provider_id: str, name: str, status: PartnerStatus, today: date
) -> FollowUp | None:
    """Due: the follow-up date set at the last contact has come; or the partner went dormant
    and nobody has been in touch since (no follow-up planned after it)."""
    if status.follow_up_due and status.next_follow_up is not None:
        when = status.next_follow_up
        reason = (
            "Follow-up planned for today"
            if when == today
            else f"Follow-up planned for {when.strftime('%b %-d, %Y')}"
        )
        return FollowUp(provider_id, name, status.stage, reason, when)
    if (
        status.stage is PartnerStage.DORMANT
        and status.dormant_since is not None
        and status.next_follow_up is None
        and (status.last_contact is None or status.last_contact < status.dormant_since)
    ):
        last = status.last_referral
        assert last is not None
        return FollowUp(
            provider_id,
            name,
            status.stage,
            f"No referral since {last.strftime('%b %-d, %Y')}: get back in touch",
            status.dormant_since,
        )
    return None
