"""Building the documents a backup holds, and applying a restore plan, in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from medex import audit
from medex.intake import Client, Sex
from medex.screening import AcsmDecision, AcsmOutcome
from medex.session_logs import SessionLog, Tolerance, sign_log

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
NOT_NEEDED = AcsmOutcome(
    decision=AcsmDecision.CLEARANCE_NOT_NECESSARY, guidance="g", explanation="e"
)


def client_doc(first="Ada", last="Lovelace", **kw) -> dict:
    data = dict(
        first_name=first,
        last_name=last,
        date_of_birth=date(1950, 5, 17),
        sex=Sex.FEMALE,
        created_at=T0,
        updated_at=T0,
    )
    data.update(kw)
    return Client(**data).to_doc()


def log_doc(client_id: str, day: int = 0, *, signed: bool = False, **kw) -> dict:
    data = dict(
        client_id=client_id,
        session_date=date(2025, 3, 10) + timedelta(days=day),
        start_time=time(10, 0),
        pain=2,
        tolerance=Tolerance.WELL,
        response_notes="Completed all sets",
        created_at=T0,
        updated_at=T0,
    )
    data.update(kw)
    log = SessionLog(**data)
    if signed:
        log = sign_log(
            log,
            signed_by="Dana Reyes",
            credentials="MS",
            signed_at=T0 + timedelta(hours=1),
            screening_outcome=NOT_NEEDED,
            clearance=None,
        )
    return log.to_doc()


def audit_chain(n: int) -> list[dict]:
    chain: list[dict] = []
    for i in range(n):
        entry = audit.append(
            chain,
            {
                "actor": "Dana Reyes",
                "action": "create",
                "record_type": "clients",
                "record_id": f"00000000-0000-4000-8000-{i:012d}",
                "at": T0 + timedelta(minutes=i),
            },
        )
        chain.append(entry.to_doc())
    return chain


def apply(current: dict, plan) -> dict:
    """What the device holds after writing a plan (in-memory stand-in for store.js write)."""
    stores = {s: {d["id"]: d for d in docs} for s, docs in current.items()}
    for store, doc in plan.puts:
        stores.setdefault(store, {})[doc["id"]] = doc
    for store, record_id in plan.deletes:
        stores[store].pop(record_id)
    return {s: sorted(docs.values(), key=lambda d: d["id"]) for s, docs in sorted(stores.items())}
