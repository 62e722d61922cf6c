"""Backup files and restore planning (medex.backup): nothing bad gets written, nothing is lost."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime

import pytest

from medex import audit
from medex.backup import (
    FORMAT,
    MAX_DOC_BYTES,
    MAX_PROBLEMS,
    BackupError,
    Progress,
    canonical_json,
    checksum_of,
    is_encrypted,
    iter_parse_backup,
    make_backup,
    parse_backup,
    plan_restore,
    plan_undo,
    preview_restore,
    snapshot_for_undo,
)
from tests.support.backups import T0, apply, audit_chain, client_doc, log_doc

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
HOSTILE = [
    "<script>alert(1)</script>",
    "{{ 7*7 }} {% raw %}",
    '=HYPERLINK("http://x")',
    "\u202eevil\u202c 😀 مرحبا",
    "Robert'); DROP TABLE clients;--",
]


def sample_stores() -> dict[str, list[dict]]:
    a = client_doc()
    b = client_doc("Grace", "Hopper", notes=" | ".join(HOSTILE))
    return {
        "clients": [a, b],
        "session_logs": [log_doc(a["id"], 0, signed=True), log_doc(b["id"], 1)],
    }


def backup_text(stores=None, chain=None, meta=None) -> str:
    return make_backup(
        stores if stores is not None else sample_stores(),
        chain if chain is not None else audit_chain(3),
        meta if meta is not None else {"last_backup_at": "2025-05-01T00:00:00Z"},
        "0.1.0",
        NOW,
    )


def reseal(doc: dict) -> str:
    """Re-compute the counts and checksum after an edit, as a forger would."""
    doc["counts"] = {s: len(d) for s, d in doc["data"].items()}
    doc["audit_count"] = len(doc["audit"])
    doc["checksum"] = checksum_of(doc["data"], doc["audit"], doc["meta"])
    return canonical_json(doc)


def refused(text, code: str) -> BackupError:
    with pytest.raises(BackupError) as info:
        parse_backup(text, now=NOW)
    assert info.value.code == code, info.value.reason
    return info.value


# --- format ----------------------------------------------------------------------------


def test_backup_header_carries_format_version_app_version_counts_and_checksum():
    doc = json.loads(backup_text())
    assert doc["format"] == FORMAT == "medex-practice-backup"
    assert doc["format_version"] == 1
    assert doc["app_version"] == "0.1.0"
    assert doc["created_at"] == "2025-06-01T09:00:00Z"
    assert doc["encrypted"] is False
    assert doc["counts"] == {"clients": 2, "session_logs": 2}
    assert doc["audit_count"] == 3
    payload = canonical_json({"audit": doc["audit"], "data": doc["data"], "meta": doc["meta"]})
    assert doc["checksum"] == hashlib.sha256(payload.encode()).hexdigest()


def test_backup_text_is_canonical_so_the_same_data_gives_the_same_file():
    stores = sample_stores()
    shuffled = {k: list(reversed(v)) for k, v in reversed(list(stores.items()))}
    assert backup_text(stores) == backup_text(shuffled)
    assert backup_text().isascii()


def test_round_trip_gives_back_every_document_identical():
    stores = sample_stores()
    chain = audit_chain(3)
    parsed = parse_backup(backup_text(stores, chain), now=NOW)
    for store, docs in stores.items():
        assert sorted(parsed.data[store], key=lambda d: d["id"]) == sorted(
            docs, key=lambda d: d["id"]
        )
    assert parsed.audit == chain
    assert parsed.meta == {"last_backup_at": "2025-05-01T00:00:00Z"}
    assert parsed.upgraded == {}
    # …and exporting the restored data again gives the same file.
    assert backup_text(parsed.data, parsed.audit, parsed.meta) == backup_text(stores, chain)


def test_hostile_text_is_accepted_as_inert_text_and_round_trips():
    parsed = parse_backup(backup_text(), now=NOW)
    notes = [c["notes"] for c in parsed.data["clients"] if c["notes"]]
    assert notes == [" | ".join(HOSTILE)]


def test_bytes_with_a_utf8_bom_are_read():
    text = backup_text()
    assert parse_backup(("\ufeff" + text).encode("utf-8"), now=NOW).total == 4


def test_progress_is_reported_and_the_result_is_the_generator_value():
    steps = iter_parse_backup(backup_text(), now=NOW)
    seen = []
    while True:
        try:
            seen.append(next(steps))
        except StopIteration as stop:
            result = stop.value
            break
    assert all(isinstance(p, Progress) for p in seen)
    assert next(p.stage for p in seen) == "reading"
    assert seen[-1].stage == "audit"
    assert result.total == 4


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        (b"\xff\xfe\x00garbage", "not-text"),
        ("hello, this is a letter", "not-json"),
        ("[" * 100_000 + "]" * 100_000, "hostile"),
        ('{"format": "medex-practice-backup", "data": {nope}', "not-json"),
        ("[1, 2, 3]", "foreign"),
        ('{"name": "someone else\'s export"}', "foreign"),
        ('{"format": "other-app-backup", "format_version": 1}', "foreign"),
        ('{"format": "medex-practice-backup", "format_version": "1"}', "foreign"),
    ],
)
def test_files_that_are_not_backups_are_refused_with_a_reason(text, code):
    """Empty, binary, non-JSON, hostile nesting and foreign JSON are all refused."""
    error = refused(text, code)
    assert error.reason


@pytest.mark.parametrize("keep", [0.99, 0.5, 0.1])
def test_a_truncated_file_is_refused_as_cut_off(keep):
    text = backup_text()
    error = refused(text[: int(len(text) * keep)], "truncated")
    assert "cut off" in error.reason


def test_a_newer_format_version_is_refused_asking_to_update():
    doc = json.loads(backup_text())
    doc["format_version"] = 2
    error = refused(canonical_json(doc), "newer-format")
    assert "newer version" in error.reason and "Update the app" in error.reason


def test_an_encrypted_envelope_is_recognised_and_sent_back_for_the_passphrase():
    envelope = {
        "format": FORMAT,
        "format_version": 1,
        "encrypted": True,
        "envelope": {"v": 1, "kdf": "PBKDF2-SHA256", "params": {}, "salt": "", "iv": "", "ct": ""},
    }
    text = json.dumps(envelope)
    assert is_encrypted(text) and not is_encrypted(backup_text())
    assert "passphrase" in refused(text, "encrypted").reason


def test_a_changed_byte_in_a_record_fails_the_checksum():
    text = backup_text().replace("Lovelace", "Lovelacf")
    assert "checksum" in refused(text, "checksum").reason


def test_a_changed_meta_value_fails_the_checksum():
    text = backup_text().replace("2025-05-01T00:00:00Z", "2025-05-02T00:00:00Z")
    refused(text, "checksum")


def test_a_missing_record_is_reported_as_a_count_mismatch():
    doc = json.loads(backup_text())
    doc["data"]["clients"].pop()
    error = refused(canonical_json(doc), "counts")
    assert "holds 2 clients records but contains 1" in error.reason


def test_a_missing_section_is_refused_as_incomplete():
    doc = json.loads(backup_text())
    del doc["audit"]
    refused(canonical_json(doc), "incomplete")


def test_an_unknown_record_type_is_refused():
    doc = json.loads(backup_text())
    doc["data"]["spaceships"] = [{"id": "x"}]
    error = refused(reseal(doc), "unknown-store")
    assert "spaceships" in error.reason


def test_an_empty_list_for_an_unknown_store_is_harmless():
    doc = json.loads(backup_text())
    doc["data"]["not_modelled_yet"] = []
    assert parse_backup(reseal(doc), now=NOW).total == 4


def test_a_record_from_a_newer_app_is_refused_with_the_update_message():
    doc = json.loads(backup_text())
    doc["data"]["clients"][0]["schema_version"] = 3
    error = refused(reseal(doc), "newer-records")
    assert error.reason == (
        "This backup was made by a newer version of MedEx Practice (record version 3; this "
        "app reads up to 1). Update the app first."
    )


def test_invalid_records_are_listed_with_store_id_and_field():
    doc = json.loads(backup_text())
    bad = doc["data"]["clients"][0]
    bad["date_of_birth"] = "2030-01-01"  # in the future
    del doc["data"]["clients"][1]["first_name"]
    error = refused(reseal(doc), "invalid-records")
    found = {(p.store, p.id, p.field) for p in error.problems}
    assert ("clients", bad["id"], "date_of_birth") in found
    assert ("clients", doc["data"]["clients"][1]["id"], "first_name") in found
    assert any("cannot be in the future" in p.message for p in error.problems)


def test_the_problem_list_is_capped_but_the_total_is_counted():
    stores = {"clients": [client_doc(f"C{i}", "X") for i in range(MAX_PROBLEMS + 10)]}
    doc = json.loads(backup_text(stores, []))
    for c in doc["data"]["clients"]:
        c["sex"] = "robot"
    error = refused(reseal(doc), "invalid-records")
    assert len(error.problems) == MAX_PROBLEMS
    assert error.total_problems == MAX_PROBLEMS + 10
    assert error.reason.startswith(f"{MAX_PROBLEMS + 10} problems")


def test_a_signed_log_edited_in_the_file_fails_its_signature_even_with_a_new_checksum():
    doc = json.loads(backup_text())
    signed = next(d for d in doc["data"]["session_logs"] if d["signature"])
    signed["pain"] = 9
    error = refused(reseal(doc), "invalid-records")
    assert [(p.id, p.field) for p in error.problems] == [(signed["id"], "signature")]


def test_an_oversize_record_is_refused(monkeypatch):
    import medex.backup as backup_module

    monkeypatch.setattr(backup_module, "MAX_DOC_BYTES", 2_000)
    stores = sample_stores()
    stores["clients"][0]["notes"] = "x" * 3_000  # would also fail the model, but size first
    error = refused(backup_text(stores), "oversize")
    assert stores["clients"][0]["id"] in error.reason
    assert MAX_DOC_BYTES == 10_000_000


def test_duplicate_ids_in_a_store_are_refused():
    stores = sample_stores()
    stores["clients"].append(dict(stores["clients"][0]))
    refused(backup_text(stores), "duplicate-id")


def test_a_tampered_audit_log_is_refused():
    doc = json.loads(backup_text())
    doc["audit"][1]["actor"] = "Someone Else"
    error = refused(reseal(doc), "audit")
    assert "Audit entry 2 has been altered" in error.reason


def test_a_removed_audit_entry_is_refused():
    doc = json.loads(backup_text())
    del doc["audit"][0]
    refused(reseal(doc), "audit")


def test_nan_is_not_valid_json_in_a_backup():
    text = backup_text().replace('"pain":2', '"pain":NaN', 1)
    refused(text, "not-json")


# --- preview and plan ------------------------------------------------------------------


def current_and_backup():
    stores = sample_stores()
    backup = parse_backup(backup_text(stores), now=NOW)
    return stores, backup


def test_restoring_onto_an_empty_device_writes_everything_and_adopts_the_audit_log():
    stores, backup = current_and_backup()
    preview = preview_restore({}, backup)
    assert preview.stores["clients"].new == 2 and preview.stores["session_logs"].new == 2
    plan = plan_restore({}, backup, now=NOW)
    assert sorted(d["id"] for _, d in plan.puts) == sorted(
        d["id"] for docs in stores.values() for d in docs
    )
    assert plan.deletes == []
    assert [e["seq"] for e in plan.audit] == [1, 2, 3, 4]
    assert plan.audit[-1]["action"] == "restore"
    assert audit.verify_chain(plan.audit)[0]


def test_preview_counts_new_changed_unchanged_and_only_here():
    stores, backup = current_and_backup()
    current = copy.deepcopy(stores)
    current["clients"][0]["notes"] = "edited before the backup was restored"
    current["clients"][0]["updated_at"] = "2025-01-01T00:00:00Z"  # older than the backup's
    current["clients"].append(client_doc("Only", "Here"))
    del current["session_logs"][1]
    p = preview_restore(current, backup)
    assert (p.stores["clients"].new, p.stores["clients"].changed) == (0, 1)
    assert (p.stores["clients"].unchanged, p.stores["clients"].only_here) == (1, 1)
    assert (p.stores["session_logs"].new, p.stores["session_logs"].unchanged) == (1, 1)
    assert p.conflicts == []


def test_merge_keeps_records_only_on_this_device_and_replace_deletes_them():
    stores, backup = current_and_backup()
    extra = client_doc("Only", "Here")
    current = {**stores, "clients": [*stores["clients"], extra]}
    merge = plan_restore(current, backup, "merge", now=NOW)
    assert merge.puts == [] and merge.deletes == []
    replace = plan_restore(current, backup, "replace", now=NOW)
    assert replace.deletes == [("clients", extra["id"])]


def test_merge_keeps_a_copy_changed_on_this_device_after_the_backup_replace_takes_the_backup():
    stores, backup = current_and_backup()
    current = copy.deepcopy(stores)
    current["clients"][0]["notes"] = "newer note"
    current["clients"][0]["updated_at"] = "2025-07-01T00:00:00Z"
    merge = plan_restore(current, backup, "merge", now=NOW)
    assert merge.puts == []
    assert [(c.id, c.kind) for c in merge.skipped] == [(current["clients"][0]["id"], "newer_here")]
    replace = plan_restore(current, backup, "replace", now=NOW)
    assert [d["id"] for _, d in replace.puts] == [current["clients"][0]["id"]]


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_a_signed_log_is_never_overwritten_by_different_content(mode):
    stores, _ = current_and_backup()
    signed_here = next(d for d in stores["session_logs"] if d["signature"])
    # The backup holds a different signed log under the same id (signed later, other content).
    other = log_doc(
        signed_here["client_id"], 0, signed=True, id=signed_here["id"], response_notes="Other"
    )
    backup = parse_backup(backup_text({"session_logs": [other]}), now=NOW)
    plan = plan_restore(stores, backup, mode, now=NOW)
    assert all(d["id"] != signed_here["id"] for _, d in plan.puts)
    assert [(c.store, c.id, c.kind) for c in plan.skipped] == [
        ("session_logs", signed_here["id"], "signed")
    ]
    assert "never overwritten" in plan.skipped[0].reason
    if mode == "replace":  # the other signed log, absent from the backup, is not deleted
        assert ("session_logs", signed_here["id"]) not in plan.deletes


def test_a_signed_log_missing_from_the_backup_is_kept_by_replace():
    stores, _ = current_and_backup()
    signed_here = next(d for d in stores["session_logs"] if d["signature"])
    unsigned_here = next(d for d in stores["session_logs"] if not d["signature"])
    backup = parse_backup(backup_text({"clients": stores["clients"]}), now=NOW)
    plan = plan_restore(stores, backup, "replace", now=NOW)
    assert ("session_logs", signed_here["id"]) in plan.kept_signed
    assert plan.deletes == [("session_logs", unsigned_here["id"])]


def test_a_signed_log_resaved_with_only_a_new_updated_at_is_unchanged():
    stores, backup = current_and_backup()
    current = copy.deepcopy(stores)
    signed = next(d for d in current["session_logs"] if d["signature"])
    signed["updated_at"] = "2025-05-30T00:00:00Z"
    p = preview_restore(current, backup)
    assert p.conflicts == [] and p.stores["session_logs"].unchanged == 2


def test_an_unsigned_draft_here_is_replaced_by_the_signed_log_from_the_backup():
    stores, backup = current_and_backup()
    current = copy.deepcopy(stores)
    signed = next(d for d in current["session_logs"] if d["signature"])
    signed["signature"] = None
    signed["updated_at"] = "2025-05-30T00:00:00Z"  # even though the draft is newer
    plan = plan_restore(current, backup, now=NOW)
    assert [d["id"] for _, d in plan.puts] == [signed["id"]]


def test_operations_are_one_transaction_in_the_store_js_shape():
    _stores, backup = current_and_backup()
    extra = client_doc("Only", "Here")
    plan = plan_restore({"clients": [extra]}, backup, "replace", now=NOW)
    ops = plan.operations()
    assert {"store": "clients", "delete": extra["id"]} in ops
    assert sum(1 for op in ops if op["store"] == "audit") == 4
    assert all(set(op) in ({"store", "doc"}, {"store", "delete"}) for op in ops)


def test_audit_from_another_history_is_kept_apart_and_a_restore_entry_appended():
    _, backup = current_and_backup()
    mine = [
        audit.append([], {"actor": "Other", "action": "create", "at": T0}).to_doc(),
    ]
    plan = plan_restore({}, backup, current_audit=mine, now=NOW)
    assert [e["seq"] for e in plan.audit] == [2]
    assert audit.verify_chain(mine + plan.audit)[0]
    assert "another history" in plan.audit_note


def test_audit_already_holding_the_backup_entries_only_gets_the_restore_entry():
    _, backup = current_and_backup()
    longer = audit_chain(5)  # the backup's 3 entries are its start
    plan = plan_restore({}, backup, current_audit=longer, now=NOW)
    assert [e["seq"] for e in plan.audit] == [6]


def test_undo_puts_the_device_back_as_before_except_signed_records():
    stores, backup = current_and_backup()
    before = {"clients": [client_doc("Before", "Restore")]}
    snapshot = parse_backup(snapshot_for_undo(before, [], {}, "0.1.0", NOW), now=NOW)
    assert snapshot.meta["snapshot"] == "pre-restore"
    plan = plan_restore(before, backup, now=NOW)
    after = apply(before, plan)
    undo = plan_undo(after, snapshot, current_audit=plan.audit, now=NOW)
    signed = stores["session_logs"][0]  # brought in by the restore: an undo never deletes it
    assert apply(after, undo) == {"clients": before["clients"], "session_logs": [signed]}
    assert undo.kept_signed == [("session_logs", signed["id"])]
    assert undo.audit[-1]["action"] == "undo-restore"
    assert audit.verify_chain(plan.audit + undo.audit)[0]


def test_a_refused_file_plans_nothing():
    """Restore is parse → preview → plan: a refused file raises before any plan exists."""
    text = backup_text().replace("Lovelace", "Lovelacf")
    with pytest.raises(BackupError):
        plan_restore({}, parse_backup(text, now=NOW), now=NOW)


def test_plan_restore_refuses_an_unknown_mode():
    _, backup = current_and_backup()
    with pytest.raises(ValueError, match="mode"):
        plan_restore({}, backup, "overwrite", now=NOW)  # type: ignore[arg-type]


def test_the_checksum_payload_is_assembled_exactly_as_canonical_json():
    from medex.backup import _payload

    data = {"b": [{"id": "2", "x": "é😀"}], "a": [], "c": [{"id": "1", "n": [1.5, None]}]}
    chain = audit_chain(2)
    assert _payload(data, chain, {"k": 1}) == canonical_json(
        {"audit": chain, "data": data, "meta": {"k": 1}}
    )


def test_nesting_depth_is_checked_without_parsing():
    """Deep nesting would overflow Pyodide's stack inside json.loads: found by regex first."""
    from medex.backup import MAX_NESTING, nested_too_deep

    assert nested_too_deep("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))
    assert not nested_too_deep("[" * MAX_NESTING + "]" * MAX_NESTING)
    # Brackets inside strings (escaped quotes too) do not count.
    assert not nested_too_deep('{"note": "' + "[" * 500 + '\\" [[[", "v": [1, {"a": {}}]}')
    # Interleaved objects and arrays count as nesting.
    assert nested_too_deep('[{"a":' * 40 + "1" + "}]" * 40)
