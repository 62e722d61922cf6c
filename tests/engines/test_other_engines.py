"""The app starts and works in Firefox and in WebKit (Safari's engine), not only in Chromium.

Each journey is what a new practitioner does on a fresh browser profile: the app becomes ready
without answering any prompt, the practice profile and a client are added through the visible
labels, the page is reloaded (from the start snapshot once it is made) and the client is still
there and opens. Firefox also shows its persistent-storage prompt only after the person's first
save, never at start-up, and the app shows the answer once the person chooses in the prompt.
Screenshots of the home screen and the client page go to /tmp/shots-engines/ to be looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.engines.drivers import READY_TIMEOUT_S, Engine, Firefox

SHOTS = Path(os.environ.get("MEDEX_SHOTS", "/tmp/shots-engines"))
TABLET = ((768, 1024), (1024, 768))

GRANTED = "Granted: the browser will not clear your records"


def start_fresh(engine: Engine, url: str) -> None:
    engine.viewport(820, 1180)
    engine.go(url)
    engine.wait_ready()
    assert engine.state()["error"] == ""


def set_up_practice(engine: Engine) -> None:
    engine.fill("Your name", "Dana Reyes")
    engine.fill("Business name", "Reyes Medical Exercise")
    engine.click("Save practice profile", "button")
    engine.wait_heading("Reyes Medical Exercise")
    assert "Practice profile saved" in flash(engine)


def add_client(engine: Engine) -> None:
    engine.click("Clients", "link")
    engine.wait_heading("Clients")
    engine.click("New client")
    engine.wait_heading("New client")
    engine.fill("First name", "Ana")
    engine.fill("Last name", "López")
    engine.set_date("Date of birth", "1958-03-10")
    engine.choose("Sex", "Female")
    engine.fill("Name", "Luis López")  # the emergency contact
    engine.fill("Emergency contact phone", "555 123 4567")
    engine.click("Save client", "button")
    engine.wait_heading("Ana López")


def open_client(engine: Engine) -> None:
    engine.click("Clients", "link")
    engine.wait_text("1 of 1 client(s)")
    engine.click("López, Ana", "link")
    engine.wait_heading("Ana López")
    engine.wait_text("Born Mar 10, 1958")
    assert engine.js("return arguments[0].value", engine.field("Name")) == "Luis López"


def flash(engine: Engine) -> str:
    return engine.js("const f = document.getElementById('flash'); return f ? f.textContent : ''")


def shoot(engine: Engine, name: str) -> None:
    for width, height in TABLET:
        engine.screenshot(
            SHOTS / f"{engine.name.lower()}-{name}-{width}x{height}.png", width, height
        )
    engine.viewport(820, 1180)


def reload_after_start_snapshot(engine: Engine) -> str:
    """Reload once the start snapshot of the first start is settled (made, or not made and
    why), so the reload starts from it where it was made: the app must then be restored from
    it, not fall back (a fallback is silent for the person, not for this test)."""
    made = engine.wait_for(
        "the start snapshot to be made (or not made) after the first start",
        lambda: engine.state()["snapshot"],
        READY_TIMEOUT_S,
    )
    engine.reload()
    engine.wait_ready()
    path = engine.js("return document.documentElement.dataset.startPath || ''")
    fallback = engine.js("return document.documentElement.dataset.snapshotFallback || ''")
    if made == "ready":
        assert path == "restored", f"{engine.name}: the start snapshot was not used: {fallback}"
    else:
        assert path == "normal"
    print(f"{engine.name} {engine.version()}: start snapshot {made!r}, reload started {path!r}")
    return made


def storage_section(engine: Engine) -> str:
    # "" while the Settings screen is still on its way.
    return engine.js(
        "const s = document.getElementById('storage-persisted'); return s ? s.textContent : ''"
    )


# -- Firefox: the persistent-storage prompt -------------------------------------------------------

PROMPT = """const browser = gBrowser.selectedBrowser;
const asking = PopupNotifications.getNotification('persistent-storage', browser);"""


def storage_prompt_open(engine: Firefox) -> bool:
    return bool(engine.chrome_js(PROMPT + "return !!asking;"))


def allow_in_the_prompt(engine: Firefox) -> None:
    """The person presses "Allow" in Firefox's own prompt (the panel's main button). A click
    in the page hides the panel but keeps the prompt: it is shown again first, as the icon in
    the address bar does."""
    label = engine.wait_for(
        "Firefox's persistent-storage prompt to show its buttons",
        lambda: engine.chrome_js(
            PROMPT
            + """if (!asking) return null;
            const shown = [...PopupNotifications.panel.children].find((n) => n.notification === asking);
            if (!shown || PopupNotifications.panel.state !== 'open') { asking.reshow(); return null; }
            const label = shown.button.label;
            shown.button.click();
            return label;"""
        ),
    )
    assert label == "Allow", f"Firefox's persistent-storage prompt offers {label!r}"


def test_firefox_starts_without_the_storage_prompt_and_keeps_the_records(firefox, dist_url):
    start_fresh(firefox, dist_url)
    # A fresh profile: the app is ready and nothing asked the person anything.
    assert not storage_prompt_open(firefox), "start-up asked for persistent storage"
    assert firefox.js("return navigator.storage.persisted()") is False

    set_up_practice(firefox)
    # Asked from the person's first save; the app went on while the prompt stays open.
    firefox.wait_for("Firefox's persistent-storage prompt", lambda: storage_prompt_open(firefox))
    shoot(firefox, "home")
    add_client(firefox)
    assert storage_prompt_open(firefox)

    firefox.click("Settings", "link")
    firefox.wait_heading("Storage on this device")
    assert "Not granted" in storage_section(firefox)
    firefox.click("Ask again for persistent storage", "button")
    firefox.wait_for(
        "the app to say the browser is asking", lambda: "choose Allow" in flash(firefox)
    )

    allow_in_the_prompt(firefox)
    firefox.wait_for(
        "the answer to show once the person allowed",
        lambda: (
            "Storage is now persistent" in flash(firefox) and GRANTED in storage_section(firefox)
        ),
    )
    assert firefox.js("return navigator.storage.persisted()") is True
    assert firefox.js("return !document.querySelector('[data-action=request-persistent-storage]')")

    reload_after_start_snapshot(firefox)
    open_client(firefox)
    shoot(firefox, "client")
    firefox.click("Settings", "link")
    firefox.wait_for(
        "the storage answer after a reload", lambda: GRANTED in storage_section(firefox)
    )


def test_webkit_starts_and_keeps_the_records(webkit, dist_url):
    start_fresh(webkit, dist_url)
    set_up_practice(webkit)
    shoot(webkit, "home")
    add_client(webkit)

    webkit.click("Settings", "link")
    webkit.wait_heading("Storage on this device")
    if webkit.js("return !!(navigator.storage && navigator.storage.persist)"):
        webkit.click("Ask again for persistent storage", "button")
        webkit.wait_for(
            "the answer to the request",
            lambda: any(
                words in flash(webkit)
                for words in ("now persistent", "did not grant", "choose Allow")
            ),
        )
    else:
        # WebKitGTK offers no navigator.storage: nothing to ask, nothing pretended.
        assert "Not available in this browser" in storage_section(webkit)
        assert webkit.js(
            "return !document.querySelector('[data-action=request-persistent-storage]')"
        )
        assert "Not reported by this browser" in webkit.text()

    reload_after_start_snapshot(webkit)
    open_client(webkit)
    shoot(webkit, "client")
