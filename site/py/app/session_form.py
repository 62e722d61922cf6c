"""The session-log form (HTML field names) ↔ ``medex.session_logs.SessionLog``.

``log_values(log)`` gives the form's values for a stored draft; ``log_from_form(base, data)``
gives the log as typed, or the errors under the form's own field names. Exercise rows use
stable keys (``ex_<k>_<field>``) that are never reused within a form, so a removed row's saved
draft can never be restored into the row that took its place::

    typed, errors = log_from_form(log, data)
    if typed is None:
        fail(app, f"session:{log.id}", data, errors)
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from medex.exercises import CATEGORY_LABELS, Exercise
from medex.forms import Refused, field_errors
from medex.heart_rate import RPE_SCALE_LABELS, RpeRating, RpeScale
from medex.safety import (
    MSK_RED_FLAG_LABELS,
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
from medex.session_logs import (
    ASSISTANCE_LABELS,
    ATTENDANCE_LABELS,
    TOLERANCE_LABELS,
    Attendance,
    ExerciseEntry,
    SessionLog,
    billed_as_service,
    compute_flags,
    counts_against_package,
    log_errors,
    override_needed,
    pre_exercise_hard_stops,
)

from .dosage_form import blank_to_none, dosage_values, map_dosage_errors, num_text, parse_dosage
from .forms import form_errors

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


def row_keys(values: dict[str, Any]) -> list[int]:
    return sorted(int(m[1]) for k in values if (m := _ROW.match(k)))


# -- form ↔ log -------------------------------------------------------------------------------


def _vitals_values(prefix: str, v: Vitals | None) -> dict[str, str]:
    if v is None:
        return {}
    out = {f"{prefix}{k}": num_text(getattr(v, k)) for k in VITAL_FIELDS[:3] + VITAL_FIELDS[4:6]}
    out[f"{prefix}bp_position"] = v.bp_position.value if v.bp_position else ""
    out[f"{prefix}ketones"] = v.ketones.value
    return out


def log_values(log: SessionLog) -> dict[str, Any]:
    """The form's values for a stored (unsigned) log."""
    values: dict[str, Any] = {
        "session_date": log.session_date.isoformat(),
        "start_time": log.start_time.strftime("%H:%M") if log.start_time else "",
        "session_number": num_text(log.session_number),
        "attendance": log.attendance.value,
        "pain": num_text(log.pain),
        "tolerance": log.tolerance.value if log.tolerance else "",
        "home_program_days": num_text(log.home_program_days),
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
                p + "rpe": num_text(e.rpe.value) if e.rpe else "",
                p + "heart_rate_bpm": num_text(e.heart_rate_bpm),
                p + "modifications": e.modifications,
                p + "assistance": e.assistance.value if e.assistance else "",
            }
        )
        values.update(dosage_values(p, e.dosage))
    return values


def _parse_vitals(
    prefix: str, timing: Timing, data: dict[str, Any], errors: dict[str, str]
) -> Vitals | None:
    raw = {k: blank_to_none(data.get(prefix + k)) for k in VITAL_FIELDS}
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
        value = blank_to_none(data.get(p + name))
        if value is not None:
            raw[name] = value
    rpe = blank_to_none(data.get(p + "rpe"))
    if rpe is not None:
        try:
            raw["rpe"] = RpeRating(scale=scale, value=rpe)
        except ValidationError as exc:
            errors[p + "rpe"] = next(iter(field_errors(exc).values()))
    try:
        return ExerciseEntry(**raw)
    except ValidationError as exc:
        map_dosage_errors(p, exc, errors, EX_FIELDS)
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
    for name in (
        "session_date",
        "start_time",
        "session_number",
        "pain",
        "tolerance",
        "home_program_days",
    ):
        value = blank_to_none(data.get(name))
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
        for k in row_keys(data):
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
    return _with_package_choice(log, data), {}


def typed_readings(base: SessionLog, data: dict[str, Any]) -> SessionLog:
    """The log as typed so far, for its safety flags while it is typed: the readings,
    symptoms, warning signs and pain that read as valid, even when another field does not yet
    (the domain's ``compute_flags`` decides on it, as on saving)."""
    typed, _ = log_from_form(base, data)
    if typed is not None:
        return typed
    ignored: dict[str, str] = {}
    during = _parse_vitals("dur_", Timing.DURING, data, ignored)
    has_diabetes = bool(data.get("has_diabetes"))
    try:
        pain = int(str(data.get("pain") or "").strip())
    except ValueError:
        pain = None
    update: dict[str, Any] = {
        "pre_vitals": _parse_vitals("pre_", Timing.PRE, data, ignored),
        "during_vitals": [during] if during else [],
        "post_vitals": _parse_vitals("post_", Timing.POST, data, ignored),
        "symptoms": _checked(data, "sym_", Symptom),
        "symptoms_during": _checked(data, "symd_", Symptom),
        "msk_red_flags": _checked(data, "msk_", MskRedFlag),
        "has_diabetes": has_diabetes,
        "severe_hypo_last_24h": bool(data.get("severe_hypo_last_24h")) and has_diabetes,
        "pain": pain if pain is not None and 0 <= pain <= 10 else None,
    }
    return base.model_copy(update=update)


def package_defaults(log: SessionLog) -> tuple[str, str]:
    """(package_use, billing) as the form shows them: the stored choice, else the default
    rule for this log's readings (a session stopped for safety counts but is not billed)."""
    flagged = log.model_copy(update={"safety_flags": compute_flags(log)})
    use = log.package_use or ("counted" if counts_against_package(flagged) else "not_counted")
    billing = log.billing or ("billed" if billed_as_service(flagged) else "not_billed")
    return use, billing


def _with_package_choice(log: SessionLog, data: dict[str, Any]) -> SessionLog:
    """Keep the practitioner's package/billing choice only when they changed what the form
    showed (``package_shown`` / ``billing_shown``: the default when it was drawn), so an
    untouched default keeps following the readings until the log is signed."""
    plain = log.model_copy(update={"package_use": None, "billing": None})
    if log.attendance is not Attendance.ATTENDED:
        return plain
    default_use, default_billing = package_defaults(plain)
    use = str(data.get("package_use") or "")
    billing = str(data.get("billing") or "")
    use_shown = str(data.get("package_shown") or default_use)
    billing_shown = str(data.get("billing_shown") or default_billing)
    keep_use = use in ("counted", "not_counted") and use != use_shown and use != default_use
    keep_billing = (
        billing in ("billed", "not_billed")
        and billing != billing_shown
        and billing != default_billing
    )
    stored_use = log.package_use if use == use_shown else None
    stored_billing = log.billing if billing == billing_shown else None
    return log.model_copy(
        update={
            "package_use": use if keep_use else stored_use,
            "billing": billing if keep_billing else stored_billing,
        }
    )


_SIGN_FIELDS = {"safety_override": "override_reason", "signed_by": "__all__"}


def sign_errors(exc: Refused) -> dict[str, str]:
    """A refused signature's messages by form field: a log field's (``pre_vitals.heart_rate``
    → ``pre_vitals``), the override reason, or the whole form for the signer's name."""
    errors = form_errors(exc, lambda name: _SIGN_FIELDS.get(name, name.split(".")[0]))
    if errors.get("__all__") == "Type your name to sign":
        errors["__all__"] = "Set your name in Settings (practice profile) to sign logs."
    return errors


# -- the session screens' choices and filters -------------------------------------------------

SESSION_LABELS: dict[str, dict[str, str]] = {
    "attendance_labels": {a.value: label for a, label in ATTENDANCE_LABELS.items()},
    "tolerance_labels": {t.value: label for t, label in TOLERANCE_LABELS.items()},
    "assistance_labels": {a.value: label for a, label in ASSISTANCE_LABELS.items()},
    "symptom_labels": {s.value: label for s, label in SYMPTOM_LABELS.items()},
    # The form ticks and the flag name each warning sign in safety's own words.
    "msk_labels": {s.value: label for s, label in MSK_RED_FLAG_LABELS.items()},
    "severity_labels": {s.value: label for s, label in SEVERITY_LABELS.items()},
    "rpe_scales": {s.value: label for s, label in RPE_SCALE_LABELS.items()},
}


def library_groups(exercises: list[Exercise]) -> list[tuple[str, list[Exercise]]]:
    """The exercise library by category, for the "add an exercise" list."""
    groups: dict[str, list[Exercise]] = {}
    for e in exercises:
        groups.setdefault(CATEGORY_LABELS[e.category], []).append(e)
    return list(groups.items())


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def history_filters(params: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The sessions timeline's filters: (as typed, for the form; as ``client_timeline``
    takes them). A date or attendance that cannot be read filters nothing."""
    typed = {k: params.get(k, "") for k in ("attendance", "from", "to")}
    attendance = typed["attendance"] if typed["attendance"] in set(Attendance) else None
    chosen = {
        "date_from": _day(typed["from"]),
        "date_to": _day(typed["to"]),
        "attendance": Attendance(attendance) if attendance else None,
    }
    return typed, chosen
