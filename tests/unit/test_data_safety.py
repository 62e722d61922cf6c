"""Issue 7's browser-independent parts: audit entries of a save, backup reminder, backup
meta, and the Data screen's export → restore → undo loop over an in-memory store."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from app import core
from medex import audit
from medex.backup import make_backup
from medex.dashboard_row import COMPLETE_ID
from medex.intake import Client
from medex.navigation import Screen
from medex.records import PracticeProfile
from medex.repository import to_documents
from medex.services import data
from tests.support.aio import run
from tests.support.fakes import DataRepo, FilePlatform

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# -- audit entries of a save --------------------------------------------------------------------


def test_a_first_save_is_create_and_a_later_save_is_update():
    doc = {"id": "a", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    assert data.audit_action("clients", doc) == "create"
    assert data.audit_action("clients", {**doc, "updated_at": "2026-01-02T00:00:00Z"}) == "update"


def test_saving_a_log_at_its_signing_moment_is_sign_and_an_addendum_is_addendum():
    signed = {
        "id": "l",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-03T10:00:00Z",
        "signature": {"signed_by": "Dana", "signed_at": "2026-01-03T10:00:00Z"},
    }
    assert data.audit_action("session_logs", signed) == "sign"
    resaved = {**signed, "updated_at": "2026-01-04T10:00:00Z"}
    assert data.audit_action("session_logs", resaved) == "update"
    assert data.audit_action("addenda", signed) == "addendum"


def test_audit_entries_chain_from_the_last_entry_and_carry_no_record_content():
    client = Client(first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female")
    changes = data.save_changes(to_documents((client,)))
    first = data.audit_entries_for(None, changes, "Dana Reyes", NOW)
    more = data.audit_entries_for(first[-1], [("delete", "clients", client.id)], "Dana", NOW)
    chain = first + more
    assert audit.verify_chain(chain)[0]
    assert [e["seq"] for e in chain] == [1, 2]
    assert first[0]["action"] == "create" and first[0]["record_id"] == client.id
    assert "López" not in json.dumps(chain) and "1958" not in json.dumps(chain)


def test_an_empty_actor_is_recorded_as_practitioner():
    entry = data.audit_entries_for(None, [("export", "backup", "")], "", NOW)[0]
    assert entry["actor"] == "practitioner"


# -- backup reminder ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "severity", "title"),
    [
        (0, "info", "Last backup today"),
        (1, "info", "Last backup yesterday"),
        (7, "info", "Last backup 7 days ago"),  # = 7 days: not yet nagging
        (8, "urgent", "Last backup 8 days ago"),  # just above
    ],
)
def test_backup_reminder_nags_only_after_seven_days(days, severity, title):
    last = (NOW - timedelta(days=days, hours=1)).isoformat().replace("+00:00", "Z")
    [item] = data.backup_items(last, NOW)
    assert (item.severity, item.title) == (severity, title)
    assert item.link == Screen("data")


def test_never_backed_up_is_urgent():
    [item] = data.backup_items(None, NOW)
    assert item.severity == "urgent" and item.title == "No backup yet"


def test_backup_leaves_out_device_only_meta_and_drafts():
    meta = {"drafts": {"x": 1}, "crypto": {}, "undo_snapshot": "…", "versions": {"clients": 1}}
    assert data.backup_meta(meta) == {"versions": {"clients": 1}}


@pytest.mark.parametrize(
    ("passphrase", "confirm", "ok"),
    [
        ("123456789", "123456789", False),
        ("1234567890", "1234567890", True),
        ("1234567890", "x", False),
    ],
)
def test_a_passphrase_needs_ten_characters_typed_twice_the_same(passphrase, confirm, ok):
    assert (data.passphrase_problem(passphrase, confirm) == "") is ok


# -- the Data screen over an in-memory store ----------------------------------------------------


@pytest.fixture
def app():
    core.load_screens()
    a = core.App(DataRepo(), FilePlatform())
    run(
        a.repo.save(
            PracticeProfile(business_name="Reyes Medical Exercise", practitioner_name="Dana Reyes")
        )
    )
    run(
        a.repo.save(
            Client(first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female")
        )
    )
    run(a.load())
    a.navigate("#/data")
    return a


def _backup(app) -> str:
    run(app.dispatch("export-backup", {}))
    [(name, text)] = [(n, t) for n, t in app.platform.files.items() if n.endswith(".json")]
    assert name.startswith("medex-backup-")
    return text


def _without_revisions(stores: dict) -> dict:
    return {
        s: [{k: v for k, v in d.items() if k != "_rev"} for d in docs] for s, docs in stores.items()
    }


def test_export_then_restore_into_an_empty_device_gives_every_record_back(app):
    text = _backup(app)
    before = run(app.repo.export_all())["stores"]
    assert app.repo.audit[-1]["action"] == "export"
    assert run(app.repo.get_meta(data.LAST_BACKUP_KEY))

    empty = core.App(DataRepo(), FilePlatform())
    run(empty.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    pending = empty.state.pending["restore"]
    assert {r["store"]: r["new"] for r in pending["merge"]} == {"clients": 1, "profile": 1}
    assert empty.repo.stores == {}  # checking writes nothing
    run(empty.dispatch("restore-apply", {"mode": "merge"}))
    assert "Backup restored" in empty.state.flash
    # Every record as it was, each at its first revision on this device.
    restored = run(empty.repo.export_all())["stores"]
    assert _without_revisions(restored) == _without_revisions(before)
    assert all(d["_rev"].startswith("1-") for docs in restored.values() for d in docs)
    assert empty.state.profile.business_name == "Reyes Medical Exercise"
    assert audit.verify_chain(empty.repo.audit)[0]
    assert empty.repo.audit[-1]["action"] == "restore"

    # What Home reads was rebuilt by the restore itself: every client's row, and the row
    # that says they are complete (Home's first visit does not pay for the whole practice).
    rows = set(empty.repo.stores.get("dashboard_rows", {}))
    clients = set(empty.repo.stores["clients"])
    assert COMPLETE_ID in rows and clients and clients <= rows
    assert clients <= set(empty.repo.stores.get("client_summaries", {}))

    run(empty.dispatch("undo-restore", {}))  # shows what it would do; writes nothing
    assert empty.state.pending["undo"]["lines"] == [
        "2 records that the restore added will be removed."
    ]
    assert run(empty.repo.export_all())["stores"] == restored
    run(empty.dispatch("undo-restore-confirm", {}))
    assert "2 records that the restore added removed" in empty.state.flash
    assert all(not docs for docs in run(empty.repo.export_all())["stores"].values())
    assert run(empty.repo.get_meta(data.UNDO_SNAPSHOT_KEY)) is None
    assert run(empty.repo.get_meta(data.UNDO_INFO_KEY)) is None
    assert empty.repo.audit[-1]["action"] == "undo-restore"
    assert audit.verify_chain(empty.repo.audit)[0]


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda t: t[:-100], "cut off"),
        (
            lambda t: t.replace('"first_name":"Ana"', '"first_name":"Eve"'),
            "checksum does not match",
        ),
        (lambda t: '{"hello": "world"}', "not a MedEx Practice backup"),
        (lambda t: t.replace('"format_version":2', '"format_version":99'), "newer version"),
        # A file of the first format from a future version is refused the same way.
        (
            lambda t: make_backup({}, [], {}, "9.0").replace(
                '"format_version":1', '"format_version":99'
            ),
            "newer version",
        ),
    ],
)
def test_a_damaged_or_foreign_file_changes_nothing_and_says_why(app, damage, words):
    text = _backup(app)
    before = run(app.repo.export_all())
    run(app.dispatch("restore-check", {"backup_file_text": damage(text)}))
    assert words in app.state.pending["restore_error"]["reason"]
    assert "restore" not in app.state.pending
    run(app.dispatch("restore-apply", {"mode": "replace", "confirm_replace": "yes"}))
    assert run(app.repo.export_all()) == before
    assert "Nothing was changed" in run(app.html())


def test_replace_needs_explicit_confirmation(app):
    text = _backup(app)
    run(
        app.repo.save(
            Client(first_name="Ben", last_name="Ng", date_of_birth="1970-01-01", sex="male")
        )
    )
    run(app.dispatch("restore-check", {"backup_file_text": text}))
    run(app.dispatch("restore-apply", {"mode": "replace"}))
    assert "confirm_replace" in app.state.forms["restore"].errors
    assert len(run(app.repo.documents("clients"))) == 2
    run(app.dispatch("restore-apply", {"mode": "replace", "confirm_replace": "yes"}))
    assert [c["first_name"] for c in run(app.repo.documents("clients"))] == ["Ana"]


def test_the_audit_screen_shows_the_chain_verdict_and_no_content(app):
    app.navigate("#/audit")
    html = run(app.html())
    assert "The audit log is intact (2 entries)" in html
    assert "López" not in html
    app.repo.audit[0] = {**app.repo.audit[0], "actor": "Mallory"}
    assert "does not verify" in run(app.html())


def test_outcomes_csv_downloads(app):
    run(app.dispatch("export-csv", {}))
    [text] = [t for n, t in app.platform.files.items() if n.endswith(".csv")]
    assert text.startswith("\ufeffclient_id,")
    assert app.repo.audit[-1]["record_type"] == "outcomes"


def test_locking_forgets_every_record_and_typed_value(app):
    app.navigate("#/clients")
    app.form("client").values = {"last_name": "López"}
    app.state.pending["restore"] = object()
    app.forget_everything()
    assert app.state.locked and app.state.profile is None
    assert app.state.forms == {} and app.state.pending == {}
    html = run(app.html())
    assert "MedEx Practice is locked" in html and "López" not in html and "Reyes" not in html
