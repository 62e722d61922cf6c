"""The service worker: which files it precaches (with content hashes) and its cache version.

`precache_list` walks the assembled dist/ and keeps what the app needs offline: not the test
pages and test-only wheels, not build.json or sw.js itself, not the PyScript plugins the app
never loads. `cache_version` is a hash of that list, so any changed file gives a new cache and
the installed app updates; `service_worker` fills site/sw.js's %CACHE_VERSION% and %PRECACHE%.
Standard library only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from buildtools.common import SITE, sha256_bytes, sha256_file
from buildtools.vendor import PYSCRIPT

# PyScript's chunks the app never loads (left in dist/, kept out of the precache): the
# plugins site/pyscript.json turns off (editor, terminal, game, donkey, deprecation notes)
# and what only they use (CodeMirror, xterm, their TOML parser), MicroPython, the TOML and
# package-graph helpers of configs we do not write, its storage module and service worker.
UNUSED_PYSCRIPT = re.compile(
    r"/(codemirror|xterm|py-editor|py-terminal|py-game|mpy|zip|donkey|deprecations-manager"
    r"|index-|py-[\w-]{8}\.js|toml-|pyodide_graph|storage\.js|service-worker\.js)"
)


def precache_list(dist: Path, test_wheels: set[str]) -> list[list[str]]:
    """[[path in dist, first 16 hex digits of its sha256], ...], sorted by path."""
    precache = []
    for path in sorted(dist.rglob("*")):
        rel = path.relative_to(dist).as_posix()
        if path.is_dir() or rel in ("sw.js", "build.json", "_headers") or rel.startswith("tests"):
            continue
        if rel.endswith(".whl") and rel.rsplit("/", 1)[-1] in test_wheels:
            continue
        if rel.startswith(PYSCRIPT.dest) and UNUSED_PYSCRIPT.search(rel):
            continue
        precache.append([rel, sha256_file(path)[:16]])
    return precache


def cache_version(precache: list[list[str]]) -> str:
    return sha256_bytes(json.dumps(precache).encode())[:12]


def service_worker(app_version: str, cache_version: str, precache: list[list[str]]) -> str:
    """site/sw.js with its cache name and precache list filled in."""
    sw = (SITE / "sw.js").read_text()
    sw = sw.replace("%CACHE_VERSION%", f"{app_version}-{cache_version}")
    return sw.replace('"%PRECACHE%"', json.dumps(precache, separators=(",", ":")))
