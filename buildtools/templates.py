"""The app's templates compiled at build time, so that no cold start parses and compiles the
templates of its first screen (about 0.1–0.15 s in Pyodide on a quiet machine for the home
screen's four, several times that on a loaded one).

jinja2 turns each template into a Python module; ``app.render`` imports those modules
(``ModuleLoader``) before falling back to the template files. They are compiled by the very
jinja2 the app ships (its wheel and markupsafe's, on the path of a separate CPython), with the
app's own environment (``app.render.compiled_templates``): the generated code calls that
version's runtime and bakes in the environment's settings (autoescape, whitespace control).
The app wheel then ships them as bytecode like every other module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from buildtools.common import SITE, BuildError

FOLDER = "app/templates_compiled/"
SHIPPED = ("jinja2-", "markupsafe-")  # the wheels compiling needs, as the app loads them

_SCRIPT = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
import jinja2
from app.render import compiled_templates
json.dump({"jinja2": jinja2.__version__, "modules": compiled_templates()}, sys.stdout)
"""


def compiled_template_files(wheels: dict[str, bytes]) -> dict[str, bytes]:
    """``app/templates_compiled/tmpl_<sha1 of the name>.py`` for every template under
    site/templates, compiled by the jinja2 wheel among ``wheels`` (file name → bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = []
        for name, data in sorted(wheels.items()):
            if name.startswith(SHIPPED):
                (Path(tmp) / name).write_bytes(data)
                path.append(str(Path(tmp) / name))
        if len(path) != len(SHIPPED):
            raise BuildError(
                f"compiling the templates needs the wheels {SHIPPED}: {sorted(wheels)}"
            )
        path.append(str(SITE / "py"))
        done = subprocess.run(
            [sys.executable, "-s", "-c", _SCRIPT, json.dumps(path)],
            capture_output=True,
            text=True,
            cwd=tmp,
            check=False,
        )
        if done.returncode != 0:
            raise BuildError(f"compiling the templates failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    wheel = next(name for name in wheels if name.startswith("jinja2-"))
    if f"jinja2-{result['jinja2']}-" not in wheel:  # the shipped jinja2, not an installed one
        raise BuildError(f"templates compiled by jinja2 {result['jinja2']}, the app ships {wheel}")
    return {FOLDER + name: code.encode() for name, code in sorted(result["modules"].items())}
