"""The Sessions tab of a client with 500 session logs (one in five signed), the Python side:
validating every log whole as before against the timeline's reading (``TimelineLog`` from the
stored documents, signatures checked on the stored document), side by side, in CPU time.

    python benchmarks/client_timeline.py [--logs 500] [--rounds 7]
    python benchmarks/in_pyodide.py client_timeline.py      # the browser's Python

Both start from the JSON text the device hands over (``js/storage.js whereNow``) and end with
what the tab shows: each row's volume and stop flag, the totals and every signed log's
signature claim (its content hash recomputed). The page itself is measured by
``benchmarks/scale.py`` ("open client with 500 session logs").
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "site" / "py"), str(HERE)]

from backup import clients as make_clients  # noqa: E402  (benchmarks/backup.py)
from backup import session_logs as make_logs  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

from medex.services.client_timeline import _TIMELINE, _claim  # noqa: E402
from medex.session_logs import (  # noqa: E402
    SessionLog,
    attendance_summary,
    filter_logs,
    session_volume,
    signature_claim,
)

WHOLE = TypeAdapter(list[SessionLog])


def whole(text: str) -> int:
    """As the tab read before: every log validated whole, its claim from the model."""
    logs = filter_logs(WHOLE.validate_json(text))
    volumes = [session_volume(log) for log in logs]
    claims = [signature_claim(log) for log in logs if log.is_signed]
    attendance_summary(logs)
    return len(volumes) + len(claims)


def timeline(text: str) -> int:
    """As the tab reads now (``services.client_timeline``)."""
    docs = json.loads(text)
    logs = filter_logs(_TIMELINE.validate_python(docs))
    volumes = [session_volume(log) for log in logs]
    signed = {log.id for log in logs if log.is_signed}
    claims = [_claim(doc) for doc in docs if doc["id"] in signed]
    attendance_summary(logs)
    return len(volumes) + len(claims)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(7)
    client = make_clients(1, rng)[0]
    text = json.dumps(make_logs([client["id"]], args.logs, rng))
    assert whole(text) == timeline(text)
    times: dict[str, list[float]] = {"whole": [], "timeline": []}
    for _ in range(args.rounds):  # alternating, so both see the same machine
        for name, fn in (("whole", whole), ("timeline", timeline)):
            started = time.process_time()
            fn(text)
            times[name].append((time.process_time() - started) * 1000)
    print(
        f"{args.logs} session logs ({len(text) / 1e6:.2f} MB of JSON), CPU ms, {args.rounds} rounds"
    )
    for name, values in times.items():
        print(
            f"  {name:9s} median {statistics.median(values):7.1f}  "
            f"min {min(values):7.1f}  max {max(values):7.1f}"
        )
    ratio = statistics.median(times["timeline"]) / statistics.median(times["whole"])
    print(f"  timeline / whole: {ratio:.2f}")


if __name__ == "__main__":
    main()
