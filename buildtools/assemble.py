"""Assembling dist/: the vendored files, the wheels, the app's data and static files.

`build(dist)` is the whole build, in order: the verified npm files into versioned vendor/
folders; the pinned wheels plus our app wheel (site/py + site/templates + the screens
manifest), bytecode-compiled, beside a rewritten pyodide-lock.json that lists only them; the
ICD-10-CM index; site/ with its build-time placeholders (%DEXIE%, %INDEXEDDB_SCHEMA%, ...)
filled in; the in-Pyodide unit tests; then the service worker and build.json.
Standard library only.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

from buildtools import icd10_index, service_worker, startup, stdlib
from buildtools import serve as serving
from buildtools.common import CACHE, ROOT, SITE, BuildError, log, sha256_bytes, zip_write
from buildtools.templates import compiled_template_files
from buildtools.vendor import (
    DATA_WHEELS,
    NPM_PACKAGES,
    PYODIDE,
    PYSCRIPT,
    WHEELS,
    load_lock,
    npm,
    verified_npm,
    verified_wheel,
)
from buildtools.wheels import (
    make_wheel,
    py_compile_wheels,
    stored_zip,
    wheel_metadata,
    without_unused,
)

APP_NAME = "medex_practice"


def build(dist: Path) -> dict:
    """Assemble `dist` (emptied first). Returns a summary (paths the app needs), also written to
    build.json in it."""
    lock = load_lock()
    version = app_version()
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir()

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
            if pkg is PYODIDE and rel == "pyodide.asm.mjs":
                data = startup.patch_pyodide_loader(data)  # for the start snapshot
                pyodide_files[rel] = data
            if pkg is PYODIDE and rel == "pyodide.mjs":
                data = startup.patch_pyodide_start(data)  # for the start snapshot
                pyodide_files[rel] = data
            if pkg is PYODIDE and rel == "python_stdlib.zip":
                data = stored_zip(data)  # compressed over the wire instead (.br / .gz)
                pyodide_files[rel] = data
            write(dist, f"{pkg.dest}/{rel}", data)

    # 2. Wheels: third-party (pinned) + our app wheel (content-hashed local version).
    wheels: dict[str, bytes] = {}
    test_wheels: set[str] = set()
    for wheel in WHEELS:
        file_name, data = verified_wheel(lock, wheel)
        wheels[file_name] = without_unused(wheel.name, data)
        if wheel.test_only:
            test_wheels.add(file_name)
    app_files = app_wheel_files()
    app_files.update(compiled_template_files(wheels))  # no template compiled at a start
    content = sha256_bytes(b"".join(k.encode() + v for k, v in sorted(app_files.items())))[:10]
    # Which build the app's modules are from: checked after a start snapshot is restored.
    app_files["app/_build.py"] = f'"""Written by build.py."""\n\nCONTENT = "{content}"\n'.encode()
    app_wheel_name, app_wheel = make_wheel(
        APP_NAME.replace("_", "-"),
        f"{version}+{content}",
        app_files,
        ["pydantic", "jinja2"],
        "MedEx Practice",
    )
    wheels[app_wheel_name] = app_wheel
    runtime = {name: data for name, data in wheels.items() if name not in test_wheels}
    wheels.update(
        py_compile_wheels(
            runtime,
            set(),  # bytecode only, ours too (the in-Pyodide unit tests get the sources)
            pyodide_files["pyodide-lock.json"],
            dist / PYODIDE.dest,
            PYODIDE.version,
            frozenset(runtime),  # without docstrings (no screen shows one; tests/build checks)
        )
    )
    for file_name in runtime:  # what the app loads: compressed over the wire instead
        wheels[file_name] = stored_zip(wheels[file_name])
    for file_name, data in wheels.items():
        write(dist, f"{PYODIDE.dest}/{file_name}", data)
    write(
        dist,
        f"{PYODIDE.dest}/pyodide-lock.json",
        rewrite_pyodide_lock(pyodide_files["pyodide-lock.json"], wheels),
    )

    # The standard library without what nothing we ship can import (buildtools/stdlib.py);
    # the in-browser test page loads the whole one (pytest needs more), from tests/.
    whole_stdlib = pyodide_files["python_stdlib.zip"]
    pyodide_files["python_stdlib.zip"] = pruned_stdlib(dist, pyodide_files, runtime)
    write(dist, f"{PYODIDE.dest}/python_stdlib.zip", pyodide_files["python_stdlib.zip"])
    write(dist, "tests/python_stdlib.zip", whole_stdlib)

    # The start snapshot's key: every input of a snapshot (see buildtools/startup.py).
    snapshot_inputs = [(f"pyodide/{rel}", data) for rel, data in pyodide_files.items()]
    snapshot_inputs += [(f"wheel/{name}", runtime_wheel) for name, runtime_wheel in wheels.items()]
    snapshot_inputs += [
        ("pyodide-lock.json", (dist / PYODIDE.dest / "pyodide-lock.json").read_bytes()),
        ("vendor.lock.json", json.dumps(lock, sort_keys=True).encode()),
    ]
    snapshot_inputs += [
        (f"site/{rel}", (SITE / rel).read_bytes())
        for rel in ("js/snapshot.js", "js/snapshot-worker.js", "js/pyodide-boot.mjs", "main.py")
    ]
    snapshot_key = startup.snapshot_key(snapshot_inputs)

    # 3. App data derived from data packages (ICD-10-CM index), loaded lazily by the app.
    data_files = build_data_files(lock, dist)

    # 4. Our static files, with the few build-time substitutions.
    subst = {
        "%APP_VERSION%": version,
        "%PYODIDE%": PYODIDE.dest,
        "%PYSCRIPT%": PYSCRIPT.dest,
        "%DEXIE%": f"vendor/dexie-{npm('dexie').version}/dexie.min.mjs",
        "%IDIOMORPH%": f"vendor/idiomorph-{npm('idiomorph').version}/idiomorph.esm.js",
        "%PICO%": f"vendor/picocss-pico-{npm('@picocss/pico').version}/pico.min.css",
        "%SIGNATURE_PAD%": f"vendor/signature_pad-{npm('signature_pad').version}/signature_pad.js",
        "%APP_PACKAGES%": json.dumps([APP_NAME.replace("_", "-")]),
        "%ICD10_INDEX%": data_files.get("icd10", ""),
        "%PYSCRIPT_PRELOADS%": pyscript_preloads(dist),
        "%INDEXEDDB_SCHEMA%": indexeddb_schema(),
        "%BUCKETED_STORES%": json.dumps(_stores_registry().bucketed_stores()),
        "%SNAPSHOT_KEY%": snapshot_key,
        "%APP_BUILD%": content,
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
        write(dist, rel, data)
    write(dist, "tests/unit-tests.zip", tests_zip(app_files))

    # 5. The service worker's precache list: everything the app needs, with content hashes.
    precache = service_worker.precache_list(dist, test_wheels)
    cache_version = service_worker.cache_version(precache)
    write(dist, "sw.js", service_worker.service_worker(version, cache_version, precache))

    summary: dict = {
        "app_version": version,
        "cache_version": cache_version,
        "app_wheel": app_wheel_name,
        "pyodide": PYODIDE.dest,
        "precache_files": len(precache),
        "precache_bytes": sum((dist / rel).stat().st_size for rel, _ in precache),
    }
    summary["snapshot_key"] = snapshot_key
    write(dist, "build.json", json.dumps(summary, indent=1))
    # The headers a static host must send (Netlify, Cloudflare Pages): as `build.py serve`.
    write(dist, "_headers", serving.headers_file())
    # Precompressed siblings last: not precached (the service worker asks for the plain path
    # and the server picks the encoding), and not inputs of anything above.
    # Only what a visit downloads (the precache list and the service worker itself).
    summary["precompressed"] = startup.precompress(dist, [rel for rel, _ in precache] + ["sw.js"])
    log(
        f"dist/ ready: app {version}, {len(precache)} precached files, {summary['precache_bytes'] / 1e6:.1f} MB"
    )
    return summary


def pruned_stdlib(dist: Path, pyodide_files: dict[str, bytes], wheels: dict[str, bytes]) -> bytes:
    """Pyodide's standard library with only the modules reachable from what the page runs:
    the wheels it loads (`wheels`, as sources), PyScript's Python package and the Python in
    its and Pyodide's JavaScript, our main.py and scripts; and without comments. Read by the
    vendored Pyodide under Node.js; without Node.js the whole library is shipped."""
    whole = pyodide_files["python_stdlib.zip"]
    if shutil.which("node") is None:
        log("WARNING: Node.js not found: shipping the whole standard library")
        return whole
    shipped: dict[str, tuple[bytes, bool]] = {}
    for data in wheels.values():
        shipped.update(stdlib.zip_modules(stdlib.read_zip(data)))
    main = re.sub(r"%[A-Z0-9_]+%", "None", (SITE / "main.py").read_text())  # placeholders
    shipped["main"] = (main.encode(), False)
    javascript = [
        data.decode(errors="replace") for rel, data in pyodide_files.items() if rel.endswith(".mjs")
    ]
    scripts = sorted((dist / PYSCRIPT.dest).glob("*.js")) + sorted((SITE / "js").glob("*js"))
    scripts += sorted(SITE.glob("*.html"))
    javascript += [path.read_text(errors="replace") for path in scripts]
    for path in sorted((dist / PYSCRIPT.dest).glob("core-*.js")):
        shipped.update(stdlib.embedded_python(path.read_text(), "pyscript"))
    pyodide = stdlib.InPyodide(
        dist / PYODIDE.dest, pyodide_files["pyodide-lock.json"], PYODIDE.version
    )
    pruned, left_out, _ = stdlib.pruned_stdlib(
        whole, shipped, javascript, pyodide.parse, pyodide.without_comments
    )
    log(
        f"standard library: {len(left_out)} modules nothing imports left out "
        f"({len(whole) / 1e6:.1f} -> {len(pruned) / 1e6:.1f} MB stored)"
    )
    return pruned


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
                    positional: dict = dict(zip(names, args, strict=False))
                    entry["routes"].append({**positional, **kwargs})
                elif deco.func.id == "action":
                    entry["actions"].append(args[0])
        if entry["routes"] or entry["actions"]:
            screens.append(entry)
    return {"screens": screens}


def tests_zip(app_files: dict[str, bytes]) -> bytes:
    """The pure domain unit tests, for the in-Pyodide runner (tests.html): tests/unit and what
    they import from tests/support (all of it but the Playwright helpers, ``browser.py``), and
    under app-sources/ the app wheel's files as sources (the wheel ships bytecode only; some
    tests read the modules' sources), which the runner imports instead of the wheel."""
    buf = io.BytesIO()
    tests = ROOT / "tests"
    files = [tests / "__init__.py", *sorted((tests / "support").glob("*.py"))]
    files += sorted((tests / "unit").rglob("*"))
    with zipfile.ZipFile(buf, "w") as zf:
        for path in files:
            if (
                path.is_file()
                and path.suffix in (".py", ".txt", ".json")
                and "__pycache__" not in path.parts
                and path.relative_to(tests).as_posix() != "support/browser.py"
            ):
                zip_write(zf, "tests/" + path.relative_to(tests).as_posix(), path.read_bytes())
        for rel, data in sorted(app_files.items()):
            zip_write(zf, f"app-sources/{rel}", data)
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


def write(dist: Path, rel: str, data: bytes | str) -> None:
    path = dist / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def pyscript_preloads(dist: Path) -> str:
    """<link rel=modulepreload> for the chunks PyScript imports before it starts Pyodide, so
    they download and compile in parallel with the page instead of one after another."""
    chunks = sorted((dist / PYSCRIPT.dest).glob("*.js"))
    wanted = re.compile(
        r"^(core|error)-[\w-]+\.js$"  # what PyScript imports with the plugins we keep
    )
    links = [
        f'<link rel="modulepreload" href="{PYSCRIPT.dest}/{path.name}">'
        for path in chunks
        if wanted.match(path.name)
    ]
    return "\n  ".join(links)


def _stores_registry() -> Any:
    """site/py/medex/stores.py, the registry of stored record types (standard library only:
    loaded here without the domain)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_medex_stores", SITE / "py/medex/stores.py")
    assert spec is not None and spec.loader is not None
    stores = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stores)
    return stores


def indexeddb_schema() -> str:
    """The Dexie schema for js/schema.js, from the registry of stored record types."""
    return json.dumps(_stores_registry().indexeddb_schema(), indent=2)


def build_data_files(lock: dict, dist: Path) -> dict[str, str]:
    """Derived data files, written into `dist`; returns {key: path in dist}."""
    out: dict[str, str] = {}
    wheel = DATA_WHEELS[0]
    name, _ = verified_wheel(lock, wheel)  # verifies the pinned hash first
    # Plain text, front-coded (format 2): sent brotli- or gzip-encoded from its precompressed
    # siblings (brotli: 0.24 MB; 0.49 MB for the plain lines); the app reads either
    # (medex.icd10 `from_bytes`).
    index = icd10_index.front_coded(icd10_index.build_index(CACHE / "pypi" / name))
    rel = f"data/icd10cm-{wheel.version}-{sha256_bytes(index)[:8]}.txt"
    write(dist, rel, index)
    out["icd10"] = rel
    return out
