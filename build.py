#!/usr/bin/env python3
"""MedEx Practice build: vendor the pinned runtime, assemble dist/, serve it, test it.

Standard library only (plus the `npm` and `pip` command-line clients, used to fetch).

    python build.py build        vendor (from .cache/ or the registries) + assemble dist/
    python build.py serve        build, then serve dist/ on http://127.0.0.1:8000/
    python build.py test         install what the tests need, build, run every test
    python build.py lock         re-fetch the pinned packages and rewrite vendor.lock.json
    python build.py clean        remove dist/ (add --cache to drop downloads too)

Every vendored file is pinned by version and sha256 in vendor.lock.json; a build verifies
each one and refuses to continue on a mismatch. Downloads are cached in .cache/ (ignored by
git) so a rebuild needs no network.
"""

# The command line only; the work is done in buildtools/ (one module per concern):
#   common.py          paths, BuildError, log, hashing, deterministic zip entries
#   vendor.py          the pins, fetching into .cache/, vendor.lock.json and its checks
#   wheels.py          the wheels we build (app, markupsafe) and bytecode via Pyodide on Node
#   assemble.py        dist/: vendor folders, wheels, Pyodide's lock, data, site/ placeholders
#   service_worker.py  the precache list and cache version in sw.js
#   startup.py         the start snapshot's loader patch and key; the .br and .gz siblings
#                      (brotli: pinned in requirements-build.txt, installed into .cache/tools/)
#   serve.py           the HTTP handler (MIME types, caching headers, encodings) and server
#   install.py         apt and pip installs for `test`
#   icd10_index.py     the offline ICD-10-CM index
# The names below are re-exported for the tests, the benchmarks and the tools (`import build`).

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from buildtools import assemble
from buildtools import serve as serving
from buildtools.assemble import indexeddb_schema, screens_manifest
from buildtools.common import CACHE, ROOT, SITE, BuildError
from buildtools.install import install_test_requirements
from buildtools.vendor import (
    DATA_WHEELS,
    LOCK_PATH,
    NPM_PACKAGES,
    PYODIDE,
    PYSCRIPT,
    WHEELS,
    NpmPackage,
    Wheel,
    load_lock,
    verified_npm,
    verified_wheel,
    write_lock,
)
from buildtools.wheels import make_wheel

# What `import build` callers (tests, benchmarks, tools) use.
__all__ = [
    "CACHE",
    "DATA_WHEELS",
    "DIST",
    "LOCK_PATH",
    "NPM_PACKAGES",
    "PYODIDE",
    "PYSCRIPT",
    "ROOT",
    "SITE",
    "WHEELS",
    "BuildError",
    "Handler",
    "NpmPackage",
    "Wheel",
    "build",
    "indexeddb_schema",
    "load_lock",
    "main",
    "make_wheel",
    "screens_manifest",
    "serve",
    "verified_npm",
    "verified_wheel",
    "write_lock",
]

# Where dist/ is built and served from. MEDEX_DIST: build elsewhere. Read at each call of
# build() and at each request of Handler, so code that sets `build.DIST` moves both.
DIST = Path(os.environ.get("MEDEX_DIST") or ROOT / "dist")
# `test` runs pytest in two worker processes (pytest-xdist), tests handed out one at a time,
# and lists the slowest tests at the end (what to make faster first).
TEST_PROCESSES = ["-n", "2", "--dist", "loadgroup", "--durations=25"]


def build() -> dict:
    """Assemble DIST. Returns a summary (paths the app needs), also written to DIST/build.json."""
    return assemble.build(DIST)


class Handler(serving.Handler):
    """Serves DIST with the app's MIME types and caching headers."""

    def folder(self) -> Path:
        return DIST


def serve(port: int, host: str = "127.0.0.1") -> None:
    serving.serve(Handler, port, host)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="vendor and assemble dist/")
    p_serve = sub.add_parser("serve", help="build, then serve dist/ on 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--no-build", action="store_true", help="serve the existing dist/")
    p_test = sub.add_parser("test", help="install test requirements, build, run all tests")
    p_test.add_argument("--no-install", action="store_true")
    p_test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    sub.add_parser("lock", help="fetch pinned packages and rewrite vendor.lock.json")
    p_clean = sub.add_parser("clean", help="remove dist/")
    p_clean.add_argument("--cache", action="store_true", help="also remove downloaded packages")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build()
        elif args.command == "serve":
            if not args.no_build:
                build()
            serve(args.port)
        elif args.command == "lock":
            write_lock()
        elif args.command == "clean":
            shutil.rmtree(DIST, ignore_errors=True)
            if args.cache:
                shutil.rmtree(CACHE, ignore_errors=True)
        elif args.command == "test":
            if not args.no_install:
                install_test_requirements()
            build()
            # Built once here; the test processes serve this dist/ (two of them, one per core:
            # the end-to-end tests spend most of their time waiting on one browser each).
            env = {**os.environ, "MEDEX_SKIP_BUILD": "1"}
            return subprocess.run(
                [sys.executable, "-m", "pytest", *TEST_PROCESSES, *args.pytest_args],
                cwd=ROOT,
                env=env,
            ).returncode
    except BuildError as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
