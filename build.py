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

from __future__ import annotations

import argparse
import base64
import csv
import fnmatch
import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent
SITE = ROOT / "site"
DIST = Path(os.environ.get("MEDEX_DIST") or ROOT / "dist")  # MEDEX_DIST: build elsewhere
CACHE = ROOT / ".cache"
LOCK_PATH = ROOT / "vendor.lock.json"
LOCK_FORMAT = "medex-vendor-lock"

APP_NAME = "medex_practice"
PYODIDE_ABI_PLATFORM = "pyemscripten_2026_0_wasm32"
# Fixed timestamp for the wheels we build, so identical inputs give identical bytes.
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """A build failure with a message meant for a person."""


# --------------------------------------------------------------------------------------
# What we vendor
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    files: tuple[str, ...]  # glob patterns inside the package (relative to package/)
    strip: str = ""  # prefix removed when copying into dist
    exclude: tuple[str, ...] = ()
    test_only: bool = False  # fetched for tests, never shipped in dist/

    @property
    def key(self) -> str:
        return self.name

    @property
    def dest(self) -> str:
        return f"vendor/{self.name.lstrip('@').replace('/', '-')}-{self.version}"

    @property
    def archive(self) -> str:
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    platform: str | None = None  # None: pure-Python wheel
    from_sdist: bool = False  # build a pure-Python wheel from the sdist (no C speedups)
    test_only: bool = False  # only for the in-Pyodide test runner page

    @property
    def key(self) -> str:
        return self.name


PYODIDE = NpmPackage(
    "pyodide",
    "314.0.7",
    files=(
        "pyodide.mjs",
        "pyodide.asm.mjs",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
        "pyodide-lock.json",
    ),
)
PYSCRIPT = NpmPackage(
    "@pyscript/core", "0.7.31", files=("dist/*",), strip="dist/", exclude=("*.map",)
)
NPM_PACKAGES: tuple[NpmPackage, ...] = (
    PYODIDE,
    PYSCRIPT,
    NpmPackage("dexie", "4.4.7", files=("dist/modern/dexie.min.mjs",), strip="dist/modern/"),
    NpmPackage("idiomorph", "0.8.0", files=("dist/idiomorph.esm.js",), strip="dist/"),
    NpmPackage("@picocss/pico", "2.1.1", files=("css/pico.min.css",), strip="css/"),
    NpmPackage("signature_pad", "5.1.4", files=("dist/signature_pad.js",), strip="dist/"),
    NpmPackage("axe-core", "4.14.1", files=("axe.min.js",), test_only=True),
)

WHEELS: tuple[Wheel, ...] = (
    Wheel("pydantic", "2.14.4"),
    Wheel("pydantic-core", "2.50.5", platform=PYODIDE_ABI_PLATFORM),
    Wheel("annotated-types", "0.7.0"),
    Wheel("typing-extensions", "4.16.0"),
    Wheel("typing-inspection", "0.4.5"),
    Wheel("jinja2", "3.1.6"),
    Wheel("markupsafe", "3.0.4", from_sdist=True),
    # The in-browser unit-test runner (tests.html) only:
    Wheel("pytest", "9.0.3", test_only=True),
    Wheel("pluggy", "1.7.0", test_only=True),
    Wheel("iniconfig", "2.3.1", test_only=True),
    Wheel("packaging", "26.4", test_only=True),
    Wheel("pygments", "2.21.0", test_only=True),
)

# Data packages whose contents build.py turns into app data (not shipped as wheels).
DATA_WHEELS: tuple[Wheel, ...] = (Wheel("simple-icd-10-cm", "1.5.0"),)

# Packages the app itself loads at startup (the rest of the wheels are test-only).
APP_PACKAGES = ("pydantic", "jinja2")

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".py": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
}


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(functools.partial(fh.read, 1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------
# Fetching (npm / pip) into the cache
# --------------------------------------------------------------------------------------


def _run(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BuildError(f"Cannot fetch {what}: the command '{cmd[0]}' is not installed.") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise BuildError(
            f"Cannot fetch {what} (is the registry reachable, and does this version exist?).\n"
            f"  command: {' '.join(cmd)}\n  " + "\n  ".join(tail)
        )


def npm_archive(pkg: NpmPackage) -> Path:
    target = CACHE / "npm" / pkg.archive
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        log(f"fetching npm {pkg.name}@{pkg.version}")
        _run(
            [
                "npm",
                "pack",
                f"{pkg.name}@{pkg.version}",
                "--pack-destination",
                str(target.parent),
                "--silent",
            ],
            f"npm package {pkg.name}@{pkg.version}",
        )
        if not target.exists():
            raise BuildError(f"npm pack did not produce {target.name} for {pkg.name}@{pkg.version}")
    return target


def _find_dist(folder: Path, wheel: Wheel, kind: str) -> Path | None:
    norm = re.sub(r"[-_.]+", "_", wheel.name).lower()
    for path in sorted(folder.glob("*")):
        stem = re.sub(r"[-_.]+", "_", path.name).lower()
        if stem.startswith(f"{norm}_{wheel.version.replace('.', '_')}"):
            if kind == "wheel" and path.suffix == ".whl":
                return path
            if kind == "sdist" and path.name.endswith(".tar.gz"):
                return path
    return None


def pypi_archive(wheel: Wheel) -> Path:
    """The downloaded distribution (wheel, or sdist for from_sdist packages) in the cache."""
    folder = CACHE / "pypi"
    kind = "sdist" if wheel.from_sdist else "wheel"
    found = _find_dist(folder, wheel, kind)
    if found:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    log(
        f"fetching PyPI {wheel.name}=={wheel.version}"
        + (f" ({wheel.platform})" if wheel.platform else "")
    )
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(folder),
    ]
    if wheel.from_sdist:
        cmd += ["--no-binary=:all:"]
    else:
        cmd += ["--only-binary=:all:"]
    if wheel.platform:
        cmd += [
            "--platform",
            wheel.platform,
            "--python-version",
            "3.14",
            "--implementation",
            "cp",
            "--abi",
            "cp314",
        ]
    cmd.append(f"{wheel.name}=={wheel.version}")
    _run(cmd, f"PyPI package {wheel.name}=={wheel.version}")
    found = _find_dist(folder, wheel, kind)
    if not found:
        raise BuildError(f"pip download did not produce a {kind} for {wheel.name}=={wheel.version}")
    return found


# --------------------------------------------------------------------------------------
# Reading archives
# --------------------------------------------------------------------------------------


def npm_files(pkg: NpmPackage, archive: Path) -> dict[str, bytes]:
    """Selected files of an npm tarball, keyed by their path in dist (after strip)."""
    out: dict[str, bytes] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = member.name.removeprefix("package/")
            if not any(fnmatch.fnmatch(rel, pat) for pat in pkg.files):
                continue
            if any(fnmatch.fnmatch(rel, pat) for pat in pkg.exclude):
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            out[rel.removeprefix(pkg.strip)] = fh.read()
    if not out:
        raise BuildError(f"No files matched {pkg.files} in {archive.name}")
    return out


def _zip_write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


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
            _zip_write(zf, path, data)
    return file_name, buf.getvalue()


def wheel_from_sdist(wheel: Wheel, sdist: Path) -> tuple[str, bytes]:
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
    return make_wheel(wheel.name, wheel.version, files, requires, summary)


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


# --------------------------------------------------------------------------------------
# The lock file
# --------------------------------------------------------------------------------------


def load_lock() -> dict:
    if not LOCK_PATH.exists():
        raise BuildError(f"{LOCK_PATH.name} is missing: run `python build.py lock` to create it.")
    lock = json.loads(LOCK_PATH.read_text())
    if lock.get("format") != LOCK_FORMAT:
        raise BuildError(f"{LOCK_PATH.name} is not a {LOCK_FORMAT} file")
    return lock


def _locked(lock: dict, section: str, name: str, version: str) -> dict:
    entry = lock.get(section, {}).get(name)
    if entry is None:
        raise BuildError(
            f"{name} is not pinned in {LOCK_PATH.name}: run `python build.py lock` after adding it."
        )
    if entry["version"] != version:
        raise BuildError(
            f"{name} is pinned at {entry['version']} in {LOCK_PATH.name} but build.py asks for {version}: "
            "run `python build.py lock`."
        )
    return entry


def _check(what: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise BuildError(
            f"Hash mismatch for {what}:\n  expected sha256 {expected}\n  got      sha256 {actual}\n"
            "Refusing to build with a file that differs from the pinned one. If the cached download "
            "is corrupt, delete it from .cache/ and build again; if the pin is meant to change, run "
            "`python build.py lock` and review the diff."
        )


def write_lock() -> None:
    """Fetch every pinned package (from the cache or the registries) and record its hashes."""
    lock: dict = {
        "format": LOCK_FORMAT,
        "version": 1,
        "comment": "Written by `python build.py lock`. Every vendored file, pinned by version and sha256.",
        "npm": {},
        "pypi": {},
    }
    for pkg in NPM_PACKAGES:
        archive = npm_archive(pkg)
        files = npm_files(pkg, archive)
        lock["npm"][pkg.name] = {
            "version": pkg.version,
            "archive": archive.name,
            "sha256": sha256_file(archive),
            "test_only": pkg.test_only,
            "files": {path: sha256_bytes(data) for path, data in sorted(files.items())},
        }
    for wheel in (*WHEELS, *DATA_WHEELS):
        archive = pypi_archive(wheel)
        entry = {"version": wheel.version, "archive": archive.name, "sha256": sha256_file(archive)}
        if wheel.platform:
            entry["platform"] = wheel.platform
        if wheel.from_sdist:
            file_name, data = wheel_from_sdist(wheel, archive)
            entry["built_wheel"] = {"file": file_name, "sha256": sha256_bytes(data)}
        if wheel.test_only:
            entry["test_only"] = True
        lock["pypi"][wheel.name] = entry
    LOCK_PATH.write_text(json.dumps(lock, indent=2, sort_keys=False) + "\n")
    log(f"wrote {LOCK_PATH.name}")


def verified_npm(lock: dict, pkg: NpmPackage) -> dict[str, bytes]:
    entry = _locked(lock, "npm", pkg.name, pkg.version)
    archive = npm_archive(pkg)
    _check(f"npm {pkg.name}@{pkg.version} ({archive.name})", sha256_file(archive), entry["sha256"])
    files = npm_files(pkg, archive)
    if sorted(files) != sorted(entry["files"]):
        raise BuildError(
            f"The files selected from {pkg.name} differ from {LOCK_PATH.name}: run `python build.py lock`."
        )
    for path, data in files.items():
        _check(f"{pkg.name}/{path}", sha256_bytes(data), entry["files"][path])
    return files


def verified_wheel(lock: dict, wheel: Wheel) -> tuple[str, bytes]:
    entry = _locked(lock, "pypi", wheel.name, wheel.version)
    archive = pypi_archive(wheel)
    _check(
        f"PyPI {wheel.name}=={wheel.version} ({archive.name})",
        sha256_file(archive),
        entry["sha256"],
    )
    if wheel.from_sdist:
        file_name, data = wheel_from_sdist(wheel, archive)
        _check(
            f"{file_name} (built from {archive.name})",
            sha256_bytes(data),
            entry["built_wheel"]["sha256"],
        )
        return file_name, data
    return archive.name, archive.read_bytes()


# --------------------------------------------------------------------------------------
# Assembling dist/
# --------------------------------------------------------------------------------------


def app_version() -> str:
    text = (SITE / "py" / "medex" / "__init__.py").read_text()
    return re.search(r'APP_VERSION = "([^"]+)"', text).group(1)  # type: ignore[union-attr]


def app_wheel_files() -> dict[str, bytes]:
    """Our Python packages plus templates, as they go into the app wheel."""
    files: dict[str, bytes] = {}
    for package in ("medex", "app"):
        for path in sorted((SITE / "py" / package).rglob("*.py")):
            files[path.relative_to(SITE / "py").as_posix()] = path.read_bytes()
    for path in sorted((SITE / "templates").rglob("*")):
        if path.is_file():
            files["app/templates/" + path.relative_to(SITE / "templates").as_posix()] = (
                path.read_bytes()
            )
    files["app/screens/manifest.json"] = json.dumps(screens_manifest(), indent=1).encode()
    return files


def screens_manifest() -> dict:
    """Which screen module registers which route (with its menu label) and action, read from
    the @route/@action decorators, so the app imports a screen only when it is first used."""
    import ast

    screens = []
    for path in sorted((SITE / "py" / "app" / "screens").glob("*.py")):
        entry: dict = {"module": path.stem, "routes": [], "actions": []}
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Name)):
                    continue
                args = [ast.literal_eval(a) for a in deco.args]
                kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                if deco.func.id == "route":
                    names = ("name", "label", "order")
                    entry["routes"].append({**dict(zip(names, args, strict=False)), **kwargs})
                elif deco.func.id == "action":
                    entry["actions"].append(args[0])
        if entry["routes"] or entry["actions"]:
            screens.append(entry)
    return {"screens": screens}


def tests_zip() -> bytes:
    """The pure domain unit tests, for the in-Pyodide runner (tests.html)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted((ROOT / "tests" / "unit").rglob("*")):
            if (
                path.is_file()
                and path.suffix in (".py", ".txt", ".json")
                and "__pycache__" not in path.parts
            ):
                _zip_write(
                    zf,
                    "tests/unit/" + path.relative_to(ROOT / "tests" / "unit").as_posix(),
                    path.read_bytes(),
                )
    return buf.getvalue()


def rewrite_pyodide_lock(original: bytes, wheels: dict[str, bytes]) -> bytes:
    """Keep Pyodide's `info`; list only the wheels we ship, with their real hashes."""
    lock = json.loads(original)
    packages = {}
    for file_name, data in sorted(wheels.items()):
        name, version, deps, imports = wheel_metadata(data)
        packages[name] = {
            "name": name,
            "version": version,
            "file_name": file_name,
            "install_dir": "site",
            "sha256": sha256_bytes(data),
            "package_type": "package",
            "imports": imports,
            "depends": deps,
        }
    known = set(packages)
    for entry in packages.values():
        missing = [d for d in entry["depends"] if d not in known]
        if missing:
            raise BuildError(
                f"{entry['name']} depends on {missing}, which build.py does not vendor."
            )
    return json.dumps(
        {"info": lock["info"], "packages": packages}, indent=1, sort_keys=True
    ).encode()


# Python bytecode for the browser. Pyodide would otherwise compile every imported .py at each
# start-up (e.g. `import jinja2`: ~330 ms from source, ~30 ms from bytecode). CPython 3.14
# bytecode can only come from CPython 3.14, so we compile inside the vendored Pyodide itself,
# run by Node.js. Third-party wheels keep only .pyc (as Pyodide's own packages do); our app
# wheel keeps its .py beside __pycache__/*.pyc so tracebacks show source lines.
PYCOMPILE_JS = r"""
import { loadPyodide } from %(pyodide_mjs)s;
import fs from "node:fs";
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const py = await loadPyodide({ indexURL: job.index_url, lockFileURL: job.lock_url });
py.runPython(job.python);
const compileWheel = py.globals.get("compile_wheel");
for (const [src, dst, keepSource] of job.wheels) {
  const out = compileWheel(new Uint8Array(fs.readFileSync(src)), keepSource);
  fs.writeFileSync(dst, out);  // a Uint8Array (to_js of bytes)
}
"""
PYCOMPILE_PY = r"""
import base64, csv, hashlib, importlib.util, io, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

SITE = f"/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages/"
TAG = sys.implementation.cache_tag

def compile_wheel(data, keep_source):
    data = bytes(data.to_py())
    entries = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            blob = zf.read(name)
            top = name.split("/")[0]
            if not name.endswith(".py") or top.endswith((".dist-info", ".data")):
                entries[name] = blob
                continue
            code = compile(blob, SITE + name, "exec", dont_inherit=True)
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
    wheels: dict[str, bytes], keep_source: set[str], original_lock: bytes
) -> dict[str, bytes]:
    """Bytecode-compiled copies of the given wheels (cached by input hash); sources if Node is absent."""
    folder = CACHE / "compiled"
    folder.mkdir(parents=True, exist_ok=True)
    key = sha256_bytes((PYCOMPILE_JS + PYCOMPILE_PY + PYODIDE.version).encode())[:12]
    out: dict[str, bytes] = {}
    jobs = []
    for file_name, data in wheels.items():
        target = folder / f"{sha256_bytes(data)[:24]}-{key}.whl"
        if target.exists():
            out[file_name] = target.read_bytes()
        else:
            source = folder / f"{sha256_bytes(data)[:24]}.src.whl"
            source.write_bytes(data)
            jobs.append([str(source), str(target), file_name in keep_source])
    if jobs:
        node = shutil.which("node")
        if node is None:
            log("WARNING: Node.js not found: shipping source wheels (slower start-up: no bytecode)")
            return wheels
        lock_path = folder / "pyodide-lock.original.json"
        lock_path.write_bytes(original_lock)
        index = (DIST / PYODIDE.dest).resolve()
        script = folder / "pycompile.mjs"
        script.write_text(
            PYCOMPILE_JS % {"pyodide_mjs": json.dumps((index / "pyodide.mjs").as_uri())}
        )
        job = folder / "job.json"
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
        for (source, target, _), file_name in zip(
            jobs, [n for n in wheels if n not in out], strict=True
        ):
            Path(source).unlink()
            out[file_name] = Path(target).read_bytes()
    return {name: out[name] for name in wheels}


def write(rel: str, data: bytes | str) -> None:
    path = DIST / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def build() -> dict:
    """Assemble dist/. Returns a summary (paths the app needs), also written to dist/build.json."""
    lock = load_lock()
    version = app_version()
    if DIST.exists():
        shutil.rmtree(DIST)
    DIST.mkdir()

    # 1. Vendored npm files (versioned folders: immutable).
    pyodide_files: dict[str, bytes] = {}
    for pkg in NPM_PACKAGES:
        files = verified_npm(lock, pkg)
        if pkg.test_only:
            target = CACHE / "test-assets"
            target.mkdir(parents=True, exist_ok=True)
            for rel, data in files.items():
                (target / rel).write_bytes(data)
            continue
        if pkg is PYODIDE:
            pyodide_files = files
        for rel, data in files.items():
            if pkg is PYODIDE and rel == "pyodide-lock.json":
                continue  # rewritten below
            write(f"{pkg.dest}/{rel}", data)

    # 2. Wheels: third-party (pinned) + our app wheel (content-hashed local version).
    wheels: dict[str, bytes] = {}
    test_wheels: set[str] = set()
    for wheel in WHEELS:
        file_name, data = verified_wheel(lock, wheel)
        wheels[file_name] = data
        if wheel.test_only:
            test_wheels.add(file_name)
    app_files = app_wheel_files()
    content = sha256_bytes(b"".join(k.encode() + v for k, v in sorted(app_files.items())))[:10]
    app_wheel_name, app_wheel = make_wheel(
        APP_NAME.replace("_", "-"),
        f"{version}+{content}",
        app_files,
        ["pydantic", "jinja2"],
        "MedEx Practice",
    )
    wheels[app_wheel_name] = app_wheel
    runtime = {name: data for name, data in wheels.items() if name not in test_wheels}
    wheels.update(py_compile_wheels(runtime, {app_wheel_name}, pyodide_files["pyodide-lock.json"]))
    for file_name, data in wheels.items():
        write(f"{PYODIDE.dest}/{file_name}", data)
    write(
        f"{PYODIDE.dest}/pyodide-lock.json",
        rewrite_pyodide_lock(pyodide_files["pyodide-lock.json"], wheels),
    )

    # 3. App data derived from data packages (ICD-10-CM index), loaded lazily by the app.
    data_files = build_data_files(lock)

    # 4. Our static files, with the few build-time substitutions.
    subst = {
        "%APP_VERSION%": version,
        "%PYODIDE%": PYODIDE.dest,
        "%PYSCRIPT%": PYSCRIPT.dest,
        "%DEXIE%": f"vendor/dexie-{_npm('dexie').version}/dexie.min.mjs",
        "%IDIOMORPH%": f"vendor/idiomorph-{_npm('idiomorph').version}/idiomorph.esm.js",
        "%PICO%": f"vendor/picocss-pico-{_npm('@picocss/pico').version}/pico.min.css",
        "%SIGNATURE_PAD%": f"vendor/signature_pad-{_npm('signature_pad').version}/signature_pad.js",
        "%APP_PACKAGES%": json.dumps([APP_NAME.replace("_", "-")]),
        "%ICD10_INDEX%": data_files.get("icd10", ""),
        "%PYSCRIPT_PRELOADS%": pyscript_preloads(),
        "%INDEXEDDB_SCHEMA%": indexeddb_schema(),
    }
    for path in sorted(SITE.rglob("*")):
        rel = path.relative_to(SITE).as_posix()
        if path.is_dir() or rel.startswith(("py/", "templates/")) or "__pycache__" in rel:
            continue
        data = path.read_bytes()
        if path.suffix in (".html", ".js", ".mjs", ".json", ".webmanifest", ".py", ".css"):
            text = data.decode()
            for key, value in subst.items():
                text = text.replace(key, value)
            data = text.encode()
        write(rel, data)
    write("tests/unit-tests.zip", tests_zip())

    # 5. The service worker's precache list: everything the app needs, with content hashes.
    precache = []
    for path in sorted(DIST.rglob("*")):
        rel = path.relative_to(DIST).as_posix()
        if path.is_dir() or rel in ("sw.js", "build.json") or rel.startswith("tests"):
            continue
        if rel.endswith(".whl") and rel.rsplit("/", 1)[-1] in test_wheels:
            continue
        if rel.startswith(PYSCRIPT.dest) and re.search(
            r"/(codemirror|xterm|py-editor|py-terminal|py-game|mpy|zip)", rel
        ):
            continue  # PyScript plugins the app never loads
        precache.append([rel, sha256_file(path)[:16]])
    cache_version = sha256_bytes(json.dumps(precache).encode())[:12]
    sw = (SITE / "sw.js").read_text()
    sw = sw.replace("%CACHE_VERSION%", f"{version}-{cache_version}")
    sw = sw.replace('"%PRECACHE%"', json.dumps(precache, separators=(",", ":")))
    write("sw.js", sw)

    summary = {
        "app_version": version,
        "cache_version": cache_version,
        "app_wheel": app_wheel_name,
        "pyodide": PYODIDE.dest,
        "precache_files": len(precache),
        "precache_bytes": sum((DIST / rel).stat().st_size for rel, _ in precache),
    }
    write("build.json", json.dumps(summary, indent=1))
    log(
        f"dist/ ready: app {version}, {len(precache)} precached files, {summary['precache_bytes'] / 1e6:.1f} MB"
    )
    return summary


def pyscript_preloads() -> str:
    """<link rel=modulepreload> for the chunks PyScript imports before it starts Pyodide, so
    they download and compile in parallel with the page instead of one after another."""
    chunks = sorted((DIST / PYSCRIPT.dest).glob("*.js"))
    wanted = re.compile(
        r"^(core|deprecations-manager|donkey|error|py-editor|py-game|py-terminal|toml)-[\w-]+\.js$"
    )
    links = [
        f'<link rel="modulepreload" href="{PYSCRIPT.dest}/{path.name}">'
        for path in chunks
        if wanted.match(path.name)
    ]
    return "\n  ".join(links)


def indexeddb_schema() -> str:
    """The Dexie schema for js/store.js, from the registry of stored record types
    (site/py/medex/stores.py, standard library only: loaded here without the domain)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_medex_stores", SITE / "py/medex/stores.py")
    assert spec is not None and spec.loader is not None
    stores = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stores)
    return json.dumps(stores.indexeddb_schema(), indent=2)


def _npm(name: str) -> NpmPackage:
    return next(p for p in NPM_PACKAGES if p.name == name)


def build_data_files(lock: dict) -> dict[str, str]:
    """Derived data files; returns {key: path in dist}. Empty where the tool is not present."""
    out: dict[str, str] = {}
    try:
        from buildtools import icd10_index  # stdlib-only helper
    except ImportError:
        return out
    wheel = DATA_WHEELS[0]
    name, _ = verified_wheel(lock, wheel)  # verifies the pinned hash first
    index = gzip.compress(icd10_index.build_index(CACHE / "pypi" / name), compresslevel=9, mtime=0)
    rel = f"data/icd10cm-{wheel.version}-{sha256_bytes(index)[:8]}.txt.gz"
    write(rel, index)
    out["icd10"] = rel
    return out


# --------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        **MIME_TYPES,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(DIST), **kwargs)

    def end_headers(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/vendor/") and not path.endswith(".json"):
            # Versioned paths (name-version/) and content-hashed wheels never change.
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        elif path.startswith("/data/"):
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            # The app shell, service worker and lock: always revalidate.
            self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if os.environ.get("MEDEX_SERVE_LOG"):
            super().log_message(format, *args)


def serve(port: int, host: str = "127.0.0.1") -> None:
    server = http.server.ThreadingHTTPServer((host, port), Handler)
    print(
        f"MedEx Practice is served at http://{host}:{server.server_address[1]}/  (Ctrl+C to stop)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------

APT_PACKAGES = ["chromium", "fonts-dejavu-core", "fonts-liberation", "poppler-utils"]


def install_test_requirements() -> None:
    missing = [
        p
        for p in APT_PACKAGES
        if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0
    ]
    if missing:
        log(f"installing Debian packages: {' '.join(missing)}")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
        )
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    log("installing Python test requirements: " + " ".join(requirements))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )


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
            return subprocess.run(
                [sys.executable, "-m", "pytest", *args.pytest_args], cwd=ROOT
            ).returncode
    except BuildError as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
