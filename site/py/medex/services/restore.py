"""Restoring a backup and undoing a restore, over the records as they are: what a restore
would change (the preview), the one write that does it (records, the undo snapshot and the
audit entries together), and the undo of the last restore. Pure functions of the current
records (``export_all()``'s dump); the Data screen shows the previews and makes the write::

    pending = restore_preview(dump, backup, filename, signature)
    write = restore_write(dump, backup, "merge", filename, actor, now)
    await repo.write(
        write.ops, audit_entries=fixed_chain(write.plan.audit, write.last), revised=True
    )
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import APP_VERSION, revisions
from ..backup import (
    BackupError,
    Mode,
    RestoreChanges,
    RestorePlan,
    UndoPlan,
    ValidatedBackup,
    canonical_json,
    doc_fingerprint,
    parse_backup,
    plan_restore,
    plan_undo,
    preview_restore,
    snapshot_for_undo,
)
from ..migrations import Migrations, is_signed
from ..signing import SignatureCheck
from .data import (
    UNDO_CHANGES_KEY,
    UNDO_INFO_KEY,
    UNDO_SNAPSHOT_KEY,
    backup_meta,
    preview_rows,
    record_title,
    store_label,
    undo_lines,
)
from .signatures import BACKUP_CHECK_TEXTS

UNDO_LISTED = 20  # records named per kind in the undo preview
RESTORE_MOVED = (
    "The records changed while the restore was prepared (another tab?). Check the backup "
    "again; nothing was restored."
)
UNDO_MOVED = (
    "The records changed after the undo was shown (another tab?), so nothing was undone. "
    "Choose Undo restore again to see what it would do now."
)
UNDO_META_DELETES = [
    {"store": "meta", "delete": UNDO_SNAPSHOT_KEY},
    {"store": "meta", "delete": UNDO_CHANGES_KEY},
    {"store": "meta", "delete": UNDO_INFO_KEY},
]


class StorageChanged(Exception):
    """The audit chain moved on since the plan was made: nothing was written."""


def iso_moment(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def fixed_chain(
    entries: list[dict], expected_last: dict | None, moved: str = RESTORE_MOVED
) -> Callable[[dict | None], list[dict]]:
    """The audit entries of a plan, which were chained from ``expected_last``: the write is
    refused (``StorageChanged``, nothing written) if any entry was appended since."""

    def build(last: dict | None) -> list[dict]:
        if (last or {}).get("hash") != (expected_last or {}).get("hash"):
            raise StorageChanged(moved)
        return entries

    return build


def restore_preview(
    dump: dict[str, Any], backup: ValidatedBackup, filename: str, signature: SignatureCheck
) -> dict[str, Any]:
    """What merging or replacing with ``backup`` would change, for the Data screen."""
    merge = preview_restore(dump["stores"], backup, "merge")
    replace = preview_restore(dump["stores"], backup, "replace")
    return {
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


NO_MODELS = Migrations(modules=())  # is_signed by the signature fields alone


def revised_put(
    store: str, doc: Mapping[str, Any], frozen: dict[str, bool] | None = None
) -> tuple[dict, str | None]:
    """A restore's write of ``doc`` exactly as ``revisions.put_op(store, doc, None, False)``
    makes it (its next revision, the signed marker), and the fingerprint the undo keeps of it
    (``backup.doc_fingerprint``), both from ONE canonical JSON text of its content: a restore
    writes tens of thousands of records, and that text is most of the cost of each.
    ``frozen``: whether each store's records are immutable by their type, as far as known."""
    body = revisions.content_of(doc)
    try:
        canonical = canonical_json(body)  # a backup's records are plain JSON
    except (TypeError, ValueError):
        canonical = '"_'  # not plain JSON: as put_op and doc_fingerprint say (or refuse)
    if '"_' in canonical:  # maybe another "_" field, which the fingerprint leaves out
        return revisions.put_op(store, doc, None, False), doc_fingerprint(doc)
    previous = doc.get("_rev") or ""
    text = f"[{json.dumps(previous)},{canonical}]"  # what revisions.next_revision hashes
    digest = hashlib.md5(text.encode("ascii"), usedforsecurity=False).hexdigest()
    new = dict(body)
    new["_rev"] = f"{revisions.generation(previous) + 1}-{digest}"
    if frozen is None:
        frozen = {}
    if store not in frozen:
        frozen[store] = is_signed(store, {})  # no signature field: by its type alone
    if frozen[store] or is_signed(store, body, NO_MODELS):  # = is_signed(store, body)
        new["_signed"] = True
    fingerprint = hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]
    return {"store": store, "doc": new}, fingerprint


@dataclass
class RestoreWrite:
    plan: RestorePlan
    # The records (puts already revised: ``repo.write(..., revised=True)``), the backup's meta
    # and the undo snapshot: one write.
    ops: list[dict]
    last: dict | None  # the audit entry the plan's entries are chained from

    def summary(self, mode: Mode) -> str:
        preview = self.plan.preview
        message = (
            f"Backup restored ({'replace' if mode == 'replace' else 'merge'}): "
            f"{preview.total('new'):,} new, {preview.total('changed'):,} changed, "
            f"{preview.total('unchanged'):,} unchanged"
        )
        if self.plan.deletes:
            message += f", {len(self.plan.deletes):,} removed"
        if preview.conflicts:
            message += f"; {len(preview.conflicts):,} kept as they were on this device (conflicts)"
        return message + ". You can undo this restore below."


def restore_write(
    dump: dict[str, Any],
    backup: ValidatedBackup,
    mode: Mode,
    filename: str,
    actor: str,
    now: datetime,
) -> RestoreWrite:
    """The restore as one write, with the snapshot (for undo) of the records it overwrites or
    deletes, as they are now: an undo puts back only those and removes what the restore added
    (``plan_undo``), so the rest need not be copied (a restore into an empty practice, or of a
    backup this device already holds, keeps an empty snapshot instead of a second practice)."""
    plan = plan_restore(
        dump["stores"], backup, mode, current_audit=dump["audit"], actor=actor, now=now
    )
    touched: dict[str, set[str]] = {}
    for store, doc in plan.puts:
        touched.setdefault(store, set()).add(doc["id"])
    for store, record_id in plan.deletes:
        touched.setdefault(store, set()).add(record_id)
    before = {
        store: [d for d in dump["stores"].get(store, []) if d.get("id") in ids]
        for store, ids in touched.items()
    }
    snapshot = snapshot_for_undo(before, [], backup_meta(dump["meta"]), APP_VERSION, now)
    ops: list[dict] = []
    changes: RestoreChanges = {}  # as backup.restore_changes(plan) gives them
    frozen: dict[str, bool] = {}
    for store, doc in plan.puts:
        op, fingerprint = revised_put(store, doc, frozen)
        ops.append(op)
        changes.setdefault(store, {})[doc["id"]] = fingerprint
    for store, record_id in plan.deletes:
        ops.append({"store": store, "delete": record_id})
        changes.setdefault(store, {})[record_id] = None
    ops += [
        {"store": "meta", "doc": {"key": k, "value": v}}
        for k, v in backup_meta(backup.meta).items()
        if k != "snapshot"
    ]
    info = {
        "at": iso_moment(now),
        "filename": filename,
        "mode": mode,
        "audit_seq": plan.audit[-1]["seq"],  # the restore's own entry
    }
    ops += [
        {"store": "meta", "doc": {"key": UNDO_SNAPSHOT_KEY, "value": snapshot}},
        {"store": "meta", "doc": {"key": UNDO_CHANGES_KEY, "value": changes}},
        {"store": "meta", "doc": {"key": UNDO_INFO_KEY, "value": info}},
    ]
    return RestoreWrite(plan, ops, dump["audit"][-1] if dump["audit"] else None)


@dataclass
class UndoWrite:
    plan: UndoPlan
    last: dict | None
    titles: dict[tuple[str, str], str]  # (store, id) → what the practitioner calls it

    @property
    def ops(self) -> list[dict]:
        return [*self.plan.record_ops(), *UNDO_META_DELETES]

    def _listed(self, refs: Sequence[tuple[str, str]]) -> list[dict]:
        return [
            {"label": store_label(s), "title": self.titles.get((s, i)) or i[:8]}
            for s, i in refs[:UNDO_LISTED]
        ]

    def preview(self) -> dict[str, Any]:
        """What undoing would do, for the Data screen (with what to check it against)."""
        counts = self.plan.counts()
        return {
            "lines": undo_lines(counts, done=False),
            "counts": counts,
            "put_back": self._listed(self.plan.put_back),
            "removed": self._listed(self.plan.removed),
            "kept_changed": self._listed(self.plan.kept_changed),
            "kept_signed": self._listed(self.plan.kept_signed),
            "digest": self.plan.digest(),
            "last_hash": (self.last or {}).get("hash"),
        }

    def matches(self, preview: dict[str, Any]) -> bool:
        """Nothing changed since ``preview`` was shown."""
        same_chain = (self.last or {}).get("hash") == preview["last_hash"]
        return same_chain and self.plan.digest() == preview["digest"]


def undo_write(
    dump: dict[str, Any], snapshot_text: Any, info: Any, changes: Any, actor: str
) -> UndoWrite | str:
    """Undoing the last restore over the records as they are now, or why there is nothing
    to undo."""
    if not snapshot_text:
        return "There is no restore to undo."
    try:
        snapshot = parse_backup(snapshot_text)
    except BackupError as exc:
        return f"The snapshot taken before the restore cannot be read: {exc.reason}"
    seq = (info or {}).get("audit_seq")
    plan = plan_undo(
        dump["stores"],
        snapshot,
        changes=changes,
        since_seq=seq if isinstance(seq, int) else None,
        current_audit=dump["audit"],
        actor=actor,
    )
    titles = {
        (store, doc.get("id")): record_title(store, doc)
        for store, docs in dump["stores"].items()
        for doc in docs
    }
    for store, doc in plan.puts:
        titles[(store, doc["id"])] = record_title(store, doc)
    return UndoWrite(plan, dump["audit"][-1] if dump["audit"] else None, titles)
