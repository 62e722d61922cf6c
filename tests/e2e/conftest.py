from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import READY_TIMEOUT_MS


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Tablet portrait by default: the app is tablet first.
    return {**browser_context_args, "viewport": {"width": 820, "height": 1180}}


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


def wait_ready(page):
    """Wait for the app's ready marker (never a sleep); fail with the boot error if any."""
    page.wait_for_function(
        "document.documentElement.dataset.appReady === 'true' || !!document.documentElement.dataset.appError",
        timeout=READY_TIMEOUT_MS,
    )
    error = page.evaluate("document.documentElement.dataset.appError")
    assert not error, f"boot failed: {error}"
    # The dashboard's due items fill in right after the app is interactive.
    page.wait_for_function(
        "document.documentElement.dataset.appWarm === 'true'", timeout=READY_TIMEOUT_MS
    )


def open_app(page, path=""):
    page.goto(path or "./")
    wait_ready(page)
    return page


AXE_PATH = Path(__file__).resolve().parents[2] / ".cache" / "test-assets" / "axe.min.js"


def assert_accessible(page, context: str = ""):
    """Run axe-core (vendored from npm at build time) on the current screen: WCAG 2 A/AA."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_PATH.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    assert result == [], f"accessibility violations {context}: {result}"
