"""Property test (issue 10): two repositories on one store (two tabs of the app on one device),
driven through random interleavings of reads, screens shown, saves from fresh and stale copies,
signatures, draft saves over signed records, deletes, raw restores and their audit. Whatever the
order: no signed record is ever changed or lost, no save silently overwrites a revision it did
not read or show, every refused write leaves the store exactly as it was, revisions keep
CouchDB's "<generation>-<hash>" chain, and the audit chain stays intact."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import ClassVar

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from medex import audit  # noqa: E402
from medex.records import Record, Text  # noqa: E402
from medex.repository import (  # noqa: E402
    InMemoryRepository,
    MemoryStore,
    SignedRecordError,
    StaleWriteError,
)
from medex.revisions import generation, next_revision  # noqa: E402
from tests.support.aio import run  # noqa: E402

IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(3)]
REV = re.compile(r"^[1-9][0-9]*-[0-9a-f]{32}$")


class Note(Record):
    """A signable record (as a session log is: signed_at set means signed and locked)."""

    store: ClassVar[str] = "notes"
    text: Text = ""
    signed_at: datetime | None = None


ACTIONS = st.sampled_from(["read", "show", "save", "save-stale", "sign", "delete", "restore"])
STEPS = st.lists(
    st.tuples(st.integers(0, 1), ACTIONS, st.sampled_from(IDS), st.integers(0, 9)),
    min_size=1,
    max_size=40,
)


def stored(db: MemoryStore) -> dict[str, dict]:
    return {i: json.loads(t) for i, t in db.stores.get("notes", {}).items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_two_tabs_never_lose_a_signed_record_or_overwrite_unseen_work(steps):
    db = MemoryStore()
    tabs = [InMemoryRepository(db), InMemoryRepository(db)]
    copies: list[dict[str, Note]] = [{}, {}]  # the copy each tab last read (maybe stale now)
    signed: dict[str, dict] = {}  # every signed record's content as it was signed
    for n, (t, what, record_id, value) in enumerate(steps):
        repo = tabs[t]
        before = copy.deepcopy(db.stores), list(db.audit)
        current = stored(db).get(record_id)
        try:
            if what == "read":
                found = run(repo.get(Note, record_id))
                if found is not None:
                    copies[t][record_id] = found
                continue
            if what == "show":  # a screen renders the record (its form is what is typed into)
                repo.start_view()
                found = run(repo.get(Note, record_id))
                repo.end_view()
                if found is not None:
                    copies[t][record_id] = found
                continue
            if what == "restore":  # a raw restore write (its own audit), unconditional
                doc = {**Note(id=record_id, text=f"restored {n}").to_doc()}
                if current is not None and current.get("_signed"):
                    continue  # a restore never replaces a signed record (backup.plan_restore)
                run(repo.write([{"store": "notes", "doc": doc}], [("restore", "notes", record_id)]))
                assert REV.match(stored(db)[record_id]["_rev"])
                copies[t][record_id] = run(repo.get(Note, record_id))  # the tab shows it
                continue
            base = copies[t].get(record_id)
            if what in ("save", "sign") and base is None:
                base = Note(id=record_id)  # a new record typed from scratch
            if base is None:
                continue
            if what == "save-stale":
                what = "save"  # the copy may be stale: that is the point
            if what == "delete":
                run(repo.delete(Note, record_id))
                copies[t].pop(record_id, None)
                assert record_id not in stored(db)
                continue
            update = {"text": f"tab {t} step {n} value {value}"}
            if what == "sign":
                update["signed_at"] = datetime(2026, 1, 1, tzinfo=UTC)
            edited = base.model_copy(update=update)
            read_at = base._rev
            run(repo.save(edited))
            # It went through: it was based on exactly the stored revision (nothing unseen
            # was overwritten), and the new revision extends the chain.
            after = stored(db)[record_id]
            if current is not None:
                assert read_at == current.get("_rev", ""), (
                    "a save overwrote a revision it never saw"
                )
                assert generation(after["_rev"]) == generation(current.get("_rev")) + 1
                assert not current.get("_signed"), "a signed record was changed"
            assert after["_rev"] == next_revision(after, current.get("_rev") if current else None)
            assert edited._rev == after["_rev"]
            copies[t][record_id] = edited
            if what == "sign":
                signed[record_id] = {k: v for k, v in after.items() if k != "_rev"}
        except (StaleWriteError, SignedRecordError):
            # Refused: nothing of it was written, the audit log did not move.
            assert (db.stores, db.audit) == before
        # No signed record is ever changed or lost.
        now = stored(db)
        for sid, content in signed.items():
            assert sid in now, "a signed record was lost"
            assert {k: v for k, v in now[sid].items() if k != "_rev"} == content
    ok, bad, why = audit.verify_chain(db.audit)
    assert ok, (bad, why)
    assert [e["seq"] for e in db.audit] == list(range(1, len(db.audit) + 1))


def test_a_stale_copy_is_refused_and_the_newer_work_kept():
    """The plain case the property covers: tab B saves a copy older than tab A's save."""
    db = MemoryStore()
    a, b = InMemoryRepository(db), InMemoryRepository(db)
    run(a.save(Note(id=IDS[0], text="first")))
    stale = run(b.get(Note, IDS[0]))
    fresh = run(a.get(Note, IDS[0]))
    run(a.save(fresh.model_copy(update={"text": "newer, from tab A"})))
    with pytest.raises(StaleWriteError):
        run(b.save(stale.model_copy(update={"text": "older, from tab B"})))
    assert run(a.get(Note, IDS[0])).text == "newer, from tab A"


def test_a_form_shown_before_another_tabs_save_is_refused_even_after_a_fresh_read():
    """The screen showed revision 1; the action re-reads (revision 2) and saves: refused,
    because the person typed into what revision 1 showed."""
    db = MemoryStore()
    a, b = InMemoryRepository(db), InMemoryRepository(db)
    run(a.save(Note(id=IDS[0], text="first")))
    b.start_view()
    run(b.get(Note, IDS[0]))
    b.end_view()
    run(a.save(run(a.get(Note, IDS[0])).model_copy(update={"text": "from tab A"})))
    reread = run(b.get(Note, IDS[0]))
    with pytest.raises(StaleWriteError):
        run(b.save(reread.model_copy(update={"text": "typed in tab B"})))
    # Shown again (the newer version), the same save goes through.
    b.start_view()
    shown = run(b.get(Note, IDS[0]))
    b.end_view()
    run(b.save(shown.model_copy(update={"text": "typed in tab B"})))
    assert run(a.get(Note, IDS[0])).text == "typed in tab B"


def test_a_signed_record_cannot_be_saved_over_or_deleted_from_another_tab():
    db = MemoryStore()
    a, b = InMemoryRepository(db), InMemoryRepository(db)
    run(a.save(Note(id=IDS[0], text="draft")))
    draft_in_b = run(b.get(Note, IDS[0]))
    signed = run(a.get(Note, IDS[0])).model_copy(
        update={"signed_at": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    run(a.save(signed))
    # Read before the signature (a stale copy), it is refused as signed: the tab says the record
    # is locked (what was typed listed), never "changed: save again" over a locked record.
    with pytest.raises(SignedRecordError):
        run(b.save(draft_in_b.model_copy(update={"text": "edited in B"})))
    fresh_in_b = run(b.get(Note, IDS[0]))
    with pytest.raises(SignedRecordError):
        run(b.save(fresh_in_b.model_copy(update={"text": "edited in B"})))
    with pytest.raises(SignedRecordError):
        run(b.delete(Note, IDS[0]))
    assert run(a.get(Note, IDS[0])).text == "draft"
    assert json.loads(db.stores["notes"][IDS[0]])["_signed"] is True


def test_a_backup_made_before_revisions_previews_the_same_records_as_unchanged():
    """A 0.1.0 backup holds the records without ``_rev``: the same content is "unchanged", and a
    signed record is not reported as differing from itself."""
    from medex.backup import make_backup, parse_backup, preview_restore
    from medex.intake import Client
    from medex.revisions import content_of

    repo = InMemoryRepository()
    run(
        repo.save(
            Client(first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female")
        )
    )
    run(repo.save(Note(id=IDS[0], text="signed", signed_at=datetime(2026, 1, 1, tzinfo=UTC))))
    current = run(repo.export_all())["stores"]
    assert all("_rev" in d for docs in current.values() for d in docs)
    old = {s: [content_of(d) for d in docs] for s, docs in current.items() if s == "clients"}
    backup = parse_backup(make_backup(old, [], {}, "0.1.0", datetime(2026, 2, 1, tzinfo=UTC)))
    preview = preview_restore(current, backup, "merge")
    assert preview.stores["clients"].unchanged == 1 and preview.stores["clients"].changed == 0
