"""Restoring a backup and undoing a restore, over the records as they are: what a restore
would change (the preview), the one write that does it (records, the undo snapshot and the
audit entries together), and the undo of the last restore. Pure functions of the current
records (``export_all()``'s dump); the Data screen shows the previews and makes the write::

    pending = restore_preview(dump, backup, filename, signature)
    write = restore_write(dump, backup, "merge", filename, actor, now)
    chain = fixed_chain(write.plan.audit, write.last)
    await repo.write(write.ops, audit_entries=chain, revised=True, encoded=write.encoded)
    await client_summaries(repo, in_hand=write.summary_inputs(dump["stores"]))

A part of the backup none of whose records this device holds (all of them, restoring into a
new device) is written whole, as the text it came in (``whole_part``), not decoded, revised
and encoded again record by record; the summaries the write drops are rebuilt from the
records in hand (``summary_inputs``: what a summary reads of each, as JSON), not read back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic_core import from_json

from .. import APP_VERSION, revisions
from ..backup import (
    BackupError,
    Mode,
    Part,
    PartFacts,
    RestoreChanges,
    RestorePlan,
    UndoPlan,
    ValidatedBackup,
    canonical_json,
    doc_fingerprint,
    docs_facts,
    parse_backup,
    part_bytes,
    plan_restore,
    plan_undo,
    preview_restore,
    snapshot_for_undo,
)
from ..migrations import SIGNATURE_FIELDS, is_signed
from ..repository import EncodedPuts
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
from .summaries import INPUTS, Rows, projection_json

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


def revised_put(
    store: str, doc: Mapping[str, Any], frozen: dict[str, bool] | None = None
) -> tuple[dict, str | None]:
    """A restore's write of ``doc`` exactly as ``revisions.put_op(store, doc, None, False)``
    makes it (its next revision, the signed marker), and the fingerprint the undo keeps of it
    (``backup.doc_fingerprint``), both from ONE canonical JSON text of its content: a restore
    writes tens of thousands of records, and that text is most of the cost of each.
    ``frozen``: whether each store's records are immutable by their type, as far as known."""
    stored_fields = any(k in doc for k in revisions.STORAGE_FIELDS)
    body = revisions.content_of(doc) if stored_fields else doc  # a backup's: none
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
    if frozen[store] or any(body.get(k) for k in SIGNATURE_FIELDS):  # = is_signed(store, body)
        new["_signed"] = True
    fingerprint = hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]
    return {"store": store, "doc": new}, fingerprint


def summary_inputs(
    stores: Mapping[str, Sequence[Mapping[str, Any]]],
    puts: Sequence[tuple[str, Mapping[str, Any]]],
    deletes: Sequence[tuple[str, str]],
    projected: Rows | None = None,
) -> dict[str, dict[str, tuple[str, bytes]]]:
    """What the client summaries are made from (``summaries.INPUTS``), as a write of ``puts``
    and ``deletes`` over ``stores`` (every record, ``export_all()``'s) leaves it: the records a
    restore or its undo has in hand, so the summaries it dropped are rebuilt without reading
    every session log back; as ``summaries.Rows`` (validated a client at a time by the
    rebuild). ``projected``: more records the write puts, already as rows (a restore's whole
    parts, ``RestoreWrite.projected``)."""
    out: dict[str, dict[str, tuple[str, bytes]]] = {}
    for store in INPUTS:
        rows = dict((projected or {}).get(store, {}))
        docs = {d["id"]: d for d in stores.get(store, ())}
        for put_store, doc in puts:
            if put_store == store:
                docs[doc["id"]] = doc
        for delete_store, record_id in deletes:
            if delete_store == store:
                docs.pop(record_id, None)
                rows.pop(record_id, None)
        for record_id, doc in docs.items():
            rows[record_id] = (str(doc.get("client_id") or ""), projection_json(store, doc))
        out[store] = rows
    return out


def part_projection(store: str, docs: list[Any]) -> list[bytes] | None:
    """What the client summaries read of each of a checked part's records (its documents, or
    the records validated from them: ``summaries.projection_json``), or None for a store
    they do not read: taken by the check
    (``ChunkedParser(project=)``), so a restore has it without decoding the part again. Kept
    as JSON, not as models (several times its size): the rebuild validates it a client at a
    time, and reads back from the device a client whose records it refuses."""
    if store not in INPUTS:
        return None
    return [projection_json(store, doc) for doc in docs]


def whole_part(
    store: str, text: Part, docs: list[dict] | PartFacts, frozen: dict[str, bool] | None = None
) -> EncodedPuts | None:
    """A part of a checked backup (``text``, or where it is kept; decoded: ``docs``, or its
    ``PartFacts`` read from that text) none of whose records this device holds, as one write
    of its own text, or None when a record carries a field of the storage's own (written one
    by one then, as ``revised_put`` does). Each record's revision is its first on this
    device, ``1-<md5 of the part's SHA-256 and its place in it>``: the same on every device
    that restores the same file, another for any other content; the undo tells it is still
    as restored by that revision (``backup.plan_undo``). The signed marker as
    ``revisions.put_op`` sets it. Facts read from the text need not bring it back."""
    if isinstance(docs, PartFacts) and docs.sha256:
        storage_field, digest = docs.storage_field, docs.sha256
    else:
        raw = part_bytes(text)
        storage_field, digest = b'"_' in raw, hashlib.sha256(raw).hexdigest()
    if storage_field:  # maybe a key starting with "_" (or only a text that does)
        return None
    if frozen is None:
        frozen = {}
    if store not in frozen:
        frozen[store] = is_signed(store, {})  # no signature field: by its type alone
    facts = docs if isinstance(docs, PartFacts) else docs_facts(docs)
    revisions_ = [
        f"1-{hashlib.md5(f'{digest}:{i}'.encode('ascii'), usedforsecurity=False).hexdigest()}"
        for i in range(len(facts.ids))
    ]
    signed = [frozen[store] or marked for marked in facts.signed]
    refs = [
        {"id": record_id, "client_id": client_id}
        for record_id, client_id in zip(facts.ids, facts.client_ids, strict=True)
    ]
    return EncodedPuts(store, text, revisions_, signed, refs)


@dataclass
class RestoreWrite:
    plan: RestorePlan
    # The records (puts already revised: ``repo.write(..., revised=True)``), the backup's meta
    # and the undo snapshot: one write.
    ops: list[dict]
    last: dict | None  # the audit entry the plan's entries are chained from
    # The backup's parts none of whose records this device holds, written as they are
    # (``repo.write(..., encoded=...)``), not in ``plan.puts``; and what the client summaries
    # read of their records (``summary_inputs``), as ``summaries.Rows``.
    encoded: list[EncodedPuts] = field(default_factory=list)
    projected: dict[str, dict[str, tuple[str, bytes]]] = field(default_factory=dict)

    @property
    def written(self) -> int:
        """How many records the write puts."""
        return len(self.plan.puts) + sum(len(part.revisions) for part in self.encoded)

    def summary_inputs(self, stores: Mapping[str, Sequence[Mapping[str, Any]]]) -> Rows:
        """What the summaries are made from once this restore is written over ``stores``."""
        return summary_inputs(stores, self.plan.puts, self.plan.deletes, self.projected)

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
    changes: RestoreChanges = {}  # as backup.restore_changes(plan) gives them
    frozen: dict[str, bool] = {}
    encoded: list[EncodedPuts] = []
    projected: dict[str, dict[str, tuple[str, bytes]]] = {}

    def new_part(store: str, index: int, docs: list[dict] | None) -> bool:
        facts = backup.facts[store][index] if docs is None else None
        written = whole_part(store, backup.parts[store][index], facts or docs or [], frozen)
        if written is None:
            return False
        encoded.append(written)
        ids = [ref["id"] for ref in written.refs]
        changes.setdefault(store, {}).update(zip(ids, written.revisions, strict=True))
        if store in INPUTS:
            made = facts.projected if facts is not None else None
            if made is None:  # decoded here: the check took no projection of this part
                text = part_bytes(backup.parts[store][index])
                made = part_projection(store, docs or from_json(text)) or []
            rows = projected.setdefault(store, {})
            for ref, row in zip(written.refs, made, strict=True):
                rows[ref["id"]] = (ref["client_id"], row)
        return True

    plan = plan_restore(
        dump["stores"],
        backup,
        mode,
        current_audit=dump["audit"],
        actor=actor,
        now=now,
        new_part=new_part,
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
    last = dump["audit"][-1] if dump["audit"] else None
    return RestoreWrite(plan, ops, last, encoded, projected)


@dataclass
class UndoWrite:
    plan: UndoPlan
    last: dict | None
    titles: dict[tuple[str, str], str]  # (store, id) → what the practitioner calls it
    current: dict[str, list[dict]] = field(default_factory=dict)  # every record, as planned over

    def summary_inputs(self) -> Rows:
        """What the summaries are made from once this undo is written (``summary_inputs``)."""
        return summary_inputs(self.current, self.plan.puts, self.plan.deletes)

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
    return UndoWrite(plan, dump["audit"][-1] if dump["audit"] else None, titles, dump["stores"])
