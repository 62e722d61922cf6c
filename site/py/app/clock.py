"""The device's calendar: what "today" is for the person using the app.

Every screen asks here (``clock.today()``), never ``date.today()``: Pyodide's clock runs in
UTC, which is already tomorrow on a US evening, so a birth date or a referral typed "today"
would be refused as being in the future. Tests set the day in one place::

    monkeypatch.setattr(clock, "today", lambda: date(2026, 3, 10))
"""

from __future__ import annotations

from datetime import date


def today() -> date:
    """The device's local date (the browser's, in Pyodide; the system's under CPython)."""
    try:
        import js  # only in the browser
    except ImportError:
        return date.today()
    now = js.Date.new()
    return date(int(now.getFullYear()), int(now.getMonth()) + 1, int(now.getDate()))
