"""Settings → Questionnaire wording: the practice pastes the wording of its licensed forms;
the client's turn on the tablet shows it instead of the app's short labels."""

from __future__ import annotations

from typing import Any

from medex.client_turn import TURN_MEASURES
from medex.forms import Refused
from medex.measures import get_measure
from medex.questionnaire_wording import INSTRUMENTS
from medex.screening import PARQ_PAGE1_LABELS
from medex.services.questionnaire_wording import (
    RemoveWording,
    load_wordings,
    remove_wording,
    save_wording,
)

from ..core import App, View, action, route
from ..forms import refuse, text, typed
from ..questionnaire_form import bind_wording, stored_values, wording_values
from ..render import href

FORM = "questionnaire-wording"


def short_labels(key: str) -> list[str]:
    """The app's own short label of each item, so the practitioner knows which box is which."""
    if key == "parq":
        return [label.split(". ", 1)[-1] for label in PARQ_PAGE1_LABELS.values()]
    labels = [item.label for item in get_measure(TURN_MEASURES[key]).items]
    return ["" if label.startswith("item ") else label for label in labels]  # QuickDASH: none


@route("questionnaire-wording")
async def questionnaire_wording(app: App, params: dict[str, str]) -> View:
    wordings = await load_wordings(app.repo)
    return "views/questionnaire_wording.html", {
        "instruments": INSTRUMENTS,
        "wordings": wordings.wordings,
    }


@route("questionnaire-wording-edit")
async def questionnaire_wording_edit(app: App, params: dict[str, str]) -> View:
    key = params.get("instrument", "")
    spec = INSTRUMENTS.get(key)
    if spec is None:
        return "views/questionnaire_wording_edit.html", {"spec": None}
    wording = (await load_wordings(app.repo)).get(key)
    values, errors = typed(app, FORM)
    if values.get("instrument") != key:  # nothing typed for this questionnaire: as stored
        values, errors = stored_values(wording, key), {}
    return "views/questionnaire_wording_edit.html", {
        "spec": spec,
        "key": key,
        "stored": wording is not None,
        "values": values,
        "errors": errors,
        "labels": short_labels(key),
    }


@action("save-questionnaire-wording")
async def save_questionnaire_wording(app: App, data: dict[str, Any]) -> None:
    bound = bind_wording(data)
    key = bound.command.instrument
    try:
        await save_wording(app.repo, bound.command)
    except Refused as exc:
        refuse(app, FORM, {"instrument": key, **wording_values(data, key)}, exc, bound.field)
        return
    app.state.forms.pop(FORM, None)
    app.navigate(href("questionnaire-wording"))
    app.state.flash = f"{INSTRUMENTS[key].name} wording saved. Clients now see it on the tablet."


@action("remove-questionnaire-wording")
async def remove_questionnaire_wording(app: App, data: dict[str, Any]) -> None:
    key = text(data, "instrument")
    try:
        await remove_wording(app.repo, RemoveWording(instrument=key))
    except Refused as exc:
        app.state.flash = next(iter(exc.errors.values()))
        return
    app.state.forms.pop(FORM, None)
    app.navigate(href("questionnaire-wording"))
    spec = INSTRUMENTS[key]
    app.state.flash = f"{spec.name} wording removed: " + (
        f"clients cannot answer the {spec.name} on the tablet until you enter it again."
        if spec.needs_options
        else "the tablet shows the app's short labels again."
    )
