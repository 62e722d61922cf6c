"""Programs: the outcome-based packages the practice sells (shipped defaults and the
practitioner's own), their editor with discharge rules, and custom measures."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from medex.forms import field_errors
from medex.measures import CATALOGUE, CustomMeasure
from medex.programs import (
    EPISODE_ERROR_FIELDS,
    ProgramTemplate,
    format_money,
    parse_money,
)
from medex.records import utc_now
from medex.services.outcomes import custom_measure_map, list_programs

from ..core import App, FormState, View, action, route

NEW = "new"
CRITERION_FIELDS = ("measure_id", "kind", "comparator", "value", "norm", "flag_kind", "note")
CRITERION_KINDS = {
    "threshold": "Compared with a number",
    "norm": "Against the age/sex norm",
    "no_flag": "No published cut-off met",
    "mcid_improvement": "Improved by the MCID",
}
COMPARATORS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
NORM_TARGETS = {"not_below_norm": "not below the normal range", "within_norm": "within it"}
FLAG_KINDS = {
    "fall_risk": "fall risk",
    "sarcopenia": "sarcopenia",
    "function": "function",
    "health_risk": "health risk",
}
DIRECTIONS = {"higher_is_better": "Higher is better", "lower_is_better": "Lower is better"}
NUMBER_FIELDS = (
    "reassess_every_sessions",
    "reassess_every_days",
    "expected_sessions",
    "sessions_included",
    "expected_weeks",
)
_ROW = re.compile(r"^c_(\d+)_measure_id$")
_CRITERION_ERR = re.compile(r"^discharge_criteria\.(\d+)")


def _key(measure_id: str) -> str:
    return measure_id.replace(":", "_").replace("-", "_")


async def _measure_names(app: App) -> dict[str, str]:
    names = {mid: m.name for mid, m in CATALOGUE.items()}
    for mid, c in (await custom_measure_map(app.repo)).items():
        names[mid] = f"{c.name} (custom)"
    return names


@route("programs", label="Programs", order=30)
async def programs(app: App, params: dict[str, str]) -> View:
    form = app.state.forms.get("custom-measure")
    names = await _measure_names(app)
    return "views/outcomes/programs.html", {
        "programs": await list_programs(app.repo, include_archived=True),
        "names": names,
        "customs": sorted(
            (await custom_measure_map(app.repo)).values(), key=lambda c: c.name.lower()
        ),
        "cm_values": form.values if form else {"direction": "higher_is_better"},
        "cm_errors": form.errors if form else {},
        "directions": DIRECTIONS,
    }


def _program_values(p: ProgramTemplate) -> dict[str, Any]:
    values: dict[str, Any] = {
        "program_id": p.id,
        "name": p.name,
        "description": p.description,
        "price": f"{p.price_cents / 100:.2f}" if p.price_cents is not None else "",
        "diagnosis_prefixes": ", ".join(p.diagnosis_prefixes),
        "archived": p.archived,
    }
    for f in NUMBER_FIELDS:
        v = getattr(p, f)
        values[f] = "" if v is None else str(v)
    for mid in p.measure_ids:
        values[f"measure_{_key(mid)}"] = True
    for i, c in enumerate(p.discharge_criteria):
        values.update(
            {
                f"c_{i}_measure_id": c.measure_id,
                f"c_{i}_kind": c.kind,
                f"c_{i}_comparator": c.comparator or "",
                f"c_{i}_value": "" if c.value is None else f"{c.value:g}",
                f"c_{i}_norm": c.norm or "",
                f"c_{i}_flag_kind": c.flag_kind or "",
                f"c_{i}_note": c.note,
            }
        )
    return values


def _rows(values: dict[str, Any]) -> list[int]:
    return sorted(int(m[1]) for k in values if (m := _ROW.match(k)))


@route("program")
async def program_edit(app: App, params: dict[str, str]) -> View:
    program_id = params.get("id", NEW)
    current = None
    if program_id != NEW:
        current = next(
            (p for p in await list_programs(app.repo, include_archived=True) if p.id == program_id),
            None,
        )
    form = app.state.forms.get(f"program:{program_id}")
    if form:
        values, errors = form.values, form.errors
    elif current is not None:
        values, errors = _program_values(current), {}
    else:
        values, errors = {"program_id": NEW, "reassess_every_days": "42"}, {}
    rows = _rows(values)
    extra = int(values.get("_extra_rows", 1) or 1)
    nxt = (max(rows) + 1) if rows else 0
    rows += list(range(nxt, nxt + extra))
    names = await _measure_names(app)
    return "views/outcomes/program.html", {
        "program": current,
        "program_id": program_id,
        "values": values,
        "errors": errors,
        "rows": rows,
        "names": names,
        "key": _key,
        "kinds": CRITERION_KINDS,
        "comparators": COMPARATORS,
        "norm_targets": NORM_TARGETS,
        "flag_kinds": FLAG_KINDS,
        "format_money": format_money,
    }


def _criteria(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
    out, index = [], []
    for i in _rows(data):
        if not str(data.get(f"c_{i}_measure_id", "")).strip():
            continue
        row = {f: data.get(f"c_{i}_{f}", "") for f in CRITERION_FIELDS}
        kind = row["kind"] or "threshold"
        if kind != "threshold":
            row["comparator"], row["value"] = "", ""
        if kind != "norm":
            row["norm"] = ""
        if kind != "no_flag":
            row["flag_kind"] = ""
        out.append({k: v for k, v in row.items() if v not in ("", None)} | {"kind": kind})
        index.append(i)
    return out, index


@action("save-program")
async def save_program(app: App, data: dict[str, Any]) -> None:
    program_id = str(data.get("program_id", NEW)) or NEW
    name = f"program:{program_id}"
    if data.get("intent") == "add_rule":
        extra = int(data.get("_extra_rows", 1) or 1) + 1
        app.state.forms[name] = FormState({**data, "_extra_rows": extra}, {})
        return
    names = await _measure_names(app)
    measure_ids = [mid for mid in names if data.get(f"measure_{_key(mid)}")]
    errors: dict[str, str] = {}
    price_cents = None
    if str(data.get("price", "")).strip():
        try:
            price_cents = parse_money(data["price"])
        except ValueError as exc:
            errors["price"] = str(exc)
    criteria, index = _criteria(data)
    current = None
    if program_id != NEW:
        current = next(
            (p for p in await list_programs(app.repo, include_archived=True) if p.id == program_id),
            None,
        )
    base = current.model_dump() if current is not None else {}
    payload = {
        **base,
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "measure_ids": measure_ids,
        "price_cents": price_cents,
        "discharge_criteria": criteria,
        "diagnosis_prefixes": [
            p for p in re.split(r"[,\s;]+", str(data.get("diagnosis_prefixes", ""))) if p
        ],
        "archived": bool(data.get("archived")),
        **{f: str(data.get(f, "")).strip() or None for f in NUMBER_FIELDS},
    }
    if current is not None:
        payload["updated_at"] = utc_now()
    try:
        program = ProgramTemplate.model_validate(payload)
    except ValidationError as exc:
        errors.update(_map_errors(field_errors(exc), index))
    if errors:
        app.state.forms[name] = FormState(dict(data), errors)
        first = next((k for k in errors if k != "__all__"), "")
        app.state.focus = f"field-{first}" if first else ""
        return
    await app.repo.save(program)
    app.state.forms.pop(name, None)
    app.navigate("#/programs")
    app.state.flash = f"Program saved: {program.name}."


def _map_errors(errors: dict[str, str], index: list[int]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, message in errors.items():
        m = _CRITERION_ERR.match(key)
        if m:
            i = int(m[1])
            row = index[i] if i < len(index) else 0
            part = key.split(".")[2] if key.count(".") >= 2 else "measure_id"
            out.setdefault(f"c_{row}_{part}", message)
        elif key == "price_cents":
            out.setdefault("price", message)
        elif key.startswith("diagnosis_prefixes"):
            out.setdefault("diagnosis_prefixes", message)
        elif key == "measure_ids":
            out.setdefault("measures", message)
        elif key == "__all__":
            if "interval" in message:
                out.setdefault("reassess_every_sessions", message)
            elif "discharge rule uses" in message:
                out.setdefault("measures", message)
            else:
                out.setdefault(EPISODE_ERROR_FIELDS.get(message, "__all__"), message)
        else:
            out.setdefault(key, message)
    return out


@action("save-custom-measure")
async def save_custom_measure(app: App, data: dict[str, Any]) -> None:
    fields = ("name", "unit", "direction", "mcid", "mcid_source", "decimals")
    typed = {f: data.get(f, "") for f in fields}
    payload = {k: (v.strip() if isinstance(v, str) else v) for k, v in typed.items()}
    payload = {k: v for k, v in payload.items() if v not in ("", None)}
    try:
        measure = CustomMeasure.model_validate(payload)
    except ValidationError as exc:
        errors = {k.split(".")[0]: v for k, v in field_errors(exc).items()}
        app.state.forms["custom-measure"] = FormState(typed, errors)
        first = next((k for k in errors if k != "__all__"), "")
        app.state.focus = f"field-cm_{first}" if first else ""
        return
    await app.repo.save(measure)
    app.state.forms.pop("custom-measure", None)
    app.state.flash = f"Custom measure added: {measure.name} ({measure.unit})."
