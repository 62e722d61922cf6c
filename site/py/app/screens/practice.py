"""Shared by the first-run screen and Settings: the practice profile form."""

from __future__ import annotations

from typing import Any

from medex.forms import Refused
from medex.services.practice import PROFILE_FIELDS, save_practice_profile

from ..core import App, action
from ..forms import refuse, texts
from ..practice_form import bind_profile

FORM = "profile"


def profile_form_values(app: App) -> dict[str, Any]:
    form = app.state.forms.get(FORM)
    if form and form.values:
        return form.values
    profile = app.state.profile
    if profile is None:
        return {k: "" for k in PROFILE_FIELDS}
    return {k: getattr(profile, k) or "" for k in PROFILE_FIELDS}


@action("save-profile")
async def save_profile(app: App, data: dict[str, Any]) -> None:
    if data.get("logo_error"):  # the chosen file was not a readable image
        form = app.form(FORM)
        form.values = {k: data.get(k, "") for k in PROFILE_FIELDS}
        form.errors = {"logo": data["logo_error"]}
        app.state.focus = "field-logo"
        return
    bound = bind_profile(data)
    try:
        profile = await save_practice_profile(app.repo, bound.command)
    except Refused as exc:
        refuse(app, FORM, texts(data, PROFILE_FIELDS), exc, bound.field)
        return
    first_run = app.state.profile is None
    app.state.profile = profile
    app.state.forms.pop(FORM, None)
    app.state.flash = "Practice profile saved."
    if first_run:
        await app.ask_persistent_storage()
        app.navigate("#/")
        app.state.flash = "Practice profile saved. Welcome to MedEx Practice."
