"""Random writes of every kind the derived records (client summaries, dashboard rows) must
follow, through the repository as the use cases write: a record of any store a summary or a
row is made from changed, copied to another client or deleted; a new session log, perhaps
signed; one save touching two clients. Refused writes (a signed record, a change the models
refuse) write nothing and are skipped, as a person's would be.

``random_writes(repo, seed, n, after_each)`` makes ``n`` of them on a seeded practice
(``seeders.seed_demo_practice``), calling ``after_each()`` after every one.
"""

from __future__ import annotations

import importlib
import json
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from medex.repository import WriteRefused
from medex.services.dashboard_rows import ROW_INPUTS
from medex.services.sessions import sign_session_log
from medex.session_logs import Attendance, SessionLog
from medex.stores import by_store

from .aio import run
from .fakes import FakeSigner

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _shifted(value: str, days: int) -> str:
    return (date.fromisoformat(value) + timedelta(days=days)).isoformat()


# What a change does to a record of each store (the fields the derived records depend on).
CHANGES: dict[str, Callable[[dict, random.Random], dict]] = {
    "clients": lambda d, rng: {
        "status": rng.choice(["referred", "onboarding", "active", "discharged"]),
        "last_name": rng.choice(["Lee", "Zhou", "Abbott"]),
    },
    "referrals": lambda d, rng: {
        "focus_decision": rng.choice([None, "accepted"]),
        "referred_on": _shifted(d["referred_on"], -rng.randrange(0, 9)),
        "diagnoses": rng.choice([d["diagnoses"], [{"code": "Z99.89", "description": "Other"}]]),
    },
    "screenings": lambda d, rng: {"screened_on": _shifted(d["screened_on"], -rng.randrange(9))},
    "clearances": lambda d, rng: {"received_on": rng.choice([None, d.get("received_on")])},
    "goals": lambda d, rng: {"recorded_on": _shifted(d["recorded_on"], -1)},
    "episodes": lambda d, rng: {
        "start_date": _shifted(d["start_date"], -rng.randrange(0, 30)),
        **(
            {
                "status": "discharged",
                "discharge_date": TODAY.isoformat(),
                "discharge_reason": "client_request",
            }
            if rng.random() < 0.3
            else {}
        ),
    },
    "session_logs": lambda d, rng: {
        "session_date": _shifted(d["session_date"], rng.randrange(-20, 5)),
    },
    "assessments": lambda d, rng: {
        "assessed_on": _shifted(d["assessed_on"], -rng.randrange(20)),
        "kind": rng.choice(["baseline", "reassessment"]),
    },
    "documents": lambda d, rng: {"document_date": _shifted(d["document_date"], 2)},
    "schedules": lambda d, rng: {"starts_on": _shifted(d["starts_on"], -7)},
    "consents": lambda d, rng: {"signed_on": d["signed_on"]},
    "health_histories": lambda d, rng: {},
}
STORES = sorted(ROW_INPUTS)
assert set(CHANGES) == ROW_INPUTS, "a store the derived records read has no change here"


def _model(store: str) -> Any:
    module, name = by_store()[store].models[0].rsplit(".", 1)
    return getattr(importlib.import_module(f"medex.{module}"), name)


def _new_log(repo, rng: random.Random, client_id: str) -> SessionLog:
    return SessionLog(
        client_id=client_id,
        session_date=TODAY - timedelta(days=rng.randrange(-3, 60)),
        start_time=time(rng.randrange(7, 19), 0),
        attendance=rng.choice(list(Attendance)),
        attendance_reason="Unwell",
        episode_id=rng.choice(
            [None, *(json.loads(t)["id"] for t in repo.stores.get("episodes", {}).values())]
        ),
    )


def random_write(repo, rng: random.Random, stores: Sequence[str] = STORES) -> None:
    """One write to one of ``stores``, chosen by ``rng`` (session logs, the most frequent, four
    times as often; a change or delete of one is of an unsigned one, while there is one)."""
    store = rng.choice([*stores, *["session_logs"] * 4])
    docs = [json.loads(t) for t in repo.stores.get(store, {}).values()]
    clients = list(repo.stores["clients"])
    if not docs:
        return
    action = rng.choice(["copy", "change", "change", "delete", "two"])
    drafts = [d for d in docs if not d.get("signature")]
    doc = rng.choice(drafts if store == "session_logs" and drafts else docs)
    model = _model(store)
    try:
        if store == "session_logs" and action == "copy":  # a new log, then perhaps signed
            log = _new_log(repo, rng, rng.choice(clients))
            run(repo.save(log))
            if rng.random() < 0.4:
                run(sign_session_log(repo, log, signer=FakeSigner(), now=NOW))
            return
        if store == "session_logs" and action == "two":  # one save touching two clients
            run(repo.save(*(_new_log(repo, rng, c) for c in rng.sample(clients, 2))))
            return
        if action == "delete" and store != "clients":
            run(repo.delete(model, doc["id"]))
            return
        update = CHANGES[store](doc, rng)
        if action == "copy" and store != "clients":
            doc = {k: v for k, v in doc.items() if k not in ("_rev", "_signed")}
            update = {**update, "id": str(uuid.uuid4()), "client_id": rng.choice(clients)}
            for key in ("key_id", "key_signature", "signature", "signed_at", "signed_by"):
                doc.pop(key, None)
        record = model.model_validate({**doc, **update}, context={"today": TODAY})
        run(repo.save(record))
    except (ValidationError, WriteRefused, ValueError):
        pass  # a signed record, or a change the records refuse: nothing written


def random_writes(
    repo,
    seed: int,
    n: int,
    after_each: Callable[[], None] | None = None,
    stores: Sequence[str] = STORES,
) -> None:
    """``n`` random writes (``random_write``) to ``stores`` from ``seed``; ``after_each()``
    after each."""
    rng = random.Random(seed)
    for _ in range(n):
        random_write(repo, rng, stores)
        if after_each is not None:
            after_each()
