"""Revisions and the write operations every save becomes (pure: no storage of its own).

Every stored document carries ``_rev`` in CouchDB's form, ``"<generation>-<32 hex>"``: the
generation counts the writes of that record and the hash is the MD5 of the previous revision
and the canonical JSON of the new content, so two devices that make different changes from the
same revision get different revisions (what CouchDB's replication protocol needs to see a
conflict). A save says which revision it read (``expect``); the one storage transaction that
writes the record checks it, so a save made from a stale copy is refused instead of silently
overwriting newer work (``repository.StaleWriteError``).

A signed record is immutable: its document also carries ``"_signed": true`` (in clear even
when the content is encrypted) and a guarded write over a signed document is refused in the
same transaction (``repository.SignedRecordError``).

Example::

    >>> op = put_op("clients", {"id": "c1", "first_name": "Ana"}, expect="")
    >>> op["doc"]["_rev"].startswith("1-"), op["expect"]
    (True, '')
    >>> generation(op["doc"]["_rev"])
    1
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from . import audit
from .migrations import is_signed

# Fields of a stored document that belong to storage, not to the record's content.
STORAGE_FIELDS = ("_rev", "_signed")


def generation(rev: str | None) -> int:
    """The generation of a revision (0 for none or an unreadable one)."""
    head, _, _ = (rev or "").partition("-")
    return int(head) if head.isdigit() else 0


def content_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in STORAGE_FIELDS}


def next_revision(doc: Mapping[str, Any], previous: str | None) -> str:
    """The revision a write of ``doc`` over revision ``previous`` gets."""
    canonical = json.dumps(
        [previous or "", content_of(doc)], sort_keys=True, separators=(",", ":"), default=str
    )
    digest = hashlib.md5(canonical.encode(), usedforsecurity=False).hexdigest()
    return f"{generation(previous) + 1}-{digest}"


def is_signed_doc(store: str, doc: Mapping[str, Any] | None) -> bool:
    """Whether a stored document is signed (so no write may change or delete it)."""
    if not doc:
        return False
    return bool(doc.get("_signed")) or is_signed(store, dict(content_of(doc)))


def put_op(store: str, doc: Mapping[str, Any], expect: str | None, guard: bool = True) -> dict:
    """The write of one document: its new revision, the revision it must find (``expect``;
    ``None``: no check, as a restore writes), and ``guard``: refuse if the stored one is signed.
    ``expect == ""`` means "a record never stored" (also matches a document stored before
    revisions existed, which has no ``_rev``)."""
    body = content_of(doc)
    previous = expect if expect is not None else doc.get("_rev")
    new = dict(body)
    new["_rev"] = next_revision(body, previous)
    if is_signed(store, body):
        new["_signed"] = True
    op: dict[str, Any] = {"store": store, "doc": new}
    if expect is not None:
        op["expect"] = expect
    if guard:
        op["guard"] = True
    return op


def delete_op(store: str, record_id: str, expect: str | None, guard: bool = True) -> dict:
    op: dict[str, Any] = {"store": store, "delete": record_id}
    if expect is not None:
        op["expect"] = expect
    if guard:
        op["guard"] = True
    return op


def refusal(op: Mapping[str, Any], current: Mapping[str, Any] | None) -> str | None:
    """Why the storage transaction must refuse ``op`` given the stored ``current`` document
    (``"stale"`` or ``"signed"``), or None. The IndexedDB facade (js/storage.js ``writeNow``)
    applies the same rule inside its transaction. A guarded write over a signed record is
    refused as "signed" whatever revision it expected: a draft saved from a copy read before
    another tab signed it is told that the record is locked, not offered to "save again"."""
    if op.get("guard") and current is not None and is_signed_doc(op["store"], current):
        return "signed"
    if "expect" in op:
        found = (current or {}).get("_rev") or ""
        if found != op["expect"]:
            return "stale"
    return None


# -- audit entries ------------------------------------------------------------------------------


def _signed_moment(doc: Mapping[str, Any]) -> Any:
    if doc.get("signed_at"):
        return doc["signed_at"]
    signature = doc.get("signature")
    if isinstance(signature, Mapping):
        return signature.get("signed_at")
    return None


def audit_action(store: str, doc: Mapping[str, Any]) -> str:
    """The audit word for saving ``doc``: ``addendum`` for an addendum, ``sign`` when the save
    is the signing itself (signed at the moment of this save), ``create`` for a record saved
    for the first time (created = updated), else ``update``."""
    if store == "addenda":
        return "addendum"
    signed = _signed_moment(doc)
    if signed and signed == doc.get("updated_at") and is_signed(store, dict(content_of(doc))):
        return "sign"
    if doc.get("created_at") and doc.get("created_at") == doc.get("updated_at"):
        return "create"
    return "update"


def audit_entries_for(
    last: audit.AuditEntry | Mapping[str, Any] | None,
    changes: Iterable[tuple[str, str, str]],
    actor: str,
    now: datetime | None = None,
) -> list[dict]:
    """Chain one entry per ``(action, store, record id)`` after ``last`` (None: first entry).
    Only identifiers go in: never a field of the record."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    entries: list[dict] = []
    previous: Any = last
    for action_word, store, record_id in changes:
        entry = audit.append(
            previous,
            {
                "actor": (actor or "practitioner")[:120],
                "action": action_word,
                "record_type": store,
                "record_id": record_id,
                "at": moment,
            },
        )
        entries.append(entry.to_doc())
        previous = entry
    return entries


def save_changes(documents: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """``(action, store, id)`` for the ``[{store, doc}]`` operations of a save."""
    return [
        (audit_action(op["store"], op["doc"]), op["store"], str(op["doc"]["id"]))
        for op in documents
    ]
