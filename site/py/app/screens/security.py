"""Settings → Security: encryption at rest with a passphrase, lock and unlock, auto-lock.

The cryptography lives in js/store.js (WebCrypto; the data key never reaches Python). This
screen asks for passphrases, runs the store-by-store re-write with a progress bar, and shows
the recovery key once, to print.
"""

from __future__ import annotations

import contextlib
from typing import Any

from medex.client_turn import TURN_META_KEY
from medex.repository import StorageFullError
from medex.services.data import AUTO_LOCK_DEFAULT_MINUTES, passphrase_problem, store_label

from ..core import App, View, action, route
from ..render import href

IDLE_CHOICES = (0, 2, 5, 10, 15, 30, 60)
IDLE_DEFAULT = AUTO_LOCK_DEFAULT_MINUTES
STATE_WORDS = {
    "off": "Off: records are stored as plain data in this browser.",
    "on": "On: every record is encrypted on this device.",
    "encrypting": "Being turned on (interrupted): it continues when you unlock.",
    "decrypting": "Being turned off (interrupted): it continues when you unlock.",
}


async def _audit(app: App, action_word: str) -> None:
    with contextlib.suppress(StorageFullError):
        await app.repo.write([], [(action_word, "", "")])


def _errors(app: App, name: str, errors: dict[str, str]) -> None:
    app.form(name).errors = errors
    app.state.focus = f"field-{next(iter(errors))}"


@route("security")
async def security(app: App, params: dict[str, str]) -> View:
    status = app.platform.crypto_status()
    idle = await app.repo.get_meta("idle_minutes")
    forms = {
        n: (app.state.forms[n].errors if n in app.state.forms else {})
        for n in ("encrypt", "decrypt", "passphrase")
    }
    return "views/security.html", {
        "status": status,
        "state_words": STATE_WORDS.get(status["state"], status["state"]),
        "idle": IDLE_DEFAULT if idle is None else idle,
        "idle_choices": IDLE_CHOICES,
        "errors": forms,
        "recovery_key": app.state.pending.get("recovery_key"),
        "progress": app.state.progress,
    }


async def run_migration(app: App, word: str) -> str:
    """Re-write every store (one transaction each) towards the run's target, then finish."""
    stores = app.platform.migration_stores()
    try:
        for i, store in enumerate(stores):
            await app.show_progress(f"{word}: {store_label(store)}", i, len(stores))
            await app.platform.migrate_store(store)
        state = await app.platform.finish_migration()
        await app.platform.reseal_signing_key()  # no usable plain key once encrypted
        return state
    finally:
        app.state.progress = {}


@action("encryption-on")
async def encryption_on(app: App, data: dict[str, Any]) -> None:
    app.state.forms.pop("encrypt", None)
    if app.state.demo:  # the demo's database is thrown away: set up the passphrase for yours
        return _errors(
            app,
            "encrypt",
            {
                "new_passphrase": "The demo practice cannot be locked. Remove the demo, set up "
                "your practice, then turn on the passphrase lock."
            },
        )
    problem = passphrase_problem(
        str(data.get("new_passphrase", "")), str(data.get("new_confirm", ""))
    )
    if problem:
        return _errors(app, "encrypt", {"new_passphrase": problem})
    await app.show_progress("Protecting the passphrase (this takes a moment)")
    recovery = await app.platform.setup_encryption(str(data["new_passphrase"]))
    await run_migration(app, "Encrypting")
    minutes = await app.repo.get_meta("idle_minutes")
    app.platform.set_idle_lock(IDLE_DEFAULT if minutes is None else int(minutes))
    await _audit(app, "encrypt")
    app.state.pending["recovery_key"] = recovery
    app.state.flash = (
        "Encryption is on. Print or write down the recovery key below now: it is shown only once."
    )
    app.state.focus = "recovery-key"


@action("recovery-key-done")
async def recovery_key_done(app: App, data: dict[str, Any]) -> None:
    app.state.pending.pop("recovery_key", None)


@action("print-page")
async def print_page(app: App, data: dict[str, Any]) -> None:
    app.platform.print_page()


@action("encryption-off")
async def encryption_off(app: App, data: dict[str, Any]) -> None:
    app.state.forms.pop("decrypt", None)
    if not await app.platform.unlock(str(data.get("current_passphrase", ""))):
        return _errors(
            app,
            "decrypt",
            {"current_passphrase": "This is not your passphrase. Nothing was changed."},
        )
    await app.platform.start_decryption()
    await run_migration(app, "Decrypting")
    await _audit(app, "decrypt")
    app.state.flash = "Encryption is off: records are stored as plain data on this device."


@action("change-passphrase")
async def change_passphrase(app: App, data: dict[str, Any]) -> None:
    app.state.forms.pop("passphrase", None)
    new = str(data.get("changed_passphrase", ""))
    problem = passphrase_problem(new, str(data.get("changed_confirm", "")))
    if problem:
        return _errors(app, "passphrase", {"changed_passphrase": problem})
    await app.show_progress("Changing the passphrase")
    ok = await app.platform.change_passphrase(str(data.get("old_passphrase", "")), new)
    app.state.progress = {}
    if not ok:
        return _errors(
            app,
            "passphrase",
            {"old_passphrase": "This is not your current passphrase. Nothing was changed."},
        )
    await _audit(app, "passphrase-change")
    app.state.flash = "Passphrase changed. Your recovery key still works."


@action("set-idle-lock")
async def set_idle_lock(app: App, data: dict[str, Any]) -> None:
    try:
        minutes = int(data.get("idle_minutes", IDLE_DEFAULT))
    except ValueError:
        minutes = IDLE_DEFAULT
    if minutes not in IDLE_CHOICES:
        minutes = IDLE_DEFAULT
    await app.repo.set_meta("idle_minutes", minutes)
    app.platform.set_idle_lock(minutes)
    app.state.flash = (
        f"The app locks itself after {minutes} minutes without use."
        if minutes
        else "Automatic locking is off."
    )


@action("lock-now")
async def lock_now(app: App, data: dict[str, Any]) -> None:
    await _audit(app, "lock")
    app.platform.lock()  # the shell hears it and forgets every record


@action("unlock")
async def unlock(app: App, data: dict[str, Any]) -> None:
    app.state.forms.pop("unlock", None)
    secret = str(data.get("secret", ""))
    if not secret or not await app.platform.unlock(secret):
        app.form("unlock").errors = {
            "secret": "This passphrase does not open your records. Nothing was changed; "
            "check it (capital letters count) and try again."
        }
        app.state.focus = "field-secret"
        return
    app.state.locked = False
    state = app.platform.crypto_status()["state"]
    if state in ("encrypting", "decrypting"):  # an interrupted run: finish it now
        await run_migration(app, "Encrypting" if state == "encrypting" else "Decrypting")
    await app.load()
    await _audit(app, "unlock")
    turn = app.state.client_turn
    if turn is not None and turn.phase == "locked":  # the passphrase also ends a finished turn
        await app.repo.delete_meta(TURN_META_KEY)
        app.state.client_turn = None
        app.navigate(href("client-outcomes", {"id": turn.client_id}))
