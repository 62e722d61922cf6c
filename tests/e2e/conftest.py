"""Fixtures of the end-to-end tests (the helpers they call live in tests/support/browser.py)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Tablet portrait by default: the app is tablet first.
    return {**browser_context_args, "viewport": {"width": 820, "height": 1180}}


@pytest.fixture(autouse=True)
def patient_expect():
    """Each check waits up to 15 s for the page to get there (Playwright's default is 5 s): the
    suite runs two browsers on two cores, and a first save builds the models it needs. A check
    that passes returns as soon as it does; only a failing one waits the whole time."""
    expect.set_options(timeout=15_000)


@pytest.fixture(autouse=True)
def no_foreign_requests(context, base_url):
    """Every e2e test fails if the page (or its service worker) asks any other origin."""
    origin = urlsplit(base_url)
    foreign: list[str] = []

    def check(request):
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != origin.netloc:
            foreign.append(request.url)

    context.on("request", check)
    yield foreign
    assert foreign == [], f"requests left 127.0.0.1: {foreign}"


@pytest.fixture
def console_errors(page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors
