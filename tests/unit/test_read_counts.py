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
# Every save of a session log also refreshes the client's summary in the same transaction
# (``services.summaries``): it reads that summary and the client's logs (projected, by index),
# and the client's dashboard row with the client's episodes (``services.dashboard_rows``).
SUMMARY_READS = {
    ("get", "ClientSummary"),
    ("project", "SessionLogSummary"),
    ("get", "DashboardRow"),
    ("project", "Episode"),
}


def summary_reads(reads) -> int:
    return sum(1 for r in reads if r in SUMMARY_READS)


def without_summary(reads) -> list:
    return [r for r in reads if r not in SUMMARY_READS]


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
    assert len(without_summary(app.repo.reads)) <= 4, app.repo.reads
    assert summary_reads(app.repo.reads) <= 4, app.repo.reads


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


def _query_reads(app, monkeypatch, action):
    """(reads of ``action``, reads of the re-render after it, session_log_page calls and reads
    made inside them during that re-render)."""
    calls: list[str] = []
    inside: list[int] = []
    real = sessions_service.session_log_page

    async def counted(repo, log_id):
        calls.append(log_id)
        before = len(app.repo.reads)
        page = await real(repo, log_id)
        inside.append(len(app.repo.reads) - before)
        return page

    monkeypatch.setattr(sessions_screen, "session_log_page", counted)
    app.repo.reads.clear()
    run(action())
    acted = list(app.repo.reads)
    app.repo.reads.clear()
    run(app.html())
    return acted, list(app.repo.reads), calls, sum(inside)


def test_the_re_render_after_a_draft_save_is_the_one_query(app, monkeypatch):
    log = screens.start(app, screens.add_client(app))
    data = {**screens.form_of(app, log), "pain": "3", "pre_heart_rate_bpm": "70"}
    acted, rendered, calls, in_query = _query_reads(
        app, monkeypatch, lambda: app.dispatch("session-form", data)
    )
    assert app.state.flash.startswith("Draft saved")
    assert len(without_summary(acted)) <= 4, acted
    assert summary_reads(acted) <= 4, acted
    assert calls == [log.id]
    # Beside the query: only the practice profile every screen shows.
    assert len(rendered) - in_query <= 1, rendered


def test_signing_reads_the_log_once_per_layer_and_re_renders_through_the_one_query(
    app, monkeypatch
):
    """Signing reads: in the screen the log, and the client and health history for the target
    heart rate; in the service the log, the practice profile (the signer and the signing key),
    the screening, clearance and health history (the clearance rule). Moving the client's
    status on (a use case of its own) is counted apart."""
    from medex.services import outcomes as outcomes_service

    log = screens.start(app, screens.add_client(app))
    data = {**screens.form_of(app, log), "pain": "2", "pre_heart_rate_bpm": "70"}
    run(app.dispatch("session-form", data))
    status_reads: list[int] = []
    real_move = getattr(outcomes_service, "client_moved_by", None)
    if real_move is not None:

        async def counted_move(repo, *args, **kwargs):
            before = len(app.repo.reads)
            try:
                return await real_move(repo, *args, **kwargs)
            finally:
                status_reads.append(len(app.repo.reads) - before)

        monkeypatch.setattr(outcomes_service, "client_moved_by", counted_move)
    form = {**screens.form_of(app, log), "intent": "sign"}
    acted, rendered, calls, in_query = _query_reads(
        app, monkeypatch, lambda: app.dispatch("session-form", form)
    )
    assert app.state.flash.startswith("Session log signed"), app.state.flash
    assert len(without_summary(acted)) - sum(status_reads) <= 9, acted
    # The status move re-uses the clearance signing already loaded: only the client is read.
    assert sum(status_reads) <= 1, (status_reads, acted)
    assert len(without_summary(acted)) <= 10, acted
    assert summary_reads(acted) <= 4, acted
    assert [model for name, model in acted].count("SessionLog") <= 2, acted  # once per layer
    assert calls == [log.id]
    assert len(rendered) - in_query <= 1, rendered
