"""The session form's parts, in the order of a session: the session itself, before exercise
(readings and screening), the exercises, after exercise, notes and plan. Each part folds
(``<details>``) behind a line saying what it holds ("BP 128/82 seated · HR 72 · no
symptoms"); a part starts open while it still needs filling in, and a stop flag or a field
in error inside it always opens it (``attention``)::

    parts = session_parts(log, values, errors, flags)
    parts.pre.digest, parts.pre.open, parts.pre.attention

Everything here reads the form's values as typed (strings), so the lines follow what is typed
before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from medex.safety import SYMPTOM_LABELS, SafetyFlag
from medex.session_logs import ATTENDANCE_LABELS, TOLERANCE_LABELS, Attendance

from .session_form import row_keys

PART_TITLES = {
    "session": "Session",
    "pre": "Before exercise",
    "ex": "Exercises",
    "post": "After exercise",
    "notes": "Notes and plan",
}
_SESSION_FIELDS = {"session_date", "start_time", "session_number", "attendance"}
_PRE_FIELDS = {"pain", "medication_changes", "has_diabetes", "severe_hypo_last_24h", "target_level"}
_POST_FIELDS = {"tolerance", "response_notes", "recovery_notes", "adverse_events"}
_NOTES_FIELDS = {"plan_next", "home_program_days"}
_PREFIXES = (
    ("attendance", "session"),
    ("pre", "pre"),  # pre_heart_rate_bpm … and a refused signature's "pre_vitals"
    ("sym_", "pre"),
    ("msk_", "pre"),
    ("ex", "ex"),  # ex_<k>_sets … and "exercises"
    ("add_exercise", "ex"),
    ("rpe_scale", "ex"),
    ("dur", "post"),  # dur_… and "during_vitals"
    ("post", "post"),
    ("symd_", "post"),
)
_SYMPTOMS = {s.value: label for s, label in SYMPTOM_LABELS.items()}
_ATTENDANCE = {a.value: label for a, label in ATTENDANCE_LABELS.items()}
_TOLERANCE = {t.value: label for t, label in TOLERANCE_LABELS.items()}


def part_of(name: str) -> str | None:
    """The part holding form field ``name`` (None: the safety section, or the whole form)."""
    for names, part in (
        (_SESSION_FIELDS, "session"),
        (_PRE_FIELDS, "pre"),
        (_POST_FIELDS, "post"),
        (_NOTES_FIELDS, "notes"),
    ):
        if name in names:
            return part
    return next((part for prefix, part in _PREFIXES if name.startswith(prefix)), None)


@dataclass(frozen=True)
class Part:
    key: str
    digest: str
    open: bool  # as the part first appears (afterwards it stays as the person left it)
    attention: bool = False  # a stop or a field in error inside: always open
    first_error: str = ""  # the first field in error (``field-<name>``)

    @property
    def title(self) -> str:
        return PART_TITLES[self.key]


@dataclass(frozen=True)
class SessionParts:
    session: Part
    pre: Part
    ex: Part
    post: Part
    notes: Part
    # The small folds inside the parts: open as they first appear / must be open.
    folds: dict[str, tuple[bool, bool]] = field(default_factory=dict)

    @property
    def needing_attention(self) -> list[Part]:
        """The parts with a field in error, in the form's order (the notice at the top)."""
        return [
            p for p in (self.session, self.pre, self.ex, self.post, self.notes) if p.first_error
        ]


def _text(values: dict[str, Any], name: str) -> str:
    return str(values.get(name) or "").strip()


def _reading(values: dict[str, Any], prefix: str, hr_label: str = "HR") -> list[str]:
    """ "BP 128/82 seated", "HR 72", "SpO2 97%", "glucose 110 mg/dL" as typed."""
    out = []
    sys_, dia = _text(values, prefix + "systolic_mmhg"), _text(values, prefix + "diastolic_mmhg")
    if sys_ or dia:
        position = _text(values, prefix + "bp_position")
        out.append(f"BP {sys_ or '?'}/{dia or '?'}" + (f" {position}" if position else ""))
    if hr := _text(values, prefix + "heart_rate_bpm"):
        out.append(f"{hr_label} {hr}")
    if spo2 := _text(values, prefix + "spo2_percent"):
        out.append(f"SpO2 {spo2}%")
    if glucose := _text(values, prefix + "glucose_mg_dl"):
        out.append(f"glucose {glucose} mg/dL")
    return out


def _symptoms(values: dict[str, Any], prefix: str, none: str) -> str:
    ticked = [label for key, label in _SYMPTOMS.items() if values.get(prefix + key)]
    if not ticked:
        return none
    if len(ticked) > 2:
        return f"{len(ticked)} symptoms: {ticked[0]}; {ticked[1]}…"
    return "symptoms: " + "; ".join(ticked)


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _line(bits: list[str]) -> str:
    """The bits of a part's line, joined, starting with a capital."""
    text = " · ".join(b for b in bits if b)
    return text[:1].upper() + text[1:]


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).strftime("%b %-d, %Y")
    except ValueError:
        return text or "No date"


def _errors_in(errors: dict[str, str], part: str) -> list[str]:
    return [k for k in errors if k != "__all__" and part_of(k) == part]


def _first_field(keys: list[str], values: dict[str, Any]) -> str:
    """The field to jump to for a part's errors: a row's own field for a row's message."""
    if not keys:
        return ""
    key = keys[0]
    if key.endswith("_row"):  # a whole exercise row: its first dose field
        return f"field-{key[: -len('row')]}sets"
    if key in ("pre_vitals", "during_vitals", "post_vitals"):
        return f"field-{key.split('_')[0].replace('during', 'dur')}_heart_rate_bpm"
    if key == "exercises":
        rows = row_keys(values)
        return f"field-ex_{rows[0]}_sets" if rows else "field-add_exercise_id"
    return f"field-{key}"


def session_parts(
    values: dict[str, Any],
    errors: dict[str, str],
    flags: list[SafetyFlag],
    pre_stops: list[SafetyFlag],
) -> SessionParts:
    """The parts of the session form for what is typed (``values``), its errors, the safety
    flags of what is typed, and those of them that showed before exercise (``pre_stops``)."""
    attended = (values.get("attendance") or Attendance.ATTENDED.value) == Attendance.ATTENDED
    pre_codes = {f.code for f in pre_stops}
    later_stops = [f for f in flags if f.is_hard_stop and f.code not in pre_codes]
    not_kept = "Not kept: the session did not take place"

    # Session: date, time, attendance, number.
    when = _day(_text(values, "session_date"))
    if start := _text(values, "start_time"):
        when += f" {start}"
    bits = [when, _ATTENDANCE.get(str(values.get("attendance") or "attended"), "")]
    if number := _text(values, "session_number"):
        bits.append(f"session {number}")
    keys = _errors_in(errors, "session")
    session = Part(
        "session",
        _line(bits),
        open=False,
        attention=bool(keys) or not attended,
        first_error=_first_field(keys, values),
    )

    # Before exercise: resting readings, pain, symptoms, warning signs, medication changes.
    readings = _reading(values, "pre_")
    bits = readings or ["No readings yet"]
    if pain := _text(values, "pain"):
        bits.append(f"pain {pain}/10")
    bits.append(_symptoms(values, "sym_", "no symptoms"))
    if any(k.startswith("msk_") and v for k, v in values.items()):
        bits.append("back-pain warning signs ticked")
    if _text(values, "medication_changes"):
        bits.append("medication changes noted")
    keys = _errors_in(errors, "pre")
    pre = Part(
        "pre",
        _line(bits) if attended else not_kept,
        open=attended and not readings,
        attention=bool(keys) or bool(pre_stops),
        first_error=_first_field(keys, values),
    )

    # Exercises: how many, and which.
    names = [_text(values, f"ex_{k}_exercise_name") for k in row_keys(values)]
    if not attended:
        digest = not_kept
    elif names:
        digest = f"{len(names)} exercise{'s' if len(names) > 1 else ''}: " + ", ".join(names)
    else:
        digest = "No exercises yet"
    keys = _errors_in(errors, "ex")
    ex = Part(
        "ex", digest, open=attended, attention=bool(keys), first_error=_first_field(keys, values)
    )

    # After exercise: the reading during and after, symptoms, tolerance.
    after = _reading(values, "post_", "HR")
    during = _reading(values, "dur_", "HR")
    tolerance = _TOLERANCE.get(_text(values, "tolerance"), "")
    bits = [*after] or ["No readings after exercise yet"]
    if during:
        bits.append("during: " + ", ".join(during))
    bits.append(_symptoms(values, "symd_", "no symptoms"))
    bits.append(tolerance or "tolerance not recorded")
    if _text(values, "adverse_events"):
        bits.append("adverse event recorded")
    keys = _errors_in(errors, "post")
    post = Part(
        "post",
        _line(bits) if attended else not_kept,
        open=attended and not (after and tolerance),
        attention=bool(keys) or bool(later_stops),
        first_error=_first_field(keys, values),
    )

    # Notes and plan: the home program as the client reports it, the plan for next time.
    bits = []
    if (days := _text(values, "home_program_days")) != "":
        bits.append(f"home program {days} day{'' if days == '1' else 's'}")
    plan = _text(values, "plan_next")
    bits.append(f"plan: {_short(plan)}" if plan else "no plan for next session yet")
    keys = _errors_in(errors, "notes")
    notes = Part(
        "notes",
        _line(bits),
        open=not plan,
        attention=bool(keys),
        first_error=_first_field(keys, values),
    )

    def fold(prefix: str, stop: bool) -> tuple[bool, bool]:
        held = any(k.startswith(prefix) and v for k, v in values.items())
        wrong = any(k.startswith(prefix) for k in errors)
        return held or wrong, wrong or (held and stop)

    folds = {
        "msk": fold("msk_", bool(pre_stops)),
        "during": fold("dur_", bool(later_stops)),
        "symd": fold("symd_", bool(later_stops)),
        "add": (
            (attended and not names) or "add_exercise_id" in errors,
            "add_exercise_id" in errors,
        ),
    }
    return SessionParts(session, pre, ex, post, notes, folds)
