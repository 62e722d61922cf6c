"""The assessment entry form (HTML field names) ↔ the ``record_assessment`` payload.

Field names: ``m_<measure>_value``, ``m_<measure>_p_<protocol key>``, ``m_<measure>_i_<item
key>`` (item grids), ``m_<measure>_h_<helper>`` (inputs a value is computed from, e.g. gait
speed from the walk time: ``medex.measures.HELPER_INPUTS``), ``pick_<measure>`` (measures
chosen), ``v_<vital>``. Refusals of the service (``measurements.2.value``) are mapped back to
the exact field::

    bound = bind_assessment(data, customs, client_id, episode_id, performed_by, day)
    await record_assessment(repo, bound.command)   # Refused → refuse(..., bound.field)

A value that cannot even be computed from its inputs (a walk time of 0 s, say) is refused by
``bind_assessment`` itself, already with the form's field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from medex.assessments import Assessment
from medex.forms import Refused
from medex.measures import (
    CATALOGUE,
    HELPER_INPUTS,
    MeasureDefinition,
    ProtocolField,
    value_from_helpers,
)
from medex.services.assessment_entry import VITAL_IDS
from medex.services.outcomes import RecordAssessment

from .forms import Bound, text

_ERR = re.compile(r"^measurements\.(\d+)(?:\.(\w+))?")


def number_text(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass
class ProtocolInput:
    name: str  # form field name
    spec: ProtocolField


@dataclass
class MeasureInput:
    m: MeasureDefinition
    protocol: list[ProtocolInput]
    items: list[tuple[str, str, str]]  # (field name, short label, range "0–4")
    helpers: list[tuple[str, str, str]]  # (field name, label, hint)

    @property
    def id(self) -> str:
        return self.m.id

    @property
    def value_name(self) -> str:
        return f"m_{self.field_key}_value"

    @property
    def field_key(self) -> str:
        return self.m.id.replace(":", "_").replace("-", "_")

    @property
    def placeholder(self) -> str:
        """What the empty value field may be left blank for: its items, its stages, or the
        inputs it is computed from (``HELPER_INPUTS``)."""
        if self.m.items:
            return "or items"
        if self.m.id == "four_stage_balance":
            return "from stages"
        if self.m.id == "physical_activity":
            return "days × minutes"
        shorts = [h.short or h.label for h in HELPER_INPUTS.get(self.m.id, ())]
        return "from " + "/".join(shorts) if shorts else ""


def measure_input(m: MeasureDefinition, psfs_labels: list[str] | None = None) -> MeasureInput:
    key = m.id.replace(":", "_").replace("-", "_")
    protocol = [ProtocolInput(f"m_{key}_p_{p.key}", p) for p in m.protocol]
    items = []
    for i, item in enumerate(m.items):
        label = item.label
        if m.id == "psfs" and psfs_labels and i < len(psfs_labels):
            label = psfs_labels[i]
        items.append((f"m_{key}_i_{item.key}", label, f"{item.min}–{item.max}"))
    helpers = [(f"m_{key}_h_{h.key}", h.label, h.hint) for h in HELPER_INPUTS.get(m.id, ())]
    return MeasureInput(m, protocol, items, helpers)


def pickable_measures(customs: dict) -> list[MeasureDefinition]:
    out = [m for mid, m in CATALOGUE.items() if mid not in VITAL_IDS]
    out += [c.to_definition() for c in customs.values()]
    return out


def default_values(
    chosen: list[MeasureInput], last: Assessment | None, kind: str, day: date
) -> dict[str, Any]:
    """A new form: today's date; protocol details as last time (the same protocol makes the
    change comparable), else the measure's defaults."""
    values: dict[str, Any] = {"kind": kind, "assessed_on": day.isoformat(), "v_position": "seated"}
    for mi in chosen:
        values[f"pick_{mi.field_key}"] = True
        entry = last.entry(mi.id) if last else None
        for p in mi.protocol:
            if p.spec.key.startswith("stage"):
                continue
            value = entry.protocol.get(p.spec.key) if entry else None
            if value is None:
                value = p.spec.default
            if value is None:
                continue
            if p.spec.kind == "yes_no":
                if value is True:
                    values[p.name] = True
            elif p.spec.kind == "number":
                values[p.name] = number_text(float(value))
            else:
                values[p.name] = str(value)
    if last and last.vitals:
        values["v_position"] = last.vitals.position
        values["v_arm"] = last.vitals.arm or ""
    return values


def measure_key(measure_id: str) -> str:
    return measure_id.replace(":", "_").replace("-", "_")


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def entry_from_form(mi: MeasureInput, data: dict[str, Any]) -> tuple[dict | None, dict]:
    """The MeasurementEntry dict for one measure (None when nothing was entered), and field
    errors found here (helper inputs)."""
    errors: dict[str, str] = {}
    value = data.get(mi.value_name, "")
    items = {name.rsplit("_i_", 1)[1]: data.get(name, "") for name, _l, _r in mi.items}
    protocol: dict[str, Any] = {}
    for p in mi.protocol:
        raw = data.get(p.name)
        if p.spec.kind == "yes_no":
            protocol[p.spec.key] = "yes" if raw not in (None, "", False) else "no"
        elif not blank(raw):
            protocol[p.spec.key] = raw
    stages = (
        [protocol.get(f"stage{i}_s") for i in range(1, 5)] if mi.id == "four_stage_balance" else []
    )
    if mi.id == "physical_activity":  # the total is days × minutes
        stages = [protocol.get("days_per_week"), protocol.get("minutes_per_day")]
    helpers = {name.rsplit("_h_", 1)[1]: data.get(name, "") for name, _l, _h in mi.helpers}
    entered = (
        not blank(value)
        or any(not blank(v) for v in items.values())
        or any(not blank(s) for s in stages)
        or any(not blank(v) for v in helpers.values())
    )
    if not entered:
        return None, errors
    if blank(value) and any(not blank(v) for v in helpers.values()):
        try:
            computed = value_from_helpers(mi.id, protocol, helpers)
        except ValueError as exc:  # NotComputable is one too
            errors[f"m_{mi.field_key}_h_{next(iter(helpers))}"] = str(exc)
        else:
            value = value if computed is None else computed
    entry: dict[str, Any] = {"measure_id": mi.id, "value": value, "protocol": protocol}
    if any(not blank(v) for v in items.values()):
        entry["items"] = items
    return entry, errors


def map_errors(errors: dict[str, str], order: list[MeasureInput]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, message in errors.items():
        match = _ERR.match(key)
        if match:
            i, part = int(match[1]), match[2] or "value"
            if i >= len(order):
                out.setdefault("__all__", message)
                continue
            mi = order[i]
            if part == "items":
                name = f"m_{mi.field_key}_items"
            elif part == "protocol":
                name = f"m_{mi.field_key}_protocol"
            else:
                name = mi.value_name
            out.setdefault(name, message)
        elif key.startswith("vitals"):
            attr = key.partition(".")[2] or "systolic"
            out.setdefault(f"v_{attr}", message)
        elif key in ("assessed_on", "kind", "notes"):
            out.setdefault(key, message)
        elif key == "measurements":
            out.setdefault("__all__", message)
        else:
            out.setdefault("__all__", message)
    return out


def measurements_from_form(
    data: dict[str, Any], customs: dict
) -> tuple[list[dict], list[MeasureInput], dict[str, str]]:
    """(measurement entries, the measure input of each entry in order, field errors) for the
    measures picked on the form."""
    picked = {m.id: m for m in pickable_measures(customs)}
    chosen = [measure_input(m) for mid, m in picked.items() if data.get(f"pick_{measure_key(mid)}")]
    entries: list[dict] = []
    order: list[MeasureInput] = []
    errors: dict[str, str] = {}
    for mi in chosen:
        entry, errs = entry_from_form(mi, data)
        errors.update(errs)
        if entry is not None:
            entries.append(entry)
            order.append(mi)
    return entries, order, errors


def vitals_from_form(data: dict[str, Any]) -> dict[str, Any] | None:
    """The vitals typed on the form, or None when no reading was typed."""
    vitals = {
        k: data.get(f"v_{k}", "")
        for k in ("resting_hr", "systolic", "diastolic", "position", "arm")
    }
    has_vitals = any(not blank(vitals[k]) for k in ("resting_hr", "systolic", "diastolic"))
    return vitals if has_vitals else None


def bind_assessment(
    data: dict[str, Any],
    customs: dict,
    client_id: str,
    episode_id: str | None,
    performed_by: str,
    today: date,
) -> Bound[RecordAssessment]:
    """The assessment form → ``RecordAssessment`` (for the program in progress, if any).
    Raises ``Refused`` (form field names) for a value that cannot be computed."""
    entries, order, errors = measurements_from_form(data, customs)
    if errors:
        raise Refused(errors)
    command = RecordAssessment(
        client_id=client_id,
        today=today,
        episode_id=episode_id,
        kind=text(data, "kind") or "baseline",
        assessed_on=text(data, "assessed_on"),
        performed_by=performed_by,
        vitals=vitals_from_form(data),
        measurements=entries,
        notes=text(data, "notes"),
    )
    return Bound(command, lambda key: next(iter(map_errors({key: ""}, order))))


def protocol_lines(m: MeasureDefinition | None, entry: Any) -> list[tuple[str, str]]:
    """How a measurement was taken, as (label, value) lines: yes/no, numbers as typed."""
    specs = {p.key: p.label for p in m.protocol} if m else {}

    def shown(v: Any) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        return number_text(v) if isinstance(v, float) else str(v)

    return [(specs.get(k, k), shown(v)) for k, v in (entry.protocol.items() if entry else [])]
