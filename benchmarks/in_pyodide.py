"""Run a pure-domain benchmark script inside the app's own Pyodide (the browser's Python).

    python benchmarks/in_pyodide.py interpret.py [args…]
    python benchmarks/in_pyodide.py search.py
    python benchmarks/in_pyodide.py session_log.py

The domain benchmarks (interpret.py, search.py, session_log.py, backup.py) print CPython
figures when run directly. This runs the same file on the exact Pyodide build, wheels and
bytecode the app ships (from dist/), under Node.js's V8 — the engine Chromium uses — so the
figures are the browser's Python speed without the page around it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, build

RUNNER = r"""
import { loadPyodide } from %(pyodide)s;
import fs from "node:fs";
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const py = await loadPyodide({ indexURL: job.index, stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
await py.loadPackage(["medex-practice"]);
py.FS.mkdirTree("/bench");
for (const [name, text] of Object.entries(job.files)) {
  py.FS.mkdirTree("/bench/" + name.split("/").slice(0, -1).join("/"));
  py.FS.writeFile("/bench/" + name, text);
}
py.globals.set("ARGV", py.toPy(job.argv));
try {
  await py.runPythonAsync(`
import os, sys, runpy
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
sys.path.insert(0, "/bench")
sys.argv = list(ARGV)
print(f"(inside Pyodide: Python {sys.version.split()[0]}, {sys.platform})")
runpy.run_path(sys.argv[0], run_name="__main__")
`);
} catch (e) {
  console.error(e.message);  // the Python traceback, without the runtime's own source
  process.exit(1);
}
"""


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    script = Path(__file__).resolve().parent / sys.argv[1]
    if not (build.DIST / build.PYODIDE.dest / "pyodide.mjs").exists():
        build.build()
    index = (build.DIST / build.PYODIDE.dest).resolve()
    bench = Path(__file__).resolve().parent
    files = {p.name: p.read_text() for p in bench.glob("*.py") if p.name != "in_pyodide.py"}
    # tests.support (but its Playwright helpers): the seeders and ``run`` the benchmarks import.
    support = [ROOT / "tests" / "__init__.py", *sorted((ROOT / "tests" / "support").glob("*.py"))]
    for path in support:
        if path.name != "browser.py":
            files[path.relative_to(ROOT).as_posix()] = path.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        runner = Path(tmp) / "run.mjs"
        runner.write_text(RUNNER % {"pyodide": json.dumps((index / "pyodide.mjs").as_uri())})
        job = Path(tmp) / "job.json"
        job.write_text(
            json.dumps(
                {
                    "index": f"{index}/",
                    "files": files,
                    "argv": [f"/bench/{script.name}", *sys.argv[2:]],
                }
            )
        )
        return subprocess.run(["node", str(runner), str(job)], cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
