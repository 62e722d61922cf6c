"""The practitioner's exercise library: exercises with default parameters and coaching cues.

A session log copies the exercise's name into each entry when it is logged, so renaming or
retiring an exercise here never changes a past log (see ``session_logs.ExerciseEntry``).

The starter library's default parameters (sets, reps, times) are starting points chosen by us
for deconditioned and older adults after rehabilitation. They are NOT from the clinical
reference set and are not a prescription: the practitioner edits them to the client's program.
Cues are our own short wording.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .records import LongText, Record, RequiredText, Text

# Plausibility limits for typed parameters (our choice: wide enough for any real session,
# narrow enough to catch a typing error such as 1000 sets).
SETS_MAX = 30
REPS_MAX = 500
LOAD_MAX = {"kg": 500.0, "lb": 1100.0, "W": 1000.0, "level": 50.0}
DURATION_S_MAX = 4 * 3600  # per set
DISTANCE_M_MAX = 50_000.0  # per set

KG_PER_LB = 0.45359237  # exact (international pound)


class ExerciseCategory(StrEnum):
    STRENGTH = "strength"
    AEROBIC = "aerobic"
    BALANCE = "balance"
    MOBILITY = "mobility"
    FUNCTIONAL = "functional"


CATEGORY_LABELS = {
    ExerciseCategory.STRENGTH: "Strength",
    ExerciseCategory.AEROBIC: "Aerobic",
    ExerciseCategory.BALANCE: "Balance",
    ExerciseCategory.MOBILITY: "Mobility and flexibility",
    ExerciseCategory.FUNCTIONAL: "Functional",
}


class LoadUnit(StrEnum):
    KG = "kg"
    LB = "lb"
    WATTS = "W"  # cycle ergometer / recumbent bike work rate
    LEVEL = "level"  # machine or band level as printed on the equipment


LOAD_UNIT_LABELS = {
    LoadUnit.KG: "kg",
    LoadUnit.LB: "lb",
    LoadUnit.WATTS: "watts",
    LoadUnit.LEVEL: "level",
}


def load_in_kg(load: float | None, unit: LoadUnit | None) -> float | None:
    """A load in kilograms, or None when it is not a weight (watts, levels, body weight)."""
    if load is None or unit is None:
        return None
    if unit is LoadUnit.KG:
        return load
    if unit is LoadUnit.LB:
        return load * KG_PER_LB
    return None


class Dosage(BaseModel):
    """Sets × reps × load, or a duration/distance (per set). Shared by the library's defaults
    and the session log's entries. All fields optional; the checks refuse impossible values."""

    model_config = ConfigDict(extra="forbid")

    sets: int | None = Field(default=None, ge=1, le=SETS_MAX)
    reps: int | None = Field(default=None, ge=1, le=REPS_MAX)
    load: float | None = Field(default=None, ge=0)
    load_unit: LoadUnit | None = None
    # Resistance that is not a number: "red band", "seat 4", "2-step stair".
    resistance: Text = ""
    duration_s: int | None = Field(default=None, ge=1, le=DURATION_S_MAX)
    distance_m: float | None = Field(default=None, gt=0, le=DISTANCE_M_MAX)

    @model_validator(mode="after")
    def _consistent(self):
        if self.load is not None:
            if self.load_unit is None:
                raise ValueError("Choose the unit of the load (kg, lb, watts or level)")
            top = LOAD_MAX[self.load_unit.value]
            if self.load > top:
                raise ValueError(
                    f"A load above {top:g} {LOAD_UNIT_LABELS[self.load_unit]} is not possible "
                    "here: check the number"
                )
        if self.reps is not None and self.sets is None:
            raise ValueError("Enter the number of sets as well as the reps")
        return self

    @property
    def is_empty(self) -> bool:
        return self.reps is None and self.duration_s is None and self.distance_m is None

    @property
    def text(self) -> str:
        """'2 × 10 × 5 kg', '3 × 30 s', '10 min, 2.5 km', '2 × 12, light band'."""
        amounts = []
        if self.reps is not None:
            amounts.append(str(self.reps))
        if self.duration_s is not None:
            d = self.duration_s
            amounts.append(f"{d // 60} min" if d >= 60 and d % 60 == 0 else f"{d} s")
        if self.distance_m is not None:
            m = self.distance_m
            amounts.append(f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m")
        out = ", ".join(amounts)
        if self.sets is not None and (self.sets > 1 or self.reps is not None) and out:
            out = f"{self.sets} × {out}"
        if self.load is not None and self.load_unit is not None:
            out = (
                f"{out} × {self.load:g} {self.load_unit.value}"
                if out
                else (f"{self.load:g} {self.load_unit.value}")
            )
        if self.resistance:
            out = f"{out}, {self.resistance}" if out else self.resistance
        return out


class Exercise(Record):
    """An exercise in the practitioner's library."""

    store: ClassVar[str] = "exercises"

    name: RequiredText
    category: ExerciseCategory
    defaults: Dosage = Field(default_factory=Dosage)
    # Equipment or way of doing it: "chair", "resistance band", "recumbent bike".
    modality: Text = ""
    cues: LongText = ""
    # Retired exercises stay in the store (past logs name them) but are not offered.
    archived: bool = False
    # Set for starter-library exercises (the template key), so seeding is idempotent.
    starter_key: str | None = None


def name_clash(exercises: Iterable[Exercise], name: str, exclude_id: str | None = None) -> bool:
    """Whether another active exercise already has this name (case and spacing ignored)."""
    key = " ".join(name.split()).casefold()
    return any(
        " ".join(e.name.split()).casefold() == key and e.id != exclude_id and not e.archived
        for e in exercises
    )


# --- Starter library -------------------------------------------------------------------


class ExerciseTemplate(BaseModel):
    """One starter exercise (data only; becomes an Exercise record when seeded)."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    category: ExerciseCategory
    defaults: Dosage
    modality: str = ""
    cues: str = ""


def _t(
    key: str, name: str, category: ExerciseCategory, modality: str, cues: str, **dosage: Any
) -> ExerciseTemplate:
    return ExerciseTemplate(
        key=key,
        name=name,
        category=category,
        defaults=Dosage(**dosage),
        modality=modality,
        cues=cues,
    )


S, A, B, M, F = (
    ExerciseCategory.STRENGTH,
    ExerciseCategory.AEROBIC,
    ExerciseCategory.BALANCE,
    ExerciseCategory.MOBILITY,
    ExerciseCategory.FUNCTIONAL,
)

# Defaults are starting points (our choice, see the module docstring), not prescriptions.
STARTER_EXERCISES: tuple[ExerciseTemplate, ...] = (
    _t(
        "sit_to_stand",
        "Sit-to-stand",
        F,
        "chair",
        "Feet hip-width, slightly back. Lean forward, push through heels, stand tall. "
        "Sit down slowly. Use arms or a higher seat if needed.",
        sets=2,
        reps=8,
    ),
    _t(
        "wall_push_up",
        "Wall push-up",
        S,
        "wall",
        "Hands on the wall at shoulder height. Body in one line. Bend elbows, chest to wall, "
        "push back. Breathe out as you push.",
        sets=2,
        reps=10,
    ),
    _t(
        "step_up",
        "Step-up",
        F,
        "step with rail",
        "Hold the rail. Whole foot on the step, push up through the heel, stand tall, step "
        "down with control. Lead with the stronger leg going up if needed.",
        sets=2,
        reps=8,
    ),
    _t(
        "heel_raise",
        "Heel raise",
        S,
        "counter or chair support",
        "Hold a stable surface. Rise onto the balls of the feet, pause, lower slowly.",
        sets=2,
        reps=12,
    ),
    _t(
        "bridge",
        "Bridge",
        S,
        "mat or bed",
        "Lie on the back, knees bent. Squeeze buttocks and lift hips to a straight line "
        "from knees to shoulders. Lower slowly. Do not hold the breath.",
        sets=2,
        reps=10,
    ),
    _t(
        "band_row",
        "Band row",
        S,
        "resistance band",
        "Sit or stand tall. Pull elbows back close to the body, squeeze shoulder blades, "
        "return slowly.",
        sets=2,
        reps=12,
        resistance="light band",
    ),
    _t(
        "seated_knee_extension",
        "Seated knee extension",
        S,
        "chair, ankle weight",
        "Sit tall. Straighten one knee, pause, lower slowly. Keep the thigh on the chair.",
        sets=2,
        reps=10,
    ),
    _t(
        "standing_hip_abduction",
        "Standing hip abduction",
        S,
        "counter support",
        "Hold the counter. Lift the leg out to the side without leaning; toes forward. "
        "Return slowly.",
        sets=2,
        reps=10,
    ),
    _t(
        "seated_biceps_curl",
        "Seated biceps curl",
        S,
        "dumbbells",
        "Sit tall, elbows at the sides. Curl up, lower slowly. Breathe out on the lift.",
        sets=2,
        reps=10,
    ),
    _t(
        "marching_in_place",
        "Marching in place",
        A,
        "counter or chair support",
        "Stand tall near support. Lift knees alternately at a comfortable pace; swing the arms.",
        sets=2,
        duration_s=60,
    ),
    _t(
        "tandem_stance",
        "Tandem stance",
        B,
        "counter within reach",
        "Stand heel-to-toe next to a counter. Eyes ahead. Hold; touch the counter if "
        "unsteady. Swap the front foot each set.",
        sets=3,
        duration_s=30,
    ),
    _t(
        "single_leg_stance",
        "Single-leg stance",
        B,
        "counter within reach",
        "Stand next to a counter. Lift one foot a few centimetres. Hold; touch the counter "
        "if unsteady.",
        sets=3,
        duration_s=10,
    ),
    _t(
        "heel_to_toe_walk",
        "Heel-to-toe walk",
        B,
        "hallway with rail or wall",
        "Walk along a rail, placing the heel right in front of the toes. Eyes ahead.",
        sets=2,
        distance_m=6,
    ),
    _t(
        "walking_intervals",
        "Walking intervals",
        A,
        "hallway or track",
        "Walk at the agreed effort, rest between bouts. Check RPE and symptoms after each bout.",
        sets=4,
        duration_s=180,
    ),
    _t(
        "treadmill_walk",
        "Treadmill walk",
        A,
        "treadmill",
        "Start slowly, hold the rail lightly if needed. Check RPE every few minutes.",
        sets=1,
        duration_s=600,
    ),
    _t(
        "recumbent_bike",
        "Recumbent bike",
        A,
        "recumbent bike",
        "Seat so the knee is slightly bent at full reach. Warm up at low resistance; check "
        "RPE every few minutes.",
        sets=1,
        duration_s=600,
    ),
    _t(
        "recumbent_stepper",
        "Recumbent stepper",
        A,
        "recumbent cross-trainer",
        "Seat adjusted for a slight knee bend. Smooth rhythm, arms and legs together.",
        sets=1,
        duration_s=600,
    ),
    _t(
        "calf_stretch",
        "Calf stretch",
        M,
        "wall",
        "Hands on the wall, one foot back, heel down, back knee straight. Gentle stretch, "
        "no bouncing.",
        sets=2,
        duration_s=30,
    ),
    _t(
        "seated_hamstring_stretch",
        "Seated hamstring stretch",
        M,
        "chair",
        "Sit on the front of the chair, one leg straight, heel down. Lean forward from the "
        "hips with a straight back.",
        sets=2,
        duration_s=30,
    ),
    _t(
        "chest_stretch",
        "Chest stretch",
        M,
        "doorway or seated",
        "Hands behind the head or on a door frame; open the chest gently. Breathe normally.",
        sets=2,
        duration_s=30,
    ),
)

# A fixed namespace so the same starter exercise has the same id on every device (seeding
# twice, or on a restored backup, never duplicates it).
STARTER_NAMESPACE = uuid.UUID("6f1c2a4e-5b7d-4c1e-9a3f-2d8e0b6c7a91")


def starter_id(key: str) -> str:
    return str(uuid.uuid5(STARTER_NAMESPACE, key))


def starter_library(existing: Iterable[Exercise] = ()) -> list[Exercise]:
    """Starter exercises not yet in the library: by id (so renamed or retired ones are not
    re-added) and by name (so the practitioner's own "Bridge" is not duplicated)."""
    existing = list(existing)
    have = {e.id for e in existing} | {e.starter_key for e in existing if e.starter_key}
    return [
        Exercise(
            id=starter_id(t.key),
            name=t.name,
            category=t.category,
            defaults=t.defaults.model_copy(),
            modality=t.modality,
            cues=t.cues,
            starter_key=t.key,
        )
        for t in STARTER_EXERCISES
        if starter_id(t.key) not in have and t.key not in have and not name_clash(existing, t.name)
    ]
