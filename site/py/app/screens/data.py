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
    Mode,
    is_encrypted,
    iter_parse_backup,
    make_backup,
    parse_backup,
    plan_restore,
    plan_undo,
    preview_restore,
    restore_changes,
    snapshot_for_undo,
)
from medex.csv_export import outcomes_csv, rows_from_documents
from medex.repository import SignedRecordError, StaleWriteError, StorageFullError
from medex.services.data import (
    LAST_BACKUP_KEY,
    UNDO_CHANGES_KEY,
    UNDO_INFO_KEY,
    UNDO_SNAPSHOT_KEY,
    backup_filename,
    backup_meta,
    days_since,
    outcomes_filename,
    passphrase_problem,
    preview_rows,
    progress_label,
    record_title,
    store_label,
    undo_lines,
)
from medex.services.practice import load_practice_profile
from medex.services.signatures import BACKUP_CHECK_TEXTS, check_backup_signature, sign_backup

from ..core import App, View, action, route

AUDIT_SHOWN = 300
UNDO_LISTED = 20


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
    text, _ = await sign_backup(app.platform, text)
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
    signature = await check_backup_signature(app.platform, backup)
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
        "signature": signature.value,
        "signature_text": BACKUP_CHECK_TEXTS[signature],
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


RESTORE_MOVED = (
    "The records changed while the restore was prepared (another tab?). Check the backup "
    "again; nothing was restored."
)
UNDO_MOVED = (
    "The records changed after the undo was shown (another tab?), so nothing was undone. "
    "Choose Undo restore again to see what it would do now."
)


def _fixed_chain(entries: list[dict], expected_last: dict | None, moved: str = RESTORE_MOVED):
    """The audit entries of a restore plan, which were chained from ``expected_last``: the
    write is refused (``StorageChanged``, nothing written) if any entry was appended since."""

    def build(last: dict | None) -> list[dict]:
        if (last or {}).get("hash") != (expected_last or {}).get("hash"):
            raise StorageChanged(moved)
        return entries

    return build


class StorageChanged(Exception):
    pass


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
        {"store": "meta", "doc": {"key": UNDO_CHANGES_KEY, "value": restore_changes(plan)}},
        {
            "store": "meta",
            "doc": {
                "key": UNDO_INFO_KEY,
                "value": {
                    "at": _iso(now),
                    "filename": pending["filename"],
                    "mode": mode,
                    "audit_seq": plan.audit[-1]["seq"],  # the restore's own entry
                },
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
    app.state.pending.pop("undo", None)  # a preview of undoing the previous restore
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


# -- undo a restore -----------------------------------------------------------------------------


async def _undo_plan(app: App):
    """``(plan, last audit entry, {(store, id): title})`` for undoing the last restore over the
    records as they are now, or a message saying why there is nothing to undo."""
    text = await app.repo.get_meta(UNDO_SNAPSHOT_KEY)
    if not text:
        return "There is no restore to undo."
    try:
        snapshot = parse_backup(text)
    except BackupError as exc:
        return f"The snapshot taken before the restore cannot be read: {exc.reason}"
    info = await app.repo.get_meta(UNDO_INFO_KEY) or {}
    changes = await app.repo.get_meta(UNDO_CHANGES_KEY)
    dump = await app.repo.export_all()
    seq = info.get("audit_seq")
    plan = plan_undo(
        dump["stores"],
        snapshot,
        changes=changes,
        since_seq=seq if isinstance(seq, int) else None,
        current_audit=dump["audit"],
        actor=app.repo.actor,
    )
    last = dump["audit"][-1] if dump["audit"] else None
    titles = {
        (store, doc.get("id")): record_title(store, doc)
        for store, docs in dump["stores"].items()
        for doc in docs
    }
    for store, doc in plan.puts:
        titles[(store, doc["id"])] = record_title(store, doc)
    return plan, last, titles


def _listed(refs, titles) -> list[dict]:
    return [
        {"label": store_label(s), "title": titles.get((s, i)) or i[:8]}
        for s, i in refs[:UNDO_LISTED]
    ]


async def _forget_undo(app: App) -> None:
    with contextlib.suppress(StorageFullError):
        await app.repo.write(
            [
                {"store": "meta", "delete": UNDO_SNAPSHOT_KEY},
                {"store": "meta", "delete": UNDO_CHANGES_KEY},
                {"store": "meta", "delete": UNDO_INFO_KEY},
            ],
            [],
        )


@action("undo-restore")
async def undo_restore(app: App, data: dict[str, Any]) -> None:
    """Show exactly what undoing the last restore would do; nothing is written yet."""
    app.state.pending.pop("undo", None)
    prepared = await _undo_plan(app)
    if isinstance(prepared, str):
        app.state.flash = prepared
        return
    plan, last, titles = prepared
    counts = plan.counts()
    if plan.nothing_to_do:
        await _forget_undo(app)  # the snapshot no longer applies: stop offering the undo
        app.state.flash = (
            "Nothing is left to undo: every record this restore changed has been changed again "
            "since (or is signed), so all are kept as they are now."
        )
        return
    app.state.pending["undo"] = {
        "lines": undo_lines(counts, done=False),
        "counts": counts,
        "put_back": _listed(plan.put_back, titles),
        "removed": _listed(plan.removed, titles),
        "kept_changed": _listed(plan.kept_changed, titles),
        "kept_signed": _listed(plan.kept_signed, titles),
        "digest": plan.digest(),
        "last_hash": (last or {}).get("hash"),
    }
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
    prepared = await _undo_plan(app)
    if isinstance(prepared, str):
        app.state.flash = prepared
        return
    plan, last, _titles = prepared
    if (last or {}).get("hash") != pending["last_hash"] or plan.digest() != pending["digest"]:
        app.state.flash = UNDO_MOVED
        return
    ops = [
        *plan.record_ops(),
        {"store": "meta", "delete": UNDO_SNAPSHOT_KEY},
        {"store": "meta", "delete": UNDO_CHANGES_KEY},
        {"store": "meta", "delete": UNDO_INFO_KEY},
    ]
    try:
        await app.repo.write(ops, audit_entries=_fixed_chain(plan.audit, last, UNDO_MOVED))
    except (StorageChanged, StaleWriteError, SignedRecordError):
        app.state.flash = UNDO_MOVED
        return
    app.state.profile = await load_practice_profile(app.repo)
    app.state.flash = (
        "The restore was undone: "
        + " ".join(undo_lines(plan.counts(), done=True))
        + " Nothing written after the restore was changed or removed."
    )
