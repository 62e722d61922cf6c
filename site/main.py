# PyScript entry point: load our packages from our own origin, then start the app shell.
import os

import js
import pyodide_js
from pyodide.ffi import create_proxy

# pydantic looks for plugins through importlib.metadata on the first model it builds: a scan
# of every installed distribution that costs hundreds of ms in Pyodide. We use none.
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"

_progress = js.window.medexBoot


def _on_message(message, *_):
    _progress.step("Loading libraries", 55, str(message))


try:
    _progress.step("Loading libraries", 45, "pydantic, jinja2, MedEx")
    _cb = create_proxy(_on_message)
    await pyodide_js.loadPackage(%APP_PACKAGES%, messageCallback=_cb, errorCallback=_cb)
    _cb.destroy()
    _progress.step("Starting the app", 65, "pydantic")
    import pydantic  # noqa: F401

    _progress.step("Starting the app", 70, "jinja2")
    import jinja2  # noqa: F401

    _progress.step("Starting the app", 75, "records")
    import medex.records  # noqa: F401

    _progress.step("Starting the app", 80, "screens")
    from app import shell

    await shell.start()
except Exception as exc:  # noqa: BLE001 — any boot failure is shown in words, never a blank page
    import traceback

    traceback.print_exc()
    _progress.fail(f"{type(exc).__name__}: {exc}")
