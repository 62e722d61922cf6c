"""Issue 10 item 6 end to end: a crafted backup cannot put live controls in the page. The
frozen 0.1.0 backup, with its sent documents rewritten to carry a meta refresh to another
origin, buttons and a form with the app's own action names (delete a draft, turn encryption
on with the attacker's passphrase), a script, links and trackers, is restored; opening the
sent documents runs nothing, navigates nothing, asks no other origin, and still reads as the
document that was sent (styled, sized to its content, printable)."""

import hashlib
import json
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from medex.backup import make_backup
from tests.support.browser import STORE, check_file, dump, goto, open_app

FIXTURE = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "backup-format1-app0.1.0.json"
DRAFT_ID = "00000000-0000-4000-8000-0000000000d1"
PASSPHRASE = "attacker passphrase 1"

# Controls with the app's real action names, and every way out of the page we could think of.
CONTROLS = f"""
<p id="planted">Planted controls follow.</p>
<button type="button" id="evil-delete" data-action="delete-session-draft" data-id="{DRAFT_ID}"
  data-confirm="yes">Open the referral</button>
<button type="button" id="evil-encrypt" data-action="encryption-on"
  data-new_passphrase="{PASSPHRASE}" data-new_confirm="{PASSPHRASE}">View the chart</button>
<button type="button" id="evil-lock" data-action="lock-now">Lock</button>
<form id="evil-form" data-action="encryption-on"><input name="new_passphrase" value="{PASSPHRASE}">
<input name="new_confirm" value="{PASSPHRASE}"><button type="submit" id="evil-submit">Confirm</button></form>
<a id="evil-hash" href="#/data">Go to the data screen</a>
<a id="evil-top" href="http://example.invalid/top" target="_top">Away</a>
<script>document.title = "scripted"; location.href = "http://example.invalid/script";</script>
"""
REQUESTS = """
<meta http-equiv="refresh" content="0;url=http://example.invalid/refresh">
<base href="http://example.invalid/"><link rel="stylesheet" href="http://example.invalid/s.css">
<img src="http://example.invalid/pixel.png" alt=""><img src="pixel.png" alt="">
<iframe src="http://example.invalid/frame"></iframe>
<p id="refresh-planted">Planted refresh above.</p>
"""


def crafted_backup(tmp_path) -> tuple[Path, dict]:
    """The frozen fixture with hostile sent documents and a draft session log to delete; the
    document digests and the file's checksum are recomputed, as an attacker would."""
    raw = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data = raw["data"]
    signed = data["session_logs"][0]
    draft = {**signed, "id": DRAFT_ID, "signature": None, "plan_next": "Draft to keep"}
    data["session_logs"].append(draft)
    docs = sorted(data["documents"], key=lambda d: d["id"])
    planted = {}
    for doc, payload in zip(docs, (CONTROLS, REQUESTS), strict=False):
        header = '<header class="letterhead">'
        doc["html"] = doc["html"].replace(header, payload + header, 1)
        assert payload in doc["html"]
        doc["html_sha256"] = hashlib.sha256(doc["html"].encode()).hexdigest()
        planted[payload] = doc
    text = make_backup(data, raw["audit"], raw["meta"], app_version=raw["app_version"])
    path = tmp_path / "medex-backup-crafted.json"
    path.write_text(text, encoding="utf-8")
    return path, {"controls": planted[CONTROLS], "requests": planted[REQUESTS]}


def crypto(page) -> dict:
    return json.loads(page.evaluate(f"async () => (await {STORE}).cryptoStatus()"))


def open_sent(page, doc: dict):
    goto(page, f"./#/document?id={doc['id']}", "#sent-status")
    expect(page.locator("#app #planted, #app #refresh-planted")).to_have_count(0)
    frame = page.frame_locator("#snapshot-frame")
    expect(frame.locator(".report")).to_be_visible()
    return frame


def assert_no_navigation_away(page, base_url: str):
    """Give a planted refresh its chance (it is due at once): no frame leaves the app."""

    def away(frame) -> bool:
        if frame == page.main_frame:
            return not frame.url.startswith(base_url)
        return frame.url.startswith(("http:", "https:")) and not frame.url.startswith(base_url)

    with pytest.raises(PlaywrightTimeout):
        page.wait_for_event("framenavigated", predicate=away, timeout=1500)
    assert page.url.startswith(base_url)


def test_a_crafted_backup_puts_nothing_live_in_the_page(page, tmp_path, base_url):
    path, planted = crafted_backup(tmp_path)
    open_app(page, "./#/data")
    check_file(page, path)
    expect(page.locator("#restore-apply")).to_be_visible()
    page.locator("#restore-apply").click()
    expect(page.locator("#flash")).to_contain_text("Backup restored")
    before = dump(page)
    assert DRAFT_ID in {d["id"] for d in before["stores"]["session_logs"]}
    assert crypto(page)["enabled"] is False

    # The controls' document: nothing from it is part of the app's page.
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    frame = open_sent(page, planted["controls"])
    expect(page.locator("#app [data-action=delete-session-draft]")).to_have_count(0)
    expect(page.locator("#app [data-action=encryption-on]")).to_have_count(0)
    # In the frame: the document's text, no control, script, link or app action.
    expect(frame.locator("#planted")).to_have_text("Planted controls follow.")
    for planted_control in ("button", "form", "input", "script", "a", "[data-action]", "meta"):
        expect(frame.locator(f"body {planted_control}")).to_have_count(0)
    # It still reads as the document that was sent: the report styles apply under the CSP,
    # and the frame is as tall as the document (no inner scroll).
    business = frame.locator(".lh-business")
    expect(business).to_have_css("color", "rgb(15, 92, 90)")
    expect(business).to_have_css("font-weight", "700")
    sizes = page.evaluate(
        """() => { const f = document.getElementById('snapshot-frame');
           return [f.getBoundingClientRect().height,
                   f.contentDocument.documentElement.getBoundingClientRect().height]; }"""
    )
    assert sizes[0] > 300 and abs(sizes[0] - sizes[1]) <= 1, sizes
    assert errors == [], errors  # no CSP refusal, no blocked script: nothing was attempted

    # Print: the frame prints on its own (the sent document, not the app around it).
    page.evaluate(
        """() => { const w = document.getElementById('snapshot-frame').contentWindow;
           window.print = () => { (window.__printed ||= []).push('app'); };
           w.print = () => { (window.__printed ||= []).push('frame'); }; }"""
    )
    page.locator("#print-document").click()
    assert page.evaluate("window.__printed") == ["frame"]

    # Defence in depth: the frame itself keeps raw, unsanitised HTML away from the app. The
    # stored HTML as it is (plus a refresh), in the same sandbox: clicks, submits and the
    # refresh inside it reach nothing.
    raw = planted["controls"]["html"]
    page.evaluate(
        """(raw) => { const f = document.getElementById('snapshot-frame');
           f.srcdoc = '<!doctype html><html><head><link rel="stylesheet" href="css/reports.css">' +
             '<meta http-equiv="refresh" content="0;url=http://example.invalid/raw-refresh">' +
             '</head><body>' + raw + '</body></html>'; }""",
        raw,
    )
    expect(frame.locator("#evil-delete")).to_be_visible()
    frame.locator("#evil-delete").click()
    frame.locator("#evil-encrypt").click()
    frame.locator("#evil-lock").click()
    frame.locator("#evil-submit").click()
    frame.locator("#evil-top").click()
    frame.locator("#evil-hash").click()
    assert_no_navigation_away(page, base_url)
    assert page.url.endswith(f"#/document?id={planted['controls']['id']}")
    assert page.title() != "scripted"
    expect(page.locator("#sent-status")).to_be_visible()

    # The requests' document: no refresh, no base, no tracker, no foreign frame.
    frame = open_sent(page, planted["requests"])
    expect(frame.locator("#refresh-planted")).to_have_text("Planted refresh above.")
    expect(frame.locator("base, link[href^=http], meta[http-equiv=refresh]")).to_have_count(0)
    for planted_element in ("meta", "link", "img", "iframe"):
        expect(frame.locator(f"body {planted_element}")).to_have_count(0)
    assert_no_navigation_away(page, base_url)
    expect(page.locator("#sent-status")).to_be_visible()

    # No action ran: every record, the audit log and the encryption state are as restored.
    assert dump(page) == before
    assert crypto(page)["enabled"] is False
    # (the autouse fixture then fails the test on any request that left 127.0.0.1)
