"""The demo practice and the home screen under CPython (the same seed the first run's "Try it
with a demo practice", the tests and tools build: ``medex.demo``).

    python benchmarks/demo.py [--runs 5]
    python benchmarks/in_pyodide.py demo.py          (the same inside the app's Pyodide)

Figures (median of runs, milliseconds):
  - prepare: ``medex.demo.prepare_demo_practice`` (five clients, twelve weeks of assessments,
    signed session logs, every document rendered with the app's templates), in memory;
  - store: ``store_demo_practice``, the one write into an empty in-memory repository;
  - home: ``medex.services.home.home_page`` over the demo (what the home screen reads).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site" / "py"), str(ROOT)]

from app.screens.demo import _render_document  # noqa: E402
from medex.demo import prepare_demo_practice, store_demo_practice  # noqa: E402
from medex.repository import InMemoryRepository  # noqa: E402
from medex.services.home import home_page  # noqa: E402
from tests.support.aio import run  # noqa: E402
from tests.support.fakes import FakeSigner  # noqa: E402

TODAY = date(2026, 3, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {"prepare": [], "store": [], "home": []}
    for _ in range(args.runs):
        started = time.perf_counter()
        demo = run(
            prepare_demo_practice(TODAY, signer=FakeSigner(), render_document=_render_document)
        )
        figures["prepare"].append(time.perf_counter() - started)
        repo = InMemoryRepository()
        started = time.perf_counter()
        run(store_demo_practice(repo, demo))
        figures["store"].append(time.perf_counter() - started)
        started = time.perf_counter()
        run(home_page(repo, TODAY))
        figures["home"].append(time.perf_counter() - started)
    records = len(demo.ops) - 1
    print(f"demo practice: {records} records, {len(demo.practice.clients)} clients (CPython)")
    for name, samples in figures.items():
        print(f"  {name:8} {statistics.median(samples) * 1000:8.1f} ms (median of {args.runs})")


if __name__ == "__main__":
    main()
