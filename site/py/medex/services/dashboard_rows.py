"""Keeping the dashboard rows (``medex.dashboard_row``) in step with the records.

The repository applies this to every write, after the client summaries
(``services.derived``), so no use case can forget it:

- a save or delete of a record of any store a row is made from (``ROW_INPUTS``) refreshes
  that client's row in the same transaction (``row_ops``): the groups of facts the write
  touches are read again from that client's records by index, the others carried over from
  the stored row; the summary's facts come from the summary written with it; a row whose
  facts did not change is not written again;
- a raw write (a restore, its undo, the demo) never stores rows: it deletes those of the
  clients it touches (every row when it deletes records), and the row that says they are
  complete (``COMPLETE_ID``), in the same transaction;
- when that row is missing or out of date, every row is rebuilt from whole-store reads when
  next read (``dashboard_rows``) and saved with it, in one save.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from .. import revisions
from ..client_summary import SUMMARY_VERSION, ClientSummary
from ..dashboard_row import (
    COMPLETE_ID,
    ROW_VERSION,
    DashboardRow,
    DueFact,
    LoopRow,
    RetentionFact,
    RowFacts,
    RowView,
    unsigned_fields,
)
from ..health import HealthHistory
from ..intake import Client, Consent, Goals, Referral
from ..programs import Episode, reassessments_due, sessions_summary
from ..repository import WriteRefused
from ..schedule import SessionPlan
from ..screening import Clearance, ScreeningRecord
from .intake import ClientFile, is_ready
from .summaries import INPUTS, _summary_of, client_inputs, client_summaries

if TYPE_CHECKING:
    from ..repository import Repository

INTAKE: dict[str, type[BaseModel]] = {
    "referrals": Referral,
    "health_histories": HealthHistory,
    "screenings": ScreeningRecord,
    "clearances": Clearance,
    "consents": Consent,
    "goals": Goals,
}


class SentKind(BaseModel):
    """What a row reads of a sent document (never its HTML)."""

    id: str
    client_id: str = ""
    kind: str
    document_date: date


# What a row reads of a client's records, by the group of the row's facts they make: each
# store and what is read of each of its records (as ``services.summaries.INPUTS`` for the
# summary, through which the session logs and assessments come).
READS: dict[str, dict[str, type[BaseModel]]] = {
    "client": {"clients": Client},
    "intake": INTAKE,
    "sent": {"documents": SentKind},
    "plan": {"schedules": SessionPlan},
    "episodes": {"episodes": Episode},
}
# The stores a row is made from.
ROW_INPUTS: frozenset[str] = frozenset(
    {*(store for reads in READS.values() for store in reads), *INPUTS}
)
# The row's fields of each group, carried over from the stored row when a write does not
# touch the group's stores.
GROUPS: dict[str, tuple[str, ...]] = {
    "client": (
        "on_file",
        "name",
        "sort_name",
        "first_name",
        "last_name",
        "date_of_birth",
        "status",
        "provider_id",
    ),
    "intake": (
        "clearance_outstanding",
        "clearance_requested",
        "intake_ready",
        "first_referral_id",
        "referral_codes",
        "focus_open",
        "referral_follow_up",
    ),
    "sent": ("sent",),
    "plan": ("plan",),
}
_GROUP_STORES: dict[str, frozenset[str]] = {group: frozenset(READS[group]) for group in GROUPS}


# -- the facts of each group (pure) -------------------------------------------------------------


def _newest(records: Sequence[Any]) -> Any:
    return max(records, key=lambda r: (r.created_at, r.updated_at)) if records else None


def client_fields(client: Client | None) -> dict[str, Any]:
    if client is None:
        return {
            "on_file": False,
            "name": "",
            "sort_name": "",
            "first_name": "",
            "last_name": "",
            "date_of_birth": None,
            "status": "",
            "provider_id": "",
        }
    return {
        "on_file": True,
        "name": client.full_name,
        "sort_name": client.sort_name,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "date_of_birth": client.date_of_birth,
        "status": client.status.value,
        "provider_id": client.provider_id or "",
    }


def intake_fields(records: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """From the client's intake records (each store's, in id order)."""
    referrals: Sequence[Referral] = records.get("referrals", [])
    file = ClientFile(
        referrals=list(referrals),
        history=_newest(records.get("health_histories", [])),
        screening=_newest(records.get("screenings", [])),
        clearance=_newest(records.get("clearances", [])),
        consents=list(records.get("consents", [])),
        goals=_newest(records.get("goals", [])),
        assessment_done=True,  # the summary's facts: see ``DashboardRow.ready``
        program_chosen=True,
    )
    latest = max(referrals, key=lambda r: (r.referred_on, r.created_at)) if referrals else None
    outstanding = file.clearance_outstanding
    return {
        "clearance_outstanding": outstanding,
        "clearance_requested": file.clearance.requested_on
        if outstanding and file.clearance
        else None,
        "intake_ready": is_ready(file),
        "first_referral_id": min((r.id for r in referrals), default=""),
        "referral_codes": [d.code for d in latest.diagnoses] if latest else [],
        "focus_open": latest is not None and latest.focus_decision is None,
        "referral_follow_up": latest.physician_follow_up if latest else None,
    }


def summary_fields(summary: ClientSummary, planned: bool) -> dict[str, Any]:
    """The summary's facts the home screen reads (the sessions of the last weeks only for a
    client with a plan of sessions: today's schedule reads nothing else of them)."""
    return {
        "summary_version": summary.summary_version,
        "signed_logs": summary.signed_logs,
        **unsigned_fields(summary.unsigned),
        "latest_log": summary.latest_log,
        "recent_from": summary.recent_from if planned else None,
        "recent": summary.recent if planned else [],
        "assessed_on": summary.assessed_on,
        "has_baseline": summary.has_baseline,
    }


@dataclass(frozen=True)
class _Assessed:
    assessed_on: date


def episode_fields(episodes: Sequence[Episode], summary: ClientSummary) -> dict[str, Any]:
    """From the client's episodes of care (in id order) and summary: what falls due (without
    today), retention's, the caseload's and the referral loop's facts."""
    dues: list[DueFact] = []
    current: Episode | None = None  # retention's: the latest start, the first in store order
    caseload: Episode | None = None  # the caseload's: the latest (start, written)
    for e in episodes:
        if not e.is_active:
            continue
        part = summary.episode(e.id)
        # With the earliest day as today every item is "upcoming": its date and reason are
        # what the home screen needs; the status comes from today when read.
        for item in reassessments_due(
            e, [_Assessed(d) for d in part.assessed_on], part.counted_since_assessment, date.min
        ):
            if item.due_on is not None:
                fact = DueFact(
                    episode_id=e.id, kind=item.kind, due_on=item.due_on, reason=item.reason
                )
                dues.append(fact)
        if current is None or e.start_date > current.start_date:
            current = e
        if caseload is None or (e.start_date, e.created_at) > (
            caseload.start_date,
            caseload.created_at,
        ):
            caseload = e
    retention = None
    if current is not None:
        part = summary.episode(current.id)
        package = sessions_summary(current, part.attended)
        retention = RetentionFact(
            episode_id=current.id,
            order_id=next(e.id for e in episodes if e.is_active),
            start_date=current.start_date,
            last_two=part.last_two,
            attended=part.attended,
            last_attended=part.last_attended,
            remaining=package.remaining,
            included=package.included,
        )
    ep = max(episodes, key=lambda e: (e.is_active, e.start_date, e.created_at), default=None)
    loop = summary.episode(ep.id).loop if ep is not None else summary.loop
    return {
        "episodes": len(episodes),
        "dues": dues,
        "retention": retention,
        "caseload_program": caseload.program.name if caseload is not None else None,
        "loop": LoopRow(
            has_episode=ep is not None,
            active=ep.is_active if ep is not None else True,
            discharged_on=ep.discharge_date if ep is not None and not ep.is_active else None,
            episode_follow_up=ep.physician_follow_up if ep is not None else None,
            first_visit=loop.first_visit,
            flagged=loop.flagged,
        ),
    }


def sent_fields(docs: Iterable[SentKind]) -> dict[str, Any]:
    latest: dict[str, date] = {}
    for d in docs:
        if d.kind not in latest or d.document_date > latest[d.kind]:
            latest[d.kind] = d.document_date
    return {"sent": latest}


def plan_fields(plans: Sequence[SessionPlan]) -> dict[str, Any]:
    latest: SessionPlan | None = None
    for p in plans:  # the latest written (``services.schedule``)
        if latest is None or p.created_at > latest.created_at:
            latest = p
    return {"plan": latest}


def make_row(
    client_id: str,
    client: Client | None,
    intake: Mapping[str, Sequence[Any]],
    episodes: Sequence[Episode],
    summary: ClientSummary,
    sent: Iterable[SentKind],
    plans: Sequence[SessionPlan],
) -> DashboardRow:
    """A client's row from all of its records (each store's in id order)."""
    plan = plan_fields(plans)
    return with_owed(
        DashboardRow(
            id=client_id,
            client_id=client_id,
            **client_fields(client),
            **intake_fields(intake),
            **summary_fields(summary, planned=plan["plan"] is not None),
            **episode_fields(episodes, summary),
            **sent_fields(sent),
            **plan,
        )
    )


def with_owed(row: DashboardRow) -> DashboardRow:
    """The row with the reports it will owe, worked out from its other facts."""
    row.owed = row.owed_reports()
    return row


def same_row(a: DashboardRow | None, b: DashboardRow) -> bool:
    skip = {"created_at", "updated_at", "schema_version"}
    return a is not None and a.model_dump(mode="json", exclude=skip) == b.model_dump(
        mode="json", exclude=skip
    )


# -- kept in step with every write -----------------------------------------------------------------

Change = tuple[str, str, Mapping[str, Any] | None]  # (store, record id, doc or None: deleted)


def _client_of(store: str, doc: Mapping[str, Any]) -> str:
    return str(doc.get("id") if store == "clients" else doc.get("client_id") or "")


async def _read(
    repo: Repository,
    reads: Mapping[str, type[BaseModel]],
    client_id: str,
    changes: Sequence[Change],
) -> dict[str, list[Any]]:
    """The client's records of each store of ``reads`` with this write's changes applied, each
    store's in id order (``client_inputs``; a client record this write saves is not read)."""
    saved = {s for s, _id, doc in changes if s == Client.store and doc is not None}
    found = await client_inputs(repo, client_id, {s: m for s, m in reads.items() if s not in saved})
    out: dict[str, list[Any]] = {}
    for store, model in reads.items():
        records: dict[str, Any] = dict(found.get(store, {}))
        for s, record_id, doc in changes:
            if s != store:
                continue
            if doc is None:
                records.pop(record_id, None)
            else:
                records[record_id] = model.model_validate(doc)
        out[store] = [records[k] for k in sorted(records)]
    return out


async def _summary(
    repo: Repository, client_id: str, fresh: Mapping[str, ClientSummary]
) -> ClientSummary:
    if client_id in fresh:
        return fresh[client_id]
    current = await repo.get(ClientSummary, client_id)
    if current is not None and current.summary_version == SUMMARY_VERSION:
        return current
    return _summary_of(client_id, await client_inputs(repo, client_id))


async def row_ops(
    repo: Repository,
    puts: Sequence[Mapping[str, Any]],
    deleted: Sequence[tuple[str, str, str]],
    summaries: Mapping[str, ClientSummary],
) -> list[dict]:
    """The row writes that go with a save (``puts``) or a delete (``deleted``: ``(store, id,
    client_id)``), after the summaries (``summaries``: those the write touches, as they are with
    it): each touched client's row, expecting its current revision."""
    changes: dict[str, list[Change]] = {}
    for op in puts:
        if op["store"] in ROW_INPUTS and (client_id := _client_of(op["store"], op["doc"])):
            changes.setdefault(client_id, []).append((op["store"], op["doc"]["id"], op["doc"]))
    for store, record_id, client_id in deleted:
        if store in ROW_INPUTS and client_id:
            changes.setdefault(client_id, []).append((store, record_id, None))
    for client_id in summaries:  # a new client's first summary
        changes.setdefault(client_id, [])
    ops: list[dict] = []
    for client_id, client_changes in changes.items():
        current = await repo.get(DashboardRow, client_id)
        usable = current is not None and current.row_version == ROW_VERSION
        touched = {store for store, _id, _doc in client_changes}
        fields: dict[str, Any] = {}
        for group, stores in _GROUP_STORES.items():
            if usable and current is not None and not touched & stores:
                fields.update({f: getattr(current, f) for f in GROUPS[group]})
        if "on_file" not in fields:
            found = (await _read(repo, READS["client"], client_id, client_changes))["clients"]
            fields.update(client_fields(found[0] if found else None))
        if "intake_ready" not in fields:
            fields.update(intake_fields(await _read(repo, INTAKE, client_id, client_changes)))
        if "sent" not in fields:
            docs = await _read(repo, READS["sent"], client_id, client_changes)
            fields.update(sent_fields(docs["documents"]))
        if "plan" not in fields:
            plans = await _read(repo, READS["plan"], client_id, client_changes)
            fields.update(plan_fields(plans["schedules"]))
        summary = await _summary(repo, client_id, summaries)
        episodes = (await _read(repo, READS["episodes"], client_id, client_changes))["episodes"]
        fresh = with_owed(
            DashboardRow(
                id=client_id,
                client_id=client_id,
                **fields,
                **summary_fields(summary, planned=fields["plan"] is not None),
                **episode_fields(episodes, summary),
            )
        )
        if same_row(current, fresh):
            continue
        if current is not None:
            fresh.created_at = current.created_at
        ops.append(
            revisions.put_op(
                DashboardRow.store, fresh.to_doc(), current._rev if current is not None else ""
            )
        )
    return ops


class _ClientOf(BaseModel):
    client_id: str = ""


async def deleted_client(repo: Repository, store: str, record_id: str) -> str:
    """The client whose row deleting one record touches ("" when none)."""
    if store not in ROW_INPUTS:
        return ""
    if store == "clients":
        return record_id
    found = await repo.project(_ClientOf, store, where=("id", record_id))
    return found[0].client_id if found else ""


async def rows_dropped_by_raw_write(repo: Repository, ops: list[dict]) -> list[dict]:
    """A raw write without any row it carries, plus the deletes of the rows it may make
    wrong and of the row that says they are complete."""
    kept = [op for op in ops if op["store"] != DashboardRow.store]
    inputs = [op for op in kept if op["store"] in ROW_INPUTS]
    if not inputs:
        return kept
    if any("delete" in op for op in inputs):
        drop = {str(d["id"]) for d in await repo.documents(DashboardRow.store)}
    else:
        drop = {c for op in inputs if (c := _client_of(op["store"], op["doc"]))}
    drop.add(COMPLETE_ID)
    return kept + [{"store": DashboardRow.store, "delete": row_id} for row_id in sorted(drop)]


# -- read --------------------------------------------------------------------------------------------


def _by_client(records: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in sorted(records, key=lambda r: r.id):
        out.setdefault(str(r.client_id), []).append(r)
    return out


async def rebuild_rows(repo: Repository) -> list[DashboardRow]:
    """Every row recomputed from whole-store reads, stored in one save with the row that says
    they are complete (a device that refuses the write still gets them for this read)."""
    rows = await recomputed_rows(repo)
    stored, revs = await _stored_rows(repo)
    complete = DashboardRow(id=COMPLETE_ID, summary_version=SUMMARY_VERSION)
    changed = []
    for row in [*rows, complete]:
        current = stored.get(row.id)
        if current is not None:
            row.created_at = current.created_at
        row._rev = revs.get(row.id, "")
        if not same_row(current, row):
            changed.append(row)
    if changed and not repo.read_only:
        with contextlib.suppress(WriteRefused):  # correct for this read; rebuilt at the next
            await repo.save(*changed)
    return rows


async def _stored_rows(repo: Repository) -> tuple[dict[str, DashboardRow], dict[str, str]]:
    """The stored rows that read as rows, and every stored row's revision (a damaged one is
    overwritten by the rebuild, expecting its revision like any other)."""
    try:
        rows = await repo.list(DashboardRow)
        return {r.id: r for r in rows}, {r.id: r._rev for r in rows}
    except ValidationError:
        docs = await repo.documents(DashboardRow.store)
    stored: dict[str, DashboardRow] = {}
    for doc in docs:
        with contextlib.suppress(ValidationError):
            row = DashboardRow.model_validate(doc)
            stored[row.id] = row
    return stored, {str(d.get("id")): str(d.get("_rev") or "") for d in docs}


async def recomputed_rows(repo: Repository) -> list[DashboardRow]:
    """Every client's row from whole-store reads (in client id order)."""
    clients = await repo.list(Client)
    summaries = await client_summaries(repo, clients)
    intake = {store: _by_client(await repo.list(model)) for store, model in INTAKE.items()}
    episodes = _by_client(await repo.list(Episode))
    sent = _by_client(await repo.project(SentKind, "documents"))
    plans = _by_client(await repo.list(SessionPlan))
    on_file = {c.id: c for c in clients}
    rows = [
        make_row(
            client_id,
            on_file.get(client_id),
            {store: found.get(client_id, []) for store, found in intake.items()},
            episodes.get(client_id, []),
            summaries[client_id],
            sent.get(client_id, []),
            plans.get(client_id, []),
        )
        for client_id in sorted(set(on_file) | set(summaries))
    ]
    return rows


def _current(rows: Sequence[RowFacts], complete: RowFacts | None) -> bool:
    return (
        complete is not None
        and complete.summary_version == SUMMARY_VERSION
        and all(r.row_version == ROW_VERSION for r in rows)
    )


async def home_rows(repo: Repository) -> list[RowFacts]:
    """Every client's row as the home screen reads it (``RowView``: the facts only), in
    client id order: one read of the store while the rows are complete and current, else
    rebuilt, as ``dashboard_rows``. A row that does not read as a row (a damaged store) makes
    them rebuilt too: the home screen always opens."""
    try:
        views: list[RowView] = await repo.project(RowView, DashboardRow.store)
    except ValidationError:
        return list(await rebuild_rows(repo))
    complete = next((r for r in views if r.id == COMPLETE_ID), None)
    if not _current(views, complete):
        return list(await rebuild_rows(repo))
    rows = [r for r in views if r.id != COMPLETE_ID]
    rows.sort(key=lambda r: r.id)
    return list(rows)


async def dashboard_rows(repo: Repository) -> list[DashboardRow]:
    """Every client's row (and those of records whose client is not on file), in client id
    order: one read of the rows while they are complete and current, else rebuilt."""
    rows = await repo.list(DashboardRow)
    complete = next((r for r in rows if r.id == COMPLETE_ID), None)
    if not _current(rows, complete):
        return await rebuild_rows(repo)
    return sorted((r for r in rows if r.id != COMPLETE_ID), key=lambda r: r.id)
