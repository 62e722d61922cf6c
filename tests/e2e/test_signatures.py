"""Issue 10 (7) end to end: a signed session log rewritten in IndexedDB (hash recomputed), or
fabricated in a backup, is never shown as "Signed and locked": the practice key's signature
(WebCrypto ECDSA P-256) is checked on every view."""

import json
import uuid

from playwright.sync_api import expect

from medex.backup_stream import make_chunked_backup, sections, with_trailer_signature
from medex.session_logs import SessionLog, content_hash
from tests.support.browser import (
    LIVE_DB,
    assert_accessible,
    check_file,
    export_backup,
    fill,
    goto,
    set_up_practice_with_a_client,
    wait_ready,
)

PUT_RAW = (
    """async ([store, doc]) => { """
    + LIVE_DB
    + """ return await new Promise((resolve, reject) => {
    const req = factory.open(name);
    req.onsuccess = () => {
        const db = req.result;
        const tx = db.transaction(store, "readwrite");
        tx.objectStore(store).put(doc);
        tx.oncomplete = () => { db.close(); resolve(true); };
        tx.onerror = () => reject(tx.error);
    };
    req.onerror = () => reject(req.error);
}); }"""
)

GET_RAW = (
    """async ([store, id]) => { """
    + LIVE_DB
    + """ return await new Promise((resolve, reject) => {
    const req = factory.open(name);
    req.onsuccess = () => {
        const db = req.result;
        const get = db.transaction(store).objectStore(store).get(id);
        get.onsuccess = () => { db.close(); resolve(get.result); };
        get.onerror = () => reject(get.error);
    };
    req.onerror = () => reject(req.error);
}); }"""
)

# A signature by ANOTHER practice's key (a real ECDSA P-256 key made in the page, not the app's).
FOREIGN_SIGNATURE = """async (message) => {
    const pair = await crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, true, ["sign", "verify"]);
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
    const id = [...new Uint8Array(await crypto.subtle.digest("SHA-256", spki))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const sig = new Uint8Array(await crypto.subtle.sign({name: "ECDSA", hash: "SHA-256"}, pair.privateKey, new TextEncoder().encode(message)));
    return {key_id: id, key_signature: btoa(String.fromCharCode(...sig))};
}"""


def rehash(doc: dict, **changes) -> dict:
    """The stored document with ``changes`` and its content hash recomputed as the app does."""
    doc = {**doc, **changes}
    log = SessionLog.model_validate({k: v for k, v in doc.items() if not k.startswith("_")})
    sig = log.signature
    digest = content_hash(log, sig.signed_by, sig.credentials, sig.signed_at)
    return {**doc, "signature": {**doc["signature"], "content_hash": digest}}


def sign_a_session_log(page) -> str:
    set_up_practice_with_a_client(page)
    page.locator("#start-session-top").click()
    expect(page.locator("#log-status")).to_have_text("Draft: not signed")
    fill(
        page,
        {
            "plan_next": "Add a third set of sit-to-stand",
            "clearance_override_reason": "Screening booked for Thursday; light session only today",
        },
    )
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    expect(page.locator("#signature-check")).to_have_count(0)
    return page.evaluate("new URLSearchParams(location.hash.split('?')[1]).get('id')")


def view(page, log_id: str) -> None:
    goto(page, f"./#/session?id={log_id}", "#log-status")
    expect(page.locator("#session-title")).to_be_visible()


def test_a_signed_log_rewritten_in_indexeddb_shows_the_red_mismatch_banner(page, console_errors):
    log_id = sign_a_session_log(page)
    stored = page.evaluate(GET_RAW, ["session_logs", log_id])

    # Someone with the device rewrites the plan and recomputes the content hash.
    forged = rehash(stored, plan_next="No further sessions needed")
    page.evaluate(PUT_RAW, ["session_logs", forged])
    page.reload()
    wait_ready(page)
    expect(page.locator("#ro-plan")).to_have_text("No further sessions needed")
    banner = page.get_by_role("alert").filter(has_text="does not match its signature")
    expect(banner).to_be_visible()
    expect(page.locator("#signature-check")).to_have_attribute("data-check", "mismatch")
    expect(page.locator("#log-status")).not_to_have_text("Signed and locked")
    assert_accessible(page, "with the signature mismatch banner")
    # What made the difference: the practice key's signature of the hash, and the profile
    # naming the public key (so it travels in backups).
    assert stored["signature"]["key_id"] and stored["signature"]["key_signature"]
    profile = page.evaluate(
        "async () => (await import(new URL('js/store.js', location.href).href)).getAll('profile')"
    )
    assert json.loads(profile)[0]["signing_key"]["key_id"] == stored["signature"]["key_id"]

    # Put back as signed: verified again (the check is not a one-way latch).
    page.evaluate(PUT_RAW, ["session_logs", stored])
    page.reload()
    wait_ready(page)
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    expect(page.locator("#signature-check")).to_have_count(0)
    assert console_errors == []


def test_a_backup_with_fabricated_signed_logs_is_never_shown_as_signed_and_locked(
    page, tmp_path, console_errors
):
    log_id = sign_a_session_log(page)
    exported = sections(export_backup(page, tmp_path).read_text())
    (real,) = exported["data"]["session_logs"]
    signature = exported["trailer"]["practice_signature"]
    assert signature["key_id"] == real["signature"]["key_id"]

    def fabricated(**changes) -> dict:
        return rehash({**real, "id": str(uuid.uuid4())}, **changes)

    def restore(docs: list[dict], name: str) -> None:
        # Every part's hash and the checksum recomputed, the practice's signature kept.
        data = json.loads(json.dumps(exported["data"]))
        data["session_logs"] += docs
        text = make_chunked_backup(data, exported["audit"], exported["meta"], "0.1.0")
        *lines, trailer = text.rstrip("\n").split("\n")
        lines.append(with_trailer_signature(trailer, signature["key_id"], signature["signature"]))
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        goto(page, "./#/data", "#restore-check")
        check_file(page, path)
        expect(page.locator("#restore-error, #restore-preview").first).to_be_visible()
        assert page.locator("#restore-error").count() == 0, page.locator(
            "#restore-error"
        ).inner_text()
        # The preview already says the file is not as this practice exported it.
        expect(page.locator("#backup-signature")).to_have_attribute("data-check", "mismatch")
        expect(page.locator("#backup-signature")).to_have_attribute("role", "alert")
        page.locator("#restore-apply").click()
        expect(page.locator("#flash")).to_contain_text("Backup restored")

    # 1. A fabricated log with the key signature stripped (as a forger without the key would).
    stripped = fabricated(plan_next="Discharged: goals met")
    stripped["signature"] = {
        k: v for k, v in stripped["signature"].items() if k not in ("key_id", "key_signature")
    }
    restore([stripped], "stripped.json")
    view(page, stripped["id"])
    expect(page.locator("#ro-plan")).to_have_text("Discharged: goals met")
    expect(page.locator("#log-status")).not_to_have_text("Signed and locked")
    expect(page.locator("#signature-check")).to_contain_text("not verified")

    # 2. Signed with another practice's key; 3. claiming this practice's key.
    foreign = fabricated(plan_next="Cleared for contact sport")
    message = f"medex-practice:session_log:v1:{foreign['signature']['content_hash']}"
    foreign["signature"].update(page.evaluate(FOREIGN_SIGNATURE, message))
    claimed = fabricated(plan_next="Patient refused all exercise")
    other = f"medex-practice:session_log:v1:{claimed['signature']['content_hash']}"
    claimed["signature"]["key_signature"] = page.evaluate(FOREIGN_SIGNATURE, other)["key_signature"]
    restore([foreign, claimed], "forged.json")

    view(page, foreign["id"])
    expect(page.locator("#ro-plan")).to_have_text("Cleared for contact sport")
    expect(page.locator("#log-status")).to_have_text("Signed elsewhere, not verified here")
    expect(page.locator("#signature-check")).to_contain_text("signed elsewhere, not verified here")

    view(page, claimed["id"])
    expect(page.locator("#log-status")).not_to_have_text("Signed and locked")
    expect(
        page.get_by_role("alert").filter(has_text="does not match its signature")
    ).to_be_visible()

    # The practice's own log is still verified, and the timeline tells them apart.
    view(page, log_id)
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    page.get_by_role("link", name="Ana López: sessions").click()
    expect(page.locator("#timeline [data-check=mismatch]")).to_have_count(1)
    expect(page.locator("#timeline [data-check=foreign]")).to_have_count(1)
    expect(page.locator("#timeline [data-check=unkeyed]")).to_have_count(1)
    assert console_errors == []


KEYS = """async () => {
  const name = await (await import(new URL("js/signing.js", location.href).href)).keysLocation();
  return await new Promise((resolve, reject) => {
    const req = indexedDB.open(name);
    req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("keys")) {
            db.close();
            return resolve([]);  // no signing key was ever made here
        }
        const get = db.transaction("keys").objectStore("keys").getAll();
        get.onsuccess = () => {
            db.close();
            resolve(get.result.map((r) => ({key_id: r.key_id, status: r.status,
                protection: r.protection || null, sealed: Boolean(r.sealed),
                private_key: r.privateKey ? r.privateKey.constructor.name : null})));
        };
        get.onerror = () => reject(get.error);
    };
    req.onerror = () => reject(req.error);
  });
}"""

DATABASES = "async () => (await indexedDB.databases()).map((d) => d.name).sort()"


def test_with_encryption_on_the_signing_key_is_sealed_and_old_signatures_still_verify(
    page, console_errors
):
    first = sign_a_session_log(page)
    keys = page.evaluate(KEYS)
    assert len(keys) == 1, keys
    plain = keys[0]
    assert plain["protection"] == "plain" and plain["private_key"] == "CryptoKey"

    goto(page, "./#/security", "#encryption-on")
    fill(page, {"new_passphrase": "correct horse battery", "new_confirm": "correct horse battery"})
    page.locator("#encryption-on").click()
    expect(page.locator("#encryption-state")).to_contain_text("On")

    # Turning encryption on rotated the key: the new one is stored sealed with the data key
    # (no usable private key without the passphrase); the old one stays as a public key only,
    # so what it signed still verifies.
    keys = {k["status"]: k for k in page.evaluate(KEYS)}
    assert keys["retired"]["key_id"] == plain["key_id"]
    assert keys["retired"]["private_key"] is None and not keys["retired"]["sealed"]
    assert keys["current"]["protection"] == "sealed" and keys["current"]["sealed"]
    assert keys["current"]["private_key"] is None
    sealed_id = keys["current"]["key_id"]
    # …and the database that held the usable plain key is gone (its files with it).
    keys_dbs = [n for n in page.evaluate(DATABASES) if n.startswith("medex-practice-keys")]
    assert keys_dbs == ["medex-practice-keys-g1"], keys_dbs

    goto(page, "./#/", "#log-session")
    page.locator("#log-session").click()
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#log-status")).to_have_text("Draft: not signed")
    fill(page, {"clearance_override_reason": "Screening booked for Thursday; light session only"})
    page.locator("#sign-log").click()
    expect(page.locator("#log-status")).to_have_text("Signed and locked")
    second = page.evaluate("new URLSearchParams(location.hash.split('?')[1]).get('id')")
    stored = page.evaluate(GET_RAW, ["session_logs", second])
    assert stored.get("_enc"), "encrypted at rest"
    assert [k["key_id"] for k in page.evaluate(KEYS) if k["status"] == "current"] == [sealed_id]

    # Locked after a reload: unlock, and both signatures verify.
    page.reload()
    wait_ready(page)
    fill(page, {"secret": "correct horse battery"})
    page.locator("#unlock").click()
    for log_id in (first, second):
        view(page, log_id)
        expect(page.locator("#log-status")).to_have_text("Signed and locked")
    assert console_errors == []
