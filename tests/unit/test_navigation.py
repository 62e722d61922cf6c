"""The domain names screens as (route, params); only the app turns them into links."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import medex
from app import core
from app.render import href
from medex.navigation import Screen
from medex.repository import InMemoryRepository
from tests.support.aio import run
from tests.support.fakes import FakePlatform
from tests.support.seeders import GOOD

DOMAIN = Path(medex.__file__).resolve().parent  # site/py/medex (the wheel in Pyodide)
SOURCES = sorted(DOMAIN.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(DOMAIN).as_posix())
def test_no_domain_module_builds_an_in_app_url(path):
    text = path.read_text(encoding="utf-8")
    assert "#/" not in text, f"{path.name}: name the screen as Screen(route, params) instead"


def _screen_routes() -> set[str]:
    """The route of every ``Screen("…", …)`` written in the domain."""
    routes = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Screen"
                and node.args
            ):
                arg = node.args[0]
                assert isinstance(arg, ast.Constant), f"{path.name}: a route is a literal name"
                routes.add(arg.value)
    return routes


def test_every_screen_the_domain_names_is_a_route_of_the_app():
    core.load_screens(lazy=False)
    named = _screen_routes()
    assert {"settings", "data", "client", "document"} <= named  # the scan sees them
    assert named - set(core.ROUTES) == set()


def test_href_is_the_apps_link_format():
    assert href("settings") == "#/settings"
    assert (
        href("client", {"id": "c1", "section": "clearance"}) == "#/client?id=c1&section=clearance"
    )
    assert href(Screen("document", {"client": "c 1", "kind": "lmn_draft"})) == (
        "#/document?client=c+1&kind=lmn_draft"
    )
    app = core.App(None, None)  # type: ignore[arg-type]
    app.navigate(href("clients", {"ready": "no"}))
    assert (app.state.route, app.state.params) == ("clients", {"ready": "no"})
    assert app.location() == "#/clients?ready=no"


def test_a_dashboard_item_renders_its_screen_as_a_link():
    core.load_screens(lazy=False)
    app = core.App(InMemoryRepository(), FakePlatform(persisted=False))
    run(app.load())
    run(app.dispatch("save-profile", GOOD))  # storage not persisted: an item for Settings
    app.navigate("#/")
    html = run(app.html())
    assert '<a href="#/settings" role="button" class="secondary">Storage settings</a>' in html
