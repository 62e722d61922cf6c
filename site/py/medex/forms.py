"""Turning form input into records, and pydantic errors into plain words next to fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

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


class FormResult(BaseModel):
    """Outcome of validating a form: either a record or field errors (and what was typed)."""

    ok: bool
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
