"""The check keeps, of each part it validated, what a preview and a restore need of it
(``backup.PartFacts``: ids, clients, signature fields, the summaries' projection), so a part
none of whose records this device holds is counted and written whole without being decoded
again; a part holding any record of this device is still compared record by record. With
the facts or without them (a format-1 file), the preview and the write are the same."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pydantic_core
import pytest

from app import core
from medex import backup as backup_module
from medex.backup_stream import ChunkedParser, make_chunked_backup
from medex.intake import Client
from medex.records import PracticeProfile
from medex.repository import InMemoryRepository
from medex.services import restore as restore_module
from medex.services.restore import part_projection, restore_preview, restore_write
from medex.services.summaries import projected, projection_json
from medex.session_logs import SessionLog, SessionLogSummary
from medex.signing import SignatureCheck
from tests.support.aio import run
from tests.support.backups import audit_chain, client_doc, log_doc
from tests.support.fakes import DataRepo, FilePlatform

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
ANA = client_doc("Ana", "López")
BEN = client_doc("Ben", "Okafor")
LOGS = [
    log_doc(client["id"], day, signed=day % 3 == 0) for client in (ANA, BEN) for day in range(5)
]


def checked(stores: dict[str, list[dict]], *, project=part_projection):
    """The file the app writes (parts of 3 records), checked as the Data screen checks it."""
    text = make_chunked_backup(stores, audit_chain(2), {}, "0.1.0", NOW, chunk_records=3)
    parser = ChunkedParser(now=NOW, project=project)
    for line in text.split("\n"):
        if line or parser.header is None:
            parser.feed(line)
    return parser.finish()


def without_facts(backup):
    return dataclasses.replace(backup, facts={})


def dump(stores: dict[str, list[dict]] | None = None) -> dict:
    return {"stores": stores or {}, "audit": [], "meta": {}}


def test_the_check_takes_each_part_facts_from_its_checked_text():
    backup = checked({"clients": [ANA, BEN], "session_logs": LOGS})
    assert set(backup.facts) == {"clients", "session_logs"}
    for store, parts in backup.parts.items():
        assert len(backup.facts[store]) == len(parts)
        for part, facts in zip(parts, backup.facts[store], strict=True):
            docs = pydantic_core.from_json(part)
            assert facts.ids == [d["id"] for d in docs]
            assert facts.client_ids == [d.get("client_id") or "" for d in docs]
            assert facts.signed == [bool(d.get("signature")) for d in docs]
            if store == "session_logs":
                assert facts.projected == [projection_json(store, d) for d in docs]
                # What the summaries read of each record, as its projection makes it of the whole.
                assert projected(store, facts.projected) == [
                    SessionLogSummary.model_validate(d) for d in docs
                ]
            else:
                assert facts.projected is None  # the summaries read no client record
    assert sum(f.signed.count(True) for f in backup.facts["session_logs"]) == 4


def test_the_check_reads_the_facts_from_the_records_it_validated_not_its_text_again(monkeypatch):
    """Each part's JSON is decoded once (its line); the facts of its checked text come from
    the records that text is the dump of, and equal what decoding that text gives."""
    decoded: list[type] = []
    original = pydantic_core.from_json

    def counting(data, *args, **kwargs):
        decoded.append(type(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(pydantic_core, "from_json", counting)
    backup = checked({"clients": [ANA, BEN], "session_logs": LOGS})
    monkeypatch.undo()
    assert decoded and bytes not in decoded  # the lines (str), never a checked part's text
    for store, parts in backup.parts.items():
        for part, facts in zip(parts, backup.facts[store], strict=True):
            plain = backup_module.part_facts(store, part, part_projection)
            assert facts == plain


def test_into_a_new_device_the_preview_and_the_restore_decode_no_part_again(monkeypatch):
    backup = checked({"clients": [ANA, BEN], "session_logs": LOGS})
    expected_preview = restore_preview(dump(), without_facts(backup), "b", SignatureCheck.UNKEYED)
    expected = restore_write(dump(), without_facts(backup), "merge", "b", "Dana", NOW)

    def refuse(*args, **kwargs):
        raise AssertionError("a checked part was decoded again")

    monkeypatch.setattr(backup_module.pydantic_core, "from_json", refuse)
    monkeypatch.setattr(restore_module, "from_json", refuse)
    preview = restore_preview(dump(), backup, "b", SignatureCheck.UNKEYED)
    write = restore_write(dump(), backup, "merge", "b", "Dana", NOW)
    monkeypatch.undo()

    assert {k: v for k, v in preview.items() if k != "backup"} == {
        k: v for k, v in expected_preview.items() if k != "backup"
    }
    assert preview["merge"] == expected_preview["merge"]
    assert write.written == expected.written == len(LOGS) + 2
    assert write.encoded == expected.encoded  # the same texts, revisions, signed markers, refs
    assert write.projected == expected.projected
    assert write.ops == expected.ops  # the backup's meta and the undo's changes
    signed = [part.documents() for part in write.encoded if part.store == "session_logs"]
    marked = {d["id"] for docs in signed for d in docs if d.get("_signed")}
    assert marked == {d["id"] for d in LOGS if d.get("signature")}


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_a_part_holding_a_record_of_this_device_is_still_compared(mode):
    backup = checked({"clients": [ANA, BEN], "session_logs": LOGS})
    here_log = {**LOGS[4], "notes": "changed on this device", "updated_at": "2030-01-01T00:00:00Z"}
    only_here = log_doc(ANA["id"], 40)
    here = {"clients": [ANA], "session_logs": [here_log, only_here]}
    with_facts = restore_write(dump(here), backup, mode, "b", "Dana", NOW)
    plain = restore_write(dump(here), without_facts(backup), mode, "b", "Dana", NOW)
    assert with_facts.plan.preview == plain.plan.preview
    assert with_facts.plan.puts == plain.plan.puts and with_facts.plan.deletes == plain.plan.deletes
    assert with_facts.encoded == plain.encoded and with_facts.ops == plain.ops
    assert with_facts.projected == plain.projected
    # The part holding the log changed here was compared, not written whole.
    whole_ids = {ref["id"] for part in with_facts.encoded for ref in part.refs}
    assert LOGS[4]["id"] not in whole_ids and ANA["id"] not in whole_ids
    assert with_facts.plan.preview.stores["clients"].unchanged == 1
    previews = [
        restore_preview(dump(here), b, "b", SignatureCheck.UNKEYED)[mode]
        for b in (backup, without_facts(backup))
    ]
    assert previews[0] == previews[1]


def test_facts_without_a_projection_still_give_the_summaries_their_records():
    backup = checked({"clients": [ANA], "session_logs": LOGS}, project=None)
    assert all(f.projected is None for f in backup.facts["session_logs"])
    write = restore_write(dump(), backup, "merge", "b", "Dana", NOW)
    expected = restore_write(dump(), without_facts(backup), "merge", "b", "Dana", NOW)
    assert write.projected == expected.projected
    assert len(write.projected["session_logs"]) == len(LOGS)


def test_a_restore_written_from_facts_is_stored_as_the_backup_holds_it():
    backup = checked({"clients": [ANA, BEN], "session_logs": LOGS})
    write = restore_write(dump(), backup, "merge", "b", "Dana", NOW)
    repo = InMemoryRepository()
    run(repo.write(write.ops, [("restore", "backup", "x")], revised=True, encoded=write.encoded))
    stored = {
        record_id: pydantic_core.from_json(text)
        for record_id, text in repo.stores["session_logs"].items()
    }
    assert set(stored) == {d["id"] for d in LOGS}
    for docs in map(pydantic_core.from_json, backup.parts["session_logs"]):
        for doc in docs:
            kept = {k: v for k, v in stored[doc["id"]].items() if k not in ("_rev", "_signed")}
            assert kept == doc
            assert stored[doc["id"]].get("_signed", False) is bool(doc.get("signature"))


# -- the parts' text kept by the device (the Data screen) ----------------------------------------


def _practice_backup() -> str:
    """A practice's backup as the Data screen exports it."""
    core.load_screens()
    source = core.App(DataRepo(), FilePlatform())
    run(source.repo.save(PracticeProfile(business_name="Reyes", practitioner_name="Dana Reyes")))
    for i in range(4):
        client = Client.model_validate(client_doc(f"Ana{i}", "López"))
        logs = [
            SessionLog.model_validate(log_doc(client.id, day=d, signed=d == 1)) for d in range(3)
        ]
        run(source.repo.save(client, *logs))
    run(source.load())
    source.navigate("#/data")
    run(source.dispatch("export-backup", {}))
    [text] = [t for name, t in source.platform.files.items() if name.endswith(".json")]
    return text


def _checked_app(text: str, repo: DataRepo | None = None) -> core.App:
    app = core.App(repo or DataRepo(), FilePlatform())
    run(app.load())
    app.navigate("#/data")
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    return app


def test_the_checked_parts_are_kept_by_the_device_not_in_python_and_let_go_once_restored():
    app = _checked_app(_practice_backup())
    backup = app.state.pending["restore"]["backup"]
    kept = app.platform.kept
    parts = [part for store_parts in backup.parts.values() for part in store_parts]
    assert parts and not any(isinstance(part, bytes) for part in parts)
    assert sorted(kept) == sorted(part.number for part in parts)
    del backup, parts
    run(app.dispatch("restore-apply", {"mode": "merge"}))
    assert "Backup restored" in app.state.flash
    assert kept == {}  # let go with the checked backup
    assert len(run(app.repo.list(SessionLog))) == 12
    signed = [log for log in run(app.repo.list(SessionLog)) if log.signature is not None]
    assert len(signed) == 4


def test_a_cancelled_or_refused_check_lets_the_kept_parts_go():
    text = _practice_backup()
    app = _checked_app(text)
    assert app.platform.kept
    run(app.dispatch("restore-cancel", {}))
    assert app.platform.kept == {}
    edited = text.replace("Ana2", "Anna", 1)  # a part edited after the file was made
    assert edited != text
    refused = _checked_app(edited)
    assert "restore" not in refused.state.pending
    assert "checksum" in refused.state.pending["restore_error"]["reason"]
    assert refused.platform.kept == {}


def test_a_kept_part_holding_a_record_of_this_device_is_read_back_and_compared():
    text = _practice_backup()
    app = _checked_app(text)
    run(app.dispatch("restore-apply", {"mode": "merge"}))
    # The same file again over what it restored: every part holds records of this device.
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    run(app.dispatch("restore-apply", {"mode": "merge"}))
    assert "0 new" in app.state.flash and "unchanged" in app.state.flash
    assert app.platform.kept == {}


def test_the_projection_is_kept_as_json_of_what_the_summaries_read():
    assert part_projection("clients", [ANA]) is None  # the summaries read no client record
    [made] = part_projection("session_logs", [LOGS[0]]) or []
    assert isinstance(made, bytes)  # not a model: a fraction of its memory
    read = pydantic_core.from_json(made)
    assert set(read) <= set(SessionLogSummary.model_fields)
    assert "exercises" not in read and "notes" not in read
    [model] = projected("session_logs", [made])
    assert model == SessionLogSummary.model_validate(LOGS[0])
