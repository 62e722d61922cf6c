"""Data: backup, restore (with preview and undo), outcomes CSV, and the audit log viewer.

The repository here is the browser one (``app.browser.IndexedDbRepository``) or a test double
with the same extra calls: ``export_all()``, ``documents(store)``, ``audit_log()`` and
``write(ops, changes | audit_entries=...)`` (one transaction, audit entries included).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from medex import APP_VERSION, audit
from medex.backup import (
    BackupError,
    is_encrypted,
    iter_parse_backup,
    make_backup,
    parse_backup,
    plan_restore,
    plan_undo,
    preview_restore,
    snapshot_for_undo,
)
from medex.csv_export import outcomes_csv, rows_from_documents
from medex.repository import StorageFullError
from medex.services.data import (
    LAST_BACKUP_KEY,
    UNDO_SNAPSHOT_KEY,
    backup_filename,
    backup_meta,
    days_since,
    outcomes_filename,
    passphrase_problem,
    preview_rows,
    progress_label,
    store_label,
)
from medex.services.practice import load_practice_profile

from ..core import App, View, action, route

UNDO_INFO_KEY = "undo_snapshot_info"
AUDIT_SHOWN = 300


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _header_checksum(text: str) -> str:
    """The checksum from a backup's header (canonical JSON: it precedes the data)."""
    at = text.find('"checksum":"')
    return text[at + 12 : at + 12 + 32] if at >= 0 else ""


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
    dump = await app.repo.export_all()
    chain_ok, _, chain_message = audit.verify_chain(dump["audit"])
    now = datetime.now(UTC)
    text = make_backup(dump["stores"], dump["audit"], backup_meta(dump["meta"]), APP_VERSION, now)
    checksum = _header_checksum(text)
    if passphrase:
        text = await app.platform.encrypt_backup(text, passphrase)
    app.platform.download(backup_filename(now, bool(passphrase)), text, "application/json")
    count = sum(len(d) for d in dump["stores"].values())
    app.state.flash = (
        f"Backup of {count:,} records {'encrypted and ' if passphrase else ''}downloaded. "
        "Keep it somewhere other than this device."
    )
    if not chain_ok:
        app.state.flash += f" Warning: {chain_message}"
    with contextlib.suppress(StorageFullError):  # read-only: the file is what matters
        await app.repo.write(
            [{"store": "meta", "doc": {"key": LAST_BACKUP_KEY, "value": _iso(now)}}],
            [("export", "backup", checksum)],
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


def _restore_error(app: App, form_errors: dict[str, str]) -> None:
    form = app.form("restore")
    form.errors = form_errors
    app.state.focus = f"field-{next(iter(form_errors))}"


@action("restore-check")
async def restore_check(app: App, data: dict[str, Any]) -> None:
    """Validate the whole file and show what a restore would change; nothing is written."""
    app.state.pending.pop("restore", None)
    app.state.pending.pop("restore_error", None)
    app.state.forms.pop("restore", None)
    if data.get("backup_file_error"):
        return _restore_error(app, {"backup_file": data["backup_file_error"]})
    text = data.get("backup_file_text")
    if text is None:
        return _restore_error(app, {"backup_file": "Choose a backup file first."})
    filename = str(data.get("backup_file_filename", ""))
    try:
        if is_encrypted(text):
            passphrase = str(data.get("backup_passphrase", ""))
            if not passphrase:
                return _restore_error(
                    app,
                    {
                        "backup_passphrase": "This backup is encrypted: enter the passphrase it "
                        "was made with."
                    },
                )
            await app.show_progress("Decrypting the backup")
            plain = await app.platform.decrypt_backup(text, passphrase)
            if plain is None:
                return _restore_error(
                    app,
                    {
                        "backup_passphrase": "This passphrase does not open this backup. "
                        "Nothing was changed."
                    },
                )
            text = plain
        steps = iter_parse_backup(text)
        while True:
            try:
                step = next(steps)
            except StopIteration as stop:
                backup = stop.value
                break
            await app.show_progress(
                progress_label(step.stage, step.done, step.total), step.done, step.total
            )
    except BackupError as exc:
        shown = [str(p) for p in exc.problems[:10]]
        app.state.pending["restore_error"] = {
            "filename": filename,
            "reason": exc.reason,
            "problems": shown,
            "more": max(0, exc.total_problems - len(shown)),
        }
        app.state.focus = "restore-error"
        return
    finally:
        app.state.progress = {}
    dump = await app.repo.export_all()
    merge = preview_restore(dump["stores"], backup, "merge")
    replace = preview_restore(dump["stores"], backup, "replace")
    app.state.pending["restore"] = {
        "backup": backup,
        "filename": filename,
        "created_at": backup.created_at,
        "app_version": backup.app_version,
        "total": backup.total,
        "merge": preview_rows(merge),
        "replace": preview_rows(replace),
        "conflicts": [
            {"label": store_label(c.store), "id": c.id, "reason": c.reason}
            for c in merge.conflicts[:20]
        ],
        "conflict_count": len(merge.conflicts),
        "audit_message": backup.audit_message,
    }
    app.state.focus = "restore-preview"


@action("restore-cancel")
async def restore_cancel(app: App, data: dict[str, Any]) -> None:
    app.state.pending.pop("restore", None)
    app.state.pending.pop("restore_error", None)
    app.state.flash = "Restore cancelled: nothing was changed."


def _ops(plan) -> list[dict]:
    return [{"store": s, "doc": d} for s, d in plan.puts] + [
        {"store": s, "delete": i} for s, i in plan.deletes
    ]


def _fixed_chain(entries: list[dict], expected_last: dict | None):
    """The audit entries of a restore plan, which were chained from ``expected_last``."""

    def build(last: dict | None) -> list[dict]:
        if (last or {}).get("hash") != (expected_last or {}).get("hash"):
            return _moved()
        return entries

    return build


def _moved() -> list[dict]:
    raise StorageChanged(
        "The records changed while the restore was prepared (another tab?). Check the backup "
        "again; nothing was restored."
    )


class StorageChanged(Exception):
    pass


@action("restore-apply")
async def restore_apply(app: App, data: dict[str, Any]) -> None:
    pending = app.state.pending.get("restore")
    if pending is None:
        app.state.flash = "Choose a backup file and check it first."
        return
    mode = "replace" if data.get("mode") == "replace" else "merge"
    if mode == "replace" and not data.get("confirm_replace"):
        app.form("restore").errors = {
            "confirm_replace": "Tick the box to confirm that records only on this device will be "
            "deleted, or choose Merge."
        }
        app.state.focus = "field-confirm_replace"
        return
    backup = pending["backup"]
    await app.show_progress("Taking a snapshot of the current records")
    dump = await app.repo.export_all()
    now = datetime.now(UTC)
    snapshot = snapshot_for_undo(
        dump["stores"], dump["audit"], backup_meta(dump["meta"]), APP_VERSION, now
    )
    plan = plan_restore(
        dump["stores"], backup, mode, current_audit=dump["audit"], actor=app.repo.actor, now=now
    )
    ops = _ops(plan)
    ops += [
        {"store": "meta", "doc": {"key": k, "value": v}}
        for k, v in backup_meta(backup.meta).items()
        if k != "snapshot"
    ]
    ops += [
        {"store": "meta", "doc": {"key": UNDO_SNAPSHOT_KEY, "value": snapshot}},
        {
            "store": "meta",
            "doc": {
                "key": UNDO_INFO_KEY,
                "value": {"at": _iso(now), "filename": pending["filename"], "mode": mode},
            },
        },
    ]
    last = dump["audit"][-1] if dump["audit"] else None
    await app.show_progress(f"Writing {len(plan.puts):,} records")
    try:
        await app.repo.write(ops, audit_entries=_fixed_chain(plan.audit, last))
    except StorageChanged as exc:
        app.state.flash = str(exc)
        return
    finally:
        app.state.progress = {}
    app.state.pending.pop("restore", None)
    app.state.forms.pop("restore", None)
    app.state.profile = await load_practice_profile(app.repo)
    preview = plan.preview
    message = (
        f"Backup restored ({'replace' if mode == 'replace' else 'merge'}): "
        f"{preview.total('new'):,} new, {preview.total('changed'):,} changed, "
        f"{preview.total('unchanged'):,} unchanged"
    )
    if plan.deletes:
        message += f", {len(plan.deletes):,} removed"
    if preview.conflicts:
        message += f"; {len(preview.conflicts):,} kept as they were on this device (conflicts)"
    app.state.flash = message + ". You can undo this restore below."


@action("undo-restore")
async def undo_restore(app: App, data: dict[str, Any]) -> None:
    text = await app.repo.get_meta(UNDO_SNAPSHOT_KEY)
    if not text:
        app.state.flash = "There is no restore to undo."
        return
    try:
        snapshot = parse_backup(text)
    except BackupError as exc:
        app.state.flash = f"The snapshot taken before the restore cannot be read: {exc.reason}"
        return
    dump = await app.repo.export_all()
    plan = plan_undo(dump["stores"], snapshot, current_audit=dump["audit"], actor=app.repo.actor)
    ops = [
        *_ops(plan),
        {"store": "meta", "delete": UNDO_SNAPSHOT_KEY},
        {"store": "meta", "delete": UNDO_INFO_KEY},
    ]
    last = dump["audit"][-1] if dump["audit"] else None
    try:
        await app.repo.write(ops, audit_entries=_fixed_chain(plan.audit, last))
    except StorageChanged as exc:
        app.state.flash = str(exc)
        return
    app.state.profile = await load_practice_profile(app.repo)
    app.state.flash = "The restore was undone: your records are as they were before it."
