"""Frozen backups of released versions restore into the current build (issue 7 item 3).

Every file in tests/unit/fixtures/ (and tests/fixtures/, when that folder exists next to the
source tree) was written by ``tools/make_fixture_backup.py`` of some release and is never
regenerated. A schema change without an upgrader makes these tests fail. The fixtures sit
under tests/unit/ so the in-Pyodide runner (which ships tests/unit only) restores them too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medex import audit
from medex.backup import FORMAT, make_backup, parse_backup, plan_restore
from medex.migrations import MIGRATIONS, is_signed
from medex.repository import InMemoryRepository
from medex.session_logs import Addendum, SessionLog, verify_addendum, verify_signature
from medex.stores import STORED

HERE = Path(__file__).resolve().parent
FOLDERS = [HERE / "fixtures", HERE.parent / "fixtures"]
FILES = sorted({p.name: p for f in FOLDERS if f.is_dir() for p in f.glob("*.json")}.values())
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_there_is_a_frozen_fixture_of_this_backup_format():
    assert any(p.name.startswith("backup-format1-app0.1.0") for p in FILES), FILES


@pytest.fixture(params=FILES, ids=[p.name for p in FILES])
def fixture(request):
    text = request.param.read_text(encoding="utf-8")
    return text, json.loads(text)


def test_fixture_parses_with_its_counts(fixture):
    text, raw = fixture
    assert raw["format"] == FORMAT
    parsed = parse_backup(text, now=NOW)
    assert parsed.counts == {s: n for s, n in raw["counts"].items()}
    assert len(parsed.audit) == raw["audit_count"] > 0
    assert audit.verify_chain(parsed.audit)[0]


def test_fixture_holds_every_record_type_of_its_release(fixture):
    """A release's fixture is complete: every store it knew has at least one record."""
    _text, raw = fixture
    assert all(n > 0 for n in raw["counts"].values()), raw["counts"]
    if raw["app_version"] == "0.1.0":  # the stores of IndexedDB version 1
        assert set(raw["counts"]) == {t.store for t in STORED if t.since == 1}
        assert set(raw["counts"]) <= set(MIGRATIONS.stores())


def test_every_record_validates_with_the_current_models(fixture):
    text, _raw = fixture
    parsed = parse_backup(text, now=NOW)
    for store, docs in parsed.data.items():
        for doc in docs:
            record = MIGRATIONS.validate_document(store, doc, context={"today": NOW.date()})
            assert record.schema_version == MIGRATIONS.current_version(store)


def test_signed_logs_and_addenda_still_verify(fixture):
    text, _raw = fixture
    parsed = parse_backup(text, now=NOW)
    logs = [SessionLog.model_validate(d) for d in parsed.data.get("session_logs", [])]
    signed = [log for log in logs if log.signature is not None]
    assert signed and all(verify_signature(log) for log in signed)
    addenda = [Addendum.model_validate(d) for d in parsed.data.get("addenda", [])]
    assert addenda and all(verify_addendum(a) for a in addenda)


def test_fixture_restores_into_an_empty_device_and_backs_up_the_same(fixture):
    text, raw = fixture
    parsed = parse_backup(text, now=NOW)
    plan = plan_restore({}, parsed, current_audit=[], now=NOW)
    assert not plan.skipped and not plan.deletes
    repo = InMemoryRepository()
    for store, doc in plan.puts:
        repo.stores.setdefault(store, {})[doc["id"]] = json.dumps(doc)
    restored = {s: [json.loads(t) for t in d.values()] for s, d in repo.stores.items()}
    assert {s: len(d) for s, d in restored.items()} == {s: n for s, n in raw["counts"].items() if n}
    assert any(is_signed("session_logs", d) for d in restored["session_logs"])
    # Restored now, backed up again: the same records (as the current build writes them).
    again = parse_backup(make_backup(restored, plan.audit, {}, "test", NOW), now=NOW)
    assert again.data == {s: d for s, d in parsed.data.items() if d}
