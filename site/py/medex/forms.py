"""The one refusal of every use case (``Refused``), and pydantic's errors in plain words
next to the field they are about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

_PLAIN = {
    "string_too_short": "This field is required",
    "missing": "This field is required",
    "string_too_long": "This is too long (at most {max_length} characters)",
    "int_parsing": "Enter a whole number",
    "float_parsing": "Enter a number",
    "date_from_datetime_parsing": "Enter a date",
    "date_parsing": "Enter a date (YYYY-MM-DD)",
    "greater_than_equal": "Must be at least {ge}",
    "less_than_equal": "Must be at most {le}",
    "greater_than": "Must be more than {gt}",
    "less_than": "Must be less than {lt}",
    "literal_error": "Choose one of the options",
    "enum": "Choose one of the options",
}


def plain_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "value_error":
        msg = str(error.get("msg", ""))
        return msg.removeprefix("Value error, ")
    template = _PLAIN.get(kind)
    if template:
        try:
            return template.format(**(error.get("ctx") or {}))
        except (KeyError, IndexError):
            return template
    return str(error.get("msg", "This value is not valid"))


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Map 'field' (dotted path for nested fields) to the first plain-words message."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ())) or "__all__"
        out.setdefault(loc, plain_message(err))
    return out


def clean_form(data: dict[str, Any]) -> dict[str, Any]:
    """Form fields arrive as strings: strip them, and treat blank optional fields as absent."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        out[key] = value
    return out


class Refused(ValueError):
    """A use case refused its command: nothing was written. ``errors`` maps a field of the
    command (a dotted path for a nested one, e.g. ``medications.0.name``; ``__all__`` for the
    whole command) to what is wrong, in plain words. The app layer's binder turns the fields
    back into the form's own names; the domain never sees those::

        try:
            history = await save_health_history(repo, command)
        except Refused as exc:
            exc.errors  # {"surgeries.0.performed_on": "A surgery date cannot be in the future"}
    """

    def __init__(self, errors: Mapping[str, str]):
        self.errors: dict[str, str] = dict(errors) or {"__all__": "This was not saved"}
        super().__init__(" ".join(self.errors.values()))

    @classmethod
    def invalid(cls, exc: ValidationError, general: Mapping[str, str] | None = None) -> Refused:
        """A record that did not validate: its fields' messages. A model-wide message (a
        rule over several fields) goes next to the field ``general`` names for it, if any."""
        errors = field_errors(exc)
        message = errors.get("__all__")
        if message is not None and general and message in general:
            errors.pop("__all__")
            errors.setdefault(general[message], message)
        return cls(errors)
