"""Session-log domain timings under CPython (the Chromium/Pyodide figure comes later).

    python benchmarks/session_log.py [--runs 20] [--sessions 500]

Figures (median of runs, milliseconds):
  - validate: a typed session log (8 exercises, vitals) → SessionLog from a JSON document;
  - sign: flags + override/clearance rules + canonical JSON + SHA-256 (``sign_log``);
  - save+sign: ``sign_session_log`` through the InMemoryRepository (incl. JSON storage);
  - open client: ``client_timeline`` (the Sessions tab's query) for a client with N signed logs
    and 50 addenda, and the signatures' claims it hands over all matching.
Targets from issue 5 (in Chromium): saving a log ≤ 50 ms; opening a 500-session client
≤ 200 ms. Pyodide runs pure Python several times slower than CPython, so CPython figures
should sit well below those targets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site" / "py"), str(ROOT)]

from medex.exercises import starter_library  # noqa: E402
from medex.repository import InMemoryRepository  # noqa: E402
from medex.screening import AcsmDecision, AcsmOutcome  # noqa: E402
from medex.services.client_timeline import client_timeline  # noqa: E402
from medex.services.sessions import (  # noqa: E402
    AddAddendum,
    ClearanceContext,
    add_addendum,
    sign_session_log,
)
from medex.session_logs import ExerciseEntry, SessionLog, sign_log  # noqa: E402
from tests.support.aio import run  # noqa: E402

CLIENT = "8a3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
OUTCOME = AcsmOutcome(decision=AcsmDecision.CLEARANCE_NOT_NECESSARY, guidance="g", explanation="e")
LIB = starter_library()


def typed_log(day: int) -> dict:
    """A realistic session as a document (what a form or IndexedDB hands over)."""
    exercises = []
    for i, ex in enumerate(LIB[:8]):
        entry = ExerciseEntry.from_exercise(ex)
        doc = entry.model_dump(mode="json")
        if i % 3 == 1:
            doc.update(load=2.5 + i, load_unit="kg")
        doc["rpe"] = {"scale": "borg_6_20", "value": 12}
        doc["modifications"] = "support of one hand"
        exercises.append(doc)
    return {
        "client_id": CLIENT,
        "session_date": (date(2024, 1, 1) + timedelta(days=day)).isoformat(),
        "start_time": "10:00:00",
        "session_number": day + 1,
        "pre_vitals": {
            "timing": "pre",
            "heart_rate_bpm": 72,
            "systolic_mmhg": 134,
            "diastolic_mmhg": 82,
            "bp_position": "seated",
            "spo2_percent": 97,
            "glucose_mg_dl": 142,
            "ketones": "none",
        },
        "has_diabetes": True,
        "pain": 2,
        "pain_previous": 2,
        "medication_changes": "None reported",
        "target_hr_text": "Karvonen (heart-rate reserve): 72 + 40%–59% × (156 − 72) = 106–122 bpm",
        "exercises": exercises,
        "during_vitals": [
            {"timing": "during", "heart_rate_bpm": 110, "systolic_mmhg": 150, "diastolic_mmhg": 84}
        ],
        "post_vitals": {
            "timing": "post",
            "heart_rate_bpm": 84,
            "systolic_mmhg": 130,
            "diastolic_mmhg": 80,
        },
        "recovery_notes": "HR 84 bpm after 5 minutes seated.",
        "tolerance": "well",
        "response_notes": "Completed all sets; steadier on the step-up.",
        "plan_next": "Progress band row; add a second set of heel raises.",
    }


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def fmt(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):8.2f} ms  "
        f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=500)
    args = parser.parse_args()

    doc = typed_log(0)
    ctx = ClearanceContext(outcome=OUTCOME)

    validate = timed(lambda: SessionLog.model_validate(doc), args.runs)
    log = SessionLog.model_validate(doc)
    sign = timed(
        lambda: sign_log(
            log,
            signed_by="Dana Reyes",
            credentials="MS",
            signed_at=T0,
            screening_outcome=OUTCOME,
            clearance=None,
        ),
        args.runs,
    )

    def save_and_sign():
        repo = InMemoryRepository()
        run(
            sign_session_log(
                repo,
                SessionLog.model_validate(doc),
                signed_by="Dana Reyes",
                now=T0,
                clearance=ctx,
            )
        )

    save_sign = timed(save_and_sign, args.runs)

    repo = InMemoryRepository()
    build_start = time.perf_counter()
    ids = []
    for day in range(args.sessions):
        signed = run(
            sign_session_log(
                repo,
                SessionLog.model_validate(typed_log(day)),
                signed_by="Dana Reyes",
                now=T0 + timedelta(days=day),
                clearance=ctx,
            )
        )
        ids.append(signed.id)
    for i in range(0, len(ids), max(1, len(ids) // 50)):
        late = AddAddendum(log_id=ids[i], text="Late entry: client reported mild soreness.")
        run(add_addendum(repo, late, author="D R"))
    build_ms = (time.perf_counter() - build_start) * 1000
    size_kb = sum(len(t) for t in repo.stores["session_logs"].values()) / 1024

    runs = max(3, args.runs // 4)
    open_plain = timed(lambda: run(client_timeline(repo, CLIENT)), runs)
    reads = timed(lambda: run(repo.find(SessionLog, "client_id", CLIENT)), runs)
    check = run(client_timeline(repo, CLIENT))
    assert len(check.entries) == args.sessions
    assert len(check.claims) == args.sessions and all(c.hash_ok for c in check.claims)

    where = "Pyodide" if sys.platform == "emscripten" else "CPython"
    print(f"Session log domain, {where} {sys.version.split()[0]}")
    print(f"  validate one log (8 exercises)      {fmt(validate)}")
    print(f"  sign one log (flags + hash)         {fmt(sign)}")
    print(f"  save+sign via repository            {fmt(save_sign)}   (target in Chromium <= 50 ms)")
    print(
        f"  {args.sessions} logs: built in {build_ms:.0f} ms, "
        f"stored JSON {size_kb:.0f} KiB ({size_kb / args.sessions:.1f} KiB/log)"
    )
    print(
        f"  open client ({args.sessions} logs)             {fmt(open_plain)}   (target in Chromium <= 200 ms)"
    )
    print(f"    of which reading {args.sessions} logs (repo.find) {fmt(reads)}")


if __name__ == "__main__":
    main()
