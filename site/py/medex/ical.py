"""iCalendar files (RFC 5545) of planned sessions, for the practitioner's own calendar.

Small and pure, written here rather than taken from a library: only VCALENDAR with VEVENTs.
Times are *floating* local times (RFC 5545 §3.3.5, form #1: ``DTSTART:20260310T090000``, no
``Z``, no ``TZID``): a 9:00 session shows at 9:00 in whatever time zone the calendar is in,
which is the practice's own; the browser's time zone is not needed. ``DTSTAMP`` is UTC, as
the standard requires. Lines end with CRLF and are folded at 75 octets without splitting a
UTF-8 character (§3.1); text values escape backslash, semicolon, comma and newlines (§3.3.11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PRODID = "-//MedEx Practice//Schedule//EN"
LIMIT = 75  # octets per line, CRLF excluded


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    start: datetime  # local wall-clock time, naive
    minutes: int
    summary: str
    description: str = ""
    location: str = ""
    cancelled: bool = False


def escape_text(value: str) -> str:
    """A TEXT value (§3.3.11): backslash, semicolon and comma escaped, newlines as ``\\n``."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """One content line folded at 75 octets (§3.1): CRLF then a space before each
    continuation, never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    limit = LIMIT
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size = "", 0
            limit = LIMIT - 1  # the continuation's leading space counts
        current += ch
        size += n
    out.append(current)
    return "\r\n ".join(out)


def local_time(value: datetime) -> str:
    """A floating DATE-TIME: ``YYYYMMDDTHHMMSS``."""
    return value.replace(tzinfo=None, microsecond=0).strftime("%Y%m%dT%H%M%S")


def utc_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: Iterable[Event], name: str, stamp: datetime) -> str:
    """The whole ``.ics`` file, CRLF line ends."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{utc_time(stamp)}",
            f"DTSTART:{local_time(e.start)}",
            f"DTEND:{local_time(e.start + timedelta(minutes=e.minutes))}",
            f"SUMMARY:{escape_text(e.summary)}",
        ]
        if e.description:
            lines.append(f"DESCRIPTION:{escape_text(e.description)}")
        if e.location:
            lines.append(f"LOCATION:{escape_text(e.location)}")
        lines.append(f"STATUS:{'CANCELLED' if e.cancelled else 'CONFIRMED'}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
