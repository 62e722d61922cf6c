"""Shared test set-up: e2e tests run the built dist/ in Debian's Chromium on 127.0.0.1."""

import contextlib
import os
import threading
from http.server import ThreadingHTTPServer

import pytest

CHROMIUM = os.environ.get("MEDEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


# Chromium's renderer process itself sometimes dies on this 2-core machine ("Target crashed",
# never reproduced alone). Once it has, every later test of that worker's browser may crash too
# (seen twice in whole-suite runs: 4 and 8 tests of one worker, each crashing again on its
# rerun). So such a test runs once more (pytest-rerunfailures' only_rerun: a failed assertion
# never is) in a browser started afresh, and no browser serves more than TESTS_PER_BROWSER tests.
BROWSER_CRASHED = [
    "Target crashed",
    "Page crashed",
    "Target page, context or browser has been closed",
]


TESTS_PER_BROWSER = 8


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/build/" in str(item.fspath).replace("\\", "/"):
            # A build test file shares one real build (a module fixture): under pytest-xdist's
            # loadgroup its tests stay in one process, so that build is made once.
            item.add_marker(pytest.mark.xdist_group(item.fspath.basename))
        if "/engines/" in str(item.fspath).replace("\\", "/"):
            # Firefox and WebKitGTK each start Pyodide twice per journey, WebKitGTK at a third
            # of Firefox's speed: on a loaded machine a journey that timed out runs once more.
            item.add_marker(pytest.mark.flaky(reruns=1))
        if "/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=BROWSER_CRASHED))


@pytest.fixture(scope="session")
def dist_url():
    """Build dist/ once (from the verified cache) and serve it on a free 127.0.0.1 port."""
    import build

    if not os.environ.get("MEDEX_SKIP_BUILD"):
        build.build()
    server = ThreadingHTTPServer(("127.0.0.1", 0), build.Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def base_url(dist_url):
    return dist_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


class Browsers:
    """The one Chromium a worker's tests share, started again when it has served
    TESTS_PER_BROWSER tests, when it is gone, or for a test run again after a crash."""

    def __init__(self, launch):
        self.launch = launch
        self.current = None
        self.served = 0

    def get(self, fresh: bool):
        if self.current is not None and (
            fresh or self.served >= TESTS_PER_BROWSER or not self.current.is_connected()
        ):
            self.close()
        if self.current is None:
            self.current = self.launch()
            self.served = 0
        self.served += 1
        return self.current

    def close(self):
        if self.current is not None:
            # A browser that crashed may refuse to close: it is gone anyway.
            with contextlib.suppress(Exception):
                self.current.close()
            self.current = None


@pytest.fixture(scope="session")
def browsers(launch_browser):
    held = Browsers(launch_browser)
    yield held
    held.close()


@pytest.fixture
def browser(browsers, request):
    """pytest-playwright's browser, but from `browsers` (see there) instead of one per session."""
    return browsers.get(fresh=getattr(request.node, "execution_count", 1) > 1)
