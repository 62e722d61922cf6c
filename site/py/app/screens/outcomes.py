"""Outcomes on the client's page: the program (episode) with its sessions, payments, what is
due and discharge; the assessment entry screen (one screen, tablet keypad) and the assessment
with its instant interpretation and a chart per measure.

The screen only translates form fields ↔ ``medex.services.outcomes``. Field names:
``m_<measure>_value``, ``m_<measure>_p_<protocol key>``, ``m_<measure>_i_<item key>`` (item
grids), ``pick_<measure>`` (measures chosen), ``v_<vital>``; errors from the service
(``measurements.2.value``) are mapped back to the exact field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from medex.assessments import (
    ASSESSMENT_KINDS,
    Assessment,
    definition_for,
    interpret_assessment,
)
from medex.charts import chart_for_row
from medex.intake import STATUS_LABELS, ClientStatus, Goals, Referral, age_on
from medex.measures import (
    CATALOGUE,
    MeasureDefinition,
    NotComputable,
    ProtocolField,
    bp_category,
    format_quantity,
    score_bmi,
    score_gait_speed,
)
from medex.programs import (
    DISCHARGE_REASONS,
    PAYMENT_METHODS,
    Episode,
    conditions_from_diagnoses,
    format_money,
    planned_reassessment_dates,
    suggest_programs,
)
from medex.services.intake import change_status, load_client_file, onboarding_checklist
from medex.services.outcomes import (
    client_outcomes,
    custom_measure_map,
    discharge_episode,
    list_programs,
    record_assessment,
    record_payment,
    start_episode,
)

from ..core import App, FormState, View, action, route
from .clients import SECTIONS, today

VITAL_IDS = ("resting_hr", "bp_systolic", "bp_diastolic")
CATEGORY_LABELS = {
    "strength": "Strength",
    "mobility": "Mobility and walking",
    "endurance": "Endurance",
    "balance": "Balance",
    "flexibility": "Flexibility",
    "questionnaire": "Questionnaires",
    "pain": "Pain",
    "vitals": "Body measures",
    "other": "Custom measures",
}
POSITIONS = {"seated": "Seated", "standing": "Standing", "supine": "Supine"}
ARMS = {"left": "Left arm", "right": "Right arm"}
_ERR = re.compile(r"^measurements\.(\d+)(?:\.(\w+))?")


# -- shared -----------------------------------------------------------------------------------


async def _page_context(app: App, client_id: str) -> dict[str, Any] | None:
    """What the client page header and tabs need (as the sessions tab does)."""
    file = await load_client_file(app.repo, client_id)
    if file.client is None:
        return None
    checklist = onboarding_checklist(file)
    names = {}
    if file.client.provider_id:
        from medex.intake import ReferringProvider

        p = await app.repo.get(ReferringProvider, file.client.provider_id)
        names = {p.id: p.display_name} if p else {}
    return {
        "client": file.client,
        "file": file,
        "section": "outcomes",
        "sections": SECTIONS,
        "checklist": checklist,
        "ready": all(i.done for i in checklist),
        "today": today(),
        "provider_names": names,
        "statuses": STATUS_LABELS,
    }


def _day(d: date | None) -> str:
    return f"{d.strftime('%b')} {d.day}, {d.year}" if d else ""


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _fail(app: App, name: str, values: dict[str, Any], errors: dict[str, str]) -> None:
    app.state.forms[name] = FormState(values=dict(values), errors=dict(errors))
    first = next((k for k in errors if k != "__all__"), "")
    app.state.focus = f"field-{first}" if first else ""
    app.state.flash = ""


def _typed(app: App, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    form = app.state.forms.get(name)
    return (dict(form.values), dict(form.errors)) if form else ({}, {})


async def _codes(app: App, client_id: str) -> list[str]:
    return [
        d.code for r in await app.repo.find(Referral, "client_id", client_id) for d in r.diagnoses
    ]


# -- the Outcomes tab -------------------------------------------------------------------------


@route("client-outcomes")
async def client_outcomes_tab(app: App, params: dict[str, str]) -> View:
    ctx = await _page_context(app, params.get("id", ""))
    if ctx is None:
        return "views/intake/client_missing.html", {}
    client = ctx["client"]
    day = today()
    outcomes = await client_outcomes(app.repo, client.id, day)
    episode = outcomes.episode
    programs = await list_programs(app.repo)
    codes = await _codes(app, client.id)
    suggested = suggest_programs(codes, programs)
    start_values, start_errors = _typed(app, f"program-start:{client.id}")
    if not start_values:
        goals = await app.repo.find(Goals, "client_id", client.id)
        latest_goals = max(goals, key=lambda g: g.created_at) if goals else None
        start_values = {
            "program_id": suggested[0].id if suggested else "",
            "start_date": day.isoformat(),
            "physician_follow_up": "",
            "baseline_deficits": "\n".join(latest_goals.deficits) if latest_goals else "",
        }
    customs = await custom_measure_map(app.repo)

    def fmt(row, obs) -> str:
        m = definition_for(row.measure_id, customs)
        return format_quantity(m, obs.value) if m and obs else "—"

    context = {
        **ctx,
        "fmt": fmt,
        "outcomes": outcomes,
        "episode": episode,
        "programs": programs,
        "suggested_ids": [p.id for p in suggested],
        "codes": codes,
        "start_values": start_values,
        "start_errors": start_errors,
        "kinds": ASSESSMENT_KINDS,
        "payment_methods": PAYMENT_METHODS,
        "discharge_reasons": DISCHARGE_REASONS,
        "format_money": format_money,
        "day": _day,
    }
    if episode is not None:
        pay_values, pay_errors = _typed(app, f"payment:{episode.id}")
        dis_values, dis_errors = _typed(app, f"discharge:{episode.id}")
        context.update(
            planned=planned_reassessment_dates(episode),
            pay_values=pay_values or {"paid_on": day.isoformat(), "method": "card"},
            pay_errors=pay_errors,
            dis_values=dis_values
            or {
                "discharge_date": day.isoformat(),
                "discharge_reason": "criteria_met"
                if outcomes.criteria and outcomes.criteria.overall == "met"
                else "",
            },
            dis_errors=dis_errors,
            next_kind=_next_kind(outcomes.assessments),
        )
    return "views/outcomes/client_outcomes.html", context


def _next_kind(assessments: list[Assessment]) -> str:
    return "reassessment" if any(a.kind == "baseline" for a in assessments) else "baseline"


@action("start-program")
async def start_program(app: App, data: dict[str, Any]) -> None:
    client_id = str(data.get("client_id", ""))
    name = f"program-start:{client_id}"
    result, episode = await start_episode(
        app.repo,
        client_id,
        str(data.get("program_id", "")),
        data.get("start_date", ""),
        today(),
        baseline_deficits=str(data.get("baseline_deficits", "")),
        physician_follow_up=data.get("physician_follow_up", ""),
    )
    if not result.ok or episode is None:
        _fail(app, name, data, result.errors)
        return
    app.state.forms.pop(name, None)
    app.state.flash = f"Program started: {episode.program.name}. Next: the baseline assessment."


@action("record-payment")
async def record_payment_action(app: App, data: dict[str, Any]) -> None:
    episode_id = str(data.get("episode_id", ""))
    name = f"payment:{episode_id}"
    result, episode = await record_payment(app.repo, episode_id, data, today())
    if not result.ok or episode is None:
        errors = {k: v for k, v in result.errors.items()}
        _fail(app, name, data, errors)
        if "__all__" not in errors:
            app.state.focus = f"field-pay_{next(iter(errors))}"
        return
    app.state.forms.pop(name, None)
    paid = episode.payments[-1]
    app.state.flash = f"Payment of {paid.amount_text} recorded."


@action("discharge-program")
async def discharge_program(app: App, data: dict[str, Any]) -> None:
    episode_id = str(data.get("episode_id", ""))
    name = f"discharge:{episode_id}"
    result, episode = await discharge_episode(
        app.repo,
        episode_id,
        data.get("discharge_date", ""),
        str(data.get("discharge_reason", "")) or None,
        today(),
        note=str(data.get("discharge_note", "")),
    )
    if not result.ok or episode is None:
        _fail(app, name, data, result.errors)
        if result.errors and "__all__" not in result.errors:
            app.state.focus = f"field-{next(iter(result.errors))}"
        return
    app.state.forms.pop(name, None)
    message = f"{episode.program.name}: discharged ({episode.discharge_reason_text})."
    from medex.intake import Client

    client = await app.repo.get(Client, episode.client_id)
    if client is not None and client.status is not ClientStatus.DISCHARGED:
        others = [e for e in await app.repo.find(Episode, "client_id", client.id) if e.is_active]
        if not others:
            ok, status_message, _ = await change_status(
                app.repo, client, ClientStatus.DISCHARGED, today()
            )
            message += (
                " " + status_message if ok else f" The client's status was kept: {status_message}"
            )
    app.state.flash = message


# -- assessment entry -------------------------------------------------------------------------


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


_HELPERS = {
    "gait_speed": [("time_s", "Walk time (s)", "Speed = distance ÷ time, if left blank")],
    "bmi": [
        ("height_cm", "Height (cm)", "BMI from height and weight, if left blank"),
        ("weight_kg", "Weight (kg)", ""),
    ],
}


def measure_input(m: MeasureDefinition, psfs_labels: list[str] | None = None) -> MeasureInput:
    key = m.id.replace(":", "_").replace("-", "_")
    protocol = [ProtocolInput(f"m_{key}_p_{p.key}", p) for p in m.protocol]
    items = []
    for i, item in enumerate(m.items):
        label = item.label
        if m.id == "psfs" and psfs_labels and i < len(psfs_labels):
            label = psfs_labels[i]
        items.append((f"m_{key}_i_{item.key}", label, f"{item.min}–{item.max}"))
    helpers = [(f"m_{key}_h_{k}", label, hint) for k, label, hint in _HELPERS.get(m.id, [])]
    return MeasureInput(m, protocol, items, helpers)


def _pickable(customs: dict) -> list[MeasureDefinition]:
    out = [m for mid, m in CATALOGUE.items() if mid not in VITAL_IDS]
    out += [c.to_definition() for c in customs.values()]
    return out


def _default_values(
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
                values[p.name] = _num(float(value))
            else:
                values[p.name] = str(value)
    if last and last.vitals:
        values["v_position"] = last.vitals.position
        values["v_arm"] = last.vitals.arm or ""
    return values


async def _entry_context(app: App, client_id: str, kind: str) -> dict[str, Any] | None:
    ctx = await _page_context(app, client_id)
    if ctx is None:
        return None
    client = ctx["client"]
    day = today()
    customs = await custom_measure_map(app.repo)
    episodes = await app.repo.find(Episode, "client_id", client.id)
    episode = next((e for e in episodes if e.is_active), None)
    assessments = await app.repo.find(Assessment, "client_id", client.id)
    mine = [a for a in assessments if episode is None or a.episode_id == episode.id]
    last = max(mine, key=lambda a: (a.assessed_on, a.created_at)) if mine else None
    if kind not in ASSESSMENT_KINDS:
        kind = _next_kind(mine)
    goals = await app.repo.find(Goals, "client_id", client.id)
    psfs = []
    if goals:
        psfs = [a.activity for a in max(goals, key=lambda g: g.created_at).activities]
    pickable = _pickable(customs)
    if episode is not None:
        suggested = [mid for mid in episode.program.measure_ids if mid not in VITAL_IDS]
        reason = f"the program “{episode.program.name}”"
    else:
        programs = suggest_programs(await _codes(app, client.id), await list_programs(app.repo))
        suggested = (
            [mid for mid in programs[0].measure_ids if mid not in VITAL_IDS] if programs else []
        )
        reason = f"the referral's diagnosis (“{programs[0].name}”)" if programs else ""
    if last is not None:  # reassess what was measured last time too
        suggested += [e.measure_id for e in last.measurements if e.measure_id not in suggested]
    form_name = f"assessment:{client.id}"
    values, errors = _typed(app, form_name)
    if values:
        picked = [m.id for m in pickable if values.get(f"pick_{_key(m.id)}")]
    else:
        picked = [mid for mid in suggested if definition_for(mid, customs)]
    by_id = {m.id: m for m in pickable}
    chosen = [measure_input(by_id[mid], psfs) for mid in picked if mid in by_id]
    if not values:
        values = _default_values(chosen, last, kind, day)
    groups: dict[str, list[MeasureDefinition]] = {}
    for m in pickable:
        groups.setdefault(CATEGORY_LABELS.get(m.category, m.category.capitalize()), []).append(m)
    return {
        **ctx,
        "section": "outcomes",
        "kind": values.get("kind", kind),
        "kinds": ASSESSMENT_KINDS,
        "episode": episode,
        "chosen": chosen,
        "groups": groups,
        "suggested": suggested,
        "suggested_reason": reason,
        "values": values,
        "errors": errors,
        "positions": POSITIONS,
        "arms": ARMS,
        "form_id": f"assessment-form-{client.id}",
        "last": last,
        "key": _key,
    }


def _key(measure_id: str) -> str:
    return measure_id.replace(":", "_").replace("-", "_")


@route("assessment-new")
async def assessment_new(app: App, params: dict[str, str]) -> View:
    ctx = await _entry_context(app, params.get("client", ""), params.get("kind", ""))
    if ctx is None:
        return "views/intake/client_missing.html", {}
    return "views/outcomes/assessment_form.html", ctx


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _entry_from_form(mi: MeasureInput, data: dict[str, Any]) -> tuple[dict | None, dict]:
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
        elif not _blank(raw):
            protocol[p.spec.key] = raw
    stages = (
        [protocol.get(f"stage{i}_s") for i in range(1, 5)] if mi.id == "four_stage_balance" else []
    )
    helpers = {name.rsplit("_h_", 1)[1]: data.get(name, "") for name, _l, _h in mi.helpers}
    entered = (
        not _blank(value)
        or any(not _blank(v) for v in items.values())
        or any(not _blank(s) for s in stages)
        or any(not _blank(v) for v in helpers.values())
    )
    if not entered:
        return None, errors
    if _blank(value) and any(not _blank(v) for v in helpers.values()):
        try:
            if mi.id == "gait_speed":
                match = re.match(r"(\d+(?:\.\d+)?)", str(protocol.get("distance_m", "")))
                if not match:
                    raise NotComputable(
                        "Choose the timed distance (4 m, 6 m or 10 m) or enter the speed"
                    )
                value = score_gait_speed(float(match[1]), helpers["time_s"]).value
            elif mi.id == "bmi":
                value = score_bmi(helpers["height_cm"] or None, helpers["weight_kg"] or None).value
        except (NotComputable, ValueError) as exc:
            errors[f"m_{mi.field_key}_h_{next(iter(helpers))}"] = str(exc)
    entry: dict[str, Any] = {"measure_id": mi.id, "value": value, "protocol": protocol}
    if any(not _blank(v) for v in items.values()):
        entry["items"] = items
    return entry, errors


def _map_errors(errors: dict[str, str], order: list[MeasureInput]) -> dict[str, str]:
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


@action("assessment-form")
async def assessment_form(app: App, data: dict[str, Any]) -> None:
    """Change the measures shown (keeping what was typed), or save the assessment."""
    client_id = str(data.get("client_id", ""))
    name = f"assessment:{client_id}"
    if data.get("intent") in ("measures", "stay"):
        previous = app.state.forms.get(name)
        errors = previous.errors if previous and data.get("intent") == "stay" else {}
        app.state.forms[name] = FormState(values=dict(data), errors=errors)
        if data.get("intent") == "measures":
            app.state.focus = "measures-summary"
        return
    customs = await custom_measure_map(app.repo)
    pickable = {m.id: m for m in _pickable(customs)}
    chosen = [measure_input(m) for mid, m in pickable.items() if data.get(f"pick_{_key(mid)}")]
    entries, order, errors = [], [], {}
    for mi in chosen:
        entry, errs = _entry_from_form(mi, data)
        errors.update(errs)
        if entry is not None:
            entries.append(entry)
            order.append(mi)
    vitals = {
        k: data.get(f"v_{k}", "")
        for k in ("resting_hr", "systolic", "diastolic", "position", "arm")
    }
    has_vitals = any(not _blank(vitals[k]) for k in ("resting_hr", "systolic", "diastolic"))
    if errors:
        _fail(app, name, data, errors)
        return
    episodes = await app.repo.find(Episode, "client_id", client_id)
    episode = next((e for e in episodes if e.is_active), None)
    payload = {
        "client_id": client_id,
        "episode_id": episode.id if episode else None,
        "kind": data.get("kind", "baseline"),
        "assessed_on": data.get("assessed_on", ""),
        "performed_by": app.state.profile.practitioner_name if app.state.profile else "",
        "vitals": vitals if has_vitals else None,
        "measurements": entries,
        "notes": str(data.get("notes", "")),
    }
    result, assessment = await record_assessment(app.repo, payload, today())
    if not result.ok or assessment is None:
        _fail(app, name, data, _map_errors(result.errors, order))
        return
    app.state.forms.pop(name, None)
    app.navigate(f"#/assessment?id={assessment.id}")
    app.state.flash = f"{assessment.kind_label} saved: {len(assessment.measure_ids)} measure(s)."


# -- the assessment and its interpretation ----------------------------------------------------


@route("assessment")
async def assessment_view(app: App, params: dict[str, str]) -> View:
    assessment = await app.repo.get(Assessment, params.get("id", ""))
    if assessment is None:
        return "views/intake/client_missing.html", {}
    ctx = await _page_context(app, assessment.client_id)
    if ctx is None:
        return "views/intake/client_missing.html", {}
    client = ctx["client"]
    history = [
        a
        for a in await app.repo.find(Assessment, "client_id", client.id)
        if a.episode_id == assessment.episode_id
    ]
    codes = await _codes(app, client.id)
    conditions = conditions_from_diagnoses(codes)
    episode = await app.repo.get(Episode, assessment.episode_id) if assessment.episode_id else None
    if episode is not None:
        conditions = list(dict.fromkeys(conditions + episode.program.conditions))
    customs = await custom_measure_map(app.repo)
    age = age_on(client.date_of_birth, assessment.assessed_on)
    rows = interpret_assessment(
        assessment,
        history,
        age,
        client.sex,
        conditions,
        date_of_birth=client.date_of_birth,
        custom_measures=customs,
    )
    cards, vitals = [], []
    for row in rows:
        m = definition_for(row.measure_id, customs)
        if row.measure_id in VITAL_IDS:
            vitals.append(row)
            continue
        entry = assessment.entry(row.measure_id)
        specs = {p.key: p.label for p in m.protocol} if m else {}
        protocol = [
            (
                specs.get(k, k),
                "yes"
                if v is True
                else "no"
                if v is False
                else _num(v)
                if isinstance(v, float)
                else str(v),
            )
            for k, v in (entry.protocol.items() if entry else [])
        ]
        cards.append(
            {
                "row": row,
                "m": m,
                "entry": entry,
                "protocol": protocol,
                "chart": chart_for_row(
                    row,
                    m,
                    age,
                    client.sex,
                    conditions=conditions,
                    chart_id=f"chart-{_key(row.measure_id)}",
                )
                if len(row.history) >= 1
                else "",
            }
        )
    bp = None
    v = assessment.vitals
    if v is not None and v.systolic is not None and v.diastolic is not None:
        bp = bp_category(v.systolic, v.diastolic)
    return "views/outcomes/assessment.html", {
        **ctx,
        "assessment": assessment,
        "cards": cards,
        "vitals": vitals,
        "bp": bp,
        "age": age,
        "episode": episode,
        "day": _day,
        "count": len(sorted(history, key=lambda a: a.assessed_on)),
    }
