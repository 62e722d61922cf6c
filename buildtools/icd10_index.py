"""Build the offline ICD-10-CM index served with the app (standard library only).

The data comes from the PyPI package ``simple-icd-10-cm`` (MIT licence; the code set itself is
the public-domain CMS/NCHS ICD-10-CM release). We never install or import the package: the build
downloads its wheel once and this module reads the two data files straight out of the zip:

* ``data/icd10c-tabular-*.xml`` - the CMS tabular list: chapters > sections (blocks) > ``diag``
  elements nested by specificity, each with ``name`` (code with the dot) and ``desc``. A
  ``sevenChrDef`` on a ``diag`` defines 7th characters that apply to every leaf below it.
* ``data/code-list-*.txt`` - every code that exists (chapters, blocks, categories, subcategories
  and 7th-character codes, dotless, one per line). It is needed because some 7th-character
  combinations that ``sevenChrDef`` would allow do not exist (e.g. only A/D/S for some codes).

Billable ("valid for HIPAA-covered transactions") is exactly "has no subdivisions": a leaf of the
tree after 7th-character codes are added (this is the CMS rule, and what the package's
``is_leaf`` computes). 7th-character codes get the CMS long description
"<parent description>, <7th character meaning>" (we drop the package's extra "/note" text).

Index format (UTF-8 text, ``\\n`` line ends, no trailing spaces)::

    ICD10CM<TAB>1<TAB><source>            header: magic, format version, provenance
    A00<TAB>0<TAB>Cholera                   one line per code, sorted by code
    A000<TAB>1<TAB>Cholera due to Vibrio cholerae 01, biovar cholerae

* code: upper case WITHOUT the dot (the dot always goes after the 3rd character, so the
  canonical form is ``code[:3] + "." + code[3:]`` when longer than 3 characters);
* flag: ``1`` billable, ``0`` category/subcategory header (not billable);
* description: single spaces, no tabs or newlines.

What the app is sent is format 2, the same lines front-coded (``front_coded``)::

    ICD10CM<TAB>2<TAB><source>
    0A00<TAB>0<TAB><TAB>Cholera             nothing shared with the line before
    3A000<TAB>1<TAB>7<TAB> due to Vibrio...   "A00" + "0"; "Cholera" + " due to ..."

* code: how many leading characters it shares with the code before (one digit), then the rest;
* description: how many leading characters it shares with the description before (empty when
  fewer than 4), then the rest. Brotli sends 0.24 MB against 0.49 MB for format 1: the window
  no longer has to find each line's long shared start again.

Chapters ("1".."22") and blocks ("A00-A09") are left out: they are never written on a referral.

Run by hand: ``python -m buildtools.icd10_index [WHEEL] [-o OUT]`` prints counts and sizes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

PACKAGE = "simple-icd-10-cm"
PINNED_VERSION = "1.5.0"
WHEEL_NAME = "simple_icd_10_cm-1.5.0-py3-none-any.whl"
WHEEL_SHA256 = "6d461d71dc26aedc530ae65f02cfb578a154e49507c32e8241e75f701d4b7e42"
# Where build.py (and the build tests) keep downloaded wheels, relative to the repo root.
CACHE_DIR = Path(".cache") / "pypi"
REPO_ROOT = Path(__file__).resolve().parent.parent

MAGIC = "ICD10CM"
FORMAT_VERSION = "1"

_SPACES = re.compile(r"\s+")


def cached_wheel_path(root: Path = REPO_ROOT) -> Path:
    """Where the pinned wheel lives once downloaded (it may not exist yet)."""
    return root / CACHE_DIR / WHEEL_NAME


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_wheel(root: Path = REPO_ROOT) -> Path:
    """Download the pinned wheel into the cache if absent, and check its sha256."""
    path = cached_wheel_path(root)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                f"{PACKAGE}=={PINNED_VERSION}",
                "-d",
                str(path.parent),
            ],
            check=True,
        )
    digest = sha256_of(path)
    if digest != WHEEL_SHA256:
        raise RuntimeError(f"{path.name}: sha256 {digest} does not match the pinned {WHEEL_SHA256}")
    return path


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _data_member(names: list[str], prefix: str, suffix: str) -> str:
    found = [n for n in names if n.startswith(prefix) and n.endswith(suffix)]
    if len(found) != 1:
        raise ValueError(f"expected one {prefix}*{suffix} in the wheel, found {found}")
    return found[0]


def read_codes(wheel_path: Path) -> dict[str, tuple[bool, str]]:
    """Every category/subcategory/7th-character code: dotless code -> (billable, description)."""
    with zipfile.ZipFile(wheel_path) as zf:
        names = zf.namelist()
        xml_name = _data_member(names, "simple_icd_10_cm/data/icd10c-tabular-", ".xml")
        list_name = _data_member(names, "simple_icd_10_cm/data/code-list-", ".txt")
        existing = {line.strip() for line in zf.read(list_name).decode("utf-8").splitlines()}
        root = ET.fromstring(zf.read(xml_name))

    out: dict[str, tuple[bool, str]] = {}

    def add(code: str, billable: bool, desc: str) -> None:
        if code in out:
            raise ValueError(f"code {code} appears twice in the tabular list")
        if not desc:
            raise ValueError(f"code {code} has no description")
        out[code] = (billable, desc)

    def walk(diag: ET.Element, seventh: dict[str, str] | None) -> None:
        name = (diag.findtext("name") or "").strip()
        desc = _clean(diag.findtext("desc"))
        own = diag.find("sevenChrDef")
        if own is not None:
            seventh = {ext.attrib["char"]: _clean(ext.text) for ext in own.findall("extension")}
        children = diag.findall("diag")
        dotless = name.replace(".", "")
        extended: list[tuple[str, str]] = []
        if not children and seventh:
            # 7th character goes in position 8 (with the dot): pad with placeholder X.
            base = name if len(name) > 3 else name + "."
            base = base.ljust(7, "X")
            for char, meaning in seventh.items():
                code = (base + char).replace(".", "")
                if code in existing:
                    extended.append((code, f"{desc}, {meaning}"))
        add(dotless, not children and not extended, desc)
        for code, ext_desc in extended:
            add(code, True, ext_desc)
        for child in children:
            walk(child, seventh)

    for chapter in root.iter("chapter"):
        for section in chapter.findall("section"):
            for diag in section.findall("diag"):
                walk(diag, None)

    missing = {c for c in existing if c and not c.isdigit() and "-" not in c} - out.keys()
    extra = out.keys() - existing
    if missing or extra:
        raise ValueError(
            f"tabular list and code list disagree: missing {sorted(missing)[:10]}, "
            f"extra {sorted(extra)[:10]}"
        )
    return out


def _source_label(wheel_path: Path) -> str:
    with zipfile.ZipFile(wheel_path) as zf:
        xml_name = _data_member(zf.namelist(), "simple_icd_10_cm/data/icd10c-tabular-", ".xml")
    release = Path(xml_name).stem.removeprefix("icd10c-tabular-")
    return f"ICD-10-CM {release} (CMS/NCHS) via {wheel_path.name}"


def build_index(wheel_path: Path) -> bytes:
    """The compact index (see the module docstring for the format), as UTF-8 bytes."""
    codes = read_codes(wheel_path)
    lines = [f"{MAGIC}\t{FORMAT_VERSION}\t{_source_label(wheel_path)}"]
    for code in sorted(codes):
        billable, desc = codes[code]
        lines.append(f"{code}\t{'1' if billable else '0'}\t{desc}")
    return ("\n".join(lines) + "\n").encode("utf-8")


FRONT_CODED_VERSION = "2"
MIN_SHARED = 4  # a shorter shared start of a description is written out


def _shared(text: str, before: str) -> int:
    """How many leading characters `text` and `before` have in common."""
    n = 0
    for a, b in zip(text, before, strict=False):
        if a != b:
            break
        n += 1
    return n


def front_coded(index: bytes) -> bytes:
    """The format 1 index `index` in format 2 (see the module docstring)."""
    header, *lines = index.decode("utf-8").rstrip("\n").split("\n")
    magic, version, source = header.split("\t", 2)
    if (magic, version) != (MAGIC, FORMAT_VERSION):
        raise ValueError(f"not a format {FORMAT_VERSION} ICD-10-CM index")
    out = [f"{MAGIC}\t{FRONT_CODED_VERSION}\t{source}"]
    code_before = description_before = ""
    for line in lines:
        code, flag, description = line.split("\t")
        n = _shared(code, code_before)
        m = _shared(description, description_before)
        shared = str(m) if m >= MIN_SHARED else ""
        out.append(f"{n}{code[n:]}\t{flag}\t{shared}\t{description[m if shared else 0 :]}")
        code_before, description_before = code, description
    return ("\n".join(out) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="wheel path (default: cached pin)")
    parser.add_argument("-o", "--out", type=Path, help="write the index here")
    args = parser.parse_args(argv)
    wheel = args.wheel or fetch_wheel()
    data = build_index(wheel)
    lines = data.decode("utf-8").splitlines()[1:]
    billable = sum(1 for line in lines if line.split("\t", 2)[1] == "1")
    print(f"wheel     {wheel.name}  sha256 {sha256_of(wheel)}")
    print(f"codes     {len(lines)}  billable {billable}  non-billable {len(lines) - billable}")
    print(f"size      {len(data)} bytes raw, {len(gzip.compress(data, 9))} bytes gzip -9")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
        print(f"written   {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
