"""Property tests (CPython only) for backup round trips, tamper detection and upgraders."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime
from typing import ClassVar

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from medex import audit  # noqa: E402
from medex.backup import BackupError, canonical_json, make_backup, parse_backup  # noqa: E402
from medex.intake import Client  # noqa: E402
from medex.migrations import Migrations  # noqa: E402
from medex.records import Record  # noqa: E402

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text a practitioner could type (incl. RTL, emoji, markup), stripped of the controls the
# models drop, non-blank, within the field limits.
typed = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("<>&\"'{}%$=@"),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(bool)
)

client = st.builds(
    lambda first, last, dob, sex, notes: Client(
        first_name=first,
        last_name=last,
        date_of_birth=dob,
        sex=sex,
        notes=notes,
        created_at=NOW,
        updated_at=NOW,
    ).to_doc(),
    typed,
    typed,
    st.dates(min_value=date(1910, 1, 1), max_value=date(2020, 1, 1)),
    st.sampled_from(["female", "male", "intersex", "not_stated"]),
    st.text(max_size=300).map(lambda t: "".join(c for c in t if c in "\t\n" or ord(c) >= 32)),
)


def chain_of(n: int) -> list[dict]:
    out: list[dict] = []
    for _i in range(n):
        out.append(
            audit.append(
                out, {"actor": "D", "action": "update", "record_type": "clients", "at": NOW}
            ).to_doc()
        )
    return out


@SETTINGS
@given(st.lists(client, max_size=8, unique_by=lambda d: d["id"]), st.integers(0, 6))
def test_any_valid_data_round_trips_identically(clients, n_audit):
    text = make_backup({"clients": clients}, chain_of(n_audit), {"k": "v"}, "0.1.0", NOW)
    parsed = parse_backup(text, now=NOW)
    assert sorted(parsed.data["clients"], key=lambda d: d["id"]) == sorted(
        clients, key=lambda d: d["id"]
    )
    assert make_backup(parsed.data, parsed.audit, parsed.meta, "0.1.0", NOW) == text


@SETTINGS
@given(st.lists(client, min_size=1, max_size=5, unique_by=lambda d: d["id"]), st.data())
def test_any_single_character_change_in_the_content_is_refused(clients, data):
    text = make_backup({"clients": clients}, chain_of(2), {}, "0.1.0", NOW)
    start = text.index('"data":')
    end = text.index(',"encrypted"') if ',"encrypted"' in text[start:] else len(text) - 1
    position = data.draw(st.integers(start + 8, max(start + 8, end - 2)))
    replacement = data.draw(st.sampled_from(string.ascii_letters + string.digits))
    if text[position] == replacement:
        return
    tampered = text[:position] + replacement + text[position + 1 :]
    try:
        if json.loads(tampered) == json.loads(text):
            return  # another spelling of the same value ("\u00e9" vs "\u00E9"): not a change
    except ValueError:
        pass
    with pytest.raises(BackupError):
        parse_backup(tampered, now=NOW)


@SETTINGS
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_random_input_is_refused_with_a_reason_never_a_crash(junk):
    with pytest.raises(BackupError) as info:
        parse_backup(junk, now=NOW)
    assert info.value.reason


@SETTINGS
@given(st.integers(1, 5), st.integers(0, 3))
def test_tampering_with_any_audit_entry_is_detected_at_that_entry(n, victim_offset):
    chain = chain_of(n)
    victim = victim_offset % n
    chain[victim] = {**chain[victim], "actor": "Mallory"}
    ok, seq, _ = audit.verify_chain(chain)
    assert not ok and seq == victim + 1


class Counter(Record):
    store: ClassVar[str] = "counters"
    SCHEMA_VERSION: ClassVar[int] = 5
    schema_version: int = 5
    value: int
    history: list[int]


def counter_registry() -> Migrations:
    reg = Migrations(modules=())
    reg.register_record(Counter)
    for v in (4, 2, 1, 3):  # registered out of order on purpose

        def step(doc: dict, v: int = v) -> dict:
            doc["history"] = [*doc.get("history", []), v]
            doc["value"] = doc["value"] * 10 + v
            return doc

        step.__name__ = f"counters_v{v}"
        reg.upgrader("counters", from_version=v)(step)
    return reg


@SETTINGS
@given(st.integers(1, 5), st.integers(0, 9))
def test_upgraders_apply_exactly_the_missing_steps_in_order(start, value):
    reg = counter_registry()
    doc = {"id": "5f0c6a0e-4a51-4c43-9d0e-2b8d8f7f3a11", "schema_version": start, "value": value}
    if start == 5:
        doc["history"] = []
    out = reg.upgrade_document("counters", doc)
    assert out["schema_version"] == 5
    assert out["history"] == list(range(start, 5))
    expected = value
    for v in range(start, 5):
        expected = expected * 10 + v
    assert out["value"] == expected
    assert json.loads(canonical_json(out)) == out
