"""Session logs: start (pre-filled "same as last time"), record, safety flags, sign and lock,
addenda; the client's sessions timeline; choosing a client to start a session.

The screen binds the form with ``app.session_form`` (field names ↔ ``SessionLog``), calls
``medex.services.sessions`` and flashes or navigates; the target heart rate and the clearance
rule are the domain's (``medex.heart_rate``, ``medex.screening``).
"""

from __future__ import annotations

from typing import Any

from medex.exercises import LOAD_UNIT_LABELS, Exercise
from medex.forms import Refused
from medex.health import HealthHistory
from medex.heart_rate import (
    INTENSITY_BANDS,
    IntensityLevel,
    intensity_of_target_text,
)
from medex.intake import STATUS_LABELS, Client, ClientStatus
from medex.repository import SignedRecordError
from medex.screening import session_clearance
from medex.services.client_timeline import client_timeline
from medex.services.intake import latest
from medex.services.sessions import (
    AddAddendum,
    SigningRefused,
    add_addendum,
    check_addendum_signatures,
    check_log_signatures,
    exercise_library,
    open_session,
    save_draft_log,
    session_log_page,
    sign_session_log,
    target_hr_for,
)
from medex.session_logs import (
    ADDENDUM_KIND_LABELS,
    AddendumKind,
    Attendance,
    SessionLog,
    compute_flags,
    override_needed,
    pre_exercise_hard_stops,
    session_volume,
)
from medex.signing import CHECK_DETAILS, CHECK_LABELS, SigningKeyError

from .. import clock
from ..client_header import client_header
from ..core import App, Flash, FormState, View, action, route
from ..dosage_form import dosage_values
from ..forms import fail, refuse
from ..session_form import (
    KETONE_LABELS,
    POSITION_LABELS,
    SESSION_LABELS,
    history_filters,
    library_groups,
    log_from_form,
    log_values,
    package_defaults,
    row_keys,
    sign_errors,
    typed_readings,
)
from ..session_parts import session_parts

# -- routes -----------------------------------------------------------------------------------


@route("session")
async def session_page(app: App, params: dict[str, str]) -> View:
    page = await session_log_page(app.repo, params.get("id", ""))
    log, client = page.log, page.client
    if log is None:
        return "views/sessions/missing.html", {}
    context: dict[str, Any] = {"log": log, "client": client, **SESSION_LABELS}
    if log.is_signed:
        addenda = page.addenda
        form = app.state.forms.get(f"addendum:{log.id}")
        check = (await check_log_signatures(app.platform, app.signatures, [log]))[log.id]
        addendum_checks = await check_addendum_signatures(app.platform, app.signatures, addenda)
        context.update(
            addendum_checks={k: v.value for k, v in addendum_checks.items()},
            check_labels={k.value: label for k, label in CHECK_LABELS.items()},
            check=check.value,
            check_label=CHECK_LABELS[check],
            check_detail=CHECK_DETAILS[check],
            addenda=addenda,
            volume=session_volume(log),
            kinds={k.value: label for k, label in ADDENDUM_KIND_LABELS.items()},
            values=form.values if form else {"kind": AddendumKind.CORRECTION.value},
            errors=form.errors if form else {},
        )
        return "views/sessions/signed.html", context

    form = app.state.forms.get(f"session:{log.id}")
    values = form.values if form else log_values(log)
    errors = form.errors if form else {}
    typed, _ = log_from_form(log, values) if form else (log, {})
    current = typed or log
    # What is typed decides the flags, saved or not (a stop shows while it is typed).
    readings = (typed or typed_readings(log, values)) if form else log
    flags = compute_flags(readings) if form else log.safety_flags
    pre_stops = pre_exercise_hard_stops(readings)
    level = IntensityLevel(
        values.get("target_level") or intensity_of_target_text(log.target_hr_text)
    )
    resting = current.pre_vitals.heart_rate_bpm if current.pre_vitals else None
    if resting is None:
        resting = page.previous_resting_hr
    hr_text, use_rpe = target_hr_for(client, page.history, resting, level, current.session_date)
    clearance = page.clearance
    assert clearance is not None  # a draft's page always carries it
    allowed, clearance_msg = session_clearance(clearance.outcome, clearance.clearance)
    exercises = page.exercises or await exercise_library(app.repo)
    context.update(
        values=values,
        errors=errors,
        flags=flags,
        hard_stop=any(f.is_hard_stop for f in flags),
        override_needed=override_needed(current),
        rows=row_keys(values),
        library=library_groups(exercises),
        units={u.value: label for u, label in LOAD_UNIT_LABELS.items()},
        positions=POSITION_LABELS,
        ketones=KETONE_LABELS,
        levels={lv.value: b.label for lv, b in INTENSITY_BANDS.items() if b.pct_hrr},
        level=level.value,
        hr_text=hr_text,
        use_rpe=use_rpe,
        needs_clearance=not allowed and current.attendance is Attendance.ATTENDED,
        clearance_msg=clearance_msg,
        restrictions=clearance.clearance.restrictions if clearance.clearance else "",
        has_diabetes=bool(values.get("has_diabetes")),
        parts=session_parts(values, errors, flags, pre_stops),
        package_choice=package_defaults(current),
    )
    return "views/sessions/session.html", context


@route("client-sessions")
async def client_sessions(app: App, params: dict[str, str]) -> View:
    header = await client_header(app, params.get("id", ""), "sessions")
    if header is None:
        return "views/intake/client_missing.html", {}
    file = header["file"]
    filters, chosen = history_filters(params)
    history = await client_timeline(app.repo, file.client.id, **chosen)
    checks = await app.signatures.check(app.platform, history.claims)
    return "views/sessions/client_sessions.html", {
        **header,
        "history": history,
        "checks": {k: v.value for k, v in checks.items()},
        "check_labels": {k.value: label for k, label in CHECK_LABELS.items()},
        "filters": filters,
        "attendance_labels": SESSION_LABELS["attendance_labels"],
    }


@route("session-start")
async def session_start(app: App, params: dict[str, str]) -> View:
    clients = sorted(
        (c for c in await app.repo.list(Client) if c.status is not ClientStatus.DISCHARGED),
        key=lambda c: c.sort_name,
    )
    return "views/sessions/start.html", {"clients": clients, "statuses": STATUS_LABELS}


# -- actions ----------------------------------------------------------------------------------


@action("start-session")
async def start_session_action(app: App, data: dict[str, Any]) -> None:
    try:
        draft, previous = await open_session(app.repo, str(data.get("client", "")), clock.today())
    except Refused as exc:
        app.state.flash = " ".join(exc.errors.values())
        return
    client = await app.repo.get(Client, draft.client_id)
    name = client.full_name if client else "the client"
    app.navigate(f"#/session?id={draft.id}")
    app.state.flash = (
        f"New session for {name}, pre-filled from the session of "
        f"{previous.session_date.strftime('%b %-d, %Y')}: check and adjust."
        if previous
        else f"New session for {name}."
    )


@action("session-form")
async def session_form(app: App, data: dict[str, Any]) -> None:
    """Save the draft, sign it, or add/remove an exercise row (by the button pressed)."""
    log = await app.repo.get(SessionLog, str(data.get("log_id", "")))
    if log is None:
        app.state.flash = "This session log no longer exists."
        return
    if log.is_signed:
        # Signed meanwhile (in another tab): refused like any write over a signed record, so
        # the shell keeps and shows what was typed.
        app.state.forms.pop(f"session:{log.id}", None)
        raise SignedRecordError(SessionLog.store, log.id)
    key = f"session:{log.id}"
    values = {k: v for k, v in data.items() if k not in ("intent", "remove_row", "log_id")}
    previous = app.state.forms.get(key)
    if data.get("remove_row") not in (None, ""):
        row = str(data["remove_row"])
        values = {n: v for n, v in values.items() if not n.startswith(f"ex_{row}_")}
        app.state.forms[key] = FormState(values, previous.errors if previous else {})
        return
    intent = str(data.get("intent") or "save")
    if intent == "add" or data.get("add_exercise_id"):
        exercise = await app.repo.get(Exercise, str(data.get("add_exercise_id", "")))
        errors = dict(previous.errors) if previous else {}
        if exercise is None:
            errors["add_exercise_id"] = "Choose an exercise to add"
            fail(app, key, values, errors)
            return
        errors.pop("add_exercise_id", None)
        k = max([*row_keys(values), *row_keys(previous.values if previous else {}), -1]) + 1
        p = f"ex_{k}_"
        values.update(
            {
                p + "exercise_id": exercise.id,
                p + "exercise_name": exercise.name,
                p + "category": exercise.category.value,
                p + "modality": exercise.modality,
            }
        )
        values.update(dosage_values(p, exercise.defaults))
        values.pop("add_exercise_id", None)
        app.state.forms[key] = FormState(values, errors)
        app.state.focus = f"field-{p}sets"
        return
    if intent == "target":
        app.state.forms[key] = FormState(values, previous.errors if previous else {})
        return
    typed, errors = log_from_form(log, values)
    if typed is None:
        fail(app, key, values, errors)
        return
    # What the target heart rate needs, and nothing more (a save reads at most 4 records).
    client = await app.repo.get(Client, log.client_id)
    history = await latest(app.repo, HealthHistory, log.client_id)
    level = IntensityLevel(
        values.get("target_level") or intensity_of_target_text(log.target_hr_text)
    )
    resting = typed.pre_vitals.heart_rate_bpm if typed.pre_vitals else None
    if resting is not None:
        text, _ = target_hr_for(client, history, resting, level, typed.session_date)
        typed = typed.model_copy(update={"target_hr_text": text})
    if intent != "sign":
        # Signed meanwhile (another tab): LockedLogError is a SignedRecordError, which the
        # shell refuses like any write over a signed record (what was typed is kept).
        saved = await save_draft_log(app.repo, typed)
        app.state.forms.pop(key, None)
        stops = [f for f in saved.safety_flags if f.is_hard_stop]
        # A saved session with a stop is not a green "all good": the notice is a stop's.
        app.state.flash = (
            Flash(
                f"Draft saved with {len(stops)} stop flag{'s' if len(stops) > 1 else ''}: "
                f"{stops[0].title}. {stops[0].what_to_do}",
                kind="stop",
            )
            if stops
            else "Draft saved."
        )
        return
    try:
        await sign_session_log(app.repo, typed, signer=app.platform)
    except SigningKeyError as exc:
        await save_draft_log(app.repo, typed)  # keep what was typed
        app.state.flash = str(exc)
        return
    except SigningRefused as exc:
        await save_draft_log(app.repo, typed)  # keep what was typed, with its flags
        typed_values = {**values, "override_reason": data.get("override_reason", "")}
        fail(app, key, typed_values, sign_errors(exc))
        app.state.flash = "Not signed yet: see the messages below."
        return
    app.state.forms.pop(key, None)
    app.state.flash = "Session log signed and locked. Corrections go in an addendum."


@action("session-check")
async def session_check(app: App, data: dict[str, Any]) -> None:
    """While the session form is typed in (the shell sends it after a short pause): keep
    what is typed, unsaved, so the page shows its safety flags (a stop at the top) before
    anything is saved. Writes nothing."""
    log = await app.repo.get(SessionLog, str(data.get("log_id", "")))
    if log is None or log.is_signed:
        return
    key = f"session:{log.id}"
    values = {k: v for k, v in data.items() if k not in ("intent", "remove_row", "log_id")}
    previous = app.state.forms.get(key)
    app.state.forms[key] = FormState(values, previous.errors if previous else {})


@action("delete-session-draft")
async def delete_session_draft(app: App, data: dict[str, Any]) -> None:
    log = await app.repo.get(SessionLog, str(data.get("id", "")))
    if log is None or log.is_signed:
        app.state.flash = "A signed session log cannot be deleted."
        return
    if data.get("confirm") != "yes":
        app.state.forms[f"confirm-delete:{log.id}"] = FormState({"ask": True})
        return
    await app.repo.delete(SessionLog, log.id)
    app.state.forms.pop(f"session:{log.id}", None)
    app.state.forms.pop(f"confirm-delete:{log.id}", None)
    app.navigate(f"#/client-sessions?id={log.client_id}")
    app.state.flash = "Draft session log deleted."


@action("add-addendum")
async def add_addendum_action(app: App, data: dict[str, Any]) -> None:
    log_id = str(data.get("log_id", ""))
    key = f"addendum:{log_id}"
    values = {"text": str(data.get("text", "")), "kind": str(data.get("kind", "correction"))}
    try:
        command = AddAddendum(log_id=log_id, text=values["text"], kind=values["kind"])
        addendum = await add_addendum(app.repo, command, signer=app.platform)
    except SigningKeyError as exc:
        app.state.forms[key] = FormState(values, {"text": str(exc)})
        return
    except Refused as exc:  # one message, next to the text
        refuse(app, key, values, Refused({"text": " ".join(exc.errors.values())}))
        return
    app.state.forms.pop(key, None)
    app.state.flash = f"Addendum added and signed by {addendum.author}."


@action("filter-sessions")
async def filter_sessions(app: App, data: dict[str, Any]) -> None:
    client_id = str(data.get("client_id", ""))
    query = "&".join(
        f"{k}={v}" for k in ("attendance", "from", "to") if (v := str(data.get(k, "")).strip())
    )
    app.navigate(f"#/client-sessions?id={client_id}" + (f"&{query}" if query else ""))
