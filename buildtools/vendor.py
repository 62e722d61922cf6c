"""Vendoring: what the app ships from npm and PyPI, pinned, fetched and verified.

* The pins: `NPM_PACKAGES` (Pyodide, PyScript, Dexie, ...) and `WHEELS` / `DATA_WHEELS`
  (PyPI), each at one version.
* Fetching: `npm pack` / `pip download` into .cache/ (once; a rebuild needs no network).
* The lock file, vendor.lock.json: `write_lock` records the sha256 of every archive and of
  every file taken from it; `verified_npm` / `verified_wheel` check each one against the lock
  and refuse (`BuildError`) a file that is not pinned, pinned at another version, or differs.

Standard library only (plus the `npm` and `pip` command-line clients).
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from buildtools.common import CACHE, ROOT, BuildError, log, sha256_bytes, sha256_file
from buildtools.wheels import wheel_from_sdist

LOCK_PATH = ROOT / "vendor.lock.json"
LOCK_FORMAT = "medex-vendor-lock"

PYODIDE_ABI_PLATFORM = "pyemscripten_2026_0_wasm32"

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


def npm(name: str) -> NpmPackage:
    """The pinned npm package called `name`."""
    return next(p for p in NPM_PACKAGES if p.name == name)


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
        entry: dict = {
            "version": wheel.version,
            "archive": archive.name,
            "sha256": sha256_file(archive),
        }
        if wheel.platform:
            entry["platform"] = wheel.platform
        if wheel.from_sdist:
            file_name, data = wheel_from_sdist(wheel.name, wheel.version, archive)
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
        file_name, data = wheel_from_sdist(wheel.name, wheel.version, archive)
        _check(
            f"{file_name} (built from {archive.name})",
            sha256_bytes(data),
            entry["built_wheel"]["sha256"],
        )
        return file_name, data
    return archive.name, archive.read_bytes()
