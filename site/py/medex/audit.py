"""The audit log: append-only and hash-chained, never clinical content.

Each entry says who did what to which record and when: ``seq``, ``at``, ``actor``, ``action``,
``record_type`` (the store), ``record_id``, plus ``prev_hash`` and ``hash``. The hash is the
SHA-256 of the canonical JSON of every other field (``prev_hash`` included), so changing,
removing or reordering any entry breaks the chain from that entry on.

The fields are restricted to identifiers on purpose (store names, ids, short action words):
there is no free-text field a note or a diagnosis could leak into.

``append`` computes the next entry from the chain's last one; the caller writes it in the same
IndexedDB transaction as the change it records, with ``seq`` as the key (the ``audit`` store's
auto-increment is not used, since the hash covers ``seq``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

GENESIS_HASH = "0" * 64

# Actions the app writes. The model accepts any short lower-case word so a backup from a newer
# app with a new action still verifies.
KNOWN_ACTIONS: tuple[str, ...] = (
    "create",
    "update",
    "sign",
    "addendum",
    "delete",
    "export",
    "restore",
    "undo-restore",
    "import",
    "print",
    "send",
    "lock",
    "unlock",
    "encrypt",
    "decrypt",
    "passphrase-change",
)

Action = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{0,39}$")]
RecordType = Annotated[str, StringConstraints(pattern=r"^([a-z][a-z0-9_]{0,39})?$")]
RecordId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9:._-]{0,80}$")]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Actor = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class AuditEntry(BaseModel):
    """One line of the audit log (who, action, record type and id, time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=1)
    at: datetime
    actor: Actor
    action: Action
    record_type: RecordType = ""
    record_id: RecordId = ""
    prev_hash: Hash
    hash: Hash

    def to_doc(self) -> dict:
        return self.model_dump(mode="json")


def _utc_text(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("An audit time must carry its time zone")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def compute_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the entry without its ``hash`` (``prev_hash`` in)."""
    body = {
        "seq": fields["seq"],
        "at": _utc_text(fields["at"]),
        "actor": fields["actor"],
        "action": fields["action"],
        "record_type": fields.get("record_type", ""),
        "record_id": fields.get("record_id", ""),
        "prev_hash": fields["prev_hash"],
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _as_entry(item: AuditEntry | Mapping[str, Any]) -> AuditEntry:
    return item if isinstance(item, AuditEntry) else AuditEntry.model_validate(item)


def append(
    chain: Sequence[AuditEntry | Mapping[str, Any]] | AuditEntry | Mapping[str, Any] | None,
    entry_fields: Mapping[str, Any],
) -> AuditEntry:
    """The next entry after ``chain`` (the whole chain, or just its last entry, or None for
    the first). ``entry_fields``: ``actor``, ``action``, ``record_type``, ``record_id`` and
    ``at`` (an aware datetime; now in UTC when omitted)."""
    if chain is None or (isinstance(chain, Sequence) and not chain):
        last = None
    elif isinstance(chain, (AuditEntry, Mapping)):
        last = _as_entry(chain)
    else:
        last = _as_entry(chain[-1])
    unknown = set(entry_fields) - {"actor", "action", "record_type", "record_id", "at"}
    if unknown:
        raise ValueError(f"Audit entries hold no {', '.join(sorted(unknown))}")
    at = entry_fields.get("at") or datetime.now(UTC).replace(microsecond=0)
    fields = {
        "seq": last.seq + 1 if last else 1,
        "at": _utc_text(at),
        "actor": entry_fields.get("actor") or "practitioner",
        "action": entry_fields["action"],
        "record_type": entry_fields.get("record_type", ""),
        "record_id": entry_fields.get("record_id", ""),
        "prev_hash": last.hash if last else GENESIS_HASH,
    }
    return AuditEntry.model_validate({**fields, "hash": compute_hash(fields)})


def verify_chain(
    entries: Sequence[AuditEntry | Mapping[str, Any]],
) -> tuple[bool, int | None, str]:
    """Check the whole chain: ``(ok, first bad seq, plain message)``.

    The chain must start at seq 1 from the genesis hash, count up by one, link each entry to
    the previous one's hash and carry the right hash for its own content."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for position, raw in enumerate(entries, start=1):
        raw_seq = raw.seq if isinstance(raw, AuditEntry) else (raw or {}).get("seq")
        bad_seq = raw_seq if isinstance(raw_seq, int) else expected_seq
        try:
            entry = _as_entry(raw)
        except (ValidationError, TypeError, AttributeError):
            return False, bad_seq, f"Audit entry {position} is not a valid audit entry."
        if entry.seq != expected_seq:
            return (
                False,
                entry.seq,
                f"The audit log skips or repeats entries: expected entry {expected_seq}, "
                f"found {entry.seq}.",
            )
        if entry.prev_hash != prev_hash:
            return (
                False,
                entry.seq,
                f"Audit entry {entry.seq} does not follow entry {entry.seq - 1}: an entry was "
                "removed, inserted or changed.",
            )
        if compute_hash(entry.model_dump()) != entry.hash:
            return False, entry.seq, f"Audit entry {entry.seq} has been altered."
        prev_hash = entry.hash
        expected_seq += 1
    count = expected_seq - 1
    return True, None, f"The audit log is intact ({count} {'entry' if count == 1 else 'entries'})."


def is_prefix(shorter: Sequence[Mapping[str, Any]], longer: Sequence[Mapping[str, Any]]) -> bool:
    """Whether chain ``shorter`` is the start of chain ``longer`` (same hashes)."""
    if len(shorter) > len(longer):
        return False
    return all(a.get("hash") == b.get("hash") for a, b in zip(shorter, longer, strict=False))
