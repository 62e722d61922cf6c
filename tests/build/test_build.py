"""build.py: pinned, verified, offline-capable vendoring and a self-contained dist/."""

import gzip
import hashlib
import io
import json
import re
import threading
import urllib.request
import zipfile
from http.server import ThreadingHTTPServer

import pytest

import build
from buildtools import serve as serving
from buildtools import startup, vendor


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """A real build (from the verified cache) into a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    old = build.DIST
    build.DIST = out
    try:
        summary = build.build()
    finally:
        build.DIST = old
    return out, summary


def test_lock_pins_every_vendored_package_with_sha256():
    lock = build.load_lock()
    for pkg in build.NPM_PACKAGES:
        entry = lock["npm"][pkg.name]
        assert entry["version"] == pkg.version
        assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
        assert entry["files"] and all(
            re.fullmatch(r"[0-9a-f]{64}", h) for h in entry["files"].values()
        )
    for wheel in (*build.WHEELS, *build.DATA_WHEELS):
        assert lock["pypi"][wheel.name]["version"] == wheel.version


def test_pydantic_and_jinja2_pins_match_the_cpython_test_environment():
    text = (build.ROOT / "pyproject.toml").read_text()
    pins = {w.name: w.version for w in build.WHEELS}
    assert f'"pydantic=={pins["pydantic"]}"' in text
    assert f'"jinja2=={pins["jinja2"]}"' in text
    import jinja2
    import pydantic
    import pydantic_core

    assert pins["pydantic"] == pydantic.VERSION
    assert pydantic_core.__version__ == pins["pydantic-core"]
    assert jinja2.__version__ == pins["jinja2"]


def test_hash_mismatch_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    lock = build.load_lock()
    wheel = next(w for w in build.WHEELS if w.name == "annotated-types")
    lock["pypi"]["annotated-types"]["sha256"] = "0" * 64
    with pytest.raises(build.BuildError, match="Hash mismatch for PyPI annotated-types"):
        build.verified_wheel(lock, wheel)


def test_a_package_missing_from_the_lock_is_refused():
    lock = build.load_lock()
    del lock["npm"]["dexie"]
    with pytest.raises(build.BuildError, match="dexie is not pinned"):
        build.verified_npm(lock, next(p for p in build.NPM_PACKAGES if p.name == "dexie"))


def test_a_version_differing_from_the_lock_is_refused():
    lock = build.load_lock()
    pkg = build.NpmPackage("dexie", "0.0.1", files=("x",))
    with pytest.raises(build.BuildError, match="pinned at"):
        build.verified_npm(lock, pkg)


def test_built_wheels_are_deterministic():
    files = {"pkg/__init__.py": b"x = 1\n"}
    assert build.make_wheel("pkg", "1.0", files, [], "s") == build.make_wheel(
        "pkg", "1.0", files, [], "s"
    )


def test_markupsafe_wheel_is_pure_python_and_matches_the_lock():
    lock = build.load_lock()
    wheel = next(w for w in build.WHEELS if w.name == "markupsafe")
    name, data = build.verified_wheel(lock, wheel)
    assert name.endswith("py3-none-any.whl")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "markupsafe/_native.py" in names
    assert not any("_speedups" in n for n in names)


def test_rewritten_pyodide_lock_lists_only_our_wheels_with_real_hashes(dist):
    out, _summary = dist
    folder = out / build.PYODIDE.dest
    lock = json.loads((folder / "pyodide-lock.json").read_text())
    assert lock["info"]["abi_version"] == "2026_0"
    packages = lock["packages"]
    assert {"pydantic", "pydantic-core", "jinja2", "markupsafe", "medex-practice"} <= set(packages)
    for entry in packages.values():
        data = (folder / entry["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert all(dep in packages for dep in entry["depends"])
    assert set(packages["medex-practice"]["depends"]) == {"pydantic", "jinja2"}


def test_app_wheels_are_bytecode_compiled_for_pyodide(dist):
    out, summary = dist
    folder = out / build.PYODIDE.dest
    jinja = zipfile.ZipFile(next(folder.glob("jinja2-*.whl"))).namelist()
    assert "jinja2/environment.pyc" in jinja and "jinja2/environment.py" not in jinja
    app = zipfile.ZipFile(folder / summary["app_wheel"]).namelist()
    # Ours too: bytecode only (a third of the wheel over the wire was its sources).
    assert "medex/records.pyc" in app and "medex/records.py" not in app
    assert not any(name.endswith(".py") for name in app)
    assert "app/templates/views/base.html" in app
    # The in-Pyodide unit tests import the same files from their sources instead.
    tests = zipfile.ZipFile(out / "tests/unit-tests.zip").namelist()
    assert "app-sources/medex/records.py" in tests
    assert "app-sources/app/templates/views/base.html" in tests
    assert "app-sources/app/screens/manifest.json" in tests


def test_dist_references_no_other_origin(dist):
    out, _ = dist
    remote = re.compile(r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", re.I)
    for path in out.rglob("*"):
        if path.suffix in (".html", ".json", ".webmanifest"):
            assert not remote.search(path.read_text()), path
    config = json.loads((out / "pyscript.json").read_text())
    # Our own loader (a start snapshot, else Pyodide from vendor/), never a CDN's.
    assert config["interpreter"] == "./js/pyodide-boot.mjs"
    boot = (out / "js/pyodide-boot.mjs").read_text()
    assert f'from "../{build.PYODIDE.dest}/pyodide.mjs"' in boot


def test_index_html_has_a_strict_csp(dist):
    out, _ = dist
    html = (out / "index.html").read_text()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert "http" not in csp and "*" not in csp
    assert "<script>" not in html  # no inline scripts
    assert "%" not in re.sub(r"%[0-9A-F]{2}", "", html.replace("100%", ""))  # no unreplaced tokens


def test_store_js_gets_the_indexeddb_schema_from_the_stored_type_registry(dist):
    out, _ = dist
    for module in ("store", "schema", "crypto", "database", "storage", "encryption", "files"):
        text = (out / "js" / f"{module}.js").read_text()
        assert "%INDEXEDDB_SCHEMA%" not in text and "%DEXIE%" not in text, module
    js = (out / "js" / "schema.js").read_text()
    schema = json.loads(re.search(r"const SCHEMA = (\{.*?\n\});", js, re.S).group(1))
    assert schema == json.loads(build.indexeddb_schema())
    assert {"meta", "audit", "clients", "session_logs"} <= set(schema["1"])


def test_manifest_is_installable(dist):
    out, _ = dist
    manifest = json.loads((out / "manifest.webmanifest").read_text())
    for key in (
        "id",
        "name",
        "short_name",
        "start_url",
        "scope",
        "theme_color",
        "background_color",
    ):
        assert manifest[key]
    assert manifest["display"] == "standalone"
    icons = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons
    for icon in manifest["icons"]:
        png = (out / icon["src"]).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png[16:20], "big")
        height = int.from_bytes(png[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]
    # The page links the manifest; the service worker has a fetch handler (Chromium requires
    # both before it offers to install the app).
    assert '<link rel="manifest" href="manifest.webmanifest">' in (out / "index.html").read_text()
    assert 'self.addEventListener("fetch"' in (out / "sw.js").read_text()


def test_service_worker_precaches_what_the_app_needs_with_hashes(dist):
    out, summary = dist
    sw = (out / "sw.js").read_text()
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", sw).group(1))
    paths = {p for p, _ in precache}
    for needed in (
        "index.html",
        "main.py",
        "pyscript.json",
        "js/boot.js",
        "js/connection.js",
        # the IndexedDB facade and the modules it imports (offline, the service worker serves them)
        "js/store.js",
        "js/schema.js",
        "js/crypto.js",
        "js/database.js",
        "js/storage.js",
        "js/encryption.js",
        "js/files.js",
        "js/backupfile.js",
        "js/buckets.js",
        "css/app.css",
        "manifest.webmanifest",
        "icons/icon-192.png",
        f"{build.PYODIDE.dest}/pyodide.asm.wasm",
        f"{build.PYODIDE.dest}/pyodide-lock.json",
        f"{build.PYODIDE.dest}/{summary['app_wheel']}",
    ):
        assert needed in paths, needed
    assert not any(p.startswith("tests") or "pytest" in p for p in paths)
    for path, digest in precache:
        assert hashlib.sha256((out / path).read_bytes()).hexdigest().startswith(digest)
    assert summary["cache_version"] in sw


def test_start_up_files_are_precompressed_keyed_and_lean(dist):
    out, summary = dist
    brotli = startup.brotli_module()
    pyodide = out / build.PYODIDE.dest
    wasm = (pyodide / "pyodide.asm.wasm").read_bytes()
    assert gzip.decompress((pyodide / "pyodide.asm.wasm.gz").read_bytes()) == wasm
    assert brotli.decompress((pyodide / "pyodide.asm.wasm.br").read_bytes()) == wasm
    assert (out / "index.html.gz").exists() and (out / "index.html.br").exists()
    assert summary["precompressed"] > 10
    # The zips a visit loads are stored, for the server's brotli to compress whole: the wheels
    # the app loads and the standard library (their hashes in the rewritten lock, which is an
    # input of the start snapshot's key), each with its siblings.
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    shipped = [pyodide / "python_stdlib.zip"]
    shipped += [pyodide / e["file_name"] for e in lock["packages"].values()]
    runtime = [p for p in shipped if not p.name.startswith(("pytest", "pluggy", "iniconfig"))]
    runtime = [p for p in runtime if not p.name.startswith(("packaging", "pygments"))]
    assert summary["app_wheel"] in {p.name for p in runtime} and len(runtime) >= 9
    for path in runtime:
        with zipfile.ZipFile(path) as zf:
            assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}, path.name
        packed = (path.parent / (path.name + ".br")).read_bytes()
        assert brotli.decompress(packed) == path.read_bytes(), path.name
        assert len(packed) < path.stat().st_size * 0.6, path.name
    # Not what no start-up loads: pydantic's version-1 copy and mypy plugin, the test pages.
    pydantic = zipfile.ZipFile(next(pyodide.glob("pydantic-2*.whl")))
    names = pydantic.namelist()
    assert "pydantic/main.pyc" in names
    assert not any(n.startswith("pydantic/v1/") or n.startswith("pydantic/mypy") for n in names)
    record = pydantic.read(next(n for n in names if n.endswith("dist-info/RECORD"))).decode()
    assert "pydantic/main.pyc," in record and "pydantic/v1/" not in record
    assert not (out / "tests.html.br").exists() and not (out / "tests.html.gz").exists()
    # The ICD-10-CM index is plain text, sent encoded.
    index = next((out / "data").glob("icd10cm-*.txt"))
    assert not index.read_bytes().startswith(b"\x1f\x8b")
    assert brotli.decompress((index.parent / (index.name + ".br")).read_bytes()) == (
        index.read_bytes()
    )
    sw = (out / "sw.js").read_text()
    assert ".gz" not in sw.replace("txt.gz", "")  # the server picks the encoding, not the worker
    # The start snapshot: the patched loader, this build's key, the app's content hash.
    assert "_beforeRestore" in (pyodide / "pyodide.asm.mjs").read_text()
    snapshot_js = (out / "js/snapshot.js").read_text()
    assert f'KEY = "{summary["snapshot_key"]}"' in snapshot_js
    content = summary["app_wheel"].split("+")[1].split("-")[0]
    assert f'APP_BUILD = "{content}"' in snapshot_js
    app = zipfile.ZipFile(pyodide / summary["app_wheel"])
    # Bytecode only (CPython 3.14's, not ours to unmarshal): the string is in its constants.
    assert content.encode() in app.read("app/_build.pyc")
    tests = zipfile.ZipFile(out / "tests/unit-tests.zip")
    assert f'CONTENT = "{content}"' in tests.read("app-sources/app/_build.py").decode()
    # Nothing PyScript would load for a screen we do not have (editor, terminal, game).
    html = (out / "index.html").read_text()
    for unused in ("py-editor", "py-terminal", "py-game", "codemirror", "xterm", "toml"):
        assert unused not in html.replace("!" + unused, "") and unused not in sw, unused


def test_serve_sends_mime_types_and_cache_headers(dist):
    out, _summary = dist
    old = build.DIST
    build.DIST = out
    server = ThreadingHTTPServer(("127.0.0.1", 0), build.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:

        def head(path):
            with urllib.request.urlopen(base + path) as r:
                return r.headers

        wasm = head(f"{build.PYODIDE.dest}/pyodide.asm.wasm")
        assert wasm["Content-Type"] == "application/wasm"
        assert "immutable" in wasm["Cache-Control"]
        assert head(f"{build.PYODIDE.dest}/pyodide.mjs")["Content-Type"].startswith(
            "text/javascript"
        )
        lock = head(f"{build.PYODIDE.dest}/pyodide-lock.json")
        assert lock["Content-Type"] == "application/json" and lock["Cache-Control"] == "no-cache"
        assert head("")["Cache-Control"] == "no-cache"
        assert head("sw.js")["Cache-Control"] == "no-cache"
        assert head("manifest.webmanifest")["Content-Type"] == "application/manifest+json"
        # Cross-origin isolated (Pyodide's SharedArrayBuffer): on the page, the worker and wasm.
        for path in ("", "sw.js", "js/snapshot.js", f"{build.PYODIDE.dest}/pyodide.asm.wasm"):
            headers = head(path)
            assert headers["Cross-Origin-Opener-Policy"] == "same-origin", path
            assert headers["Cross-Origin-Embedder-Policy"] == "require-corp", path
        # The same headers for static hosts, and never precached.
        rules = (out / "_headers").read_text()
        assert "/*\n  Cross-Origin-Opener-Policy: same-origin\n" in rules
        assert "  Cross-Origin-Embedder-Policy: require-corp\n" in rules
        assert '"_headers"' not in (out / "sw.js").read_text()
    finally:
        server.shutdown()
        server.server_close()
        build.DIST = old


def test_serve_sends_brotli_when_accepted_and_gzip_otherwise(dist):
    out, summary = dist
    brotli = startup.brotli_module()
    server = ThreadingHTTPServer(("127.0.0.1", 0), serving.handler_for(out))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"

    def get(path, accept):
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": accept})
        with urllib.request.urlopen(request) as r:
            return r.headers, r.read()

    try:
        for rel, kind in (
            (f"{build.PYODIDE.dest}/pyodide.asm.wasm", "application/wasm"),
            (f"{build.PYODIDE.dest}/{summary['app_wheel']}", "application/zip"),
            ("index.html", "text/html; charset=utf-8"),
        ):
            original = (out / rel).read_bytes()
            # What Chromium sends (on http://127.0.0.1 too): brotli.
            headers, body = get(rel, "gzip, deflate, br, zstd")
            assert headers["Content-Encoding"] == "br", rel
            assert brotli.decompress(body) == original
            assert headers["Content-Type"] == kind and headers["Vary"] == "Accept-Encoding"
            # A client without brotli gets gzip; one without either, the file itself.
            headers, body = get(rel, "gzip, deflate")
            assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == original
            headers, body = get(rel, "identity")
            assert headers["Content-Encoding"] is None and body == original
    finally:
        server.shutdown()
        server.server_close()


def test_rebuild_works_without_network(monkeypatch):
    """Everything comes from .cache/: no npm or pip process is started."""
    calls = []
    monkeypatch.setattr(vendor, "_run", lambda cmd, what: calls.append(cmd))  # npm / pip
    lock = build.load_lock()
    for pkg in build.NPM_PACKAGES:
        build.verified_npm(lock, pkg)
    for wheel in build.WHEELS:
        build.verified_wheel(lock, wheel)
    assert calls == []


def test_screens_manifest_lists_every_route_and_action():
    """The browser imports screens lazily from this manifest: it must miss nothing."""
    from app import core

    core.load_screens(lazy=False)
    manifest = build.screens_manifest()
    routes = {r["name"] for e in manifest["screens"] for r in e["routes"]}
    actions = {a for e in manifest["screens"] for a in e["actions"]}
    assert routes == set(core.ROUTES)
    assert actions == set(core.ACTIONS)
    labels = {
        r["name"]: r.get("label")
        for e in manifest["screens"]
        for r in e["routes"]
        if r.get("label")
    }
    assert labels == dict(core.NAVIGATION)


def test_the_standard_library_shipped_is_the_pruned_one_and_the_test_page_gets_it_whole(dist):
    """The app's python_stdlib.zip: what is reachable (buildtools/stdlib.py), without comments;
    the in-browser test page's (tests/, never precached): Pyodide's own, entry for entry."""
    out, _ = dist
    shipped = zipfile.ZipFile(out / build.PYODIDE.dest / "python_stdlib.zip")
    whole = zipfile.ZipFile(out / "tests" / "python_stdlib.zip")
    names, every = set(shipped.namelist()), set(whole.namelist())
    vendored = zipfile.ZipFile(
        io.BytesIO(build.verified_npm(build.load_lock(), build.PYODIDE)["python_stdlib.zip"])
    )
    assert every == set(vendored.namelist())
    assert all(whole.read(n) == vendored.read(n) for n in ("os.py", "encodings/cp1252.py"))
    for needed in (  # what the app, Pyodide, PyScript and the interpreter import
        "site.py",
        "encodings/__init__.py",
        "encodings/cp1252.py",
        "json/__init__.py",
        "asyncio/__init__.py",
        "zoneinfo/__init__.py",
        "uuid.py",
        "csv.py",
        "gzip.py",
        "_strptime.py",
        "_pylong.py",
        "warnings.py",
        "pyodide/__init__.py",
        "pyodide/webloop.py",
        "_pyodide/_base.py",
        "xml/sax/saxutils.py",
        "importlib/metadata/__init__.py",
    ):
        assert needed in names, needed
    for gone in (
        "unittest/__init__.py",
        "doctest.py",
        "pickletools.py",
        "mailbox.py",
        "smtplib.py",
        "wsgiref/__init__.py",
        "xml/dom/minidom.py",
        "logging/handlers.py",
    ):
        assert gone in every and gone not in names, gone
    os_py, os_whole = shipped.read("os.py"), whole.read("os.py")
    assert os_py.count(b"\n") == os_whole.count(b"\n") and len(os_py) < len(os_whole)
    assert (out / "tests" / "pyodide-whole.mjs").is_file()
    assert (
        json.loads((out / "tests.json").read_text())["interpreter"] == "./tests/pyodide-whole.mjs"
    )
