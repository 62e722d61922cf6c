"""The browser half of ``benchmarks/backup.py --browser``: export, check and restore a whole
practice from the Data screen of the built app in headless Chromium (see that file)."""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from common import CHROMIUM_ARGS, served_dist
from scale import seed  # writes records straight into the app's IndexedDB

from medex import audit

# In the page: the JS heap's peak (sampled) and the longest task, since the last reset.
WATCH_JS = """() => {
  if (!window.medexBench) {
    window.medexBench = { heap: 0, longest: 0 };
    setInterval(() => {
      const used = performance.memory ? performance.memory.usedJSHeapSize : 0;
      window.medexBench.heap = Math.max(window.medexBench.heap, used);
    }, 50);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.medexBench.longest = Math.max(window.medexBench.longest, e.duration);
    }).observe({ type: "longtask", buffered: false });
  }
  window.medexBench.heap = performance.memory ? performance.memory.usedJSHeapSize : 0;
  window.medexBench.longest = 0;
  return window.medexBench.heap;
}"""


# Before the app loads: every WebAssembly memory made or exported (Pyodide's heap), so the
# stage marks below can say how large Python's memory has grown (it never shrinks).
WASM_HOOK = """(() => {
  const seen = (window.medexWasmMemories = []);
  const Memory = WebAssembly.Memory;
  WebAssembly.Memory = function (...args) { const m = new Memory(...args); seen.push(m); return m; };
  WebAssembly.Memory.prototype = Memory.prototype;
  const keep = (result) => {
    const instance = result && (result.instance || result);
    for (const value of Object.values((instance && instance.exports) || {})) {
      if (value instanceof Memory && !seen.includes(value)) seen.push(value);
    }
    return result;
  };
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = (...args) => original.apply(WebAssembly, args).then(keep);
  }
})();"""

# In the page: at the end of every timed action or step (``window.medexTimings``), the time,
# the JS heap and the size of the WebAssembly memory (bytes).
MARKS_JS = """() => {
  const wasm = () => Math.max(0, ...(window.medexWasmMemories || []).map((m) => m.buffer.byteLength));
  window.medexMarks = [];
  const timings = window.medexTimings;
  if (!timings.medexMarked) {
    timings.medexMarked = true;
    timings.push = function (row) {
      const heap = performance.memory ? performance.memory.usedJSHeapSize : 0;
      window.medexMarks.push([performance.now(), String(row[0]), row[1], heap, wasm()]);
      return Array.prototype.push.call(this, row);
    };
  }
  return [performance.now(), performance.memory ? performance.memory.usedJSHeapSize : 0, wasm()];
}"""


class RendererMemory:
    """The resident memory of this script's Chromium renderer processes, sampled in a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self.series: list[tuple[float, int]] = []  # (perf_counter, bytes) every sample
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def now() -> int:
        total = 0
        for proc in psutil.Process(os.getpid()).children(recursive=True):
            try:
                if "--type=renderer" in " ".join(proc.cmdline()):
                    total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total

    def __enter__(self) -> RendererMemory:
        self.base = self.peak = self.now()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            now = self.now()
            self.series.append((clock.perf_counter(), now))
            self.peak = max(self.peak, now)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, self.now())


def timing_count(page) -> int:
    return int(page.evaluate("window.medexTimings.length"))


def last_timing(page, name: str, since: int) -> float:
    page.wait_for_function(
        "([name, since]) => window.medexTimings.slice(since).some(t => t[0] === name)",
        arg=[name, since],
        timeout=900_000,
        polling=200,
    )
    rows = page.evaluate("(since) => window.medexTimings.slice(since)", since)
    return next(ms for what, ms in reversed(rows) if what == name)


def wait_ready(page) -> None:
    page.wait_for_function("document.documentElement.dataset.appWarm === 'true'", timeout=300_000)


def to_data_screen(page) -> None:
    page.evaluate("() => { location.hash = '#/data'; }")
    page.locator("#export-backup").wait_for(timeout=120_000)


@dataclass
class Step:
    """What ``timed_step`` measured of one step of the Data screen."""

    result: Any  # what ``done`` returned
    wall_ms: float  # ``click()`` alone, wall time (e.g. click → file downloaded)
    heap: float  # the page's JS heap, peak during the step − just before it (bytes)
    renderer: float  # the renderer processes' resident memory, peak − before (bytes)
    longest_ms: float  # the longest task: how long the page did not answer
    memory: RendererMemory | None = None  # its samples (``RendererMemory.series``)


def timed_step(page, click: Callable[[], None], done: Callable[[int], Any]) -> Step:
    """One step measured the same way every time: the heap and the longest-task watch reset,
    the renderer's memory sampled while ``click()`` starts the step and ``done(since)`` waits
    for its end (``since``: the shell's timings count before the click, for
    ``last_timing``)."""
    heap0 = page.evaluate(WATCH_JS)
    with RendererMemory() as memory:
        since = timing_count(page)
        clicked = clock.perf_counter()
        click()
        wall = (clock.perf_counter() - clicked) * 1000
        result = done(since)
    bench = page.evaluate("window.medexBench")
    return Step(
        result, wall, bench["heap"] - heap0, memory.peak - memory.base, bench["longest"], memory
    )


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def run_in_browser(args, make_clients, make_logs) -> None:
    from playwright.sync_api import sync_playwright

    rng = random.Random(7)
    started = clock.perf_counter()
    reuse = bool(args.file and Path(args.file).exists())
    cs = make_clients(0 if reuse else args.clients, rng)
    logs = [] if reuse else make_logs([c["id"] for c in cs], args.logs, rng)
    chain: list[dict] = []
    t0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    for i in range(min(2000, len(logs))):
        entry = {"actor": "Dana Reyes", "action": "create", "record_type": "session_logs"}
        entry |= {"record_id": logs[i]["id"], "at": t0}
        chain.append(audit.append(chain, entry).to_doc())
    stores = {"clients": cs, "session_logs": logs, "audit": chain}
    print(
        f"generated {len(cs)} clients, {len(logs)} session logs, {len(chain)} audit entries "
        f"in {clock.perf_counter() - started:.1f} s; load average {os.getloadavg()}",
        flush=True,
    )
    figures: list[tuple[str, str]] = []
    with (
        served_dist(rebuild=not args.no_build) as base,
        sync_playwright() as p,
        tempfile.TemporaryDirectory() as tmp,
    ):
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[*CHROMIUM_ARGS, "--enable-precise-memory-info"],
        )
        context = browser.new_context(
            viewport={"width": 1024, "height": 768}, accept_downloads=True
        )
        page = context.new_page()
        page.goto(base)
        wait_ready(page)
        if reuse:  # check and restore an earlier export only
            path = Path(args.file)
            figures.append(("backup file (exported earlier)", mb(path.stat().st_size)))
            context.close()
            _check_and_restore(browser, base, path, figures)
            browser.close()
            _print(args, figures)
            return
        print("seeding IndexedDB …", flush=True)
        seed(page, stores)
        page.reload()
        wait_ready(page)
        to_data_screen(page)
        print(f"exporting … (load average {os.getloadavg()})", flush=True)
        path = Path(tmp) / "backup"

        def export() -> None:  # click → the file downloaded and saved
            nonlocal path
            with page.expect_download(timeout=900_000) as info:
                page.locator("#export-backup").click()
            path = Path(tmp) / info.value.suggested_filename
            info.value.save_as(path)

        def exported(since: int) -> tuple[float, float]:
            # The action, and of it the device's one call that reads every page and writes
            # it to the file.
            in_pages = page.evaluate(
                "(since) => window.medexTimings.slice(since).filter(t => "
                "String(t[0]).startsWith('idb:backupExport')).reduce((a, t) => a + t[1], 0)",
                since,
            )
            return last_timing(page, "action:export-backup", since), in_pages

        step = timed_step(page, export, exported)
        action, in_pages = step.result
        size = path.stat().st_size
        if args.file:  # kept for later runs (--file): the same file, checked and restored
            Path(args.file).write_bytes(path.read_bytes())
        figures += [
            ("backup file", mb(size)),
            ("export: click → file downloaded (wall)", f"{step.wall_ms:,.0f} ms"),
            ("export: the action (shell timing)", f"{action:,.0f} ms"),
            ("  of which the device's one call writing every part (JS)", f"{in_pages:,.0f} ms"),
            ("export: longest task (page not answering)", f"{step.longest_ms:,.0f} ms"),
            ("export: JS heap peak − before", mb(step.heap)),
            ("export: renderer memory peak − before", mb(step.renderer)),
        ]
        context.close()
        _check_and_restore(browser, base, path, figures)
        browser.close()
    _print(args, figures)


def _check_and_restore(browser, base: str, path: Path, figures: list[tuple[str, str]]) -> None:
    """In a fresh profile (an empty practice, which the restore fills with every record):
    check the file on the Data screen, then restore it (merge)."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.add_init_script(WASM_HOOK)
    page = context.new_page()
    page.goto(base)
    wait_ready(page)
    to_data_screen(page)
    print(f"checking and restoring … (load average {os.getloadavg()})", flush=True)
    at = clock.perf_counter()
    page_at, heap0, wasm0 = page.evaluate(MARKS_JS)
    at = (at + clock.perf_counter()) / 2  # the page's ``page_at``, on this clock

    def check_file() -> None:
        page.locator("#field-backup_file").set_input_files(str(path))
        page.locator("#restore-check").click(no_wait_after=True)

    def checked_and_restored(since: int) -> tuple[float, float, list]:
        check = last_timing(page, "action:restore-check", since)
        page.locator("#restore-apply").wait_for(timeout=60_000)
        print(f"restoring … (load average {os.getloadavg()})", flush=True)
        since = timing_count(page)
        page.locator("#restore-apply").click(no_wait_after=True)
        restore = last_timing(page, "action:restore-apply", since)
        return check, restore, page.evaluate("(since) => window.medexTimings.slice(since)", since)

    # One memory window for both: the restore plans from what the check kept.
    step = timed_step(page, check_file, checked_and_restored)
    check, restore, rows = step.result
    flash = page.locator("#flash").inner_text()
    figures += [
        ("check (read, verify, validate every record)", f"{check:,.0f} ms"),
        ("restore into an empty practice (merge)", f"{restore:,.0f} ms"),
        ("check + restore", f"{check + restore:,.0f} ms"),
        *[
            (f"  restore: {what}", f"{ms:,.0f} ms")
            for what, ms in sorted(rows, key=lambda r: -r[1])[:8]
            if what != "action:restore-apply"
        ],
        ("check + restore: JS heap peak − before", mb(step.heap)),
        ("check + restore: renderer memory peak − before", mb(step.renderer)),
        ("restore said", flash[:160]),
    ]
    marks = page.evaluate("window.medexMarks")
    assert step.memory is not None
    figures += _stages(marks, step.memory, at - page_at / 1000, heap0, wasm0)
    context.close()


def _stages(
    marks: list, memory: RendererMemory, offset: float, heap0: float, wasm0: float
) -> list[tuple[str, str]]:
    """Stage by stage (each timed step of 200 ms or more, in the order they ended): when it
    ended, the renderer's memory then and its peak since the previous such step (− before the
    check), the JS heap and Python's WebAssembly memory then (− before)."""
    out = [("stages (ended at s: renderer now / peak since previous, JS heap, wasm)", "")]
    previous = memory.series[0][0] if memory.series else offset
    start = previous
    for ended, what, ms, heap, wasm in marks:
        if ms < 200 and not what.startswith("action:"):
            continue
        end = offset + ended / 1000
        window = [rss for t, rss in memory.series if previous <= t <= end + 0.05]
        now = [rss for t, rss in memory.series if t <= end + 0.05]
        rss_now = (now[-1] if now else memory.base) - memory.base
        peak = (max(window) if window else memory.base) - memory.base
        out.append(
            (
                f"  {what[:34]:34s} {ms:7,.0f} ms, ended {end - start:6.1f} s",
                f"{mb(rss_now):>7s} / {mb(peak):>7s}, heap {mb(heap - heap0):>7s}, "
                f"wasm {mb(wasm - wasm0):>7s} (of {mb(wasm)})",
            )
        )
        previous = end
    return out


def _print(args, figures: list[tuple[str, str]]) -> None:
    print(f"\nBackups in headless Chromium ({args.clients} clients, {args.logs} session logs)")
    for what, value in figures:
        print(f"  {what:52s} {value}")
    print(f"load average at the end: {os.getloadavg()}")
