"""The restore's one write: every record it compares with this device's gets exactly the
revision and signed marker an ordinary write would give it, and the undo keeps exactly the
fingerprint of what was written, both made from one canonical text per record
(``services.restore.revised_put``); the repository writes such puts as they are
(``revised=True``) instead of revising them again. A part of the backup none of whose records
this device holds is written whole, as its own text, each record at a first revision that the
undo keeps instead (``services.restore.whole_part``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from medex import revisions
from medex.backup import (
    doc_fingerprint,
    make_backup,
    parse_backup,
    plan_restore,
    restore_changes,
)
from medex.repository import InMemoryRepository
from medex.services import data
from medex.services.restore import restore_write, revised_put, whole_part
from tests.support.aio import run
from tests.support.backups import audit_chain, client_doc, log_doc

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)

ANA = client_doc("Ana", "López")
ZOE = client_doc("Zoë", "Müller", notes="Knee — “careful” on stairs\nnew line \\ back slash")


def documents() -> list[tuple[str, dict]]:
    """Records as a backup holds them: plain and signed, with and without revisions, text
    beyond ASCII, nested lists and numbers."""
    signed = log_doc(ANA["id"], 1, signed=True)
    plain = log_doc(ZOE["id"], 2)
    return [
        ("clients", ANA),
        ("clients", ZOE),
        ("clients", {**ANA, "id": "r1", "_rev": "3-" + "a" * 32}),
        ("clients", {**ZOE, "id": "r2", "_rev": "1-" + "b" * 32, "_signed": False}),
        ("session_logs", signed),
        ("session_logs", {**signed, "id": "s2", "_rev": "2-" + "c" * 32, "_signed": True}),
        ("session_logs", plain),
        ("session_logs", {**plain, "id": "n1", "pain": 2.5, "extra": [1, {"b": None, "a": []}]}),
        ("consents", {"id": "c1", "client_id": ANA["id"], "text": "I agree"}),  # frozen model
        ("goals", {"id": "g1", "items": ["walk 1 km", "stairs"], "signed_by": ""}),
        ("goals", {"id": "g2", "_rev": "", "note": "an empty revision"}),
    ]


@pytest.mark.parametrize(
    ("store", "doc"), documents(), ids=[f"{store}-{i}" for i, (store, _) in enumerate(documents())]
)
def test_a_restored_put_is_the_ordinary_write_and_the_undo_fingerprint(store, doc):
    before = json.dumps(doc, sort_keys=True)
    op, fingerprint = revised_put(store, doc)
    assert op == revisions.put_op(store, doc, None, False)
    assert fingerprint == doc_fingerprint(doc)
    assert fingerprint == doc_fingerprint(op["doc"])  # what the undo finds stored
    assert json.dumps(doc, sort_keys=True) == before  # the backup's record is left alone


def test_a_record_with_another_underscore_field_takes_the_sure_way():
    doc = {"id": "x1", "_note": "left out of the fingerprint, kept in the revision"}
    op, fingerprint = revised_put("goals", doc)
    assert op == revisions.put_op("goals", doc, None, False)
    assert fingerprint == doc_fingerprint(doc)


@pytest.mark.parametrize(
    "value", [datetime(2025, 1, 2, tzinfo=UTC), float("nan")], ids=["datetime", "NaN"]
)
def test_a_record_that_is_not_plain_json_is_refused_as_before(value):
    doc = {"id": "x2", "value": value}
    with pytest.raises((TypeError, ValueError)) as before:
        doc_fingerprint(doc)
    with pytest.raises(before.type):
        revised_put("goals", doc)


def test_the_restore_write_carries_revised_puts_and_the_changes_the_undo_reads():
    here = {"clients": [{**ZOE, "notes": "changed here", "updated_at": "2020-01-01T00:00:00Z"}]}
    logs = [log_doc(ANA["id"], day, signed=day % 2 == 0) for day in range(6)]
    backup = parse_backup(
        make_backup({"clients": [ANA, ZOE], "session_logs": logs}, audit_chain(2), {}, "0", NOW),
        now=NOW,
    )
    dump = {"stores": here, "audit": [], "meta": {}}
    write = restore_write(dump, backup, "merge", "b.json", "Dana", NOW)
    plan = plan_restore(here, backup, "merge", current_audit=[], actor="Dana", now=NOW)
    # The clients' part holds a record this device has (Zoë): compared and revised one by one.
    clients = [(s, d) for s, d in plan.puts if s == "clients"]
    expected = [revisions.put_op(s, d, None, False) for s, d in clients]
    assert [op for op in write.ops if op["store"] != "meta"] == expected
    # The logs' part is new here: written whole, as it came, each at a first revision.
    [part] = write.encoded
    assert part.store == "session_logs" and write.written == len(expected) + len(logs)
    written = part.documents()
    assert [{k: v for k, v in d.items() if k not in ("_rev", "_signed")} for d in written] == [
        d for s, d in plan.puts if s == "session_logs"
    ]
    for doc in written:
        assert doc["_rev"].startswith("1-") and len(doc["_rev"]) == 34
        assert doc.get("_signed", False) == revisions.is_signed_doc("session_logs", doc)
    assert sum(bool(d.get("_signed")) for d in written) == 3
    assert len({d["_rev"] for d in written}) == len(written)
    assert [r["id"] for r in part.refs] == [d["id"] for d in written]
    assert {r["client_id"] for r in part.refs} == {ANA["id"]}
    # The undo reads the fingerprint of each record compared, the revision of each written whole.
    meta = {op["doc"]["key"]: op["doc"]["value"] for op in write.ops if op["store"] == "meta"}
    changes = meta[data.UNDO_CHANGES_KEY]
    assert changes["clients"] == restore_changes(plan)["clients"]
    assert changes["session_logs"] == {d["id"]: d["_rev"] for d in written}


def test_a_part_is_written_whole_only_when_this_device_holds_none_of_its_records():
    logs = [log_doc(ANA["id"], day) for day in range(4)]
    backup = parse_backup(
        make_backup({"clients": [ANA], "session_logs": logs}, audit_chain(1), {}, "0", NOW),
        now=NOW,
    )
    empty = {"stores": {}, "audit": [], "meta": {}}
    whole = restore_write(empty, backup, "merge", "b.json", "Dana", NOW)
    assert {p.store for p in whole.encoded} == {"clients", "session_logs"}
    assert not [op for op in whole.ops if op["store"] != "meta"]
    # The same file, the same revisions (on this device or any other).
    again = restore_write(empty, backup, "merge", "b.json", "Dana", NOW)
    assert [p.revisions for p in again.encoded] == [p.revisions for p in whole.encoded]
    # One log already here: that part is compared record by record.
    here = {"stores": {"session_logs": [logs[2]]}, "audit": [], "meta": {}}
    mixed = restore_write(here, backup, "merge", "b.json", "Dana", NOW)
    assert [p.store for p in mixed.encoded] == ["clients"]
    puts = {d["id"] for s, d in mixed.plan.puts if s == "session_logs"}
    assert puts == {logs[i]["id"] for i in (0, 1, 3)}
    assert mixed.plan.preview.stores["session_logs"].unchanged == 1
    assert mixed.plan.preview.stores["session_logs"].new == 3


def test_a_part_with_a_field_of_the_storage_is_written_record_by_record():
    docs = [{**ANA, "_extra": 1}]
    assert whole_part("clients", json.dumps(docs).encode(), docs) is None
    assert whole_part("clients", json.dumps([ANA]).encode(), [ANA]) is not None


def test_whole_parts_are_stored_as_they_came_with_their_revisions():
    logs = [log_doc(ANA["id"], day, signed=day == 1) for day in range(3)]
    backup = parse_backup(
        make_backup({"clients": [ANA], "session_logs": logs}, audit_chain(1), {}, "0", NOW),
        now=NOW,
    )
    write = restore_write({"stores": {}, "audit": [], "meta": {}}, backup, "merge", "b", "D", NOW)
    repo = InMemoryRepository()
    run(repo.write(write.ops, [("restore", "backup", "x")], revised=True, encoded=write.encoded))
    for part in write.encoded:
        for doc in part.documents():
            assert json.loads(repo.stores[part.store][doc["id"]]) == doc
    assert json.loads(repo.stores["session_logs"][logs[1]["id"]])["_signed"] is True
    assert "_signed" not in json.loads(repo.stores["session_logs"][logs[0]["id"]])


def test_a_revised_write_is_stored_as_given_and_an_ordinary_one_is_revised():
    repo = InMemoryRepository()
    op, _ = revised_put("clients", ANA)
    run(repo.write([op], [("restore", "clients", ANA["id"])], revised=True))
    stored = json.loads(repo.stores["clients"][ANA["id"]])
    assert stored["_rev"] == op["doc"]["_rev"] and stored["_rev"].startswith("1-")
    run(repo.write([op], [("restore", "clients", ANA["id"])]))  # revised again: a new revision
    again = json.loads(repo.stores["clients"][ANA["id"]])
    assert again["_rev"].startswith("2-")
