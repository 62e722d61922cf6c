"""Home: the first-run set-up, then the dashboard of what needs doing.

The dashboard needs most of the domain (intake, sessions, outcomes, documents…), which is
too much to import before the app is interactive. So the first paint shows the dashboard
frame with the set-up items, and the shell fills in the rest right after start-up
(``App.state.warm``). Capabilities add their items in ``capability_items`` below, importing
their modules inside the function.
"""

from __future__ import annotations

from medex.dashboard import DashboardItem, ordered, practice_setup_items

from ..core import App, View, route
from .practice import profile_form_values


async def capability_items(app: App) -> list[DashboardItem]:
    """What each capability says needs doing (one call each)."""
    from medex.intake import Client
    from medex.services.data import backup_dashboard
    from medex.services.documents import documents_dashboard
    from medex.services.intake import intake_dashboard
    from medex.services.outcomes import reassessment_dashboard
    from medex.services.sessions import unsigned_logs_dashboard

    from .. import clock

    items = await intake_dashboard(app.repo)
    items += await unsigned_logs_dashboard(
        app.repo, client_names={c.id: c.full_name for c in await app.repo.list(Client)}
    )
    items += await reassessment_dashboard(app.repo, clock.today())
    items += await backup_dashboard(app.repo)
    items += await documents_dashboard(app.repo, clock.today())
    return items


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
    if app.state.warm:
        items += await capability_items(app)
    return "views/home.html", {
        "items": ordered(items),
        "profile": app.state.profile,
        "checking": not app.state.warm,
    }
