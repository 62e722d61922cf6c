"""Settings: the practice profile (letterhead) and the device's storage."""

from __future__ import annotations

from typing import Any

from medex.services.client_turn import practice_pin_set
from medex.storage import persistence_answer

from ..core import App, View, action, route
from .practice import profile_form_values


@route("settings", label="Settings", order=90)
async def settings(app: App, params: dict[str, str]) -> View:
    form = app.state.forms.get("profile")
    app.state.storage = await app.platform.storage_info()  # the space left, as of now
    return "views/settings.html", {
        "values": profile_form_values(app),
        "errors": form.errors if form else {},
        "profile": app.state.profile,
        "storage": app.state.storage,
        "pin_set": await practice_pin_set(app.repo),
    }


@action("request-persistent-storage")
async def request_persistent_storage(app: App, data: dict[str, Any]) -> None:
    granted = await app.platform.request_persistent_storage()
    app.state.storage = await app.platform.storage_info()
    app.state.flash = persistence_answer(granted)
