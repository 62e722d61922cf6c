"""Session logs: start (pre-filled "same as last time"), record, safety flags, sign and lock,
addenda; the client's sessions timeline; choosing a client to start a session.

The screen only translates the form ↔ ``medex.session_logs`` / ``medex.services.sessions``.
Exercise rows use stable keys (``ex_<k>_<field>``) that are never reused within a form, so a
removed row's saved draft can never be restored into the row that took its place.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from medex.exercises import CATEGORY_LABELS, LOAD_UNIT_LABELS, Dosage, Exercise
from medex.forms import field_errors
from medex.health import HealthHistory, hr_response_altered
from medex.heart_rate import (
    INTENSITY_BANDS,
    RPE_SCALE_LABELS,
    IntensityLevel,
    RpeRating,
    RpeScale,
    karvonen_target_for_intensity,
)
from medex.intake import STATUS_LABELS, Client, ClientStatus
from medex.repository import SignedRecordError
from medex.safety import (
    SEVERITY_LABELS,
    SYMPTOM_LABELS,
    BpPosition,
    Ketones,
    MskRedFlag,
    SafetyOverride,
    Symptom,
    Timing,
    Vitals,
)
from medex.screening import session_logging_allowed
from medex.services.intake import load_client_file, onboarding_checklist
from medex.services.sessions import (
    LockedLogError,
    SigningRefused,
    add_addendum,
    check_addendum_signatures,
    check_log_signatures,
    client_history,
    list_exercises,
    load_clearance_context,
    save_draft_log,
    seed_starter_exercises,
    sign_session_log,
    start_session,
)
from medex.session_logs import (
    ADDENDUM_KIND_LABELS,
    ASSISTANCE_LABELS,
    ATTENDANCE_LABELS,
    TOLERANCE_LABELS,
    Addendum,
    AddendumKind,
    Attendance,
    ExerciseEntry,
    SessionLog,
    compute_flags,
    latest_attended,
    log_errors,
    override_needed,
    pre_exercise_hard_stops,
    session_volume,
)
from medex.signing import CHECK_DETAILS, CHECK_LABELS, SigningKeyError

from ..core import App, FormState, View, action, route
from .clients import SECTIONS, today

MSK_LABELS = {
    MskRedFlag.MAJOR_TRAUMA: "Major trauma (fall from a height, car accident)",
    MskRedFlag.MINOR_TRAUMA_OLDER_OR_OSTEOPOROTIC: "Minor fall or lift in an older or osteoporotic client",
    MskRedFlag.HISTORY_OF_CANCER: "History of cancer",
    MskRedFlag.FEVER_CHILLS_WEIGHT_LOSS: "Fever, chills or unexplained weight loss",
    MskRedFlag.INFECTION_RISK: "Recent infection, immune suppression or IV drug use",
    MskRedFlag.PAIN_WORSE_LYING_DOWN: "Pain worse lying down",
    MskRedFlag.SEVERE_NIGHT_PAIN: "Severe pain at night",
    MskRedFlag.SADDLE_NUMBNESS: "Numbness in the saddle area",
    MskRedFlag.NEW_BLADDER_PROBLEM: "New bladder problem",
    MskRedFlag.PROGRESSIVE_LEG_WEAKNESS: "Leg weakness getting worse",
    MskRedFlag.MAJOR_MOTOR_WEAKNESS: "Major muscle weakness",
}
POSITION_LABELS = {p.value: p.value.capitalize() for p in BpPosition}
KETONE_LABELS = {k.value: k.value.capitalize() for k in Ketones}
KETONE_LABELS["unknown"] = "Not tested"
VITAL_FIELDS = (
    "heart_rate_bpm",
    "systolic_mmhg",
    "diastolic_mmhg",
    "bp_position",
    "spo2_percent",
    "glucose_mg_dl",
    "ketones",
)
EX_FIELDS = (
    "sets",
    "reps",
    "load",
    "load_unit",
    "resistance",
    "duration",
    "distance_m",
    "rpe",
    "heart_rate_bpm",
    "modifications",
    "assistance",
)
EX_HIDDEN = ("exercise_id", "exercise_name", "category", "modality")
TEXT_FIELDS = (
    "attendance_reason",
    "medication_changes",
    "recovery_notes",
    "response_notes",
    "adverse_events",
    "action_taken",
    "plan_next",
)
_ROW = re.compile(r"^ex_(\d+)_exercise_id$")


# -- small conversions ------------------------------------------------------------------------


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    if seconds > 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds} s"


def parse_duration(text: str) -> int | None:
    """'30 s', '30s', '10 min', '10m', '1:30' → seconds. A bare number needs its unit."""
    raw = " ".join(str(text or "").lower().split())
    if not raw:
        return None
    if m := re.fullmatch(r"(\d+):([0-5]\d)", raw):
        return int(m[1]) * 60 + int(m[2])
    if m := re.fullmatch(r"(\d+(?:\.\d+)?) ?(s|sec|secs|seconds?)", raw):
        return round(float(m[1]))
    if m := re.fullmatch(r"(\d+(?:\.\d+)?) ?(m|min|mins|minutes?)", raw):
        return round(float(m[1]) * 60)
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        raise ValueError("Add the unit: s or min (e.g. 30 s, 10 min)")
    raise ValueError("Write the time as 30 s, 10 min or 1:30")


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _row_keys(values: dict[str, Any]) -> list[int]:
    return sorted(int(m[1]) for k in values if (m := _ROW.match(k)))


def dosage_values(prefix: str, d: Dosage) -> dict[str, str]:
    return {
        f"{prefix}sets": _num(d.sets),
        f"{prefix}reps": _num(d.reps),
        f"{prefix}load": _num(d.load),
        f"{prefix}load_unit": d.load_unit.value if d.load_unit else "",
        f"{prefix}resistance": d.resistance,
        f"{prefix}duration": duration_text(d.duration_s),
        f"{prefix}distance_m": _num(d.distance_m),
    }


def parse_dosage(prefix: str, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The Dosage fields of a form row (errors added under the row's field names)."""
    out: dict[str, Any] = {}
    for name in ("sets", "reps", "load", "load_unit", "resistance", "distance_m"):
        value = _blank(data.get(prefix + name))
        if value is not None:
            out[name] = value
    try:
        seconds = parse_duration(str(data.get(prefix + "duration", "")))
    except ValueError as exc:
        errors[prefix + "duration"] = str(exc)
    else:
        if seconds is not None:
            out["duration_s"] = seconds
    return out


_DOSAGE_MESSAGE_FIELDS = (
    ("unit of the load", "load_unit"),
    ("A load above", "load"),
    ("number of sets", "sets"),
    ("sets × reps", "reps"),
)


def dosage_error_field(message: str) -> str:
    for needle, name in _DOSAGE_MESSAGE_FIELDS:
        if needle in message:
            return name
    return "reps"


def _map_dosage_errors(prefix: str, exc: ValidationError, errors: dict[str, str]) -> None:
    for loc, message in field_errors(exc).items():
        name = loc.split(".")[-1]
        if name == "duration_s":
            name = "duration"
        if name in ("__all__", "defaults") or name not in EX_FIELDS:
            name = dosage_error_field(message)
        errors.setdefault(prefix + name, message)


# -- form ↔ log -------------------------------------------------------------------------------


def _vitals_values(prefix: str, v: Vitals | None) -> dict[str, str]:
    if v is None:
        return {}
    out = {f"{prefix}{k}": _num(getattr(v, k)) for k in VITAL_FIELDS[:3] + VITAL_FIELDS[4:6]}
    out[f"{prefix}bp_position"] = v.bp_position.value if v.bp_position else ""
    out[f"{prefix}ketones"] = v.ketones.value
    return out


def log_values(log: SessionLog) -> dict[str, Any]:
    """The form's values for a stored (unsigned) log."""
    values: dict[str, Any] = {
        "session_date": log.session_date.isoformat(),
        "start_time": log.start_time.strftime("%H:%M") if log.start_time else "",
        "session_number": _num(log.session_number),
        "attendance": log.attendance.value,
        "pain": _num(log.pain),
        "tolerance": log.tolerance.value if log.tolerance else "",
        "has_diabetes": log.has_diabetes,
        "severe_hypo_last_24h": log.severe_hypo_last_24h,
        "override_reason": log.safety_override.reason if log.safety_override else "",
        "clearance_override_reason": log.clearance_override_reason,
        "target_hr_text": log.target_hr_text,
    }
    values.update({k: getattr(log, k) for k in TEXT_FIELDS})
    values.update(_vitals_values("pre_", log.pre_vitals))
    values.update(_vitals_values("dur_", log.during_vitals[0] if log.during_vitals else None))
    values.update(_vitals_values("post_", log.post_vitals))
    for s in log.symptoms:
        values[f"sym_{s.value}"] = True
    for s in log.symptoms_during:
        values[f"symd_{s.value}"] = True
    for f in log.msk_red_flags:
        values[f"msk_{f.value}"] = True
    scale = next((e.rpe.scale.value for e in log.exercises if e.rpe), RpeScale.BORG_6_20.value)
    values["rpe_scale"] = scale
    for k, e in enumerate(log.exercises):
        p = f"ex_{k}_"
        values.update(
            {
                p + "exercise_id": e.exercise_id,
                p + "exercise_name": e.exercise_name,
                p + "category": e.category.value if e.category else "",
                p + "modality": e.modality,
                p + "rpe": _num(e.rpe.value) if e.rpe else "",
                p + "heart_rate_bpm": _num(e.heart_rate_bpm),
                p + "modifications": e.modifications,
                p + "assistance": e.assistance.value if e.assistance else "",
            }
        )
        values.update(dosage_values(p, e.dosage))
    return values


def _parse_vitals(
    prefix: str, timing: Timing, data: dict[str, Any], errors: dict[str, str]
) -> Vitals | None:
    raw = {k: _blank(data.get(prefix + k)) for k in VITAL_FIELDS}
    if raw.get("ketones") == Ketones.UNKNOWN.value:
        raw["ketones"] = None
    raw = {k: v for k, v in raw.items() if v is not None}
    if not raw or set(raw) <= {"bp_position", "ketones"}:
        return None  # a position chosen by habit, with no reading, is not a reading
    try:
        return Vitals(timing=timing, **raw)
    except ValidationError as exc:
        for loc, message in field_errors(exc).items():
            errors.setdefault(prefix + loc.split(".")[0], message)
        return None


def _parse_entry(k: int, data: dict[str, Any], scale: str, errors: dict[str, str]):
    p = f"ex_{k}_"
    raw: dict[str, Any] = parse_dosage(p, data, errors)
    raw.update(
        exercise_id=str(data.get(p + "exercise_id", "")),
        exercise_name=str(data.get(p + "exercise_name", "")),
    )
    for name in ("category", "modality", "heart_rate_bpm", "modifications", "assistance"):
        value = _blank(data.get(p + name))
        if value is not None:
            raw[name] = value
    rpe = _blank(data.get(p + "rpe"))
    if rpe is not None:
        try:
            raw["rpe"] = RpeRating(scale=scale, value=rpe)
        except ValidationError as exc:
            errors[p + "rpe"] = next(iter(field_errors(exc).values()))
    try:
        return ExerciseEntry(**raw)
    except ValidationError as exc:
        _map_dosage_errors(p, exc, errors)
        return None


def _checked(data: dict[str, Any], prefix: str, enum) -> list:
    return [item for item in enum if data.get(f"{prefix}{item.value}")]


def log_from_form(base: SessionLog, data: dict[str, Any]) -> tuple[SessionLog | None, dict]:
    """(the log as typed, {} ) or (None, {form field: message}). ``base`` gives what is not on
    the form (id, client, created_at, last time's pain)."""
    errors: dict[str, str] = {}
    attended = str(data.get("attendance", "attended")) == Attendance.ATTENDED.value
    has_diabetes = bool(data.get("has_diabetes"))
    scale = str(data.get("rpe_scale") or RpeScale.BORG_6_20.value)
    fields: dict[str, Any] = {
        "attendance": data.get("attendance") or Attendance.ATTENDED.value,
        "has_diabetes": has_diabetes,
        "severe_hypo_last_24h": bool(data.get("severe_hypo_last_24h")) and has_diabetes,
        "symptoms": _checked(data, "sym_", Symptom),
        "symptoms_during": _checked(data, "symd_", Symptom),
        "msk_red_flags": _checked(data, "msk_", MskRedFlag),
        "target_hr_text": str(data.get("target_hr_text") or base.target_hr_text),
    }
    for name in ("session_date", "start_time", "session_number", "pain", "tolerance"):
        value = _blank(data.get(name))
        fields[name] = value
    if fields["session_date"] is None:
        errors["session_date"] = "Enter the date of the session"
    for name in (*TEXT_FIELDS, "clearance_override_reason"):
        fields[name] = str(data.get(name, "") or "")
    fields["pre_vitals"] = _parse_vitals("pre_", Timing.PRE, data, errors)
    during = _parse_vitals("dur_", Timing.DURING, data, errors)
    fields["during_vitals"] = [during] if during else []
    fields["post_vitals"] = _parse_vitals("post_", Timing.POST, data, errors)
    entries = []
    if attended:
        for k in _row_keys(data):
            entry = _parse_entry(k, data, scale, errors)
            if entry is not None:
                entries.append(entry)
    fields["exercises"] = entries
    update = {**fields, "safety_override": None}
    try:
        log = SessionLog.model_validate({**base.model_dump(), **update, "signature": None})
    except ValidationError as exc:
        for loc, message in log_errors(exc).items():
            errors.setdefault(loc.split(".")[0], message)
        return None, errors
    reason = str(data.get("override_reason", "") or "").strip()
    if override_needed(log) and reason:
        codes = frozenset(f.code for f in pre_exercise_hard_stops(log))
        try:
            log = log.model_copy(
                update={"safety_override": SafetyOverride(flag_codes=codes, reason=reason)}
            )
        except ValidationError as exc:
            errors["override_reason"] = next(iter(field_errors(exc).values()))
    if errors:
        return None, errors
    return log, {}


# -- target heart rate ------------------------------------------------------------------------


def target_hr(
    client: Client | None,
    history: HealthHistory | None,
    resting: int | None,
    level: IntensityLevel,
    on: date,
) -> tuple[str, bool]:
    """(text with the method, use RPE?) for the client's target heart rate today."""
    altered = bool(history and hr_response_altered(history.medications))
    band = INTENSITY_BANDS[level]
    head = (
        f"{band.label} ({band.pct_hrr[0]}–{band.pct_hrr[1]}% HRR)" if band.pct_hrr else band.label
    )
    if altered:
        target = karvonen_target_for_intensity(level, None, 60, hr_response_altered=True)
        return f"{head}: use RPE. {target.advice}", True
    if resting is None:
        return (
            f"{head}: enter the resting heart rate before exercise to see the target range "
            "(Karvonen with Tanaka HRmax).",
            False,
        )
    try:
        age = client.age(on) if client else None
        target = karvonen_target_for_intensity(level, age, resting)
    except ValueError as exc:
        return f"{head}: no target range ({exc}).", False
    method = target.method_text.split("= ", 1)[0].rstrip() + f"; {target.hr_max.method_text}"
    return f"{head}: {target.low_bpm}–{target.high_bpm} bpm. {method}", False


def _level_of(text: str) -> IntensityLevel:
    for level, band in INTENSITY_BANDS.items():
        if text.startswith(band.label + " ("):
            return level
    return IntensityLevel.MODERATE


# -- routes -----------------------------------------------------------------------------------


async def _ensure_library(app: App) -> list[Exercise]:
    exercises = await list_exercises(app.repo)
    if not await app.repo.list(Exercise):
        await seed_starter_exercises(app.repo)
        exercises = await list_exercises(app.repo)
    return exercises


def _grouped(exercises: list[Exercise]) -> list[tuple[str, list[Exercise]]]:
    groups: dict[str, list[Exercise]] = {}
    for e in exercises:
        groups.setdefault(CATEGORY_LABELS[e.category], []).append(e)
    return list(groups.items())


@route("session")
async def session_page(app: App, params: dict[str, str]) -> View:
    log = await app.repo.get(SessionLog, params.get("id", ""))
    if log is None:
        return "views/sessions/missing.html", {}
    file = await load_client_file(app.repo, log.client_id)
    client = file.client
    context: dict[str, Any] = {
        "log": log,
        "client": client,
        "attendance_labels": {a.value: label for a, label in ATTENDANCE_LABELS.items()},
        "tolerance_labels": {t.value: label for t, label in TOLERANCE_LABELS.items()},
        "assistance_labels": {a.value: label for a, label in ASSISTANCE_LABELS.items()},
        "symptom_labels": {s.value: label for s, label in SYMPTOM_LABELS.items()},
        "msk_labels": {s.value: label for s, label in MSK_LABELS.items()},
        "severity_labels": {s.value: label for s, label in SEVERITY_LABELS.items()},
        "rpe_scales": {s.value: label for s, label in RPE_SCALE_LABELS.items()},
    }
    if log.is_signed:
        addenda = sorted(
            await app.repo.find(Addendum, "session_log_id", log.id), key=lambda a: a.signed_at
        )
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
    flags = compute_flags(current) if typed else log.safety_flags
    level = IntensityLevel(values.get("target_level") or _level_of(log.target_hr_text))
    resting = current.pre_vitals.heart_rate_bpm if current.pre_vitals else None
    if resting is None:
        previous = latest_attended(
            [
                x
                for x in await app.repo.find(SessionLog, "client_id", log.client_id)
                if x.id != log.id
            ]
        )
        resting = previous.pre_vitals.heart_rate_bpm if previous and previous.pre_vitals else None
    hr_text, use_rpe = target_hr(client, file.history, resting, level, current.session_date)
    clearance = await load_clearance_context(app.repo, log.client_id)
    if clearance.outcome is None:
        needs_clearance, clearance_msg = (
            True,
            "No pre-participation screening is recorded for this client. Record the "
            "screening, or give a reason for logging this session without it.",
        )
    else:
        allowed, clearance_msg = session_logging_allowed(clearance.outcome, clearance.clearance)
        needs_clearance = not allowed
    exercises = await _ensure_library(app)
    context.update(
        values=values,
        errors=errors,
        flags=flags,
        hard_stop=any(f.is_hard_stop for f in flags),
        override_needed=override_needed(current),
        pre_stops=pre_exercise_hard_stops(current),
        rows=_row_keys(values),
        library=_grouped(exercises),
        units={u.value: label for u, label in LOAD_UNIT_LABELS.items()},
        positions=POSITION_LABELS,
        ketones=KETONE_LABELS,
        levels={lv.value: b.label for lv, b in INTENSITY_BANDS.items() if b.pct_hrr},
        level=level.value,
        hr_text=hr_text,
        use_rpe=use_rpe,
        needs_clearance=needs_clearance and current.attendance is Attendance.ATTENDED,
        clearance_msg=clearance_msg,
        restrictions=clearance.clearance.restrictions if clearance.clearance else "",
        has_diabetes=bool(values.get("has_diabetes")),
        open_msk=_any(values, errors, "msk_"),
        open_symd=_any(values, errors, "symd_"),
        open_during=_any(values, errors, "dur_"),
    )
    return "views/sessions/session.html", context


def _any(values: dict[str, Any], errors: dict[str, str], prefix: str) -> bool:
    """Whether a folded part of the form holds something (then it is shown open)."""
    return any(k.startswith(prefix) and v for k, v in values.items()) or any(
        k.startswith(prefix) for k in errors
    )


def _sessions_params(params: dict[str, str]) -> dict[str, str]:
    return {k: params.get(k, "") for k in ("attendance", "from", "to")}


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@route("client-sessions")
async def client_sessions(app: App, params: dict[str, str]) -> View:
    file = await load_client_file(app.repo, params.get("id", ""))
    if file.client is None:
        return "views/intake/client_missing.html", {}
    filters = _sessions_params(params)
    attendance = filters["attendance"] if filters["attendance"] in set(Attendance) else None
    history = await client_history(
        app.repo,
        file.client.id,
        date_from=_date(filters["from"]),
        date_to=_date(filters["to"]),
        attendance=Attendance(attendance) if attendance else None,
    )
    checks = await check_log_signatures(
        app.platform, app.signatures, [e.log for e in history.entries]
    )
    checklist = onboarding_checklist(file)
    providers = {}
    if file.client.provider_id:
        from medex.intake import ReferringProvider

        p = await app.repo.get(ReferringProvider, file.client.provider_id)
        providers = {p.id: p.display_name} if p else {}
    return "views/sessions/client_sessions.html", {
        "client": file.client,
        "file": file,
        "section": "sessions",
        "sections": SECTIONS,
        "checklist": checklist,
        "ready": all(i.done for i in checklist),
        "today": today(),
        "provider_names": providers,
        "statuses": STATUS_LABELS,
        "history": history,
        "checks": {k: v.value for k, v in checks.items()},
        "check_labels": {k.value: label for k, label in CHECK_LABELS.items()},
        "filters": filters,
        "attendance_labels": {a.value: label for a, label in ATTENDANCE_LABELS.items()},
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
    client = await app.repo.get(Client, str(data.get("client", "")))
    if client is None:
        app.state.flash = "This client could not be found."
        return
    await _ensure_library(app)
    on = today()
    draft = await start_session(app.repo, client.id, on)
    history = await app.repo.list(HealthHistory)
    mine = [h for h in history if h.client_id == client.id]
    latest = max(mine, key=lambda h: h.created_at) if mine else None
    level = _level_of(draft.target_hr_text)
    previous = latest_attended(await app.repo.find(SessionLog, "client_id", client.id))
    resting = previous.pre_vitals.heart_rate_bpm if previous and previous.pre_vitals else None
    text, _ = target_hr(client, latest, resting, level, on)
    draft = await save_draft_log(app.repo, draft.model_copy(update={"target_hr_text": text}))
    app.navigate(f"#/session?id={draft.id}")
    app.state.flash = (
        f"New session for {client.full_name}, pre-filled from the session of "
        f"{previous.session_date.strftime('%b %-d, %Y')}: check and adjust."
        if previous
        else f"New session for {client.full_name}."
    )


def _fail(app: App, log: SessionLog, values: dict[str, Any], errors: dict[str, str]) -> None:
    app.state.forms[f"session:{log.id}"] = FormState(values=dict(values), errors=errors)
    first = next((k for k in errors if k != "__all__"), "")
    app.state.focus = f"field-{first}" if first else ""
    app.state.flash = ""


_SIGN_ERROR_FIELDS = {"safety_override": "override_reason", "signed_by": "__all__"}


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
        k = str(data["remove_row"])
        values = {n: v for n, v in values.items() if not n.startswith(f"ex_{k}_")}
        app.state.forms[key] = FormState(values, previous.errors if previous else {})
        return
    intent = str(data.get("intent") or "save")
    if intent == "add" or data.get("add_exercise_id"):
        exercise = await app.repo.get(Exercise, str(data.get("add_exercise_id", "")))
        errors = dict(previous.errors) if previous else {}
        if exercise is None:
            errors["add_exercise_id"] = "Choose an exercise to add"
            _fail(app, log, values, errors)
            return
        errors.pop("add_exercise_id", None)
        k = max([*_row_keys(values), *_row_keys(previous.values if previous else {}), -1]) + 1
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
        _fail(app, log, values, errors)
        return
    client = await app.repo.get(Client, log.client_id)
    file = await load_client_file(app.repo, log.client_id)
    level = IntensityLevel(values.get("target_level") or _level_of(log.target_hr_text))
    resting = typed.pre_vitals.heart_rate_bpm if typed.pre_vitals else None
    if resting is not None:
        text, _ = target_hr(client, file.history, resting, level, typed.session_date)
        typed = typed.model_copy(update={"target_hr_text": text})
    if intent != "sign":
        saved = await save_draft_log(app.repo, typed)
        app.state.forms.pop(key, None)
        stops = [f for f in saved.safety_flags if f.is_hard_stop]
        app.state.flash = "Draft saved." + (
            f" {len(stops)} stop flag{'s' if len(stops) > 1 else ''}: see Safety below."
            if stops
            else ""
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
        mapped: dict[str, str] = {}
        for name, message in exc.errors.items():
            mapped.setdefault(_SIGN_ERROR_FIELDS.get(name, name.split(".")[0]), message)
        if mapped.get("__all__") == "Type your name to sign":
            mapped["__all__"] = "Set your name in Settings (practice profile) to sign logs."
        _fail(app, log, {**values, "override_reason": data.get("override_reason", "")}, mapped)
        app.state.flash = "Not signed yet: see the messages below."
        return
    except LockedLogError as exc:
        app.state.forms.pop(key, None)
        raise SignedRecordError(SessionLog.store, log.id) from exc
    app.state.forms.pop(key, None)
    app.state.flash = "Session log signed and locked. Corrections go in an addendum."


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
        kind = AddendumKind(values["kind"])
        addendum = await add_addendum(
            app.repo, log_id, values["text"], kind=kind, signer=app.platform
        )
    except SigningRefused as exc:
        app.state.forms[key] = FormState(values, {"text": " ".join(exc.errors.values())})
        return
    except SigningKeyError as exc:
        app.state.forms[key] = FormState(values, {"text": str(exc)})
        return
    except ValidationError as exc:
        errors = field_errors(exc)
        app.state.forms[key] = FormState(values, {"text": next(iter(errors.values()))})
        app.state.focus = "field-text"
        return
    except ValueError as exc:
        app.state.forms[key] = FormState(values, {"text": str(exc)})
        app.state.focus = "field-text"
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
