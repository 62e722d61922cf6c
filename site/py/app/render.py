"""jinja2 environment for views and printable documents (autoescape always on)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from medex.letters import local_time_text

from . import clock


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "templates"  # inside the app wheel in the browser
    return packaged if packaged.is_dir() else here.parent.parent / "templates"  # site/templates


def _date(value: date | datetime | str | None, fmt: str = "%b %-d, %Y") -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime(fmt)


def _local_time(moment: datetime | None) -> str:
    """A stored UTC moment on the device's clock: "Mar 10, 2026 at 09:20 (UTC−5)"."""
    if moment is None:
        return ""
    return local_time_text(moment, clock.utc_offset(moment))


def _sentence(text: str | None) -> str:
    """Typed text ending in exactly one full stop ("Stopped at 09:20." stays as it is)."""
    text = (text or "").rstrip()
    return text if not text or text.endswith((".", "!", "?", "…")) else f"{text}."


def _bytes(value: float | int | None) -> str:
    if value is None:
        return "unknown"
    size = float(value)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def href(
    screen: str | tuple[str, Mapping[str, str]], params: Mapping[str, str] | None = None
) -> str:
    """The link to a screen of this app: ``href("client", {"id": "c1"})`` (or a domain
    ``Screen``) → ``#/client?id=c1``. The one place a route becomes a URL."""
    if isinstance(screen, str):
        route = screen
    else:
        route, params = screen
    query = urlencode(dict(params or {}))
    return f"#/{route}" + (f"?{query}" if query else "")


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = _date
    env.filters["local_time"] = _local_time
    env.filters["sentence"] = _sentence
    env.filters["bytes"] = _bytes
    env.filters["href"] = href
    env.globals["href"] = href
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
