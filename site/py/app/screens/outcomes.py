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
    interpret_assessment,
    next_assessment_kind,
)
from medex.charts import chart_for_row
from medex.intake import Goals, Referral, age_on
from medex.measures import (
    MeasureDefinition,
    bp_category,
    format_quantity,
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
from medex.services.outcomes import (
    client_outcomes,
    custom_measure_map,
    discharge_client_after_program,
    discharge_episode,
    list_programs,
    record_assessment,
    record_payment,
    start_episode,
)

from .. import clock
from ..assessment_form import (
    VITAL_IDS,
    default_values,
    map_errors,
    measure_input,
    measure_key,
    measurements_from_form,
    number_text,
    pickable_measures,
    vitals_from_form,
)
from ..client_header import client_header
from ..core import App, FormState, View, action, route
from ..forms import fail, typed

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


async def _codes(app: App, client_id: str) -> list[str]:
    return [
        d.code for r in await app.repo.find(Referral, "client_id", client_id) for d in r.diagnoses
    ]


# -- the Outcomes tab -------------------------------------------------------------------------


@route("client-outcomes")
async def client_outcomes_tab(app: App, params: dict[str, str]) -> View:
    ctx = await client_header(app, params.get("id", ""), "outcomes")
    if ctx is None:
        return "views/intake/client_missing.html", {}
    client = ctx["client"]
    day = clock.today()
    outcomes = await client_outcomes(app.repo, client.id, day)
    episode = outcomes.episode
    programs = await list_programs(app.repo)
    codes = await _codes(app, client.id)
    suggested = suggest_programs(codes, programs)
    start_values, start_errors = typed(app, f"program-start:{client.id}")
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
        pay_values, pay_errors = typed(app, f"payment:{episode.id}")
        dis_values, dis_errors = typed(app, f"discharge:{episode.id}")
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
            next_kind=next_assessment_kind(outcomes.assessments),
        )
    return "views/outcomes/client_outcomes.html", context


@action("start-program")
async def start_program(app: App, data: dict[str, Any]) -> None:
    client_id = str(data.get("client_id", ""))
    name = f"program-start:{client_id}"
    result, episode = await start_episode(
        app.repo,
        client_id,
        str(data.get("program_id", "")),
        data.get("start_date", ""),
        clock.today(),
        baseline_deficits=str(data.get("baseline_deficits", "")),
        physician_follow_up=data.get("physician_follow_up", ""),
    )
    if not result.ok or episode is None:
        fail(app, name, data, result.errors)
        return
    app.state.forms.pop(name, None)
    app.state.flash = f"Program started: {episode.program.name}. Next: the baseline assessment."


@action("record-payment")
async def record_payment_action(app: App, data: dict[str, Any]) -> None:
    episode_id = str(data.get("episode_id", ""))
    name = f"payment:{episode_id}"
    result, episode = await record_payment(app.repo, episode_id, data, clock.today())
    if not result.ok or episode is None:
        errors = {k: v for k, v in result.errors.items()}
        fail(app, name, data, errors)
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
        clock.today(),
        note=str(data.get("discharge_note", "")),
    )
    if not result.ok or episode is None:
        fail(app, name, data, result.errors)
        if result.errors and "__all__" not in result.errors:
            app.state.focus = f"field-{next(iter(result.errors))}"
        return
    app.state.forms.pop(name, None)
    message = f"{episode.program.name}: discharged ({episode.discharge_reason_text})."
    status = await discharge_client_after_program(app.repo, episode.client_id, clock.today())
    app.state.flash = f"{message} {status}" if status else message


# -- assessment entry -------------------------------------------------------------------------


async def _entry_context(app: App, client_id: str, kind: str) -> dict[str, Any] | None:
    ctx = await client_header(app, client_id, "outcomes")
    if ctx is None:
        return None
    client = ctx["client"]
    day = clock.today()
    customs = await custom_measure_map(app.repo)
    episodes = await app.repo.find(Episode, "client_id", client.id)
    episode = next((e for e in episodes if e.is_active), None)
    assessments = await app.repo.find(Assessment, "client_id", client.id)
    mine = [a for a in assessments if episode is None or a.episode_id == episode.id]
    last = max(mine, key=lambda a: (a.assessed_on, a.created_at)) if mine else None
    if kind not in ASSESSMENT_KINDS:
        kind = next_assessment_kind(mine)
    goals = await app.repo.find(Goals, "client_id", client.id)
    psfs = []
    if goals:
        psfs = [a.activity for a in max(goals, key=lambda g: g.created_at).activities]
    pickable = pickable_measures(customs)
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
    entries, order, errors = measurements_from_form(data, await custom_measure_map(app.repo))
    if errors:
        fail(app, name, data, errors)
        return
    episodes = await app.repo.find(Episode, "client_id", client_id)
    episode = next((e for e in episodes if e.is_active), None)
    payload = {
        "client_id": client_id,
        "episode_id": episode.id if episode else None,
        "kind": data.get("kind", "baseline"),
        "assessed_on": data.get("assessed_on", ""),
        "performed_by": app.state.profile.practitioner_name if app.state.profile else "",
        "vitals": vitals_from_form(data),
        "measurements": entries,
        "notes": str(data.get("notes", "")),
    }
    result, assessment = await record_assessment(app.repo, payload, clock.today())
    if not result.ok or assessment is None:
        fail(app, name, data, map_errors(result.errors, order))
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
                else number_text(v)
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
        "episode": episode,
        "day": _day,
        "count": len(sorted(history, key=lambda a: a.assessed_on)),
    }
