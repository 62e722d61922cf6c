"""Keeping the client summaries (``medex.client_summary``) in step with the records.

The one rule of which summaries a write touches lives here, and the repository applies it to
every write (``AuditedRepository``), so no use case can forget it:

- a save or delete of a session log, an episode of care or an assessment refreshes that
  client's summary in the same transaction (``summary_ops``), re-reading only that client's
  records by index; a summary whose facts did not change is not written again; a client
  saved without a summary (a new client) gets one;
- a raw write (a restore, its undo, the demo) never stores summaries: it deletes those of
  every client it touches (``dropped_by_raw_write``), in the same transaction;
- a summary that is missing or older than ``SUMMARY_VERSION`` is rebuilt when read
  (``client_summaries``) and saved, or only used if the device refuses the write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from .. import revisions
from ..client_summary import (
    SUMMARY_VERSION,
    AssessmentDate,
    ClientSummary,
    EpisodeDates,
    same_facts,
    summarize,
)
from ..intake import Client
from ..repository import WriteRefused
from ..session_logs import SessionLogSummary

if TYPE_CHECKING:
    from ..repository import Repository

# The stores a summary is made from, and what it reads of each record.
INPUTS: dict[str, type[BaseModel]] = {
    "session_logs": SessionLogSummary,
    "episodes": EpisodeDates,
    "assessments": AssessmentDate,
}
# More stale summaries than this are rebuilt from whole-store reads rather than per client.
REBUILD_BY_CLIENT_MAX = 20

Inputs = dict[str, dict[str, BaseModel]]  # store → record id → its projection

# Records in hand as what a summary reads of each (``projection_json``), by store and id, with
# their client's id: how a restore holds 50,000 session logs from the check to the rebuild
# (a few hundred bytes each, where the projection's model is several times that), validated a
# client at a time when the summaries are rebuilt (``rebuild_summaries``).
Rows = dict[str, dict[str, tuple[str, bytes]]]  # store → record id → (client id, JSON)
# Summaries saved together at most (a restore rebuilds a thousand: each save's documents and
# their JSON are let go before the next is made).
SAVE_BATCH = 100

_ROWS: dict[str, TypeAdapter[list[BaseModel]]] = {}
_FIELDS: dict[str, set[str]] = {}


def projection_json(store: str, doc: Mapping[str, Any] | BaseModel) -> bytes:
    """What a summary reads of a record of an ``INPUTS`` store (the projection's fields only,
    in the record's own order), as JSON: of a plain-JSON document, or of a validated record as
    its own dump has them (the same text as of that dump, decoded). Not validated here
    (``projected`` does it)."""
    if store not in _FIELDS:
        _FIELDS[store] = set(INPUTS[store].model_fields)
    fields = _FIELDS[store]
    if isinstance(doc, BaseModel):
        return type(doc).__pydantic_serializer__.to_json(doc, include=fields)
    return pydantic_core.to_json({k: v for k, v in doc.items() if k in fields})


def projected(store: str, rows: Sequence[bytes]) -> list[BaseModel]:
    """``projection_json`` rows of ``store`` as its projection's models, in one validation
    (raises ``ValidationError`` if any is refused)."""
    if store not in _ROWS:
        _ROWS[store] = TypeAdapter(list[INPUTS[store]])  # type: ignore[valid-type]
    return _ROWS[store].validate_json(b"[" + b",".join(rows) + b"]")


def _projection(store: str, doc: Mapping[str, Any]) -> BaseModel:
    model = INPUTS[store]
    return model.model_validate({k: doc[k] for k in model.model_fields if k in doc})


async def client_inputs(
    repo: Repository, client_id: str, inputs: Mapping[str, type[BaseModel]] = INPUTS
) -> Inputs:
    """The client's records of each store of ``inputs`` (store → what is read of each record;
    by default those a summary is made from), by id: one indexed read per store (of the
    client record itself, by its id)."""
    out: Inputs = {}
    for store, model in inputs.items():
        field = "id" if store == Client.store else "client_id"
        found = await repo.project(model, store, where=(field, client_id))
        out[store] = {str(getattr(r, "id")): r for r in found}  # noqa: B009
    return out


def _summary_of(client_id: str, inputs: Inputs) -> ClientSummary:
    return summarize(
        client_id,
        [r for r in inputs.get("session_logs", {}).values() if isinstance(r, SessionLogSummary)],
        [r for r in inputs.get("episodes", {}).values() if isinstance(r, EpisodeDates)],
        [r for r in inputs.get("assessments", {}).values() if isinstance(r, AssessmentDate)],
    )


def touched_clients(ops: Sequence[Mapping[str, Any]]) -> set[str]:
    """The clients whose summaries a write's puts touch."""
    return {
        str(op["doc"]["client_id"])
        for op in ops
        if op["store"] in INPUTS and "delete" not in op and op["doc"].get("client_id")
    }


async def summary_ops(
    repo: Repository,
    puts: Sequence[Mapping[str, Any]],
    deleted: Sequence[tuple[str, str, str]] = (),
    fresh_out: dict[str, ClientSummary] | None = None,
) -> list[dict]:
    """The summary writes that go with a save (``puts``: its ``{store, doc}`` operations) or a
    delete (``deleted``: ``(store, id, client_id)``): each touched client's summary
    recomputed from its stored records with this write applied, expecting the summary's
    current revision (another tab's refresh in between refuses the whole write)."""
    changes: dict[str, list[tuple[str, str, Mapping[str, Any] | None]]] = {}
    for op in puts:
        if op["store"] in INPUTS and op["doc"].get("client_id"):
            doc = op["doc"]
            changes.setdefault(str(doc["client_id"]), []).append((op["store"], doc["id"], doc))
    for store, record_id, client_id in deleted:
        if store in INPUTS and client_id:
            changes.setdefault(client_id, []).append((store, record_id, None))
    ops: list[dict] = []
    missing: set[str] = set()  # read, and not stored
    for op in puts:  # a client saved without a summary yet (a new one) gets its summary
        client_id = str(op["doc"]["id"]) if op["store"] == Client.store else ""
        if client_id and client_id not in changes and not await repo.get(ClientSummary, client_id):
            changes[client_id] = []
            missing.add(client_id)
    for client_id, client_changes in changes.items():
        current = None if client_id in missing else await repo.get(ClientSummary, client_id)
        if current is not None and current.summary_version == SUMMARY_VERSION:
            # Episodes and assessments as the summary holds them; the logs read again.
            logs = await repo.project(
                SessionLogSummary, "session_logs", where=("client_id", client_id)
            )
            inputs: Inputs = {
                "session_logs": {lg.id: lg for lg in logs},
                "episodes": {e.id: e for e in current.episode_dates},
                "assessments": {a.id: a for a in current.assessments},
            }
        else:
            inputs = await client_inputs(repo, client_id)
        for store, record_id, doc in client_changes:
            if doc is None:
                inputs[store].pop(record_id, None)
            else:
                inputs[store][record_id] = _projection(store, doc)
        fresh = _summary_of(client_id, inputs)
        if fresh_out is not None:  # every touched client's summary with this write, to go on
            fresh_out[client_id] = fresh
        if current is not None and same_facts(current, fresh):
            continue
        if current is not None:
            fresh.created_at = current.created_at
        ops.append(
            revisions.put_op(
                ClientSummary.store, fresh.to_doc(), current._rev if current is not None else ""
            )
        )
    return ops


async def dropped_by_raw_write(repo: Repository, ops: list[dict]) -> list[dict]:
    """A raw write (a restore, its undo, the demo) without any summary it carries, plus the
    deletes of the summaries it may make wrong: those of the clients whose records it puts,
    or every summary when it deletes such records. They are rebuilt when next read."""
    kept = [op for op in ops if op["store"] != ClientSummary.store]
    if any(op["store"] in INPUTS and "delete" in op for op in kept):
        drop = {str(d["id"]) for d in await repo.documents(ClientSummary.store)}
    else:
        drop = touched_clients(kept)
    return kept + [{"store": ClientSummary.store, "delete": client_id} for client_id in drop]


async def _summaries_from_rows(
    repo: Repository, ids: list[str], in_hand: Rows
) -> dict[str, ClientSummary]:
    """The summaries of ``ids`` from the records in hand (``Rows``, emptied here: each
    client's records are let go once its summary is made), a client at a time: only one
    client's records are ever models at once. A client whose rows the projection refuses is
    read from the device instead."""
    wanted = set(ids)
    by_client: dict[str, dict[str, list[bytes]]] = {}
    for store in list(in_hand):
        for client_id, row in in_hand.pop(store).values():
            if client_id in wanted:
                by_client.setdefault(client_id, {}).setdefault(store, []).append(row)
    fresh: dict[str, ClientSummary] = {}
    for client_id in ids:
        rows_of = by_client.pop(client_id, {})
        try:
            inputs: Inputs = {
                store: {str(getattr(r, "id")): r for r in projected(store, rows_of.get(store, []))}  # noqa: B009
                for store in INPUTS
            }
        except ValidationError:
            inputs = await client_inputs(repo, client_id)
        fresh[client_id] = _summary_of(client_id, inputs)
    return fresh


async def rebuild_summaries(
    repo: Repository, client_ids: Iterable[str] | None = None, in_hand: Rows | None = None
) -> dict[str, ClientSummary]:
    """Recompute the summaries of ``client_ids`` (every client's by default) from the records
    and store those that changed (``SAVE_BATCH`` a save); returns them. A device that refuses
    a write (full, or another tab rebuilt them first) still gets correct summaries for this
    read.
    ``in_hand``: every record of each ``INPUTS`` store as stored now, as ``Rows`` (a restore
    has them at hand: ``services.restore.summary_inputs``), instead of reading them; it is
    emptied as the summaries are made."""
    ids = list(client_ids) if client_ids is not None else [c.id for c in await repo.list(Client)]
    if not ids:
        return {}
    fresh: dict[str, ClientSummary] = {}
    if in_hand is not None:
        fresh = await _summaries_from_rows(repo, ids, in_hand)
    elif len(ids) <= REBUILD_BY_CLIENT_MAX:
        for client_id in ids:
            fresh[client_id] = _summary_of(client_id, await client_inputs(repo, client_id))
    else:
        by_client: dict[str, Inputs] = {client_id: {s: {} for s in INPUTS} for client_id in ids}
        for store, model in INPUTS.items():
            for record in await repo.project(model, store):
                inputs = by_client.get(str(getattr(record, "client_id")))  # noqa: B009
                if inputs is not None:
                    inputs[store][str(getattr(record, "id"))] = record  # noqa: B009
        fresh = {client_id: _summary_of(client_id, by_client[client_id]) for client_id in ids}
    stored = {s.id: s for s in await repo.list(ClientSummary)}
    changed = []
    for client_id, summary in fresh.items():
        current = stored.get(client_id)
        if current is not None and same_facts(current, summary):
            fresh[client_id] = current
            continue
        if current is not None:
            summary.created_at = current.created_at
            summary._rev = current._rev
        changed.append(summary)
    if not repo.read_only:
        for start in range(0, len(changed), SAVE_BATCH):
            with contextlib.suppress(WriteRefused):  # correct for this read; rebuilt at the next
                await repo.save(*changed[start : start + SAVE_BATCH])
    return fresh


async def client_summaries(
    repo: Repository, clients: Iterable[Client] | None = None, in_hand: Rows | None = None
) -> dict[str, ClientSummary]:
    """Every client's summary (``clients``: those on file, read if not given), rebuilding any
    missing or out of date: one read of the summaries when all are current. Summaries of
    records whose client is not on file come too (their logs still need signing).
    ``in_hand``: as for ``rebuild_summaries``."""
    ids = [c.id for c in (clients if clients is not None else await repo.list(Client))]
    stored = {s.id: s for s in await repo.list(ClientSummary)}
    stale = [
        client_id
        for client_id in ids
        if client_id not in stored or stored[client_id].summary_version != SUMMARY_VERSION
    ]
    if stale:
        stored.update(await rebuild_summaries(repo, stale, in_hand))
    return stored


async def client_logs(repo: Repository, client_id: str) -> list[SessionLogSummary]:
    """The client's session logs as summaries (when a summary cannot answer: see
    ``ClientSummary.logs_on`` and ``latest_log``)."""
    return await repo.project(SessionLogSummary, "session_logs", where=("client_id", client_id))
