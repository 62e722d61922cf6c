"""The end-to-end tests' helpers (Playwright, the built app in Debian's Chromium): wait for the
app to be ready, open it, check accessibility with axe-core, fill fields by name, read every
store through the app's facade or straight from IndexedDB, export and check a backup file, and
set up a practice with one client through the screens.

Not shipped to the in-Pyodide test runner (it drives a browser; the unit tests never import it).
"""

import json
from pathlib import Path

from playwright.sync_api import expect

READY_TIMEOUT_MS = 90_000


def wait_ready(page):
    """Wait for the app's ready marker (never a sleep); fail with the boot error if any."""
    page.wait_for_function(
        "document.documentElement.dataset.appReady === 'true' || !!document.documentElement.dataset.appError",
        timeout=READY_TIMEOUT_MS,
    )
    error = page.evaluate("document.documentElement.dataset.appError")
    assert not error, f"boot failed: {error}"
    # The dashboard's due items fill in right after the app is interactive.
    page.wait_for_function(
        "document.documentElement.dataset.appWarm === 'true'", timeout=READY_TIMEOUT_MS
    )


def open_app(page, path=""):
    page.goto(path or "./")
    wait_ready(page)
    return page


AXE_PATH = Path(__file__).resolve().parents[2] / ".cache" / "test-assets" / "axe.min.js"


def assert_accessible(page, context: str = ""):
    """Run axe-core (vendored from npm at build time) on the current screen: WCAG 2 A/AA."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_PATH.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    assert result == [], f"accessibility violations {context}: {result}"


STORE = "import(new URL('js/store.js', location.href).href)"


def fill(page, values):
    """Type into each field by its name; a field in a folded section (the session form folds
    the sections already filled in) is reached as a person would, by opening the section."""
    for name, value in values.items():
        field = page.locator(f"#field-{name}")
        field.wait_for(state="attached")  # the screen may still be on its way
        folded = page.locator(f"details:not([open]):has(#field-{name}) > summary")
        if folded.count():
            folded.first.click()
        field.fill(value)


def dump(page) -> dict:
    """Every store, the audit log and meta, through the app's own facade (decrypted)."""
    return json.loads(page.evaluate(f"async () => (await {STORE}).exportAll()"))


# The records' database as IndexedDB holds it (js/store.js keeps it in a storage bucket of its
# own, and turning encryption on moves it to a fresh one): `factory` and `name` in scope.
LIVE_DB = """const { bucket, name } = JSON.parse((await import(new URL("js/store.js", location.href).href)).liveLocation());
    const factory = bucket ? (await navigator.storageBuckets.open(bucket)).indexedDB : indexedDB;"""


def raw_store(page, store: str) -> str:
    """A store exactly as IndexedDB holds it (no facade, no decryption)."""
    return page.evaluate(
        """async (store) => { """
        + LIVE_DB
        + """ return await new Promise((resolve, reject) => {
            const req = factory.open(name);
            req.onsuccess = () => {
                const db = req.result;
                const get = db.transaction(store).objectStore(store).getAll();
                get.onsuccess = () => { db.close(); resolve(JSON.stringify(get.result)); };
                get.onerror = () => reject(get.error);
            };
            req.onerror = () => reject(req.error);
        }); }""",
        store,
    )


def goto(page, location: str, selector: str) -> None:
    """Go to a screen and wait for it to show."""
    page.goto(location)
    expect(page.locator(selector).first).to_be_visible()


def by_id(stores: dict) -> dict:
    return {s: sorted(docs, key=lambda d: d["id"]) for s, docs in stores.items() if docs}


def open_payment_form(page):
    """Unfold "Record a payment or refund" once: no re-render folds it again while the
    person fills it in."""
    amount = page.locator("#field-pay_amount")
    if not amount.is_visible():
        page.locator("#record-payment-toggle").click()
    expect(amount).to_be_visible()


def set_up_practice_with_a_client(page):
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()
    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ana", "last_name": "López", "date_of_birth": "1958-03-10"})
    page.locator("#field-sex").select_option("female")
    fill(page, {"emergency_contact_name": "Luis López", "emergency_contact_phone": "555 123 4567"})
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")


def turn_encryption_on(page, passphrase: str = "correct horse battery") -> None:
    """Encryption at rest turned on from the Security screen, with ``passphrase``."""
    goto(page, "./#/security", "#encryption-on")
    fill(page, {"new_passphrase": passphrase, "new_confirm": passphrase})
    page.locator("#encryption-on").click()
    expect(page.locator("#encryption-state")).to_contain_text("On")


def export_backup(page, tmp_path, passphrase=""):
    goto(page, "./#/data", "#export-backup")
    if passphrase:
        fill(page, {"passphrase": passphrase, "passphrase_confirm": passphrase})
    with page.expect_download() as info:
        page.locator("#export-backup").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    expect(page.locator("#flash")).to_contain_text("downloaded")
    return path


def check_file(page, path, passphrase=""):
    page.locator("#field-backup_file").set_input_files(str(path))
    if passphrase:
        fill(page, {"backup_passphrase": passphrase})
    page.locator("#restore-check").click()


TABLET_SIZES = ((768, 1024), (1024, 768))


def shoot(page, folder: Path, name: str) -> None:
    """Screenshots to look at, portrait and landscape tablet; nothing scrolls sideways."""
    folder.mkdir(exist_ok=True)
    for width, height in TABLET_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"{name}-{width}x{height}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1"), name
    page.set_viewport_size({"width": 820, "height": 1180})


def print_pdf(page, folder: Path, name: str, first_page_only: bool = False) -> str:
    """Print the page as the browser would, keep the PDF and its pages as PNG (pdftoppm) to
    look at, and return its text."""
    import io
    import subprocess

    from pypdf import PdfReader

    page.emulate_media(media="print")
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.pdf"
    path.write_bytes(data)
    only_first = ["-f", "1", "-l", "1"] if first_page_only else []
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", *only_first, str(path), str(folder / name)], check=True
    )
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
