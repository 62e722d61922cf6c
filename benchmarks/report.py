"""Progress report timings: gather the records, build the view-model, render the HTML.

    python benchmarks/report.py [--runs 20] [--sessions 100] [--assessments 6]
    python benchmarks/in_pyodide.py report.py          (the same inside the app's Pyodide)

A 72-year-old woman on the post-TKR program with N session logs (6 exercises each, pre/post
vitals, every 10th session cancelled, one with a blood-pressure stop) and M assessments of the
program's measures, in the in-memory repository (``tests.support.seeders.seed_report_client``). Figures (median of runs, milliseconds):
  - gather: ``services.documents.gather`` (records, outcome rows, discharge criteria, charts);
  - view-model: ``documents.view_model``;
  - render: the ``reports/progress_report.html`` template (jinja2);
  - total: the three together, what the Progress report screen does for its preview.
Target from issue 6 (in Chromium): the progress report for a client with 100 sessions and 6
assessments rendered in ≤ 300 ms. Pyodide runs pure Python several times slower than CPython.
No file I/O beyond the app's own template loader; imports medex, app, tests.support and the stdlib.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site" / "py"), str(ROOT)]

from app.render import render  # noqa: E402
from medex.documents import DocKind, view_model  # noqa: E402
from medex.repository import InMemoryRepository  # noqa: E402
from medex.services.documents import gather  # noqa: E402
from tests.support.aio import run  # noqa: E402
from tests.support.seeders import seed_report_client  # noqa: E402

TARGET_MS = 300


def timed(fn, runs: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--assessments", type=int, default=6)
    args = parser.parse_args()
    repo = InMemoryRepository()
    client_id, today = seed_report_client(repo, args.sessions, args.assessments)

    def gathered():
        return run(gather(repo, DocKind.PROGRESS_REPORT, today, client_id=client_id))

    inp = gathered()
    vm = view_model(inp)
    html = render("reports/progress_report.html", doc=vm)  # warm: template compiled once
    assert "Timed Up and Go" in html and vm["attendance"]["scheduled"] == args.sessions

    def total():
        v = view_model(gathered())
        return render("reports/progress_report.html", doc=v)

    where = "Pyodide" if sys.platform == "emscripten" else "CPython"
    print(
        f"Progress report: {args.sessions} session logs, {args.assessments} assessments "
        f"({len(vm['measures'])} measure rows, {len(vm['charts'])} charts), {where}"
    )
    t_gather, _ = timed(gathered, args.runs)
    t_vm, _ = timed(lambda: view_model(inp), args.runs)
    t_render, _ = timed(lambda: render("reports/progress_report.html", doc=vm), args.runs)
    t_total, out = timed(total, args.runs)
    print(f"  gather      {t_gather:7.2f} ms")
    print(f"  view-model  {t_vm:7.2f} ms")
    print(f"  render      {t_render:7.2f} ms")
    print(f"  total       {t_total:7.2f} ms  (target in the browser: ≤ {TARGET_MS} ms)")
    print(f"  HTML        {len(str(out)) / 1000:7.1f} kB")


if __name__ == "__main__":
    main()
