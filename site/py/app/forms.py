"""What a screen does with a form that was not saved: keep what was typed with the errors
next to their fields, and put the focus on the first one.

One helper for every screen, so a refused form behaves the same everywhere::

    result, record = await save_goals(app.repo, client, data, clock.today())
    if not result.ok:
        fail(app, "goals", {**result.values, "client_id": client.id}, result.errors)
        return
"""

from __future__ import annotations

from typing import Any

from .core import App, FormState


def fail(app: App, name: str, values: dict[str, Any], errors: dict[str, str]) -> None:
    """Keep the typed ``values`` and ``errors`` of form ``name`` for the next render; focus the
    first field in error (``field-<name>``; none for a form-wide ``__all__`` error)."""
    app.state.forms[name] = FormState(values=dict(values), errors=dict(errors))
    first = next((k for k in errors if k != "__all__"), "")
    app.state.focus = f"field-{first}" if first else ""
    app.state.flash = ""


def typed(app: App, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, errors) kept for form ``name`` by a failed save, or two empty dicts."""
    form = app.state.forms.get(name)
    return (dict(form.values), dict(form.errors)) if form else ({}, {})
