"""Issue 10, item 1 end to end: undoing a restore asks first, says exactly what it will do, puts
back what the restore changed, and keeps everything written after the restore (a new client, a
signed session log and its addendum). Before the fix the undo deleted all three at once."""

import re

from playwright.sync_api import expect

from tests.support.browser import assert_accessible, check_file, dump, export_backup, goto, open_app


def new_client(page, first: str, last: str) -> None:
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("button", name="New client").click()
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Date of birth").fill("1958-03-10")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Save client").click()
    expect(page.locator("#client-name")).to_have_text(f"{first} {last}")


def open_client(page, first: str, last: str) -> None:
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("link", name=f"{last}, {first}").click()
    expect(page.locator("#client-name")).to_have_text(f"{first} {last}")


def clients_of(stores: dict) -> dict[str, dict]:
    return {f"{d['first_name']} {d['last_name']}": d for d in stores["clients"]}


def clients(page) -> dict[str, dict]:
    return clients_of(dump(page)["stores"])


def test_undo_restore_keeps_work_written_after_the_restore(page, tmp_path, console_errors):
    open_app(page)
    page.get_by_label("Your name").fill("Dana Reyes")
    page.get_by_label("Credentials").fill("MS")
    page.get_by_label("Business name").fill("Reyes Medical Exercise")
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()
    new_client(page, "Ana", "López")
    backup = export_backup(page, tmp_path)

    # After the backup: Ana's notes are edited and Ben is added.
    open_client(page, "Ana", "López")
    page.get_by_role("link", name="Details").click()
    page.get_by_label("Notes").fill("Edited after the backup")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#flash")).to_be_visible()
    new_client(page, "Ben", "Before")
    before_restore = clients(page)
    assert before_restore["Ana López"]["notes"] == "Edited after the backup"

    # Replace-restore the backup: Ana goes back to the backup's copy, Ben is deleted.
    goto(page, "./#/data", "#restore-check")
    check_file(page, backup)
    page.get_by_role("radio", name=re.compile("^Replace")).check()
    page.get_by_role("checkbox", name=re.compile("I understand")).check()
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Backup restored")
    restored = clients(page)
    assert set(restored) == {"Ana López"} and restored["Ana López"]["notes"] == ""

    # Work after the restore: a new client, a signed session log and an addendum to it.
    new_client(page, "Cleo", "Newman")
    page.get_by_role("button", name="Start session").first.click()
    expect(page.locator("#log-status")).to_have_text("Draft: not signed")
    page.get_by_role("button", name="+ Sit-to-stand").click()
    expect(page.locator("#exercise-rows")).to_contain_text("Sit-to-stand")
    for name, value in {
        "pre_heart_rate_bpm": "72",
        "pre_systolic_mmhg": "128",
        "pre_diastolic_mmhg": "78",
        "pain": "2",
        "ex_0_rpe": "12",
        "plan_next": "Progress to three sets",
        "clearance_override_reason": "Screening booked for Thursday; light session only today",
    }.items():
        page.locator(f"#field-{name}").fill(value)
    page.get_by_label("Tolerated well").check()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    page.get_by_label("Kind").select_option("late_entry")
    page.get_by_label("Addendum").fill("Client phoned: mild knee ache that evening.")
    page.get_by_role("button", name="Sign and add addendum").click()
    expect(page.locator("#addenda")).to_contain_text("Late entry")
    later = dump(page)["stores"]
    [log] = later["session_logs"]
    [addendum] = later["addenda"]

    # Undo restore: first it says exactly what it will do; Cancel changes nothing.
    goto(page, "./#/data", "#undo-restore")
    page.get_by_role("button", name="Undo restore").click()
    preview = page.locator("#undo-preview")
    expect(preview).to_contain_text("What undoing this restore will do")
    expect(preview).to_contain_text("put back as they were before the restore")
    expect(preview).not_to_contain_text("will be removed")
    assert_accessible(page, "on the undo preview")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#flash")).to_contain_text("nothing was changed")
    assert dump(page)["stores"] == later

    page.get_by_role("button", name="Undo restore").click()
    page.get_by_role("button", name="Confirm undo").click()
    expect(page.locator("#flash")).to_contain_text("The restore was undone")
    expect(page.locator("#flash")).to_contain_text("put back as they were before the restore")
    expect(page.get_by_role("button", name="Undo restore")).to_have_count(0)  # done: not offered

    # The work done after the restore is all there, exactly as it was left ...
    after = dump(page)
    stores = after["stores"]
    assert [d for d in stores["session_logs"] if d["id"] == log["id"]] == [log]
    assert [d for d in stores["addenda"] if d["id"] == addendum["id"]] == [addendum]
    now = clients(page)
    assert now["Cleo Newman"] == clients_of(later)["Cleo Newman"]
    # ... and what the restore changed is back as it was before the restore.
    assert now["Ana López"]["notes"] == "Edited after the backup"
    assert "Ben Before" in now
    assert after["audit"][-1]["action"] == "undo-restore"

    open_client(page, "Cleo", "Newman")
    page.get_by_role("link", name="Sessions").first.click()
    expect(page.locator("#timeline")).to_contain_text("Signed")
    open_client(page, "Ben", "Before")
    goto(page, "./#/audit", "#audit-verdict")
    expect(page.locator("#audit-verdict")).to_contain_text("intact")
    assert console_errors == []


def test_an_undo_confirmed_after_another_tab_changed_a_record_changes_nothing(
    page, context, tmp_path, console_errors
):
    open_app(page)
    page.get_by_label("Your name").fill("Dana Reyes")
    page.get_by_label("Business name").fill("Reyes Medical Exercise")
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()
    new_client(page, "Ana", "López")
    backup = export_backup(page, tmp_path)
    open_client(page, "Ana", "López")
    page.get_by_role("link", name="Details").click()
    page.get_by_label("Notes").fill("Edited after the backup")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#flash")).to_be_visible()
    goto(page, "./#/data", "#restore-check")
    check_file(page, backup)
    page.get_by_role("radio", name=re.compile("^Replace")).check()
    page.get_by_role("checkbox", name=re.compile("I understand")).check()
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Backup restored")

    # This tab shows what the undo would do ...
    page.get_by_role("button", name="Undo restore").click()
    expect(page.locator("#undo-preview")).to_contain_text("1 record will be put back")
    # ... while another tab saves Ana again.
    other = context.new_page()
    open_app(other)
    open_client(other, "Ana", "López")
    other.get_by_role("link", name="Details").click()
    other.get_by_label("Notes").fill("Saved in the other tab")
    other.get_by_role("button", name="Save details").click()
    expect(other.locator("#flash")).to_be_visible()
    moved = dump(page)
    assert clients_of(moved["stores"])["Ana López"]["notes"] == "Saved in the other tab"

    # Confirming the stale preview writes nothing, and says so.
    page.get_by_role("button", name="Confirm undo").click()
    expect(page.locator("#flash")).to_contain_text("nothing was undone")
    assert dump(page) == moved
    # Asked again, the undo keeps the other tab's save: nothing is left to undo.
    page.get_by_role("button", name="Undo restore").click()
    expect(page.locator("#flash")).to_contain_text("Nothing is left to undo")
    expect(page.get_by_role("button", name="Undo restore")).to_have_count(0)
    assert dump(page)["stores"] == moved["stores"]
    assert console_errors == []
