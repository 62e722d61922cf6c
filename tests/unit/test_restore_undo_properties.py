"""Property test (CPython only): whatever was restored, in either mode, and whatever was written
after the restore, undoing it never loses or changes that later work, never deletes or changes a
signed record, and puts back everything else the restore changed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from medex import audit  # noqa: E402
from medex.backup import (  # noqa: E402
    make_backup,
    parse_backup,
    plan_restore,
    plan_undo,
    restore_changes,
    snapshot_for_undo,
)
from medex.migrations import is_signed  # noqa: E402
from medex.services.data import audit_entries_for  # noqa: E402
from medex.session_logs import SessionLog, sign_log  # noqa: E402
from tests.support.backups import NOT_NEEDED, T0, apply, audit_chain, client_doc, log_doc  # noqa: E402

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLIENTS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(4)]
LOGS = [f"00000000-0000-4000-9000-{i:012d}" for i in range(3)]
OWNER = CLIENTS[0]


def client(record_id: str, variant: int, when=None) -> dict:
    at = when or T0 + timedelta(days=variant)
    return client_doc(
        "Ana", "López", id=record_id, notes=f"v{variant}", created_at=T0, updated_at=at
    )


def log(record_id: str, variant: int, signed: bool, when=None) -> dict:
    at = when or T0 + timedelta(days=variant)
    doc = log_doc(OWNER, variant, id=record_id, response_notes=f"v{variant}", updated_at=at)
    if not signed:
        return doc
    return sign_log(
        SessionLog.model_validate(doc),
        signed_by="Dana Reyes",
        signed_at=at + timedelta(minutes=5),
        screening_outcome=NOT_NEEDED,
        clearance=None,
    ).to_doc()


version = st.none() | st.integers(0, 2)
log_version = st.none() | st.tuples(st.integers(0, 2), st.booleans())
state = st.tuples(
    st.lists(version, min_size=len(CLIENTS), max_size=len(CLIENTS)),
    st.lists(log_version, min_size=len(LOGS), max_size=len(LOGS)),
)
later_write = st.tuples(
    st.sampled_from(["edit", "delete", "create", "sign"]),
    st.integers(0, len(CLIENTS) + len(LOGS) - 1),
)


def stores_of(clients, logs) -> dict:
    return {
        "clients": [client(i, v) for i, v in zip(CLIENTS, clients, strict=True) if v is not None],
        "session_logs": [
            log(i, v[0], v[1]) for i, v in zip(LOGS, logs, strict=True) if v is not None
        ],
    }


def by_ref(stores: dict) -> dict:
    return {(s, d["id"]): d for s, docs in stores.items() for d in docs}


def as_stores(refs: dict) -> dict:
    out: dict = {"clients": [], "session_logs": []}
    for (store, _), doc in refs.items():
        out.setdefault(store, []).append(doc)
    return {s: sorted(docs, key=lambda d: d["id"]) for s, docs in out.items()}


def write_later(refs: dict, writes, chain: list[dict], with_audit: bool):
    """Apply the writes made after the restore; return what each left (None: deleted)."""
    written: dict = {}
    for n, (kind, index) in enumerate(writes):
        store, record_id = (
            ("clients", CLIENTS[index])
            if index < len(CLIENTS)
            else ("session_logs", LOGS[index - len(CLIENTS)])
        )
        ref = (store, record_id)
        here = refs.get(ref)
        if kind == "create":
            ref = ("clients", f"00000000-0000-4000-a000-{n:012d}")
            doc = client(ref[1], 0, when=LATER)
        elif here is None or is_signed(store, here):
            continue  # nothing to change, or signed: locked
        elif kind == "delete":
            doc = None
        elif kind == "sign" and store == "session_logs":
            doc = log(record_id, 1, True, when=LATER + timedelta(minutes=n))
        else:
            edit = LATER + timedelta(minutes=n)
            doc = (
                client(record_id, n, when=edit)
                if store == "clients"
                else log(record_id, n, False, edit)
            )
        if doc is None:
            refs.pop(ref)
        else:
            refs[ref] = doc
        written[ref] = doc
        if with_audit:
            chain += audit_entries_for(chain[-1], [("update", ref[0], ref[1])], "Dana", LATER)
    return written


@SETTINGS
@given(
    before_state=state,
    backup_state=state,
    mode=st.sampled_from(["merge", "replace"]),
    writes=st.lists(later_write, max_size=8),
    how=st.sampled_from(["changes+audit", "changes only", "audit only"]),
)
def test_an_undo_never_loses_later_work_or_a_signed_record(
    before_state, backup_state, mode, writes, how
):
    chain = audit_chain(2)
    before = stores_of(*before_state)
    backup = parse_backup(make_backup(stores_of(*backup_state), chain, {}, "0.1.0", NOW), now=NOW)
    snapshot = parse_backup(snapshot_for_undo(before, chain, {}, "0.1.0", NOW), now=NOW)
    restore = plan_restore(before, backup, mode, current_audit=chain, now=NOW)
    chain = chain + restore.audit
    restored = by_ref(apply(before, restore))
    current = copy.deepcopy(restored)
    written = write_later(current, writes, chain, with_audit=how != "changes only")
    plan = plan_undo(
        as_stores(current),
        snapshot,
        changes=None if how == "audit only" else restore_changes(restore),
        since_seq=restore.audit[-1]["seq"] if how != "audit only" else None,
        current_audit=chain,
        now=LATER,
    )
    result = by_ref(apply(as_stores(current), plan))

    for ref, doc in written.items():  # later work: exactly as it was left
        assert result.get(ref) == doc, ref
    for ref, doc in current.items():  # signed records: never deleted or changed
        if is_signed(ref[0], doc):
            assert result.get(ref) == doc, ref
    old = by_ref(before)
    touched = {(s, d["id"]) for s, d in restore.puts} | set(restore.deletes)
    for ref in set(current) | set(old) | touched:
        if ref in written or is_signed(ref[0], current.get(ref) or {}):
            continue
        if ref in touched:  # what the restore changed, and nothing since: back as before
            assert result.get(ref) == old.get(ref), ref
        else:  # never touched by the restore: left alone
            assert result.get(ref) == current.get(ref), ref
    assert audit.verify_chain(chain + plan.audit)[0]
