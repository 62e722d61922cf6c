"""Issue 10 (5), a full disk: a refused write never says "saved", keeps what was typed and turns
the app read-only with "Export now"; low storage is seen (and a backup asked for) before it is
full."""

import re
import time

import pytest
from playwright.sync_api import expect

from medex.backup_stream import sections
from tests.support.browser import LIVE_DB, dump, open_app, set_up_practice_with_a_client, wait_ready

# A write into a scratch database of the same origin (same quota bucket as the app's): true
# once the browser refuses writes. Chromium caches the space left for a few seconds, so the
# test waits for a real refusal instead of guessing when the new quota applies.
PROBE = """async () => {
    const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open("quota-probe", 1);
        req.onupgradeneeded = () => req.result.createObjectStore("x");
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
    });
    const refused = await new Promise((resolve) => {
        const tx = db.transaction("x", "readwrite", { durability: "strict" });
        tx.objectStore("x").put("y".repeat(50000), Math.random());
        tx.oncomplete = () => resolve(false);
        tx.onabort = () => resolve(true);
    });
    db.close();
    return refused;
}"""

# How Chromium fails a commit when the disk itself is full (LevelDB cannot write): the
# transaction aborts with an UnknownError, which Dexie hands on as an AbortError around it.
DISK_ERROR = """() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
        const request = put.apply(this, args);
        const tx = this.transaction;
        Object.defineProperty(tx, "error", {
            value: new DOMException("Internal error committing transaction.", "UnknownError"),
        });
        tx.abort();
        return request;
    };
}"""


def wait_until_writes_are_refused(page, seconds=90):
    deadline = time.monotonic() + seconds
    while not page.evaluate(PROBE):
        assert time.monotonic() < deadline, "the quota override never applied"
        page.wait_for_timeout(1000)


def drafts_saved(page) -> int:
    return int(page.evaluate("document.documentElement.dataset.draftsSaved || '0'"))


def fill_new_client(page) -> dict[str, str]:
    """A new client's form (its save is refused by the service, shown next to the form)."""
    page.goto("./#/client-new")
    typed = {"First name": "Ben", "Last name": "Okafor", "Date of birth": "1961-07-02"}
    for label, value in typed.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Sex").select_option("male")
    return typed


def fill_session_log(page) -> dict[str, str]:
    """A session log's notes (its save fails out of the action: the shell must keep them)."""
    page.locator("#start-session-top").click()
    expect(page.locator("#save-draft")).to_be_visible()
    typed = {
        "Plan for next session": "Progress sit-to-stand to 3 x 10",
        "Recovery": "HR back to 78 within 3 min",
    }
    for label, value in typed.items():
        page.get_by_label(label).fill(value)
    return typed


FORMS = {
    "new-client": (fill_new_client, "Save client"),
    "session-log": (fill_session_log, "Save draft"),
}


@pytest.mark.parametrize(
    ("failure", "form"), [("quota", "session-log"), ("disk-error", "new-client")]
)
def test_a_refused_save_never_says_saved_keeps_the_form_and_goes_read_only(
    page, base_url, failure, form
):
    set_up_practice_with_a_client(page)
    fill_form, save_button = FORMS[form]
    drafts_before = drafts_saved(page)
    typed = fill_form(page)
    page.wait_for_function(
        f"Number(document.documentElement.dataset.draftsSaved) > {drafts_before}"
    )
    before = dump(page)["stores"]
    cdp = page.context.new_cdp_session(page)
    origin = base_url.rstrip("/")
    if failure == "quota":
        # The origin's quota shrinks below what it already uses: every new write is refused.
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": 1})
        wait_until_writes_are_refused(page)
    else:
        page.evaluate(DISK_ERROR)

    page.get_by_role("button", name=save_button, exact=True).click()
    banner = page.locator("#read-only-banner")
    expect(banner).to_contain_text("read-only")
    expect(banner.get_by_text("Export now")).to_be_visible()
    expect(page.locator("main")).to_contain_text(re.compile("nothing was (saved|written)", re.I))
    expect(page.locator("#flash").filter(has_text=re.compile("saved|added", re.I))).to_have_count(0)
    expect(page.get_by_role("heading", name="Ben Okafor")).to_have_count(0)
    # What was typed is still in the form, also after the next render.
    for label, value in typed.items():
        expect(page.get_by_label(label)).to_have_value(value)
    routes = "window.medexTimings.filter(t => String(t[0]).startsWith('route:')).length"
    rendered = page.evaluate(routes)
    page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))")
    page.wait_for_function(f"{routes} > {rendered}")
    for label, value in typed.items():
        expect(page.get_by_label(label)).to_have_value(value)

    # Reading still works: the backup can be exported while read-only.
    banner.get_by_text("Export now").click()
    with page.expect_download() as info:
        page.locator("#export-backup").click()
    exported = sections(info.value.path().read_text())  # one part of the backup a line
    assert [c["last_name"] for c in exported["data"]["clients"]] == ["López"]

    # Space again (the quota restored, the page reloaded): every record saved before is there.
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})
    page.reload()
    wait_ready(page)
    after = dump(page)["stores"]
    for store, docs in before.items():
        assert {d["id"] for d in docs} <= {d["id"] for d in after.get(store, [])}, store
    assert [c["last_name"] for c in after["clients"]] == ["López"]


# navigator.storage.estimate() as the browser reports it on a nearly full device (Chromium
# reports usage plus a fixed figure to pages, whatever a DevTools quota override says).
LOW_ESTIMATE = """(() => {
    const real = navigator.storage.estimate.bind(navigator.storage);
    navigator.storage.estimate = async () => {
        const found = await real();
        return { ...found, quota: found.usage + 150 * 1024 * 1024 };
    };
})()"""


def test_low_storage_is_warned_about_before_the_disk_is_full(page):
    page.add_init_script(LOW_ESTIMATE)
    open_app(page)
    banner = page.locator("#storage-warning")
    expect(banner).to_contain_text("left")
    expect(banner).to_contain_text(re.compile(r"1[45]\d(\.\d)? MB"))
    expect(banner.get_by_role("link", name="Export a backup now")).to_be_visible()
    expect(page.locator("#read-only-banner")).to_have_count(0)  # still writable
    page.goto("./#/settings")
    expect(page.locator("#storage-left")).to_contain_text("MB")
    banner.get_by_role("link", name="Export a backup now").click()
    expect(page.locator("#export-backup")).to_be_visible()


def test_a_database_the_browser_closed_is_never_silently_recreated_under_a_save(page, base_url):
    """Chromium closes the connection itself after a storage error (or when site data is
    cleared) and may drop the database: the next save must not reopen a new, empty database and
    say "added" while every record is gone."""
    set_up_practice_with_a_client(page)
    typed = fill_new_client(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Storage.clearDataForOrigin",
        {"origin": base_url.rstrip("/"), "storageTypes": "indexeddb"},
    )
    # Read-only at once, and saying the database was closed, whichever failure Chromium reports
    # first (the connection's close event, or a refused write of the typed draft).
    read_only = re.compile("closed")
    expect(page.locator("#read-only-banner")).to_contain_text(read_only)
    page.get_by_role("button", name="Save client").click()
    expect(page.locator("#read-only-banner")).to_contain_text(read_only)
    expect(page.locator("#flash").filter(has_text=re.compile("saved|added", re.I))).to_have_count(0)
    expect(page.get_by_role("heading", name="Ben Okafor")).to_have_count(0)
    for label, value in typed.items():
        expect(page.get_by_label(label)).to_have_value(value)
    names = page.evaluate(
        "async () => { " + LIVE_DB + " return (await factory.databases()).map((d) => d.name); }"
    )
    assert "medex-practice" not in names  # no empty database was made to take the save
