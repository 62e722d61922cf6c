"""Driving the app's screens in the unit tests (the DOM-free ``core.App`` over the in-memory
repository and the fake platform), for the session-log and document screens:

- ``session_app``: the app on 10 March 2026 with the practice profile saved; ``add_client``
  (a client screened as needing no clearance), ``start``, ``form_of``, ``submit`` and
  ``add_exercise`` drive the session-log screen;
- ``documents_app``: the app with the typical client seeded (``app.seeded``); ``open_doc``,
  ``form`` and ``send`` drive a physician document.

Both take ``repo`` (e.g. a repository that counts its reads). Callers pass pytest's
``monkeypatch``: the day is pinned through ``app.clock.today``.
"""

from __future__ import annotations

from datetime import date

from app import clock, core
from medex.documents import SPECS, DocKind
from medex.exercises import Exercise
from medex.intake import Client
from medex.repository import InMemoryRepository
from medex.screening import PARQ_PAGE1_LABELS
from medex.session_logs import SessionLog

from .aio import run
from .fakes import FakePlatform
from .pages import FormData
from .seeders import GOOD, TODAY, seed_typical_client

SESSIONS_TODAY = date(2026, 3, 10)


def html(app, location=None):
    if location:
        app.navigate(location)
    return run(app.html())


# -- session logs ----------------------------------------------------------------------------


def session_app(monkeypatch, repo: InMemoryRepository | None = None) -> core.App:
    core.load_screens()
    monkeypatch.setattr(clock, "today", lambda: SESSIONS_TODAY)
    a = core.App(repo if repo is not None else InMemoryRepository(), FakePlatform())
    run(a.load())
    run(a.dispatch("save-profile", dict(GOOD)))
    a.navigate("#/")
    return a


def add_client(app, screened=True, dob="1958-03-10"):
    """A client with a screening that needs no clearance (unless ``screened`` is False)."""
    data = {"client_id": "", "first_name": "Ana", "last_name": "López", "sex": "female"}
    run(app.dispatch("save-client", {**data, "date_of_birth": dob}))
    client = run(app.repo.list(Client))[-1]
    if screened:
        form = {f"parq_{k}": "no" for k in PARQ_PAGE1_LABELS}
        form.update(
            client_id=client.id,
            acsm_exercises_regularly="yes",
            acsm_known_cmr_disease="no",
            acsm_symptomatic="no",
            acsm_desired_intensity="moderate",
        )
        run(app.dispatch("save-screening", form))
    return client


def start(app, client) -> SessionLog:
    run(app.dispatch("start-session", {"client": client.id}))
    assert app.state.route == "session"
    return run(app.repo.get(SessionLog, app.state.params["id"]))


def form_of(app, log) -> dict:
    return FormData(run(app.html()), f"session-form-{log.id}").data


def submit(app, log, intent=None, **changes):
    data = {**form_of(app, log), **changes}
    if intent:
        data["intent"] = intent
    run(app.dispatch("session-form", data))


def add_exercise(app, log, name):
    ex = next(e for e in run(app.repo.list(Exercise)) if e.name == name)
    submit(app, log, "add", add_exercise_id=ex.id)


# -- physician documents -----------------------------------------------------------------------


def documents_app(monkeypatch, repo: InMemoryRepository | None = None) -> core.App:
    core.load_screens()
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    a = core.App(repo if repo is not None else InMemoryRepository(), FakePlatform())
    seeded = seed_typical_client(a.repo, TODAY)
    run(a.load())
    a.navigate("#/")
    a.seeded = seeded  # type: ignore[attr-defined]
    return a


def open_doc(app, kind: DocKind):
    client, provider, _ep = app.seeded
    if SPECS[kind].per_provider:
        return html(app, f"#/document?provider={provider.id}&kind={kind.value}")
    return html(app, f"#/document?client={client.id}&kind={kind.value}")


def form(app, kind, page):
    client, provider, _ep = app.seeded
    subject = provider.id if SPECS[kind].per_provider else client.id
    return FormData(page, f"doc-{kind.value}-{subject}").data


def send(app, kind, **changes):
    data = {**form(app, kind, open_doc(app, kind)), "_channel": "fax", "op": "send"}
    data["_sent_on"] = TODAY.isoformat()
    data.update(changes)
    run(app.dispatch("document-form", data))
