"""Backup and restore at practice scale: 1,000 clients, 50,000 session logs.

    python benchmarks/backup.py [--clients 1000] [--logs 50000] [--runs 3]
    MEDEX_DIST=<folder> python benchmarks/backup.py --browser [--no-build] [--logs 50000]

Session logs are real ``SessionLog`` documents (vitals, three exercises, notes; one in five
signed), so validation cost is representative. Without ``--browser``: the pure domain under
CPython. With ``--browser``: the built app in headless Chromium (records written straight into
its IndexedDB), timed by the shell's own action timings (``window.medexTimings``): export from
the Data screen (click → file downloaded), then, in a fresh browser profile (an empty practice),
check that file and restore it. Memory: the page's JS heap (``performance.memory``, sampled
every 50 ms in the page) and the renderer process's resident memory (``/proc``, sampled every
50 ms), each as the peak during the step minus the value just before it; and the longest time the
page did not answer (the longest task seen by a ``longtask`` observer) during the export. Check
and restore are also shown stage by stage (each timed step of 200 ms or more as it ended: the
renderer's memory then and its peak since the previous one, the JS heap, and the size of
Pyodide's WebAssembly memory, which never shrinks: the Python heap's high-water mark).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site" / "py"), str(ROOT)]

from medex import audit  # noqa: E402
from medex.backup import make_backup, parse_backup, plan_restore  # noqa: E402
from medex.backup_stream import make_chunked_backup, parse_chunked  # noqa: E402
from medex.exercises import LoadUnit  # noqa: E402
from medex.intake import Client, Sex  # noqa: E402
from medex.records import new_id  # noqa: E402
from medex.safety import BpPosition, Timing, Vitals  # noqa: E402
from medex.screening import AcsmDecision, AcsmOutcome  # noqa: E402
from medex.session_logs import ExerciseEntry, SessionLog, Tolerance, sign_log  # noqa: E402

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
OK = AcsmOutcome(decision=AcsmDecision.CLEARANCE_NOT_NECESSARY, guidance="g", explanation="e")
FIRST = ["Ada", "Grace", "José", "Mei", "Olu", "Zoë", "Ahmed", "Liam", "Noor", "Sven"]
LAST = ["Lovelace", "Hopper", "García", "Chen", "Adeyemi", "Müller", "Haddad", "Kim"]


def clients(n: int, rng: random.Random) -> list[dict]:
    return [
        Client(
            first_name=rng.choice(FIRST),
            last_name=rng.choice(LAST),
            date_of_birth=date(
                1940 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28)
            ),
            sex=rng.choice(list(Sex)),
            phone="(555) 123-4567",
            notes="Referred after total knee replacement; walks with a cane.",
            created_at=T0,
            updated_at=T0,
        ).to_doc()
        for _ in range(n)
    ]


def session_logs(client_ids: list[str], n: int, rng: random.Random) -> list[dict]:
    template = SessionLog(
        client_id=client_ids[0],
        session_date=date(2024, 1, 2),
        start_time=time(10, 0),
        pre_vitals=Vitals(
            timing=Timing.PRE,
            heart_rate_bpm=72,
            systolic_mmhg=128,
            diastolic_mmhg=78,
            bp_position=BpPosition.SEATED,
        ),
        pain=2,
        exercises=[
            ExerciseEntry(exercise_id=client_ids[0], exercise_name="Sit-to-stand", sets=2, reps=10),
            ExerciseEntry(
                exercise_id=client_ids[0],
                exercise_name="Band row",
                sets=3,
                reps=12,
                load=5,
                load_unit=LoadUnit.KG,
            ),
            ExerciseEntry(
                exercise_id=client_ids[0], exercise_name="Recumbent bike", sets=1, duration_s=900
            ),
        ],
        tolerance=Tolerance.WELL,
        response_notes="Completed all sets; steadier on sit-to-stand.",
        plan_next="Progress band row to 6 kg.",
        created_at=T0,
        updated_at=T0,
    )
    base = template.to_doc()
    out = []
    for i in range(n):
        doc = {
            **base,
            "id": new_id(),
            "client_id": rng.choice(client_ids),
            "session_date": (date(2024, 1, 2) + timedelta(days=i % 500)).isoformat(),
        }
        if i % 5 == 0:  # one in five signed (signing re-validates and hashes: slower to build)
            doc = sign_log(
                SessionLog.model_validate(doc),
                signed_by="Dana Reyes",
                signed_at=T0 + timedelta(hours=1),
                screening_outcome=OK,
                clearance=None,
            ).to_doc()
        out.append(doc)
    return out


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = clock.perf_counter()
        result = fn()
        times.append((clock.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--logs", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="the built app in Chromium")
    parser.add_argument("--no-build", action="store_true", help="with --browser: use MEDEX_DIST")
    parser.add_argument("--profile", action="store_true", help="profile parse_chunked (CPython)")
    parser.add_argument(
        "--file",
        help="with --browser: keep the exported file here; if it exists, only check and restore it",
    )
    args = parser.parse_args()
    if args.browser:
        from backup_browser import run_in_browser  # benchmarks/backup_browser.py

        run_in_browser(args, clients, session_logs)
        return
    rng = random.Random(7)
    start = clock.perf_counter()
    cs = clients(args.clients, rng)
    logs = session_logs([c["id"] for c in cs], args.logs, rng)
    chain: list[dict] = []
    for i in range(2000):
        chain.append(
            audit.append(
                chain,
                {
                    "actor": "Dana Reyes",
                    "action": "create",
                    "record_type": "session_logs",
                    "record_id": logs[i]["id"],
                    "at": T0,
                },
            ).to_doc()
        )
    stores = {"clients": cs, "session_logs": logs}
    print(
        f"generated {len(cs)} clients, {len(logs)} session logs, {len(chain)} audit entries "
        f"in {clock.perf_counter() - start:.1f} s"
    )

    ms, text = timed(lambda: make_backup(stores, chain, {}, "0.1.0", NOW), args.runs)
    print(f"make_backup            {ms:8.0f} ms   ({len(text) / 1e6:.1f} MB)")
    ms, parsed = timed(lambda: parse_backup(text, now=NOW), args.runs)
    print(f"parse_backup           {ms:8.0f} ms   (validates {parsed.total} records + audit)")
    ms, chunked = timed(lambda: make_chunked_backup(stores, chain, {}, "0.1.0", NOW), args.runs)
    print(f"make_chunked_backup    {ms:8.0f} ms   ({len(chunked) / 1e6:.1f} MB, format 2)")
    ms, parsed = timed(lambda: parse_chunked(chunked, now=NOW), args.runs)
    print(f"parse_chunked          {ms:8.0f} ms   (validates {parsed.total} records + audit)")
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(parse_chunked, chunked, now=NOW)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(14)
    ms, plan = timed(lambda: plan_restore({}, parsed, now=NOW), args.runs)
    print(f"plan_restore (empty)   {ms:8.0f} ms   ({len(plan.puts)} writes)")
    ms, plan = timed(lambda: plan_restore(stores, parsed, now=NOW), args.runs)
    print(f"plan_restore (same)    {ms:8.0f} ms   ({len(plan.puts)} writes)")
    ms, plan = timed(lambda: plan_restore(stores, parsed, "replace", now=NOW), args.runs)
    print(f"plan_restore (replace) {ms:8.0f} ms   ({len(plan.deletes)} deletes)")


if __name__ == "__main__":
    main()
