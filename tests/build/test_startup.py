"""Start-up: the precompressed files and how `serve` picks them, the loader patch and the key
of the start snapshot (buildtools/startup.py, buildtools/serve.py)."""

import gzip
import os
import threading
import urllib.request
from email.utils import formatdate
from http.server import ThreadingHTTPServer

import pytest

import build
from buildtools import serve, startup
from buildtools.common import BuildError


def test_precompress_writes_gz_siblings_only_where_they_save(tmp_path):
    (tmp_path / "vendor").mkdir()
    big = b"const answer = 42;\n" * 500
    (tmp_path / "vendor/app.js").write_bytes(big)
    (tmp_path / "tiny.js").write_bytes(b"x = 1;\n")  # too small to bother
    (tmp_path / "noise.wasm").write_bytes(os.urandom(20_000))  # does not compress
    (tmp_path / "picture.png").write_bytes(big)  # not a compressible kind
    assert startup.precompress(tmp_path) == 1
    assert gzip.decompress((tmp_path / "vendor/app.js.gz").read_bytes()) == big
    assert not (tmp_path / "tiny.js.gz").exists()
    assert not (tmp_path / "noise.wasm.gz").exists()
    assert not (tmp_path / "picture.png.gz").exists()
    # Deterministic: the same input gives the same bytes (no timestamp in the header).
    first = (tmp_path / "vendor/app.js.gz").read_bytes()
    startup.precompress(tmp_path)
    assert (tmp_path / "vendor/app.js.gz").read_bytes() == first


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
