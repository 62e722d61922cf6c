"""A client's home exercise program: pick exercises from the library, set the home dose, cues
and safety notes, add photos taken with the tablet; print it on letterhead in large type; every
printed version kept as it was printed."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from medex.drawings import drawing_svg
from medex.exercises import CATEGORY_LABELS
from medex.forms import Refused
from medex.home_programs import HomeProgramPrint
from medex.inert import inert_html
from medex.intake import Client
from medex.services.home_programs import (
    RecordPrint,
    build_print_view,
    load_home_program,
    pictures_for,
    prints_for_client,
    record_print,
    save_home_program,
)
from medex.services.sessions import list_exercises, seed_starter_exercises

from .. import clock
from ..client_header import client_header
from ..core import App, View, action, route
from ..forms import fail, typed
from ..home_program_form import command_from_form, map_errors, program_values, row_order
from ..render import render


def _form_name(client_id: str) -> str:
    return f"home-program:{client_id}"


@route("home-program")
async def home_program(app: App, params: dict[str, str]) -> View:
    client_id = params.get("client", "")
    ctx = await client_header(app, client_id, "home_program")
    if ctx is None:
        return "views/intake/client_missing.html", {}
    if not await list_exercises(app.repo, include_archived=True):
        await seed_starter_exercises(app.repo)
    program = await load_home_program(app.repo, client_id)
    values, errors = typed(app, _form_name(client_id))
    if not values:
        values = program_values(program)
    library = await list_exercises(app.repo)
    by_id = {e.id: e for e in library}
    groups: dict[str, list[Any]] = {}
    for e in library:
        groups.setdefault(CATEGORY_LABELS[e.category], []).append(e)
    pictures = await pictures_for(app.repo, program) if program is not None else {}
    rows = []
    for k in row_order(values):
        p = f"r_{k}_"
        exercise = by_id.get(str(values.get(p + "exercise_id", "")))
        rows.append(
            {
                "key": k,
                "p": p,
                "picture": str(values.get(p + "photo_data_url") or pictures.get(k, "")),
                "drawing": str(values.get(p + "drawing", "")),
                "archived": exercise is None,
            }
        )
    return "views/home_program/edit.html", {
        **ctx,
        "values": values,
        "errors": errors,
        "rows": rows,
        "groups": groups,
        "drawings": {
            r["key"]: Markup(
                drawing_svg(str(r["drawing"]), f"Drawing: {values.get(str(r['p']) + 'name', '')}")
            )
            for r in rows
        },
        "prints": await prints_for_client(app.repo, client_id),
        "form_id": f"home-program-form-{client_id}",
        "program": program,
    }


@action("home-program-form")
async def home_program_form(app: App, data: dict[str, Any]) -> None:
    client_id = str(data.get("client_id", ""))
    name = _form_name(client_id)
    command, errors = command_from_form(client_id, data)
    if errors:
        fail(app, name, data, errors)
        return
    try:
        changed = await save_home_program(app.repo, command)
    except Refused as exc:
        fail(app, name, data, map_errors(exc.errors, command))
        return
    app.state.forms.pop(name, None)
    op = str(data.get("op", "save")).partition(":")[0]
    program = changed[0]
    if op == "add":
        added = program.exercises[-1]  # type: ignore[attr-defined]
        app.state.flash = f"{added.name} added to the home program."
        app.state.focus = f"field-r_{added.key}_sets"
    elif op == "remove":
        app.state.flash = "Exercise removed from the home program."
    elif op == "print":
        app.navigate(f"#/home-program-print?client={client_id}")
    elif op != "up":
        photos = len(changed) - 1
        app.state.flash = "Home program saved." + (
            f" {photos} photo{'s' if photos != 1 else ''} kept." if photos else ""
        )


async def _print_html(app: App, client: Client) -> tuple[dict[str, Any], str] | None:
    program = await load_home_program(app.repo, client.id)
    if program is None or not program.exercises:
        return None
    vm = await build_print_view(app.repo, client, program, clock.today())
    return vm, render("reports/home_program.html", doc=vm, demo=app.state.demo)


@route("home-program-print")
async def home_program_print(app: App, params: dict[str, str]) -> View:
    client_id = params.get("client", "")
    client = await app.repo.get(Client, client_id) if client_id else None
    if client is None:
        return "views/intake/client_missing.html", {}
    built = await _print_html(app, client)
    return "views/home_program/print.html", {
        "client": client,
        "doc": built[0] if built else None,
        "report_html": built[1] if built else "",
        "prints": await prints_for_client(app.repo, client.id),
    }


@action("home-program-printed")
async def home_program_printed(app: App, data: dict[str, Any]) -> None:
    """Printing (or saving as PDF) keeps the printed version, once per content and day."""
    client = await app.repo.get(Client, str(data.get("client", "")))
    if client is None:
        return
    built = await _print_html(app, client)
    if built is None:
        return
    try:
        kept = await record_print(
            app.repo, RecordPrint(client_id=client.id, html=built[1], today=clock.today())
        )
    except Refused as exc:
        app.state.flash = next(iter(exc.errors.values()))
        return
    if kept is not None:
        app.state.flash = f"Printed version of {kept.printed_on:%b %-d, %Y} kept."


@route("home-program-version")
async def home_program_version(app: App, params: dict[str, str]) -> View:
    kept = await app.repo.get(HomeProgramPrint, params.get("id", ""))
    client = await app.repo.get(Client, kept.client_id) if kept is not None else None
    snapshot = (
        render("views/documents/_snapshot.html", body=Markup(inert_html(kept.html)))
        if kept is not None
        else ""
    )
    return "views/home_program/version.html", {
        "kept": kept,
        "client": client,
        "snapshot": snapshot,
    }
