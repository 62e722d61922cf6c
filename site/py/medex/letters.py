"""How documents to a physician word names, programs and durations.

Pure functions over plain values: a salutation from the provider's name ("Dear Dr. Okafor,"),
a program named naturally in a sentence ("a post–total knee replacement program") and the
program's planned duration ("12 weeks (24 sessions)"). Letter conventions, not clinical rules.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Credentials that make a person "Dr." in a letter's salutation (US usage: physicians,
# doctors of podiatry, chiropractic, dentistry, and doctorates).
_DOCTOR_CREDENTIALS = frozenset(
    {
        "md",
        "do",
        "mbbs",
        "mbchb",
        "dpm",
        "dc",
        "dds",
        "dmd",
        "phd",
        "dpt",
        "psyd",
        "od",
        "dnp",
        "edd",
        "frcp",
        "facp",
        "facc",
        "faafp",
    }
)
_TITLES = frozenset({"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# Lower-case words that belong to a surname ("van der Berg", "de la Cruz").
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "da", "di", "la", "le"})
_PROGRAM_WORDS = ("program", "programme", "class", "plan", "course")


def _key(word: str) -> str:
    return re.sub(r"[^a-z]", "", word.lower())


def _credential_keys(text: str) -> set[str]:
    return {_key(part) for part in re.split(r"[,;/\s]+", text) if _key(part)}


def salutation(name: str, credentials: str = "") -> str:
    """The greeting of a letter to a provider: "Dear Dr. Okafor," (surname only).

    "Dr." when the name carries the title or the credentials are a doctor's (MD, DO, PhD …);
    otherwise the full name without credentials ("Dear Sam Patel,"). Credentials written
    into the name after a comma ("Robert Okafor, MD") count as credentials.
    """
    head, _, tail = name.partition(",")
    keys = _credential_keys(credentials) | _credential_keys(tail)
    words = head.split()
    doctor = bool(keys & _DOCTOR_CREDENTIALS)
    while words and _key(words[0]) in _TITLES:
        doctor = doctor or _key(words[0]) in {"dr", "doctor"}
        words.pop(0)
    while len(words) > 1 and (_key(words[-1]) in _SUFFIXES or _key(words[-1]) in keys):
        words.pop()
    if not words:
        return "Dear Doctor," if doctor or not name.strip() else f"Dear {name.strip()},"
    if not doctor:
        return f"Dear {' '.join(words)},"
    surname = [words[-1]]
    for word in reversed(words[:-1]):
        if word in _PARTICLES and len(words) - len(surname) > 1:
            surname.insert(0, word)
        else:
            break
    return f"Dear Dr. {' '.join(surname)},"


def provider_display_name(name: str, credentials: str = "") -> str:
    """A provider's name as lists, partner pages and documents show it: "Maria Chen, MD".

    The credentials follow the name after a comma, once each (also when some were typed into
    the name: "Robert Okafor, MD"); a "Dr."/"Doctor" title in front is dropped when there are
    credentials (never both "Dr." and "MD"), kept when there are none ("Dr. Maria Chen").
    """
    head, _, tail = name.strip().partition(",")
    parts: list[str] = []
    for part in [*re.split(r"\s*,\s*", tail), *re.split(r"\s*[,;]\s*", credentials)]:
        part = part.strip()
        if part and _key(part) not in {_key(p) for p in parts}:
            parts.append(part)
    words = head.split()
    if parts:
        while len(words) > 1 and _key(words[0]) in {"dr", "doctor"}:
            words.pop(0)
    person = " ".join(words)
    if not person:
        return ", ".join(parts)
    return ", ".join([person, *parts])


def program_phrase(name: str) -> str:
    """A program's name as it reads in a sentence: "a post–total knee replacement program".

    A name in sentence case has its first word lower-cased (not an abbreviation such as
    "COPD", nor a possessive such as "Parkinson's"); "Post"/"Pre" join the next word with an
    en dash as in print ("post–total knee replacement"). A name in title case is a proper
    name: "the Cardiac Strength Club program". "program" is added unless the name ends with
    a word like it.
    """
    words = name.split()
    if not words:
        return "an exercise program"
    later = [w for w in words[1:] if w[:1].isalpha()]
    proper = bool(later) and all(w[:1].isupper() for w in later if not w.isupper())
    proper = proper and any(not w.isupper() for w in later)
    if not proper:
        first = words[0]
        if not (len(first) > 1 and first.isupper()) and "'" not in first and "’" not in first:
            words[0] = first[:1].lower() + first[1:]
        if words[0] in ("post", "pre") and len(words) > 1:
            words[:2] = [f"{words[0]}–{words[1]}"]
    phrase = " ".join(words)
    if _key(words[-1]) not in _PROGRAM_WORDS:
        phrase += " program"
    if proper:
        return f"the {phrase}"
    article = "an" if phrase[:1].lower() in "aeiou" else "a"
    return f"{article} {phrase}"


def program_duration(weeks: int | None, sessions: int | None) -> str:
    """ "12 weeks (24 sessions)", "12 weeks", "24 sessions", or "" when neither is set."""
    parts = []
    if weeks:
        parts.append(f"{weeks} week{'s' if weeks != 1 else ''}")
    if sessions:
        parts.append(f"{sessions} session{'s' if sessions != 1 else ''}")
    if len(parts) == 2:
        return f"{parts[0]} ({parts[1]})"
    return parts[0] if parts else ""


def unique_lines(*groups: list[str] | tuple[str, ...] | str) -> list[str]:
    """Items of several lists (or multi-line texts), each once, in order; case and spacing
    do not make a repeat new ("Slow gait" and "slow  gait" are one)."""
    seen: set[str] = set()
    out: list[str] = []
    for group in groups:
        items = group.splitlines() if isinstance(group, str) else group
        for item in items:
            text = " ".join(str(item).split()).strip(" ;,.-•")
            key = text.lower()
            if text and key not in seen:
                seen.add(key)
                out.append(text)
    return out


def long_date(d: date | None) -> str:
    """The documents' one date format: "Mar 10, 2026" ("" for no date)."""
    return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}" if d is not None else ""


def local_time_text(moment: datetime, utc_offset: timedelta | None) -> str:
    """ "Mar 10, 2026 at 09:20 (UTC−5)": a stored UTC moment on the device's clock.

    ``utc_offset`` is the device's offset from UTC at that moment (the platform knows it,
    summer time included); None keeps UTC and says so.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    offset = utc_offset if utc_offset is not None else timedelta(0)
    local = moment + offset
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    zone = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"
    return f"{long_date(local.date())} at {local.strftime('%H:%M')} ({zone})"
