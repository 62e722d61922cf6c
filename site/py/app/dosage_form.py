"""The dosage fields of a form (sets, reps, load, resistance, time, distance) ↔
``medex.exercises.Dosage``: shared by a session log's exercise rows (``ex_<k>_`` prefix) and
the exercise library's defaults (no prefix)::

    errors: dict[str, str] = {}
    raw = parse_dosage("ex_0_", data, errors)      # {"sets": "2", "duration_s": 90, …}
    try:
        dosage = Dosage(**raw)
    except ValidationError as exc:
        map_dosage_errors("ex_0_", exc, errors)     # errors next to the row's fields
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from medex.exercises import Dosage
from medex.forms import field_errors

DOSAGE_FIELDS = ("sets", "reps", "load", "load_unit", "resistance", "duration", "distance_m")


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    if seconds > 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds} s"


def parse_duration(text: str) -> int | None:
    """'30 s', '30s', '10 min', '10m', '1:30' → seconds. A bare number needs its unit."""
    raw = " ".join(str(text or "").lower().split())
    if not raw:
        return None
    if m := re.fullmatch(r"(\d+):([0-5]\d)", raw):
        return int(m[1]) * 60 + int(m[2])
    if m := re.fullmatch(r"(\d+(?:\.\d+)?) ?(s|sec|secs|seconds?)", raw):
        return round(float(m[1]))
    if m := re.fullmatch(r"(\d+(?:\.\d+)?) ?(m|min|mins|minutes?)", raw):
        return round(float(m[1]) * 60)
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        raise ValueError("Add the unit: s or min (e.g. 30 s, 10 min)")
    raise ValueError("Write the time as 30 s, 10 min or 1:30")


def num_text(value: Any) -> str:
    """A number as typed back into a field: 2.0 → "2", None → ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def blank_to_none(value: Any) -> Any:
    """A typed value with surrounding spaces removed; None when nothing was typed."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def dosage_values(prefix: str, d: Dosage) -> dict[str, str]:
    return {
        f"{prefix}sets": num_text(d.sets),
        f"{prefix}reps": num_text(d.reps),
        f"{prefix}load": num_text(d.load),
        f"{prefix}load_unit": d.load_unit.value if d.load_unit else "",
        f"{prefix}resistance": d.resistance,
        f"{prefix}duration": duration_text(d.duration_s),
        f"{prefix}distance_m": num_text(d.distance_m),
    }


def parse_dosage(prefix: str, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The Dosage fields of a form row (errors added under the row's field names)."""
    out: dict[str, Any] = {}
    for name in ("sets", "reps", "load", "load_unit", "resistance", "distance_m"):
        value = blank_to_none(data.get(prefix + name))
        if value is not None:
            out[name] = value
    try:
        seconds = parse_duration(str(data.get(prefix + "duration", "")))
    except ValueError as exc:
        errors[prefix + "duration"] = str(exc)
    else:
        if seconds is not None:
            out["duration_s"] = seconds
    return out


_DOSAGE_MESSAGE_FIELDS = (
    ("unit of the load", "load_unit"),
    ("A load above", "load"),
    ("number of sets", "sets"),
    ("sets × reps", "reps"),
)


def dosage_error_field(message: str) -> str:
    """The field a whole-dosage error belongs next to (read from its message)."""
    for needle, name in _DOSAGE_MESSAGE_FIELDS:
        if needle in message:
            return name
    return "reps"


def map_dosage_errors(
    prefix: str,
    exc: ValidationError,
    errors: dict[str, str],
    fields: Iterable[str] = DOSAGE_FIELDS,
) -> None:
    """Put a Dosage (or exercise row) validation error next to its field in the form;
    ``fields`` are the row's own field names (an error elsewhere goes to a dosage field)."""
    known = set(fields)
    for loc, message in field_errors(exc).items():
        name = loc.split(".")[-1]
        if name == "duration_s":
            name = "duration"
        if name in ("__all__", "defaults") or name not in known:
            name = dosage_error_field(message)
        errors.setdefault(prefix + name, message)
