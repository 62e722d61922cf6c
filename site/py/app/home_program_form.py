"""The home-program form (HTML field names) ↔ ``services.home_programs.SaveHomeProgram``.

Each row has a stable key ``k``: its fields are ``r_<k>_<field>``, in the rows' order; a
photo chosen in the row's ``r_<k>_photo`` file input arrives from the shell as
``r_<k>_photo_data_url`` (scaled down on the device) or ``r_<k>_photo_error``. The
use case's errors (``rows.2.reps``) come back under the row's own field names::

    command, errors = command_from_form(client_id, data)
    try:
        await save_home_program(app.repo, command)
    except Refused as exc:
        fail(app, name, data, map_errors(exc.errors, command))
"""

from __future__ import annotations

import re
from typing import Any

from medex.home_programs import HomeProgram
from medex.services.home_programs import RowCommand, SaveHomeProgram

ROW_TEXT = ("exercise_id", "name", "drawing", "picture_id", "cues", "safety")
DOSE = ("sets", "reps", "seconds", "days_per_week", "times_per_day")
_ROW = re.compile(r"^r_([a-z0-9]{1,16})_exercise_id$")
_MIN_SEC = re.compile(r"^(\d{1,3}):([0-5]\d)$")
_MINUTES = re.compile(r"^(\d{1,3})\s*(?:min|mins|minutes?)$", re.IGNORECASE)


def seconds_from_text(text: str) -> str:
    """What was typed for a time, in seconds: "45" → "45", "1:30" → "90", "10 min" → "600".
    Anything else is handed on as typed (the dose check says what is wrong)."""
    value = text.strip()
    if m := _MIN_SEC.match(value):
        return str(int(m[1]) * 60 + int(m[2]))
    if m := _MINUTES.match(value):
        return str(int(m[1]) * 60)
    return value


def seconds_text(seconds: int | None) -> str:
    """A time as shown in its field: under a minute in seconds, else min:sec."""
    if seconds is None:
        return ""
    if seconds < 60:
        return str(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def row_order(data: dict[str, Any]) -> list[str]:
    """The rows' keys in the order of the form (its ``r_<k>_exercise_id`` fields): the form's
    own order, never a field a restored draft could hold stale."""
    return list(dict.fromkeys(m[1] for name in data if (m := _ROW.match(name))))


def program_values(program: HomeProgram | None) -> dict[str, Any]:
    """The form's values for a stored program."""
    if program is None:
        return {"safety_notes": HomeProgram.model_fields["safety_notes"].default}
    values: dict[str, Any] = {"safety_notes": program.safety_notes}
    for e in program.exercises:
        p = f"r_{e.key}_"
        values.update({p + name: getattr(e, name) for name in ROW_TEXT})
        values.update(
            {
                p + "sets": str(e.dose.sets),
                p + "reps": "" if e.dose.reps is None else str(e.dose.reps),
                p + "seconds": seconds_text(e.dose.seconds),
                p + "days_per_week": str(e.dose.days_per_week),
                p + "times_per_day": str(e.dose.times_per_day),
            }
        )
    return values


def command_from_form(client_id: str, data: dict[str, Any]) -> tuple[SaveHomeProgram, dict]:
    """The command for the form as typed, and errors found here (a photo that could not be
    read)."""
    errors: dict[str, str] = {}
    rows = []
    for k in row_order(data):
        p = f"r_{k}_"
        if data.get(p + "photo_error"):
            errors[p + "photo"] = str(data[p + "photo_error"])
        dose = {name: str(data.get(p + name, "") or "") for name in DOSE}
        dose["seconds"] = seconds_from_text(dose["seconds"])
        rows.append(
            RowCommand(
                key=k,
                **{name: str(data.get(p + name, "") or "") for name in ROW_TEXT},
                dose=dose,
                new_picture=str(data.get(p + "photo_data_url", "") or ""),
                picture_for_everyone=bool(data.get(p + "for_everyone")),
                use_drawing=bool(data.get(p + "use_drawing")),
            )
        )
    op = str(data.get("op", "save"))
    verb, _, key = op.partition(":")
    command = SaveHomeProgram(
        client_id=client_id,
        rows=rows,
        safety_notes=str(data.get("safety_notes", "") or ""),
        remove_key=key if verb == "remove" else "",
        move_up_key=key if verb == "up" else "",
        add_exercise_id=str(data.get("add_exercise_id", "") or "") if verb == "add" else "",
    )
    if verb == "add" and not command.add_exercise_id:
        errors["add_exercise_id"] = "Choose an exercise to add"
    return command, errors


def map_errors(errors: dict[str, str], command: SaveHomeProgram) -> dict[str, str]:
    """The use case's errors under the form's field names."""
    kept = [r for r in command.rows if r.key != command.remove_key]
    out: dict[str, str] = {}
    for loc, message in errors.items():
        parts = loc.split(".")
        if parts[0] == "rows" and len(parts) >= 3 and parts[1].isdigit():
            i = int(parts[1])
            field = "photo" if parts[2] == "new_picture" else parts[2]
            name = f"r_{kept[i].key}_{field}" if i < len(kept) else "__all__"
            out.setdefault(name, message)
        elif parts[0] in ("safety_notes", "add_exercise_id"):
            out.setdefault(parts[0], message)
        else:
            out.setdefault("__all__", message)
    return out
