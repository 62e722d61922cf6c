"""A backup whose text holds a control character (no saved record can: the app removes them
from typed text) is refused on the Data screen, naming the record and the field, and nothing is
written; the same file without it restores."""

from pathlib import Path

from playwright.sync_api import expect

from medex.backup_stream import make_chunked_backup
from tests.support.backups import audit_chain, client_doc, log_doc
from tests.support.browser import check_file, dump, goto, open_app, shoot

SHOTS = Path("/tmp/shots-check")
SLOW = 60_000


def test_a_control_character_in_a_backup_is_refused_naming_the_record(page, tmp_path):
    ada = client_doc()
    logs = [log_doc(ada["id"], i, signed=i == 0) for i in range(3)]
    marked = {**logs[2], "response_notes": "Completed all sets\x07; steadier."}
    chain = audit_chain(2)
    bad = tmp_path / "edited.medex"
    bad.write_text(
        make_chunked_backup(
            {"clients": [ada], "session_logs": [*logs[:2], marked]}, chain, {}, "0.1.0"
        )
    )
    good = tmp_path / "good.medex"
    good.write_text(
        make_chunked_backup({"clients": [ada], "session_logs": logs}, chain, {}, "0.1.0")
    )

    open_app(page)
    goto(page, "./#/data", "#restore-check")
    check_file(page, bad)
    error = page.locator("#restore-error")
    expect(error).to_contain_text("1 problem found", timeout=SLOW)
    expect(error).to_contain_text("Session logs, record ")
    expect(error).to_contain_text("response notes: ")
    expect(error).to_contain_text("invisible control character")
    expect(error).to_contain_text(marked["id"][:8])
    expect(page.locator("#restore-apply")).to_have_count(0)
    assert all(not docs for docs in dump(page)["stores"].values())
    shoot(page, SHOTS, "control-character-refused")  # both tablet sizes, no sideways scroll

    check_file(page, good)
    expect(page.locator("#preview-merge tr[data-store=session_logs]")).to_contain_text(
        "3", timeout=SLOW
    )
    page.locator("#restore-apply").click()
    expect(page.locator("#flash")).to_contain_text("Backup restored (merge)", timeout=SLOW)
    assert len(dump(page)["stores"]["session_logs"]) == 3
