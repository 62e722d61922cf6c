"""The questionnaire-wording form's binder (Settings → Questionnaire wording): field names →
``SaveWording``; a refusal's ``items.<i>`` goes back to the field ``item_<i + 1>``::

    bound = bind_wording(data)
    await save_wording(app.repo, bound.command)
"""

from __future__ import annotations

from typing import Any

from medex.questionnaire_wording import INSTRUMENTS, Wording, WordingDraft, draft_of
from medex.services.questionnaire_wording import SaveWording

from .forms import Bound, text

FIELDS = ("version", "instructions", "answers")


def item_fields(instrument: str) -> list[str]:
    spec = INSTRUMENTS.get(instrument)
    return [f"item_{i}" for i in range(1, (spec.items if spec else 0) + 1)]


def wording_values(data: dict[str, Any], instrument: str) -> dict[str, str]:
    """What was typed, to keep on a refused save."""
    return {name: text(data, name) for name in (*FIELDS, *item_fields(instrument))}


def stored_values(wording: Wording | None, instrument: str) -> dict[str, str]:
    """The form's values for a stored wording (blank fields without one)."""
    draft = draft_of(wording)
    items = draft.items or [""] * len(item_fields(instrument))
    values = {"version": draft.version, "instructions": draft.instructions}
    values["answers"] = draft.answers
    return values | dict(zip(item_fields(instrument), items, strict=True))


def _field(path: str) -> str:
    parts = path.split(".")
    if parts[0] == "items" and len(parts) == 2 and parts[1].isdigit():
        return f"item_{int(parts[1]) + 1}"
    if parts[0] in FIELDS:
        return parts[0]
    return "__all__"


def bind_wording(data: dict[str, Any]) -> Bound[SaveWording]:
    instrument = text(data, "instrument")
    draft = WordingDraft(
        version=text(data, "version"),
        instructions=text(data, "instructions"),
        answers=text(data, "answers"),
        items=[text(data, name) for name in item_fields(instrument)],
    )
    return Bound(SaveWording(instrument=instrument, draft=draft), _field)
