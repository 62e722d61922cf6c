"""Data safety use cases that need no storage of their own: which audit entries a save
writes, what a backup leaves out, the backup reminder on the dashboard, the restore preview
as table rows.

The browser repository (``app.browser``) calls ``audit_entries_for`` on every save and writes
the entries in the same IndexedDB transaction as the records; the Data screen uses the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .. import audit
from ..backup import RestorePreview
from ..dashboard import DashboardItem
from ..migrations import is_signed
from ..repository import Repository

LAST_BACKUP_KEY = "last_backup"
UNDO_SNAPSHOT_KEY = "undo_snapshot"
# Backup reminder: nag once the last backup is older than this.
BACKUP_NAG_DAYS = 7
# Meta keys that never go into a backup: the encryption set-up (a backup is encrypted with its
# own passphrase), the pre-restore snapshot (a backup inside a backup), typed drafts, and the
# device-only bookkeeping.
NOT_BACKED_UP: frozenset[str] = frozenset(
    {
        "crypto",
        "encryption",
        UNDO_SNAPSHOT_KEY,
        "drafts",
        LAST_BACKUP_KEY,
        "persist_requested",
        "idle_minutes",
    }
)
STORE_LABELS: dict[str, str] = {
    "profile": "Practice profile",
    "settings": "Settings",
    "providers": "Referring providers",
    "clients": "Clients",
    "referrals": "Referrals",
    "health_histories": "Health histories",
    "screenings": "Screenings",
    "clearances": "Medical clearances",
    "consents": "Consents",
    "goals": "Goals",
    "custom_measures": "Custom measures",
    "assessments": "Assessments",
    "programs": "Program templates",
    "episodes": "Episodes of care",
    "exercises": "Exercises",
    "session_logs": "Session logs",
    "addenda": "Addenda",
    "documents": "Documents",
    "communications": "Communications",
}


def store_label(store: str) -> str:
    return STORE_LABELS.get(store, store.replace("_", " ").capitalize())


# -- audit --------------------------------------------------------------------------------------


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
    if signed and signed == doc.get("updated_at") and is_signed(store, dict(doc)):
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


# -- backup -------------------------------------------------------------------------------------


def backup_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The meta settings that go into a backup."""
    return {k: v for k, v in meta.items() if k not in NOT_BACKED_UP}


def backup_filename(now: datetime, encrypted: bool) -> str:
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d-%H%M")
    return f"medex-backup-{stamp}{'-encrypted' if encrypted else ''}.json"


def outcomes_filename(now: datetime) -> str:
    return f"medex-outcomes-{now.astimezone(UTC).strftime('%Y-%m-%d')}.csv"


def passphrase_problem(passphrase: str, confirm: str) -> str:
    """A plain message when a new passphrase is not usable, else ``""``."""
    if len(passphrase) < 10:
        return "Use a passphrase of at least 10 characters (a few words are easy to remember)."
    if passphrase != confirm:
        return "The two passphrases are not the same."
    return ""


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def days_since(last_backup: Any, now: datetime) -> int | None:
    moment = _parse_moment(last_backup)
    if moment is None:
        return None
    return max(0, (now - moment).days)


def backup_items(last_backup: Any, now: datetime) -> list[DashboardItem]:
    """The dashboard's backup line: days since the last backup; urgent after
    ``BACKUP_NAG_DAYS`` days or when there has never been one."""
    days = days_since(last_backup, now)
    if days is None:
        return [
            DashboardItem(
                kind="backup",
                title="No backup yet",
                detail="Your records live only on this device. Export a backup and keep it "
                "somewhere safe (another device or a USB drive).",
                link="#/data",
                link_label="Back up now",
                severity="urgent",
            )
        ]
    if days > BACKUP_NAG_DAYS:
        return [
            DashboardItem(
                kind="backup",
                title=f"Last backup {days} days ago",
                detail=f"Back up at least every {BACKUP_NAG_DAYS} days so a lost or broken "
                "device does not lose your records.",
                link="#/data",
                link_label="Back up now",
                severity="urgent",
                since=_parse_moment(last_backup),
            )
        ]
    when = "today" if days == 0 else ("yesterday" if days == 1 else f"{days} days ago")
    return [
        DashboardItem(
            kind="backup",
            title=f"Last backup {when}",
            link="#/data",
            link_label="Backups",
            severity="info",
        )
    ]


async def backup_dashboard(repo: Repository, now: datetime | None = None) -> list[DashboardItem]:
    return backup_items(await repo.get_meta(LAST_BACKUP_KEY), now or datetime.now(UTC))


# -- restore ------------------------------------------------------------------------------------


def preview_rows(preview: RestorePreview) -> list[dict[str, Any]]:
    """One row per record type that the backup or this device holds, for the preview table."""
    rows = []
    for store, p in sorted(preview.stores.items(), key=lambda kv: store_label(kv[0])):
        if not (p.new or p.changed or p.unchanged or p.only_here or p.conflicts):
            continue
        rows.append(
            {
                "store": store,
                "label": store_label(store),
                "new": p.new,
                "changed": p.changed,
                "unchanged": p.unchanged,
                "only_here": p.only_here,
                "conflicts": len(p.conflicts),
            }
        )
    return rows


def progress_label(stage: str, done: int, total: int) -> str:
    words = {
        "reading": "Reading the file",
        "checking": "Checking the checksum",
        "validating": "Checking every record",
        "audit": "Verifying the audit log",
        "writing": "Writing",
    }.get(stage, stage.capitalize())
    return f"{words} ({done:,} of {total:,})" if total > 1 else words
