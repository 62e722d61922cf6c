"""jinja2 environment for views and printable documents (autoescape always on)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    ModuleLoader,
    StrictUndefined,
)

from medex.letters import local_time_text

from . import clock


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "templates"  # inside the app wheel in the browser
    return packaged if packaged.is_dir() else here.parent.parent / "templates"  # site/templates


# In the app wheel, every template is also there as the Python module jinja2 compiles it to
# (written by the build with ``compiled_templates``, shipped as bytecode): a screen's first
# render imports it instead of parsing and compiling the template at every cold start.
COMPILED_DIR = Path(__file__).resolve().parent / "templates_compiled"


class _CompiledFirst(ChoiceLoader):
    """The build's compiled templates, else the template files (a template the build did not
    compile: none in the app wheel); listing and sources are the files'."""

    def __init__(self, compiled: Path, files: FileSystemLoader) -> None:
        super().__init__([ModuleLoader(compiled), files])
        self.files = files

    def get_source(self, environment: Environment, template: str):
        return self.files.get_source(environment, template)

    def list_templates(self) -> list[str]:
        return self.files.list_templates()


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
def environment(compiled: Path | None = COMPILED_DIR) -> Environment:
    """The one environment of the app: with the build's compiled templates when ``compiled``
    is a folder of them (in the app wheel), else compiling each file on its first use."""
    files = FileSystemLoader(str(templates_dir()))
    loader: BaseLoader = files
    if compiled is not None and compiled.is_dir():
        loader = _CompiledFirst(compiled, files)
    env = Environment(
        loader=loader,
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


def compiled_templates() -> dict[str, str]:
    """Every template as the Python module jinja2 compiles it to, by the file name
    ``ModuleLoader`` imports it from (run by the build, with the jinja2 the app ships: the
    generated code is that version's)."""
    env = environment(None)
    assert env.loader is not None
    modules = {}
    for name in env.list_templates(extensions=["html"]):
        source, filename, _ = env.loader.get_source(env, name)
        code = env.compile(source, name, filename, raw=True, defer_init=True)
        modules[ModuleLoader.get_module_filename(name)] = code
    return modules
