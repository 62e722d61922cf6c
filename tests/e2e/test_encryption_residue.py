"""Encryption leaves no plaintext behind: records written before encryption was turned on are
not left readable in the Chromium profile's files (IndexedDB keeps old values in its LevelDB
log and table files until they are compacted; turning encryption on copies the records, sealed,
into a fresh database and deletes the old one). Nor does Chromium's autofill store ("Web Data")
keep what was typed into clinical fields."""

import secrets
from pathlib import Path

from playwright.sync_api import expect

from tests.support.browser import open_app, wait_ready

PASSPHRASE = "correct horse battery"
STORE = "import(new URL('js/store.js', location.href).href)"


def fill(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def encodings(marker: str) -> list[bytes]:
    """The marker as Chromium may store it: UTF-8/Latin-1 (one byte a character), UTF-16LE
    (IndexedDB's LevelDB keeps strings as UTF-16), UTF-16BE (its keys)."""
    return [marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("utf-16-be")]


def files_holding(profile: Path, marker: str) -> list[str]:
    """Every file under the profile whose bytes hold the marker in any of its encodings."""
    needles = encodings(marker)
    found = []
    for path in sorted(profile.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes()
        except OSError:  # a lock file or socket
            continue
        if any(needle in data for needle in needles):
            found.append(str(path.relative_to(profile)))
    return found


def launch(browser_type, browser_type_launch_args, base_url, profile: Path):
    args = {k: v for k, v in browser_type_launch_args.items() if k in ("executable_path", "args")}
    ctx = browser_type.launch_persistent_context(str(profile), base_url=base_url, **args)
    return ctx, (ctx.pages[0] if ctx.pages else ctx.new_page())


def test_turning_encryption_on_leaves_no_plaintext_in_the_profile(
    browser_type, browser_type_launch_args, base_url, tmp_path
):
    profile = tmp_path / "chromium-profile"
    marker = "ZQXMARKER" + secrets.token_hex(6).upper()  # in no file of the profile but ours
    medication = "ZQXMED" + secrets.token_hex(6).upper()
    surname = "Zqxsur" + secrets.token_hex(6)
    practitioner = "Dana Zqxpra" + secrets.token_hex(6)  # also in the audit log, by design

    # A practice and a client, typed into the app as a practitioner would.
    ctx, page = launch(browser_type, browser_type_launch_args, base_url, profile)
    open_app(page)
    fill(page, {"practitioner_name": practitioner, "business_name": "Reyes MedEx"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes MedEx")).to_be_visible()
    page.get_by_role("link", name="Clients", exact=True).click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ana", "last_name": surname, "date_of_birth": "1958-03-10"})
    page.locator("#field-sex").select_option("female")
    page.get_by_label("Notes").fill(f"Knee pain; {marker}")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text(f"Ana {surname}")
    page.get_by_role("link", name="Health history").click()
    page.locator("#field-med_name_0").fill(medication)
    page.locator("#save-history").click()
    expect(page.locator("#flash")).to_contain_text("Health history saved")
    ctx.close()  # every file written and closed

    # The scan is real: before encryption the records are on disk in clear.
    assert files_holding(profile, marker), "the marker was not found on disk before encryption"
    assert files_holding(profile, medication), "the medication was not found before encryption"
    assert files_holding(profile, surname), "the client's name was not found before encryption"
    # Chromium's autofill store ("Web Data") keeps nothing typed into a clinical or personal
    # field (autocomplete="off"; without it, Chromium 156 keeps values of a form the page
    # handles in script, as these are, and session restore keeps them under Sessions/).
    for value in (marker, medication, surname, practitioner):
        kept = [f for f in files_holding(profile, value) if "Web Data" in f or "Sessions" in f]
        assert kept == [], f"the browser kept a typed value: {kept}"

    # Encryption on, through the Security screen.
    ctx, page = launch(browser_type, browser_type_launch_args, base_url, profile)
    open_app(page, "./#/settings")
    page.get_by_role("button", name="Security").click()
    page.get_by_label("New passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("New passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Turn encryption on").click()
    expect(page.locator("#recovery-key-text")).to_be_visible()
    expect(page.locator("#encryption-state")).to_contain_text("On")
    ctx.close()

    # No file of the profile holds the marker any more, in any encoding.
    assert files_holding(profile, marker) == []
    assert files_holding(profile, medication) == []
    assert files_holding(profile, surname) == []

    # Nothing was lost: the next start is locked, and the passphrase opens every record.
    ctx, page = launch(browser_type, browser_type_launch_args, base_url, profile)
    open_app(page, "./#/clients")
    expect(page.get_by_role("heading", name="MedEx Practice is locked")).to_be_visible()
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("link", name=f"{surname}, Ana").click()
    expect(page.locator("#client-name")).to_have_text(f"Ana {surname}")
    records = page.evaluate(f"async () => (await {STORE}).exportAll()")
    assert marker in records and medication in records
    ctx.close()
    assert files_holding(profile, marker) == []


def buckets(page) -> list[str]:
    return sorted(page.evaluate("async () => await navigator.storageBuckets.keys()"))


def test_a_tab_dying_mid_copy_leaves_the_old_database_live_and_the_partial_copy_deleted(
    page, context
):
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes MedEx"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes MedEx")).to_be_visible()
    live = page.evaluate(f"async () => (await {STORE}).liveLocation()")
    assert buckets(page) == ["medex-g0"]

    # Encryption is being turned on: the key is made and one store is copied, sealed, into a
    # new database; then the tab dies (closed with no chance to finish).
    page.evaluate(
        f"""async (passphrase) => {{
            const store = await {STORE};
            await store.setupEncryption(passphrase);
            await store.migrateStore("profile");
        }}""",
        PASSPHRASE,
    )
    assert len(buckets(page)) == 2  # the partial copy
    page.close()

    # The next start opens the old, complete database: encryption is off, nothing is missing,
    # and the partial copy is deleted.
    other = context.new_page()
    open_app(other, "./#/settings")
    expect(other.locator("#field-business_name")).to_have_value("Reyes MedEx")
    assert other.evaluate(f"async () => (await {STORE}).liveLocation()") == live
    assert other.evaluate(f"async () => JSON.parse((await {STORE}).cryptoStatus()).state") == "off"
    other.wait_for_function(
        "async () => (await navigator.storageBuckets.keys()).length === 1", polling=200
    )
    assert buckets(other) == ["medex-g0"]

    # Turning encryption on now works, and leaves only the new database.
    other.goto("./#/security")
    other.get_by_label("New passphrase", exact=True).fill(PASSPHRASE)
    other.get_by_label("New passphrase again").fill(PASSPHRASE)
    other.get_by_role("button", name="Turn encryption on").click()
    expect(other.locator("#encryption-state")).to_contain_text("On")
    (bucket,) = buckets(other)
    assert bucket.startswith("medex-g1-")
    assert other.evaluate(f"async () => (await {STORE}).liveLocation()") != live


def test_records_of_an_older_version_move_out_of_the_default_bucket_when_encryption_goes_on(
    page, context
):
    # An older version kept the records in "medex-practice" of the default bucket (as this
    # version does in a browser without Storage Buckets).
    page.add_init_script("delete Navigator.prototype.storageBuckets")
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes MedEx"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes MedEx")).to_be_visible()
    assert page.evaluate(f"async () => (await {STORE}).liveLocation()") == (
        '{"bucket":null,"name":"medex-practice"}'
    )
    page.close()

    tab = context.new_page()
    open_app(tab, "./#/security")
    tab.get_by_label("New passphrase", exact=True).fill(PASSPHRASE)
    tab.get_by_label("New passphrase again").fill(PASSPHRASE)
    tab.get_by_role("button", name="Turn encryption on").click()
    expect(tab.locator("#encryption-state")).to_contain_text("On")
    (bucket,) = buckets(tab)
    assert bucket.startswith("medex-g1-")
    default_names = tab.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
    assert "medex-practice" not in default_names
    tab.reload()
    wait_ready(tab)
    tab.get_by_label("Passphrase").fill(PASSPHRASE)
    tab.get_by_role("button", name="Unlock").click()
    tab.goto("./#/settings")
    expect(tab.locator("#field-business_name")).to_have_value("Reyes MedEx")
