"""Start-up: the loader patch and key of the start snapshot, and precompressed files.

* `patch_pyodide_loader`: two hooks in Pyodide's `pyodide.asm.mjs` that restoring a start
  snapshot needs (site/js/pyodide-boot.mjs): a callback between the new instance and the copy
  of the snapshot's memory, and a forced memory base for linking an extension module again
  at the address it had. Each is checked to apply exactly once, so a Pyodide update that
  moves the code fails the build instead of the restore.
* `snapshot_key`: a hash of every input of a snapshot; a stored snapshot is only ever read
  under the key of the build that made it.
* `precompress`: `.gz` siblings of the files worth compressing, for `serve` and for static
  hosts that serve precompressed files.

Standard library only.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from pathlib import Path

from buildtools.common import BuildError

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


def patch_pyodide_loader(source: bytes) -> bytes:
    text = source.decode()
    for what, original, replacement in LOADER_PATCHES:
        count = text.count(original)
        if count != 1:
            raise BuildError(
                f"Cannot apply the start-snapshot patch ({what}) to pyodide.asm.mjs: its code "
                f"was found {count} times instead of once. A new Pyodide version needs the "
                "patch in buildtools/startup.py (and the restore in site/js/pyodide-boot.mjs) "
                "checked again."
            )
        text = text.replace(original, replacement)
    return text.encode()


def snapshot_key(inputs: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over (name, content) pairs, in name order: Pyodide's files (its build id is in
    pyodide.mjs; the patched loader), the lock files, every wheel (our sources and templates
    are in the app wheel), and the scripts that make and restore the snapshot."""
    h = hashlib.sha256()
    for name, data in sorted(inputs):
        h.update(name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()[:24]


# Worth compressing: text and the WebAssembly binary and the standard library (stored
# uncompressed in its zip). Wheels and .gz data are deflated already.
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
    ".py",
)
MIN_SIZE = 1024
MIN_SAVING = 0.9  # keep a sibling only if it is at most 90 % of the original


def precompress(dist: Path) -> int:
    """Write `<file>.gz` beside every compressible file of `dist` (kept only where it saves at
    least a tenth). Returns how many were written.

    gzip only: brotli would save about 0.8 MB more on pyodide.asm.wasm, but needs a compiled
    package in the build and minutes of CPU at its best setting; `serve` sends a `.br`
    sibling when a host's build puts one there."""
    written = 0
    for path in sorted(dist.rglob("*")):
        if not path.is_file() or path.suffix not in COMPRESSIBLE:
            continue
        data = path.read_bytes()
        if len(data) < MIN_SIZE:
            continue
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) <= len(data) * MIN_SAVING:
            path.with_name(path.name + ".gz").write_bytes(packed)
            written += 1
    return written
