"""The installed app in Chromium: installable (manifest linked, service worker in control,
Chromium's own installability check clean), an offline chip while the network is gone (the
app keeps working), and an update prompt that applies a new version only after what was
typed has been saved, which comes back after the reload."""

import os
import re
import shutil
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

import build
from buildtools.serve import handler_for
from tests.support.browser import assert_accessible, open_app, wait_ready

SHOTS = Path("/tmp/shots-pwa")
CONTROLLED = "navigator.serviceWorker.controller !== null"


def controlled(page):
    """The first start installs the service worker; from the next load on it serves the app."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate(CONTROLLED):
        page.reload()
        wait_ready(page)
    assert page.evaluate(CONTROLLED)


def test_installable_manifest_and_service_worker(page, context):
    open_app(page)
    controlled(page)
    manifest = page.evaluate(
        """async () => {
            const link = document.querySelector('link[rel=manifest]');
            return (await fetch(link.href)).json();
        }"""
    )
    assert manifest["display"] == "standalone"
    assert manifest["name"] == "MedEx Practice" and manifest["short_name"] == "MedEx"
    cdp = context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's browser contexts are incognito profiles, where Chromium never installs
    # apps; that one says nothing about the app, every other reason would.
    errors = [e for e in errors if e["errorId"] != "in-incognito"]
    assert errors == [], errors
    app_manifest = cdp.send("Page.getAppManifest")
    assert app_manifest["errors"] == [], app_manifest["errors"]


def test_offline_chip_and_the_app_keeps_working(page, context):
    open_app(page)
    controlled(page)
    chip = page.locator("#offline-chip")
    expect(chip).to_be_hidden()
    context.set_offline(True)
    try:
        expect(chip).to_be_visible()
        expect(chip).to_contain_text("Offline")
        assert_accessible(page, "with the offline chip shown")
        SHOTS.mkdir(exist_ok=True)
        for width, height in ((768, 1024), (1024, 768)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(SHOTS / f"offline-{width}x{height}.png"))
        page.set_viewport_size({"width": 820, "height": 1180})
        # Still working: another screen opens and a reload starts the app from the cache.
        page.get_by_role("link", name="Settings").first.click()
        expect(page.locator("#field-business_name")).to_be_visible()
        page.reload()
        wait_ready(page)
        expect(chip).to_be_visible()
        expect(page.locator("#field-business_name")).to_be_visible()
    finally:
        context.set_offline(False)
    expect(chip).to_be_hidden()


@pytest.fixture
def own_copy(tmp_path, no_foreign_requests):
    """The built app served from a folder of its own, so the test can publish a new version."""
    copy = tmp_path / "dist"
    shutil.copytree(build.DIST, copy, copy_function=os.symlink)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(copy))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield copy, url
    server.shutdown()
    server.server_close()
    # This test's own server is not another origin for the no-foreign-requests check.
    no_foreign_requests[:] = [u for u in no_foreign_requests if not u.startswith(url)]


def test_update_waits_for_the_practitioner_and_keeps_what_was_typed(page, own_copy):
    copy, url = own_copy
    open_app(page, url + "#/settings")
    controlled(page)
    banner = page.locator("#update-banner")
    expect(banner).to_be_hidden()

    # Half-way through a form: typed, not saved.
    page.locator("#field-business_name").fill("Half-typed Practice Name")

    # A new version is published: the browser finds it, and the banner offers it.
    sw = copy / "sw.js"
    text = sw.read_text()
    sw.unlink()
    version = re.search(r'const VERSION = "([^"]+)"', text).group(1)
    sw.write_text(text.replace(version, version + "-next"))
    for sibling in ("sw.js.br", "sw.js.gz"):  # the server would send the old compressed copy
        (copy / sibling).unlink()
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    expect(banner).to_be_visible(timeout=60_000)
    expect(banner).to_contain_text("A new version of MedEx Practice is ready")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "update-banner.png"))
    # Waiting: nothing reloads by itself; the typed value is still on the page.
    expect(page.locator("#field-business_name")).to_have_value("Half-typed Practice Name")

    with page.expect_navigation(timeout=60_000):
        banner.get_by_role("button", name="Update now").click()
    wait_ready(page)
    expect(banner).to_be_hidden()
    # What was typed was saved as a draft before the update, and is back in the form.
    expect(page.locator("#field-business_name")).to_have_value("Half-typed Practice Name")
    assert page.evaluate(CONTROLLED)
    assert page.evaluate(
        "navigator.serviceWorker.getRegistration().then((r) => !r.waiting && !r.installing)"
    )
