"""The demo practice and the home screen under CPython (the same seed the first run's "Try it
with a demo practice", the tests and tools build: ``medex.demo``).

    python benchmarks/demo.py [--runs 5]
    python benchmarks/in_pyodide.py demo.py          (the same inside the app's Pyodide)
    MEDEX_DIST=<dist> python benchmarks/demo.py --browser [--runs 3] [--no-build]

Figures (median of runs, milliseconds):
  - prepare: ``medex.demo.prepare_demo_practice`` (five clients, twelve weeks of assessments,
    signed session logs, every document rendered with the app's templates), in memory;
  - store: ``store_demo_practice``, the one write into an empty in-memory repository;
  - home: ``medex.services.home.home_page`` over the demo (what the home screen reads).

With ``--browser``, in Chromium (a fresh profile each run): from the click on "Open the demo
practice" to the home screen showing the demo with its content (today's sessions and the
dashboard filled in), and the app's own time for the action (``action:start-demo``).
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


def in_browser(runs: int, rebuild: bool) -> None:
    from benchmarks.common import chromium, fmt, served_dist

    click_to_home: list[float] = []
    action: list[float] = []
    with served_dist(rebuild=rebuild) as url, chromium() as browser:
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1024, "height": 768})
            page = context.new_page()
            page.goto(url)
            page.wait_for_function(
                "document.documentElement.dataset.appReady === 'true'", timeout=300_000
            )
            page.wait_for_selector("#start-demo")
            started = time.perf_counter()
            page.click("#start-demo")
            page.wait_for_function(
                "!!document.querySelector('#demo-banner')"
                " && !!document.querySelector('#dashboard[data-dashboard-ready]')"
                " && (document.querySelector('#today-schedule')?.textContent || '')"
                ".includes('Ann Lee')",
                timeout=300_000,
                polling=50,
            )
            click_to_home.append((time.perf_counter() - started) * 1000)
            timings = page.evaluate("[...window.medexTimings].map(t => [t[0], t[1]])")
            action += [ms for what, ms in timings if what == "action:start-demo"]
            context.close()
    print("demo practice in Chromium (fresh profile each run)")
    print(f"  click → home with content  {fmt(click_to_home)}")
    if action:
        print(f"  action:start-demo          {fmt(action)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--browser", action="store_true", help="time it in Chromium")
    parser.add_argument("--no-build", action="store_true", help="serve the existing dist")
    args = parser.parse_args()
    if args.browser:
        in_browser(args.runs, rebuild=not args.no_build)
        return
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
