"""The Python side of checking and restoring a backup, stage by stage, in CPU time (steadier
than wall time on a shared machine): the Data screen's check (``ChunkedParser`` with the
summaries' projection where the tree has one), its preview (merge and replace) and the
restore's plan and write (``restore_write`` and the summaries' inputs), into an empty
practice, 200 clients / 10,000 session logs in parts of 1,000.

    python benchmarks/backup_plan.py [TREE] [ROUNDS]

TREE: the repository to measure (default: this one), e.g. an older tree unpacked with
``git archive <commit> site/py benchmarks | tar -x -C /tmp/old``, to compare side by side.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

TREE = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
sys.path[:0] = [str(TREE / "site" / "py"), str(TREE), str(TREE / "benchmarks")]

import backup as generator  # noqa: E402 (TREE's benchmarks/backup.py)

from medex.backup_stream import ChunkedParser, make_chunked_backup  # noqa: E402
from medex.services import restore  # noqa: E402
from medex.signing import SignatureCheck  # noqa: E402


def main() -> None:
    rng = random.Random(7)
    clients = generator.clients(200, rng)
    logs = generator.session_logs([c["id"] for c in clients], 10_000, rng)
    stores = {"clients": clients, "session_logs": logs}
    text = make_chunked_backup(stores, [], {}, "0.1.0", generator.NOW)
    empty = {"stores": {}, "audit": [], "meta": {}}
    project = getattr(restore, "part_projection", None)

    def check():
        parser = ChunkedParser(now=generator.NOW, project=project) if project else ChunkedParser()
        for line in text.split("\n"):
            if line or parser.header is None:
                parser.feed(line)
        return parser.finish()

    rows = []
    for _ in range(ROUNDS):
        started = time.process_time()
        checked = check()
        t_check = time.process_time()
        restore.restore_preview(empty, checked, "b", SignatureCheck.UNKEYED)
        t_preview = time.process_time()
        write = restore.restore_write(empty, checked, "merge", "b", "Dana", generator.NOW)
        write.summary_inputs(empty["stores"])
        t_restore = time.process_time()
        rows.append((t_check - started, t_preview - t_check, t_restore - t_preview))
    check_s, preview_s, restore_s = (statistics.median(col) for col in zip(*rows, strict=True))
    print(
        f"{TREE}: CPU, median of {ROUNDS}: check {check_s * 1000:.0f} ms, preview "
        f"{preview_s * 1000:.0f} ms, restore's plan and write {restore_s * 1000:.0f} ms; "
        f"in all {(check_s + preview_s + restore_s) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
