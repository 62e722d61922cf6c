"""Drafts: what is typed into a form survives a reload, a crash or a closed tab until saved.

Every form in the app with an id keeps a draft (opt out with ``data-no-draft``), keyed by
the screen (location hash) and the form id, stored in IndexedDB's meta store shortly after
typing stops and on page hide. After each render the draft is put back into the form. It
is discarded when the form is saved: its final submit button (one without a ``name``, or
one marked ``data-final``: "Save referral", "Record payment", "Sign and lock") was used and
the re-rendered form shows no error — or the form is gone.
"""

from __future__ import annotations

import asyncio

import js
from pyodide.ffi import jsnull

from medex.repository import Repository, StorageFullError

from . import browser

META_KEY = "drafts"  # before 0.2: every draft in one meta value (read once, then moved)
PREFIX = "draft:"  # each form's draft is its own meta value: two tabs never overwrite each other's
DEBOUNCE_S = 0.4


class Drafts:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.values: dict[str, dict] = {}
        self._timer: asyncio.Task | None = None
        self._dirty = False
        self._changed: set[str] = set()  # keys whose draft is to be written (or deleted)
        self.saves = 0

    async def load(self) -> None:
        stored = await self.repo.meta_with_prefix(PREFIX)
        self.values = {key[len(PREFIX) :]: value for key, value in stored.items() if value}
        legacy = await self.repo.get_meta(META_KEY)
        if legacy:
            for key, value in legacy.items():
                self.values.setdefault(key, value)
                self._changed.add(key)
            self._dirty = True
            await self.flush()
            if not self._dirty:
                await self.repo.delete_meta(META_KEY)

    def discard(self, key: str | None) -> None:
        """Forget the draft of one form (the person chose the saved version instead)."""
        if key and key in self.values:
            del self.values[key]
            self._changed.add(key)
            self._dirty = True

    @staticmethod
    def key(form) -> str | None:
        if (
            form is None
            or form is jsnull
            or not str(form.id or "")
            or form.hasAttribute("data-no-draft")
        ):
            return None
        return f"{js.location.hash or '#/'}#{form.id}"

    def typed(self, form) -> None:
        """An input event: remember the form's values, and save them once typing pauses."""
        key = self.key(form)
        if key is None:
            return
        self.values[key] = browser.form_values(form)
        self._changed.add(key)
        self._dirty = True
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.ensure_future(self._save_later())

    async def _save_later(self) -> None:
        await asyncio.sleep(DEBOUNCE_S)
        await self.flush()

    async def flush(self) -> None:
        if self._dirty:
            self._dirty = False
            changed, self._changed = self._changed, set()
            try:
                for key in sorted(changed):
                    await self.repo.set_meta(PREFIX + key, self.values.get(key))
            except StorageFullError:
                # Read-only (storage full): what is typed stays on screen; the app's banner
                # already says to export. Try again with the next change.
                self._changed |= changed
                self._dirty = True
                return
            self.saves += 1
            js.document.documentElement.dataset.draftsSaved = str(self.saves)  # for tests

    async def submitted(self, key: str | None, final: bool, refused: bool = False) -> bool:
        """After a form's action ran and the page re-rendered: True if the draft was discarded.
        A refused save (``refused``: storage full, changed in another tab, signed meanwhile)
        always keeps it."""
        if key is None or key not in self.values or refused:
            return False
        form_id = key.rsplit("#", 1)[1]
        form = js.document.getElementById(form_id)
        gone = form is None or form is jsnull
        failed = not gone and form.querySelector("[aria-invalid='true'], .form-error") is not jsnull
        if gone or (final and not failed):
            del self.values[key]
            self._changed.add(key)
            self._dirty = True
            await self.flush()
            return True
        return False

    def restore(self, root) -> None:
        """Put drafts back into the forms now on screen (after every render)."""
        for form in root.querySelectorAll("form[id]"):
            key = self.key(form)
            saved = self.values.get(key) if key else None
            if not saved:
                continue
            changed = False
            for element in form.elements:
                name = str(element.name or "")
                if not name or (name not in saved and str(element.type) != "checkbox"):
                    continue
                kind = str(element.type)
                if kind == "checkbox":
                    want = name in saved
                    if bool(element.checked) != want:
                        element.checked, changed = want, True
                elif kind == "radio":
                    want = str(saved.get(name)) == str(element.value)
                    if bool(element.checked) != want:
                        element.checked, changed = want, True
                elif kind not in ("file", "submit", "button") and str(element.value) != str(
                    saved[name]
                ):
                    element.value, changed = saved[name], True
            if changed:
                form.dataset.draftRestored = "true"


def is_final_submit(submitter) -> bool:
    if submitter is None or submitter is jsnull:
        return True  # Enter in a field: the form's default (first) button
    name = str(getattr(submitter, "name", "") or "")
    return not name or bool(submitter.hasAttribute("data-final"))
