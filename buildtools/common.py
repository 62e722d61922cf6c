"""What every build step shares: the repository's paths, `BuildError`, the build log, sha256
helpers and deterministic zip entries. Standard library only.

Where dist/ goes is not decided here: `build.py` owns `DIST` (and its `MEDEX_DIST` override)
and hands the folder to the steps that write or serve it.
"""

from __future__ import annotations

import functools
import hashlib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
CACHE = ROOT / ".cache"

# Fixed timestamp for the wheels we build, so identical inputs give identical bytes.
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """A build failure with a message meant for a person."""


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


def zip_write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    """One deflated, fixed-date, 0644 entry: the same input always gives the same bytes."""
    info = zipfile.ZipInfo(name, ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)
