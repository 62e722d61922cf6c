"""The home exercise program a client takes away: exercises from the library with a home dose
(sets × repetitions or time, days a week, times a day), cues in plain words and "stop and call"
safety notes; every printed version kept as an immutable snapshot; the pictures (photos taken
on the device, or the starter library's line drawings); and adherence — how many of the planned
home-program days the client reports having done (docs/clinical.md §9.1, §9.2).

The default home doses are starting points chosen by us (docs/clinical.md §9.1), not a
prescription: the practitioner edits them for the client.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .exercises import Dosage, Exercise, ExerciseCategory
from .records import LongText, Record, RequiredText, Text

# Plausibility limits of a home dose (our choice, docs/clinical.md §9.1): wide enough for any
# home program, narrow enough to catch a typing error.
HOME_SETS_MAX = 10
HOME_REPS_MAX = 100
HOME_SECONDS_MAX = 3600  # one set: a hold or a bout (a 60-minute walk)
TIMES_PER_DAY_MAX = 6
PROGRAM_EXERCISES_MAX = 12  # a home program longer than this is rarely done

# Printed layout (docs/clinical.md §9.1): large type, at most 3 exercises a page; the first
# page also carries the letterhead and the safety box, so it holds 2.
FIRST_PAGE_EXERCISES = 2
PAGE_EXERCISES = 3
GRID_WEEKS = 2  # the tick-box grid covers two weeks (a program is reviewed at each visit)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Our starting points for "days a week" by kind of exercise (docs/clinical.md §9.1).
DEFAULT_DAYS = {
    ExerciseCategory.STRENGTH: 3,
    ExerciseCategory.FUNCTIONAL: 3,
    ExerciseCategory.AEROBIC: 5,
    ExerciseCategory.BALANCE: 5,
    ExerciseCategory.MOBILITY: 5,
}

DEFAULT_SAFETY = (
    "Stop exercising and call us if you feel chest pain or pressure, unusual shortness of breath, "
    "dizziness or light-headedness, a racing or irregular heartbeat, or pain that is sharp or "
    "worse than usual. If chest pain does not go away with rest, call 911."
)

PICTURE_MAX_CHARS = 2_000_000  # a data URL: a photo scaled down on the device is ~100–300 kB
_DATA_IMAGE = re.compile(r"data:image/(?:jpeg|png|webp);base64,[A-Za-z0-9+/=]+\Z")

_TIMES = {1: "once a day", 2: "twice a day"}


def seconds_text(seconds: int) -> str:
    """'30 seconds', '1 minute', '10 minutes', '1 minute 30 seconds'."""
    minutes, rest = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute" + ("s" if minutes != 1 else ""))
    if rest or not minutes:
        parts.append(f"{rest} second" + ("s" if rest != 1 else ""))
    return " ".join(parts)


class HomeDose(BaseModel):
    """How much and how often, in the client's words: "2 sets of 10 repetitions", "hold 30
    seconds, 3 times"; "5 days a week, twice a day"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sets: int = Field(default=1, ge=1, le=HOME_SETS_MAX)
    reps: int | None = Field(default=None, ge=1, le=HOME_REPS_MAX)
    seconds: int | None = Field(default=None, ge=1, le=HOME_SECONDS_MAX)  # hold / bout per set
    days_per_week: int = Field(default=3, ge=1, le=7)
    times_per_day: int = Field(default=1, ge=1, le=TIMES_PER_DAY_MAX)

    @model_validator(mode="after")
    def _amount(self) -> HomeDose:
        if self.reps is None and self.seconds is None:
            raise ValueError("Enter the repetitions or the time of each set")
        return self

    @property
    def amount_text(self) -> str:
        if self.reps is not None:
            each = f"{self.reps} repetition" + ("s" if self.reps != 1 else "")
            if self.seconds is not None:
                each += f", hold each {seconds_text(self.seconds)}"
            return each if self.sets == 1 else f"{self.sets} sets of {each}"
        assert self.seconds is not None
        hold = seconds_text(self.seconds)
        return hold if self.sets == 1 else f"{hold}, {self.sets} times"

    @property
    def how_often_text(self) -> str:
        days = "every day" if self.days_per_week == 7 else f"{self.days_per_week} days a week"
        if self.days_per_week == 1:
            days = "1 day a week"
        times = _TIMES.get(self.times_per_day, f"{self.times_per_day} times a day")
        return f"{days}, {times}"

    @property
    def text(self) -> str:
        return f"{self.amount_text}; {self.how_often_text}"

    @classmethod
    def from_library(cls, defaults: Dosage, category: ExerciseCategory) -> HomeDose:
        """A starting home dose from an exercise's library defaults (distance and load do not
        carry over: a home program counts repetitions or time)."""
        reps = min(defaults.reps, HOME_REPS_MAX) if defaults.reps else None
        seconds = min(defaults.duration_s, HOME_SECONDS_MAX) if defaults.duration_s else None
        if reps is None and seconds is None:
            reps = 10
        return cls(
            sets=min(defaults.sets or 1, HOME_SETS_MAX),
            reps=reps,
            seconds=seconds,
            days_per_week=DEFAULT_DAYS.get(category, 3),
        )


class HomeExercise(BaseModel):
    """One exercise of a home program: a copy of the library's name and cues (editing the
    library later never changes a program already given)."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,16}$")] = Field(
        default_factory=lambda: uuid.uuid4().hex[:10]
    )
    exercise_id: str = ""
    name: RequiredText
    drawing: Text = ""  # the starter library's line drawing (its key), if it has one
    picture_id: Text = ""  # an ExercisePicture shown instead of the drawing
    dose: HomeDose
    cues: LongText = ""
    safety: LongText = ""  # "Stop and call if …" for this exercise


class HomeProgram(Record):
    """The client's current home program (one per client: ``home_program_id``)."""

    store: ClassVar[str] = "home_programs"

    client_id: RequiredText
    exercises: list[HomeExercise] = Field(default_factory=list, max_length=PROGRAM_EXERCISES_MAX)
    safety_notes: LongText = DEFAULT_SAFETY

    @field_validator("exercises")
    @classmethod
    def _unique_keys(cls, value: list[HomeExercise]) -> list[HomeExercise]:
        if len({e.key for e in value}) != len(value):
            raise ValueError("Two rows of the program have the same key")
        return value

    @property
    def days_per_week(self) -> int:
        """The days a week the program is planned on: its most frequent exercise's."""
        return max((e.dose.days_per_week for e in self.exercises), default=0)

    def content_digest(self) -> str:
        """A hash of what is printed (exercises and safety notes), to tell versions apart."""
        content = {
            "exercises": [e.model_dump(mode="json", exclude={"key"}) for e in self.exercises],
            "safety_notes": self.safety_notes,
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


HOME_PROGRAM_NAMESPACE = uuid.UUID("2b8e41f6-0c3d-4a57-9e61-7d2f5a9c0b13")


def home_program_id(client_id: str) -> str:
    """One home program per client: the same id on every device (a backup restores onto it)."""
    return str(uuid.uuid5(HOME_PROGRAM_NAMESPACE, client_id))


def new_row(exercise: Exercise) -> HomeExercise:
    """A program row for a library exercise, with the library's cues and a starting dose."""
    return HomeExercise(
        exercise_id=exercise.id,
        name=exercise.name,
        drawing=exercise.starter_key or "",
        dose=HomeDose.from_library(exercise.defaults, exercise.category),
        cues=exercise.cues,
    )


def html_digest(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


class HomeProgramPrint(Record):
    """A printed version of a client's home program, kept exactly as printed (the HTML with
    its pictures, and the program it was made from). Never edited."""

    store: ClassVar[str] = "home_program_prints"
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)

    client_id: RequiredText
    program_id: str
    printed_on: date
    days_per_week: int = Field(ge=0, le=7)  # what adherence is counted against
    exercise_count: int = Field(ge=0, le=PROGRAM_EXERCISES_MAX)
    content_sha256: str  # HomeProgram.content_digest() of the printed program
    html: Annotated[str, StringConstraints(min_length=1, max_length=9_000_000)]
    html_sha256: str = ""
    program: dict[str, Any] = Field(default_factory=dict)  # the HomeProgram as printed

    @model_validator(mode="before")
    @classmethod
    def _hash(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("html_sha256") and "html" in data:
            data = {**data, "html_sha256": html_digest(str(data["html"]))}
        return data

    @model_validator(mode="after")
    def _intact(self) -> HomeProgramPrint:
        if html_digest(self.html) != self.html_sha256:
            raise ValueError("This printed program has been changed since it was printed")
        return self


class ExercisePicture(Record):
    """A picture of an exercise, scaled down on the device: of one client doing it
    (``client_id`` set), or the library's picture of the exercise for every client."""

    store: ClassVar[str] = "exercise_pictures"

    exercise_id: str = ""
    client_id: str = ""
    data_url: Annotated[str, StringConstraints(min_length=30, max_length=PICTURE_MAX_CHARS)]
    caption: Text = ""

    @field_validator("data_url")
    @classmethod
    def _image(cls, value: str) -> str:
        if not _DATA_IMAGE.match(value):
            raise ValueError("This is not a picture: choose a JPEG, PNG or WebP image")
        return value


def pages(rows: Sequence[Any]) -> list[list[Any]]:
    """The printed pages' exercises: 2 on the first page, then at most 3 a page."""
    out: list[list[Any]] = []
    rest = list(rows)
    size = FIRST_PAGE_EXERCISES
    while rest:
        out.append(rest[:size])
        rest = rest[size:]
        size = PAGE_EXERCISES
    return out or [[]]


def latest_print(prints: Iterable[HomeProgramPrint]) -> HomeProgramPrint | None:
    found = list(prints)
    return max(found, key=lambda p: (p.printed_on, p.created_at)) if found else None


# --- Adherence ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adherence:
    """Home-program days done against days planned (docs/clinical.md §9.2)."""

    done: int = 0
    planned: int = 0
    reports: int = 0  # session logs that recorded the days done

    @property
    def rate(self) -> int | None:
        return round(100 * self.done / self.planned) if self.planned else None

    @property
    def text(self) -> str:
        if not self.reports:
            return "not recorded in this period"
        sessions = f"{self.reports} session" + ("s" if self.reports != 1 else "")
        if not self.planned:
            return f"{self.done} days reported at {sessions}"
        return (
            f"done on {self.done} of {self.planned} planned days ({self.rate}%), "
            f"as reported at {sessions}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "planned": self.planned,
            "reports": self.reports,
            "rate": self.rate,
            "text": self.text,
        }


def planned_days(elapsed_days: int, days_per_week: int) -> int:
    """Planned home-program days in ``elapsed_days`` calendar days: the weekly days pro rata,
    rounded half up, never more than the days elapsed.

    >>> planned_days(7, 5), planned_days(3, 5), planned_days(14, 3), planned_days(2, 7)
    (5, 2, 6, 2)
    """
    if elapsed_days <= 0 or days_per_week <= 0:
        return 0
    return min(elapsed_days, math.floor(elapsed_days * days_per_week / 7 + 0.5))


def adherence(
    logs: Iterable[Any],
    prints: Iterable[HomeProgramPrint],
    period_from: date | None = None,
    period_to: date | None = None,
) -> Adherence:
    """Home-program adherence over the attended sessions in the period that recorded
    ``home_program_days``. Each report covers the days since the previous attended session
    (or since the program was first printed, if later); the days planned in that span follow
    the version printed last before it began. Reported days above the days elapsed count as
    the days elapsed."""
    versions = sorted(prints, key=lambda p: (p.printed_on, p.created_at))
    if not versions:
        return Adherence()
    attended = sorted(
        (lg for lg in logs if getattr(lg.attendance, "value", lg.attendance) == "attended"),
        key=lambda lg: lg.session_date,
    )
    first = versions[0].printed_on
    done = planned = reports = 0
    previous: date | None = None
    for log in attended:
        day = log.session_date
        since = max(previous, first) if previous is not None else first
        previous = day
        reported = getattr(log, "home_program_days", None)
        if reported is None or day <= first:
            continue
        if (period_from is not None and day < period_from) or (
            period_to is not None and day > period_to
        ):
            continue
        elapsed = (day - since).days
        in_force = [v for v in versions if v.printed_on <= since] or versions[:1]
        planned += planned_days(elapsed, in_force[-1].days_per_week)
        done += min(reported, elapsed)
        reports += 1
    return Adherence(done=done, planned=planned, reports=reports)
