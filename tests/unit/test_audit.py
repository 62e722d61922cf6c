"""The audit log (medex.audit): hash-chained, tamper-evident, no clinical content."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from medex.audit import GENESIS_HASH, AuditEntry, append, compute_hash, is_prefix, verify_chain

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
ID = "5f0c6a0e-4a51-4c43-9d0e-2b8d8f7f3a11"


def chain(n: int) -> list[dict]:
    out: list[dict] = []
    for i in range(n):
        fields = {
            "actor": "Dana Reyes",
            "action": ("create", "update", "sign")[i % 3],
            "record_type": "session_logs",
            "record_id": ID,
            "at": T0 + timedelta(minutes=i),
        }
        out.append(append(out, fields).to_doc())
    return out


def test_the_first_entry_starts_from_the_genesis_hash_at_seq_1():
    first = append(None, {"actor": "Dana", "action": "export", "at": T0})
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    assert first.hash == compute_hash(first.model_dump())
    assert first.to_doc()["at"] == "2025-03-10T09:00:00Z"


def test_each_entry_links_to_the_previous_hash():
    entries = chain(4)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    for before, after in itertools.pairwise(entries):
        assert after["prev_hash"] == before["hash"]


def test_append_accepts_the_last_entry_instead_of_the_whole_chain():
    entries = chain(3)
    fields = {"actor": "Dana", "action": "delete", "at": T0}
    assert append(entries, fields) == append(entries[-1], fields)


def test_an_intact_chain_verifies():
    assert verify_chain(chain(5)) == (True, None, "The audit log is intact (5 entries).")
    assert verify_chain([]) == (True, None, "The audit log is intact (0 entries).")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor", "Mallory"),
        ("action", "delete"),
        ("record_id", "00000000-0000-4000-8000-000000000000"),
        ("at", "2025-03-10T09:02:01Z"),
    ],
)
def test_changing_any_field_of_an_entry_is_detected_at_that_entry(field, value):
    entries = chain(5)
    entries[2][field] = value
    ok, seq, message = verify_chain(entries)
    assert (ok, seq) == (False, 3)
    assert message == "Audit entry 3 has been altered."


def test_rehashing_an_altered_entry_breaks_the_link_to_the_next_one():
    entries = chain(5)
    entries[2]["actor"] = "Mallory"
    entries[2]["hash"] = compute_hash(entries[2])
    ok, seq, message = verify_chain(entries)
    assert (ok, seq) == (False, 4)
    assert "does not follow entry 3" in message


def test_a_removed_entry_is_detected():
    entries = chain(5)
    del entries[1]
    ok, seq, _ = verify_chain(entries)
    assert (ok, seq) == (False, 3)


def test_swapped_entries_are_detected():
    entries = chain(4)
    entries[1], entries[2] = entries[2], entries[1]
    assert verify_chain(entries)[:2] == (False, 3)


def test_a_chain_not_starting_at_the_genesis_is_detected():
    assert verify_chain(chain(4)[1:])[:2] == (False, 2)


def test_a_malformed_entry_is_reported_not_raised():
    entries = chain(2)
    entries[1] = {"seq": 2, "junk": True}
    assert verify_chain(entries)[:2] == (False, 2)


def test_times_in_another_zone_hash_as_utc():
    paris = timezone(timedelta(hours=2))
    a = append(None, {"actor": "D", "action": "create", "at": T0})
    b = append(None, {"actor": "D", "action": "create", "at": T0.astimezone(paris)})
    assert a.hash == b.hash


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        append(None, {"actor": "D", "action": "create", "at": datetime(2025, 1, 1)})


@pytest.mark.parametrize(
    "fields",
    [
        {"actor": "D", "action": "create", "record_type": "clients", "notes": "diabetes"},
        {"actor": "D", "action": "create", "diagnosis": "E11.9"},
    ],
)
def test_entries_have_no_field_for_clinical_content(fields):
    with pytest.raises(ValueError, match="Audit entries hold no"):
        append(None, fields)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("record_id", "Type 2 diabetes, knee OA"),
        ("record_type", "Client has angina"),
        ("action", "Wrote: chest pain at rest"),
    ],
)
def test_identifier_fields_refuse_free_text(field, value):
    fields = {"actor": "D", "action": "create", "at": T0, field: value}
    with pytest.raises(ValidationError):
        append(None, fields)


def test_is_prefix_compares_hashes():
    entries = chain(4)
    assert is_prefix(entries[:2], entries)
    assert not is_prefix(entries, entries[:2])
    assert not is_prefix([*chain(2)[:1], entries[0]], entries)


def test_an_entry_is_immutable():
    entry = append(None, {"actor": "D", "action": "create", "at": T0})
    with pytest.raises(ValidationError):
        entry.actor = "Mallory"  # type: ignore[misc]
    assert isinstance(entry, AuditEntry)
