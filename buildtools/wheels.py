"""Wheels: the deterministic wheels we make ourselves, and bytecode for the browser.

* `make_wheel` - a py3-none-any wheel from {path: bytes}, byte-identical for identical input
  (fixed dates and order): the app wheel, and markupsafe's pure-Python wheel, which
  `wheel_from_sdist` builds from its sdist without the C speedups (its hash is in the lock).
* `wheel_metadata` - name, version, dependencies and import names, for Pyodide's lock file.
* `py_compile_wheels` - CPython 3.14 bytecode compiled inside the vendored Pyodide under
  Node.js, cached in .cache/compiled/ by input hash.
* `stored_zip` - the same zip (a wheel, Pyodide's standard library) with its entries stored
  uncompressed, for the server's brotli or gzip encoding to compress whole.
* `without_unused` - a pinned wheel without the parts the app can never import
  (`UNUSED_IN_WHEELS`).

Standard library only.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

from buildtools.common import CACHE, BuildError, log, sha256_bytes, zip_write


def make_wheel(
    name: str, version: str, files: dict[str, bytes], requires: list[str], summary: str
) -> tuple[str, bytes]:
    """A deterministic py3-none-any wheel from {path: bytes}."""
    dist_name = re.sub(r"[-_.]+", "_", name)
    file_name = f"{dist_name}-{version}-py3-none-any.whl"
    info_dir = f"{dist_name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    wheel_meta = (
        "Wheel-Version: 1.0\nGenerator: medex build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    entries = dict(sorted(files.items()))
    entries[f"{info_dir}/METADATA"] = metadata.encode()
    entries[f"{info_dir}/WHEEL"] = wheel_meta.encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([path, f"sha256={digest}", len(data)])
    writer.writerow([f"{info_dir}/RECORD", "", ""])
    entries[f"{info_dir}/RECORD"] = record.getvalue().encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in entries.items():
            zip_write(zf, path, data)
    return file_name, buf.getvalue()


def stored_zip(data: bytes) -> bytes:
    """The zip `data` with every entry stored uncompressed: the same names, order, contents,
    dates and modes (a wheel's RECORD hashes the contents, so it still holds).

    A zip deflates each file alone, and deflated bytes do not compress again: the first visit
    downloaded the app's wheels and the standard library as they were (about 6.5 MB of 11.5).
    Stored, they are sent brotli- or gzip-encoded by the server (the .br and .gz siblings),
    which compresses across files with a bigger window: a third smaller over the wire. They
    take more room once there (Cache API, Pyodide's file system), and nothing has to inflate
    them when Python imports from them."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as stored:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type = zipfile.ZIP_STORED
            entry.external_attr = info.external_attr
            entry.comment = info.comment
            stored.writestr(entry, source.read(info))
        stored.comment = source.comment
    return out.getvalue()


# Parts of pinned wheels that nothing in the app can import, left out of dist/ (the lock still
# pins the downloaded archive, checked before this): pydantic's copy of its version-1 API
# (0.24 MB over the wire), which pydantic imports only for a type that defines the deprecated
# `__get_validators__` or for a name moved there from version 1 (tests/build/test_startup.py
# checks that no app module does either), and its mypy plugin, which imports mypy (not in
# Pyodide).
UNUSED_IN_WHEELS: dict[str, tuple[str, ...]] = {
    "pydantic": ("pydantic/v1/", "pydantic/mypy.py"),
}


def without_unused(name: str, data: bytes) -> bytes:
    """The wheel of the package `name` without its entries under `UNUSED_IN_WHEELS[name]`, and
    without their rows in its RECORD; any other wheel as it is."""
    prefixes = UNUSED_IN_WHEELS.get(name)
    if not prefixes:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as kept:
        for info in source.infolist():
            if info.filename.startswith(prefixes):
                continue
            blob = source.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                rows = csv.reader(io.StringIO(blob.decode()))
                text = io.StringIO()
                writer = csv.writer(text, lineterminator="\n")
                writer.writerows(row for row in rows if row and not row[0].startswith(prefixes))
                blob = text.getvalue().encode()
            kept.writestr(info, blob, compress_type=info.compress_type)
    return out.getvalue()


def wheel_from_sdist(name: str, version: str, sdist: Path) -> tuple[str, bytes]:
    """A pure-Python wheel from an sdist's src/<pkg>/ tree (C speedups left out)."""
    files: dict[str, bytes] = {}
    requires: list[str] = []
    summary = ""
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = member.name.split("/")
            fh = tar.extractfile(member)
            assert fh is not None
            if len(parts) == 2 and parts[1] == "PKG-INFO":
                for line in fh.read().decode().splitlines():
                    if line.startswith("Requires-Dist:"):
                        requires.append(line.split(":", 1)[1].strip())
                    elif line.startswith("Summary:"):
                        summary = line.split(":", 1)[1].strip()
                continue
            if (
                len(parts) >= 4
                and parts[1] == "src"
                and not parts[-1].endswith((".c", ".h", ".so"))
            ):
                if "_speedups" in parts[-1]:
                    continue
                files["/".join(parts[2:])] = fh.read()
    if not files:
        raise BuildError(f"{sdist.name} has no src/ tree to build a pure-Python wheel from")
    return make_wheel(name, version, files, requires, summary)


def wheel_metadata(data: bytes) -> tuple[str, str, list[str], list[str]]:
    """(name, version, runtime dependencies, top-level import names) of a wheel."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = zf.read(meta_name).decode()
        top_level = next((n for n in names if n.endswith(".dist-info/top_level.txt")), None)
        imports = zf.read(top_level).decode().split() if top_level else []
    name = re.search(r"^Name: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
    version = re.search(r"^Version: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
    deps = []
    for line in re.findall(r"^Requires-Dist: (.+)$", meta, re.M):
        req, _, marker = line.partition(";")
        marker = marker.strip()
        if marker and (
            "extra ==" in marker or "python_version <" in marker or "sys_platform" in marker
        ):
            continue
        dep = re.split(r"[\s<>=!~\[(]", req.strip(), maxsplit=1)[0]
        deps.append(dep.lower().replace("_", "-"))
    if not imports:
        tops = {
            n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))
        }
        imports = sorted(t.removesuffix(".py") for t in tops if t.endswith(".py") or "." not in t)
    return name.lower().replace("_", "-"), version, deps, imports


# Python bytecode for the browser. Pyodide would otherwise compile every imported .py at each
# start-up (e.g. `import jinja2`: ~330 ms from source, ~30 ms from bytecode). CPython 3.14
# bytecode can only come from CPython 3.14, so we compile inside the vendored Pyodide itself,
# run by Node.js. The wheels keep only .pyc (as Pyodide's own packages do), ours too: its .py
# sources were a third of its size over the wire. A traceback (the browser's console; the
# person sees the error's type and message) still names the module, line and function, and
# app/_build.py names the sources it was built from. `keep_source` keeps a wheel's .py beside
# __pycache__/*.pyc instead.
PYCOMPILE_JS = r"""
import { loadPyodide } from %(pyodide_mjs)s;
import fs from "node:fs";
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const py = await loadPyodide({ indexURL: job.index_url, lockFileURL: job.lock_url });
py.runPython(job.python);
const compileWheel = py.globals.get("compile_wheel");
for (const [src, dst, keepSource, withoutDocstrings] of job.wheels) {
  const out = compileWheel(new Uint8Array(fs.readFileSync(src)), keepSource, withoutDocstrings);
  fs.writeFileSync(dst, out);  // a Uint8Array (to_js of bytes)
}
"""
PYCOMPILE_PY = r"""
import ast, base64, csv, hashlib, importlib.util, io, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

SITE = f"/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages/"
TAG = sys.implementation.cache_tag

def without_docstrings(source, name):
    tree = ast.parse(source, name)
    for node in ast.walk(tree):
        kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if not (isinstance(node, kinds) and node.body):
            continue
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            if len(node.body) > 1:
                del node.body[0]
            else:
                node.body[0] = ast.copy_location(ast.Pass(), first)
    return tree

def compile_wheel(data, keep_source, docstrings_out=False):
    data = bytes(data.to_py())
    entries = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            blob = zf.read(name)
            top = name.split("/")[0]
            if not name.endswith(".py") or top.endswith((".dist-info", ".data")):
                entries[name] = blob
                continue
            tree = without_docstrings(blob, SITE + name) if docstrings_out else blob
            code = compile(tree, SITE + name, "exec", dont_inherit=True)
            pyc = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(blob), checked=False))
            folder, _, module = name.rpartition("/")
            if keep_source:
                entries[name] = blob
                entries[(folder + "/" if folder else "") + f"__pycache__/{module[:-3]}.{TAG}.pyc"] = pyc
            else:
                entries[name + "c"] = pyc
    record_name = next(n for n in entries if n.endswith(".dist-info/RECORD"))
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    for name, blob in entries.items():
        if name != record_name:
            digest = base64.urlsafe_b64encode(hashlib.sha256(blob).digest()).rstrip(b"=").decode()
            writer.writerow([name, f"sha256={digest}", len(blob)])
    writer.writerow([record_name, "", ""])
    entries[record_name] = rows.getvalue().encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, entries[name])
    from pyodide.ffi import to_js
    return to_js(out.getvalue())
"""


def py_compile_wheels(
    wheels: dict[str, bytes],
    keep_source: set[str],
    original_lock: bytes,
    pyodide_dir: Path,
    pyodide_version: str,
    without_docstrings: frozenset[str] = frozenset(),
) -> dict[str, bytes]:
    """Bytecode-compiled copies of the given wheels (cached by input hash); sources if Node is absent.

    `pyodide_dir` is the vendored Pyodide already written into dist/ (it runs the compiler);
    `pyodide_version` is part of the cache key. The wheels named in `without_docstrings` are
    compiled without their docstrings (`__doc__` is None, as under `python -OO`, asserts kept):
    documentation for the code's readers (a fifth of pydantic's bytecode, a tenth of ours),
    which no screen shows."""
    folder = CACHE / "compiled"
    folder.mkdir(parents=True, exist_ok=True)
    key = sha256_bytes((PYCOMPILE_JS + PYCOMPILE_PY + pyodide_version).encode())[:12]
    out: dict[str, bytes] = {}
    targets: dict[str, Path] = {}
    for file_name, data in wheels.items():
        kept = "src" if file_name in keep_source else "pyc"
        kept += "-nodoc" if file_name in without_docstrings else ""
        target = folder / f"{sha256_bytes(data)[:24]}-{key}-{kept}.whl"
        if target.exists():
            out[file_name] = target.read_bytes()
        else:
            targets[file_name] = target
    if targets:
        node = shutil.which("node")
        if node is None:
            log("WARNING: Node.js not found: shipping source wheels (slower start-up: no bytecode)")
            return wheels
        # Every file of this compile lives in its own folder, and each result is renamed into
        # the cache only once complete: builds running at the same time never share a file.
        work = Path(tempfile.mkdtemp(prefix="job-", dir=folder))
        try:
            jobs: list[list] = []  # [source, compiled, keep .py, no docstrings], JSON for Node
            for i, file_name in enumerate(targets):
                source = work / f"{i}.src.whl"
                source.write_bytes(wheels[file_name])
                jobs.append(
                    [
                        str(source),
                        str(work / f"{i}.whl"),
                        file_name in keep_source,
                        file_name in without_docstrings,
                    ]
                )
            lock_path = work / "pyodide-lock.original.json"
            lock_path.write_bytes(original_lock)
            index = pyodide_dir.resolve()
            script = work / "pycompile.mjs"
            script.write_text(
                PYCOMPILE_JS % {"pyodide_mjs": json.dumps((index / "pyodide.mjs").as_uri())}
            )
            job = work / "job.json"
            job.write_text(
                json.dumps(
                    {
                        "index_url": str(index) + "/",
                        "lock_url": str(lock_path),
                        "python": PYCOMPILE_PY,
                        "wheels": jobs,
                    }
                )
            )
            log(f"compiling {len(jobs)} wheel(s) to Python bytecode in Pyodide (Node.js)")
            proc = subprocess.run(
                [node, str(script), str(job)], capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                raise BuildError(
                    "Compiling wheels to bytecode in Pyodide failed:\n"
                    + (proc.stderr or proc.stdout)[-3000:]
                )
            for (_, compiled, *_), (file_name, target) in zip(jobs, targets.items(), strict=True):
                out[file_name] = Path(compiled).read_bytes()
                os.replace(compiled, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return {name: out[name] for name in wheels}
