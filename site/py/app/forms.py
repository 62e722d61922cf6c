"""Forms in the app layer: the helpers every binder shares (HTML field names → a typed
command), and what a screen does with a refused command: keep what was typed with the errors
next to their fields, and put the focus on the first one.

A screen action is bind → call → flash/navigate, the same everywhere::

    command = goals_command(data, clock.today())      # app/intake_form.py, the form's binder
    try:
        await save_goals(app.repo, command)            # medex/services/intake.py, the use case
    except Refused as exc:
        refuse(app, "goals", data, exc, goals_field)   # the command's fields → the form's names
        return
    app.state.flash = "Goals and functional deficits saved."
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from medex.forms import Refused

from .core import App, FormState

C = TypeVar("C", bound=BaseModel)


@dataclass
class Bound(Generic[C]):
    """A form bound to its command, with the way back: ``field`` names the form field of a
    command field (for the refusal's messages)."""

    command: C
    field: Callable[[str], str] = str


def text(data: dict[str, Any], name: str) -> str:
    """A text field as typed (absent: empty)."""
    value = data.get(name, "")
    return "" if value is None else str(value)


def texts(data: dict[str, Any], names: Iterable[str]) -> dict[str, str]:
    """Several text fields as typed, by name."""
    return {name: text(data, name) for name in names}


def checked(data: dict[str, Any], name: str) -> bool:
    """A checkbox: ticked when sent with any value."""
    return bool(data.get(name))


def yes_no(data: dict[str, Any], name: str) -> bool | None:
    """A Yes/No radio pair: True, False, or None when neither is chosen."""
    return {"yes": True, "no": False}.get(text(data, name).strip().lower())


def rows(
    data: dict[str, Any], prefix: str, names: Iterable[str]
) -> tuple[list[dict[str, Any]], list[int]]:
    """A repeating group named ``<prefix>_<name>_<i>`` (e.g. ``med_dose_0``), blank rows
    dropped: (the rows, each one's index on the form) so a refusal of the ``n``-th row kept
    goes back to the row it came from."""
    names = tuple(names)
    out: list[dict[str, Any]] = []
    where: list[int] = []
    i = 0
    while any(f"{prefix}_{n}_{i}" in data for n in names):
        row = {n: data.get(f"{prefix}_{n}_{i}", "") for n in names}
        if any(str(v).strip() for v in row.values() if not isinstance(v, bool)):
            out.append(row)
            where.append(i)
        i += 1
    return out, where


def row_field(path: str, groups: dict[str, tuple[str, list[int]]]) -> str | None:
    """``medications.0.name`` → ``med_name_<i>`` for a group ``{"medications": ("med", where)}``
    (``where`` from ``rows``); None for a path that is not a row field."""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] in groups and parts[1].isdigit():
        prefix, where = groups[parts[0]]
        n = int(parts[1])
        return f"{prefix}_{parts[2]}_{where[n] if n < len(where) else n}"
    return None


def form_errors(exc: Refused, field: Callable[[str], str] | None = None) -> dict[str, str]:
    """The refusal's messages by form field: ``field`` names the form field of a command
    field (the binder's mapping; by default the same name). Two fields landing on one form
    field keep the first message."""
    out: dict[str, str] = {}
    for key, message in exc.errors.items():
        out.setdefault(field(key) if field else key, message)
    return out


def refuse(
    app: App,
    name: str,
    values: dict[str, Any],
    exc: Refused,
    field: Callable[[str], str] | None = None,
) -> None:
    """A refused command: keep what was typed (``values``) and show the refusal's messages
    next to their fields (``field`` maps the command's fields to the form's names)."""
    fail(app, name, values, form_errors(exc, field))


def fail(app: App, name: str, values: dict[str, Any], errors: dict[str, str]) -> None:
    """Keep the typed ``values`` and ``errors`` of form ``name`` for the next render; focus the
    first field in error (``field-<name>``; none for a form-wide ``__all__`` error)."""
    app.state.forms[name] = FormState(values=dict(values), errors=dict(errors))
    first = next((k for k in errors if k != "__all__"), "")
    app.state.focus = f"field-{first}" if first else ""
    app.state.flash = ""


def typed(
    app: App, name: str, client_id: str | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, errors) kept for form ``name`` by a failed save, or two empty dicts; with
    ``client_id``, only when they were typed for that client."""
    form = app.state.forms.get(name)
    if form is None:
        return {}, {}
    if client_id is not None and form.values.get("client_id", client_id) != client_id:
        return {}, {}
    return dict(form.values), dict(form.errors)
