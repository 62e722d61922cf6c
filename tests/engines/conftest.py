"""Fixtures of the other-engine journeys: Firefox (Marionette) and WebKitGTK (WebKitWebDriver
under Xvfb), each with a fresh profile, against the built dist/ served by tests/conftest.py.

A journey is skipped only when its browser's Debian package is not installed, with the missing
file named; once the browser is there, anything that fails fails the test.
"""

from pathlib import Path

import pytest

from tests.engines.drivers import FIREFOX, MINIBROWSER, WEBKIT_DRIVER, XVFB, Firefox, WebKit, Xvfb


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/engines/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


def _require(binary: str, package: str) -> None:
    if not Path(binary).exists():
        pytest.skip(f"{binary} is absent: install the Debian package {package}")


@pytest.fixture
def firefox():
    _require(FIREFOX, "firefox-esr")
    engine = Firefox()
    yield engine
    engine.quit()


@pytest.fixture
def webkit():
    _require(WEBKIT_DRIVER, "webkit2gtk-driver")
    _require(MINIBROWSER, "libwebkit2gtk-4.1-0")
    _require(XVFB, "xvfb")
    display = Xvfb()
    try:
        engine = WebKit(display.display)
    except BaseException:
        display.stop()
        raise
    yield engine
    try:
        engine.quit()
    finally:
        display.stop()
