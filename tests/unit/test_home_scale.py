"""The home screen stays readable and quick however much is owed: one item per client for late
signatures, and the most urgent 30 things with the rest behind "Show … more"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.screens import home as home_screen
from medex.session_logs import SessionLog
from tests.support.aio import run
from tests.support.pages import Elements
from tests.support.screens import SESSIONS_TODAY, html, session_app

ITEM = 'class="todo '


@pytest.fixture
def app(monkeypatch):
    a = session_app(monkeypatch)
    a.state.warm = True  # the dashboard filled in, as after start-up
    return a


def late_logs(app, clients: int, each: int) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    run(
        app.repo.save(
            *(
                SessionLog(
                    client_id=f"00000000-0000-4000-8000-{c:012d}",
                    session_date=SESSIONS_TODAY - timedelta(days=30 + k),
                    created_at=old,
                )
                for c in range(clients)
                for k in range(each)
            )
        )
    )


def test_the_home_screen_shows_the_30_most_urgent_and_offers_the_rest(app):
    late_logs(app, clients=40, each=3)  # 120 late logs: one item per client
    everything = html(app, "#/?all=1")
    assert everything.count("3 unsigned session logs: a client") == 40
    assert "show-all-owed" not in everything
    total = everything.count(ITEM)
    page = html(app, "#/")
    assert page.count(ITEM) == home_screen.OWED_SHOWN == 30
    more = Elements(page).text["show-all-owed"]
    assert more == f"Show {total - 30} more that need doing"


def test_a_short_list_has_nothing_more_to_show(app):
    late_logs(app, clients=2, each=1)
    page = html(app, "#/")
    assert page.count("Unsigned session log: a client") == 2
    assert "show-all-owed" not in page
