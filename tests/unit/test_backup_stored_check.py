"""Checking a backup's records with the stored-document validator (``records.
stored_document_schema``): the record types' own checks without a Python call per text field,
id or timestamp, for documents as this app stores them.

It must make exactly the records the record types make of every document it accepts (the demo
practice, every store); a document it refuses goes to the record type itself, so an id or a
time written another way is still read as before; and a text holding a control character —
which the record types remove from typed text, so no saved record holds one — is refused,
naming the record and the field, in both file formats, instead of being changed without a word.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime

import pydantic_core
import pytest
from pydantic import TypeAdapter, ValidationError

from medex.backup import (
    CONTROL_MESSAGE,
    BackupError,
    RecordChecker,
    _stored_validator,
    make_backup,
    parse_backup,
)
from medex.backup_stream import make_chunked_backup, parse_chunked
from medex.intake import Client
from medex.migrations import MIGRATIONS
from medex.records import CONTROL_FREE, stored_document_schema
from medex.revisions import content_of
from medex.session_logs import SessionLog
from tests.support.backups import audit_chain, client_doc, log_doc
from tests.support.fakes import DataRepo, FakeSigner
from tests.support.seeders import seed_demo_practice

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 9)


@pytest.fixture(scope="module")
def demo_docs() -> dict[str, list[dict]]:
    """Every stored document of the demo practice, as stored (with ``_rev``), by store."""
    repo = DataRepo()
    seed_demo_practice(repo, TODAY, signer=FakeSigner())
    return {
        store: [json.loads(text) for text in docs.values()]
        for store, docs in repo.stores.items()
        if docs and MIGRATIONS.is_known_store(store)
    }


def practice(**log_changes) -> tuple[dict[str, list[dict]], list[dict]]:
    ada = client_doc()
    logs = [log_doc(ada["id"], i, signed=i == 0) for i in range(6)]
    logs[3] = {**logs[3], **log_changes}
    return {"clients": [ada], "session_logs": logs}, audit_chain(3)


def chunked_refusal(stores: dict, chain: list) -> BackupError:
    text = make_chunked_backup(stores, chain, {}, "0.2.0", NOW, chunk_records=4)
    with pytest.raises(BackupError) as caught:
        parse_chunked(text, now=NOW)
    return caught.value


# -- the same records, for every document this app stores ---------------------------------------


def test_every_stored_document_of_the_demo_practice_passes_and_makes_the_same_record(demo_docs):
    checked = 0
    for store, docs in demo_docs.items():
        for doc in docs:
            model = MIGRATIONS.model_for(store, doc)
            context = {"today": TODAY}
            expected = model.model_validate(doc, context=context).model_dump(mode="json")
            record = _stored_validator(model, many=False).validate_python(
                content_of(doc), context=context
            )
            assert type(record) is model
            assert record.model_dump(mode="json") == expected, (store, doc["id"])
            checked += 1
    assert checked > 100 and {"clients", "session_logs", "assessments"} <= set(demo_docs)


def test_a_part_of_stored_documents_makes_no_python_call_per_text_id_or_time(demo_docs):
    calls: list[str] = []

    def count(frame, event, _arg):
        if event == "call" and frame.f_code.co_name in (
            "_no_control_chars",
            "_id_is_uuid",
            "_same_moment_when_new",
            "_stored_revision",
        ):
            calls.append(frame.f_code.co_name)

    checker = RecordChecker(MIGRATIONS, TODAY)
    docs = [dict(d) for d in demo_docs["session_logs"]]
    # The record type's own validator built first, as in the app (pydantic-core would reuse
    # it for the stored validator's schema if it were not kept out), and ours outside the count.
    SessionLog.model_validate(content_of(docs[0]), context=checker.context)
    checker.check_part("session_logs", docs[:1])
    sys.setprofile(count)
    try:
        part = checker.check_part("session_logs", docs)
    finally:
        sys.setprofile(None)
    assert calls == []
    assert not checker.problems
    expected = TypeAdapter(list[SessionLog]).validate_python(
        demo_docs["session_logs"], context=checker.context
    )
    assert pydantic_core.from_json(part) == [r.model_dump(mode="json") for r in expected]


def test_the_storage_fields_are_not_part_of_the_checked_records(demo_docs):
    docs = [dict(d) for d in demo_docs["clients"]]
    assert all("_rev" in d for d in docs)
    checker = RecordChecker(MIGRATIONS, TODAY)
    out = pydantic_core.from_json(checker.check_part("clients", docs))
    assert [d["id"] for d in out] == [d["id"] for d in docs]
    assert not any(k.startswith("_") for d in out for k in d)


# -- what the stored validator refuses, the record type still decides --------------------------


def test_an_id_written_another_way_is_still_read_and_stored_in_its_usual_form():
    stores, chain = practice()
    upper = stores["session_logs"][3]["id"].upper()
    stores["session_logs"][3] = {**stores["session_logs"][3], "id": upper}
    text = make_chunked_backup(stores, chain, {}, "0.2.0", NOW, chunk_records=4)
    parsed = parse_chunked(text, now=NOW)
    ids = {d["id"] for d in parsed.data["session_logs"]}
    assert upper.lower() in ids and upper not in ids
    with pytest.raises(ValidationError):
        _stored_validator(SessionLog, many=False).validate_python(stores["session_logs"][3])


def test_a_record_without_its_update_time_is_read_as_updated_when_created():
    stores, chain = practice()
    doc = dict(stores["clients"][0])
    del doc["updated_at"]
    stores["clients"] = [doc]
    parsed = parse_chunked(
        make_chunked_backup(stores, chain, {}, "0.2.0", NOW, chunk_records=4), now=NOW
    )
    (client,) = parsed.data["clients"]
    assert client["updated_at"] == client["created_at"]


def test_a_bad_value_is_named_as_before_with_the_record_types_own_message():
    stores, chain = practice(pain=14)
    error = chunked_refusal(stores, chain)
    assert error.code == "invalid-records"
    assert [(p.store, p.id, p.field) for p in error.problems] == [
        ("session_logs", stores["session_logs"][3]["id"], "pain")
    ]


# -- a control character in a backup's text ----------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\r"])
def test_a_control_character_in_a_note_is_refused_naming_the_record_and_field(char):
    stores, chain = practice(response_notes=f"Completed all sets{char}; steadier.")
    error = chunked_refusal(stores, chain)
    assert error.code == "invalid-records"
    assert [(p.store, p.id, p.field, p.message) for p in error.problems] == [
        ("session_logs", stores["session_logs"][3]["id"], "response_notes", CONTROL_MESSAGE)
    ]
    assert "1 problem found" in error.reason and "nothing was restored" in error.reason


def test_a_tab_or_a_line_break_in_a_note_is_kept():
    stores, chain = practice(response_notes="Sets:\t2\nReps:\t10")
    text = make_chunked_backup(stores, chain, {}, "0.2.0", NOW, chunk_records=4)
    logs = {d["id"]: d for d in parse_chunked(text, now=NOW).data["session_logs"]}
    assert logs[stores["session_logs"][3]["id"]]["response_notes"] == "Sets:\t2\nReps:\t10"


def test_a_control_character_deep_in_a_record_is_named_with_its_path():
    stores, chain = practice()
    log = stores["session_logs"][3]
    exercises = [dict(e) for e in log["exercises"]] or [
        {"exercise_id": log["client_id"], "exercise_name": "Sit-to-stand", "sets": 2, "reps": 10}
    ]
    exercises[0]["exercise_name"] = "Sit\x08-to-stand"
    stores["session_logs"][3] = {**log, "exercises": exercises}
    error = chunked_refusal(stores, chain)
    assert [(p.id, p.field, p.message) for p in error.problems] == [
        (log["id"], "exercises.0.exercise_name", CONTROL_MESSAGE)
    ]


def test_control_characters_and_other_problems_of_one_part_are_each_named_once():
    stores, chain = practice(response_notes="ok\x01", pain=14)
    stores["clients"][0] = {**stores["clients"][0], "notes": "walks\x02 with a cane"}
    error = chunked_refusal(stores, chain)
    named = sorted((p.store, p.field, p.message == CONTROL_MESSAGE) for p in error.problems)
    assert named == [
        ("clients", "notes", True),
        ("session_logs", "pain", False),
        ("session_logs", "response_notes", True),
    ]
    assert error.total_problems == 3


def test_a_control_character_in_a_signed_log_is_refused_too():
    stores, chain = practice()
    signed = next(d for d in stores["session_logs"] if d.get("signature"))
    stores["session_logs"] = [
        {**d, "plan_next": d.get("plan_next", "") + "\x03"} if d is signed else d
        for d in stores["session_logs"]
    ]
    error = chunked_refusal(stores, chain)
    assert (signed["id"], "plan_next", CONTROL_MESSAGE) in [
        (p.id, p.field, p.message) for p in error.problems
    ]


def test_a_control_character_is_refused_in_a_first_format_file_too():
    stores, chain = practice()
    stores["clients"][0] = {**stores["clients"][0], "last_name": "Love\x0clace"}
    with pytest.raises(BackupError) as caught:
        parse_backup(make_backup(stores, chain, {}, "0.1.0", NOW), now=NOW)
    assert [(p.store, p.field, p.message) for p in caught.value.problems] == [
        ("clients", "last_name", CONTROL_MESSAGE)
    ]


def test_typed_text_still_has_its_control_characters_removed():
    client = Client.model_validate(
        {**client_doc(), "notes": "  walks\x07 with\x1b a cane\t(left)  "}
    )
    assert client.notes == "walks with a cane\t(left)"
    log = SessionLog.model_validate(log_doc(client.id, 1) | {"response_notes": "a\x00b"})
    assert log.response_notes == "ab"


# -- the schema transformation itself ----------------------------------------------------------


def test_the_stored_schema_refuses_exactly_what_the_text_types_would_change():
    adapter = TypeAdapter(SessionLog)
    adapter.rebuild()
    text = json.dumps(stored_document_schema(adapter.core_schema), default=repr)
    assert "_no_control_chars" not in text and json.dumps(CONTROL_FREE) in text
    for ch in map(chr, range(0x80)):
        refused = ch not in "\t\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F)
        doc = log_doc(client_doc()["id"], 1) | {"plan_next": f"a{ch}b"}
        try:
            _stored_validator(SessionLog, many=False).validate_python(doc)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted is not refused, repr(ch)
