"""Issue 7 end to end: backup → wipe → restore gives every record back; a damaged file changes
nothing; encryption at rest locks the page empty and unlocks with the passphrase."""

import json

from playwright.sync_api import expect

from medex.backup_stream import sections
from medex.stores import DERIVED_STORES
from tests.support.browser import (
    LIVE_DB,
    assert_accessible,
    by_id,
    check_file,
    dump,
    export_backup,
    fill,
    goto,
    open_app,
    raw_store,
    set_up_practice_with_a_client,
    wait_ready,
)


def _without_rev(stores: dict) -> dict:
    return {
        s: [{k: v for k, v in d.items() if k != "_rev"} for d in docs] for s, docs in stores.items()
    }


def test_export_wipe_restore_gives_every_record_back_and_a_damaged_file_changes_nothing(
    page, tmp_path, console_errors
):
    set_up_practice_with_a_client(page)
    # Every save wrote its audit entry (who, action, record) in the same transaction.
    audit = dump(page)["audit"]
    assert [(e["actor"], e["action"], e["record_type"]) for e in audit][-1] == (
        "Dana Reyes",
        "create",
        "clients",
    )
    assert "López" not in json.dumps(audit)

    # The dashboard asks for a first backup.
    goto(page, "./#/", "[data-kind=backup]")
    expect(page.locator("[data-kind=backup]")).to_contain_text("No backup yet")

    before = dump(page)
    path = export_backup(page, tmp_path)
    expect(page.locator("#last-backup")).to_contain_text("today")
    exported = sections(path.read_text())  # the backup format of 2026: one part a line
    assert exported["header"]["format"] == "medex-practice-backup"
    # Derived records (client summaries) are rebuilt from the others: never in a backup.
    kept = {s: d for s, d in before["stores"].items() if s not in DERIVED_STORES}
    assert by_id(exported["data"]) == by_id(kept)
    assert exported["audit"] == before["audit"]

    # Wipe: delete the database (the open connection is closed cleanly first), reload.
    page.evaluate(
        """async () => { """
        + LIVE_DB
        + """ return await new Promise((resolve, reject) => {
            const req = factory.deleteDatabase(name);
            req.onsuccess = () => resolve(true);
            req.onerror = () => reject(req.error);
        }); }"""
    )
    expect(page.locator("#read-only-banner")).to_contain_text("another tab")
    page.reload()  # reopens the Data screen, on an empty database
    wait_ready(page)
    assert by_id(dump(page)["stores"]) == {}

    # Restore: checked first, previewed, then written.
    check_file(page, path)
    expect(page.locator("#preview-merge tr[data-store=clients]")).to_contain_text("1")
    assert_accessible(page, "on the restore preview")
    page.locator("#restore-apply").click()
    expect(page.locator("#flash")).to_contain_text("Backup restored")
    after = dump(page)
    restored = {s: d for s, d in after["stores"].items() if s not in DERIVED_STORES}
    # Every record as exported, each at a first revision on this device (a part of the
    # backup this device held none of is written whole, with revisions of its own).
    assert by_id(_without_rev(restored)) == by_id(_without_rev(exported["data"]))
    assert all(d["_rev"].startswith("1-") for docs in restored.values() for d in docs)
    assert after["audit"][: len(exported["audit"])] == exported["audit"]
    assert after["audit"][-1]["action"] == "restore"
    goto(page, "./#/audit", "#audit-verdict")
    expect(page.locator("#audit-verdict")).to_contain_text("intact")
    assert_accessible(page, "on the audit log")

    # A damaged file (one name edited, checksum left) and a truncated one change nothing.
    assert '"first_name":"Ana"' in path.read_text()
    bad = tmp_path / "edited.json"
    bad.write_text(path.read_text().replace('"first_name":"Ana"', '"first_name":"Eve"'))
    goto(page, "./#/data", "#restore-check")
    check_file(page, bad)
    expect(page.locator("#restore-reason")).to_contain_text("checksum does not match")
    expect(page.locator("#restore-preview")).to_have_count(0)
    cut = tmp_path / "cut.json"
    cut.write_text(path.read_text()[:-200])
    check_file(page, cut)
    expect(page.locator("#restore-reason")).to_contain_text("cut off")
    assert_accessible(page, "with a refused restore")
    assert dump(page)["stores"] == after["stores"]

    # Undo the restore: the device is as it was before it (empty).
    page.locator("#undo-restore").click()
    expect(page.locator("#undo-preview")).to_contain_text("that the restore added will be removed")
    page.locator("#undo-confirm").click()
    expect(page.locator("#flash")).to_contain_text("restore was undone")
    left = dump(page)["stores"]
    assert by_id({s: d for s, d in left.items() if s not in DERIVED_STORES}) == {}
    assert console_errors == []


def test_encryption_locks_the_page_empty_and_unlocks_with_the_passphrase(
    page, tmp_path, console_errors
):
    set_up_practice_with_a_client(page)
    goto(page, "./#/security", "#encryption-on")
    fill(page, {"new_passphrase": "short", "new_confirm": "short"})
    page.locator("#encryption-on").click()
    expect(page.locator("#error-new_passphrase")).to_contain_text("at least 10")
    fill(page, {"new_passphrase": "correct horse battery", "new_confirm": "correct horse battery"})
    page.locator("#encryption-on").click()
    expect(page.locator("#recovery-key-text")).to_have_text(
        __import__("re").compile(r"^([A-Z2-9]{4}-){5}[A-Z2-9]{4}$")
    )
    recovery = page.locator("#recovery-key-text").inner_text()
    expect(page.locator("#encryption-state")).to_contain_text("On")
    assert_accessible(page, "on the security screen")

    # On disk: no client name in clear, every record sealed.
    raw = raw_store(page, "clients")
    assert "López" not in raw and '"_enc"' in raw
    assert "Dana" not in raw_store(page, "profile")
    # The app still reads everything (the key is in memory).
    assert dump(page)["stores"]["clients"][0]["last_name"] == "López"

    # An encrypted backup needs its passphrase.
    path = export_backup(page, tmp_path, passphrase="backup passphrase 1")
    assert "López" not in path.read_text()
    check_file(page, path, passphrase="wrong passphrase!")
    expect(page.locator("#error-backup_passphrase")).to_contain_text("does not open")
    # Each part is encrypted on its own, bound to its place: two parts swapped, or the file cut
    # after a part, are refused (the right passphrase notwithstanding).
    envelope, header, *parts, trailer = path.read_text().rstrip("\n").split("\n")
    assert len(parts) >= 3 and '"ct"' in header and "envelope" in envelope
    for name, lines in (
        ("swapped.json", [envelope, header, parts[1], parts[0], *parts[2:], trailer]),
        ("cut.json", [envelope, header, *parts]),
    ):
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        check_file(page, tmp_path / name, passphrase="backup passphrase 1")
        expect(page.locator("#restore-reason")).to_contain_text(
            "does not decrypt" if name == "swapped.json" else "cut off"
        )
    check_file(page, path, passphrase="backup passphrase 1")
    expect(page.locator("#preview-merge tr[data-store=clients]")).to_contain_text("1")
    page.locator("[data-action=restore-cancel]").click()

    # Lock: the page holds no client data.
    goto(page, "./#/clients", "#add-client")
    expect(page.locator("main")).to_contain_text("López")
    goto(page, "./#/security", "#lock-now")
    page.locator("#lock-now").click()
    expect(page.get_by_role("heading", name="MedEx Practice is locked")).to_be_visible()
    html = page.content()
    assert "López" not in html and "Reyes" not in html
    page.goto("./#/clients")
    expect(page.get_by_role("heading", name="MedEx Practice is locked")).to_be_visible()
    assert "López" not in page.content()

    # Wrong passphrase: a clear message, nothing touched.
    fill(page, {"secret": "not my passphrase"})
    page.locator("#unlock").click()
    expect(page.locator("#error-secret")).to_contain_text("does not open")
    assert_accessible(page, "on the unlock screen")
    fill(page, {"secret": "correct horse battery"})
    page.locator("#unlock").click()
    expect(page.locator("main")).to_contain_text("López")

    # A reload starts locked; the recovery key opens it too.
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("heading", name="MedEx Practice is locked")).to_be_visible()
    assert "López" not in page.content()
    fill(page, {"secret": recovery.lower()})
    page.locator("#unlock").click()
    expect(page.locator("main")).to_contain_text("López")

    # Turning encryption off writes every record back in clear.
    goto(page, "./#/security", "#field-current_passphrase")
    fill(page, {"current_passphrase": "correct horse battery"})
    page.get_by_role("button", name="Turn encryption off").click()
    expect(page.locator("#encryption-state")).to_contain_text("Off")
    assert "López" in raw_store(page, "clients")
    actions = [e["action"] for e in dump(page)["audit"]]
    assert {"encrypt", "lock", "unlock", "decrypt"} <= set(actions)
    assert console_errors == []


def test_two_tabs_saving_keep_one_intact_audit_chain(page, context):
    set_up_practice_with_a_client(page)
    other = context.new_page()
    open_app(other, "./#/settings")
    expect(other.locator("#field-business_name")).to_have_value("Reyes Medical Exercise")

    # Each tab caches the last audit entry it chained from; the other tab's saves make that
    # stale, so each save below first meets a moved chain and re-chains.
    saves = "window.medexTimings.filter(t => t[0] === 'action:save-profile').length"

    def save_phone(tab, phone):
        before = tab.evaluate(saves)
        # Each tab opens the form afresh (showing the other tab's last save): a form shown
        # before the other tab's save would be refused as stale (test_two_tabs.py).
        tab.goto("./#/")
        goto(tab, "./#/settings", "#field-phone")
        fill(tab, {"phone": phone})
        tab.get_by_role("button", name="Save practice profile").click()
        # The flash of an earlier save may still be showing: wait for this save to finish.
        tab.wait_for_function(f"{saves} > {before}")
        expect(tab.locator("#flash")).to_contain_text("Practice profile saved")

    goto(page, "./#/settings", "#field-phone")
    save_phone(other, "(217) 555-0101")
    save_phone(page, "(217) 555-0102")
    save_phone(other, "(217) 555-0103")
    entries = dump(other)["audit"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert [e["action"] for e in entries][-3:] == ["update", "update", "update"], [
        (e["action"], e["record_type"], e["at"]) for e in entries
    ]
    goto(other, "./#/audit", "#audit-verdict")
    expect(other.locator("#audit-verdict")).to_contain_text("intact")


def test_a_full_disk_makes_the_app_read_only_with_export_now_and_loses_nothing(page, tmp_path):
    set_up_practice_with_a_client(page)
    goto(page, "./#/settings", "#field-phone")
    # The device refuses every further write, as IndexedDB does when the quota is used up.
    page.evaluate(
        """() => { IDBObjectStore.prototype.put = function () {
            throw new DOMException("The quota has been exceeded.", "QuotaExceededError"); }; }"""
    )
    fill(page, {"phone": "(217) 555-0177"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.locator("#read-only-banner")).to_contain_text("storage is full")
    expect(page.locator("#field-phone")).to_have_value("(217) 555-0177")  # what was typed stays
    page.locator("#export-now").click()
    expect(page.locator("#export-backup")).to_be_visible()
    with page.expect_download() as info:
        page.locator("#export-backup").click()
    path = tmp_path / "full.json"
    info.value.save_as(path)
    saved = sections(path.read_text())
    assert [c["last_name"] for c in saved["data"]["clients"]] == ["López"]
