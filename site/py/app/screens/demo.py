"""The demo practice: open it from the first run, remove it in one action.

The demo lives in a database of its own (``Platform.open_practice``): the practice's own
records are never touched, and removing the demo deletes that database and returns to the
first-run choice (or to the practice, if it was set up before).
"""

from __future__ import annotations

from typing import Any

from medex.demo import prepare_demo_practice, store_demo_practice

from .. import clock
from ..core import App, State, action
from ..render import render


def _render_document(vm: dict[str, Any]) -> str:
    return render(f"reports/{vm['kind']}.html", doc=vm, demo=True)


async def _reopen(app: App, demo: bool) -> None:
    """Switch the records under the app's repository and start again from a clean state."""
    await app.platform.open_practice(demo)
    app.repo.forget()
    app.state = State(warm=app.state.warm)
    await app.load()


@action("start-demo")
async def start_demo(app: App, data: dict[str, Any]) -> None:
    await app.show_progress("Building the demo practice…")
    # Built in memory first: the demo's database is opened only to store it whole, in one
    # write, so it never holds half a demo (or, unmarked, look like a practice of its own).
    demo = await prepare_demo_practice(
        clock.today(), signer=app.platform, render_document=_render_document
    )
    await _reopen(app, True)
    if app.state.profile is None:  # a fresh demo database (an open demo is kept as it is)
        try:
            await store_demo_practice(app.repo, demo)
        except Exception:
            await _reopen(app, False)  # back to the practice's own records; nothing lost
            raise
        await app.load()
    app.state.progress = {}
    app.navigate("#/")
    app.state.flash = (
        "This is a demo practice with made-up clients. Look around, print any document; "
        "remove it when you are ready to set up your own practice."
    )


@action("remove-demo")
async def remove_demo(app: App, data: dict[str, Any]) -> None:
    await _reopen(app, False)
    app.navigate("#/")
    app.state.flash = "The demo practice was removed. Your own records were not touched."
