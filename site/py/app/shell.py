"""PyScript entry of the app: wire the DOM to the DOM-free App (``core``) and start."""

from __future__ import annotations

import asyncio
import traceback

import js
from pyodide.ffi import create_proxy, jsnull, to_js
from pyscript.js_modules import medex_store

from medex.repository import StorageFullError

from . import browser, core
from .drafts import Drafts, is_final_submit

boot = js.window.medexBoot
app: core.App | None = None
drafts: Drafts | None = None
_busy: set[str] = set()
_pending: set[asyncio.Task] = set()
_proxies: list = []  # event listeners live as long as the page


def _absent(element) -> bool:
    """DOM look-ups return JS null (jsnull), not None, when nothing matches."""
    return element is None or element is jsnull


def _root():
    return js.document.getElementById("app")


_paints = 0  # paints started; only the latest one may patch the page


async def paint() -> None:
    global _paints
    assert app is not None
    _paints += 1
    mine = _paints
    html = await app.html()
    if mine != _paints:
        return  # a newer paint started while this one awaited (e.g. a hash change mid-action)
    browser.patch(_root(), html)
    if drafts is not None:
        drafts.restore(_root())
    js.document.title = _title()
    focus = app.state.focus
    app.state.focus = ""
    if focus:
        element = js.document.getElementById(focus)
        if not _absent(element):
            element.focus()


# Actions that run while the app is locked.
UNLOCKED_ACTIONS = frozenset({"unlock"})


def _actor() -> str:
    """Who the audit log names: the practitioner's name from the profile."""
    profile = app.state.profile if app else None
    return (
        (getattr(profile, "practitioner_name", "") or "practitioner") if profile else "practitioner"
    )


def _forget() -> None:
    """Locked: drop every record and typed value from Python; the next paint shows only the
    unlock screen."""
    assert app is not None
    app.forget_everything()
    app.repo.forget()  # the repository's cached records too
    if drafts is not None:
        drafts.values = {}
        drafts._dirty = False
        if drafts._timer is not None:
            drafts._timer.cancel()


def on_locked(event=None) -> None:
    if app is None or app.state.locked:
        return
    _forget()
    _spawn(paint())


def _storage_full() -> None:
    assert app is not None
    app.state.read_only_export = True
    app.state.read_only_reason = (
        "This device's storage is full, so MedEx Practice is read-only for now: nothing has "
        "been lost, but nothing new can be saved. Export a backup now, free some space, then "
        "reload."
    )


def _title() -> str:
    label = dict(core.NAVIGATION).get(app.state.route, "") if app else ""
    return f"{label} · MedEx Practice" if label and label != "Home" else "MedEx Practice"


async def run_action(name: str, data: dict, form=None, final: bool = True) -> None:
    assert app is not None
    if name in _busy:
        return  # a double tap while saving
    if app.state.locked and name not in UNLOCKED_ACTIONS:
        return
    _busy.add(name)
    started = js.performance.now()
    app.repo.actor = _actor()
    try:
        if form is not None:
            data.update(await browser.picked_images(form))
            data.update(await browser.picked_texts(form))
        await app.dispatch(name, data)
        if name == "unlock" and not app.state.locked and drafts is not None:
            await drafts.load()
    except browser.LockedError:
        _forget()
    except browser.ConcurrentWriteError as exc:
        app.state.flash = str(exc)
    except Exception as exc:
        traceback.print_exc()
        app.state.flash = (
            f"Something went wrong ({type(exc).__name__}: {exc}). Nothing you typed was lost."
        )
    finally:
        _busy.discard(name)
    draft_key = Drafts.key(form) if form is not None else None
    location = app.location()
    if str(js.location.hash) != location:
        js.history.replaceState(None, "", location)
    await paint()
    try:
        if drafts is not None and await drafts.submitted(draft_key, final):
            await paint()  # the saved form, without the draft that was restored into it
    except StorageFullError:
        pass  # read-only (storage full): the draft stays in memory and on the page
    _timed(f"action:{name}", started)


def _timed(what: str, started: float) -> None:
    """Action/render times, read by benchmarks/ (window.medexTimings)."""
    js.window.medexTimings.push(to_js([what, js.performance.now() - started]))


async def _navigate_and_paint() -> None:
    started = js.performance.now()
    await paint()
    _timed(f"route:{app.state.route}", started)


def _spawn(coro) -> None:
    task = asyncio.ensure_future(coro)
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def on_submit(event) -> None:
    form = event.target.closest("form[data-action]")
    if _absent(form):
        return
    event.preventDefault()
    data = browser.form_values(form)
    # The button that submitted (e.g. "Add" beside a code, "Search"): its name=value is sent.
    submitter = getattr(event, "submitter", None)
    if not _absent(submitter) and str(getattr(submitter, "name", "") or ""):
        data[str(submitter.name)] = str(submitter.value)
    _spawn(run_action(str(form.dataset.action), data, form, is_final_submit(submitter)))


def on_click(event) -> None:
    target = event.target.closest("[data-action]")
    if _absent(target) or str(target.tagName) == "FORM":
        return
    event.preventDefault()
    data = {str(k): str(v) for k, v in js.Object.entries(target.dataset)}
    _spawn(run_action(str(target.dataset.action), data))


def on_input(event) -> None:
    if drafts is not None:
        drafts.typed(event.target.closest("form"))


def on_hashchange(event=None) -> None:
    assert app is not None
    app.navigate(str(js.location.hash))
    _spawn(_navigate_and_paint())


def on_db_closed(event=None) -> None:
    assert app is not None
    app.state.db_closed = True
    app.state.read_only_reason = (
        "MedEx Practice was updated in another tab. Reload this tab to keep working; "
        "nothing has been lost."
    )
    _spawn(paint())


async def flush() -> None:
    """Finish every pending save (before an update is applied or the page is hidden)."""
    if _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
    if drafts is not None:
        await drafts.flush()


def _listen(target, kind: str, handler) -> None:
    proxy = create_proxy(handler)
    _proxies.append(proxy)
    target.addEventListener(kind, proxy)


async def load_records() -> None:
    """What the first screen needs (after start-up, or after unlocking)."""
    assert app is not None and drafts is not None
    await app.load()
    await drafts.load()


async def start() -> None:
    global app, drafts
    js.window.medexTimings = js.Array.new()
    boot.step("Opening your records", 85, "")
    await medex_store.open()
    core.load_screens()
    repo = browser.IndexedDbRepository()
    repo.on_storage_full = _storage_full
    platform = browser.BrowserPlatform()
    app = core.App(repo, platform)
    app.repaint = paint
    app.state.warm = False  # the dashboard fills in right after the first paint
    drafts = Drafts(repo)
    if platform.crypto_status()["locked"]:
        app.state.locked = True  # encrypted: nothing is read until the passphrase is given
    else:
        await load_records()
    boot.step("Opening your records", 95, "")
    platform.set_idle_lock(int(await repo.get_meta("idle_minutes") or 0))
    app.navigate(str(js.location.hash))
    await paint()
    root = _root()
    _listen(root, "submit", on_submit)
    _listen(root, "click", on_click)
    _listen(root, "input", on_input)
    _listen(root, "change", on_input)
    _listen(js.window, "hashchange", on_hashchange)
    _listen(js.window, "medex:db-closed", on_db_closed)
    _listen(js.window, "medex:locked", on_locked)
    flush_proxy = create_proxy(lambda *_: _spawn(flush()))
    _proxies.append(flush_proxy)
    js.document.addEventListener("visibilitychange", flush_proxy)
    js.window.addEventListener("pagehide", flush_proxy)
    js.window.medexFlush = create_proxy(lambda: asyncio.ensure_future(flush()))
    boot.ready()
    _spawn(warm_up())


async def warm_up() -> None:
    """After the app is interactive: load what the first paint skipped, then show it."""
    await asyncio.sleep(0)  # let the browser paint first
    started = js.performance.now()
    app.state.warm = True
    if app.state.route == "":
        await paint()
    _timed("warm-up", started)
    js.document.documentElement.dataset.warmMs = str(js.performance.now())
    js.document.documentElement.dataset.appWarm = "true"
