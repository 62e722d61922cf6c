"""The backup check's record work alone: one part line of session logs parsed and checked.

    python benchmarks/backup_check.py [--logs 1000] [--rounds 5]
    python benchmarks/in_pyodide.py backup_check.py      # the same inside the app's Pyodide

A part as the export writes it (1,000 ``SessionLog`` documents, one in five signed, from
``backup.py``'s generator), fed to ``ChunkedParser.feed`` the way the Data screen's check does,
timed in CPU time (steadier than wall time on a shared machine), round after round; then the
Python calls made per record (``sys.setprofile``), by function.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "site" / "py")]

from backup import NOW, clients, session_logs  # noqa: E402 (benchmarks/backup.py)

from medex.backup_stream import ChunkedParser, header_line, records_line  # noqa: E402


def stages(line: str) -> None:
    """CPU ms of each stage of one part's check, as ``RecordChecker.check_part`` runs them."""
    from datetime import date

    from medex.backup import RecordChecker
    from medex.backup_stream import _json
    from medex.migrations import MIGRATIONS

    checker = RecordChecker(MIGRATIONS, date(2025, 6, 1))
    adapter = checker._adapter("session_logs")
    assert adapter is not None
    try:  # the stored-document validator, where the tree has one
        from medex.backup import _stored_validator
        from medex.session_logs import SessionLog

        validator: Any = _stored_validator(SessionLog, many=True)
        print("  (the stored-document validator)")
    except ImportError:
        validator = adapter
    check = checker.checks["session_logs"]
    for _ in range(3):
        t0 = time.process_time()
        docs = [
            {k: v for k, v in d.items() if k not in ("_rev", "_signed")}
            for d in _json(line)["records"]
        ]
        t1 = time.process_time()
        records = validator.validate_python(docs, context=checker.context)
        t2 = time.process_time()
        for record in records:
            check(record)
        t3 = time.process_time()
        part = adapter.dump_json(records)
        t4 = time.process_time()
        validator.validate_json(part, context=checker.context)
        t5 = time.process_time()
        print(
            f"  JSON {1000 * (t1 - t0):.0f} ms, validate {1000 * (t2 - t1):.0f} ms, "
            f"signatures {1000 * (t3 - t2):.0f} ms, dump {1000 * (t4 - t3):.0f} ms; "
            f"JSON + validate in one call {1000 * (t5 - t4):.0f} ms"
        )


def side_by_side(line: str, rounds: int) -> None:
    """CPU ms to validate the part's records with ``TypeAdapter(list[SessionLog])`` (the record
    type, as the check did before) and with the stored-document validator, alternating."""
    from datetime import date

    from medex.backup import _list_adapter, _stored_validator
    from medex.backup_stream import _json
    from medex.session_logs import SessionLog

    docs = _json(line)["records"]
    context = {"today": date(2025, 6, 1)}
    record_type, stored = _list_adapter(SessionLog), _stored_validator(SessionLog, many=True)
    times: dict[str, list[float]] = {"record type": [], "stored validator": []}
    for _ in range(rounds):
        for name, validator in (("record type", record_type), ("stored validator", stored)):
            start = time.process_time()
            validator.validate_python(docs, context=context)
            times[name].append((time.process_time() - start) * 1000)
    medians = {name: sorted(t)[len(t) // 2] for name, t in times.items()}
    for name, t in times.items():
        print(f"  validate, {name}: min {min(t):.0f} ms, median {medians[name]:.0f} ms")
    print(f"  ratio of medians {medians['stored validator'] / medians['record type']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stages", action="store_true", help="time each stage of the check")
    parser.add_argument(
        "--ab",
        type=int,
        default=0,
        metavar="N",
        help="validate the part N times with the record type, N times with the stored-document "
        "validator, alternating",
    )
    args = parser.parse_args()
    rng = random.Random(7)
    client_docs = clients(50, rng)
    logs = session_logs([c["id"] for c in client_docs], args.logs, rng)
    line = records_line("session_logs", sorted(logs, key=lambda d: d["id"]))
    header = header_line("0.0.0", NOW)

    def fresh() -> ChunkedParser:
        checker = ChunkedParser(now=NOW)
        checker.feed(header)
        return checker

    fresh().feed(line)  # warm up: the validators are built on first use
    times = []
    for _ in range(args.rounds):
        checker = fresh()
        start = time.process_time()
        checker.feed(line)
        times.append((time.process_time() - start) * 1000)
        assert checker.records == args.logs and not checker.checker.problems
    print(f"a part of {args.logs} session logs ({len(line) / 1e6:.1f} MB), {sys.platform}")
    print("feed (parse + check), CPU ms: " + ", ".join(f"{t:.0f}" for t in times))
    print(f"  min {min(times):.0f} ms = {min(times) * 1000 / args.logs:.0f} µs a log")

    if args.stages:
        stages(line)
    if args.ab:
        side_by_side(line, args.ab)
    calls: Counter[str] = Counter()

    def count(frame, event, _arg):  # type: ignore[no-untyped-def]
        if event == "call":
            code = frame.f_code
            calls[f"{Path(code.co_filename).stem}.{code.co_name}"] += 1

    checker = fresh()
    sys.setprofile(count)
    try:
        checker.feed(line)
    finally:
        sys.setprofile(None)
    total = sum(calls.values())
    print(f"Python calls: {total / args.logs:.1f} a log; the most frequent, a log:")
    for name, n in calls.most_common(12):
        print(f"  {n / args.logs:6.2f}  {name}")


if __name__ == "__main__":
    main()
