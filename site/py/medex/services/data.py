"""Data safety use cases that need no storage of their own: which audit entries a save
writes, what a backup leaves out, the backup reminder on the dashboard, the restore preview
as table rows.

The browser repository (``app.browser``) calls ``audit_entries_for`` on every save and writes
the entries in the same IndexedDB transaction as the records; the Data screen uses the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import revisions
from ..dashboard import DashboardItem
from ..demo_marker import DEMO_META_KEY
from ..navigation import Screen
from ..repository import Repository
from ..stores import STORE_LABELS

if TYPE_CHECKING:
    from ..backup import RecordProblem, RestorePreview

LAST_BACKUP_KEY = "last_backup"
# Auto-lock (encryption at rest): minutes without a tap or key press; saved at first run so
# it applies from the first reload on, even before the setting is ever changed.
IDLE_KEY = "idle_minutes"
AUTO_LOCK_DEFAULT_MINUTES = 10
UNDO_SNAPSHOT_KEY = "undo_snapshot"
# Beside the snapshot: when and what was restored (shown on the Data screen), and what the
# restore wrote (``backup.restore_changes``), so an undo puts back only what is still as the
# restore left it.
UNDO_INFO_KEY = "undo_snapshot_info"
UNDO_CHANGES_KEY = "undo_restore_changes"
# Backup reminder: nag once the last backup is older than this.
BACKUP_NAG_DAYS = 7
# Meta keys that never go into a backup: the encryption set-up (a backup is encrypted with its
# own passphrase), the pre-restore snapshot (a backup inside a backup), typed drafts, and the
# device-only bookkeeping.
DRAFT_PREFIX = "draft:"  # one meta value per form's typed draft
NOT_BACKED_UP: frozenset[str] = frozenset(
    {
        "crypto",
        "encryption",
        UNDO_SNAPSHOT_KEY,
        UNDO_INFO_KEY,
        UNDO_CHANGES_KEY,
        "drafts",
        LAST_BACKUP_KEY,
        DEMO_META_KEY,  # a backup of the demo restores as a practice's records, not a demo
        "persist_requested",
        "idle_minutes",
    }
)


def store_label(store: str) -> str:
    return STORE_LABELS.get(store, store.replace("_", " ").capitalize())


def problem_in_words(problem: RecordProblem) -> str:
    """A backup record's problem as the practitioner reads it: the kind of record with the
    start of its id (to find it again), the field in words, then what is wrong.

    >>> from medex.backup import RecordProblem
    >>> problem_in_words(RecordProblem("session_logs", "a5486896-98", "exercises.0.notes", "Too long"))
    'Session logs, record a5486896: exercises › 1 › notes: Too long'
    """
    where = store_label(problem.store)
    if problem.id:
        where += f", record {problem.id[:8]}"
    parts = [
        str(int(part) + 1) if part.isdigit() else part.replace("_", " ")
        for part in problem.field.split(".")
        if part
    ]
    field = " › ".join(parts)
    return f"{where}: {field + ': ' if field else ''}{problem.message}"


# -- audit --------------------------------------------------------------------------------------
# Which audit entries a save writes lives with the write path (medex.revisions); the names stay
# importable from here.
audit_action = revisions.audit_action
audit_entries_for = revisions.audit_entries_for
save_changes = revisions.save_changes


# -- backup -------------------------------------------------------------------------------------


def backup_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The meta settings that go into a backup."""
    return {
        k: v for k, v in meta.items() if k not in NOT_BACKED_UP and not k.startswith(DRAFT_PREFIX)
    }


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
                link=Screen("data"),
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
                link=Screen("data"),
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
            link=Screen("data"),
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


# -- undo a restore -----------------------------------------------------------------------------


def record_title(store: str, doc: Mapping[str, Any] | None) -> str:
    """A few words that let the practitioner recognise a record in a list (a name, a date),
    else its type and the start of its id."""
    doc = doc or {}
    name = " ".join(str(doc.get(k) or "") for k in ("first_name", "last_name")).strip()
    if name:
        return name
    for key in ("title", "name", "business_name"):
        if isinstance(doc.get(key), str) and doc[key].strip():
            return doc[key].strip()[:80]
    for key in ("session_date", "assessed_on", "date"):
        if doc.get(key):
            return f"{store_label(store).rstrip('s').lower()} of {doc[key]}"
    return str(doc.get("id", ""))[:8]


def _records(n: int) -> str:
    return f"{n:,} record" if n == 1 else f"{n:,} records"


def undo_lines(counts: Mapping[str, int], done: bool) -> list[str]:
    """What an undo of a restore will do (``done=False``) or did, one plain sentence per kind,
    from ``UndoPlan.counts()``."""
    lines = []
    if counts.get("put_back"):
        lines.append(
            f"{_records(counts['put_back'])} "
            f"{'put' if done else 'will be put'} back as "
            f"{'it was' if counts['put_back'] == 1 else 'they were'} before the restore."
        )
    if counts.get("removed"):
        lines.append(
            f"{_records(counts['removed'])} that the restore added "
            f"{'removed' if done else 'will be removed'}."
        )
    if counts.get("kept_changed"):
        lines.append(
            f"{_records(counts['kept_changed'])} "
            f"{'kept' if done else 'will be kept'} as "
            f"{'it is' if counts['kept_changed'] == 1 else 'they are'} now: changed after the "
            "restore."
        )
    if counts.get("kept_signed"):
        lines.append(
            f"{_records(counts['kept_signed'])} "
            f"{'kept' if done else 'will be kept'}: signed records are never deleted or changed "
            "by an undo."
        )
    return lines


# -- refused writes -----------------------------------------------------------------------------


def refusal_message(kind: str, store: str = "") -> str:
    """What the person is told when a save was refused, by kind: ``stale`` (changed in another
    tab or by a restore since this screen showed it), ``signed`` (signed meanwhile), or
    ``encryption`` (encryption was turned on or off in another tab)."""
    where = f" ({store_label(store)})" if store else ""
    if kind == "stale":
        return (
            f"Not saved: this record{where} was changed in another tab, or by a restore, after "
            "this screen showed it, and saving would overwrite that newer version. What you "
            "typed is kept below. Show the newer version, or keep what you typed and save again."
        )
    if kind == "signed":
        return (
            f"Not saved: this record{where} was signed in the meantime, so it is locked. What "
            "you typed is kept below: add it as an addendum to the signed record if needed."
        )
    return (
        "Not saved: encryption was turned on or off in another tab. This tab has reloaded it; "
        "what you typed is kept. Save again."
    )
