"""Data: backup, restore (with preview and undo), outcomes CSV, and the audit log viewer.

The repository here is the browser one (``app.browser.IndexedDbRepository``) or a test double
with the same extra calls: ``export_all()``, ``documents(store)``, ``audit_log()`` and
``write(ops, changes | audit_entries=...)`` (one transaction, audit entries included).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from medex import audit
from medex.backup import Mode, release_parts
from medex.csv_export import outcomes_csv, rows_from_documents
from medex.repository import SignedRecordError, StaleWriteError, StorageFullError
from medex.services.dashboard_rows import dashboard_rows
from medex.services.data import (
    LAST_BACKUP_KEY,
    UNDO_CHANGES_KEY,
    UNDO_INFO_KEY,
    UNDO_SNAPSHOT_KEY,
    days_since,
    outcomes_filename,
    passphrase_problem,
    problem_in_words,
    store_label,
    undo_lines,
)
from medex.services.practice import load_practice_profile
from medex.services.restore import (
    UNDO_META_DELETES,
    UNDO_MOVED,
    StorageChanged,
    UndoWrite,
    fixed_chain,
    iso_moment,
    restore_preview,
    restore_write,
    undo_write,
)
from medex.services.signatures import check_backup_signature
from medex.services.summaries import Rows, client_summaries

from ..backup_files import Refusal, check_backup_file, export_backup_file
from ..core import App, View, action, route

AUDIT_SHOWN = 300


@route("data", label="Data", order=80)
async def data_screen(app: App, params: dict[str, str]) -> View:
    last = await app.repo.get_meta(LAST_BACKUP_KEY)
    backup_form = app.state.forms.get("backup")
    restore_form = app.state.forms.get("restore")
    return "views/data.html", {
        "last_backup": last,
        "days": days_since(last, datetime.now(UTC)),
        "undo": await app.repo.get_meta(UNDO_INFO_KEY),
        "backup_errors": backup_form.errors if backup_form else {},
        "restore_errors": restore_form.errors if restore_form else {},
        "restore_values": restore_form.values if restore_form else {},
        "pending": app.state.pending.get("restore"),
        "undo_pending": app.state.pending.get("undo"),
        "restore_error": app.state.pending.get("restore_error"),
        "progress": app.state.progress,
    }


@route("audit")
async def audit_screen(app: App, params: dict[str, str]) -> View:
    entries = await app.repo.audit_log()
    ok, bad_seq, message = audit.verify_chain(entries)
    shown = list(reversed(entries[-AUDIT_SHOWN:]))
    return "views/audit.html", {
        "entries": shown,
        "total": len(entries),
        "ok": ok,
        "bad_seq": bad_seq,
        "message": message,
        "label": store_label,
    }


# -- backup -------------------------------------------------------------------------------------


@action("export-backup")
async def export_backup(app: App, data: dict[str, Any]) -> None:
    """Write the backup file a page at a time with progress; the person may keep working."""
    form = app.form("backup")
    form.values, form.errors = {}, {}  # passphrases are never kept
    passphrase = str(data.get("passphrase", ""))
    confirm = str(data.get("passphrase_confirm", ""))
    if passphrase or confirm:
        problem = passphrase_problem(passphrase, confirm)
        if problem:
            form.errors = {"passphrase": problem}
            app.state.focus = "field-passphrase"
            return
    now = datetime.now(UTC)
    try:
        exported = await export_backup_file(app, passphrase, now)
    finally:
        app.state.progress = {}
    chain_ok, _, chain_message = audit.verify_chain(await app.repo.audit_log())
    app.state.flash = (
        f"Backup of {exported.records:,} records {'encrypted and ' if passphrase else ''}"
        "downloaded. Keep it somewhere other than this device."
    )
    if not chain_ok:
        app.state.flash += f" Warning: {chain_message}"
    with contextlib.suppress(StorageFullError):  # read-only: the file is what matters
        await app.repo.write(
            [{"store": "meta", "doc": {"key": LAST_BACKUP_KEY, "value": iso_moment(now)}}],
            [("export", "backup", exported.checksum[:32])],
        )


@action("export-csv")
async def export_csv(app: App, data: dict[str, Any]) -> None:
    rows = rows_from_documents(
        await app.repo.documents("clients"),
        await app.repo.documents("assessments"),
        await app.repo.documents("custom_measures"),
    )
    now = datetime.now(UTC)
    app.platform.download(outcomes_filename(now), outcomes_csv(rows), "text/csv")
    app.state.flash = f"Outcomes exported: {len(rows):,} measurements."
    with contextlib.suppress(StorageFullError):
        await app.repo.write([], [("export", "outcomes", "")])


# -- restore ------------------------------------------------------------------------------------


def _let_go_of_the_checked_backup(app: App) -> None:
    """Drop the checked backup, and the text of its parts where the page keeps it
    (``app.browser.KeptPart``) with it: at once, whatever in Python still refers to a part
    (a part let go of only when Python frees it was seen kept past a restore in Pyodide)."""
    pending = app.state.pending.pop("restore", None)
    if pending is None:
        return
    release_parts(pending["backup"].parts)


def _restore_error(app: App, form_errors: dict[str, str]) -> None:
    form = app.form("restore")
    form.errors = form_errors
    app.state.focus = f"field-{next(iter(form_errors))}"


@action("restore-check")
async def restore_check(app: App, data: dict[str, Any]) -> None:
    """Check the whole file, a part at a time, and show what a restore would change; nothing
    is written."""
    _let_go_of_the_checked_backup(app)
    app.state.pending.pop("restore_error", None)
    app.state.forms.pop("restore", None)
    if data.get("backup_file_error"):
        return _restore_error(app, {"backup_file": data["backup_file_error"]})
    source = data.get("backup_file_handle", data.get("backup_file_text"))
    if source is None:
        return _restore_error(app, {"backup_file": "Choose a backup file first."})
    filename = str(data.get("backup_file_filename", ""))
    passphrase = str(data.get("backup_passphrase", ""))
    try:
        checked = await check_backup_file(app, source, passphrase)
    finally:
        app.state.progress = {}
    if isinstance(checked, Refusal):
        if checked.field:
            return _restore_error(app, {checked.field: checked.message})
        assert checked.error is not None
        shown = [problem_in_words(p) for p in checked.error.problems[:10]]
        app.state.pending["restore_error"] = {
            "filename": filename,
            "reason": checked.error.reason,
            "problems": shown,
            "more": max(0, checked.error.total_problems - len(shown)),
        }
        app.state.focus = "restore-error"
        return
    signature = await check_backup_signature(app.platform, checked)
    dump = await app.repo.export_all()
    app.state.pending["restore"] = restore_preview(dump, checked, filename, signature)
    app.state.focus = "restore-preview"


@action("restore-cancel")
async def restore_cancel(app: App, data: dict[str, Any]) -> None:
    _let_go_of_the_checked_backup(app)
    app.state.pending.pop("restore_error", None)
    app.state.flash = "Restore cancelled: nothing was changed."


@action("restore-apply")
async def restore_apply(app: App, data: dict[str, Any]) -> None:
    pending = app.state.pending.get("restore")
    if pending is None:
        app.state.flash = "Choose a backup file and check it first."
        return
    mode: Mode = "replace" if data.get("mode") == "replace" else "merge"
    if mode == "replace" and not data.get("confirm_replace"):
        app.form("restore").errors = {
            "confirm_replace": "Tick the box to confirm that records only on this device will be "
            "deleted, or choose Merge."
        }
        app.state.focus = "field-confirm_replace"
        return
    await app.show_progress("Taking a snapshot of the current records")
    dump = await app.repo.export_all()
    now = datetime.now(UTC)
    write = restore_write(dump, pending["backup"], mode, pending["filename"], app.repo.actor, now)
    await app.show_progress(f"Writing {write.written:,} records")
    try:
        chain = fixed_chain(write.plan.audit, write.last)
        await app.repo.write(write.ops, audit_entries=chain, revised=True, encoded=write.encoded)
    except StorageChanged as exc:
        app.state.flash = str(exc)
        return
    finally:
        app.state.progress = {}
    in_hand, done = write.summary_inputs(dump["stores"]), write.summary(mode)
    del pending, dump, write  # the backup and the records written: let go before the rebuild
    _let_go_of_the_checked_backup(app)
    app.state.pending.pop("undo", None)  # a preview of undoing the previous restore
    app.state.forms.pop("restore", None)
    await _rebuild_derived(app, in_hand)
    app.state.profile = await load_practice_profile(app.repo)
    app.state.flash = done


async def _rebuild_derived(app: App, in_hand: Rows) -> None:
    """The client summaries and dashboard rows a restore or its undo dropped, rebuilt right
    after it (not on Home's first visit, which would otherwise pay for every client at once),
    the summaries from the records the write had in hand (``in_hand``), not read back."""
    await client_summaries(app.repo, in_hand=in_hand)
    await dashboard_rows(app.repo)


# -- undo a restore -----------------------------------------------------------------------------


async def _undo(app: App) -> UndoWrite | str:
    """Undoing the last restore over the records as they are now, or why not."""
    repo = app.repo
    text = await repo.get_meta(UNDO_SNAPSHOT_KEY)
    info, changes = await repo.get_meta(UNDO_INFO_KEY), await repo.get_meta(UNDO_CHANGES_KEY)
    dump = await repo.export_all() if text else {}
    return undo_write(dump, text, info, changes, repo.actor)


async def _forget_undo(app: App) -> None:
    with contextlib.suppress(StorageFullError):
        await app.repo.write(UNDO_META_DELETES, [])


@action("undo-restore")
async def undo_restore(app: App, data: dict[str, Any]) -> None:
    """Show exactly what undoing the last restore would do; nothing is written yet."""
    app.state.pending.pop("undo", None)
    undo = await _undo(app)
    if isinstance(undo, str):
        app.state.flash = undo
        return
    if undo.plan.nothing_to_do:
        await _forget_undo(app)  # the snapshot no longer applies: stop offering the undo
        app.state.flash = (
            "Nothing is left to undo: every record this restore changed has been changed again "
            "since (or is signed), so all are kept as they are now."
        )
        return
    app.state.pending["undo"] = undo.preview()
    app.state.focus = "undo-preview"


@action("undo-restore-cancel")
async def undo_restore_cancel(app: App, data: dict[str, Any]) -> None:
    app.state.pending.pop("undo", None)
    app.state.flash = "Undo cancelled: nothing was changed."


@action("undo-restore-confirm")
async def undo_restore_confirm(app: App, data: dict[str, Any]) -> None:
    """Do what the undo preview said, in one transaction, or nothing at all if any record
    changed since it was shown."""
    pending = app.state.pending.pop("undo", None)
    if pending is None:
        app.state.flash = "Choose Undo restore first to see what it would do."
        return
    undo = await _undo(app)
    if isinstance(undo, str):
        app.state.flash = undo
        return
    if not undo.matches(pending):
        app.state.flash = UNDO_MOVED
        return
    try:
        chain = fixed_chain(undo.plan.audit, undo.last, UNDO_MOVED)
        await app.repo.write(undo.ops, audit_entries=chain)
    except (StorageChanged, StaleWriteError, SignedRecordError):
        app.state.flash = UNDO_MOVED
        return
    await _rebuild_derived(app, undo.summary_inputs())
    app.state.profile = await load_practice_profile(app.repo)
    app.state.flash = (
        "The restore was undone: "
        + " ".join(undo_lines(undo.plan.counts(), done=True))
        + " Nothing written after the restore was changed or removed."
    )
