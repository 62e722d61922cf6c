"""Does the app hold on to memory as a practitioner opens one client after another?

    python benchmarks/heap.py [--clients 50] [--logs 1000] [--rounds 2] [--no-build]

Seeds a practice (the generator of ``scale.py``) into the app's IndexedDB in headless
Chromium, opens every client's page once (so every screen's code is loaded), then forces a
garbage collection and reads the JS heap (DevTools' ``Runtime.getHeapUsage``). Then it opens all
the clients in a row again, ``--rounds`` times, collecting and reading the heap after each
round. The figure is the growth of the heap after a GC, round by round, against that first
reading (issue target: ≤ 10 % after opening 50 clients in a row). Where the page is
cross-origin isolated (the host sends COOP/COEP), ``performance.measureUserAgentSpecificMemory``
also gives the whole page's memory, Python's WebAssembly memory included.
"""

from __future__ import annotations

import argparse
import json

from common import chromium, served_dist
from scale import dataset, navigate, seed

MEMORY_JS = """async () => {
  if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) return null;
  return (await performance.measureUserAgentSpecificMemory()).bytes;
}"""


def heap_after_gc(cdp) -> int:
    for _ in range(2):  # a second pass frees what the first one's finalizers released
        cdp.send("HeapProfiler.collectGarbage")
    return int(cdp.send("Runtime.getHeapUsage")["usedSize"])


def open_every_client(page, ids: list[str]) -> float:
    """Each client's page in turn (as the practitioner would from the list); total ms."""
    total = 0.0
    for client_id in ids:
        total += navigate(page, "#/clients", "clients")
        total += navigate(page, f"#/client?id={client_id}", "client")
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--logs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    stores, _ = dataset(args.clients, args.logs)
    ids = [c["id"] for c in stores["clients"]]
    with served_dist(rebuild=not args.no_build) as base, chromium() as browser:
        page = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
        page.goto(base)
        page.wait_for_function(
            "document.documentElement.dataset.appReady === 'true'", timeout=120_000
        )
        seed(page, stores)
        page.reload()
        page.wait_for_function(
            "document.documentElement.dataset.appWarm === 'true'", timeout=180_000
        )
        cdp = page.context.new_cdp_session(page)
        open_every_client(page, ids)  # every screen's code loaded, caches as they settle
        first = heap_after_gc(cdp)
        whole = page.evaluate(MEMORY_JS)
        print(f"{args.clients} clients, {args.logs} session logs")
        print(f"JS heap after a GC, after opening every client once: {first / 1e6:.1f} MB")
        if whole is not None:
            print(f"whole page (measureUserAgentSpecificMemory): {whole / 1e6:.1f} MB")
        rows = []
        for n in range(1, args.rounds + 1):
            ms = open_every_client(page, ids)
            used = heap_after_gc(cdp)
            growth = (used - first) / first * 100
            rows.append({"round": n, "heap_mb": round(used / 1e6, 2), "growth_pct": growth})
            line = (
                f"round {n}: opened {len(ids)} clients in a row ({ms / len(ids):.0f} ms each), "
                f"JS heap after a GC {used / 1e6:.1f} MB: {growth:+.1f} % (target ≤ +10 %)"
            )
            whole_now = page.evaluate(MEMORY_JS)
            if whole_now is not None:
                line += f"; whole page {whole_now / 1e6:.1f} MB"
            print(line, flush=True)
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
