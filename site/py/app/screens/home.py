"""Home: the first-run set-up, then the dashboard of what needs doing.

The home screen is the day (``medex.services.home.home_page``: what is owed, retention risks,
the practice's set-up progress, the caseload by program, the last backup). It needs most of
the domain, which is too much to import before the app is interactive, so the first paint
shows the frame with the storage item, and the shell fills in the rest right after start-up
(``App.state.warm``), importing the query inside the function.
"""

from __future__ import annotations

from medex.dashboard import ordered, practice_setup_items

from ..core import App, View, route
from .practice import profile_form_values

# The most urgent of what needs doing; the rest behind "Show all" (a practice years behind on
# signatures can owe thousands of things, and the home screen must still open at once).
OWED_SHOWN = 30


@route("", label="Home", order=0)
async def home(app: App, params: dict[str, str]) -> View:
    if app.state.profile is None:
        form = app.state.forms.get("profile")
        return "views/first_run.html", {
            "values": profile_form_values(app),
            "errors": form.errors if form else {},
        }
    items = practice_setup_items(
        has_profile=True, storage_persisted=app.state.storage.get("persisted")
    )
    page = None
    limit = None if params.get("all") else OWED_SHOWN
    if app.state.warm:
        from medex.services.home import home_page

        from .. import clock

        page = await home_page(app.repo, clock.today(), before=items, shown=limit, with_backup=True)
        shown, more = page.owed, page.more
    else:
        items = ordered(items)
        shown = items[:limit]
        more = len(items) - len(shown)
    return "views/home.html", {
        "items": shown,
        "more": more,
        "page": page,
        "profile": app.state.profile,
        "checking": not app.state.warm,
    }
