"""The first paint imports what the home screen shows and no more.

Every module imported before the app is interactive is paid for at every cold start (in Pyodide
a module of pydantic models costs several times what it does here: its validators are built at
import). The rest of the domain is imported where a screen, a use case or the first write
needs it. This runs the start path in a fresh CPython: main.py's imports in its order (the
browser's modules ``js``, ``pyodide`` and ``pyscript`` stubbed), the screens registered from
the build's manifest as in the browser, then the first paint of the home screen (first run,
and with a practice profile while the dashboard is still to fill in), and compares the app's
and the domain's modules in ``sys.modules`` with the list below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from buildtools.assemble import screens_manifest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"

# What the first paint of the home screen needs: the shell and its loop, the records the start
# reads (practice profile, the meta values of encryption, the demo and a client's turn), the
# set-up checklist, and the home screen with its practice-profile form.
FIRST_PAINT = {
    "app",
    "app.browser",
    "app.clock",
    "app.core",
    "app.drafts",
    "app.forms",
    "app.practice_form",
    "app.render",
    "app.screens",
    "app.screens.home",
    "app.screens.practice",
    "app.shell",
    "medex",
    "medex.audit",
    "medex.dashboard",
    "medex.demo_marker",
    "medex.forms",
    "medex.letters",
    "medex.migrations",
    "medex.navigation",
    "medex.records",
    "medex.repository",
    "medex.revisions",
    "medex.services",
    "medex.services.data",
    "medex.services.practice",
    "medex.signing",
    "medex.storage",
    "medex.stores",
    "medex.turn_marker",
}

START = r"""
import ast, asyncio, json, os, sys, types

py, manifest_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, py)


class Stub(types.ModuleType):
    # Any attribute is another stub, and any call returns one: enough for module-level code.
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub(name)

    def __call__(self, *args, **kwargs):
        return Stub("result")


for name in ("js", "pyodide", "pyodide.ffi", "pyodide_js", "pyscript", "pyscript.js_modules"):
    sys.modules[name] = Stub(name)
sys.modules["pyodide.ffi"].JsException = type("JsException", (Exception,), {})


# Standard-library modules that take a tenth of a second or more to import in Pyodide and that
# nothing before the first paint needs (pkgutil: only to list the screens without the manifest).
COSTLY = ("pkgutil",)


def app_modules():
    return {m for m in sys.modules if m.partition(".")[0] in ("app", "medex")}


# main.py's imports, in its order (its one await and the build's placeholder aside).
source = open(os.path.join(os.path.dirname(py), "main.py")).read()
source = source.replace("%APP_PACKAGES%", "[]")
tree = compile(source, "main.py", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
for node in ast.walk(tree):
    if isinstance(node, ast.Import):
        for alias in node.names:
            __import__(alias.name)
    elif isinstance(node, ast.ImportFrom):
        module = __import__(node.module, fromlist=[a.name for a in node.names])

from app import core

core.MANIFEST = type(core.MANIFEST)(manifest_path)
core.load_screens()
imported = {"start": sorted(app_modules())}

from medex.records import PracticeProfile  # imported by the shell already
from medex.repository import InMemoryRepository


class Device:
    async def storage_info(self):
        return {"persisted": False, "usage": 0, "quota": 0, "supported": True}


async def first_paint(repo):
    app = core.App(repo, Device())
    app.state.warm = False  # as the shell paints first (the dashboard fills in after)
    await app.load()
    app.navigate("")
    return await app.html()


async def main():
    repo = InMemoryRepository()
    page = await first_paint(repo)
    assert "first_name" not in page and "practitioner_name" in page, page[:300]
    imported["first run"] = sorted(app_modules())
    # A practice profile as stored (put there directly: a save would import what writes need).
    profile = PracticeProfile(practitioner_name="Jo Smith", business_name="Smith MEP")
    repo.stores = {PracticeProfile.store: {profile.id: profile.model_dump_json()}}
    page = await first_paint(repo)
    assert "Smith MEP" in page, page[:300]
    imported["home"] = sorted(app_modules())
    imported["costly"] = sorted(m for m in COSTLY if m in sys.modules)


asyncio.run(main())
print(json.dumps(imported))
"""


def start_imports(py: Path, tmp_path: Path) -> dict[str, list[str]]:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(screens_manifest()))
    env = {**os.environ, "PYDANTIC_DISABLE_PLUGINS": "__all__"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", START, str(py), str(manifest)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_first_paint_imports_only_what_the_home_screen_needs(tmp_path):
    imported = start_imports(SITE / "py", tmp_path)
    for stage in ("start", "first run", "home"):
        extra = sorted(set(imported[stage]) - FIRST_PAINT)
        assert not extra, (
            f"imported before the first paint ({stage}) though home does not need it: {extra}. "
            "Import it where the screen or use case that needs it runs."
        )
    assert imported["costly"] == []
    # The list is not stale either: the home screen really is painted from these modules.
    assert set(imported["home"]) == FIRST_PAINT
