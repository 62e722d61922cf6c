"""The warm start: after a normal start the app saves a memory snapshot of Python (pydantic,
jinja2 and the app imported) in the background, and the next visit starts from it. A bad,
foreign or outdated snapshot is never used: the start is the normal one and the snapshot is
deleted (then made again)."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import fill, open_app, set_up_practice_with_a_client, wait_ready

CACHE = "medex.start-snapshot"
CODE_CACHE = "medex.start-snapshot.code"  # the extension modules, compiled with compileStreaming
SNAPSHOT_TIMEOUT_MS = 240_000  # the worker loads a second Python: slow on a busy machine
PASSPHRASE = "correct horse battery"


def start_path(page) -> str:
    return page.evaluate("document.documentElement.dataset.startPath")


def wait_for_snapshot(page) -> None:
    """Until this start's background snapshot is stored (or was already)."""
    page.wait_for_function(
        "!!document.documentElement.dataset.startSnapshot", timeout=SNAPSHOT_TIMEOUT_MS
    )
    assert page.evaluate("document.documentElement.dataset.startSnapshot") == "ready"


def stored(page, cache: str = CACHE) -> list[dict]:
    """The stored snapshots (or extension modules): their keys (the end of the URL), sizes and
    sha-256."""
    return page.evaluate(
        """async (name) => {
            const cache = await caches.open(name);
            const out = [];
            for (const request of await cache.keys()) {
                const body = await (await cache.match(request)).arrayBuffer();
                const digest = await crypto.subtle.digest("SHA-256", body);
                out.push({key: request.url.split("/").pop(), size: body.byteLength,
                          sha: [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("")});
            }
            return out;
        }""",
        cache,
    )


def stored_bytecode(page) -> dict[str, int]:
    """The bytecode files the stored snapshot holds outside site-packages: {path: pyc flags}."""
    return page.evaluate(
        """async (name) => {
            const cache = await caches.open(name);
            const [request] = await cache.keys();
            const bytes = new Uint8Array(await (await cache.match(request)).arrayBuffer());
            const [, , metaLength] = new Uint32Array(bytes.buffer, 0, 4);
            const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + metaLength)));
            const filesStart = 16 + Math.ceil(metaLength / 16) * 16 + meta.snapshotLength;
            return Object.fromEntries(meta.files
                .filter(([path]) => path.endsWith(".pyc") && !path.includes("/site-packages/"))
                .map(([path, offset]) => [path, new DataView(bytes.buffer, filesStart + offset + 4, 4).getUint32(0, true)]));
        }""",
        CACHE,
    )


def pyscript_sources(page) -> list[str]:
    """Where this start's PyScript wrote its own Python package."""
    return page.evaluate(
        "import(new URL('js/pyodide-boot.mjs', location.href).href)"
        ".then(m => m.pyscriptSources().map(([path]) => path))"
    )


def steps(page) -> list[str]:
    return [label for _, label in page.evaluate("window.medexBoot.timings")]


def current_key(page) -> str:
    return page.evaluate("import(new URL('js/snapshot.js', location.href).href).then(m => m.KEY)")


def reload(page) -> None:
    page.reload()
    wait_ready(page)


def test_the_next_visit_starts_from_the_snapshot_made_after_the_first(page, console_errors):
    open_app(page)
    assert start_path(page) == "normal"
    wait_for_snapshot(page)
    [entry] = stored(page)
    assert entry["key"] == current_key(page)
    assert entry["size"] > 10_000_000  # the whole of Python's memory
    # pydantic-core's module on its own, for the restore to compile while the rest is read.
    [extension] = stored(page, CODE_CACHE)
    assert extension["key"] == "extension-0.wasm" and extension["size"] > 1_000_000
    # PyScript writes its own Python package at every start: the snapshot holds its bytecode,
    # checked against the source's hash (flags 3), so a restored start does not compile it.
    sources = pyscript_sources(page)
    assert any(path.endswith("/pyscript/__init__.py") for path in sources)
    bytecode = stored_bytecode(page)
    for path in sources:
        folder, name = path.rsplit("/", 1)
        [pyc] = [p for p in bytecode if p.startswith(f"{folder}/__pycache__/{name[:-3]}.cpython-")]
        assert bytecode[pyc] == 3, pyc

    reload(page)
    assert start_path(page) == "restored"
    assert page.evaluate("document.documentElement.dataset.snapshotFallback") is None
    # The restore began with the page (js/start.js), not when PyScript asked for Python.
    labels = steps(page)
    assert labels.index("snapshot: looking for one") < labels.index("pyscript: Loading interpreter")
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()
    # The app works as after a normal start: a refused form keeps what was typed.
    fill(page, {"practitioner_name": "Dana Reyes", "email": "dana.reyes-medex.com"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.locator("#error-email")).to_contain_text("needs an @")
    expect(page.locator("#field-practitioner_name")).to_have_value("Dana Reyes")
    # A screen whose module the snapshot already holds, and one that needs the browser.
    page.goto("./#/settings")
    expect(page.locator("#storage-usage")).to_contain_text("available to this app")
    # The same snapshot serves every later visit.
    reload(page)
    assert start_path(page) == "restored"
    assert stored(page) == [entry]
    assert stored(page, CODE_CACHE) == [extension]
    assert console_errors == []


WHEELS = """() => performance.getEntriesByType("resource")
    .filter((r) => r.name.endsWith(".whl"))
    .map((r) => [r.name.split("/").pop(), r.startTime])"""


def test_a_normal_start_fetches_the_packages_with_the_page_and_a_restored_one_none(page):
    """A start without a snapshot preloads the app's packages as soon as it knows (they used
    to be fetched only once Python was up, seconds later on a first visit), each once: the
    preload is the response Pyodide's own fetch takes. A restored start fetches none."""
    open_app(page)
    assert start_path(page) == "normal"
    fetched = page.evaluate(WHEELS)
    names = sorted(name.split("-")[0] for name, _ in fetched)
    assert names == sorted(
        [
            "annotated_types",
            "jinja2",
            "markupsafe",
            "medex_practice",
            "pydantic",
            "pydantic_core",
            "typing_extensions",
            "typing_inspection",
        ]
    ), fetched  # each once: Pyodide's fetch used the preload
    [python_up] = [
        ms
        for ms, label in page.evaluate("window.medexBoot.timings")
        if label == "pyscript: Loaded interpreter"
    ]
    assert all(started < python_up for _, started in fetched), (fetched, python_up)
    wait_for_snapshot(page)
    reload(page)
    assert start_path(page) == "restored"
    assert page.evaluate(WHEELS) == []


# Each corruption is caught at a different point: reading the stored entry, Pyodide checking
# its own header, and the self-test of the restored Python (the app's modules in memory are
# no longer the build's: its content hash, a string in Python's memory, is overwritten).
CORRUPTIONS = {
    "truncated": "bytes = bytes.slice(0, bytes.length - 1000);",
    "pyodide header": """const metaLength = new Uint32Array(bytes.buffer, 0, 4)[2];
        bytes[16 + Math.ceil(metaLength / 16) * 16] ^= 0xff;""",
    "app modules in memory": """const [, , metaLength] = new Uint32Array(bytes.buffer, 0, 4);
        const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + metaLength)));
        const start = 16 + Math.ceil(metaLength / 16) * 16;
        const memory = bytes.subarray(start, start + meta.snapshotLength);
        const needle = new TextEncoder().encode(meta.appBuild);
        let found = 0;
        for (let at = memory.indexOf(needle[0]); at >= 0; at = memory.indexOf(needle[0], at + 1)) {
            if (needle.every((b, i) => memory[at + i] === b)) {
                memory.set(new TextEncoder().encode("0".repeat(needle.length)), at);
                found++;
            }
        }
        if (!found) throw new Error("the build's hash is not in the snapshot's memory");""",
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupted_snapshot_is_deleted_and_the_start_is_normal(page, corruption):
    open_app(page)
    wait_for_snapshot(page)
    key = current_key(page)
    corrupt = (
        """async ([name, key]) => {
            const cache = await caches.open(name);
            const url = new URL(`start-snapshot/${key}`, location.href).href;
            let bytes = new Uint8Array(await (await cache.match(url)).arrayBuffer());
            CORRUPTION
            await cache.put(url, new Response(bytes));
            const digest = await crypto.subtle.digest("SHA-256", bytes);
            return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("");
        }"""
    ).replace("CORRUPTION", CORRUPTIONS[corruption])
    bad = page.evaluate(corrupt, [CACHE, key])

    reload(page)
    assert start_path(page) == "normal"
    assert page.evaluate("document.documentElement.dataset.snapshotFallback")
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()
    assert page.locator("#boot-error").is_hidden()
    # The bad snapshot is gone; a good one is made again, and the next visit uses it.
    assert all(entry["sha"] != bad for entry in stored(page))
    wait_for_snapshot(page)
    assert [entry["key"] for entry in stored(page)] == [key]
    reload(page)
    assert start_path(page) == "restored"


# The extension module's own entry: garbage where the wasm was (compileStreaming refuses it),
# or gone (evicted on its own).
EXTENSION_DAMAGE = {
    "corrupted": """await cache.put(url, new Response(new Uint8Array(4096).fill(7),
        {headers: {"Content-Type": "application/wasm"}}));""",
    "missing": "await cache.delete(url);",
}


@pytest.mark.parametrize("damage", list(EXTENSION_DAMAGE))
def test_without_a_good_compiled_extension_entry_the_start_is_still_restored(page, damage):
    # The entry of compiled code only saves time (and an engine may keep none: WebKitGTK):
    # missing or bad, the extension compiles from the snapshot's own bytes, the start is
    # restored all the same, and a good entry is stored again for the next visit.
    open_app(page)
    wait_for_snapshot(page)
    key = current_key(page)
    [good] = stored(page, CODE_CACHE)
    page.evaluate(
        (
            """async ([name, key]) => {
            const cache = await caches.open(name);
            const url = new URL(`start-snapshot/${key}/extension-0.wasm`, location.href).href;
            DAMAGE
        }"""
        ).replace("DAMAGE", EXTENSION_DAMAGE[damage]),
        [CODE_CACHE, key],
    )
    assert stored(page, CODE_CACHE) != [good]

    reload(page)
    assert start_path(page) == "restored"
    assert not page.evaluate("document.documentElement.dataset.snapshotFallback")
    expect(page.get_by_role("heading", name="Welcome to MedEx Practice")).to_be_visible()
    assert page.locator("#boot-error").is_hidden()
    assert "snapshot: extensions compiled from the snapshot" in steps(page)
    page.wait_for_function(
        """async ([name, sha]) => {
            const cache = await caches.open(name);
            const [request] = await cache.keys();
            if (!request) return false;
            const bytes = await (await cache.match(request)).arrayBuffer();
            const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
            return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("") === sha;
        }""",
        arg=[CODE_CACHE, good["sha"]],
        timeout=SNAPSHOT_TIMEOUT_MS,
    )
    assert stored(page, CODE_CACHE) == [good]
    reload(page)
    assert start_path(page) == "restored"
    assert "snapshot: extensions compiled" in steps(page)
    assert "snapshot: extensions compiled from the snapshot" not in steps(page)


def test_after_an_app_update_the_old_snapshot_is_not_used(browser, base_url):
    # No service worker, so that the "updated" snapshot.js below reaches the page.
    context = browser.new_context(base_url=base_url, service_workers="block")
    try:
        page = context.new_page()
        open_app(page)
        wait_for_snapshot(page)
        old = current_key(page)
        assert [entry["key"] for entry in stored(page)] == [old]

        # A new version of the app: every build has its own key (a hash of all the inputs).
        new = "f" * len(old) if old != "f" * len(old) else "e" * len(old)

        def updated(route):
            response = route.fetch()
            route.fulfill(response=response, body=response.text().replace(old, new))

        page.route(re.compile(r".*/js/snapshot\.js$"), updated)
        reload(page)
        assert current_key(page) == new
        # Not used (the old one would even have worked: only the key differs here).
        assert start_path(page) == "normal"
        wait_for_snapshot(page)
        assert [entry["key"] for entry in stored(page)] == [new]  # the old one deleted
        reload(page)
        assert start_path(page) == "restored"
    finally:
        context.close()


def test_records_and_encryption_behave_the_same_after_a_restored_start(page):
    open_app(page)
    wait_for_snapshot(page)
    # Records saved after a restored start (the set-up opens the app again)...
    set_up_practice_with_a_client(page)
    assert start_path(page) == "restored"
    # ...are there on the next one, and more are saved.
    page.goto("./#/clients")
    reload(page)
    assert start_path(page) == "restored"
    page.get_by_role("link", name="López, Ana").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")
    page.get_by_role("link", name="Health history").click()
    page.locator("#field-med_name_0").fill("Metoprolol")
    page.locator("#save-history").click()
    expect(page.locator("#flash")).to_contain_text("Health history saved")

    # Encryption on, after a restored start.
    page.goto("./#/settings")
    page.get_by_role("button", name="Security").click()
    page.get_by_label("New passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("New passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Turn encryption on").click()
    expect(page.locator("#recovery-key-text")).to_be_visible()
    expect(page.locator("#encryption-state")).to_contain_text("On")

    # The next restored start is locked; the passphrase opens every record.
    page.goto("./#/clients")
    reload(page)
    assert start_path(page) == "restored"
    expect(page.get_by_role("heading", name="MedEx Practice is locked")).to_be_visible()
    page.get_by_label("Passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_text("This passphrase does not open your records")).to_be_visible()
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("link", name="López, Ana").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")
    records = page.evaluate(
        "async () => (await import(new URL('js/store.js', location.href).href)).exportAll()"
    )
    assert "Metoprolol" in records
