"""The dashboard rows are kept many to an IndexedDB record (js/buckets.js: reading 1,000 rows
one record each costs more than the bytes), and that changes nothing a practitioner sees or
trusts: a row written by an older version (a record of its own) is still read and moves into
its bucket at its next write, a row is never kept twice, and turning encryption on seals
every row one by one (no bucket of clear text is left)."""

import json

from playwright.sync_api import expect

from tests.support.browser import (
    LIVE_DB,
    goto,
    raw_store,
    set_up_practice_with_a_client,
    turn_encryption_on,
)

BUCKET = "~bucket:"

# A row moved out of its bucket into a record of its own, as a version before buckets kept it.
AS_BEFORE_BUCKETS = (
    """async (clientId) => { """
    + LIVE_DB
    + """
    const db = await new Promise((ok, fail) => {
        const r = factory.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
    });
    await new Promise((ok, fail) => {
        const tx = db.transaction("dashboard_rows", "readwrite");
        const rows = tx.objectStore("dashboard_rows");
        rows.getAll().onsuccess = (event) => {
            for (const bucket of event.target.result) {
                if (!bucket.texts || !(clientId in bucket.texts)) continue;
                rows.put(JSON.parse(bucket.texts[clientId]));
                delete bucket.texts[clientId];
                rows.put(bucket);
            }
        };
        tx.oncomplete = ok; tx.onerror = () => fail(tx.error);
    });
    db.close();
}"""
)


def where_kept(page, client_id: str) -> list[str]:
    """Where the client's row is stored: "own" for a record of its own, the bucket's id for
    each bucket holding it."""
    places = []
    for record in json.loads(raw_store(page, "dashboard_rows")):
        if record["id"] == client_id:
            places.append("own")
        elif client_id in record.get("texts", {}):
            places.append(record["id"])
    return places


def client_id_of(page) -> str:
    return page.evaluate("new URLSearchParams(location.hash.split('?')[1]).get('id')")


def test_rows_live_in_buckets_and_a_row_kept_as_before_is_read_and_moved_at_its_next_write(
    page, console_errors
):
    set_up_practice_with_a_client(page)
    client_id = client_id_of(page)
    records = json.loads(raw_store(page, "dashboard_rows"))
    assert records and all(r["id"].startswith(BUCKET) for r in records), records
    assert len(records) <= 16
    [place] = where_kept(page, client_id)
    assert place.startswith(BUCKET)

    # Ana's row as an older version kept it; the home screen still reads it.
    page.evaluate(AS_BEFORE_BUCKETS, client_id)
    assert where_kept(page, client_id) == ["own"]
    page.reload()
    goto(page, "./#/clients", "#client-list")
    expect(page.locator("#client-list")).to_contain_text("López, Ana")
    goto(page, "./#/", "#dashboard[data-dashboard-ready]")

    # Her next write moves the row into its bucket, in the same transaction: one copy, current.
    goto(page, f"./#/client?id={client_id}&section=details", "#save-client")
    page.locator("#field-first_name").fill("Anabel")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Anabel López")
    [place] = where_kept(page, client_id)
    assert place.startswith(BUCKET)
    page.reload()
    goto(page, "./#/clients", "#client-list")
    expect(page.locator("#client-list")).to_contain_text("López, Anabel")
    expect(page.locator("#client-list tbody tr")).to_have_count(1)
    assert console_errors == []


def test_turning_encryption_on_seals_every_row_one_by_one_and_leaves_no_bucket_in_clear(
    page, console_errors
):
    set_up_practice_with_a_client(page)
    client_id = client_id_of(page)
    assert where_kept(page, client_id)[0].startswith(BUCKET)
    turn_encryption_on(page)
    raw = raw_store(page, "dashboard_rows")
    assert "López" not in raw and BUCKET not in raw
    assert where_kept(page, client_id) == ["own"]
    assert all("_enc" in r for r in json.loads(raw))
    # The app reads them sealed; a write while encrypted keeps the row sealed, in its own record.
    goto(page, "./#/clients", "#client-list")
    expect(page.locator("#client-list")).to_contain_text("López, Ana")
    goto(page, f"./#/client?id={client_id}&section=details", "#save-client")
    page.locator("#field-first_name").fill("Anabel")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Anabel López")
    raw = raw_store(page, "dashboard_rows")
    assert "López" not in raw and "Anabel" not in raw and BUCKET not in raw
    assert where_kept(page, client_id) == ["own"]
    goto(page, "./#/clients", "#client-list")
    expect(page.locator("#client-list")).to_contain_text("López, Anabel")
    assert console_errors == []
