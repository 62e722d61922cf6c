"""A restore (and the undo of one) rebuilds the client summaries and dashboard rows its write
dropped right after it, from the records it has in hand: no session log is read back, and
what is stored equals a recomputation from every record."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic_core
import pytest

from app import core
from medex.client_summary import AssessmentDate, ClientSummary, EpisodeDates
from medex.dashboard_row import COMPLETE_ID, DashboardRow
from medex.intake import Client
from medex.records import PracticeProfile
from medex.services import dashboard_rows as rows_service
from medex.services import summaries as summaries_service
from medex.services.restore import summary_inputs
from medex.services.summaries import REBUILD_BY_CLIENT_MAX, projected
from medex.session_logs import SessionLog, SessionLogSummary
from tests.support.aio import run
from tests.support.backups import client_doc, log_doc
from tests.support.fakes import DataRepo, FilePlatform
from tests.unit.test_client_summaries import assert_in_step

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLIENTS = REBUILD_BY_CLIENT_MAX + 5  # more than are rebuilt client by client


class ProjectionCounting(DataRepo):
    """Counts the whole-store or indexed projections of session logs (reading them back)."""

    def __init__(self) -> None:
        super().__init__()
        self.log_reads = 0

    async def project(self, model, store, where=None):  # type: ignore[override]
        if store == "session_logs":
            self.log_reads += 1
        return await super().project(model, store, where=where)


def _practice() -> core.App:
    core.load_screens()
    app = core.App(DataRepo(), FilePlatform())
    run(app.repo.save(PracticeProfile(business_name="Reyes", practitioner_name="Dana Reyes")))
    for i in range(CLIENTS):
        client = Client.model_validate(client_doc(f"Ana{i}", "López"))
        logs = [SessionLog.model_validate(log_doc(client.id, day=d)) for d in range(i % 3 + 1)]
        if i % 4 == 0:
            logs.append(SessionLog.model_validate(log_doc(client.id, day=9, signed=True)))
        run(app.repo.save(client, *logs))
    run(app.load())
    app.navigate("#/data")
    return app


def _backup(app: core.App) -> str:
    run(app.dispatch("export-backup", {}))
    [text] = [t for n, t in app.platform.files.items() if n.endswith(".json")]
    return text


def _assert_derived_in_step(repo) -> None:
    assert_in_step(repo)
    rows = {r.id: r for r in run(repo.list(DashboardRow))}
    assert COMPLETE_ID in rows
    for row in run(rows_service.recomputed_rows(repo)):
        assert rows_service.same_row(rows.get(row.id), row), row.name or row.id


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_a_restore_rebuilds_summaries_and_rows_without_reading_the_logs_back(mode):
    source = _practice()
    text = _backup(source)
    empty = core.App(ProjectionCounting(), FilePlatform())
    run(empty.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    assert empty.repo.log_reads == 0
    form = {"mode": mode, "confirm_replace": "yes"}
    run(empty.dispatch("restore-apply", form))
    assert "Backup restored" in empty.state.flash
    assert empty.repo.log_reads == 0  # built from the records the restore had in hand
    stored = {s.id for s in run(empty.repo.list(ClientSummary))}
    assert {c.id for c in run(empty.repo.list(Client))} <= stored
    _assert_derived_in_step(empty.repo)


def test_a_merge_over_records_already_here_counts_both():
    """Summaries made from the records in hand hold the logs already on this device and the
    restored ones alike (a merge adds to what is here)."""
    source = _practice()
    text = _backup(source)
    target = _practice()  # other clients, other logs
    counting = ProjectionCounting()
    counting.db = target.repo.db
    app = core.App(counting, FilePlatform())
    run(app.load())
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    counting.log_reads = 0
    run(app.dispatch("restore-apply", {"mode": "merge"}))
    assert counting.log_reads == 0
    assert len(run(counting.list(Client))) == 2 * CLIENTS
    _assert_derived_in_step(counting)


def test_an_undo_rebuilds_them_from_the_records_in_hand_too():
    source = _practice()
    text = _backup(source)
    target = _practice()
    counting = ProjectionCounting()
    counting.db = target.repo.db
    app = core.App(counting, FilePlatform())
    run(app.load())
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    run(app.dispatch("restore-apply", {"mode": "replace", "confirm_replace": "yes"}))
    assert len(run(counting.list(Client))) == CLIENTS  # the backup's only
    run(app.dispatch("undo-restore", {}))
    counting.log_reads = 0
    run(app.dispatch("undo-restore-confirm", {}))
    assert app.state.flash.startswith("The restore was undone")
    assert counting.log_reads == 0
    assert len(run(counting.list(Client))) == CLIENTS  # this device's again
    _assert_derived_in_step(counting)


def test_summary_inputs_apply_the_puts_and_deletes_over_the_records_here():
    here = log_doc("c1", day=0)
    gone = log_doc("c1", day=1)
    changed = {**log_doc("c2", day=2), "id": here["id"], "client_id": "c2"}
    added = {**log_doc("c3", day=3), "unknown_field": "ignored"}
    episode = {"id": "e1", "client_id": "c1", "start_date": "2026-01-05", "title": "Knee"}
    inputs = summary_inputs(
        {"session_logs": [here, gone], "episodes": [episode], "clients": [{"id": "c1"}]},
        [("session_logs", changed), ("session_logs", added), ("clients", {"id": "c9"})],
        [("session_logs", gone["id"]), ("clients", "c1")],
    )
    assert set(inputs) == {"session_logs", "episodes", "assessments"}
    rows = inputs["session_logs"]
    assert set(rows) == {here["id"], added["id"]}
    assert {i: client for i, (client, _) in rows.items()} == {here["id"]: "c2", added["id"]: "c3"}
    logs = {lg.id: lg for lg in projected("session_logs", [row for _, row in rows.values()])}
    assert all(isinstance(lg, SessionLogSummary) for lg in logs.values())
    assert logs[here["id"]].client_id == "c2"  # the restore's copy, not the one here
    assert logs[added["id"]].session_date.isoformat() == added["session_date"]
    assert projected("episodes", [row for _, row in inputs["episodes"].values()]) == [
        EpisodeDates.model_validate(episode)
    ]
    assert inputs["assessments"] == {}
    assert not any(isinstance(a, AssessmentDate) for a in inputs["assessments"])


def test_a_client_whose_records_in_hand_are_refused_is_read_back_from_the_device():
    """The records in hand are validated a client at a time when the summaries are rebuilt:
    one the projection refuses costs that client a read of its own records, never a wrong
    summary or a failed rebuild."""
    repo = _practice().repo
    clients = run(repo.list(Client))
    inputs = summary_inputs(run(repo.export_all())["stores"], [], [])
    broken, fine = clients[0].id, clients[1].id
    rows = {
        i: (client, b'{"id": "x"}' if client == broken else row)
        for i, (client, row) in inputs["session_logs"].items()
    }
    assert any(client == broken for client, _ in rows.values())
    counting = ProjectionCounting()
    counting.db = repo.db
    in_hand = {**inputs, "session_logs": rows}
    made = run(summaries_service.rebuild_summaries(counting, [broken, fine], in_hand))
    assert counting.log_reads == 1  # the refused client's logs, read back by its index
    for client_id in (broken, fine):
        recomputed = summaries_service._summary_of(
            client_id, run(summaries_service.client_inputs(repo, client_id))
        )
        assert summaries_service.same_facts(made[client_id], recomputed)


def test_the_records_in_hand_become_models_a_client_at_a_time(monkeypatch):
    """A restore holds its records as JSON until the rebuild, which makes models of one
    client's records at a time (never of every session log at once)."""
    text = _backup(_practice())
    app = core.App(DataRepo(), FilePlatform())
    run(app.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
    pending = app.state.pending["restore"]["backup"]
    kept = [row for facts in pending.facts["session_logs"] for row in facts.projected or ()]
    assert kept and all(isinstance(row, bytes) for row in kept)
    del pending, kept
    validated: list[set[str]] = []
    original = summaries_service.projected

    def watched(store, rows):
        validated.append({pydantic_core.from_json(row)["client_id"] for row in rows})
        return original(store, rows)

    monkeypatch.setattr(summaries_service, "projected", watched)
    run(app.dispatch("restore-apply", {"mode": "merge"}))
    assert "Backup restored" in app.state.flash
    assert validated and all(len(clients) <= 1 for clients in validated)
    assert len(set().union(*validated)) == CLIENTS
    _assert_derived_in_step(app.repo)


def test_the_rebuild_lets_go_of_the_records_in_hand_and_saves_in_batches(monkeypatch):
    """The rows in hand are emptied as the summaries are made (a restore's 50,000 are not
    held beside a thousand summaries), and the summaries are saved a batch at a time."""
    repo = _practice().repo
    in_hand = summary_inputs(run(repo.export_all())["stores"], [], [])
    assert in_hand["session_logs"]
    counting = ProjectionCounting()
    counting.db = repo.db
    saved: list[int] = []
    original_save = counting.save

    async def save(*records):
        saved.append(len(records))
        return await original_save(*records)

    monkeypatch.setattr(counting, "save", save)
    monkeypatch.setattr(summaries_service, "SAVE_BATCH", 10)
    ids = [c.id for c in run(repo.list(Client))]
    repo.stores = {**repo.stores, ClientSummary.store: {}}  # none stored: each is saved
    made = run(summaries_service.rebuild_summaries(counting, ids, in_hand))
    assert in_hand == {}
    assert counting.log_reads == 0
    assert saved == [10, 10, CLIENTS - 20]
    assert set(made) == set(ids)
    assert_in_step(repo)
