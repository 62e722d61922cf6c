"""The home screen's Python at practice scale, without the page around it:

    python benchmarks/home.py [--clients 1000] [--logs 50000] [--runs 7]
    MEDEX_DIST=<dist> python benchmarks/in_pyodide.py home.py [same arguments]

Seeds the practice as ``scale.py`` does (its records, summaries and dashboard rows, made by the
app's own functions), then times, as the browser does them (``app.browser``): parsing the
dashboard rows' projection (the JSON text the device hands over, one ``validate_json``), and
``home_page`` with the rows already read (what it works out from them: the items shown, their
count, the risks, the caseload, today's sessions). CPU time, the minimum of ``--runs``.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import time
import types
from datetime import date, datetime
from pathlib import Path

from pydantic import TypeAdapter

try:
    import common  # noqa: F401  (scale.py's: the build and the browser)
except ImportError:  # inside Pyodide (``in_pyodide.py``): only the seeding of scale.py is used
    stub = types.ModuleType("common")
    stub.ROOT = Path(__file__).resolve().parent.parent  # type: ignore[attr-defined]
    stub.chromium = stub.fmt = stub.served_dist = None  # type: ignore[attr-defined]
    sys.modules["common"] = stub

from scale import dataset

from medex.repository import InMemoryRepository
from medex.services.home import home_page
from tests.support.aio import run

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12)


@functools.cache
def _adapter(model: type) -> TypeAdapter:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


class DeviceLike(InMemoryRepository):
    """Whole-store reads as ``app.browser.IndexedDbRepository`` makes them: one JSON text per
    store, validated in one call, kept for the tab; the parsing timed."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[tuple[str, str], list] = {}
        self.parsing = 0.0

    def _parsed(self, key: tuple[str, str], model: type, text: str) -> list:
        if key not in self.cache:
            started = time.process_time()
            self.cache[key] = _adapter(model).validate_json(text)
            self.parsing += time.process_time() - started
        return list(self.cache[key])

    async def list(self, model):  # type: ignore[override]
        key = (model.store, model.__name__)
        text = (
            ""
            if key in self.cache
            else "[" + ",".join(self.stores.get(model.store, {}).values()) + "]"
        )
        return self._parsed(key, model, text)

    async def project(self, model, store, where=None):  # type: ignore[override]
        if where is not None:
            return await super().project(model, store, where)
        key = (store, model.__name__)
        text = ""
        if key not in self.cache:
            fields = list(model.model_fields)
            docs = [json.loads(t) for t in self.stores.get(store, {}).values()]
            text = json.dumps([{f: d[f] for f in fields if f in d} for d in docs])
        return self._parsed(key, model, text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--logs", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    stores, _star = dataset(args.clients, args.logs)
    texts = {s: {d["id"]: json.dumps(d) for d in docs} for s, docs in stores.items()}
    del stores
    gc.collect()
    gc.freeze()  # the generated practice is not the tab's: keep it out of the collector's way

    async def visit(repo: DeviceLike):
        return await home_page(repo, TODAY, NOW, shown=30, with_backup=True)

    parsing, working = [], []
    for _ in range(args.runs):
        repo = DeviceLike()
        repo.stores = {s: dict(d) for s, d in texts.items()}
        run(visit(repo))  # the rows made complete if they must be
        repo.cache.clear()
        repo.parsing = 0.0
        run(visit(repo))
        parsing.append(repo.parsing * 1000)
        started = time.process_time()
        page = run(visit(repo))  # the rows in hand: the rest of the visit
        working.append((time.process_time() - started) * 1000)
    rows = sum(len(t) for t in texts.get("dashboard_rows", {}).values())
    print(
        f"home, {args.clients} clients / {args.logs} logs ({rows / 1e6:.2f} MB of rows): "
        f"parsing the rows {min(parsing):.1f} ms, the rest of the visit {min(working):.1f} ms "
        f"(CPU, min of {args.runs}); owed shown {len(page.owed)}, more {page.more}"
    )


if __name__ == "__main__":
    main()
