"""Referral partners: the outreach log, the pipeline setting and the practice introduction
letter (printed on the letterhead, logged as a contact)."""

from __future__ import annotations

import contextlib
from typing import Any

from medex.forms import Refused
from medex.intake import ReferringProvider
from medex.partners import OUTREACH_LABELS
from medex.repository import StorageFullError
from medex.services.partners import (
    RecordIntroduction,
    introduction_letter,
    log_outreach,
    record_introduction,
    save_partner_settings,
)

from .. import clock
from ..core import App, View, action, route
from ..forms import refuse, texts
from ..partners_form import bind_outreach, bind_partner_settings
from ..render import render

OUTREACH_FORM = "outreach"
SETTINGS_FORM = "partner-settings"


def outreach_methods() -> list[tuple[str, str]]:
    return [(m.value, label) for m, label in OUTREACH_LABELS.items()]


@route("partner-letter")
async def partner_letter(app: App, params: dict[str, str]) -> View:
    provider = await app.repo.get(ReferringProvider, params.get("id", ""))
    if provider is None:
        return "views/partner_letter.html", {"provider": None, "report_html": ""}
    doc = await introduction_letter(app.repo, provider.id, clock.today())
    return "views/partner_letter.html", {
        "provider": provider,
        "doc": doc,
        "report_html": render("reports/practice_intro.html", doc=doc, demo=app.state.demo),
    }


@action("partner-letter-printed")
async def partner_letter_printed(app: App, data: dict[str, Any]) -> None:
    """Printing (or saving as PDF) the letter logs it as a contact, once a day."""
    command = RecordIntroduction(provider_id=str(data.get("provider", "")), today=clock.today())
    with contextlib.suppress(Refused, StorageFullError):  # the printout is what matters
        if await record_introduction(app.repo, command) is not None:
            app.state.flash = "Introduction letter added to the outreach log."


@action("log-outreach")
async def log_outreach_action(app: App, data: dict[str, Any]) -> None:
    provider_id = str(data.get("provider_id", ""))
    bound = bind_outreach(data, provider_id, clock.today())
    try:
        saved = await log_outreach(app.repo, bound.command)
    except Refused as exc:
        typed = {**texts(data, ("contacted_on", "method", "note", "next_follow_up"))}
        refuse(app, OUTREACH_FORM, {**typed, "provider_id": provider_id}, exc, bound.field)
        return
    app.state.forms.pop(OUTREACH_FORM, None)
    app.state.flash = f"{saved.method_label} on {saved.contacted_on.strftime('%b %-d, %Y')} logged."


@action("save-partner-settings")
async def save_partner_settings_action(app: App, data: dict[str, Any]) -> None:
    bound = bind_partner_settings(data)
    try:
        saved = await save_partner_settings(app.repo, bound.command)
    except Refused as exc:
        refuse(app, SETTINGS_FORM, texts(data, ("dormant_after_months",)), exc, bound.field)
        return
    app.state.forms.pop(SETTINGS_FORM, None)
    n = saved.dormant_after_months
    app.state.flash = (
        f"Partners are dormant after {n} month{'' if n == 1 else 's'} without a referral."
    )
