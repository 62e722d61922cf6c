"""Home: the first-run set-up, then the dashboard of what needs doing."""

from __future__ import annotations

from medex.dashboard import ordered, practice_setup_items
from medex.intake import Client
from medex.services.intake import intake_dashboard
from medex.services.sessions import unsigned_logs_dashboard

from ..core import App, View, route
from .practice import profile_form_values


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
    items += await intake_dashboard(app.repo)
    items += await unsigned_logs_dashboard(
        app.repo, client_names={c.id: c.full_name for c in await app.repo.list(Client)}
    )
    return "views/home.html", {"items": ordered(items), "profile": app.state.profile}
