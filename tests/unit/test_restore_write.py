"""The restore's one write: every record it puts gets exactly the revision and signed marker an
ordinary write would give it, and the undo keeps exactly the fingerprint of what was written,
both made from one canonical text per record (``services.restore.revised_put``); the
repository writes such puts as they are (``revised=True``) instead of revising them again."""

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
from medex.services.restore import restore_write, revised_put
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
    expected = [revisions.put_op(s, d, None, False) for s, d in plan.puts]
    assert [op for op in write.ops if op["store"] != "meta"] == expected
    meta = {op["doc"]["key"]: op["doc"]["value"] for op in write.ops if op["store"] == "meta"}
    assert meta[data.UNDO_CHANGES_KEY] == restore_changes(plan)


def test_a_revised_write_is_stored_as_given_and_an_ordinary_one_is_revised():
    repo = InMemoryRepository()
    op, _ = revised_put("clients", ANA)
    run(repo.write([op], [("restore", "clients", ANA["id"])], revised=True))
    stored = json.loads(repo.stores["clients"][ANA["id"]])
    assert stored["_rev"] == op["doc"]["_rev"] and stored["_rev"].startswith("1-")
    run(repo.write([op], [("restore", "clients", ANA["id"])]))  # revised again: a new revision
    again = json.loads(repo.stores["clients"][ANA["id"]])
    assert again["_rev"].startswith("2-")
