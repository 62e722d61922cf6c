"""One small driver interface over Firefox (Marionette) and WebKitGTK (WebKitWebDriver), so the
other-engine journeys read the same in both: find controls by their visible labels and names,
type and click as WebDriver does (real input events), wait on the page's own markers.

Firefox: Debian's `firefox-esr`, started headless with a fresh profile by `marionette_driver`
(geckodriver is not packaged in Debian; Marionette is built into Firefox). WebKit: Debian's
`webkit2gtk-driver` (`WebKitWebDriver`) driving WebKitGTK's MiniBrowser through Selenium, on an
Xvfb display (WebKitGTK has no headless mode). Neither downloads anything.
"""

from __future__ import annotations

import base64
import gc
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FIREFOX = os.environ.get("MEDEX_FIREFOX", "/usr/bin/firefox-esr")
WEBKIT_DRIVER = os.environ.get("MEDEX_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
MINIBROWSER = os.environ.get(
    "MEDEX_MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
)
XVFB = shutil.which("Xvfb") or "/usr/bin/Xvfb"

# Waiting on real work only: Python's start in a fresh profile (the app itself gives up after
# 2 minutes and says so), and a save or a screen's render under load.
READY_TIMEOUT_S = 150
ACTION_TIMEOUT_S = 45

# Text of an element as a person reads it: whitespace collapsed, a required field's "*" left off.
_NORMALIZE = "const norm = (s) => (s || '').replace(/\\s+/g, ' ').replace(/\\s*\\*$/, '').trim();"
_VISIBLE = (
    "const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);"
)

_BY_LABEL = f"""{_NORMALIZE} {_VISIBLE}
const want = arguments[0];
for (const label of document.querySelectorAll('label')) {{
  const control = label.control;
  if (norm(label.textContent) === want && control && visible(control)) return control;
}}
return null;"""

_BY_NAME = f"""{_NORMALIZE} {_VISIBLE}
const [want, roles] = arguments;
const selector = roles === 'link' ? 'a[href]:not([role=button])'
  : roles === 'button' ? 'button, [role=button], input[type=submit]' : 'a[href], button, [role=button]';
for (const e of document.querySelectorAll(selector)) {{
  const name = norm(e.getAttribute('aria-label') || e.textContent || e.value);
  if (name === want && visible(e)) return e;
}}
return null;"""

_HEADING = f"""{_NORMALIZE} {_VISIBLE}
return [...document.querySelectorAll('h1, h2, h3')].filter(visible).map((h) => norm(h.textContent));"""

_STATE = """const d = document.documentElement.dataset;
return {ready: d.appReady || '', error: d.appError || '', warm: d.appWarm || '',
        step: d.bootStep || '', snapshot: d.startSnapshot || ''};"""


class EngineError(AssertionError):
    pass


class Engine:
    """What a journey needs from a browser; subclasses bind it to one WebDriver client."""

    name = "engine"

    # -- the client's own calls ------------------------------------------------------------
    def js(self, script: str, *args: Any) -> Any:
        raise NotImplementedError

    def go(self, url: str) -> None:
        raise NotImplementedError

    def reload(self) -> None:
        raise NotImplementedError

    def click_element(self, element: Any) -> None:
        element.click()

    def type_into(self, element: Any, text: str) -> None:
        element.clear()
        element.send_keys(text)

    def png(self) -> bytes:
        raise NotImplementedError

    def set_size(self, width: int, height: int) -> None:
        raise NotImplementedError

    def quit(self) -> None:
        raise NotImplementedError

    def version(self) -> str:
        return ""

    # -- waiting -----------------------------------------------------------------------------
    def wait_for(self, what: str, check, timeout: float = ACTION_TIMEOUT_S):
        """Poll `check()` until it returns something truthy; fail with what was awaited."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(0.25)
        raise EngineError(f"{self.name}: timed out after {timeout:.0f} s waiting for {what}")

    def state(self) -> dict:
        return self.js(_STATE)

    def wait_ready(self) -> float:
        """Wait for the app's ready marker, then for the dashboard's warm marker; fail with the
        boot error in the app's own words if it shows one. Returns the seconds waited."""
        started = time.monotonic()
        state = self.wait_for(
            "the app to become ready",
            lambda: (s := self.state())["ready"] == "true" or bool(s["error"]),
            READY_TIMEOUT_S,
        )
        state = self.state()
        if state["error"]:
            raise EngineError(f"{self.name}: the app did not start: {state['error']}")
        self.wait_for("the home screen to fill in", lambda: self.state()["warm"] == "true")
        return time.monotonic() - started

    # -- finding what a person sees ------------------------------------------------------------
    def field(self, label: str) -> Any:
        return self.wait_for(f"the field labelled {label!r}", lambda: self.js(_BY_LABEL, label))

    def control(self, name: str, role: str = "") -> Any:
        return self.wait_for(
            f"a {role or 'link or button'} named {name!r}", lambda: self.js(_BY_NAME, name, role)
        )

    def headings(self) -> list[str]:
        return self.js(_HEADING)

    def wait_heading(self, text: str) -> None:
        self.wait_for(f"the heading {text!r}", lambda: text in self.headings())

    def text(self) -> str:
        return self.js("return document.body.innerText")

    def wait_text(self, text: str, timeout: float = ACTION_TIMEOUT_S) -> None:
        self.wait_for(f"the text {text!r}", lambda: text in self.text(), timeout)

    # -- acting like a person ------------------------------------------------------------------
    def fill(self, label: str, text: str) -> None:
        element = self.field(label)
        self.type_into(element, text)
        typed = self.js("return arguments[0].value", element)
        assert typed == text, f"{self.name}: typed {text!r} into {label!r}, it holds {typed!r}"

    def set_date(self, label: str, iso: str) -> None:
        """A date field: typing into it depends on the engine's date control and locale, so the
        value is set as the date picker would set it (with the same input and change events)."""
        element = self.field(label)
        self.js(
            """const [e, v] = arguments; e.focus(); e.value = v;
            e.dispatchEvent(new Event('input', {bubbles: true}));
            e.dispatchEvent(new Event('change', {bubbles: true}));""",
            element,
            iso,
        )
        assert self.js("return arguments[0].value", element) == iso

    def choose(self, label: str, option_text: str) -> None:
        element = self.field(label)
        found = self.js(
            """const [select, want] = arguments;
            const option = [...select.options].find((o) => o.textContent.trim() === want);
            if (!option) return false;
            select.value = option.value;
            select.dispatchEvent(new Event('input', {bubbles: true}));
            select.dispatchEvent(new Event('change', {bubbles: true}));
            return true;""",
            element,
            option_text,
        )
        assert found, f"{self.name}: {label!r} has no option {option_text!r}"

    def click(self, name: str, role: str = "") -> None:
        element = self.control(name, role)
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        self.click_element(element)

    # -- looking -------------------------------------------------------------------------------
    def viewport(self, width: int, height: int) -> None:
        """Size the window so that the page itself gets width × height (the window's own
        toolbar and frame differ by engine)."""
        self.set_size(width, height)
        inner = self.js("return [innerWidth, innerHeight]")
        self.set_size(width + width - inner[0], height + height - inner[1])

    def screenshot(self, path: Path, width: int, height: int) -> None:
        """The page at this viewport, the window grown to the page's height (capped) so that
        one picture shows the whole screen; nothing may scroll sideways."""
        self.viewport(width, height)
        full = int(self.js("return document.documentElement.scrollHeight"))
        self.viewport(width, max(height, min(full, 3000)))
        # From the top, once the grown window has been laid out and painted.
        self.js(
            """scrollTo(0, 0); return new Promise((done) =>
            requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 100))));"""
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.png())
        sideways = self.js("return document.documentElement.scrollWidth - innerWidth")
        self.viewport(width, height)
        assert sideways <= 1, f"{self.name}: {path.name} scrolls sideways by {sideways} px"

    def scrolls_sideways(self) -> bool:
        return bool(self.js("return document.documentElement.scrollWidth > innerWidth + 1"))


class Firefox(Engine):
    """Debian's Firefox ESR, headless, with a fresh profile, over Marionette."""

    name = "Firefox"

    def __init__(self, prefs: dict[str, Any] | None = None) -> None:
        from marionette_driver.marionette import Marionette

        self.client = Marionette(
            host="127.0.0.1",
            port=0,
            bin=FIREFOX,
            headless=True,
            prefs=prefs or {},
            startup_timeout=READY_TIMEOUT_S,
        )
        self.client.start_session()
        self.client.timeout.script = ACTION_TIMEOUT_S
        self.client.timeout.page_load = ACTION_TIMEOUT_S

    def version(self) -> str:
        return str(self.client.session_capabilities.get("browserVersion", ""))

    def js(self, script: str, *args: Any) -> Any:
        # No sandbox: the script sees the page's own objects (as Selenium's scripts do).
        return self.client.execute_script(script, script_args=list(args), sandbox=None)

    def chrome_js(self, script: str, *args: Any) -> Any:
        """A script in the browser's own (privileged) context: its prompts and permissions."""
        with self.client.using_context(self.client.CONTEXT_CHROME):
            return self.client.execute_script(script, script_args=list(args))

    def go(self, url: str) -> None:
        self.client.navigate(url)

    def reload(self) -> None:
        self.client.refresh()

    def png(self) -> bytes:
        return self.client.screenshot(format="binary", full=True)

    def set_size(self, width: int, height: int) -> None:
        # Headless Firefox sizes the window; the page gets the window less no chrome.
        self.client.set_window_rect(width=width, height=height)

    def quit(self) -> None:
        self.client.cleanup()  # Firefox stopped, its temporary profile removed
        # Let go of the profile objects now: collected at interpreter exit, they would try to
        # remove their (already removed) folder once more and print an error.
        self.client.instance = None
        gc.collect()


class Xvfb:
    """A private X display for WebKitGTK (it has no headless mode)."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            [XVFB, "-displayfd", str(write), "-screen", "0", "1400x4200x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.process.kill()
            raise EngineError("Xvfb did not start")
        self.display = f":{number}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class WebKit(Engine):
    """Debian's WebKitGTK (MiniBrowser in automation mode) over WebKitWebDriver and Selenium."""

    name = "WebKit"

    def __init__(self, display: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        options = Options()
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        handle, self.log = tempfile.mkstemp(prefix="webkitwebdriver-", suffix=".log")
        os.close(handle)
        service = Service(
            executable_path=WEBKIT_DRIVER,
            log_output=self.log,
            env={**os.environ, "DISPLAY": display},
        )
        self.client = webdriver.WebKitGTK(options=options, service=service)
        self.client.set_script_timeout(ACTION_TIMEOUT_S)
        self.client.set_page_load_timeout(ACTION_TIMEOUT_S)

    def version(self) -> str:
        return str(self.client.capabilities.get("browserVersion", ""))

    def js(self, script: str, *args: Any) -> Any:
        return self.client.execute_script(script, *args)

    def go(self, url: str) -> None:
        self.client.get(url)

    def reload(self) -> None:
        self.client.refresh()

    def png(self) -> bytes:
        return base64.b64decode(self.client.get_screenshot_as_base64())

    def set_size(self, width: int, height: int) -> None:
        self.client.set_window_size(width, height)

    def quit(self) -> None:
        try:
            self.client.quit()
        finally:
            Path(self.log).unlink(missing_ok=True)
