"""Time to interactive: the app vs bare Pyodide, cold and warm, in headless Chromium.

    python benchmarks/startup.py [--runs 5] [--no-build]

Both pages are served from the same dist/ on 127.0.0.1. "Cold" is a new browser context
(empty HTTP cache, no service worker); "warm" is a second load in the same context (HTTP
cache hot, and for the app the service worker installed). For the app, "warm" is a repeat
visit restored from the start snapshot (made in the background after the cold load) and
"warm, normal start" the same visit with the snapshot deleted. Times are performance.now()
at the ready marker, i.e. from navigation start. The first visit's bytes over the wire
(encoded sizes, the service worker's precaching included) are counted for the cold load.
"""

from __future__ import annotations

import argparse

from common import ROOT, build, chromium, fmt, median, served_dist

BARE_HTML = """<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'unsafe-eval'; connect-src 'self'">
<script type="module" src="bare.js"></script></head><body>bare Pyodide</body></html>"""
BARE_JS = """import { loadPyodide } from "../%s/pyodide.mjs";
const pyodide = await loadPyodide();
pyodide.runPython("1+1");
document.documentElement.dataset.readyMs = String(performance.now());
document.documentElement.dataset.ready = "true";
"""


def write_bare_page() -> str:
    import build

    folder = build.DIST / "bench-bare"
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(BARE_HTML)
    (folder / "bare.js").write_text(BARE_JS % build.PYODIDE.dest)
    return "bench-bare/index.html"


WARM: list[float] = []  # app only: time until the dashboard's due items are filled in
PATHS: list[str] = []  # app only: how each warm visit started ("restored" or "normal")
RESTORED_STEPS: list[list] = []  # window.medexBoot.timings of the last restored warm visit


def load(page, url: str, marker: str) -> float:
    page.goto(url)
    page.wait_for_function(
        f"document.documentElement.dataset.{marker} === 'true' || !!document.documentElement.dataset.appError",
        timeout=120_000,
    )
    error = page.evaluate("document.documentElement.dataset.appError")
    if error:
        raise SystemExit(f"app failed to boot: {error}")
    if marker == "appReady":
        page.wait_for_function(
            "document.documentElement.dataset.appWarm === 'true'", timeout=120_000
        )
        WARM.append(float(page.evaluate("document.documentElement.dataset.warmMs")))
        PATHS.append(page.evaluate("document.documentElement.dataset.startPath"))
    return float(page.evaluate("document.documentElement.dataset.readyMs"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[float]] = {
        k: [] for k in ("app cold", "app warm", "app warm, normal start", "bare cold", "bare warm")
    }
    first_visit: list[int] = []
    by_coding: dict[str, int] = {}  # the first cold visit's bytes by Content-Encoding
    with served_dist(not args.no_build, CountingHandler) as base, chromium() as browser:
        bare = base + write_bare_page()
        for _ in range(args.runs):
            for kind, url, marker in (("app", base, "appReady"), ("bare", bare, "ready")):
                context = browser.new_context()
                page = context.new_page()
                sent_before = CountingHandler.sent
                codings_before = dict(CountingHandler.by_coding)
                results[f"{kind} cold"].append(load(page, url, marker))
                if kind == "app":
                    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
                    # The start snapshot for the next visit, made in the background.
                    page.wait_for_function(
                        "!!document.documentElement.dataset.startSnapshot", timeout=180_000
                    )
                    first_visit.append(CountingHandler.sent - sent_before)
                    if len(first_visit) == 1:
                        by_coding = {
                            k: v - codings_before.get(k, 0)
                            for k, v in CountingHandler.by_coding.items()
                        }
                # Warm: a fresh tab in the same context (HTTP cache, service worker hot).
                page.close()
                page = context.new_page()
                results[f"{kind} warm"].append(load(page, url, marker))
                if kind == "app":
                    RESTORED_STEPS[:] = page.evaluate("window.medexBoot.timings")
                    page.evaluate(
                        "Promise.all([caches.delete('medex.start-snapshot'),"
                        " caches.delete('medex.start-snapshot.code')])"
                    )
                    page.close()
                    page = context.new_page()
                    results["app warm, normal start"].append(load(page, url, marker))
                    PATHS.pop()
                context.close()
    print(f"Startup, time to ready ({ROOT.name}/dist on 127.0.0.1, headless Chromium)")
    for key, values in results.items():
        print(f"  {key:10s} {fmt(values)}")
    print(f"  app dashboard filled in (every app load): {fmt(WARM)}")
    print(f"  how the app's loads started (cold, then warm): {PATHS}")
    print("  the last restored load, step by step (ms from navigation start):")
    seen: set[str] = set()
    for ms, label in RESTORED_STEPS:
        if label not in seen and not label.startswith("Loading the Python runtime"):
            seen.add(label)
            print(f"    {ms:6d}  {label}")
    print(
        f"  first visit over the wire: median {median(first_visit) / 1e6:.2f} MB"
        f"  (min {min(first_visit) / 1e6:.2f}, max {max(first_visit) / 1e6:.2f})  (target <= 7 MB)"
    )
    # Chromium asks for brotli on http://127.0.0.1 too (printed below), so these are the bytes
    # a static host over HTTPS sends, given the same .br/.gz siblings.
    print(
        "    by Content-Encoding (first visit): "
        + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sorted(by_coding.items()))
        + f"; the browser sent Accept-Encoding: {sorted(CountingHandler.accepted)}"
    )
    print(
        f"  ratio cold app/bare: {median(results['app cold']) / median(results['bare cold']):.2f}  (target <= 1.20)"
    )
    print(
        f"  ratio warm app (restored)/bare warm: {median(results['app warm']) / median(results['bare warm']):.2f}  (target <= 0.35)"
    )
    print(
        f"  ratio warm app (normal start)/bare warm: {median(results['app warm, normal start']) / median(results['bare warm']):.2f}"
    )


class _CountingWriter:
    def __init__(self, raw, handler: CountingHandler) -> None:
        self.raw = raw
        self.handler = handler

    def write(self, data) -> int:
        CountingHandler.sent += len(data)
        coding = self.handler.coding
        CountingHandler.by_coding[coding] = CountingHandler.by_coding.get(coding, 0) + len(data)
        return self.raw.write(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


class CountingHandler(build.Handler):
    """The benchmark's server: counts every byte it sends (headers and bodies, as encoded on
    the wire), so a first visit is measured where it costs, the service worker's precaching
    and the start-snapshot worker included."""

    sent = 0
    by_coding: dict[str, int] = {}  # noqa: RUF012 — bytes sent, by the response's Content-Encoding
    accepted: set[str] = set()  # noqa: RUF012 — the Accept-Encoding headers the browser sent
    coding = "none"

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile, self)  # type: ignore[assignment]

    def send_response(self, code, message=None) -> None:
        self.coding = "none"
        if self.headers and self.headers.get("Accept-Encoding"):
            CountingHandler.accepted.add(self.headers["Accept-Encoding"])
        super().send_response(code, message)

    def send_header(self, keyword, value) -> None:
        if keyword.lower() == "content-encoding":
            self.coding = value
        super().send_header(keyword, value)


if __name__ == "__main__":
    main()
