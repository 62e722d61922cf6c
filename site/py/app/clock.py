"""The device's calendar: what "today" is for the person using the app.

Every screen asks here (``clock.today()``), never ``date.today()``: Pyodide's clock runs in
UTC, which is already tomorrow on a US evening, so a birth date or a referral typed "today"
would be refused as being in the future. Tests set the day in one place::

    monkeypatch.setattr(clock, "today", lambda: date(2026, 3, 10))
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def today() -> date:
    """The device's local date (the browser's, in Pyodide; the system's under CPython)."""
    try:
        import js  # only in the browser
    except ImportError:
        return date.today()
    now = js.Date.new()
    return date(int(now.getFullYear()), int(now.getMonth()) + 1, int(now.getDate()))


def now() -> datetime:
    """The device's local wall-clock time, without a time zone (the browser's, in Pyodide)."""
    try:
        import js  # only in the browser
    except ImportError:
        return datetime.now()
    d = js.Date.new()
    return datetime(
        int(d.getFullYear()),
        int(d.getMonth()) + 1,
        int(d.getDate()),
        int(d.getHours()),
        int(d.getMinutes()),
        int(d.getSeconds()),
    )


def utc_offset(moment: datetime) -> timedelta:
    """The device's offset from UTC at ``moment`` (summer time included): what a stored UTC
    time is shown with (``medex.letters.local_time_text``). The browser's time zone in
    Pyodide (whose own clock is UTC); the system's under CPython."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        import js  # only in the browser
    except ImportError:
        return aware.astimezone().utcoffset() or timedelta(0)
    # getTimezoneOffset(): minutes to add to local time to get UTC, for that instant.
    return timedelta(minutes=-int(js.Date.new(aware.timestamp() * 1000).getTimezoneOffset()))
