"""The exercise library: the practitioner's exercises (name, category, default parameters,
cues), seeded with the starter set on first use. Renaming never changes past session logs:
each logged entry keeps the name it was logged under."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from medex.exercises import CATEGORY_LABELS, LOAD_UNIT_LABELS, Dosage, Exercise
from medex.forms import field_errors
from medex.services.sessions import list_exercises, save_exercise, seed_starter_exercises

from ..core import App, View, action, route
from ..dosage_form import dosage_values, map_dosage_errors, parse_dosage
from ..forms import fail

FORM = "exercise"
TEXT = ("name", "category", "modality", "cues")


def exercise_values(e: Exercise) -> dict[str, Any]:
    return {
        "exercise_id": e.id,
        "name": e.name,
        "category": e.category.value,
        "modality": e.modality,
        "cues": e.cues,
        "archived": e.archived,
        **dosage_values("", e.defaults),
    }


@route("exercises", label="Exercises", order=40)
async def exercises(app: App, params: dict[str, str]) -> View:
    if not await app.repo.list(Exercise):
        added = await seed_starter_exercises(app.repo)
        if added:
            app.state.flash = (
                f"Your library starts with {added} common exercises: edit them to suit "
                "your clients. Their default sets and reps are starting points, not a "
                "prescription."
            )
    everything = await list_exercises(app.repo, include_archived=True)
    edit = params.get("edit", "")
    form = app.state.forms.get(FORM)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if form and form.values.get("exercise_id", "") == ("" if edit == "new" else edit):
        values, errors = form.values, form.errors
    elif edit and edit != "new":
        current = next((e for e in everything if e.id == edit), None)
        values = exercise_values(current) if current else {}
    groups: dict[str, list[Exercise]] = {}
    for e in everything:
        if not e.archived:
            groups.setdefault(CATEGORY_LABELS[e.category], []).append(e)
    return "views/sessions/exercises.html", {
        "groups": list(groups.items()),
        "archived": [e for e in everything if e.archived],
        "edit": edit,
        "values": values or {"exercise_id": "", "category": ""},
        "errors": errors,
        "categories": {c.value: label for c, label in CATEGORY_LABELS.items()},
        "units": {u.value: label for u, label in LOAD_UNIT_LABELS.items()},
    }


@action("save-exercise")
async def save_exercise_action(app: App, data: dict[str, Any]) -> None:
    exercise_id = str(data.get("exercise_id", "") or "")
    errors: dict[str, str] = {}
    defaults = parse_dosage("", data, errors)
    dosage = None
    try:
        dosage = Dosage(**defaults)
    except ValidationError as exc:
        map_dosage_errors("", exc, errors)
    existing = await app.repo.get(Exercise, exercise_id) if exercise_id else None
    fields = {k: str(data.get(k, "") or "").strip() for k in TEXT}
    if not fields["category"]:
        errors["category"] = "Choose a category"
    exercise = None
    if not errors:
        base = existing.model_dump() if existing else {}
        try:
            exercise = Exercise.model_validate(
                {**base, **fields, "defaults": dosage, "archived": bool(data.get("archived"))}
            )
        except ValidationError as exc:
            for loc, message in field_errors(exc).items():
                errors.setdefault(loc.split(".")[0], message)
    if exercise is not None:
        try:
            await save_exercise(app.repo, exercise)
        except ValueError as exc:
            errors["name"] = str(exc)
    if errors or exercise is None:
        fail(app, FORM, {**data, "exercise_id": exercise_id}, errors)
        return
    app.state.forms.pop(FORM, None)
    app.navigate("#/exercises")
    renamed = existing is not None and existing.name != exercise.name
    app.state.flash = f"{exercise.name} saved." + (
        " Past session logs keep the name they were logged under." if renamed else ""
    )
