"""Big backups end to end: a practice of several thousand session logs is exported a part at a
time with progress on the Data screen while the person goes on working elsewhere, and the file
is checked (with progress) and restored into an empty practice; a file cut off, or with a bad
record in its last part, changes nothing."""

import re
from pathlib import Path

from playwright.sync_api import expect

from medex.backup_stream import make_chunked_backup, sections
from medex.records import PracticeProfile
from tests.support.backups import client_doc, log_doc
from tests.support.browser import LIVE_DB, check_file, dump, goto, open_app, shoot, wait_ready

LOGS = 4500  # five parts of session logs (a part holds up to 1,000 records)
SHOTS = Path("/tmp/shots-backups")  # screenshots to look at
SLOW = 180_000  # a whole practice passes through Pyodide: generous on a loaded machine

SEED = (
    """async ([store, docs]) => { """
    + LIVE_DB
    + """ const db = await new Promise((ok, fail) => {
        const r = factory.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      await new Promise((ok, fail) => {
        const tx = db.transaction(store, "readwrite");
        for (const d of docs) tx.objectStore(store).put(d);
        tx.oncomplete = ok; tx.onerror = () => fail(tx.error); });
      db.close(); }"""
)

# Hold the audit log with a write transaction that never ends until released: the export
# writes every record, then waits to read the audit log (its last part), so the test can look
# at the app while an export is certainly still running.
HOLD_AUDIT = (
    """async () => { """
    + LIVE_DB
    + """ const db = await new Promise((ok, fail) => {
        const r = factory.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      window.auditHold = { release: false, held: false };
      const store = db.transaction("audit", "readwrite").objectStore("audit");
      const spin = () => { window.auditHold.held = true;
        if (!window.auditHold.release) store.get(-1).onsuccess = spin; };
      spin(); }"""
)

# Every text the progress box shows, as it changes.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  new MutationObserver(() => {
    const p = document.querySelector('#work-progress p');
    if (p && window.progressSeen.at(-1) !== p.textContent) window.progressSeen.push(p.textContent);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def seeded_practice(page) -> int:
    """A practice with one client and LOGS session logs, written straight into IndexedDB."""
    open_app(page)
    profile = PracticeProfile(practitioner_name="Dana Reyes", business_name="Reyes MedEx")
    client = client_doc("Ana", "López")
    logs = [log_doc(client["id"], i % 300, signed=i % 7 == 0) for i in range(LOGS)]
    page.evaluate(SEED, ["profile", [profile.to_doc()]])
    page.evaluate(SEED, ["clients", [client]])
    for i in range(0, LOGS, 1500):
        page.evaluate(SEED, ["session_logs", logs[i : i + 1500]])
    page.reload()
    wait_ready(page)
    return 2 + LOGS


def test_a_big_export_shows_progress_and_the_app_keeps_working_meanwhile(
    page, tmp_path, console_errors
):
    total = seeded_practice(page)
    goto(page, "./#/data", "#export-backup")
    page.evaluate(WATCH_PROGRESS)
    page.evaluate(HOLD_AUDIT)
    page.wait_for_function("window.auditHold.held")
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    page.locator("#export-backup").click()
    # Every record is written with progress, a part at a time ...
    expect(page.locator("#work-progress")).to_contain_text(
        f"Exporting… {total:,} of {total:,} records", timeout=SLOW
    )
    seen = page.evaluate("window.progressSeen")
    assert f"Exporting… 0 of {total:,} records" in seen
    middle = [t for t in seen if re.fullmatch(rf"Exporting… [\d,]+ of {total:,} records", t)]
    # The device reports progress every quarter second and when the records are done (a fast
    # machine may write all of them in less than that).
    assert len(middle) >= 2, seen
    shoot(page, SHOTS, "export-progress")
    # ... and while it is still running, the person goes to another screen and types there.
    page.get_by_role("link", name="Settings").click()
    expect(page.locator("#field-phone")).to_be_visible()
    page.locator("#field-phone").fill("(217) 555-0199")
    assert downloads == []  # the export has not finished
    page.evaluate("window.auditHold.release = true")
    expect(page.locator("#flash")).to_contain_text(f"Backup of {total:,} records", timeout=SLOW)
    expect(page.locator("#field-phone")).to_have_value("(217) 555-0199")  # typed, kept
    assert len(downloads) == 1
    path = tmp_path / downloads[0].suggested_filename
    downloads[0].save_as(path)
    text = path.read_text()
    assert len(text.split("\n")) > 8  # header, parts, settings, trailer: one line each
    assert len(sections(text)["data"]["session_logs"]) == LOGS
    assert console_errors == []


def test_a_big_file_is_checked_with_progress_and_restored_and_a_bad_one_changes_nothing(
    page, context, tmp_path, console_errors
):
    total = seeded_practice(page)
    goto(page, "./#/data", "#export-backup")
    with page.expect_download(timeout=SLOW) as info:
        page.locator("#export-backup").click()
    path = tmp_path / "big.json"
    info.value.save_as(path)
    text = path.read_text()
    parts = sections(text)

    # An empty practice in a fresh browser profile.
    other = context.browser.new_context(base_url=page.url.split("#")[0])
    fresh = other.new_page()
    open_app(fresh)
    goto(fresh, "./#/data", "#restore-check")

    # Cut off half way; then a file whose last part holds a record no app would write (every
    # hash recomputed, as a careless tool would): refused, nothing written.
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    check_file(fresh, cut)
    expect(fresh.locator("#restore-reason")).to_contain_text("cut off", timeout=SLOW)
    logs = sorted(parts["data"]["session_logs"], key=lambda d: d["id"])
    logs[-1] = {**logs[-1], "pain": 42}  # the last record of the last part
    bad = tmp_path / "bad-last-part.json"
    bad.write_text(
        make_chunked_backup(
            {**parts["data"], "session_logs": logs}, parts["audit"], parts["meta"], "0.1.0"
        )
    )
    check_file(fresh, bad)
    expect(fresh.locator("#restore-error")).to_contain_text("1 problem found", timeout=SLOW)
    expect(fresh.locator("#restore-error")).to_contain_text("pain")
    assert all(not docs for docs in dump(fresh)["stores"].values())

    # The real file: checked a part at a time, with progress, then restored.
    fresh.evaluate(WATCH_PROGRESS)
    check_file(fresh, path)
    row = fresh.locator("#preview-merge tr[data-store=session_logs]")
    expect(row).to_contain_text(f"{LOGS}", timeout=SLOW)
    checked = [t for t in fresh.evaluate("window.progressSeen") if "records checked" in t]
    assert len(checked) >= 5, checked  # one step per part at least
    fresh.locator("#restore-apply").click()
    expect(fresh.locator("#flash")).to_contain_text(
        f"Backup restored (merge): {total:,} new", timeout=SLOW
    )
    restored = dump(fresh)["stores"]
    assert len(restored["session_logs"]) == LOGS
    assert {d["id"] for d in restored["session_logs"]} == {d["id"] for d in logs}
    assert restored["clients"][0]["last_name"] == "López"
    other.close()
    assert console_errors == []
