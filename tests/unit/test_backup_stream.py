"""The chunked backup file (format 2): written and checked a part (a line) at a time.

Round trip, a changed byte caught in any part, parts swapped, dropped, repeated or added after
the end, a file cut off anywhere, a bad record in the last part, a file from a future version,
and the first format still read. The export and check of the Data screen go through the same
code with the device's fake (tests/support/fakes.py writes the lines as js/backupfile.js does).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app import core
from medex import audit, session_logs
from medex.backup import BackupError, RecordChecker, backup_header, make_backup, parse_backup
from medex.backup_stream import (
    CHUNKED_FORMAT_VERSION,
    ChunkedParser,
    header_version,
    line_hash,
    make_chunked_backup,
    parse_any,
    parse_chunked,
    sections,
    trailer_line,
)
from medex.intake import Client
from medex.migrations import MIGRATIONS
from medex.records import PracticeProfile
from medex.session_logs import SessionLog
from tests.support.aio import run
from tests.support.backups import audit_chain, client_doc, log_doc
from tests.support.fakes import DataRepo, FilePlatform

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def practice(n_logs: int = 25) -> tuple[dict[str, list[dict]], list[dict]]:
    ada = client_doc()
    ben = client_doc("Ben", "Ng")
    logs = [log_doc(ada["id"] if i % 2 else ben["id"], i, signed=i % 5 == 0) for i in range(n_logs)]
    return {"clients": [ada, ben], "session_logs": logs}, audit_chain(12)


def chunked(chunk_records: int = 4, **kw) -> tuple[str, dict, list]:
    stores, chain = practice(**kw)
    text = make_chunked_backup(stores, chain, {"theme": "plain"}, "0.2.0", NOW, chunk_records)
    return text, stores, chain


def lines_of(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def joined(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def refused(text: str) -> BackupError:
    with pytest.raises(BackupError) as caught:
        parse_chunked(text, now=NOW)
    return caught.value


def by_id(stores: dict) -> dict:
    return {s: sorted(d, key=lambda x: x["id"]) for s, d in stores.items() if d}


# -- round trip ---------------------------------------------------------------------------------


def test_a_chunked_file_reads_back_every_record_the_audit_log_and_the_settings():
    text, stores, chain = chunked()
    lines = lines_of(text)
    # header, 1 part of clients, 7 of session logs (25 by 4), 3 of audit (12 by 4), meta, trailer
    assert len(lines) == 1 + 1 + 7 + 3 + 1 + 1
    assert all(len(json.loads(x).get("records", [])) <= 4 for x in lines)
    backup = parse_chunked(text, now=NOW)
    assert backup.format_version == CHUNKED_FORMAT_VERSION == 2
    assert by_id(backup.data) == by_id(stores)
    assert backup.audit == chain
    assert backup.meta == {"theme": "plain"}
    assert backup.counts == {"clients": 2, "session_logs": 25}
    assert backup.app_version == "0.2.0" and backup.created_at == "2025-06-01T09:00:00Z"
    assert backup.checksum == json.loads(lines[-1])["checksum"]
    assert "intact" in backup.audit_message


def test_the_same_records_give_the_same_file_and_checksum():
    stores, chain = practice()
    assert make_chunked_backup(stores, chain, {}, "1", NOW) == make_chunked_backup(
        stores, chain, {}, "1", NOW
    )


def test_an_empty_practice_round_trips():
    text = make_chunked_backup({}, [], {}, "0.2.0", NOW)
    assert len(lines_of(text)) == 3  # header, meta, trailer
    backup = parse_chunked(text, now=NOW)
    assert backup.total == 0 and backup.audit == []


def test_a_record_bigger_than_a_part_is_a_part_of_its_own_in_the_browser_writer():
    platform = FilePlatform()
    repo = DataRepo()
    run(repo.save(PracticeProfile(practitioner_name="Dana", business_name="R", address="x" * 100)))
    started = run(platform.backup_start("{}", "", repo))
    page = run(platform.backup_page(started["id"], "profile", None, 1000, 10))
    assert page["count"] == 1 and len(page["hashes"]) == 1 and page["next"] is None


def test_validated_records_are_kept_as_the_json_text_of_each_part():
    text, stores, _ = chunked(chunk_records=4)
    backup = parse_chunked(text, now=NOW)
    parts = backup.parts["session_logs"]
    assert len(parts) == 7 and all(isinstance(part, bytes) for part in parts)  # 25 logs, 4 a part
    assert backup.counts == {"clients": 2, "session_logs": 25}
    assert by_id(backup.data) == by_id(stores)
    assert [d["id"] for d in backup.iter_docs("clients")] == sorted(
        d["id"] for d in stores["clients"]
    )


def test_a_part_checked_together_gives_what_each_record_checked_alone_gives():
    stores, _ = practice()
    docs = stores["session_logs"][:9]
    docs[2] = {**docs[2], "_rev": "3-abc", "_signed": True}  # storage's own fields
    together, alone = RecordChecker(MIGRATIONS, NOW.date()), RecordChecker(MIGRATIONS, NOW.date())
    assert json.loads(together.check_part("session_logs", docs)) == [
        alone.check("session_logs", d) for d in docs
    ]
    assert together.problems == alone.problems == []


def test_every_bad_record_of_a_part_is_named_once():
    stores, chain = practice()
    bad = sorted(stores["session_logs"], key=lambda d: d["id"])[4:6]  # one part of four
    bad[0]["pain"] = 42
    bad[1]["tolerance"] = "splendid"
    error = refused(make_chunked_backup(stores, chain, {}, "0.2.0", NOW, 4))
    assert error.code == "invalid-records" and error.total_problems == 2
    assert sorted((p.id, p.field) for p in error.problems) == sorted(
        [(bad[0]["id"], "pain"), (bad[1]["id"], "tolerance")]
    )


def test_a_signed_log_edited_with_every_hash_recomputed_is_refused():
    stores, chain = practice()
    signed = next(d for d in stores["session_logs"] if d.get("signature"))
    signed["response_notes"] = "Rewritten after signing"
    error = refused(make_chunked_backup(stores, chain, {}, "0.2.0", NOW, 4))
    assert error.code == "invalid-records"
    assert [(p.id, p.field) for p in error.problems] == [(signed["id"], "signature")]


def test_both_formats_open_with_the_same_header_fields():
    old = json.loads(make_backup({}, [], {}, "0.2.0", NOW))
    new = json.loads(lines_of(make_chunked_backup({}, [], {}, "0.2.0", NOW))[0])
    assert {k: old[k] for k in new} == {**new, "format_version": 1}
    assert new == backup_header(CHUNKED_FORMAT_VERSION, "0.2.0", NOW)


def _prune_one_call_a_value(value):
    """The signed content's pruning as first written (a call per value): the hashes of every
    signed log ever made depend on it giving exactly this."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _prune_one_call_a_value(v)
            if v is None or v is False or v == "" or v == [] or v == {}:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_prune_one_call_a_value(v) for v in value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        {"a": None, "b": False, "c": "", "d": [], "e": {}, "f": 0, "g": 0.0, "h": True},
        {"a": {"b": {"c": None}}, "d": [{"e": ""}, [], {}, None, False, 0], "f": [[None]]},
        [{"a": {}}, "", None, {"b": [{"c": False}]}],
        {"nested": {"kept": "x", "gone": {"deeper": [], "also": None}}, "n": -1},
        "text",
        None,
    ],
)
def test_the_faster_pruning_of_signed_content_gives_what_it_always_gave(value):
    assert session_logs._prune(value) == _prune_one_call_a_value(value)


def test_every_signed_log_hashes_as_before():
    stores, _ = practice(n_logs=40)
    for doc in stores["session_logs"]:
        log = SessionLog.model_validate(doc)
        content = session_logs._json_doc(log, session_logs._NOT_CONTENT)
        assert session_logs._prune(content) == _prune_one_call_a_value(content)
        if log.signature is not None:
            assert session_logs.verify_signature(log)


# -- integrity ----------------------------------------------------------------------------------


def test_a_changed_byte_in_any_part_is_caught_and_the_part_is_named():
    text, *_ = chunked()
    lines = lines_of(text)
    for number in range(1, len(lines) - 1):
        changed = list(lines)
        changed[number] = (
            changed[number].replace("Completed", "Completes").replace('"seq":', '"seq": ')
        )
        if changed[number] == lines[number]:
            changed[number] = changed[number][:-1] + " }"
        error = refused(joined(changed))
        assert error.code == "checksum", number
        assert f"part {number} of {len(lines) - 2}" in error.reason


def test_parts_swapped_dropped_or_repeated_are_caught():
    text, *_ = chunked()
    lines = lines_of(text)
    swapped = [lines[0], lines[2], lines[1], *lines[3:]]
    assert refused(joined(swapped)).code == "checksum"
    dropped = [lines[0], *lines[2:]]
    assert refused(joined(dropped)).code in ("checksum", "truncated")
    repeated = [lines[0], lines[1], *lines[1:]]
    assert refused(joined(repeated)).code in ("checksum", "duplicate-id")


def test_a_file_cut_off_anywhere_is_refused_as_incomplete():
    text, *_ = chunked()
    for at in (len(text) - 1 - 50, len(text) // 2, len(text) - len(lines_of(text)[-1]) - 1, 200):
        error = refused(text[:at])
        assert error.code == "truncated", at
        assert "cut off" in error.reason


def test_anything_after_the_last_part_is_refused():
    text, *_ = chunked()
    extra = text + json.dumps({"records": [], "store": "clients"}) + "\n"
    assert refused(extra).code == "not-json"


def test_a_recomputed_list_of_parts_still_needs_the_checksum_it_names():
    text, *_ = chunked()
    lines = lines_of(text)
    lines[3] = lines[3].replace("Completed", "Changed!!")
    trailer = json.loads(lines[-1])
    trailer["chunk_sha256"][2] = line_hash(lines[3])  # the list fixed, the checksum not
    lines[-1] = json.dumps(trailer)
    assert refused(joined(lines)).code == "checksum"


def test_a_bad_record_in_the_last_part_refuses_the_whole_file():
    stores, chain = practice()
    last = max(stores["session_logs"], key=lambda d: d["id"])  # in the file's last part
    last["pain"] = 42
    text = make_chunked_backup(stores, chain, {}, "0.2.0", NOW, 4)
    assert last["id"] in [x for x in lines_of(text) if x.endswith('"store":"session_logs"}')][-1]
    error = refused(text)
    assert error.code == "invalid-records" and error.total_problems == 1
    assert [(p.id, p.field) for p in error.problems] == [(last["id"][:80], "pain")]


def test_counts_that_do_not_match_the_parts_are_refused():
    text, *_ = chunked()
    lines = lines_of(text)
    trailer = json.loads(lines[-1])
    trailer["counts"]["clients"] = 3
    lines[-1] = json.dumps(trailer)
    assert refused(joined(lines)).code == "counts"


def test_an_edited_audit_chain_is_refused_even_with_every_hash_recomputed():
    stores, chain = practice()
    chain[3] = {**chain[3], "actor": "Mallory"}
    text = make_chunked_backup(stores, chain, {}, "0.2.0", NOW, 4)
    assert refused(text).code == "audit"


def test_a_file_from_a_future_version_is_refused_before_any_record_is_read():
    text, *_ = chunked()
    future = text.replace('"format_version":2', '"format_version":3', 1)
    assert header_version(future) == 3
    error = refused(future)
    assert error.code == "newer-format" and "newer version" in error.reason


def test_an_unknown_record_type_is_refused():
    text, *_ = chunked()
    lines = lines_of(text)
    lines.insert(1, json.dumps({"records": [{"id": "x"}], "store": "rockets"}))
    assert refused(joined(lines)).code == "unknown-store"


def test_a_hostile_part_nested_too_deep_is_refused_without_crashing():
    text, *_ = chunked()
    lines = lines_of(text)
    lines.insert(1, '{"records":' + "[" * 100_000 + "]" * 100_000 + "}")
    assert refused(joined(lines)).code == "hostile"


def test_a_plain_parser_refuses_an_encrypted_header():
    envelope = {"encrypted": True, "envelope": {"v": 2}, "format": "medex-practice-backup"}
    parser = ChunkedParser(now=NOW)
    with pytest.raises(BackupError) as caught:
        parser.feed(json.dumps({**envelope, "format_version": 2}))
    assert caught.value.code == "encrypted"


# -- the first format -----------------------------------------------------------------------------


def test_the_first_format_is_still_read():
    stores, chain = practice()
    old = make_backup(stores, chain, {"theme": "plain"}, "0.1.0", NOW)
    assert header_version(old) is None
    backup = parse_any(old, now=NOW)
    assert backup.format_version == 1
    assert by_id(backup.data) == by_id(parse_backup(old, now=NOW).data)
    new = make_chunked_backup(stores, chain, {"theme": "plain"}, "0.2.0", NOW, 4)
    assert by_id(parse_any(new, now=NOW).data) == by_id(backup.data)


def test_the_trailer_signature_is_outside_the_checksum():
    text, *_ = chunked()
    lines = lines_of(text)
    trailer = json.loads(lines[-1])
    signed = {"key_id": "a" * 16, "signature": "b" * 86}
    hashes = trailer["chunk_sha256"]
    lines[-1] = trailer_line(line_hash(lines[0]), hashes, trailer["counts"], 12, signed)
    backup = parse_chunked(joined(lines), now=NOW)
    assert backup.checksum == trailer["checksum"]


# -- the Data screen: export and check with the device's fake ------------------------------------


@pytest.fixture
def app():
    core.load_screens()
    a = core.App(DataRepo(), FilePlatform())
    run(a.repo.save(PracticeProfile(practitioner_name="Dana Reyes", business_name="Reyes")))
    for i in range(30):
        run(
            a.repo.save(
                Client(first_name=f"C{i}", last_name="X", date_of_birth="1950-01-01", sex="female")
            )
        )
    run(a.load())
    a.navigate("#/data")
    return a


def exported(app, passphrase: str = "") -> str:
    data = {"passphrase": passphrase, "passphrase_confirm": passphrase} if passphrase else {}
    run(app.dispatch("export-backup", data))
    [text] = app.platform.files.values()
    return text


def test_the_export_writes_a_chunked_file_page_by_page(app, monkeypatch):
    monkeypatch.setattr("app.backup_files.CHUNK_RECORDS", 7)
    seen: list[str] = []
    # The device writes the whole file in one call and reports progress as it goes.
    app.paint_progress = lambda progress: seen.append(progress["label"])
    text = exported(app)
    assert header_version(text) == 2
    assert len(sections(text)["data"]["clients"]) == 30
    total = sum(len(docs) for docs in sections(text)["data"].values())  # every store's
    assert f"Exporting… 0 of {total} records" in seen
    assert f"Exporting… 14 of {total} records" in seen  # a page at a time
    assert f"Exporting… {total} of {total} records" in seen
    assert any(label.startswith("Exporting the audit log…") for label in seen)
    parts = [json.loads(line) for line in lines_of(text)[1:-1]]
    assert max(len(part.get("records", part.get("audit", []))) for part in parts) == 7
    assert app.state.progress == {}  # gone when done
    assert f"Backup of {total} records downloaded" in app.state.flash
    assert app.repo.audit[-1]["action"] == "export"
    assert audit.verify_chain(app.repo.audit)[0]
    backup = parse_chunked(text)
    assert app.repo.audit[-1]["record_id"] == backup.checksum[:32]
    assert backup.practice_signature is not None  # signed by the practice key


def test_drafts_and_the_undo_snapshot_stay_out_of_the_file(app):
    run(app.repo.set_meta("undo_snapshot", "a whole backup"))
    run(app.repo.set_meta("draft:session", {"pain": "3"}))
    run(app.repo.set_meta("units", "metric"))
    meta = sections(exported(app))["meta"]
    assert meta.get("units") == "metric"
    assert "undo_snapshot" not in meta and "draft:session" not in meta


def test_check_and_restore_of_a_chunked_file_into_an_empty_device(app, monkeypatch):
    monkeypatch.setattr("app.backup_files.CHUNK_RECORDS", 7)
    text = exported(app)
    other = core.App(DataRepo(), FilePlatform())
    run(other.load())
    labels: list[str] = []
    original = other.show_progress

    async def watch(label, done=0, total=0):
        labels.append(label)
        await original(label, done, total)

    other.show_progress = watch
    run(other.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    assert "Checking the backup… 14 records checked" in labels
    assert other.platform.released == 1
    pending = other.state.pending["restore"]
    assert {r["store"]: r["new"] for r in pending["merge"]}["clients"] == 30
    run(other.dispatch("restore-apply", {"mode": "merge"}))
    assert "Backup restored" in other.state.flash
    assert len(run(other.repo.documents("clients"))) == 30


def test_an_encrypted_chunked_file_needs_its_passphrase(app):
    text = exported(app, "correct horse battery")
    assert "C1" not in text.split("\n", 1)[0]
    run(app.dispatch("restore-check", {"backup_file_text": text}))
    assert "encrypted" in app.state.forms["restore"].errors["backup_passphrase"]
    run(
        app.dispatch(
            "restore-check", {"backup_file_text": text, "backup_passphrase": "nope nope nope"}
        )
    )
    assert "does not open" in app.state.forms["restore"].errors["backup_passphrase"]
    run(
        app.dispatch(
            "restore-check",
            {"backup_file_text": text, "backup_passphrase": "correct horse battery"},
        )
    )
    assert "restore" in app.state.pending


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda t: t[: len(t) // 2], "cut off"),
        (lambda t: t.replace('"first_name":"C3"', '"first_name":"C9"'), "checksum does not match"),
        (lambda t: t.replace('"format_version":2', '"format_version":7', 1), "newer version"),
    ],
)
def test_a_damaged_chunked_file_changes_nothing(app, damage, words):
    text = exported(app)
    before = run(app.repo.export_all())
    run(app.dispatch("restore-check", {"backup_file_text": damage(text)}))
    assert words in app.state.pending["restore_error"]["reason"]
    run(app.dispatch("restore-apply", {"mode": "replace", "confirm_replace": "yes"}))
    assert run(app.repo.export_all()) == before
