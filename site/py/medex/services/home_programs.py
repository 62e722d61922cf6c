"""Home exercise program use cases: edit a client's program (add, remove, reorder exercises,
set doses, cues, safety notes, attach photos), build the printed page's content, keep every
printed version, and what the physician documents say about it (the current program and the
client's adherence). Each use case takes the repository and a typed command and returns the
records it changed, or raises ``Refused({field: message})`` with nothing stored::

    changed = await save_home_program(repo, SaveHomeProgram(client_id=c.id, rows=[...]))
    kept = await record_print(repo, RecordPrint(client_id=c.id, html=html, today=day))
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..documents import letterhead
from ..drawings import drawing_svg
from ..exercises import Exercise
from ..forms import Refused, field_errors
from ..home_programs import (
    GRID_WEEKS,
    PROGRAM_EXERCISES_MAX,
    WEEKDAYS,
    Adherence,
    ExercisePicture,
    HomeDose,
    HomeExercise,
    HomeProgram,
    HomeProgramPrint,
    adherence,
    home_program_id,
    latest_print,
    new_row,
    pages,
)
from ..intake import Client
from ..records import Record, utc_now
from ..repository import Repository
from .practice import load_document_settings, load_practice_profile

__all__ = [
    "RecordPrint",
    "RowCommand",
    "SaveHomeProgram",
    "build_print_view",
    "client_adherence",
    "load_home_program",
    "pictures_for",
    "print_view",
    "prints_for_client",
    "program_summary",
    "record_print",
    "save_home_program",
]

DOSE_FIELDS = ("sets", "reps", "seconds", "days_per_week", "times_per_day")


class RowCommand(BaseModel):
    """One row of the program as typed (numbers still as typed: the use case checks them)."""

    key: str
    exercise_id: str = ""
    name: str = ""
    drawing: str = ""
    picture_id: str = ""
    dose: dict[str, Any] = Field(default_factory=dict)  # DOSE_FIELDS, blank = not given
    cues: str = ""
    safety: str = ""
    new_picture: str = ""  # a data URL scaled down on the device
    picture_for_everyone: bool = False  # keep the new photo with the exercise, for every client
    use_drawing: bool = False  # drop the photo: show the library's picture or drawing


class SaveHomeProgram(BaseModel):
    """Save ``client_id``'s program as typed; then remove, move up or add one exercise."""

    client_id: str
    rows: list[RowCommand] = Field(default_factory=list)
    safety_notes: str = ""
    remove_key: str = ""
    move_up_key: str = ""
    add_exercise_id: str = ""


class RecordPrint(BaseModel):
    client_id: str
    html: str
    today: date


async def load_home_program(repo: Repository, client_id: str) -> HomeProgram | None:
    return await repo.get(HomeProgram, home_program_id(client_id))


async def prints_for_client(repo: Repository, client_id: str) -> list[HomeProgramPrint]:
    found = await repo.find(HomeProgramPrint, "client_id", client_id)
    return sorted(found, key=lambda p: (p.printed_on, p.created_at), reverse=True)


def _dose(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in DOSE_FIELDS:
        value = raw.get(name)
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None:
            out[name] = value
    return out


def _row(i: int, row: RowCommand, errors: dict[str, str]) -> HomeExercise | None:
    dose: HomeDose | None = None
    try:
        dose = HomeDose.model_validate(_dose(row.dose))
    except ValidationError as exc:
        for loc, message in field_errors(exc).items():
            field = loc if loc in DOSE_FIELDS else "reps"
            errors.setdefault(f"rows.{i}.{field}", message)
    if row.new_picture:
        try:
            ExercisePicture(data_url=row.new_picture)
        except ValidationError as exc:
            errors[f"rows.{i}.new_picture"] = next(iter(field_errors(exc).values()))
    if dose is None:
        return None
    try:
        return HomeExercise(
            key=row.key,
            exercise_id=row.exercise_id,
            name=row.name,
            drawing=row.drawing,
            picture_id="" if row.use_drawing else row.picture_id,
            dose=dose,
            cues=row.cues,
            safety=row.safety,
        )
    except ValidationError as exc:
        for loc, message in field_errors(exc).items():
            errors.setdefault(f"rows.{i}.{loc.split('.')[0]}", message)
        return None


async def save_home_program(repo: Repository, command: SaveHomeProgram) -> list[Record]:
    """Store the program as typed (with any new photos), then apply the one change asked for.
    Returns the records written: the program first, then the new pictures."""
    client = await repo.get(Client, command.client_id)
    if client is None:
        raise Refused({"__all__": "This client could not be found."})
    rows = [r for r in command.rows if r.key != command.remove_key]
    errors: dict[str, str] = {}
    exercises: list[HomeExercise] = []
    pictures: list[ExercisePicture] = []
    for i, row in enumerate(rows):
        built = _row(i, row, errors)
        if built is None:
            continue
        if row.new_picture and f"rows.{i}.new_picture" not in errors:
            kept = await repo.get(ExercisePicture, row.picture_id) if row.picture_id else None
            if kept is None or kept.data_url != row.new_picture:  # not the photo kept already
                picture = ExercisePicture(
                    exercise_id=row.exercise_id,
                    client_id="" if row.picture_for_everyone else client.id,
                    data_url=row.new_picture,
                    caption=row.name[:200],
                )
                pictures.append(picture)
                built = built.model_copy(update={"picture_id": picture.id})
        exercises.append(built)
    if errors:
        raise Refused(errors)
    if command.move_up_key:
        at = next((i for i, e in enumerate(exercises) if e.key == command.move_up_key), 0)
        if at > 0:
            exercises[at - 1], exercises[at] = exercises[at], exercises[at - 1]
    if command.add_exercise_id:
        exercise = await repo.get(Exercise, command.add_exercise_id)
        if exercise is None or exercise.archived:
            raise Refused({"add_exercise_id": "Choose an exercise from the library"})
        if len(exercises) >= PROGRAM_EXERCISES_MAX:
            raise Refused(
                {
                    "add_exercise_id": f"A home program holds at most {PROGRAM_EXERCISES_MAX} "
                    "exercises: remove one first"
                }
            )
        exercises.append(new_row(exercise))
    current = await load_home_program(repo, client.id)
    data: dict[str, Any] = {
        "id": home_program_id(client.id),
        "client_id": client.id,
        "exercises": exercises,
        "safety_notes": command.safety_notes,
    }
    if current is not None:
        data["created_at"] = current.created_at
        data["updated_at"] = utc_now()
    try:
        program = HomeProgram.model_validate(data)
    except ValidationError as exc:
        raise Refused.invalid(exc) from None
    if current is not None:
        program._rev = current._rev
    await repo.save(program, *pictures)
    return [program, *pictures]


async def pictures_for(repo: Repository, program: HomeProgram) -> dict[str, str]:
    """Each row's picture as a data URL (by row key): the row's own photo, else the library's
    newest photo of the exercise; rows without either are left out (they show the drawing)."""
    out: dict[str, str] = {}
    for row in program.exercises:
        picture = await repo.get(ExercisePicture, row.picture_id) if row.picture_id else None
        if picture is None and row.exercise_id:
            library = [
                p
                for p in await repo.find(ExercisePicture, "exercise_id", row.exercise_id)
                if not p.client_id
            ]
            picture = max(library, key=lambda p: p.created_at) if library else None
        if picture is not None:
            out[row.key] = picture.data_url
    return out


def print_view(
    program: HomeProgram,
    client: Client,
    letterhead: dict[str, Any],
    *,
    pictures: dict[str, str],
    paper: str,
    scope_statement: str,
    practitioner: str,
    credentials: str,
    phone: str,
    today: date,
) -> dict[str, Any]:
    """What the printed program shows (the template ``reports/home_program.html``)."""
    rows = []
    for number, e in enumerate(program.exercises, start=1):
        rows.append(
            {
                "number": number,
                "key": e.key,
                "name": e.name,
                "amount": e.dose.amount_text,
                "how_often": e.dose.how_often_text,
                "times_per_day": e.dose.times_per_day,
                "cues": e.cues,
                "safety": e.safety,
                "picture": pictures.get(e.key, ""),
                "drawing": "" if e.key in pictures else drawing_svg(e.drawing, e.name),
            }
        )
    return {
        "kind": "home_program",
        "title": "Home exercise program",
        "one_page": False,
        "date": today.isoformat(),
        "paper": paper,
        "letterhead": letterhead,
        "client": {"id": client.id, "name": client.full_name},
        "provider": None,
        "pages": pages(rows),
        "count": len(rows),
        "safety_notes": program.safety_notes,
        "phone": phone,
        "weeks": list(range(1, GRID_WEEKS + 1)),
        "weekdays": WEEKDAYS,
        "scope_statement": scope_statement,
        "signature": {"name": practitioner, "credentials": credentials},
    }


async def build_print_view(
    repo: Repository, client: Client, program: HomeProgram, today: date
) -> dict[str, Any]:
    """``print_view`` with the practice's letterhead, paper and pictures read from storage."""
    profile = await load_practice_profile(repo)
    settings = await load_document_settings(repo)
    return print_view(
        program,
        client,
        letterhead(profile),
        pictures=await pictures_for(repo, program),
        paper=settings.paper,
        scope_statement=settings.statement(profile.business_name if profile else ""),
        practitioner=profile.practitioner_name if profile else "",
        credentials=profile.credentials if profile else "",
        phone=profile.phone if profile and profile.phone else "",
        today=today,
    )


async def record_print(repo: Repository, command: RecordPrint) -> HomeProgramPrint | None:
    """Keep the printed version (date and content). Printing the same program again on the
    same day keeps nothing new; returns the version kept now, or None when nothing was new."""
    program = await load_home_program(repo, command.client_id)
    if program is None or not program.exercises:
        raise Refused({"__all__": "Add at least one exercise before printing the program."})
    digest = program.content_digest()
    last = latest_print(await repo.find(HomeProgramPrint, "client_id", command.client_id))
    if last is not None and last.content_sha256 == digest and last.printed_on == command.today:
        return None
    kept = HomeProgramPrint(
        client_id=command.client_id,
        program_id=program.id,
        printed_on=command.today,
        days_per_week=program.days_per_week,
        exercise_count=len(program.exercises),
        content_sha256=digest,
        html=command.html,
        program=program.model_dump(mode="json"),
    )
    await repo.save(kept)
    return kept


def program_summary(
    program: HomeProgram | None, prints: Iterable[HomeProgramPrint]
) -> dict[str, Any] | None:
    """The home program as a physician document shows it: each exercise and its dose, and
    when it was last given to the client."""
    if program is None or not program.exercises:
        return None
    last = latest_print(prints)
    return {
        "exercises": [{"name": e.name, "dose": e.dose.text} for e in program.exercises],
        "printed_on": last.printed_on.isoformat() if last else "",
        "current": last is not None and last.content_sha256 == program.content_digest(),
        "days_per_week": program.days_per_week,
    }


async def client_adherence(
    repo: Repository,
    logs: Iterable[Any],
    client_id: str,
    period_from: date | None,
    period_to: date | None,
) -> Adherence:
    prints = await repo.find(HomeProgramPrint, "client_id", client_id)
    return adherence(logs, prints, period_from, period_to)
