"""Outcome-based programs: templates (what the practitioner sells), client episodes, the
reassessment schedule and discharge criteria.

Pure domain: no I/O. "Due" is computed, never stored: ``reassessments_due`` works from the
episode, its assessments and the dates of attended sessions. Money is whole cents (``int``);
``parse_money`` / ``format_money`` convert from and to what people type and read.

Discharge criteria are rules on measures, all of which must be met:
- ``threshold``: the latest value compared with a number ("TUG < 12 s");
- ``norm``: the latest value against the published age/sex normal range
  (``not_below_norm``: within or above it; ``within_norm``: inside it);
- ``no_flag``: no published cut-off of one kind (fall risk, sarcopenia …) is met for the
  client's age and sex (e.g. the STEADI chair-stand score);
- ``mcid_improvement``: improved since baseline by at least the MCID, in the measure's
  direction.
A criterion that cannot be judged (not assessed, no norm for the age, no MCID on file) is
"unknown", and then so is the overall result unless another criterion is not met.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .dashboard import DashboardItem
from .measures import CATALOGUE, CONDITIONS, MeasureDefinition, format_quantity
from .navigation import Screen
from .outcomes import ReportRow, cutoff_flags, norm_band, normalise_sex
from .records import LongText, Record, RequiredText, Text

__all__ = [
    "DEFAULT_PROGRAMS",
    "DISCHARGE_REASONS",
    "PAYMENT_METHODS",
    "CriteriaStatus",
    "CriterionResult",
    "DischargeCriterion",
    "DueItem",
    "Episode",
    "Payment",
    "ProgramSnapshot",
    "ProgramTemplate",
    "conditions_from_diagnoses",
    "discharge_criteria_status",
    "format_money",
    "parse_money",
    "planned_reassessment_dates",
    "reassessment_dashboard_items",
    "reassessments_due",
    "sessions_summary",
    "suggest_programs",
]

Comparator = Literal["<", "<=", ">", ">="]
CriterionKind = Literal["threshold", "norm", "no_flag", "mcid_improvement"]
NormTarget = Literal["not_below_norm", "within_norm"]
_CMP_TEXT = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_FLAG_WORDS = {
    "fall_risk": "fall-risk",
    "sarcopenia": "sarcopenia",
    "function": "function",
    "safety": "safety",
    "health_risk": "health-risk",
}


def _context(info: ValidationInfo) -> dict:
    return info.context if isinstance(info.context, dict) else {}


def _today(info: ValidationInfo) -> date:
    return _context(info).get("today") or date.today()


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# ---------------------------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------------------------


def parse_money(value: Any) -> int:
    """Cents from what people type: "1200", "1,200.50", "$95", Decimal("95.5"). Plain-words
    ValueError for anything else (negative amounts, more than 2 decimals)."""
    if isinstance(value, bool):
        raise ValueError("Enter an amount, e.g. 1200.00")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().replace(",", "").replace(" ", "")
        text = text.removeprefix("$").removeprefix("US$")
        if not text:
            raise ValueError("Enter an amount, e.g. 1200.00")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError("Enter an amount in dollars and cents, e.g. 1200.00") from None
    if not amount.is_finite():
        raise ValueError("Enter an amount, e.g. 1200.00")
    if amount < 0:
        raise ValueError("An amount cannot be negative")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Enter the amount to the cent (at most 2 decimals)")
    if amount > Decimal("1000000"):
        raise ValueError("This amount is too large (at most 1,000,000)")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def format_money(cents: int | None, symbol: str = "$") -> str:
    """'$1,200.00'; '' for None."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


# ---------------------------------------------------------------------------------------------
# Discharge criteria
# ---------------------------------------------------------------------------------------------


def _measure(measure_id: str) -> MeasureDefinition | None:
    return CATALOGUE.get(measure_id)


def _amount(m: MeasureDefinition | None, value: float) -> str:
    """A target as published: '12 s', '1.0 m/s', '20%', 'stage 3'."""
    if m is None:
        return f"{value:g}"
    decimals = 0
    while decimals < 3 and round(value, decimals) != value:
        decimals += 1
    if m.unit == "stage":
        return f"stage {value:.{decimals}f}"
    if m.id == "gait_speed":
        decimals = max(decimals, 1)
    return format_quantity(m, value, decimals=decimals)


class DischargeCriterion(BaseModel):
    """One rule on one measure (see the module docstring for the kinds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measure_id: RequiredText
    kind: CriterionKind = "threshold"
    comparator: Comparator | None = None
    value: float | None = None
    norm: NormTarget | None = None
    flag_kind: Literal["fall_risk", "sarcopenia", "function", "health_risk"] | None = None
    note: LongText = ""  # why this rule, and its source

    @field_validator("comparator", "value", "norm", "flag_kind", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_none(value)

    @model_validator(mode="after")
    def _complete(self) -> DischargeCriterion:
        m = _measure(self.measure_id)
        if m is None and not self.measure_id.startswith("custom:"):
            raise ValueError("Choose a measure from the list")
        name = m.name if m else "This measure"
        if self.kind == "threshold":
            if self.comparator is None or self.value is None:
                raise ValueError("A discharge rule needs a comparison and a number")
            if m is not None:
                lo, hi = m.valid_min, m.valid_max
                if (lo is not None and self.value < lo) or (hi is not None and self.value > hi):
                    raise ValueError(f"{name}: the target lies outside the valid range")
        elif self.kind == "norm":
            if self.norm is None:
                raise ValueError("Choose 'within the normal range' or 'not below it'")
            if m is None or not m.norms:
                raise ValueError(f"{name} has no published norm on file: use a number instead")
        elif self.kind == "no_flag":
            if self.flag_kind is None:
                raise ValueError("Choose which cut-off must no longer be met")
            if m is None or not any(c.kind == self.flag_kind for c in m.cutoffs):
                raise ValueError(f"{name} has no published cut-off of that kind on file")
        elif self.kind == "mcid_improvement" and m is not None and not m.mcid:
            raise ValueError(f"{name} has no MCID on file: use a number instead")
        return self

    @property
    def text(self) -> str:
        """'Timed Up and Go < 12 s', '30-Second Chair Stand not below the normal range'."""
        m = _measure(self.measure_id)
        name = m.name if m else self.measure_id
        if self.kind == "threshold":
            comparator, value = self.threshold
            return f"{name} {_CMP_TEXT[comparator]} {_amount(m, value)}"
        if self.kind == "norm":
            if self.norm == "within_norm":
                return f"{name} within the normal range for age and sex"
            return f"{name} not below the normal range for age and sex"
        if self.kind == "no_flag":
            meaning = next(c.meaning for c in m.cutoffs if c.kind == self.flag_kind) if m else ""
            return f"{name}: no longer “{meaning}” (published cut-off)"
        return f"{name} improved since baseline by at least the MCID"

    @property
    def threshold(self) -> tuple[Comparator, float]:
        """The comparison and the number of a "threshold" rule (required for that kind)."""
        if self.comparator is None or self.value is None:
            raise ValueError("A discharge rule needs a comparison and a number")
        return self.comparator, self.value


# ---------------------------------------------------------------------------------------------
# Program templates
# ---------------------------------------------------------------------------------------------

_ICD_PREFIX = re.compile(r"^[A-Z][0-9A-Z]{1,6}$")


def _icd_prefix(value: str) -> str:
    code = "".join(value.split()).replace(".", "").upper()
    if not _ICD_PREFIX.match(code):
        raise ValueError(f"'{value}' is not the start of an ICD-10-CM code, e.g. M17 or Z96.65")
    return code


class _ProgramFields(BaseModel):
    """What a template sets, and what an episode keeps a copy of when it starts."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    measure_ids: list[str] = Field(default_factory=list)
    reassess_every_sessions: int | None = Field(default=None, ge=1, le=200)
    reassess_every_days: int | None = Field(default=None, ge=1, le=365)
    expected_sessions: int | None = Field(default=None, ge=1, le=500)
    sessions_included: int | None = Field(default=None, ge=1, le=500)
    expected_weeks: int | None = Field(default=None, ge=1, le=104)
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)
    discharge_criteria: list[DischargeCriterion] = Field(default_factory=list)

    @field_validator(
        "reassess_every_sessions",
        "reassess_every_days",
        "expected_sessions",
        "sessions_included",
        "expected_weeks",
        "price_cents",
        mode="before",
    )
    @classmethod
    def _blank_numbers(cls, value: Any) -> Any:
        return _blank_none(value)

    @field_validator("measure_ids")
    @classmethod
    def _measures(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for mid in value:
            mid = mid.strip()
            if not mid:
                continue
            if mid not in CATALOGUE and not mid.startswith("custom:"):
                raise ValueError(f"'{mid}' is not a measure in the catalogue")
            if mid not in out:
                out.append(mid)
        return out

    @model_validator(mode="after")
    def _consistent(self):
        if self.reassess_every_sessions is None and self.reassess_every_days is None:
            raise ValueError("Set the reassessment interval: every so many sessions or days")
        for c in self.discharge_criteria:
            if c.measure_id not in self.measure_ids:
                raise ValueError(
                    f"A discharge rule uses {c.measure_id.replace('_', ' ')}, which is not one "
                    "of this program's measures"
                )
        return self

    @property
    def price_text(self) -> str:
        return format_money(self.price_cents) if self.price_cents is not None else "Price not set"

    @property
    def criteria_text(self) -> str:
        return " and ".join(c.text for c in self.discharge_criteria) or "No discharge criteria set"


class ProgramTemplate(_ProgramFields, Record):
    """An outcome-based program the practice offers (editable; shipped defaults below)."""

    store: ClassVar[str] = "programs"

    description: LongText = ""
    diagnosis_prefixes: list[str] = Field(default_factory=list)  # "M17", "Z9665" (no dots)
    conditions: list[str] = Field(default_factory=list)  # keys of measures.CONDITIONS
    notes: LongText = ""  # why the criteria are what they are
    default_key: str | None = None  # set on shipped defaults ("post_tkr")
    archived: bool = False

    @field_validator("diagnosis_prefixes")
    @classmethod
    def _prefixes(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(_icd_prefix(v) for v in value if v.strip()))

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: list[str]) -> list[str]:
        for c in value:
            if c not in CONDITIONS:
                raise ValueError(f"Unknown condition '{c}'")
        return value

    def snapshot(self) -> ProgramSnapshot:
        data = {k: getattr(self, k) for k in _ProgramFields.model_fields}
        return ProgramSnapshot(**data, conditions=list(self.conditions))


class ProgramSnapshot(_ProgramFields):
    """The template as it was when the episode started: later edits do not change it."""

    conditions: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Shipped defaults
# ---------------------------------------------------------------------------------------------

_DEFAULT_NS = "6f1c3a52-4b8e-4c55-9a57-0d6f3c1b2e90"


def _default_id(key: str) -> str:
    return str(uuid.uuid5(uuid.UUID(_DEFAULT_NS), key))


def _rule(measure_id: str, kind: str = "threshold", **kw: Any) -> DischargeCriterion:
    return DischargeCriterion(measure_id=measure_id, kind=kind, **kw)


# Default discharge rules: each value and its source is in docs/clinical.md §9 (and the
# measure's own section there).
_TUG_12 = _rule(
    "tug",
    comparator="<",
    value=12,
    note="CDC STEADI: 12 s or more = at risk for falling (community older adults). A screen, "
    "not a diagnosis (Barry 2014: do not use alone), hence combined with other rules.",
)
_CHAIR_NORM = _rule(
    "chair_stand_30s",
    "norm",
    norm="not_below_norm",
    note="Rikli & Jones 2013 normal range (25th–75th percentile, adults 60–94). Outside "
    "60–94 there is no norm and the rule reads 'unknown'.",
)
_CHAIR_STEADI = _rule(
    "chair_stand_30s",
    "no_flag",
    flag_kind="fall_risk",
    note="CDC STEADI age/sex 'below average' scores (adults 60–94).",
)
_GAIT_1 = _rule(
    "gait_speed",
    comparator=">=",
    value=1.0,
    note="Cesari 2005: below 1.0 m/s (usual pace) = high risk of limitation in "
    "well-functioning older adults.",
)
_FOUR_STAGE_3 = _rule(
    "four_stage_balance",
    comparator=">=",
    value=3,
    note="CDC STEADI: not holding tandem stance (stage 3) for 10 s = increased fall risk.",
)


def _default(key: str, **data: Any) -> ProgramTemplate:
    return ProgramTemplate(
        id=_default_id(key),
        default_key=key,
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
        **data,
    )


DEFAULT_PROGRAMS: tuple[ProgramTemplate, ...] = (
    _default(
        "post_tkr",
        name="Post total knee replacement",
        description="After physical therapy ends: strength, walking and confidence on stairs.",
        diagnosis_prefixes=["Z9665", "Z471", "M17"],
        measure_ids=["tug", "chair_stand_30s", "gait_speed", "six_minute_walk", "lefs", "nprs"],
        reassess_every_sessions=12,
        reassess_every_days=42,
        expected_sessions=24,
        sessions_included=24,
        expected_weeks=12,
        discharge_criteria=[
            _TUG_12,
            _CHAIR_NORM,
            _GAIT_1,
            _rule(
                "lefs",
                "mcid_improvement",
                note="LEFS MCID 9 points (Binkley 1999, lower-extremity MSK outpatients). "
                "The reference has no LEFS discharge score, so change is used.",
            ),
        ],
        notes="No published discharge score for knee replacement is on file; the rules use the "
        "fall-risk screen, the age/sex norm and the MCID the reference gives.",
    ),
    _default(
        "falls_prevention",
        name="Falls prevention",
        description="Balance, leg strength and walking for older adults at risk of falling.",
        diagnosis_prefixes=["R296", "Z9181", "R2681", "R262", "R268", "W19", "W18", "W10"],
        conditions=["falls_history"],
        measure_ids=[
            "tug",
            "chair_stand_30s",
            "four_stage_balance",
            "berg_balance",
            "gait_speed",
            "single_leg_stance",
        ],
        reassess_every_sessions=12,
        reassess_every_days=42,
        expected_sessions=24,
        sessions_included=24,
        expected_weeks=12,
        discharge_criteria=[
            _TUG_12,
            _CHAIR_STEADI,
            _FOUR_STAGE_3,
            _rule(
                "berg_balance",
                comparator=">",
                value=45,
                note="45 or less = increased fall risk (secondary source); Muir 2008 warns the "
                "cut-off is insensitive, so it is one rule among several.",
            ),
        ],
        notes="All rules are the published fall-risk screens the reference gives (CDC STEADI, "
        "Berg). No single-leg-stance norm is on file, so it is tracked but not a rule.",
    ),
    _default(
        "type2_diabetes",
        name="Type 2 diabetes",
        description="Regular aerobic and resistance exercise for blood-glucose control.",
        diagnosis_prefixes=["E11", "R7303"],
        measure_ids=[
            "six_minute_walk",
            "step_test_2min",
            "chair_stand_30s",
            "grip_strength",
            "waist_circumference",
            "bmi",
            "resting_hr",
            "bp_systolic",
            "bp_diastolic",
        ],
        reassess_every_sessions=12,
        reassess_every_days=42,
        expected_sessions=24,
        sessions_included=24,
        expected_weeks=12,
        discharge_criteria=[
            _rule(
                "six_minute_walk",
                "mcid_improvement",
                note="Perera 2006: a small meaningful change is about 20 m (community older "
                "adults). No 6MW normal range is confirmed in the reference.",
            ),
            _rule(
                "step_test_2min",
                "no_flag",
                flag_kind="function",
                note="Rikli & Jones 2013 criterion score for staying physically independent "
                "(adults 60–94).",
            ),
            _CHAIR_NORM,
        ],
        notes="Blood pressure, waist and BMI are tracked for the physician, not used as "
        "discharge rules: treating them is outside an exercise professional's scope, and the "
        "reference has no exercise-program target for them.",
    ),
    _default(
        "low_back_pain",
        name="Low back pain",
        description="Graded activity and trunk and hip strength after care for back pain.",
        diagnosis_prefixes=["M545", "M544", "M543", "M51", "M4726", "M4727", "M4728", "M5416"],
        conditions=["low_back_pain"],
        measure_ids=["oswestry", "nprs", "psfs", "chair_stand_30s", "five_times_sts"],
        reassess_every_sessions=8,
        reassess_every_days=28,
        expected_sessions=16,
        sessions_included=16,
        expected_weeks=8,
        discharge_criteria=[
            _rule(
                "oswestry",
                comparator="<=",
                value=20,
                note="Fairbank: 0–20% = minimal disability.",
            ),
            _rule(
                "psfs",
                "mcid_improvement",
                note="PSFS MID 1.3 points (JOSPT 2014, MSK outpatients).",
            ),
        ],
        notes="ODI 20% or less is the end of the 'minimal disability' band; the ODI MID (12 "
        "points) is reported as change but not required, so a client who starts at 25% is not "
        "held back. Pain (NPRS) is tracked and reported with its low-back-pain MCID (Childs 2005) "
        "but is not a rule: the reference gives no discharge pain level short of 0.",
    ),
    _default(
        "parkinsons",
        name="Parkinson's disease",
        description="Walking, balance and transfers; keeping function for as long as possible.",
        diagnosis_prefixes=["G20", "G21", "G22"],
        measure_ids=[
            "tug",
            "gait_speed",
            "five_times_sts",
            "four_stage_balance",
            "berg_balance",
            "six_minute_walk",
            "psfs",
        ],
        reassess_every_sessions=12,
        reassess_every_days=42,
        expected_sessions=24,
        sessions_included=24,
        expected_weeks=12,
        discharge_criteria=[
            _TUG_12,
            _FOUR_STAGE_3,
            _rule(
                "psfs",
                "mcid_improvement",
                note="PSFS MID 1.3 points (JOSPT 2014, MSK outpatients; not measured in "
                "Parkinson's).",
            ),
        ],
        notes="The reference has no Parkinson's-specific cut-off, MDC or MCID (the Berg MDCs "
        "on file exclude Parkinson's). The rules are the general fall-risk screens plus the "
        "client's own goals; Parkinson's is progressive, so many clients continue on a "
        "maintenance program rather than being discharged.",
    ),
    _default(
        "osteoporosis",
        name="Osteoporosis",
        description="Strength, balance and posture to lower the risk of falls and fractures.",
        diagnosis_prefixes=["M81", "M80", "M8580"],
        measure_ids=[
            "tug",
            "chair_stand_30s",
            "four_stage_balance",
            "grip_strength",
            "gait_speed",
            "single_leg_stance",
        ],
        reassess_every_sessions=12,
        reassess_every_days=42,
        expected_sessions=24,
        sessions_included=24,
        expected_weeks=12,
        discharge_criteria=[
            _TUG_12,
            _CHAIR_NORM,
            _FOUR_STAGE_3,
            _rule(
                "grip_strength",
                "no_flag",
                flag_kind="sarcopenia",
                note="EWGSOP2 probable sarcopenia: grip below 27 kg (men) / 16 kg (women).",
            ),
        ],
        notes="Falls cause most osteoporotic fractures, so the rules are the fall-risk screens "
        "and the sarcopenia grip cut-off the reference gives. No bone-specific measure is in "
        "the catalogue.",
    ),
    _default(
        "general_deconditioning",
        name="General deconditioning",
        description="Rebuilding strength and stamina after illness, a hospital stay or inactivity.",
        diagnosis_prefixes=["R5381", "R531", "M6281", "Z7409", "R54"],
        measure_ids=[
            "chair_stand_30s",
            "arm_curl",
            "step_test_2min",
            "up_and_go_8ft",
            "six_minute_walk",
            "gait_speed",
            "grip_strength",
        ],
        reassess_every_sessions=12,
        reassess_every_days=42,
        expected_sessions=24,
        sessions_included=24,
        expected_weeks=12,
        discharge_criteria=[
            _CHAIR_NORM,
            _rule(
                "arm_curl",
                "norm",
                norm="not_below_norm",
                note="Rikli & Jones 2013 normal range (adults 60–94).",
            ),
            _rule(
                "up_and_go_8ft",
                "norm",
                norm="not_below_norm",
                note="Rikli & Jones / Jones & Rikli 2002 normal range (adults 60–94).",
            ),
            _GAIT_1,
        ],
        notes="Senior Fitness Test normal ranges (25th–75th percentile) are the only age/sex "
        "norms on file; for clients under 60 these rules read 'unknown' and the practitioner "
        "decides.",
    ),
)


def default_program(key: str) -> ProgramTemplate:
    for p in DEFAULT_PROGRAMS:
        if p.default_key == key:
            return p
    raise KeyError(f"No shipped program {key!r}")


def suggest_programs(
    diagnosis_codes: Iterable[str], templates: Sequence[ProgramTemplate] = DEFAULT_PROGRAMS
) -> list[ProgramTemplate]:
    """Templates whose ICD-10 prefixes match the referral's codes, the most specific match
    first (longest prefix), then by name. Archived templates are left out."""
    codes = ["".join(c.split()).replace(".", "").upper() for c in diagnosis_codes if c]
    scored: list[tuple[int, str, ProgramTemplate]] = []
    for t in templates:
        if t.archived:
            continue
        best = max(
            (len(p) for p in t.diagnosis_prefixes for c in codes if c.startswith(p)), default=0
        )
        if best:
            scored.append((-best, t.name.lower(), t))
    scored.sort(key=lambda x: (x[0], x[1]))
    return [t for _, _, t in scored]


_CONDITION_PREFIXES = {
    "knee_oa": ("M17",),
    "low_back_pain": ("M545", "M544", "M543"),
    "stroke": ("I63", "I69", "Z8673"),
    "acute_stroke": (),
    "falls_history": ("Z9181", "R296"),
}


def conditions_from_diagnoses(diagnosis_codes: Iterable[str]) -> list[str]:
    """Catalogue conditions (which switch on population-specific MDC/MCIDs and cut-offs)
    implied by ICD-10-CM codes. 'Acute stroke' is never inferred: it depends on timing."""
    codes = ["".join(c.split()).replace(".", "").upper() for c in diagnosis_codes if c]
    return [
        cond
        for cond, prefixes in _CONDITION_PREFIXES.items()
        if any(c.startswith(p) for c in codes for p in prefixes)
    ]


# ---------------------------------------------------------------------------------------------
# Episodes
# ---------------------------------------------------------------------------------------------

PAYMENT_METHODS: dict[str, str] = {
    "card": "Card",
    "cash": "Cash",
    "check": "Check",
    "hsa_fsa": "HSA/FSA card",
    "bank_transfer": "Bank transfer",
    "other": "Other",
}
DISCHARGE_REASONS: dict[str, str] = {
    "criteria_met": "Discharge criteria met",
    "client_request": "At the client's request",
    "referred_back": "Referred back to the physician",
    "other": "Other",
}


class Payment(BaseModel):
    """Money received for an episode, or (``kind="refund"``) paid back to the client. The
    amount is always positive; a refund lowers what has been paid."""

    model_config = ConfigDict(extra="forbid")

    paid_on: date
    amount_cents: int = Field(gt=0, le=100_000_000)
    method: Literal["card", "cash", "check", "hsa_fsa", "bank_transfer", "other"] = "card"
    reference: Text = ""  # receipt or check number
    kind: Literal["payment", "refund"] = "payment"

    @field_validator("amount_cents", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("Enter the amount received")
        return value

    @field_validator("paid_on")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        if value > _today(info):
            raise ValueError("A payment date cannot be in the future")
        return value

    @property
    def is_refund(self) -> bool:
        return self.kind == "refund"

    @property
    def signed_cents(self) -> int:
        """The amount as it counts towards what was paid: negative for a refund."""
        return -self.amount_cents if self.is_refund else self.amount_cents

    @property
    def amount_text(self) -> str:
        return format_money(self.signed_cents)


class Episode(Record):
    """A client's program: from the baseline (deficits) to discharge."""

    store: ClassVar[str] = "episodes"

    client_id: RequiredText
    program_id: str | None = None  # the template it started from (may later be edited)
    program: ProgramSnapshot
    start_date: date
    baseline_deficits: LongText = ""
    physician_follow_up: date | None = None
    sessions_prior: int = Field(default=0, ge=0, le=500)  # used before tracking in the app
    payments: list[Payment] = Field(default_factory=list)
    status: Literal["active", "discharged"] = "active"
    discharge_date: date | None = None
    discharge_reason: Literal["criteria_met", "client_request", "referred_back", "other"] | None = (
        None
    )
    discharge_note: LongText = ""

    @field_validator("physician_follow_up", "discharge_date", "discharge_reason", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_none(value)

    @field_validator("start_date")
    @classmethod
    def _start(cls, value: date, info: ValidationInfo) -> date:
        # A program may be set up a little ahead of the first session, not months ahead.
        if value > _today(info) + timedelta(days=60):
            raise ValueError("The start date is more than 60 days ahead: check the year")
        return value

    @field_validator("discharge_date")
    @classmethod
    def _discharge_not_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None and value > _today(info):
            raise ValueError("The discharge date cannot be in the future")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Episode:
        if self.physician_follow_up is not None and self.physician_follow_up < self.start_date:
            raise ValueError("The physician's follow-up date cannot be before the program starts")
        if self.status == "discharged":
            if self.discharge_date is None:
                raise ValueError("Enter the discharge date")
            if self.discharge_reason is None:
                raise ValueError("Choose the reason for discharge")
            if self.discharge_reason == "other" and not self.discharge_note:
                raise ValueError("Describe the reason for discharge")
        elif self.discharge_date is not None or self.discharge_reason is not None:
            raise ValueError("An active program has no discharge date or reason")
        if self.discharge_date is not None and self.discharge_date < self.start_date:
            raise ValueError("The discharge date cannot be before the program starts")
        return self

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def paid_cents(self) -> int:
        """Payments minus refunds."""
        return sum(p.signed_cents for p in self.payments)

    def refund_refusal(self, amount_cents: int) -> str | None:
        """Why a refund of ``amount_cents`` cannot be recorded (more than was paid), or None."""
        if amount_cents > self.paid_cents:
            return (
                f"A refund cannot be more than what has been paid ({format_money(self.paid_cents)})"
            )
        return None

    @property
    def balance_cents(self) -> int | None:
        """Price minus payments (negative = paid in excess); None when no price is set."""
        if self.program.price_cents is None:
            return None
        return self.program.price_cents - self.paid_cents

    @property
    def discharge_reason_text(self) -> str:
        if self.discharge_reason is None:
            return ""
        label = DISCHARGE_REASONS[self.discharge_reason]
        return f"{label}: {self.discharge_note}" if self.discharge_note else label


# The model errors that belong next to a field (pydantic puts them under "__all__").
EPISODE_ERROR_FIELDS = {
    "Enter the discharge date": "discharge_date",
    "Choose the reason for discharge": "discharge_reason",
    "Describe the reason for discharge": "discharge_note",
    "The discharge date cannot be before the program starts": "discharge_date",
    "The physician's follow-up date cannot be before the program starts": "physician_follow_up",
}


@dataclass(frozen=True, slots=True)
class SessionsSummary:
    used: int
    included: int | None
    remaining: int | None  # never below 0
    over: int  # sessions beyond the package

    @property
    def text(self) -> str:
        if self.included is None:
            return f"{self.used} sessions used"
        extra = f" ({self.over} beyond the package)" if self.over else ""
        return f"{self.used} of {self.included} sessions used, {self.remaining} remaining{extra}"


def sessions_summary(episode: Episode, sessions_attended: int) -> SessionsSummary:
    """Sessions used (attended sessions of this episode plus any used before tracking) and
    remaining in the package."""
    used = episode.sessions_prior + max(0, sessions_attended)
    inc = episode.program.sessions_included
    if inc is None:
        return SessionsSummary(used=used, included=None, remaining=None, over=0)
    return SessionsSummary(
        used=used, included=inc, remaining=max(0, inc - used), over=max(0, used - inc)
    )


def episode_on(episodes: Iterable[Episode], on: date) -> Episode | None:
    """The episode of care a session on ``on`` belongs to: one that had started by then and was
    not yet discharged (the active one first, then the latest start)."""
    covering = [
        e
        for e in episodes
        if e.start_date <= on and (e.discharge_date is None or on <= e.discharge_date)
    ]
    if not covering:
        return None
    return max(covering, key=lambda e: (e.is_active, e.start_date, e.created_at))


class EpisodeSpan(Protocol):
    """An episode's id and dates (an ``Episode``, or the summary's copy of them)."""

    @property
    def id(self) -> str: ...

    @property
    def start_date(self) -> date: ...

    @property
    def discharge_date(self) -> date | None: ...


def in_episode(episode: EpisodeSpan, log_episode_id: str | None, session_date: date) -> bool:
    """Whether a session counts against ``episode``: it names the episode, or (a session
    logged before sessions were tied to episodes) names none and falls within its dates."""
    if log_episode_id is not None:
        return log_episode_id == episode.id
    if session_date < episode.start_date:
        return False
    return episode.discharge_date is None or session_date <= episode.discharge_date


# ---------------------------------------------------------------------------------------------
# Reassessment schedule ("due" is computed, never stored)
# ---------------------------------------------------------------------------------------------


def planned_reassessment_dates(episode: Episode) -> list[date]:
    """Calendar plan: every ``reassess_every_days`` from the start, through the expected
    duration (at least one), ending with the discharge assessment at the expected end."""
    every = episode.program.reassess_every_days
    weeks = episode.program.expected_weeks
    end = episode.start_date + timedelta(weeks=weeks) if weeks else None
    if every is None:
        return [end] if end else []
    out: list[date] = []
    d = episode.start_date + timedelta(days=every)
    if end is None:
        return [d]
    while d < end:
        out.append(d)
        d += timedelta(days=every)
    if end is not None and (not out or out[-1] != end):
        out.append(end)
    return out


DueStatus = Literal["upcoming", "due", "overdue"]


@dataclass(frozen=True, slots=True)
class DueItem:
    kind: Literal["baseline", "reassessment"]
    status: DueStatus
    due_on: date | None  # None: due after more sessions, date not known yet
    reason: str  # "12 sessions since the last assessment (2 May 2025)"
    days_overdue: int = 0
    sessions_to_go: int | None = None  # sessions before a session-based due point

    @property
    def title(self) -> str:
        what = "Baseline assessment" if self.kind == "baseline" else "Reassessment"
        if self.status == "overdue":
            days = "day" if self.days_overdue == 1 else "days"
            return f"{what} overdue by {self.days_overdue} {days}"
        if self.status == "due":
            return f"{what} due today"
        if self.due_on is not None:
            return f"{what} due on {_day(self.due_on)}"
        return f"{what} due in {self.sessions_to_go} sessions"


def _day(d: date) -> str:
    return f"{d.day} {d.strftime('%b')} {d.year}"


def due_status(due_on: date, today: date) -> tuple[DueStatus, int]:
    """Upcoming, due (today) or overdue, and by how many days."""
    if today < due_on:
        return "upcoming", 0
    if today == due_on:
        return "due", 0
    return "overdue", (today - due_on).days


_status = due_status


def reassessments_due(
    episode: Episode,
    assessments: Iterable[Any],
    sessions_attended: Iterable[date],
    today: date,
) -> list[DueItem]:
    """What is due for an active episode: the baseline (if none is recorded), else the next
    reassessment, by sessions or by days, whichever comes first.

    ``assessments`` are the episode's assessments (anything with ``assessed_on``);
    ``sessions_attended`` the dates of the episode's attended sessions. A session on the day
    of the last assessment does not count towards the next one. By sessions, the reassessment
    falls due on the date of the N-th session after the last assessment. A reassessment due
    on the same day as today is "due"; from the next day it is "overdue".
    """
    if not episode.is_active:
        return []
    dates = sorted(a.assessed_on for a in assessments)
    if not dates:
        status, late = _status(episode.start_date, today)
        return [
            DueItem(
                kind="baseline",
                status=status,
                due_on=episode.start_date,
                reason="No baseline assessment is recorded for this program",
                days_overdue=late,
            )
        ]
    last = dates[-1]
    p = episode.program
    candidates: list[tuple[date | None, int | None, str]] = []
    if p.reassess_every_days is not None:
        due = last + timedelta(days=p.reassess_every_days)
        candidates.append((due, None, f"{p.reassess_every_days} days since the last assessment"))
    if p.reassess_every_sessions is not None:
        n = p.reassess_every_sessions
        since = sorted(d for d in sessions_attended if d > last)
        reason = f"{n} sessions since the last assessment"
        if len(since) >= n:
            candidates.append((since[n - 1], 0, reason))
        else:
            candidates.append((None, n - len(since), reason))
    dated = [(d, n, r) for d, n, r in candidates if d is not None]
    if dated:
        due_on, to_go, reason = min(dated, key=lambda c: c[0])
        status, late = _status(due_on, today)
        undated = [c for c in candidates if c[0] is None]
        if status == "upcoming" and undated:
            to_go = undated[0][1]
        return [
            DueItem(
                kind="reassessment",
                status=status,
                due_on=due_on,
                reason=f"{reason} ({_day(last)})",
                days_overdue=late,
                sessions_to_go=to_go if status == "upcoming" else None,
            )
        ]
    _, to_go, reason = candidates[0]
    return [
        DueItem(
            kind="reassessment",
            status="upcoming",
            due_on=None,
            reason=f"{reason} ({_day(last)})",
            sessions_to_go=to_go,
        )
    ]


def reassessment_dashboard_items(
    entries: Iterable[tuple[str, str, Sequence[DueItem]]],
) -> list[DashboardItem]:
    """Dashboard items for due/overdue assessments: ``(client_id, client_name, items)``."""
    out: list[DashboardItem] = []
    for client_id, name, items in entries:
        for item in items:
            if item.status == "upcoming":
                continue
            out.append(
                DashboardItem(
                    kind="reassessment",
                    title=f"{name}: {item.title[0].lower()}{item.title[1:]}",
                    detail=item.reason,
                    link=Screen("client", {"id": client_id}),
                    link_label="Assess",
                    severity="urgent" if item.days_overdue > 7 else "due",
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# Discharge criteria status
# ---------------------------------------------------------------------------------------------

CriterionState = Literal["met", "not_met", "unknown"]


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: DischargeCriterion
    status: CriterionState
    detail: str  # "9.8 s (target < 12 s)"

    @property
    def text(self) -> str:
        return self.criterion.text


@dataclass(frozen=True, slots=True)
class CriteriaStatus:
    results: tuple[CriterionResult, ...]
    overall: CriterionState

    @property
    def sentence(self) -> str:
        if not self.results:
            return "No discharge criteria are set for this program."
        if self.overall == "met":
            return "All discharge criteria are met: the client can be discharged."
        n_not = sum(r.status == "not_met" for r in self.results)
        n_unknown = sum(r.status == "unknown" for r in self.results)
        parts = []
        if n_not:
            parts.append(f"{n_not} not yet met")
        if n_unknown:
            parts.append(f"{n_unknown} cannot be judged yet")
        return f"Discharge criteria: {' and '.join(parts)} (of {len(self.results)})."


def _compare(x: float, comparator: str, v: float) -> bool:
    eps = 1e-9
    if comparator == "<":
        return x < v - eps
    if comparator == "<=":
        return x <= v + eps
    if comparator == ">":
        return x > v + eps
    return x >= v - eps


def _judge(
    c: DischargeCriterion,
    row: ReportRow | None,
    age: Any,
    sex: Any,
    conditions: Iterable[str],
) -> CriterionResult:
    if row is None or row.current is None:
        return CriterionResult(c, "unknown", "Not assessed yet")
    m = _measure(c.measure_id)
    x = row.current.value
    shown = row.current_text
    if c.kind == "threshold":
        comparator, value = c.threshold
        target = f"{_CMP_TEXT[comparator]} {_amount(m, value)}"
        ok = _compare(x, comparator, value)
        return CriterionResult(c, "met" if ok else "not_met", f"{shown} (target {target})")
    if m is None:
        return CriterionResult(c, "unknown", "Measure not in the catalogue")
    if c.kind == "norm":
        nr = norm_band(m, x, age, sex)
        if not nr.has_norm:
            return CriterionResult(c, "unknown", nr.sentence)
        ok = nr.status == "within" if c.norm == "within_norm" else nr.status != "below"
        return CriterionResult(c, "met" if ok else "not_met", nr.sentence)
    if c.kind == "no_flag":
        a = None if age is None else int(age)
        s_ = _sex(sex)
        conds = set(conditions)
        applicable = [
            k
            for k in m.cutoffs
            if k.kind == c.flag_kind
            and (k.sex is None or k.sex == s_)
            and (k.condition is None or k.condition in conds)
            and (k.age_min is None or (a is not None and a >= k.age_min))
            and (k.age_max is None or (a is not None and a <= k.age_max))
        ]
        if not applicable:
            why = "age or sex not recorded" if a is None or s_ is None else "none for this age"
            return CriterionResult(c, "unknown", f"No published cut-off applies ({why})")
        flags = [
            f
            for f in cutoff_flags(m, x, a, s_, conditions=conds, protocol=row.current.protocol)
            if f.kind == c.flag_kind
        ]
        if flags:
            first = flags[0]
            return CriterionResult(c, "not_met", f"{shown}: {first.meaning} ({first.threshold})")
        words = _FLAG_WORDS[c.flag_kind] if c.flag_kind else ""  # required for "no_flag"
        return CriterionResult(c, "met", f"{shown}: no {words} cut-off met")
    # mcid_improvement
    if row.change is None:
        return CriterionResult(c, "unknown", "Only one assessment: no change yet")
    comp = row.change.since_baseline
    if comp.mcid is None:
        return CriterionResult(c, "unknown", "No MCID on file for this measure and client")
    ok = comp.trend == "improved" and bool(comp.exceeds_mcid)
    return CriterionResult(c, "met" if ok else "not_met", comp.sentence)


def _sex(sex: Any) -> str | None:
    return normalise_sex(sex)


def discharge_criteria_status(
    episode: Episode | ProgramSnapshot,
    latest_assessment_rows: Iterable[ReportRow],
    age: Any,
    sex: Any,
    conditions: Iterable[str] = (),
) -> CriteriaStatus:
    """Each discharge rule of the episode's program judged on the latest rows (one per
    measure, from ``interpret_assessment`` or ``client_outcomes``): met / not met / unknown,
    and overall (all met → met; any not met → not met; otherwise unknown)."""
    program = episode.program if isinstance(episode, Episode) else episode
    conds = tuple(conditions) or tuple(program.conditions)
    rows: dict[str, ReportRow] = {}
    for row in latest_assessment_rows:
        rows.setdefault(row.measure_id, row)
    results = tuple(
        _judge(c, rows.get(c.measure_id), age, sex, conds) for c in program.discharge_criteria
    )
    if not results:
        overall: CriterionState = "unknown"
    elif all(r.status == "met" for r in results):
        overall = "met"
    elif any(r.status == "not_met" for r in results):
        overall = "not_met"
    else:
        overall = "unknown"
    return CriteriaStatus(results=results, overall=overall)


def program_measure_order(measure_ids: Sequence[str], extra: Iterable[str]) -> list[str]:
    """The program's measures first (in its order), then any other measure recorded."""
    return list(dict.fromkeys([*measure_ids, *extra]))


def snapshot_from(template: ProgramTemplate | Mapping[str, Any]) -> ProgramSnapshot:
    if isinstance(template, ProgramTemplate):
        return template.snapshot()
    return ProgramSnapshot.model_validate(template)
