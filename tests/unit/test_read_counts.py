"""Issue 11: the loop is not chatty. Saving a session-log draft reads at most 4 records, and the
session-log screen gets its data from one query (``services.sessions.session_log_page``)."""

from __future__ import annotations

import pytest

from app.screens import sessions as sessions_screen
from medex.repository import InMemoryRepository
from medex.services import sessions as sessions_service
from tests.support import screens
from tests.support.aio import run

READS = ("get", "list", "find", "project", "get_meta", "meta_with_prefix")


class CountingRepository(InMemoryRepository):
    """The one in-memory repository, counting every read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[str, str]] = []

    def __getattribute__(self, name):
        attr = super().__getattribute__(name)
        if name in READS:
            reads = super().__getattribute__("reads")

            def counted(*args, **kwargs):
                reads.append((name, getattr(args[0], "__name__", str(args[0])) if args else ""))
                return attr(*args, **kwargs)

            return counted
        return attr


@pytest.fixture
def app(monkeypatch):
    return screens.session_app(monkeypatch, CountingRepository())


def test_saving_a_draft_reads_at_most_four_records(app):
    log = screens.start(app, screens.add_client(app))
    data = {**screens.form_of(app, log), "pain": "3", "pre_heart_rate_bpm": "70"}
    app.repo.reads.clear()
    run(app.dispatch("session-form", data))
    assert app.state.flash.startswith("Draft saved"), app.state.flash
    assert len(app.repo.reads) <= 4, app.repo.reads


def test_the_session_screen_reads_through_one_query(app, monkeypatch):
    log = screens.start(app, screens.add_client(app))
    calls = []
    real = sessions_service.session_log_page

    async def one_query(repo, log_id):
        calls.append(log_id)
        return await real(repo, log_id)

    monkeypatch.setattr(sessions_screen, "session_log_page", one_query)
    app.repo.reads.clear()
    screens.html(app, f"#/session?id={log.id}")
    assert calls == [log.id]
    # The query's own reads, plus the practice profile every screen shows.
    assert len(app.repo.reads) <= 9, app.repo.reads
