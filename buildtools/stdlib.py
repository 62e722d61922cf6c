"""Pyodide's standard library, pruned: `python_stdlib.zip` with only the modules something we
ship can import, without their comments, and the proof.

The zip is the largest part of a first visit that we control (9.7 MB of sources, 1.6 MB sent
brotli-encoded). `pruned_stdlib` keeps a module only if it is reachable:

* from what runs in the page: every module of every wheel the app loads (ours, pydantic,
  pydantic-core's Python part, jinja2, markupsafe, annotated-types, typing-extensions,
  typing-inspection), PyScript's own Python package (embedded in its JavaScript), our
  `main.py`, and Pyodide's `pyodide` and `_pyodide` packages (in the zip);
* from Python embedded in the JavaScript we ship (`import x` / `from x import` /
  `pyimport("x")` in Pyodide's loader, PyScript's chunks, our scripts and pages);
* from what the interpreter imports by name from C (`FROM_C`: start-up, codecs, warnings,
  `time.strptime`, big-integer conversions, ...), which no Python source shows;
* through the standard library itself: the closure of all of the above over every import
  statement of every module reached, at any depth, including those inside functions, `try`
  and `if TYPE_CHECKING` (only `if __name__ == "__main__":` bodies are skipped: they run when
  a module is started as a program, never on import), `import_module("x")` / `__import__("x")`
  with a literal name, and `breakpoint()` (pdb).

The graph is read by `buildtools/imports.py` inside the vendored Pyodide (its Python 3.14
parses the 3.14 sources; the build's Python may be older). A module that imports a name
computed at run time fails the build unless `DYNAMIC_REVIEWED` says where its names come from
(in such a module every string shaped like a module name also counts as imported);
`KEPT_WHOLE` packages (the codecs) are kept whole. The in-browser test page, whose pytest
imports more (unittest, doctest), loads the whole zip from tests/ instead.

Comments are then left out of the kept sources (each line stays in its place) wherever the
result compiles to byte-identical code; elsewhere the source is kept as it is.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from buildtools import imports
from buildtools.common import CACHE, BuildError, log
from buildtools.imports import imports_of, with_parents

Modules = Mapping[str, tuple[bytes, bool]]  # {module name: (source, is a package)}

# Packages kept whole whatever the import graph says: the codecs, which `codecs.lookup` imports
# as encodings.<name> for whatever encoding name a caller computes at run time.
KEPT_WHOLE: tuple[str, ...] = ("encodings",)

# Reachable modules that import a module whose name is computed at run time, read one by one:
# where the names come from, and why every module they can name is kept. A new one fails the
# build until it is read and added here.
DYNAMIC_REVIEWED: dict[str, str] = {
    # Ours and the wheels' (shipped whole).
    "app.core": "app.screens.<name> from the build's manifest: our own package",
    "medex.migrations": "the record modules of medex: our own package",
    "pydantic": "its lazy attributes, pydantic.<module>: pydantic's own modules",
    "pydantic._internal._validators": "ImportString fields: no model of ours has one",
    "jinja2.loaders": "PackageLoader(<package>): the app uses FileSystemLoader",
    "jinja2.utils": "import_string for extensions named by a string: the app passes none",
    # The standard library's.
    "encodings": "codecs.lookup(<name>): the package is kept whole (KEPT_WHOLE)",
    "_pyodide._base": "JavaScript's pyodide.pyimport(<name>): every call in the JavaScript we "
    "ship names its module literally (read as roots), but PyScript's pyimport of micropip or "
    "mip, only for a `packages` setting, which pyscript.json does not have",
    "_py_warnings": "-W / PYTHONWARNINGS category names: options a page never gets",
    "importlib.metadata": "EntryPoint.load(): the only entry point the wheels declare is "
    "jinja2's babel extractor (jinja2.ext, shipped)",
    "importlib.resources._common": "files(<package>) for a package its caller names",
    "importlib.util": "find_spec / module_from_spec: the parents of a name its caller gives",
    "inspect": "only its command line (python -m inspect)",
    "multiprocessing.forkserver": "a fork server's preloads: no processes in a page",
    "pickle": "unpickling imports what a pickle names: nothing we ship unpickles",
    "pkgutil": "iter_modules / resolve_name for names its caller gives (app.screens)",
    "pydoc": "help(<name>) and its command line: there is no Python prompt in the app",
    "runpy": "python -m <name>: nothing we ship runs a module as a program",
    "sysconfig": "_sysconfigdata_<abi>_<platform>, kept (FROM_C)",
    "traceback": "an ImportError's own module name, for its did-you-mean hint",
    "xml.sax": "make_parser(): xml.sax.expatreader by default (a string, counted) or names "
    "from PY_SAX_PARSER, which a page does not have",
}

# What CPython (3.14) and Pyodide import by name from C: no Python source shows these imports,
# so they are kept whatever the import graph says, with everything they import.
FROM_C: tuple[str, ...] = (
    "site",  # start-up (Pyodide runs it); it imports sitecustomize/usercustomize if present
    "encodings",  # the codec registry: encodings.<name> looked up by name at run time
    "io",
    "abc",
    "codecs",
    "_collections_abc",
    "zipimport",  # importing from the zip itself
    "warnings",  # PyErr_WarnEx and friends
    "_strptime",  # time.strptime, datetime.strptime
    "_pylong",  # int <-> str and division of very large integers
    "copyreg",  # pickling and copying of objects
    "traceback",  # printing an uncaught exception
    "linecache",
    "_colorize",
    "_pyodide",  # Pyodide's start-up and JS <-> Python glue
    "pyodide",
    "_sysconfigdata__emscripten_wasm32-emscripten",  # sysconfig, by a name built at run time
)


def zip_modules(files: Mapping[str, bytes]) -> dict[str, tuple[bytes, bool]]:
    """{module name: (source, is package)} for the `.py` files of a zip or wheel ({path: bytes})."""
    modules: dict[str, tuple[bytes, bool]] = {}
    for path, data in files.items():
        if not path.endswith(".py") or ".dist-info/" in path or ".data/" in path:
            continue
        parts = path[:-3].split("/")
        if not all(part.isidentifier() or part.startswith("_sysconfigdata") for part in parts):
            continue
        if parts[-1] == "__init__":
            modules[".".join(parts[:-1])] = (data, True)
        else:
            modules[".".join(parts)] = (data, False)
    return modules


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}


_JS_IMPORT = re.compile(r"""(?:\bimport|\bfrom)\s+([A-Za-z_][\w.]*)|pyimport\(\s*["']([\w.]+)""")


def js_imports(text: str) -> set[str]:
    """Module names Python code embedded in JavaScript may import (over-approximated: every
    `import x` / `from x` in the text, JavaScript's own included, and `pyimport("x")`)."""
    found: set[str] = set()
    text = text.replace("\\n", "\n").replace("\\t", "\t")  # Python in a JS string: "\nimport x"
    for match in _JS_IMPORT.finditer(text):
        found |= with_parents(match.group(1) or match.group(2))
    return found


_EMBEDDED_PY = re.compile(r'"([A-Za-z_]\w*\.py)":"((?:[^"\\]|\\.)*)"')


def embedded_python(text: str, package: str) -> dict[str, tuple[bytes, bool]]:
    """The Python files PyScript carries inside its JavaScript as {"name.py": "source"}, as
    the modules of `package`."""
    out: dict[str, tuple[bytes, bool]] = {}
    for file_name, body in _EMBEDDED_PY.findall(text):
        module = file_name[:-3]
        name = package if module == "__init__" else f"{package}.{module}"
        out[name] = (json.loads(f'"{body}"').encode(), module == "__init__")
    return out


Graph = Mapping[str, tuple[list[str], bool]]  # {module: (imported names, computed names too)}
Parser = Callable[[Modules], Graph]


def closure(roots: Iterable[str], graph: Graph) -> dict[str, str | None]:
    """{module: the module that first imports it (None for a root)} for everything reachable
    from `roots` (and their packages) through `graph`; names not in it (C modules, names tried
    in a `try`, attributes imported with `from`) are recorded but not followed."""
    reached: dict[str, str | None] = {}
    todo: deque[tuple[str, str | None]] = deque()  # breadth first: the shortest chains
    for root in sorted(roots):
        todo += [(name, None) for name in sorted(with_parents(root))]
    while todo:
        name, parent = todo.popleft()
        if name in reached:
            continue
        reached[name] = parent
        for child in graph.get(name, ((), False))[0]:
            if child not in reached:
                todo.append((child, name))
    return reached


def chain(reached: Mapping[str, str | None], name: str) -> list[str]:
    """The imports that reach `name`, from a root."""
    out = [name]
    parent = reached.get(name)
    while parent is not None:
        out.append(parent)
        parent = reached.get(parent)
    return out[::-1]


def roots(stdlib: Modules, shipped: Modules, javascript: Iterable[str]) -> set[str]:
    """Where the walk starts (see the module's docstring)."""
    start = set(shipped) | set(FROM_C)
    start |= {name for name in stdlib if name.split(".")[0] in ("pyodide", "_pyodide")}
    for text in javascript:
        start |= js_imports(text)
    return start


Uncommenter = Callable[[Mapping[str, bytes]], dict[str, bytes]]


def pruned_stdlib(
    stdlib_zip: bytes,
    shipped: Modules,
    javascript: Iterable[str],
    parse: Parser,
    uncomment: Uncommenter | None = None,
) -> tuple[bytes, list[str], dict[str, str | None]]:
    """(`stdlib_zip` with only the modules reachable from what we ship — the same entries,
    order, dates and compression otherwise —, the modules left out, what is reachable).

    A package's other files go with its `__init__`; `KEPT_WHOLE` packages are kept whole.
    Fails if a reachable module imports a name computed at run time and is not in
    `DYNAMIC_REVIEWED`. `parse` gives the import graph of the modules it is handed;
    `uncomment`, the kept sources without their comments (where that compiles to the same
    code: the encodings' tables alone carry 1 MB of them)."""
    stdlib = zip_modules(read_zip(stdlib_zip))
    graph = parse({**stdlib, **shipped})
    reached = closure(roots(stdlib, shipped, javascript), graph)
    unreviewed = sorted(
        name
        for name in reached
        if name in graph and graph[name][1] and name not in DYNAMIC_REVIEWED
    )
    if unreviewed:
        raise BuildError(
            "These modules import a module whose name is computed at run "
            "time, so the build cannot tell which: read them and add each to DYNAMIC_REVIEWED "
            f"in buildtools/stdlib.py (or keep the package whole): {unreviewed}"
        )
    kept_packages = {name for name, (_, is_package) in stdlib.items() if is_package}
    kept_packages = {name for name in kept_packages if name in reached}
    left_out: list[str] = []
    entries: list[zipfile.ZipInfo] = []
    with zipfile.ZipFile(io.BytesIO(stdlib_zip)) as source:
        for info in source.infolist():
            name = info.filename
            folder = name.rpartition("/")[0].replace("/", ".")
            if name.split("/")[0] in KEPT_WHOLE:
                keep = True
            elif name.endswith(".py"):
                module = name[:-3].replace("/", ".").removesuffix(".__init__")
                keep = module in reached or module not in stdlib
                if not keep:
                    left_out.append(module)
            else:  # data files and folders: with their package
                keep = not folder or folder in kept_packages
            if keep:
                entries.append(info)
        contents = {info.filename: source.read(info) for info in entries}
        if uncomment is not None:
            contents.update(uncomment({k: v for k, v in contents.items() if k.endswith(".py")}))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as kept:
            for info in entries:
                kept.writestr(info, contents[info.filename], compress_type=info.compress_type)
            kept.comment = source.comment
    return out.getvalue(), sorted(left_out), reached


def parse_here(modules: Modules) -> dict[str, tuple[list[str], bool]]:
    """The import graph read by this Python (sources it can parse: the tests)."""
    return {name: (found, dynamic) for name, (found, dynamic) in imports_of(modules).items()}


PYODIDE_JS = r"""
import { loadPyodide } from %(pyodide_mjs)s;
import fs from "node:fs";
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const py = await loadPyodide({ indexURL: job.index_url, lockFileURL: job.lock_url });
py.runPython(job.python);
const result = py.globals.get("run_job")(job.kind, fs.readFileSync(job.input, "utf8"));
fs.writeFileSync(job.output, result);
"""
PYODIDE_PY = r"""
import base64, json

def run_job(kind, text):
    if kind == "imports":
        modules = {name: [base64.b64decode(src), pkg] for name, (src, pkg) in json.loads(text).items()}
        return json.dumps(imports_of(modules))
    files = {path: base64.b64decode(data) for path, data in json.loads(text).items()}
    out = sources_without_comments(files)
    return json.dumps({path: base64.b64encode(data).decode() for path, data in out.items()})
"""


class InPyodide:
    """Runs buildtools/imports.py in the vendored Pyodide's own Python (3.14) under Node.js,
    each result cached in .cache/imports/ by input hash: `parse` (a `Parser`) and
    `without_comments`."""

    def __init__(self, pyodide_dir: Path, original_lock: bytes, pyodide_version: str):
        self.pyodide_dir = pyodide_dir
        self.original_lock = original_lock
        self.pyodide_version = pyodide_version

    def parse(self, modules: Modules) -> Graph:
        payload = {
            name: [base64.b64encode(source).decode(), is_package]
            for name, (source, is_package) in sorted(modules.items())
        }
        graph = self._run("imports", payload, f"reading the imports of {len(modules)} modules")
        return {name: (found, dynamic) for name, (found, dynamic) in graph.items()}

    def without_comments(self, files: Mapping[str, bytes]) -> dict[str, bytes]:
        """{path: source} of the .py files without their comments, where that compiles to the
        same code (buildtools/imports.py `without_comments`)."""
        payload = {path: base64.b64encode(data).decode() for path, data in sorted(files.items())}
        out = self._run("uncommented", payload, f"leaving out the comments of {len(files)} files")
        return {path: base64.b64decode(data) for path, data in out.items()}

    def _run(self, kind: str, payload: dict, what: str) -> dict:
        script_source = Path(imports.__file__).read_text()
        text = json.dumps(payload)
        digest = hashlib.sha256(
            (PYODIDE_JS + PYODIDE_PY + script_source + self.pyodide_version + kind).encode()
        )
        digest.update(text.encode())
        folder = CACHE / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        cached = folder / f"{kind}-{digest.hexdigest()[:24]}.json"
        if not cached.exists():
            node = shutil.which("node")
            if node is None:
                raise BuildError("Node.js is needed to read the standard library.")
            work = Path(tempfile.mkdtemp(prefix="job-", dir=folder))
            try:
                lock_path = work / "pyodide-lock.original.json"
                lock_path.write_bytes(self.original_lock)
                index = self.pyodide_dir.resolve()
                script = work / "job.mjs"
                script.write_text(
                    PYODIDE_JS % {"pyodide_mjs": json.dumps((index / "pyodide.mjs").as_uri())}
                )
                (work / "input.json").write_text(text)
                job = work / "job.json"
                job.write_text(
                    json.dumps(
                        {
                            "index_url": str(index) + "/",
                            "lock_url": str(lock_path),
                            "python": script_source + PYODIDE_PY,
                            "kind": kind,
                            "input": str(work / "input.json"),
                            "output": str(work / "output.json"),
                        }
                    )
                )
                log(f"{what} in Pyodide (Node.js)")
                proc = subprocess.run(
                    [node, str(script), str(job)], capture_output=True, text=True, check=False
                )
                if proc.returncode != 0:  # Node quotes the minified line first: leave it out
                    said = (proc.stderr or proc.stdout).splitlines()
                    raise BuildError(
                        f"{what} in Pyodide failed:\n"
                        + "\n".join(line for line in said if len(line) < 500)[-3000:]
                    )
                os.replace(work / "output.json", cached)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return json.loads(cached.read_text())
