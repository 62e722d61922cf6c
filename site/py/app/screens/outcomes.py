"""Outcomes on the client's page: the program (episode) with its sessions, payments, what is
due and discharge; the assessment entry screen (one screen, tablet keypad) and the assessment
with its instant interpretation and a chart per measure.

The screen binds the assessment form with ``app.assessment_form`` (field names ↔ the
payload, service errors back to the exact field), calls ``medex.services.outcomes`` and
flashes or navigates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from medex.assessments import (
    ASSESSMENT_KINDS,
    Assessment,
    definition_for,
    next_assessment_kind,
)
from medex.charts import chart_for_row
from medex.forms import Refused
from medex.intake import Client, ClientStatus, Goals
from medex.measures import (
    MeasureDefinition,
    bp_category,
    format_quantity,
)
from medex.programs import (
    DISCHARGE_REASONS,
    PAYMENT_METHODS,
    Episode,
    format_money,
    planned_reassessment_dates,
    suggest_programs,
)
from medex.services.assessment_entry import assessment_plan, assessment_reading, diagnosis_codes
from medex.services.outcomes import (
    client_outcomes,
    custom_measure_map,
    discharge_episode,
    list_programs,
    record_assessment,
    record_payment,
    start_episode,
)

from .. import clock
from ..assessment_form import (
    VITAL_IDS,
    bind_assessment,
    default_values,
    measure_input,
    measure_key,
    pickable_measures,
    protocol_lines,
)
from ..client_header import client_header
from ..core import App, FormState, View, action, route
from ..forms import refuse, typed
from ..outcomes_form import (
    bind_discharge,
    bind_payment,
    bind_start,
    discharge_values,
    start_values,
)

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


# -- shared -----------------------------------------------------------------------------------


def _day(d: date | None) -> str:
    return f"{d.strftime('%b')} {d.day}, {d.year}" if d else ""


# -- the Outcomes tab -------------------------------------------------------------------------


@route("client-outcomes")
async def client_outcomes_tab(app: App, params: dict[str, str]) -> View:
    ctx = await client_header(app, params.get("id", ""), "outcomes")
    if ctx is None:
        return "views/intake/client_missing.html", {}
    client = ctx["client"]
    day = clock.today()
    outcomes = await client_outcomes(
        app.repo, client.id, day, episode_id=params.get("episode") or None
    )
    episode = outcomes.episode
    episodes = sorted(
        await app.repo.find(Episode, "client_id", client.id),
        key=lambda e: (e.start_date, e.created_at),
        reverse=True,
    )
    programs = await list_programs(app.repo)
    codes = await diagnosis_codes(app.repo, client.id)
    suggested = suggest_programs(codes, programs)
    start, start_errors = typed(app, f"program-start:{client.id}")
    if not start:
        goals = await app.repo.find(Goals, "client_id", client.id)
        start = start_values(suggested, goals, day)
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
        "episodes": episodes,
        "start_values": start,
        "start_errors": start_errors,
        "kinds": ASSESSMENT_KINDS,
        "payment_methods": PAYMENT_METHODS,
        "discharge_reasons": DISCHARGE_REASONS,
        "format_money": format_money,
        "day": _day,
    }
    if episode is not None:
        pay_values, pay_errors = typed(app, f"payment:{episode.id}")
        dis_values, dis_errors = typed(app, f"discharge:{episode.id}")
        context.update(
            planned=planned_reassessment_dates(episode),
            pay_values=pay_values or {"paid_on": day.isoformat(), "method": "card"},
            pay_errors=pay_errors,
            dis_values=dis_values or discharge_values(outcomes, day),
            dis_errors=dis_errors,
            next_kind=next_assessment_kind(outcomes.assessments),
        )
    return "views/outcomes/client_outcomes.html", context


@action("start-program")
async def start_program(app: App, data: dict[str, Any]) -> None:
    bound = bind_start(data, clock.today())
    name = f"program-start:{bound.command.client_id}"
    try:
        episode = await start_episode(app.repo, bound.command)
    except Refused as exc:
        refuse(app, name, data, exc, bound.field)
        return
    app.state.forms.pop(name, None)
    app.state.flash = f"Program started: {episode.program.name}. Next: the baseline assessment."


@action("record-payment")
async def record_payment_action(app: App, data: dict[str, Any]) -> None:
    """A payment or a refund (by the button pressed), on any episode, also after discharge."""
    bound = bind_payment(data, clock.today())
    name = f"payment:{bound.command.episode_id}"
    try:
        episode = await record_payment(app.repo, bound.command)
    except Refused as exc:
        refuse(app, name, data, exc, bound.field)
        if "__all__" not in exc.errors:
            app.state.focus = f"field-pay_{next(iter(exc.errors))}"
        return
    app.state.forms.pop(name, None)
    paid = episode.payments[-1]
    what = "Refund" if paid.is_refund else "Payment"
    app.state.flash = f"{what} of {format_money(paid.amount_cents)} recorded."


@action("discharge-program")
async def discharge_program(app: App, data: dict[str, Any]) -> None:
    bound = bind_discharge(data, clock.today())
    name = f"discharge:{bound.command.episode_id}"
    try:
        episode = await discharge_episode(app.repo, bound.command)
    except Refused as exc:
        refuse(app, name, data, exc, bound.field)
        return
    app.state.forms.pop(name, None)
    message = f"{episode.program.name}: discharged ({episode.discharge_reason_text})."
    client = await app.repo.get(Client, episode.client_id)
    if client is not None and client.status is ClientStatus.DISCHARGED:
        message += f" {client.full_name} is now discharged."
    app.state.flash = message


# -- assessment entry -------------------------------------------------------------------------


async def _entry_context(app: App, client_id: str, kind: str) -> dict[str, Any] | None:
    ctx = await client_header(app, client_id, "outcomes")
    if ctx is None:
        return None
    client = ctx["client"]
    day = clock.today()
    plan = await assessment_plan(app.repo, client.id)
    customs, psfs, last, suggested = plan.customs, plan.psfs_activities, plan.last, plan.suggested
    if kind not in ASSESSMENT_KINDS:
        kind = plan.next_kind
    pickable = pickable_measures(customs)
    form_name = f"assessment:{client.id}"
    values, errors = typed(app, form_name)
    if values:
        picked = [m.id for m in pickable if values.get(f"pick_{measure_key(m.id)}")]
    else:
        picked = [mid for mid in suggested if definition_for(mid, customs)]
    by_id = {m.id: m for m in pickable}
    chosen = [measure_input(by_id[mid], psfs) for mid in picked if mid in by_id]
    if not values:
        values = default_values(chosen, last, kind, day)
    groups: dict[str, list[MeasureDefinition]] = {}
    for m in pickable:
        groups.setdefault(CATEGORY_LABELS.get(m.category, m.category.capitalize()), []).append(m)
    return {
        **ctx,
        "kind": values.get("kind", kind),
        "kinds": ASSESSMENT_KINDS,
        "episode": plan.episode,
        "chosen": chosen,
        "groups": groups,
        "suggested": suggested,
        "suggested_reason": plan.reason,
        "values": values,
        "errors": errors,
        "positions": POSITIONS,
        "arms": ARMS,
        "form_id": f"assessment-form-{client.id}",
        "last": last,
        "key": measure_key,
    }


@route("assessment-new")
async def assessment_new(app: App, params: dict[str, str]) -> View:
    ctx = await _entry_context(app, params.get("client", ""), params.get("kind", ""))
    if ctx is None:
        return "views/intake/client_missing.html", {}
    return "views/outcomes/assessment_form.html", ctx


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
    episodes = await app.repo.find(Episode, "client_id", client_id)
    episode = next((e for e in episodes if e.is_active), None)
    by = app.state.profile.practitioner_name if app.state.profile else ""
    customs = await custom_measure_map(app.repo)
    try:
        bound = bind_assessment(
            data, customs, client_id, episode.id if episode else None, by, clock.today()
        )
    except Refused as exc:  # a value that cannot be computed from its inputs
        refuse(app, name, data, exc)
        return
    try:
        assessment = await record_assessment(app.repo, bound.command)
    except Refused as exc:
        refuse(app, name, data, exc, bound.field)
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
    ctx = await client_header(app, assessment.client_id, "outcomes")
    if ctx is None:
        return "views/intake/client_missing.html", {}
    client = ctx["client"]
    reading = await assessment_reading(app.repo, assessment, client)
    customs, age, conditions = reading.customs, reading.age, reading.conditions
    cards, vitals = [], []
    for row in reading.rows:
        m = definition_for(row.measure_id, customs)
        if row.measure_id in VITAL_IDS:
            vitals.append(row)
            continue
        entry = assessment.entry(row.measure_id)
        protocol = protocol_lines(m, entry)
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
                    chart_id=f"chart-{measure_key(row.measure_id)}",
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
        "episode": reading.episode,
        "day": _day,
        "count": len(reading.history),
    }
