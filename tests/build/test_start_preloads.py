"""index.html preloads what a start needs before Python asks for it: the restore of a start
snapshot (js/start.js and what it imports) and every module PyScript imports for
pyscript.json's "js_modules", with the modules those import. A module missing from the list
is fetched one after another once Python is up, on every start."""

from __future__ import annotations

import json
import re
from pathlib import Path

SITE = Path(__file__).resolve().parents[2] / "site"
IMPORT = re.compile(
    r"""(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']|(?:^|\n)import\s*["']([^"']+)["']"""
)


def static_imports(path: str) -> set[str]:
    """The site paths (placeholders kept, e.g. %DEXIE%) that the module at `path` imports
    statically, followed through every module of ours."""
    found: set[str] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        file = SITE / current
        if current.startswith("%") or not file.exists():
            continue  # a vendored module: its own imports are its own chunks
        for match in IMPORT.finditer(file.read_text()):
            target = match.group(1) or match.group(2)
            if target.startswith("../%"):
                todo.append(target[3:])
            elif target.startswith("./"):
                todo.append(str(Path(current).parent / target[2:]))
    return found


def preloaded() -> set[str]:
    html = (SITE / "index.html").read_text()
    return set(re.findall(r'<link rel="modulepreload" href="([^"]+)"', html))


def test_the_import_scanner_follows_our_modules():
    graph = static_imports("js/store.js")
    # multi-line imports too (encryption, storage), a vendored module by its placeholder, and
    # two levels down: store → database → schema
    assert {"js/encryption.js", "js/storage.js", "%DEXIE%", "js/schema.js"} <= graph


def test_pyscript_js_modules_and_their_imports_are_preloaded():
    config = json.loads((SITE / "pyscript.json").read_text())
    wanted: set[str] = set()
    for url in config["js_modules"]["main"]:
        wanted |= static_imports(url.removeprefix("./"))
    missing = wanted - preloaded()
    assert not missing, f"add <link rel=modulepreload> to site/index.html for {sorted(missing)}"


def test_the_snapshot_restore_starts_first_and_its_modules_are_preloaded():
    html = (SITE / "index.html").read_text()
    scripts = re.findall(r"<script [^>]*>", html)
    assert scripts[0] == '<script type="module" async src="js/start.js">'
    assert html.index("js/start.js") < html.index('rel="stylesheet"')
    graph = static_imports("js/start.js") - {"js/start.js"}
    assert "js/pyodide-boot.mjs" in graph and "%PYODIDE%/pyodide.mjs" in graph
    assert not graph - preloaded(), sorted(graph - preloaded())
