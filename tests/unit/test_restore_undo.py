"""Undoing a restore never loses work written after it (issue 10, item 1): the undo puts back
only what is still exactly as the restore left it, never deletes or changes a signed record,
asks first, and refuses (writing nothing) if anything moved since it was shown."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from app import core
from medex import audit
from medex.backup import (
    doc_fingerprint,
    make_backup,
    parse_backup,
    plan_restore,
    plan_undo,
    restore_changes,
    snapshot_for_undo,
)
from medex.intake import Client
from medex.records import PracticeProfile
from medex.repository import InMemoryRepository
from medex.services import data
from medex.services.data import audit_entries_for
from medex.session_logs import SessionLog, make_addendum
from tests.support.aio import run
from tests.support.backups import apply, audit_chain, client_doc, log_doc
from tests.support.fakes import FilePlatform

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


def backup_of(stores: dict, chain: list[dict]):
    return parse_backup(make_backup(stores, chain, {}, "0.1.0", NOW), now=NOW)


def by_ref(stores: dict) -> dict:
    return {(s, d["id"]): d for s, docs in stores.items() for d in docs}


def put(stores: dict, store: str, doc: dict) -> dict:
    """``stores`` after a save of ``doc`` (a copy; the input is left alone)."""
    out = copy.deepcopy(stores)
    docs = [d for d in out.get(store, []) if d["id"] != doc["id"]]
    out[store] = sorted([*docs, doc], key=lambda d: d["id"])
    return out


def saved(chain: list[dict], action: str, store: str, record_id: str) -> list[dict]:
    return chain + audit_entries_for(chain[-1], [(action, store, record_id)], "Dana", LATER)


def scenario(mode="replace"):
    """Before: Ana (phone edited after the backup was made) and Ben (only on this device).
    The backup: Ana as she was, and Cy (only in the backup). Then the restore."""
    ana = client_doc("Ana", "López", emergency_contact_phone="555 123 4567")
    cy = client_doc("Cy", "Backup")
    chain = audit_chain(2)
    backup = backup_of({"clients": [ana, cy]}, chain)
    ana_edited = {
        **ana,
        "emergency_contact_phone": "555 999 0000",
        "updated_at": "2025-05-20T10:00:00Z",
    }
    ben = client_doc("Ben", "OnlyHere")
    before = {"clients": sorted([ana_edited, ben], key=lambda d: d["id"])}
    snapshot = parse_backup(snapshot_for_undo(before, chain, {}, "0.1.0", NOW), now=NOW)
    plan = plan_restore(before, backup, mode, current_audit=chain, now=NOW)
    after = apply(before, plan)
    chain = chain + plan.audit
    return {
        "before": before,
        "after": after,
        "snapshot": snapshot,
        "changes": restore_changes(plan),
        "since": plan.audit[-1]["seq"],
        "chain": chain,
        "ana": ana_edited,
        "ben": ben,
        "cy": cy,
    }


def undo(s, current, chain, **kw):
    kw.setdefault("changes", s["changes"])
    kw.setdefault("since_seq", s["since"])
    return plan_undo(current, s["snapshot"], current_audit=chain, now=LATER, **kw)


def test_undo_puts_back_what_the_restore_changed_and_keeps_everything_written_since():
    s = scenario("replace")
    assert by_ref(s["after"])[("clients", s["ana"]["id"])]["emergency_contact_phone"] == (
        "555 123 4567"
    )
    assert ("clients", s["ben"]["id"]) not in by_ref(s["after"])  # replace deleted Ben
    # After the restore: a new client, a signed session log and its addendum.
    new = client_doc("Nia", "New", created_at=LATER, updated_at=LATER)
    log = log_doc(new["id"], signed=True)
    addendum = make_addendum(
        SessionLog.model_validate(log),
        "Late entry: client phoned.",
        author="Dana Reyes",
        signed_at=LATER,
    ).to_doc()
    current, chain = s["after"], s["chain"]
    for store, doc, action in (
        ("clients", new, "create"),
        ("session_logs", log, "sign"),
        ("addenda", addendum, "addendum"),
    ):
        current = put(current, store, doc)
        chain = saved(chain, action, store, doc["id"])

    plan = undo(s, current, chain)
    result = by_ref(apply(current, plan))
    assert result[("clients", s["ana"]["id"])] == s["ana"]  # back as before the restore
    assert result[("clients", s["ben"]["id"])] == s["ben"]  # deleted by the restore: back
    assert ("clients", s["cy"]["id"]) not in result  # added by the restore: removed
    assert result[("clients", new["id"])] == new  # written since: all kept
    assert result[("session_logs", log["id"])] == log
    assert result[("addenda", addendum["id"])] == addendum
    assert plan.counts() == {"put_back": 2, "removed": 1, "kept_changed": 0, "kept_signed": 0}
    assert plan.audit[-1]["action"] == "undo-restore"
    assert audit.verify_chain(chain + plan.audit)[0]


def test_a_record_changed_after_the_restore_is_kept_and_listed():
    s = scenario("replace")
    ana = by_ref(s["after"])[("clients", s["ana"]["id"])]
    edited = {**ana, "notes": "Seen after the restore", "updated_at": "2025-06-01T10:00:00Z"}
    current = put(s["after"], "clients", edited)
    # Seen by its content alone (no audit entry) ...
    plan = undo(s, current, s["chain"])
    assert plan.kept_changed == [("clients", ana["id"])]
    assert by_ref(apply(current, plan))[("clients", ana["id"])] == edited
    # ... and by the audit log alone (a restore made before the changes were kept).
    chain = saved(s["chain"], "update", "clients", ana["id"])
    legacy = undo(s, current, chain, changes=None, since_seq=None)
    assert ("clients", ana["id"]) in legacy.kept_changed
    assert by_ref(apply(current, legacy))[("clients", ana["id"])] == edited
    assert ("clients", s["ben"]["id"]) in legacy.put_back


def test_a_record_deleted_after_the_restore_stays_deleted():
    s = scenario("merge")  # merge: Cy added, Ana kept (newer here), Ben kept
    cy = s["cy"]
    current = copy.deepcopy(s["after"])
    current["clients"] = [d for d in current["clients"] if d["id"] != cy["id"]]
    plan = undo(s, current, saved(s["chain"], "delete", "clients", cy["id"]))
    assert plan.nothing_to_do and plan.kept_changed == []  # already as before the restore
    assert apply(current, plan) == current


def test_signed_records_are_never_deleted_or_reverted_by_an_undo():
    client = client_doc()
    draft = log_doc(client["id"])
    signed = log_doc(client["id"], signed=True, id=draft["id"])
    brought = log_doc(client["id"], 3, signed=True)
    chain = audit_chain(1)
    before = {"clients": [client], "session_logs": [draft]}
    backup = backup_of({"clients": [client], "session_logs": [signed, brought]}, chain)
    snapshot = parse_backup(snapshot_for_undo(before, chain, {}, "0.1.0", NOW), now=NOW)
    restore = plan_restore(before, backup, "merge", current_audit=chain, now=NOW)
    after = apply(before, restore)
    plan = plan_undo(
        after,
        snapshot,
        changes=restore_changes(restore),
        since_seq=restore.audit[-1]["seq"],
        current_audit=chain + restore.audit,
    )
    assert sorted(plan.kept_signed) == sorted(
        [("session_logs", draft["id"]), ("session_logs", brought["id"])]
    )
    assert plan.nothing_to_do
    assert apply(after, plan) == after


def test_revision_fields_the_store_adds_do_not_count_as_a_change():
    s = scenario("replace")
    stamped = {
        store: [{**d, "_rev": f"2-{'a' * 32}"} for d in docs] for store, docs in s["after"].items()
    }
    plan = undo(s, stamped, s["chain"])
    assert plan.counts()["put_back"] == 2 and plan.kept_changed == []
    ana = s["ana"]["id"]
    ops = {(op["store"], op.get("delete") or op["doc"]["id"]): op for op in plan.record_ops()}
    assert ops[("clients", ana)]["expect"] == f"2-{'a' * 32}"  # the revision it found
    assert ops[("clients", s["ben"]["id"])]["expect"] == ""  # not stored now
    assert all(op["guard"] for op in ops.values())
    assert doc_fingerprint({**s["ana"], "_rev": "9-x"}) == doc_fingerprint(s["ana"])


def test_the_digest_tells_whether_anything_moved_since_the_undo_was_shown():
    s = scenario("replace")
    first = undo(s, s["after"], s["chain"])
    assert undo(s, s["after"], s["chain"]).digest() == first.digest()
    ana = by_ref(s["after"])[("clients", s["ana"]["id"])]
    moved = put(s["after"], "clients", {**ana, "notes": "x"})
    assert undo(s, moved, s["chain"]).digest() != first.digest()


def test_nothing_to_undo_when_every_restored_record_changed_since():
    s = scenario("merge")
    cy = by_ref(s["after"])[("clients", s["cy"]["id"])]
    current = put(s["after"], "clients", {**cy, "notes": "edited"})
    plan = undo(s, current, s["chain"])
    assert plan.nothing_to_do and plan.kept_changed == [("clients", cy["id"])]


def test_the_undo_lines_say_exactly_what_will_be_done_and_what_was_done():
    counts = {"put_back": 1, "removed": 2, "kept_changed": 3, "kept_signed": 0}
    assert data.undo_lines(counts, done=False) == [
        "1 record will be put back as it was before the restore.",
        "2 records that the restore added will be removed.",
        "3 records will be kept as they are now: changed after the restore.",
    ]
    assert data.undo_lines(counts, done=True)[0] == (
        "1 record put back as it was before the restore."
    )


def test_undo_and_its_bookkeeping_are_never_in_a_backup():
    meta = {data.UNDO_INFO_KEY: {}, data.UNDO_CHANGES_KEY: {}, data.UNDO_SNAPSHOT_KEY: ""}
    assert data.backup_meta(meta) == {}


# -- the Data screen over an in-memory store ----------------------------------------------------


def _app_with_a_restore():
    """A practice with Ana, a backup of it, Ana edited and Ben added, then a Replace restore of
    that backup (Ana back as in the backup, Ben deleted)."""
    core.load_screens()
    app = core.App(InMemoryRepository(), FilePlatform())
    app.repo.actor = "Dana Reyes"
    ana = Client(first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female")
    run(app.repo.save(PracticeProfile(business_name="Reyes", practitioner_name="Dana Reyes")))
    run(app.repo.save(ana))
    run(app.load())
    app.navigate("#/data")
    run(app.dispatch("export-backup", {}))
    [text] = [t for n, t in app.platform.files.items() if n.endswith(".json")]
    edited = run(app.repo.get(Client, ana.id)).model_copy(update={"notes": "before restore"})
    ben = Client(first_name="Ben", last_name="Only", date_of_birth="1960-01-01", sex="male")
    run(app.repo.save(edited, ben))
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    run(app.dispatch("restore-apply", {"mode": "replace", "confirm_replace": "yes"}))
    assert "Backup restored" in app.state.flash
    assert run(app.repo.get(Client, ana.id)).notes == ""
    assert run(app.repo.get(Client, ben.id)) is None
    return app, ana.id, ben.id


def test_the_data_screen_undo_asks_first_then_keeps_work_written_after_the_restore():
    app, ana, ben = _app_with_a_restore()
    nia = Client(first_name="Nia", last_name="New", date_of_birth="1970-02-02", sex="female")
    run(app.repo.save(nia))
    log = SessionLog.model_validate(log_doc(nia.id, signed=True))
    run(app.repo.save(log))
    before_undo = run(app.repo.export_all())

    run(app.dispatch("undo-restore", {}))
    pending = app.state.pending["undo"]
    assert pending["lines"] == ["2 records will be put back as they were before the restore."]
    assert sorted(r["title"] for r in pending["put_back"]) == ["Ana López", "Ben Only"]
    assert run(app.repo.export_all()) == before_undo  # the preview writes nothing

    run(app.dispatch("undo-restore-confirm", {}))
    assert app.state.flash.startswith("The restore was undone: 2 records put back")
    assert run(app.repo.get(Client, ana)).notes == "before restore"
    assert run(app.repo.get(Client, ben)) is not None
    assert run(app.repo.get(Client, nia.id)) is not None
    assert run(app.repo.get(SessionLog, log.id)).is_signed
    assert app.repo.audit[-1]["action"] == "undo-restore"
    assert audit.verify_chain(app.repo.audit)[0]
    for key in (data.UNDO_SNAPSHOT_KEY, data.UNDO_INFO_KEY, data.UNDO_CHANGES_KEY):
        assert run(app.repo.get_meta(key)) is None  # undone: no longer offered


def test_an_undo_confirmed_after_the_records_changed_writes_nothing():
    app, ana, _ben = _app_with_a_restore()
    run(app.dispatch("undo-restore", {}))
    assert "undo" in app.state.pending
    # Another tab edits Ana between the preview and the confirmation.
    other = InMemoryRepository(app.repo.db)
    run(other.save(run(other.get(Client, ana)).model_copy(update={"notes": "other tab"})))
    moved = run(app.repo.export_all())
    run(app.dispatch("undo-restore-confirm", {}))
    assert "nothing was undone" in app.state.flash
    assert run(app.repo.export_all()) == moved
    # Shown again, the undo now keeps Ana as the other tab left her.
    run(app.dispatch("undo-restore", {}))
    assert app.state.pending["undo"]["counts"]["kept_changed"] == 1
    run(app.dispatch("undo-restore-cancel", {}))
    assert "nothing was changed" in app.state.flash
    assert run(app.repo.export_all()) == moved


def test_when_nothing_is_left_to_undo_the_undo_is_no_longer_offered():
    app, ana, ben = _app_with_a_restore()
    current = run(app.repo.get(Client, ana)).model_copy(update={"notes": "after"})
    run(
        app.repo.save(
            current,
            Client(
                id=ben, first_name="Ben", last_name="Again", date_of_birth="1960-01-01", sex="male"
            ),
        )
    )
    run(app.dispatch("undo-restore", {}))
    assert "Nothing is left to undo" in app.state.flash
    assert "undo" not in app.state.pending
    assert run(app.repo.get_meta(data.UNDO_INFO_KEY)) is None


def test_an_undo_rebuilds_the_summaries_and_dashboard_rows_it_drops():
    """The undo's write drops the summaries and dashboard rows it may make wrong (a raw write);
    like the restore, it rebuilds them right after, so Home's next visit reads them as they
    are (not every client's records at once), and they equal a recomputation."""
    from medex.client_summary import ClientSummary
    from medex.dashboard_row import COMPLETE_ID, DashboardRow
    from medex.services import dashboard_rows as rows_service
    from tests.unit.test_client_summaries import assert_in_step

    core.load_screens()
    app = core.App(InMemoryRepository(), FilePlatform())
    app.repo.actor = "Dana Reyes"
    ana = Client(first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female")
    run(app.repo.save(PracticeProfile(business_name="Reyes", practitioner_name="Dana Reyes")))
    run(app.repo.save(ana, SessionLog.model_validate(log_doc(ana.id, day=1))))
    run(app.load())
    app.navigate("#/data")
    run(app.dispatch("export-backup", {}))
    [text] = [t for n, t in app.platform.files.items() if n.endswith(".json")]
    # After the backup: a second (unsigned) log of Ana's and a new client, Ben.
    later_log = SessionLog.model_validate(log_doc(ana.id, day=5))
    ben = Client(first_name="Ben", last_name="Only", date_of_birth="1960-01-01", sex="male")
    run(app.repo.save(later_log, ben))
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    run(app.dispatch("restore-apply", {"mode": "replace", "confirm_replace": "yes"}))
    assert run(app.repo.get(SessionLog, later_log.id)) is None  # replaced away

    run(app.dispatch("undo-restore", {}))
    run(app.dispatch("undo-restore-confirm", {}))
    assert app.state.flash.startswith("The restore was undone")
    assert run(app.repo.get(SessionLog, later_log.id)) is not None
    # Stored now, not only when next read: Ana's summary counts her two logs again.
    held = {s.id: s for s in run(app.repo.list(ClientSummary))}
    assert ana.id in held and len(held[ana.id].unsigned) == 2
    assert_in_step(app.repo)
    rows = {r.id: r for r in run(app.repo.list(DashboardRow))}
    assert COMPLETE_ID in rows and {ana.id, ben.id} <= set(rows)
    for row in run(rows_service.recomputed_rows(app.repo)):
        assert rows_service.same_row(rows.get(row.id), row), row.name or row.id


def test_records_restored_as_whole_parts_are_undone_by_their_revision():
    """A restore into a device that holds none of a part's records writes the part whole and
    keeps each record's revision for the undo: a record saved since (a new revision, even with
    the same content) is kept, the others removed."""
    core.load_screens()
    source = core.App(InMemoryRepository(), FilePlatform())
    ana = Client(first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female")
    ben = Client(first_name="Ben", last_name="Sosa", date_of_birth="1961-04-11", sex="male")
    run(source.repo.save(ana, ben))
    run(source.load())
    source.navigate("#/data")
    run(source.dispatch("export-backup", {}))
    [text] = [t for n, t in source.platform.files.items() if n.endswith(".json")]

    app = core.App(InMemoryRepository(), FilePlatform())
    run(app.load())
    app.navigate("#/data")
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    run(app.dispatch("restore-apply", {"mode": "merge"}))
    changes = run(app.repo.get_meta(data.UNDO_CHANGES_KEY))
    stored = run(app.repo.get(Client, ben.id))
    assert changes["clients"][ben.id] == stored._rev  # a revision, not a fingerprint
    run(app.repo.save(stored))  # saved again, same content: a new revision

    run(app.dispatch("undo-restore", {}))
    assert app.state.pending["undo"]["counts"] == {
        "put_back": 0,
        "removed": 1,
        "kept_changed": 1,
        "kept_signed": 0,
    }
    run(app.dispatch("undo-restore-confirm", {}))
    assert run(app.repo.get(Client, ana.id)) is None
    assert run(app.repo.get(Client, ben.id)) is not None
