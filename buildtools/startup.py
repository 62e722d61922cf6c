"""Start-up: the loader patch and key of the start snapshot, and precompressed files.

* `patch_pyodide_loader`: two hooks in Pyodide's `pyodide.asm.mjs` that restoring a start
  snapshot needs (site/js/pyodide-boot.mjs): a callback between the new instance and the copy
  of the snapshot's memory, and a forced memory base for linking an extension module again
  at the address it had. `patch_pyodide_start`: in `pyodide.mjs`, the wasm is instantiated
  while the snapshot is read instead of after. Each is checked to apply exactly once, so a
  Pyodide update that moves the code fails the build instead of the restore.
* `snapshot_key`: a hash of every input of a snapshot; a stored snapshot is only ever read
  under the key of the build that made it.
* `precompress`: `.br` and `.gz` siblings of the files worth compressing, for `serve` and for
  static hosts that serve precompressed files (README, "What a static host must do").

Standard library only, but for Google's `brotli`, which `brotli_module` installs from PyPI into
.cache/tools/ (pinned by hash in buildtools/requirements-build.txt) the first time a build
needs it. Compressed siblings are cached in .cache/compressed/ by the hash of their input.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

from buildtools.common import CACHE, BuildError, log, sha256_bytes

# (what, original, replacement) in pyodide.asm.mjs.
LOADER_PATCHES = (
    (
        "the hook before a snapshot's memory is restored",
        "API.restoreSnapshot=function(t){",
        "API.restoreSnapshot=function(t){API.config._beforeRestore&&API.config._beforeRestore(Module);",
    ),
    (
        "the forced memory base of an extension module",
        "var getMemory=size=>{",
        "var getMemory=size=>{if(Module.medexMemoryBase!=null)return Module.medexMemoryBase;",
    ),
)


# (what, original, replacement) in pyodide.mjs: `loadPyodide` waits for the snapshot's bytes
# before it instantiates the wasm (they were read one after the other); restoring, it now
# instantiates while they are read and waits for them only to copy them in. The instance must
# not start Python (`noInitialRun`, which Pyodide sets once it has the bytes); its memory is
# grown to the snapshot's size before the copy (site/js/pyodide-boot.mjs `linkExtensions`).
# A failed read is awaited (and reported) after the instance is up, never left unhandled.
START_PATCHES = (
    (
        "the wasm instantiated while the snapshot is read",
        "s=await ke(t,n),r=await Re(i,n);",
        "s=ke(t,n);s.catch(()=>{});t._loadSnapshot&&(n.noInitialRun=!0);"
        "let r=await Re(i,n);s=await s;",
    ),
)


def _patched(source: bytes, patches: tuple[tuple[str, str, str], ...], name: str) -> bytes:
    text = source.decode()
    for what, original, replacement in patches:
        count = text.count(original)
        if count != 1:
            raise BuildError(
                f"Cannot apply the start-snapshot patch ({what}) to {name}: its code "
                f"was found {count} times instead of once. A new Pyodide version needs the "
                "patch in buildtools/startup.py (and the restore in site/js/pyodide-boot.mjs) "
                "checked again."
            )
        text = text.replace(original, replacement)
    return text.encode()


def patch_pyodide_loader(source: bytes) -> bytes:
    return _patched(source, LOADER_PATCHES, "pyodide.asm.mjs")


def patch_pyodide_start(source: bytes) -> bytes:
    return _patched(source, START_PATCHES, "pyodide.mjs")


def snapshot_key(inputs: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over (name, content) pairs, in name order: Pyodide's files (its build id is in
    pyodide.mjs; the patched loader), the lock files, every wheel (our sources and templates
    are in the app wheel), and the scripts that make and restore the snapshot."""
    h = hashlib.sha256()
    for name, data in sorted(inputs):
        h.update(name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()[:24]


# Worth compressing: text, the WebAssembly binary, the standard library zip and the wheels (the
# build stores the entries of both zips uncompressed, so the transport compression sees their
# contents whole: buildtools/wheels.py `stored_zip`), and the ICD-10-CM index (plain text).
# Images and .gz data are compressed already.
COMPRESSIBLE = (
    ".html",
    ".js",
    ".mjs",
    ".css",
    ".json",
    ".webmanifest",
    ".wasm",
    ".svg",
    ".zip",
    ".whl",
    ".py",
    ".txt",
)
MIN_SIZE = 1024
MIN_SAVING = 0.9  # keep a sibling only if it is at most 90 % of the original

# brotli's quality for the .br siblings, chosen by measurement (benchmarks/README.md, "First
# visit over the wire"): quality 11 is 2-5 % smaller than 10 (0.15-0.2 MB in all) for about
# 1.5-2 times its CPU time (some 30 s more on a clean build); 9 is 15 % bigger. Every build
# from a clean clone (CI) pays it once; rebuilds read .cache/compressed/.
BROTLI_QUALITY = 11
GZIP_LEVEL = 9

BUILD_REQUIREMENTS = Path(__file__).with_name("requirements-build.txt")
TOOLS = CACHE / "tools"
COMPRESSED = CACHE / "compressed"


def brotli_module() -> ModuleType:
    """Google's brotli at the version and hashes pinned in requirements-build.txt: installed by
    pip from PyPI (`--require-hashes`) into a folder of .cache/tools/ of its own, keyed by the
    pins, this Python and this machine, the first time a build needs it; imported from there."""
    pins = BUILD_REQUIREMENTS.read_text()
    version = next(
        line.split("==", 1)[1].split()[0]
        for line in pins.splitlines()
        if line.startswith("brotli==")
    )
    tag = f"{sys.implementation.cache_tag}-{platform.machine()}"
    target = TOOLS / f"brotli-{sha256_bytes(pins.encode())[:12]}-{tag}"
    if not (target / "brotli.py").is_file():
        TOOLS.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="install-", dir=TOOLS))
        log(f"installing brotli {version} (build-time only) from PyPI into .cache/tools/")
        try:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--require-hashes",
                "--target",
                str(work),
                "-r",
                str(BUILD_REQUIREMENTS),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
                raise BuildError(
                    f"Cannot install brotli {version} for the precompressed files (is PyPI "
                    "reachable? on a machine without a wheel for it, pip builds the pinned "
                    "sdist, which needs a C compiler).\n  command: "
                    + " ".join(cmd)
                    + "\n  "
                    + "\n  ".join(tail)
                )
            # A build running at the same time may have installed it first: theirs is kept.
            with contextlib.suppress(OSError):
                os.replace(work, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))
    module = importlib.import_module("brotli")
    if module.__version__ != version:
        raise BuildError(
            f"brotli {module.__version__} was imported from {module.__file__}, but the build pins "
            f"{version} (buildtools/requirements-build.txt)."
        )
    return module


def _compressed(
    data: bytes,
    kind: str,
    compress: Callable[[bytes], bytes],
    decompress: Callable[[bytes], bytes],
    cache: Path | None,
) -> bytes:
    """`compress(data)`, from `cache` when an earlier build made it (checked by decompressing
    it: a damaged cache entry is made again, never shipped)."""
    if cache is None:
        return compress(data)
    path = cache / f"{sha256_bytes(data)[:32]}.{kind}"
    if path.is_file():
        packed = path.read_bytes()
        with contextlib.suppress(Exception):  # damaged: made again below
            if decompress(packed) == data:
                os.utime(path)  # used: kept by `_prune`
                return packed
    packed = compress(data)
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=cache)
    with os.fdopen(fd, "wb") as fh:
        fh.write(packed)
    os.replace(tmp, path)
    return packed


def precompress(
    dist: Path,
    only: Iterable[str] | None = None,
    *,
    quality: int = BROTLI_QUALITY,
    cache: Path | None = COMPRESSED,
) -> int:
    """Write `<file>.br` (brotli at `quality`) and `<file>.gz` (gzip, no timestamp) beside every
    compressible file of `dist`, or of those of its paths `only` names; each sibling is kept
    only where it saves at least a tenth. Returns how many files got a sibling.

    The files are compressed in parallel (brotli releases the GIL), the biggest first, and
    each result is cached in `cache` by the hash of its input."""
    wanted = None if only is None else set(only)
    paths = [
        path
        for path in dist.rglob("*")
        if path.is_file()
        and path.suffix in COMPRESSIBLE
        and (wanted is None or path.relative_to(dist).as_posix() in wanted)
        and path.stat().st_size >= MIN_SIZE
    ]
    paths.sort(key=lambda path: -path.stat().st_size)
    brotli = brotli_module() if paths else None

    def one(path: Path) -> bool:
        data = path.read_bytes()
        assert brotli is not None
        codings = (
            (
                ".br",
                f"br{quality}",
                lambda d: brotli.compress(d, quality=quality),
                brotli.decompress,
            ),
            (
                ".gz",
                f"gz{GZIP_LEVEL}",
                lambda d: gzip.compress(d, compresslevel=GZIP_LEVEL, mtime=0),
                gzip.decompress,
            ),
        )
        kept = False
        for suffix, kind, compress, decompress in codings:
            packed = _compressed(data, kind, compress, decompress, cache)
            if len(packed) <= len(data) * MIN_SAVING:
                path.with_name(path.name + suffix).write_bytes(packed)
                kept = True
        return kept

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        written = sum(pool.map(one, paths))
    if cache is not None:
        _prune(cache)
    return written


CACHE_DAYS = 14


def _prune(cache: Path) -> None:
    """Forget cached siblings no build has used for `CACHE_DAYS` (each app change leaves one)."""
    oldest = time.time() - CACHE_DAYS * 86400
    for path in cache.glob("*"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < oldest:
                path.unlink()
