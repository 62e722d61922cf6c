// The cold start's Python part inside the dist's own Pyodide, under Node.js (no browser):
// Pyodide's boot, loading the app's wheels, main.py's imports in its order, importing the shell
// and registering the screens (with the build's manifest), and the first paint of the home
// screen on a first run (in-memory records). Prints one JSON line of milliseconds.
//
//     node benchmarks/start_imports.mjs dist      (run it alternately on two builds to compare)
//
// The browser modules are stubbed: `pyscript` entirely, `js.window` by an object that accepts
// anything (Node's `js` is its globalThis).
import fs from "node:fs";
import path from "node:path";

const dist = path.resolve(process.argv[2] || "dist");
const vendor = fs.readdirSync(`${dist}/vendor`).find((d) => d.startsWith("pyodide-"));
const index = `${dist}/vendor/${vendor}/`;
const { loadPyodide } = await import(`${index}pyodide.mjs`);
const t0 = performance.now();
const py = await loadPyodide({ indexURL: index, lockFileURL: `${index}pyodide-lock.json` });
const t1 = performance.now();
await py.loadPackage(["medex-practice"], { messageCallback: () => {} }); // as main.py does
const t2 = performance.now();
await py.runPythonAsync(`
import json, os, sys, time, types

os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"


class Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub(name)

    def __call__(self, *args, **kwargs):
        return Stub("result")


for name in ("pyscript", "pyscript.js_modules"):
    sys.modules[name] = Stub(name)
import js

js.window = Stub("window")
T = {}
t = time.perf_counter(); import pydantic; T["pydantic"] = time.perf_counter() - t
t = time.perf_counter(); import jinja2; T["jinja2"] = time.perf_counter() - t
t = time.perf_counter(); import medex.records; T["records"] = time.perf_counter() - t
t = time.perf_counter(); from app import core, shell; T["shell"] = time.perf_counter() - t
t = time.perf_counter(); core.load_screens(lazy=True); T["screens"] = time.perf_counter() - t

from medex.repository import InMemoryRepository


class Device:
    async def storage_info(self):
        return {"persisted": False}


async def first_paint():
    app = core.App(InMemoryRepository(), Device())
    app.state.warm = False
    await app.load()
    app.navigate("")
    return await app.html()


t = time.perf_counter(); await first_paint(); T["first paint"] = time.perf_counter() - t
T = {k: round(v * 1000) for k, v in T.items()}
T["modules"] = sum(1 for m in sys.modules if m.partition(".")[0] in ("app", "medex"))
RESULT = json.dumps(T)
`);
const python = JSON.parse(py.globals.get("RESULT"));
console.log(JSON.stringify({ dist, boot: Math.round(t1 - t0), wheels: Math.round(t2 - t1), ...python }));
