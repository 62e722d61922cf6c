"""Assessments: several outcome measures recorded at once (baseline, reassessment, discharge),
with protocol details and resting vitals, and their interpretation over time.

Pure domain: no I/O. Dates that depend on "today" take it from the pydantic validation context
(``context={"today": date, "date_of_birth": date, "custom_measures": {...}}``), as
``health.py`` and ``intake.py`` do; without it the device clock is used. Records read back from
storage validate without a context (custom-measure values are then only checked for being
numbers, since their ranges live in another store).

Values are checked against the measure's valid range with the catalogue's plain message, on
the field it belongs to (``measurements.2.value``). Questionnaires may be entered as item
scores (scored here by ``measures.score``) or as a total from the practitioner's own licensed
form.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .intake import age_on
from .measures import (
    CATALOGUE,
    CustomMeasure,
    MeasureDefinition,
    NotComputable,
    check_value,
    score,
    score_four_stage_balance,
    score_physical_activity,
)
from .outcomes import Observation, ReportRow, interpret
from .records import LongText, Record, RequiredText, Text

__all__ = [
    "ASSESSMENT_KINDS",
    "Assessment",
    "AssessmentVitals",
    "MeasurementEntry",
    "age_on",
    "definition_for",
    "interpret_assessment",
    "measure_history",
    "next_assessment_kind",
    "observations_by_measure",
]

AssessmentKind = Literal["baseline", "reassessment", "discharge"]
ASSESSMENT_KINDS: dict[str, str] = {
    "baseline": "Baseline assessment",
    "reassessment": "Reassessment",
    "discharge": "Discharge assessment",
}
Side = Literal["left", "right"]

# Context key: {measure_id ("custom:<uuid>"): CustomMeasure | MeasureDefinition}
CUSTOM_MEASURES_KEY = "custom_measures"

# Vitals are catalogue measures too, so they get rows, history and safety flags.
VITAL_MEASURES = {
    "resting_hr": "resting_hr",
    "systolic": "bp_systolic",
    "diastolic": "bp_diastolic",
}


def _context(info: ValidationInfo) -> dict:
    return info.context if isinstance(info.context, dict) else {}


def _today(info: ValidationInfo) -> date:
    return _context(info).get("today") or date.today()


def definition_for(
    measure_id: str, custom_measures: Mapping[str, Any] | None = None
) -> MeasureDefinition | None:
    """The catalogue definition, or a custom measure's definition from ``custom_measures``
    (keyed by ``custom:<uuid>``); None when not known."""
    found = CATALOGUE.get(measure_id)
    if found is not None:
        return found
    if custom_measures:
        item = custom_measures.get(measure_id)
        if isinstance(item, CustomMeasure):
            return item.to_definition()
        if isinstance(item, MeasureDefinition):
            return item
    return None


def _definition(measure_id: str, info: ValidationInfo) -> MeasureDefinition | None:
    return definition_for(measure_id, _context(info).get(CUSTOM_MEASURES_KEY))


ProtocolValue = str | float | bool | None

_YES = {"yes", "true", "on", "1", "y"}
_NO = {"no", "false", "off", "0", "n", ""}


def _protocol_value(m: MeasureDefinition, key: str, value: Any) -> ProtocolValue:
    spec = next((p for p in m.protocol if p.key == key), None)
    if spec is None:
        raise ValueError(f"{m.short_name}: '{key}' is not a protocol detail of this test")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if spec.kind == "yes_no":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise ValueError(f"{spec.label}: answer yes or no")
    if spec.kind == "number":
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{spec.label}: enter a number") from None
        if isinstance(value, bool) or not math.isfinite(x) or x < 0:
            raise ValueError(f"{spec.label}: enter a number of 0 or more")
        return x
    text = " ".join(str(value).split())
    if spec.kind == "choice" and text not in spec.choices:
        raise ValueError(f"{spec.label}: choose one of {', '.join(spec.choices)}")
    if len(text) > 200:
        raise ValueError(f"{spec.label} is too long (at most 200 characters)")
    return text


class MeasurementEntry(BaseModel):
    """One measure in an assessment.

    ``items`` holds questionnaire item scores under their short labels (``lefs_01`` …);
    when given, ``value`` is computed from them. ``protocol`` holds the measure's protocol
    details (chair height, device, pace …), checked against ``MeasureDefinition.protocol``.
    """

    model_config = ConfigDict(extra="forbid")

    # Field order matters: each validator reads the fields declared before it.
    measure_id: RequiredText
    items: dict[str, int | None] = Field(default_factory=dict)
    protocol: dict[str, ProtocolValue] = Field(default_factory=dict)
    side: Side | None = None
    value: float | None = Field(default=None, validate_default=True)
    score_method: Text = ""
    score_warnings: list[Text] = Field(default_factory=list)
    notes: LongText = ""

    @field_validator("side", mode="before")
    @classmethod
    def _blank_side(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("measure_id")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        if value in CATALOGUE:
            return value
        if value.startswith("custom:"):
            customs = _context(info).get(CUSTOM_MEASURES_KEY)
            if customs is not None and _definition(value, info) is None:
                raise ValueError("This custom measure no longer exists")
            return value
        raise ValueError("Choose a measure from the list")

    @field_validator("items", mode="before")
    @classmethod
    def _blank_items(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: (None if isinstance(v, str) and not v.strip() else v) for k, v in value.items()
            }
        return value

    @field_validator("items")
    @classmethod
    def _items(cls, value: dict[str, int | None], info: ValidationInfo) -> dict:
        if not value:
            return value
        m = _definition(info.data["measure_id"], info) if "measure_id" in info.data else None
        if m is None:
            return value
        if not m.is_questionnaire:
            raise ValueError(f"{m.name} is not scored from items: enter the value")
        if all(v is None for v in value.values()):
            return {}
        try:
            score(m.id, value)
        except NotComputable as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: dict[str, Any], info: ValidationInfo) -> dict:
        if "measure_id" not in info.data:
            return value
        m = _definition(info.data["measure_id"], info)
        if m is None:
            return value
        cleaned = {k: _protocol_value(m, k, v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v is not None}

    @field_validator("value", mode="before")
    @classmethod
    def _blank_value(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return float(value.strip())
            except ValueError:
                m = _definition(info.data.get("measure_id", ""), info)
                raise ValueError(
                    f"Enter a number for {m.name}" if m else "Enter a number"
                ) from None
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "measure_id" not in info.data or "items" not in info.data:
            return value  # the measure or its items already carry the error
        mid = info.data["measure_id"]
        m = _definition(mid, info)
        items = info.data.get("items") or {}
        protocol = info.data.get("protocol") or {}
        if m is None:  # a custom measure read back without its definition
            if value is None or not math.isfinite(value):
                raise ValueError("Enter a number")
            return value
        if items:
            return score(m.id, items).value
        if value is None and mid == "four_stage_balance":
            stages = [protocol.get(f"stage{i}_s") for i in range(1, 5)]
            while stages and stages[-1] is None:
                stages.pop()
            if stages:
                return score_four_stage_balance(stages).value
        activity = [protocol.get("days_per_week"), protocol.get("minutes_per_day")]
        if mid == "physical_activity" and any(v is not None for v in activity):
            # Days × minutes (docs/clinical.md §4.5): the total follows what the client said.
            computed = score_physical_activity(*activity).value
            if value is not None and value != computed:
                raise ValueError(
                    f"{activity[0]:g} days × {activity[1]:g} min is {computed:g} min/week: "
                    "correct the total, or leave it blank"
                )
            return computed
        if value is None:
            raise ValueError(f"Enter a value for {m.name}")
        x = check_value(m, value)
        if mid == "chair_stand_30s" and protocol.get("arms_used") is True and x != 0:
            raise ValueError(
                "The arms were used, so the STEADI score is 0: enter 0, or untick 'arms used'"
            )
        return x

    @model_validator(mode="after")
    def _derived(self) -> MeasurementEntry:
        # Record how a questionnaire was scored (warnings such as a missing ODI section).
        if self.items and self.measure_id in CATALOGUE and not self.score_method:
            result = score(self.measure_id, self.items)
            self.__dict__["score_method"] = result.method[:200]
            self.__dict__["score_warnings"] = [w[:200] for w in result.warnings]
        if self.measure_id in ("grip_left", "grip_right"):
            hand = self.measure_id.removeprefix("grip_")
            if self.side is None:
                self.__dict__["side"] = hand
            elif self.side != hand:
                raise ValueError(f"This is the {hand}-hand grip measure: the side must be {hand}")
        return self

    @property
    def variant(self) -> str | None:
        """The side/leg/arm this value belongs to, when the test is done per side."""
        if self.side:
            return self.side
        for key in ("leg", "arm"):
            v = self.protocol.get(key)
            if isinstance(v, str) and v:
                return v
        return None


class AssessmentVitals(BaseModel):
    """Resting vitals taken at the assessment."""

    model_config = ConfigDict(extra="forbid")

    resting_hr: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    position: Literal["seated", "standing", "supine"] = "seated"
    arm: Side | None = None

    @field_validator("resting_hr", "systolic", "diastolic", "arm", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("resting_hr", "systolic", "diastolic", mode="after")
    @classmethod
    def _ranges(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None:
            check_value(CATALOGUE[VITAL_MEASURES[str(info.field_name)]], value)  # a field validator
        return value

    @model_validator(mode="after")
    def _pair(self) -> AssessmentVitals:
        if (self.systolic is None) != (self.diastolic is None):
            raise ValueError("Enter both the systolic and the diastolic pressure")
        if (
            self.systolic is not None
            and self.diastolic is not None
            and self.diastolic >= self.systolic
        ):
            raise ValueError("Diastolic pressure must be lower than systolic pressure")
        return self

    @property
    def is_empty(self) -> bool:
        return self.resting_hr is None and self.systolic is None


class Assessment(Record):
    """A baseline, reassessment or discharge assessment of one client."""

    store: ClassVar[str] = "assessments"

    client_id: RequiredText
    episode_id: str | None = None
    kind: AssessmentKind = "baseline"
    assessed_on: date
    performed_by: Text = ""
    vitals: AssessmentVitals | None = None
    measurements: list[MeasurementEntry] = Field(default_factory=list)
    notes: LongText = ""

    @field_validator("episode_id", mode="before")
    @classmethod
    def _blank_episode(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("assessed_on")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        if value > _today(info):
            raise ValueError("The assessment date cannot be in the future")
        birth = _context(info).get("date_of_birth")
        if birth is not None and value < birth:
            raise ValueError("The assessment date cannot be before the client's date of birth")
        return value

    @field_validator("measurements")
    @classmethod
    def _no_duplicates(cls, value: list[MeasurementEntry]) -> list[MeasurementEntry]:
        seen: set[tuple[str, str | None]] = set()
        for entry in value:
            key = (entry.measure_id, entry.variant)
            if key in seen:
                side = f" ({entry.variant})" if entry.variant else ""
                raise ValueError(
                    f"{entry.measure_id.replace('_', ' ')}{side} is entered twice: keep one value"
                )
            seen.add(key)
        return value

    @model_validator(mode="after")
    def _something_recorded(self) -> Assessment:
        if not self.measurements and (self.vitals is None or self.vitals.is_empty):
            raise ValueError("Record at least one measure or the resting vitals")
        return self

    @property
    def kind_label(self) -> str:
        return ASSESSMENT_KINDS[self.kind]

    @property
    def measure_ids(self) -> list[str]:
        out = [e.measure_id for e in self.measurements]
        return list(dict.fromkeys(out + [mid for mid, _, _ in _vital_values(self)]))

    def entry(self, measure_id: str, variant: str | None = None) -> MeasurementEntry | None:
        for e in self.measurements:
            if e.measure_id == measure_id and (variant is None or e.variant == variant):
                return e
        return None


# ---------------------------------------------------------------------------------------------
# History and interpretation
# ---------------------------------------------------------------------------------------------


def next_assessment_kind(assessments: Iterable[Assessment]) -> AssessmentKind:
    """The kind a new assessment of a program starts as: the baseline first, then
    reassessments (the discharge assessment is always chosen by the practitioner)."""
    return "reassessment" if any(a.kind == "baseline" for a in assessments) else "baseline"


def _vital_values(a: Assessment) -> list[tuple[str, float, dict]]:
    v = a.vitals
    if v is None:
        return []
    protocol: dict[str, Any] = {"position": v.position}
    if v.arm:
        protocol["arm"] = v.arm
    out = []
    for attr, mid in VITAL_MEASURES.items():
        x = getattr(v, attr)
        if x is not None:
            out.append((mid, float(x), protocol if mid != "resting_hr" else {}))
    return out


def _order(a: Assessment) -> tuple:
    return (a.assessed_on, a.created_at, a.id)


def observations_by_measure(
    assessments: Iterable[Assessment], date_of_birth: date | None = None
) -> dict[tuple[str, str | None], list[Observation]]:
    """One pass over the assessments: ``(measure_id, variant)`` → observations by date.
    The variant is the side/leg/arm for per-side tests (None otherwise)."""
    out: dict[tuple[str, str | None], list[Observation]] = {}
    for a in sorted(assessments, key=_order):
        age = age_on(date_of_birth, a.assessed_on) if date_of_birth is not None else None
        for e in a.measurements:
            if e.value is None:
                continue
            obs = Observation(when=a.assessed_on, value=e.value, protocol=e.protocol, age=age)
            out.setdefault((e.measure_id, e.variant), []).append(obs)
        for mid, x, protocol in _vital_values(a):
            obs = Observation(when=a.assessed_on, value=x, protocol=protocol, age=age)
            out.setdefault((mid, None), []).append(obs)
    return out


def measure_history(
    assessments: Iterable[Assessment],
    measure_id: str,
    variant: str | None = None,
    *,
    date_of_birth: date | None = None,
) -> list[Observation]:
    """The dated values of one measure (one side, for per-side tests), oldest first; each
    ``Observation`` carries the protocol and, when ``date_of_birth`` is given, the age then."""
    return list(observations_by_measure(assessments, date_of_birth).get((measure_id, variant), []))


def _up_to(assessment: Assessment, history: Iterable[Assessment]) -> list[Assessment]:
    """The assessments up to and including this one (a draft not yet saved counts too)."""
    key = _order(assessment)
    kept = [a for a in history if a.id != assessment.id and _order(a) <= key]
    kept.append(assessment)
    return kept


def interpret_assessment(
    assessment: Assessment,
    history: Iterable[Assessment],
    client_age: int | None = None,
    client_sex: Any = None,
    conditions: Iterable[str] = (),
    *,
    date_of_birth: date | None = None,
    custom_measures: Mapping[str, Any] | None = None,
) -> list[ReportRow]:
    """A report row for every measure (and vital) in ``assessment``: its value, norm band,
    cut-off flags, and change from the baseline and from the previous assessment.

    ``history`` is the client's assessments (in any order, this one included or not); only
    those on or before this one count, so an old assessment reads as it did then. Pass the
    episode's assessments to measure change from the episode's baseline. With
    ``date_of_birth``, each value is judged against the norm for the client's age on that
    day; otherwise ``client_age`` is used for all.
    """
    if client_age is None and date_of_birth is not None:
        client_age = age_on(date_of_birth, assessment.assessed_on)
    conds = tuple(conditions)
    by_measure = observations_by_measure(_up_to(assessment, history), date_of_birth)
    rows: list[ReportRow] = []
    keys = [(e.measure_id, e.variant) for e in assessment.measurements if e.value is not None]
    keys += [(mid, None) for mid, _, _ in _vital_values(assessment)]
    for mid, variant in dict.fromkeys(keys):
        m = definition_for(mid, custom_measures)
        if m is None:
            continue  # a custom measure whose definition was not passed
        rows.append(
            interpret(m, by_measure[(mid, variant)], client_age, client_sex, conditions=conds)
        )
    return rows


def latest_values(assessments: Sequence[Assessment]) -> dict[str, float]:
    """The most recent value of each measure (first variant found), e.g. for a summary."""
    out: dict[str, float] = {}
    for (mid, _variant), obs in observations_by_measure(assessments).items():
        if obs and mid not in out:
            out[mid] = obs[-1].value
    return out
