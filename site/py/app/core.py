"""The reactive loop, DOM-free: state → render(view) → (shell patches the DOM) → action → state.

Screens register a *route* (what to show) and *actions* (what a button or form does) with
the decorators below. The browser shell calls ``App.dispatch`` for every ``data-action`` and
``App.html`` to render; tests call the same two methods with the in-memory repository.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from medex import APP_VERSION
from medex.demo_marker import DEMO_META_KEY
from medex.records import PracticeProfile
from medex.repository import Repository
from medex.services.practice import load_practice_profile
from medex.signing import Signer, VerificationCache
from medex.turn_marker import TURN_META_KEY

from .render import href, render

if TYPE_CHECKING:
    from medex.backup import Part
    from medex.client_turn import ClientTurn

View = tuple[str, dict[str, Any]]
RouteHandler = Callable[["App", dict[str, str]], Awaitable[View]]
ActionHandler = Callable[["App", dict[str, Any]], Awaitable[None]]

ROUTES: dict[str, RouteHandler] = {}
ACTIONS: dict[str, ActionHandler] = {}
NAVIGATION: list[tuple[str, str]] = []  # (route, label) in menu order
_NAV_ORDER: dict[str, int] = {}
# In the browser, screens other than home are imported on first use (start-up is a feature):
# build.py writes screens/manifest.json (which module registers which route and action).
MANIFEST = Path(__file__).resolve().parent / "screens" / "manifest.json"
_LAZY: dict[str, str] = {}  # "route:<name>" or "action:<name>" → module
# While a client has the tablet (State.client_turn) only this screen renders and only these
# actions run: every other address shows the client's form again.
CLIENT_TURN_ROUTE = "client-turn"
CLIENT_TURN_ACTIONS = frozenset(
    {
        "client-turn-answer",
        "client-turn-skip",
        "client-turn-back",
        "client-turn-timeout",
        "client-turn-leave",
    }
)


def _add_navigation(name: str, label: str | None, order: int) -> None:
    if label and name not in _NAV_ORDER:
        _NAV_ORDER[name] = order
        NAVIGATION.append((name, label))
        NAVIGATION.sort(key=lambda item: _NAV_ORDER[item[0]])


def route(name: str, label: str | None = None, order: int = 50):
    """Register a screen. With a label it appears in the main menu (lowest order first)."""

    def register(fn: RouteHandler) -> RouteHandler:
        ROUTES[name] = fn
        _add_navigation(name, label, order)
        return fn

    return register


def action(name: str):
    def register(fn: ActionHandler) -> ActionHandler:
        ACTIONS[name] = fn
        return fn

    return register


class Platform(Signer, Protocol):
    """What the app needs from the device beyond the records: every ``app.platform`` call.

    ``app.browser.BrowserPlatform`` implements it over js/store.js and js/signing.js; the
    CPython tests use ``tests/support/fakes.FakePlatform`` (checked against this protocol
    by mypy). From ``Signer``: ``sign_message`` and ``verify_signatures`` (the practice
    signing key; what is signed and concluded is ``medex.signing``'s).
    """

    # -- storage of this browser ----------------------------------------------------------
    async def storage_info(self) -> dict[str, Any]:
        """``{persisted, usage, quota, supported, left, warning}`` (see ``medex.storage``)."""
        ...

    async def request_persistent_storage(self) -> bool | None:
        """Ask the browser to keep the records under storage pressure: granted or not, or
        ``None`` while the browser is still asking the person (its answer comes later)."""
        ...

    # -- files -------------------------------------------------------------------------------
    def download(self, filename: str, text: str, mime: str) -> None:
        """Hand ``text`` to the person as a file (a backup, a CSV export)."""
        ...

    async def encrypt_backup(self, text: str, passphrase: str) -> str: ...

    async def decrypt_backup(self, text: str, passphrase: str) -> str | None:
        """The backup's plain text, or None when the passphrase does not open it."""
        ...

    # A backup file of format 2 (``medex.backup_stream``), written a part at a time: the device
    # reads its own storage page by page (``source``: the repository, for doubles that have no
    # storage of their own) and writes every part line, encrypted when there is a passphrase.
    async def backup_export(
        self,
        header: str,
        passphrase: str,
        source: Any,
        skip: dict[str, list[str]],
        max_records: int,
        max_chars: int,
        progress: Callable[[int, int, int], None],
    ) -> dict[str, Any]:
        """Start a file with ``header`` and write every store but ``skip["stores"]`` (by name),
        the audit log and the settings line (all meta values but ``skip["keys"]`` and keys
        starting with one of ``skip["prefixes"]``) in one call, in parts of at most
        ``max_records`` records or ``max_chars`` characters. ``progress(records done,
        records in all, audit entries)`` is called now and then. Returns ``{"id": the writer,
        "hashes": [SHA-256 of each part line], "counts": {store: records}, "audit_count"}``;
        the trailer line follows (``backup_line``), then ``backup_finish``."""
        ...

    async def backup_line(self, writer: int, line: str) -> str:
        """Append one line; its SHA-256."""
        ...

    def backup_finish(self, writer: int, filename: str) -> int:
        """Hand the file to the person; its size in bytes."""
        ...

    def backup_abort(self, writer: int) -> None: ...

    # A picked backup file (``source``: the handle of a picked file, or its text), read in parts.
    async def file_head(self, source: Any, chars: int) -> str: ...

    async def file_text(self, source: Any) -> str: ...

    async def open_lines(self, source: Any, passphrase: str) -> int:
        """Read a format-2 file a line at a time (decrypting each line after the envelope when
        there is a passphrase); raises ``BackupDecryptError`` when the envelope is unusable."""
        ...

    async def next_line(self, reader: int) -> str | None:
        """The next plain line, None at the end; ``BackupDecryptError`` for a line that does
        not decrypt (wrong passphrase, or damaged or moved)."""
        ...

    def read_progress(self, reader: int) -> tuple[int, int]:
        """``(bytes read, file size)``."""
        ...

    def release_file(self, source: Any) -> None: ...

    def keep_part(self, text: bytes) -> Part:
        """Keep a checked backup part's text until the restore writes it (or lets it go)
        where Python's memory, which never shrinks, need not hold it: what to find it by."""
        ...

    def print_page(self) -> None: ...

    # -- encryption at rest (the data key never reaches Python) --------------------------------
    def crypto_status(self) -> dict[str, Any]:
        """``{enabled, locked, state}``; state is "off", "on", "encrypting" or "decrypting"."""
        ...

    async def setup_encryption(self, passphrase: str) -> str:
        """Make the data key and start encrypting; returns the recovery key (shown once)."""
        ...

    async def start_decryption(self) -> None: ...

    def migration_stores(self) -> list[str]:
        """The stores a migration run (encrypting or decrypting) converts, one at a time."""
        ...

    async def migrate_store(self, store: str) -> int: ...

    async def finish_migration(self) -> str:
        """Switch to the converted records; returns the new state ("on" or "off")."""
        ...

    async def unlock(self, secret: str) -> bool:
        """Open the records with the passphrase or the recovery key; False if it does not."""
        ...

    async def change_passphrase(self, old: str, new: str) -> bool: ...

    def lock(self) -> bool:
        """Forget the data key in every tab (False when encryption is off)."""
        ...

    def set_idle_lock(self, minutes: int) -> None:
        """Lock after ``minutes`` without use in any tab (0: never)."""
        ...

    # -- which practice is open -------------------------------------------------------------
    async def open_practice(self, demo: bool) -> None:
        """Open the demo practice's own database (True), or the practice's records again
        (False: the demo's database is deleted). The repository then reads and writes there."""
        ...

    # -- the practice signing key ------------------------------------------------------------
    async def reseal_signing_key(self) -> bool:
        """After encryption was turned on or off: put the signing key in the form that fits
        (sealed with the data key, or plain); True when a new key was made."""
        ...


@dataclass
class FormState:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Flash(str):
    """A notice with a kind the page shows it in ("stop": a safety stop's colours, never the
    green of a plain confirmation). A plain ``str`` flash is a confirmation."""

    kind: str

    def __new__(cls, text: str, kind: str = "") -> Flash:
        made = super().__new__(cls, text)
        made.kind = kind
        return made


@dataclass
class State:
    route: str = ""
    params: dict[str, str] = field(default_factory=dict)
    profile: PracticeProfile | None = None
    forms: dict[str, FormState] = field(default_factory=dict)
    flash: str = ""
    storage: dict[str, Any] = field(default_factory=dict)
    read_only_reason: str = ""
    db_closed: bool = False  # another tab upgraded or deleted the database
    # Another tab opened or removed the demo practice: what this tab says, with a reload.
    practice_switched: str = ""
    read_only_export: bool = False  # the banner offers "Export now" (storage full)
    focus: str = ""  # id of the element to focus after the next render
    # A save the storage refused (changed in another tab, signed meanwhile, encryption
    # changed): {"kind", "message", "draft_key", "typed"}, shown until the person chooses.
    conflict: dict[str, Any] = field(default_factory=dict)
    # Encryption at rest: while locked only the unlock screen renders and no record is held.
    locked: bool = False
    # Long work (restore, encrypting): {"label", "done", "total"} shown while it runs.
    progress: dict[str, Any] = field(default_factory=dict)
    # Objects a screen keeps between two actions (a validated backup awaiting confirmation).
    pending: dict[str, Any] = field(default_factory=dict)
    # False until the shell has loaded what the first paint did not need (see screens/home).
    # Under CPython tests the App is warm from the start.
    warm: bool = True
    # The demo practice is open (its own database, marked DEMO on every screen and printout).
    demo: bool = False
    # The client's turn on the tablet (a meta value, read again after a reload or unlock).
    client_turn: ClientTurn | None = None


class App:
    def __init__(self, repo: Repository, platform: Platform) -> None:
        self.repo = repo
        self.platform = platform
        self.state = State()
        # Signature verdicts of the records shown so far (ids and hashes only: no content).
        self.signatures = VerificationCache()
        # Set by the browser shell: paints the current state (progress during long work).
        self.repaint: Callable[[], Awaitable[None]] | None = None
        # Set by the browser shell: updates the progress bar on the page, if it shows.
        self.paint_progress: Callable[[dict[str, Any]], None] | None = None

    async def load(self) -> None:
        """Everything the first screen needs; the rest is loaded by the screens that use it."""
        self.state.profile = await load_practice_profile(self.repo)
        self.state.storage = await self.platform.storage_info()
        self.state.demo = bool(await self.repo.get_meta(DEMO_META_KEY))
        turn = await self.repo.get_meta(TURN_META_KEY)
        self.state.client_turn = None
        if turn:  # the turn's forms are imported only when a client has the tablet
            from medex.client_turn import ClientTurn

            self.state.client_turn = ClientTurn.model_validate(turn)
        if self.state.client_turn is not None:
            self.navigate("")

    async def ask_persistent_storage(self) -> None:
        """Ask the browser once to keep the records even under storage pressure: from a
        person's action (the first practice-profile save), never at start-up (Firefox would
        hold start-up on its permission prompt)."""
        if await self.repo.get_meta("persist_requested") is not None:
            return
        await self.repo.set_meta("persist_requested", True)
        await self.platform.request_persistent_storage()
        self.state.storage = await self.platform.storage_info()

    def forget_everything(self) -> None:
        """Lock: drop every record, typed value and pending object from Python memory, so the
        next render (the unlock screen) leaves no client data in the page or in Python."""
        route, params = self.state.route, self.state.params
        self.state = State(route=route, params=params, locked=True)

    async def show_progress(self, label: str, done: int = 0, total: int = 0) -> None:
        """Show progress of long work and let the browser paint it before carrying on. Once
        shown, only the progress bar is updated (``paint_progress``), not the whole screen: the
        person may have gone on to another screen meanwhile."""
        first = not self.state.progress
        self.state.progress = {"label": label, "done": done, "total": total}
        if self.repaint is not None:  # in the browser (tests have no page to paint)
            if first or self.paint_progress is None:
                await self.repaint()
            else:
                self.paint_progress(self.state.progress)
            await asyncio.sleep(0)

    # -- navigation ---------------------------------------------------------------------
    def navigate(self, location_hash: str) -> None:
        path = location_hash.lstrip("#").strip("/")
        name, _, query = path.partition("?")
        params = dict(parse_qsl(query))
        if self.state.client_turn is not None:  # the client sees only their forms
            name, params = CLIENT_TURN_ROUTE, {}
        if name not in ROUTES and f"route:{name}" not in _LAZY:
            name = ""
        if name != self.state.route:
            self.state.flash = ""
        if (name, params) != (self.state.route, self.state.params):
            self.state.conflict = {}  # a refused save belongs to the screen it happened on
        self.state.route, self.state.params = name, params

    def location(self) -> str:
        """The hash for the current screen, e.g. ``#/client?id=…`` (kept in the address bar so
        a reload reopens the same screen)."""
        return href(self.state.route, self.state.params)

    # -- actions ------------------------------------------------------------------------
    async def dispatch(self, name: str, data: dict[str, Any]) -> None:
        if self.state.client_turn is not None and name not in CLIENT_TURN_ACTIONS:
            return  # nothing of the practice runs while the client has the tablet
        handler = ACTIONS.get(name) or _lazy("action", name, ACTIONS)
        if handler is None:
            raise KeyError(f"No action named {name!r}")
        await handler(self, data)

    def form(self, name: str) -> FormState:
        return self.state.forms.setdefault(name, FormState())

    # -- rendering ----------------------------------------------------------------------
    async def html(self) -> str:
        if self.state.locked:
            return render(
                "views/locked.html", app_version=APP_VERSION, state=self.state, navigation=[]
            )
        if self.state.client_turn is not None:
            self.state.route, self.state.params = CLIENT_TURN_ROUTE, {}
        handler = ROUTES.get(self.state.route) or _lazy("route", self.state.route, ROUTES)
        if self.state.db_closed:
            # The database was closed (another tab upgraded or deleted it): nothing can be
            # read any more, so only the banner shows.
            template, context = "views/base.html", {}
        else:
            # What this screen reads is what the person sees: a save from it expects exactly
            # those revisions (a form shown before another tab's change is refused, not saved
            # over that change).
            self.repo.start_view()
            try:
                # The practice profile (letterhead, header, settings form) as stored now: a
                # change saved in another tab shows here, and a save expects this revision.
                self.state.profile = await load_practice_profile(self.repo)
                template, context = await handler(self, self.state.params)
            finally:
                self.repo.end_view()
        return render(
            template,
            app_version=APP_VERSION,
            state=self.state,
            navigation=[] if self.state.client_turn is not None else NAVIGATION,
            current=self.state.route,
            **context,
        )


def _lazy(kind: str, name: str, registry: dict):
    module = _LAZY.get(f"{kind}:{name}")
    if module is None:
        return None
    importlib.import_module(module)
    return registry.get(name)


def load_screens(lazy: bool | None = None) -> None:
    """Register every screen. With the build's manifest (in the browser), only the modules of
    the home screen are imported now; the others on their first route or action."""
    from . import screens

    if lazy is None:
        lazy = MANIFEST.is_file()
    if not lazy:
        import pkgutil  # not at start-up in the browser: a costly import in Pyodide

        for info in pkgutil.iter_modules(screens.__path__):
            importlib.import_module(f"{screens.__name__}.{info.name}")
        return
    manifest = json.loads(MANIFEST.read_text())
    for entry in manifest["screens"]:
        module = f"{screens.__name__}.{entry['module']}"
        for item in entry["routes"]:
            _LAZY[f"route:{item['name']}"] = module
            _add_navigation(item["name"], item.get("label"), item.get("order", 50))
        for name in entry["actions"]:
            _LAZY[f"action:{name}"] = module
        if any(item["name"] == "" for item in entry["routes"]):
            importlib.import_module(module)
