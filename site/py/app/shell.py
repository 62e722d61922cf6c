"""PyScript entry of the app: wire the DOM to the DOM-free App (``core``) and start."""

from __future__ import annotations

import asyncio
import contextlib
import json
import traceback

import js
from pyodide.ffi import create_proxy, jsnull, to_js
from pyscript.js_modules import medex_store

from medex import storage as storage_rules
from medex.repository import (
    EncryptionChangedError,
    SignedRecordError,
    StaleWriteError,
    StorageFullError,
)
from medex.services.data import AUTO_LOCK_DEFAULT_MINUTES, IDLE_KEY, refusal_message
from medex.turn_marker import IDLE_SECONDS as CLIENT_TURN_IDLE_SECONDS

from . import browser, core
from .drafts import Drafts, is_final_submit

boot = js.window.medexBoot
app: core.App | None = None
drafts: Drafts | None = None
_busy: set[str] = set()
_pending: set[asyncio.Task] = set()
_watchers: list[asyncio.Task] = []  # endless background tasks, held so they are not collected
_proxies: list = []  # event listeners live as long as the page


def _absent(element) -> bool:
    """DOM look-ups return JS null (jsnull), not None, when nothing matches."""
    return element is None or element is jsnull


def _root():
    return js.document.getElementById("app")


_paints = 0  # paints started; only the latest one may patch the page
_changing = False  # another screen was asked for (a link, Back) and is not on the page yet


def _screen_changing(on: bool) -> None:
    """While the next screen is on its way, the one still on the page takes no input: typed
    into or saved from there, it would be a record no longer being opened, and the notice of
    that save would show over the next screen (about another record) when it arrives."""
    global _changing
    _changing = on
    root = _root()
    if _absent(root):
        return
    root.inert = on
    if on:
        root.setAttribute("aria-busy", "true")
    else:
        root.removeAttribute("aria-busy")


async def paint(since: float | None = None) -> None:
    """Render the state into the page. What is typed after ``since`` (the start of the
    action this paint answers; by default this paint's start) is the person's, not the
    render's: the patch keeps it."""
    global _paints
    assert app is not None
    _paints += 1
    mine = _paints
    since = js.performance.now() if since is None else since
    try:
        html = await app.html()
    except Exception:
        if mine == _paints and _changing:
            _screen_changing(False)  # the page stays usable (the error is reported)
        raise
    if mine != _paints:
        return  # a newer paint started while this one awaited (e.g. a hash change mid-action)
    browser.patch(_root(), html, since)
    if _changing:
        _screen_changing(False)
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


# -- storage: full or failing (read-only), and running low (a warning while writes still work) --

STORAGE_REFUSED = (
    "Nothing was written: this device's storage is full or failing. What you typed is still "
    "here. Export a backup now."
)
STORAGE_CHECK_EVERY_MS = 60_000  # the estimate is read at most once a minute after writes
_storage_checked_at = 0.0
_storage_checking = False


def _storage_full() -> None:
    """A write was refused for full or failing storage (the repository is read-only now)."""
    assert app is not None
    if app.state.db_closed:
        return  # another tab upgraded the database: that banner says what to do
    first = not app.state.read_only_export
    app.state.read_only_export = True
    app.state.read_only_reason = (
        "This device's storage is full or failing, so MedEx Practice is read-only for now: "
        "nothing has been lost, but nothing new can be saved. Export a backup now, free some "
        "space, then reload."
    )
    if first:
        # A write refused because the browser dropped the database (site data cleared) may be
        # reported before the connection's close event: whichever comes first, say which it is.
        _spawn(_reopen_for_export())


def on_storage_closed(event=None) -> None:
    """The browser closed the records' database by itself (after a storage error, or when site
    data was cleared). js/store.js never reopens it silently: a write into a reopened (perhaps
    newly created, empty) database would say "saved" while the records are gone."""
    if app is None or app.state.db_closed or app.state.locked:
        return
    app.repo.read_only = True  # as after a refused write: nothing more is written
    _storage_full()  # and whether the database can still be read for the backup export


async def _reopen_for_export() -> None:
    """Reading is still allowed (so the backup can be exported) if the database is still there."""
    assert app is not None
    try:
        readable = bool(await medex_store.reopenForReading())
    except Exception:
        readable = False
    if not readable:
        app.state.read_only_export = False
        app.state.read_only_reason = (
            "The browser closed this app's database after a storage error, so nothing can be "
            "read or saved in this tab. What you typed is still on screen: copy anything you "
            "need, free some space, then reload; if records are missing, restore your latest "
            "backup (Settings → Backups)."
        )
    await paint()


def _note_write() -> None:
    """After every accepted write: read the storage estimate again if a minute has passed."""
    if not _storage_checking and js.Date.now() - _storage_checked_at >= STORAGE_CHECK_EVERY_MS:
        _spawn(check_storage())


async def check_storage() -> None:
    """Read ``navigator.storage.estimate()``; while space runs low (medex.storage) the banner
    warns, says how much is left and asks for a backup, before any write is refused."""
    global _storage_checked_at, _storage_checking
    if app is None or app.state.locked:
        return
    _storage_checking = True
    _storage_checked_at = js.Date.now()
    try:
        info = await app.platform.storage_info()
    except Exception:
        return
    finally:
        _storage_checking = False
    was = app.state.storage.get("warning", "")
    app.state.storage = info
    if info.get("warning", "") != was:
        await paint()


def paint_progress(progress: dict) -> None:
    """Update the progress bar of long work (a backup being written or checked) where the page
    shows it, without rendering the screen again."""
    box = js.document.getElementById("work-progress")
    if _absent(box):
        return
    label = str(progress.get("label", ""))
    box.querySelector("p").textContent = label
    bar = box.querySelector("progress")
    if int(progress.get("total") or 0) > 0:
        bar.max = progress["total"]
        bar.value = progress["done"]
    else:
        bar.removeAttribute("value")
    bar.setAttribute("aria-label", label)


# The choices the "not saved" banner offers after a refused save (handled here: they act on
# this tab's drafts).
CONFLICT_ACTIONS = frozenset({"conflict-show-newer", "conflict-keep-mine"})


def _typed_lines(values: dict | None, hidden: set[str] | None = None) -> list[tuple[str, str]]:
    """What was typed into the refused form, as (field, value) lines to show (not the form's
    hidden fields: which record it was, what the screen showed)."""
    lines = []
    for name, value in (values or {}).items():
        text = str(value).strip()
        if (
            text
            and text not in ("True", "on")
            and not name.startswith("_")
            and name not in (hidden or ())
        ):
            lines.append((name.replace("_", " ").capitalize(), text[:2000]))
    return lines


def _refused(exc: Exception, draft_key: str | None, form=None) -> None:
    assert app is not None
    kind = (
        "stale"
        if isinstance(exc, StaleWriteError)
        else "signed"
        if isinstance(exc, SignedRecordError)
        else "encryption"
    )
    typed = drafts.values.get(draft_key) if drafts is not None and draft_key else None
    shown = form is not None and not _absent(form)
    if not typed and shown:
        typed = browser.form_values(form)  # still on the page until the next paint
    hidden = {str(e.name) for e in form.querySelectorAll("input[type=hidden]")} if shown else set()
    app.state.conflict = {
        "kind": kind,
        "message": refusal_message(kind, getattr(exc, "store", "")),
        "draft_key": draft_key or "",
        # A signed record shows no form any more: what was typed is listed in the banner.
        "typed": _typed_lines(typed, hidden) if kind == "signed" else [],
    }
    app.state.flash = ""
    app.state.focus = "conflict-banner"


def _conflict_choice(name: str) -> None:
    assert app is not None
    conflict = app.state.conflict
    app.state.conflict = {}
    if name == "conflict-show-newer":
        # The stored version replaces what this tab had typed: its draft and every typed
        # value the screen keeps (e.g. a form checked live while it was typed).
        app.state.forms.clear()
        if drafts is not None:
            drafts.discard(conflict.get("draft_key"))
            _spawn(drafts.flush())


def _title() -> str:
    label = dict(core.NAVIGATION).get(app.state.route, "") if app else ""
    return f"{label} · MedEx Practice" if label and label != "Home" else "MedEx Practice"


async def run_action(name: str, data: dict, form=None, final: bool = True) -> None:
    assert app is not None
    if name in _busy:
        return  # a double tap while saving
    if app.state.locked and name not in UNLOCKED_ACTIONS:
        return
    if name in CONFLICT_ACTIONS:
        _conflict_choice(name)
        await paint()
        return
    if name == "reload-page":
        await reload_page()
        return
    _busy.add(name)
    started = js.performance.now()
    app.repo.actor = _actor()
    refused = False
    draft_key = Drafts.key(form) if form is not None else None
    address = str(js.location.hash)  # the address bar as the action started
    try:
        if form is not None:
            data.update(await browser.picked_images(form))
            data.update(await browser.picked_texts(form))
        await app.dispatch(name, data)
        if name == "unlock" and not app.state.locked and drafts is not None:
            await drafts.load()
    except browser.LockedError:
        _forget()
    except (StaleWriteError, SignedRecordError, EncryptionChangedError) as exc:
        # Nothing was written; what was typed stays (the draft is kept, the form refilled).
        refused = True
        _refused(exc, draft_key, form)
    except StorageFullError:
        # Full or failing storage: nothing was written. Never "saved": the flash says so, the
        # app turns read-only ("Export now"), and what was typed stays (draft kept, form refilled).
        refused = True
        app.repo.read_only = True
        _storage_full()
        app.state.flash = STORAGE_REFUSED
    except browser.ConcurrentWriteError as exc:
        refused = True
        app.state.flash = str(exc)
    except Exception as exc:
        traceback.print_exc()
        # Whatever failed, what was typed is not known to be saved: it stays (draft kept).
        refused = True
        app.state.flash = (
            f"Something went wrong ({type(exc).__name__}: {exc}). Nothing you typed was lost."
        )
    finally:
        _busy.discard(name)
    now = str(js.location.hash)
    if now != address and now.startswith("#/"):
        # The person went to another screen while the action ran (a link, Back, a typed
        # address): that screen is shown, and the address is never turned back to the action's
        # (its hashchange may not have been handled yet).
        app.navigate(now)
    if str(js.location.hash) != app.location():  # e.g. the client's turn keeps its own form
        js.history.replaceState(None, "", app.location())
    await paint(started)
    try:
        if drafts is not None and await drafts.submitted(draft_key, final, refused):
            await paint(started)  # the saved form, without the draft that was restored into it
    except StorageFullError:
        pass  # read-only (storage full): the draft stays in memory and on the page
    _timed(f"action:{name}", started)


def _timed(what: str, started: float) -> None:
    """Action/render times, read by benchmarks/ (window.medexTimings)."""
    js.window.medexTimings.push(to_js([what, js.performance.now() - started]))


async def _navigate_and_paint() -> None:
    assert app is not None
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
    if _changing:
        return  # a form of the screen being replaced (see _screen_changing)
    data = browser.form_values(form)
    # The button that submitted (e.g. "Add" beside a code, "Search"): its name=value is sent.
    submitter = getattr(event, "submitter", None)
    if (
        submitter is not None
        and not _absent(submitter)
        and str(getattr(submitter, "name", "") or "")
    ):
        data[str(submitter.name)] = str(submitter.value)
    _drop_live_check(form)
    _spawn(run_action(str(form.dataset.action), data, form, is_final_submit(submitter)))


def on_click(event) -> None:
    target = event.target.closest("[data-action]")
    if _absent(target) or str(target.tagName) == "FORM":
        return
    event.preventDefault()
    if _changing:
        return  # a button of the screen being replaced
    data = {str(k): str(v) for k, v in js.Object.entries(target.dataset)}
    _spawn(run_action(str(target.dataset.action), data))


LIVE_DEBOUNCE_S = 0.35
_live_task: asyncio.Future | None = None
_live_form = None  # the form whose live check waits out its pause (None once it runs)


def on_input(event) -> None:
    if _changing:
        return  # typed into the screen being replaced: not kept as that screen's draft
    form = event.target.closest("form")
    browser.typed(event.target)
    if drafts is not None:
        drafts.typed(form)
    # A form with data-live="<action>" sends what is typed to that action once typing
    # pauses (nothing is saved): e.g. the session form shows a safety stop while it is typed.
    if not _absent(form) and str(form.getAttribute("data-live") or ""):
        global _live_task, _live_form
        if _live_task is not None:
            _live_task.cancel()
        _live_form = form
        _live_task = asyncio.ensure_future(_live_check(form))


def _drop_live_check(form) -> None:
    """The form is submitted: its save answers what was typed, so a live check still waiting
    out its pause is not run after it (a check that has started is left to finish)."""
    global _live_task, _live_form
    if _live_task is not None and _live_form is not None and form.isSameNode(_live_form):
        _live_task.cancel()
        _live_task, _live_form = None, None


async def _live_check(form) -> None:
    global _live_form
    await asyncio.sleep(LIVE_DEBOUNCE_S)
    _live_form = None  # running: no longer cancelled by a submit
    if not form.isConnected:
        return
    await run_action(str(form.getAttribute("data-live")), browser.form_values(form), form, False)


def on_hashchange(event=None) -> None:
    assert app is not None
    target = str(js.location.hash)[1:]
    place = js.document.getElementById(target) if target and not target.startswith("/") else None
    if place is not None and not _absent(place):
        # A link to a place on the screen ("See Safety", a field to correct): the browser
        # has scrolled to it (a field also takes the focus); the screen and its address stay.
        if str(place.tagName) in ("INPUT", "SELECT", "TEXTAREA"):
            place.focus()
        js.history.replaceState(None, "", app.location())
        return
    before = app.location()
    app.navigate(str(js.location.hash))
    if app.state.client_turn is not None and str(js.location.hash) != app.location():
        # The client has the tablet: another address (typed, a link, Back) is refused and
        # the address bar shows the client's form again.
        js.history.replaceState(None, "", app.location())
    if app.location() != before:
        # Another screen (or another record on the same screen): a notice given on the last
        # one ("Draft saved.") is not about this one, and the last one takes no more input.
        app.state.flash = ""
        _screen_changing(True)
    _spawn(_navigate_and_paint())


# -- the client's turn: untouched for a while, the tablet locks ------------------------------------

_last_touch = 0.0


def _touched(event=None) -> None:
    global _last_touch
    _last_touch = js.Date.now()


async def watch_client_turn() -> None:
    """While a client's turn is being answered, lock it after IDLE_SECONDS without a touch."""
    while True:
        await asyncio.sleep(15)
        turn = app.state.client_turn if app is not None else None
        if turn is None or turn.phase != "answering" or app is None or app.state.locked:
            continue
        if js.Date.now() - _last_touch >= CLIENT_TURN_IDLE_SECONDS * 1000:
            await run_action("client-turn-timeout", {})


def on_storage_answer(event=None) -> None:
    """The person answered the browser's persistent-storage prompt after the app stopped
    waiting for it (Firefox asks, and holds the answer until then): show the answer."""
    if app is None or app.state.locked:
        return
    granted = bool(event.detail) if event is not None else False
    _spawn(_storage_answered(granted))


async def _storage_answered(granted: bool) -> None:
    assert app is not None
    app.state.storage = await app.platform.storage_info()
    app.state.flash = storage_rules.persistence_answer(granted)
    await paint()


def on_db_closed(event=None) -> None:
    assert app is not None
    app.state.db_closed = True
    app.state.read_only_reason = (
        "MedEx Practice was updated in another tab. Reload this tab to keep working; "
        "nothing has been lost."
    )
    _spawn(paint())


DEMO_OPENED_ELSEWHERE = (
    "The demo practice was opened in another tab. This tab still shows your own practice: "
    "what you save here goes to your own records. Reload to see the demo; anything typed here "
    "and not saved comes back when the demo is removed."
)
DEMO_REMOVED_ELSEWHERE = (
    "The demo practice was removed in another tab, so nothing more can be read or saved here. "
    "Reload to return to your own practice; its records were not touched."
)


def on_practice_switched(event=None) -> None:
    """Another tab opened or removed the demo practice (js/database.js): this tab never
    follows by itself, so nothing typed here is saved into the other practice's records."""
    if app is None:
        return
    try:
        detail = json.loads(str(event.detail)) if event is not None else {}
    except (AttributeError, ValueError):
        detail = {}
    if not detail.get("differs"):
        app.state.practice_switched = ""  # back to the practice this tab shows
    elif app.state.demo and not detail.get("demo"):
        # This tab's database was the demo's, and it is deleted: only the banner is left.
        app.state.db_closed = True
        app.state.demo = False  # nothing of the demo shows any more (nor "Remove the demo")
        app.state.read_only_reason = ""
        app.state.practice_switched = DEMO_REMOVED_ELSEWHERE
    else:
        app.state.practice_switched = DEMO_OPENED_ELSEWHERE
    _spawn(paint())


async def reload_page() -> None:
    """The banner's Reload: what is typed is kept as a draft first (where it can be)."""
    with contextlib.suppress(Exception):
        await flush()
    js.location.reload()


async def flush() -> None:
    """Finish every pending save (before an update is applied or the page is hidden)."""
    # Not this flush itself: a flush started on visibilitychange/pagehide is one of the
    # pending tasks, and waiting for itself would never finish (nor would any later flush).
    others = [task for task in _pending if task is not asyncio.current_task()]
    if others:
        await asyncio.gather(*others, return_exceptions=True)
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


def _mark(label: str) -> None:
    """A start-up step in the boot timings (no change on the splash screen)."""
    boot.timings.push(to_js([round(js.performance.now()), label]))


async def start() -> None:
    global app, drafts
    js.window.medexTimings = js.Array.new()
    boot.step("Opening your records", 85, "")
    await medex_store.open()
    _mark("database open")
    core.load_screens()
    repo = browser.IndexedDbRepository()
    repo.on_storage_full = _storage_full
    browser.on_write = _note_write  # the storage watcher looks again after writes
    platform = browser.BrowserPlatform()
    app = core.App(repo, platform)
    app.repaint = paint
    app.paint_progress = paint_progress
    app.state.warm = False  # the dashboard fills in right after the first paint
    drafts = Drafts(repo)
    if platform.crypto_status()["locked"]:
        app.state.locked = True  # encrypted: nothing is read until the passphrase is given
    else:
        await load_records()
        _mark("records read")
    boot.step("Opening your records", 95, "")
    idle = await repo.get_meta(IDLE_KEY)
    if idle is None:  # first run: auto-lock is on from the start, with its saved default
        idle = AUTO_LOCK_DEFAULT_MINUTES
        with contextlib.suppress(StorageFullError):
            await repo.set_meta(IDLE_KEY, idle)
    platform.set_idle_lock(int(idle))
    app.navigate(str(js.location.hash))
    await paint()
    _mark("first screen painted")
    root = _root()
    _listen(root, "submit", on_submit)
    _listen(root, "click", on_click)
    _listen(root, "input", on_input)
    _listen(root, "change", on_input)
    for kind in ("pointerdown", "keydown"):
        _listen(js.window, kind, _touched)
    _listen(js.window, "hashchange", on_hashchange)
    _listen(js.window, "medex:db-closed", on_db_closed)
    _listen(js.window, "medex:storage-closed", on_storage_closed)
    _listen(js.window, "medex:storage-answer", on_storage_answer)
    _listen(js.window, "medex:locked", on_locked)
    _listen(js.window, "medex:practice-switched", on_practice_switched)
    flush_proxy = create_proxy(lambda *_: _spawn(flush()))
    _proxies.append(flush_proxy)
    js.document.addEventListener("visibilitychange", flush_proxy)
    js.window.addEventListener("pagehide", flush_proxy)
    js.window.medexFlush = create_proxy(lambda: asyncio.ensure_future(flush()))
    boot.ready()
    _touched()
    _spawn(warm_up())
    # Endless, so kept out of _pending: flush() waits for every pending task to finish.
    _watchers.append(asyncio.ensure_future(watch_client_turn()))


async def warm_up() -> None:
    """After the app is interactive: load what the first paint skipped, then show it."""
    await asyncio.sleep(0)  # let the browser paint first
    assert app is not None
    started = js.performance.now()
    app.state.warm = True
    if app.state.route == "":
        await paint()
    _timed("warm-up", started)
    js.document.documentElement.dataset.warmMs = str(js.performance.now())
    js.document.documentElement.dataset.appWarm = "true"
