"""Start-up: the precompressed files and how `serve` picks them, the loader patch and the key
of the start snapshot (buildtools/startup.py, buildtools/serve.py), and the wheels as shipped
(buildtools/wheels.py: stored, without what nothing imports)."""

import ast
import gzip
import io
import os
import subprocess
import sys
import threading
import urllib.request
import zipfile
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

import build
from buildtools import serve, startup, wheels
from buildtools.common import BuildError
from buildtools.wheels import make_wheel, stored_zip


def test_precompress_writes_br_and_gz_siblings_only_where_they_save(tmp_path):
    brotli = startup.brotli_module()
    dist, cache = tmp_path / "dist", tmp_path / "cache"
    (dist / "vendor").mkdir(parents=True)
    big = b"const answer = 42;\n" * 500
    (dist / "vendor/app.js").write_bytes(big)
    (dist / "tiny.js").write_bytes(b"x = 1;\n")  # too small to bother
    (dist / "noise.wasm").write_bytes(os.urandom(20_000))  # does not compress
    (dist / "picture.png").write_bytes(big)  # not a compressible kind
    assert startup.precompress(dist, cache=cache) == 1
    assert gzip.decompress((dist / "vendor/app.js.gz").read_bytes()) == big
    assert brotli.decompress((dist / "vendor/app.js.br").read_bytes()) == big
    for name in ("tiny.js", "noise.wasm", "picture.png"):
        for suffix in (".gz", ".br"):
            assert not (dist / (name + suffix)).exists(), name + suffix
    # Deterministic: the same input gives the same bytes (no timestamp in the header).
    first = {s: (dist / f"vendor/app.js.{s}").read_bytes() for s in ("gz", "br")}
    startup.precompress(dist, cache=None)
    assert {s: (dist / f"vendor/app.js.{s}").read_bytes() for s in ("gz", "br")} == first


def test_precompress_compresses_only_the_paths_named(tmp_path):
    text = b"body { margin: 0 }\n" * 200
    for name in ("index.html", "tests.html", "sw.js"):
        (tmp_path / name).write_bytes(text)
    assert startup.precompress(tmp_path, ["index.html", "sw.js"], cache=None) == 2
    assert (tmp_path / "index.html.br").exists() and (tmp_path / "sw.js.gz").exists()
    assert not (tmp_path / "tests.html.br").exists()
    assert not (tmp_path / "tests.html.gz").exists()


def test_precompress_reads_its_cache_and_remakes_a_damaged_entry(tmp_path, monkeypatch):
    brotli = startup.brotli_module()
    dist, cache = tmp_path / "dist", tmp_path / "cache"
    dist.mkdir()
    wasm = b"\0asm" + bytes(range(256)) * 400
    (dist / "a.wasm").write_bytes(wasm)
    startup.precompress(dist, cache=cache, quality=5)
    entries = sorted(p.name for p in cache.iterdir())
    assert [e.rsplit(".", 1)[1] for e in entries] == ["br5", "gz9"]
    # A rebuild compresses nothing: every sibling comes from the cache.
    calls = []
    real = brotli.compress
    monkeypatch.setattr(brotli, "compress", lambda *a, **k: calls.append(1) or real(*a, **k))
    (dist / "a.wasm.br").unlink()
    startup.precompress(dist, cache=cache, quality=5)
    assert calls == [] and brotli.decompress((dist / "a.wasm.br").read_bytes()) == wasm
    # Another quality is another entry; a damaged entry is made again, never shipped.
    startup.precompress(dist, cache=cache, quality=6)
    assert calls == [1]
    damaged = next(cache.glob("*.br5"))
    damaged.write_bytes(b"not brotli")
    startup.precompress(dist, cache=cache, quality=5)
    assert calls == [1, 1]
    assert brotli.decompress((dist / "a.wasm.br").read_bytes()) == wasm
    assert brotli.decompress(damaged.read_bytes()) == wasm
    # An entry no build has used for two weeks is forgotten; one just used is kept.
    stale = next(cache.glob("*.br6"))
    os.utime(stale, (0, 0))
    os.utime(damaged, (0, 0))
    startup.precompress(dist, cache=cache, quality=5)
    assert not stale.exists() and damaged.exists()


def test_brotli_is_the_pinned_version_installed_in_the_cache():
    brotli = startup.brotli_module()
    pins = startup.BUILD_REQUIREMENTS.read_text()
    assert f"brotli=={brotli.__version__} " in pins
    assert pins.count("--hash=sha256:") >= 2  # pip installs it with --require-hashes
    assert Path(brotli.__file__).resolve().is_relative_to(startup.TOOLS.resolve())
    assert startup.brotli_module() is brotli  # installed once


def test_a_stored_zip_keeps_every_entry_and_installs(tmp_path):
    files = {
        "demo/__init__.py": b"VALUE = 'stored'\n" * 50,
        "demo/templates/page.html": b"<p>{{ x }}</p>\n" * 40,
    }
    name, deflated = make_wheel("demo-pkg", "1.0", files, [], "A demo")
    stored = stored_zip(deflated)
    with zipfile.ZipFile(io.BytesIO(deflated)) as a, zipfile.ZipFile(io.BytesIO(stored)) as b:
        assert a.namelist() == b.namelist()
        for info in b.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == a.getinfo(info.filename).date_time
            assert info.external_attr == a.getinfo(info.filename).external_attr
            assert b.read(info) == a.read(info.filename)
    assert len(stored) > len(deflated)
    assert stored_zip(deflated) == stored  # deterministic
    # pip checks the wheel's RECORD on install: the stored wheel installs and imports.
    wheel = tmp_path / name
    wheel.write_bytes(stored)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        check=True,
    )  # fmt: skip
    assert (target / "demo/__init__.py").read_bytes() == files["demo/__init__.py"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", {"gzip", "deflate", "br", "zstd"}),
        ("gzip;q=0, br", {"br"}),
        ("*", {"br", "gzip"}),
        ("*;q=0.5, br;q=0", {"gzip"}),
        ("identity", {"identity"}),
        ("", set()),
        (None, set()),
        ("GZIP; Q=1.0", {"gzip"}),
        ("gzip;q=nonsense", set()),
    ],
)
def test_accept_encoding_is_read_as_http_says(header, expected):
    assert serve.accepted_encodings(header) == expected


@pytest.fixture
def served(tmp_path):
    """A folder with a file and its precompressed siblings, served by build's handler."""
    body = b"export const x = 1;\n" * 100
    (tmp_path / "app.js").write_bytes(body)
    (tmp_path / "app.js.gz").write_bytes(gzip.compress(body, mtime=0))
    (tmp_path / "app.js.br").write_bytes(b"pretend brotli")
    (tmp_path / "plain.css").write_bytes(b"body { margin: 0 }\n")
    (tmp_path / "only-gz.wasm").write_bytes(b"\0asm" + b"\0" * 4000)
    (tmp_path / "only-gz.wasm.gz").write_bytes(gzip.compress(b"\0asm" + b"\0" * 4000, mtime=0))
    server = ThreadingHTTPServer(("127.0.0.1", 0), serve.handler_for(tmp_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", body
    finally:
        server.shutdown()
        server.server_close()


def get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_serve_sends_the_precompressed_sibling_the_request_accepts(served):
    base, body = served
    status, headers, data = get(base + "app.js", **{"Accept-Encoding": "gzip, deflate"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"].startswith("text/javascript")  # the original's type
    assert headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(data)
    assert gzip.decompress(data) == body

    # brotli is preferred when both are there and accepted.
    status, headers, data = get(base + "app.js", **{"Accept-Encoding": "gzip, br"})
    assert headers["Content-Encoding"] == "br" and data == b"pretend brotli"
    # A coding refused with q=0 is never sent.
    status, headers, data = get(base + "app.js", **{"Accept-Encoding": "br;q=0, gzip"})
    assert headers["Content-Encoding"] == "gzip"
    # Only a gzip sibling: a brotli-only client gets the file as it is.
    status, headers, data = get(base + "only-gz.wasm", **{"Accept-Encoding": "br"})
    assert headers["Content-Encoding"] is None and data.startswith(b"\0asm")
    assert headers["Content-Type"] == "application/wasm"
    assert headers["Vary"] == "Accept-Encoding"


def test_serve_sends_the_file_as_it_is_without_accept_encoding(served):
    base, body = served
    status, headers, data = get(base + "app.js")
    assert status == 200 and data == body
    assert headers["Content-Encoding"] is None
    assert headers["Vary"] == "Accept-Encoding"  # a shared cache must keep the two apart
    status, headers, data = get(base + "app.js", **{"Accept-Encoding": "identity"})
    assert data == body and headers["Content-Encoding"] is None
    # A file without siblings: nothing varies.
    status, headers, data = get(base + "plain.css", **{"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] is None and headers["Vary"] is None


def test_serve_revalidates_a_precompressed_file(served):
    base, _ = served
    _, headers, _ = get(base + "app.js", **{"Accept-Encoding": "gzip"})
    status, headers, data = get(
        base + "app.js",
        **{"Accept-Encoding": "gzip", "If-Modified-Since": headers["Last-Modified"]},
    )
    assert status == 304 and data == b""
    status, _, _ = get(
        base + "app.js",
        **{"Accept-Encoding": "gzip", "If-Modified-Since": formatdate(0, usegmt=True)},
    )
    assert status == 200


def test_the_loader_patch_applies_once_to_the_vendored_pyodide():
    lock = build.load_lock()
    original = build.verified_npm(lock, build.PYODIDE)["pyodide.asm.mjs"]
    patched = startup.patch_pyodide_loader(original).decode()
    for _what, before, after in startup.LOADER_PATCHES:
        assert patched.count(after) == 1 and before in after
    assert len(patched) == len(original.decode()) + sum(
        len(after) - len(before) for _, before, after in startup.LOADER_PATCHES
    )
    with pytest.raises(BuildError, match="start-snapshot patch"):
        startup.patch_pyodide_loader(b"var nothing = 1;")
    with pytest.raises(BuildError, match="found 2 times"):
        startup.patch_pyodide_loader(original + original)


def test_the_start_patch_applies_once_to_the_vendored_pyodide():
    lock = build.load_lock()
    original = build.verified_npm(lock, build.PYODIDE)["pyodide.mjs"]
    patched = startup.patch_pyodide_start(original).decode()
    for _what, before, after in startup.START_PATCHES:
        assert before not in patched and patched.count(after) == 1
    # The instance is made before the snapshot's bytes are awaited, and told not to start Python.
    assert patched.index("await Re(i,n)") < patched.index("s=await s")
    assert "n.noInitialRun=!0" in patched
    with pytest.raises(BuildError, match=r"start-snapshot patch .* to pyodide\.mjs"):
        startup.patch_pyodide_start(b"var nothing = 1;")


def test_the_snapshot_key_changes_with_every_input():
    inputs = [("pyodide/pyodide.asm.wasm", b"\0asm"), ("wheel/app.whl", b"PK"), ("site/a.js", b"")]
    key = startup.snapshot_key(inputs)
    assert startup.snapshot_key(list(reversed(inputs))) == key  # order does not matter
    for i, (name, data) in enumerate(inputs):
        changed = list(inputs)
        changed[i] = (name, data + b"!")
        assert startup.snapshot_key(changed) != key
        renamed = list(inputs)
        renamed[i] = (name + "2", data)
        assert startup.snapshot_key(renamed) != key
    # The boundary between name and content counts too.
    assert startup.snapshot_key([("ab", b"c")]) != startup.snapshot_key([("a", b"bc")])


def test_no_app_module_needs_what_the_build_leaves_out_of_pydantic():
    """pydantic imports its version-1 copy (left out of dist/: buildtools/wheels.py
    UNUSED_IN_WHEELS) only for a type defining `__get_validators__`, or for a name moved there
    from version 1 (`pydantic.utils`, `pydantic.v1`); its mypy plugin needs mypy. No module of
    the app may use any of them."""
    assert wheels.UNUSED_IN_WHEELS["pydantic"] == ("pydantic/v1/", "pydantic/mypy.py")
    found = []
    for path in sorted((build.SITE / "py").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [
                f"{path.name}: {m}"
                for m in modules
                if m.startswith(("pydantic.v1", "pydantic.utils", "pydantic.mypy"))
            ]
            if isinstance(node, ast.FunctionDef) and node.name == "__get_validators__":
                found.append(f"{path.name}: __get_validators__")
    assert found == []


def test_without_unused_drops_the_entries_and_their_record_rows():
    files = {"pydantic/main.py": b"x = 1\n", "pydantic/v1/main.py": b"y = 2\n"}
    files["pydantic/mypy.py"] = b"import mypy\n"
    _, wheel = make_wheel("pydantic", "2.0", files, [], "")
    trimmed = zipfile.ZipFile(io.BytesIO(wheels.without_unused("pydantic", wheel)))
    assert sorted(trimmed.namelist()) == [
        "pydantic-2.0.dist-info/METADATA",
        "pydantic-2.0.dist-info/RECORD",
        "pydantic-2.0.dist-info/WHEEL",
        "pydantic/main.py",
    ]
    record = trimmed.read("pydantic-2.0.dist-info/RECORD").decode()
    assert "pydantic/main.py,sha256=" in record and "v1" not in record and "mypy" not in record
    assert wheels.without_unused("jinja2", wheel) == wheel  # other wheels as they are
