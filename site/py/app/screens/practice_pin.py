"""Settings → Practice PIN: the PIN that unlocks the tablet after a client's turn when no
passphrase is set. Set it, change it (the current PIN, or the passphrase, is needed), or
remove it. A PIN is never typed back into the page."""

from __future__ import annotations

from typing import Any

from medex.forms import Refused
from medex.services.client_turn import (
    RemovePracticePin,
    SetPracticePin,
    practice_pin_set,
    remove_practice_pin,
    set_practice_pin,
)

from ..core import App, View, action, route
from ..forms import fail, text, typed
from ..render import href

FORM = "practice-pin"
REMOVE_FORM = "practice-pin-remove"


def _passphrase_on(app: App) -> bool:
    return bool(app.platform.crypto_status().get("enabled"))


async def _passphrase_ok(app: App, current: str) -> bool | None:
    """The current secret checked as the passphrase (None when the passphrase lock is off)."""
    if not _passphrase_on(app):
        return None
    return bool(current) and await app.platform.unlock(current)


@route("practice-pin")
async def practice_pin(app: App, params: dict[str, str]) -> View:
    _, errors = typed(app, FORM)
    _, remove_errors = typed(app, REMOVE_FORM)
    return "views/practice_pin.html", {
        "pin_set": await practice_pin_set(app.repo),
        "passphrase_on": _passphrase_on(app),
        "errors": errors,
        "remove_errors": remove_errors,
        "back": params.get("back", ""),
    }


@action("set-practice-pin")
async def set_practice_pin_action(app: App, data: dict[str, Any]) -> None:
    current = text(data, "current").strip()
    pin_set = await practice_pin_set(app.repo)
    try:
        await set_practice_pin(
            app.repo,
            SetPracticePin(
                current=current,
                pin=text(data, "pin"),
                confirm=text(data, "confirm"),
                passphrase_ok=await _passphrase_ok(app, current) if pin_set else None,
            ),
        )
    except Refused as exc:
        fail(app, FORM, {}, exc.errors)
        return
    app.state.forms.pop(FORM, None)
    app.state.forms.pop(REMOVE_FORM, None)
    back = text(data, "back")
    if back:  # set from the hand-over screen: back to it
        app.navigate(href("client-turn-setup", {"id": back}))
    app.state.flash = (
        "Practice PIN changed." if pin_set else "Practice PIN saved."
    ) + " Only this PIN unlocks the tablet after a client's turn."


@action("remove-practice-pin")
async def remove_practice_pin_action(app: App, data: dict[str, Any]) -> None:
    current = text(data, "current_remove").strip()
    try:
        await remove_practice_pin(
            app.repo,
            RemovePracticePin(current=current, passphrase_ok=await _passphrase_ok(app, current)),
        )
    except Refused as exc:
        fail(app, REMOVE_FORM, {}, {f"{k}_remove": v for k, v in exc.errors.items()})
        return
    app.state.forms.pop(REMOVE_FORM, None)
    app.state.forms.pop(FORM, None)
    app.state.flash = "Practice PIN removed." + (
        "" if _passphrase_on(app) else " A client's turn needs a PIN (or the passphrase lock)."
    )
