"""Storage health: is the device running out of space (warn while there is still headroom), and
did a storage error mean the device refused a write (then the app turns read-only).

Pure rules, no browser: the shell feeds them what ``navigator.storage.estimate()`` reports and
the error names IndexedDB/Dexie gave.

Example::

    >>> low_storage_warning(usage=9_950 * MB, quota=10_000 * MB)
    'Storage on this device is running low: 50.0 MB left. Back up your records now and free some space before it runs out.'
    >>> low_storage_warning(usage=1 * MB, quota=10_000 * MB)
    ''
    >>> is_storage_failure(["AbortError", "QuotaExceededError"])
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MB = 1000 * 1000
# Warn while less than this share of the quota, or fewer bytes than this, are left.
LOW_FRACTION = 0.10
LOW_BYTES = 200 * MB

# Error names that mean the device could not store a write (the disk is full or failing, or the
# browser closed the database under the app): QuotaExceededError when the quota is used up,
# UnknownError when the disk itself fails ("Internal error committing transaction"),
# DatabaseClosedError when the browser closed the connection after such an error.
STORAGE_FAILURE_NAMES = frozenset({"QuotaExceededError", "UnknownError", "DatabaseClosedError"})
# An AbortError is a storage failure when nothing of the app's own asked for the abort: no
# cause at all (the browser aborted the commit), a storage cause, or a message saying so.
_STORAGE_WORDS = re.compile(r"quota|disk|space|storage|\bI/?O\b|commit", re.IGNORECASE)
_CAUSES = re.compile(r"\[causes: ([^\]]*)\]")


def format_bytes(value: float) -> str:
    size = float(value)
    for unit in ("bytes", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover (the loop returns)


def storage_left(usage: float | None, quota: float | None) -> int | None:
    """Bytes the app may still store, or None when the browser does not say."""
    if usage is None or quota is None or quota <= 0:
        return None
    return max(0, int(quota - usage))


def is_low(usage: float | None, quota: float | None) -> bool:
    left = storage_left(usage, quota)
    return left is not None and (left < LOW_BYTES or left < LOW_FRACTION * float(quota or 0))


def low_storage_warning(usage: float | None, quota: float | None) -> str:
    """What the warning banner says while space runs low (before writes fail); "" if fine."""
    if not is_low(usage, quota):
        return ""
    left = storage_left(usage, quota) or 0
    return (
        f"Storage on this device is running low: {format_bytes(left)} left. "
        "Back up your records now and free some space before it runs out."
    )


def persistence_answer(granted: bool | None) -> str:
    """What the practitioner is told after asking the browser to keep the records even when the
    device runs low on space (persistent storage). ``None``: the browser is still asking the
    person (Firefox shows a prompt and answers only once it is chosen)."""
    if granted is None:
        return (
            "Your browser is asking whether MedEx Practice may keep its data in persistent "
            "storage: choose Allow in its prompt. The answer shows here once you have chosen."
        )
    if granted:
        return "Storage is now persistent: the browser will not clear it to free space."
    return (
        "The browser did not grant persistent storage. Installing the app "
        "(Add to Home Screen) usually makes it persistent; keep regular backups."
    )


def error_causes(name: str, text: str) -> list[str]:
    """The error names in a storage error: its own name and the causes js/storage.js lists as
    ``[causes: AbortError < QuotaExceededError]`` in its message."""
    names = [name] if name else []
    for found in _CAUSES.findall(text):
        names += [n.strip() for n in found.split("<") if n.strip()]
    return names


def is_storage_failure(causes: Iterable[str], message: str = "") -> bool:
    """True when a refused write means the device cannot store it (full or failing storage):
    the app then turns read-only. A refusal of the app's own (a stale revision, a moved audit
    chain, a constraint) is not one."""
    names = [n for n in causes if n]
    if STORAGE_FAILURE_NAMES & set(names):
        return True
    if "QuotaExceededError" in message:
        return True
    if "AbortError" in names:
        others = [n for n in names if n not in ("AbortError", "Error", "DexieError")]
        return not others or bool(_STORAGE_WORDS.search(message))
    return False
