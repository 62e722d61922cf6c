"""The DOM-free app loop: routes render, actions dispatch, errors land next to their fields."""

import pytest

from app import core
from medex.repository import InMemoryRepository
from tests.support.aio import run
from tests.support.fakes import FakePlatform
from tests.support.pages import Elements
from tests.support.seeders import GOOD

HOSTILE = "<script>alert(1)</script>{{ 7*7 }}{% raw %}\u202eevil\U0001f600"


@pytest.fixture
def app():
    core.load_screens()
    a = core.App(InMemoryRepository(), FakePlatform())
    run(a.load())
    a.navigate("#/")
    return a


def test_persistent_storage_is_asked_once_from_the_first_save_never_at_start_up(app):
    # Start-up never waits on a permission (Firefox holds persist() until it is answered).
    assert app.platform.persist_requests == 0
    run(app.load())
    assert app.platform.persist_requests == 0
    run(app.dispatch("save-profile", dict(GOOD)))  # the person's first action
    assert app.platform.persist_requests == 1
    run(app.dispatch("save-profile", dict(GOOD)))
    run(app.load())
    assert app.platform.persist_requests == 1


def test_first_run_shows_the_profile_form(app):
    page = Elements(run(app.html()))
    assert "practitioner_name" in page.inputs and "business_name" in page.inputs
    assert "Welcome" in run(app.html())


def test_bad_input_shows_messages_next_to_fields_and_keeps_what_was_typed(app):
    run(app.dispatch("save-profile", {**GOOD, "email": "dana.example.com", "business_name": ""}))
    page = Elements(run(app.html()))
    assert "needs an @" in page.text["error-email"]
    assert "required" in page.text["error-business_name"]
    assert page.text["error-practitioner_name"].strip() == ""
    assert page.inputs["email"]["value"] == "dana.example.com"
    assert page.inputs["practitioner_name"]["value"] == "Dana Reyes"
    assert page.inputs["email"].get("aria-invalid") == "true"
    assert app.state.focus == "field-email" or app.state.focus == "field-business_name"
    assert app.state.profile is None


def test_saving_the_profile_goes_to_the_dashboard(app):
    run(app.dispatch("save-profile", GOOD))
    html = run(app.html())
    assert "Reyes Medical Exercise" in html and "What needs doing" in html
    assert "Practice profile saved" in html
    # Storage not persisted → an info item on the dashboard.
    assert 'data-kind="storage"' in html


def test_settings_shows_profile_and_storage(app):
    run(app.dispatch("save-profile", GOOD))
    app.navigate("#/settings")
    page = Elements(run(app.html()))
    assert page.inputs["business_name"]["value"] == "Reyes Medical Exercise"
    assert "Not granted" in page.text["storage-persisted"]
    assert "12.3 kB" in page.text["storage-usage"]


def test_settings_in_a_browser_without_persistent_storage_offers_no_request():
    # WebKitGTK has no navigator.storage: nothing to ask, no sizes to show.
    core.load_screens()
    a = core.App(InMemoryRepository(), FakePlatform(persisted=None))
    run(a.load())
    run(a.dispatch("save-profile", GOOD))

    async def unreported():
        return {"persisted": None, "usage": None, "quota": None, "supported": False}

    a.platform.storage_info = unreported
    a.navigate("#/settings")
    html = run(a.html())
    page = Elements(html)
    assert "Not available in this browser" in page.text["storage-persisted"]
    assert "Not reported by this browser" in page.text["storage-usage"]
    assert "request-persistent-storage" not in html


def test_asking_again_while_the_browser_asks_the_person_says_so(app):
    run(app.dispatch("save-profile", GOOD))
    app.navigate("#/settings")
    assert "request-persistent-storage" in run(app.html())  # not granted: may ask again
    app.platform.persist_answer = None  # Firefox: the prompt is open, no answer yet
    run(app.dispatch("request-persistent-storage", {}))
    html = run(app.html())
    assert "choose Allow in its prompt" in html and "did not grant" not in html
    app.platform.persist_answer = False
    run(app.dispatch("request-persistent-storage", {}))
    assert "did not grant" in run(app.html())


def test_unknown_route_falls_back_to_home(app):
    app.navigate("#/no-such-screen")
    assert app.state.route == ""


def test_hostile_text_renders_inert(app):
    run(app.dispatch("save-profile", {**GOOD, "business_name": HOSTILE, "address": HOSTILE}))
    html = run(app.html())
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and "49" not in html
    app.navigate("#/settings")
    page = Elements(run(app.html()))
    assert page.inputs["business_name"]["value"] == HOSTILE


def test_unreadable_logo_is_a_field_error_and_keeps_what_was_typed(app):
    run(app.dispatch("save-profile", {**GOOD, "logo_error": "This image could not be read."}))
    page = Elements(run(app.html()))
    assert "could not be read" in page.text["error-logo"]
    assert page.inputs["business_name"]["value"] == "Reyes Medical Exercise"
    assert app.state.profile is None and app.state.focus == "field-logo"


def test_location_keeps_route_and_parameters_for_reloads(app):
    app.navigate("#/settings?tab=storage&note=a%20b")
    assert app.state.params == {"tab": "storage", "note": "a b"}
    assert app.location() == "#/settings?tab=storage&note=a+b"
    app.navigate(app.location())
    assert app.state.params == {"tab": "storage", "note": "a b"}
    app.navigate("#/")
    assert app.location() == "#/"
