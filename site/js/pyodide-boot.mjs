// PyScript's interpreter (pyscript.json "interpreter"): Pyodide's own loadPyodide, started
// from this version's start snapshot when there is one (js/snapshot.js), else normally.
// A restored Python is tested before PyScript gets it; any failure, of any kind, deletes the
// snapshot and starts normally instead: the person only ever sees the usual start-up.
// The restore starts as the page starts (`startRestore`, called by js/start.js), in parallel
// with the page's styles and PyScript's own loading; PyScript's call then receives it.
import { loadPyodide as loadPyodideNormally, version } from "../%PYODIDE%/pyodide.mjs";
import { APP_BUILD, KEY, PACKAGES, PYODIDE_URL, find, read, remove, sweep } from "./snapshot.js";

export { version };

const html = document.documentElement;
// The start-up timings (js/boot.js shows them; benchmarks/startup.py reads them).
const timings = (globalThis.medexBootTimings ??= []);
const mark = (label) => timings.push([Math.round(performance.now()), `snapshot: ${label}`]);

// Run in the restored Python before anything else: the modules in memory are this build's,
// a model validates, the app's templates load from the restored files and render escaped.
// Also reseeds the random generator, whose state a snapshot would otherwise freeze.
const SELF_TEST = `
def _medex_self_test():
    import random
    import app._build
    if app._build.CONTENT != "${APP_BUILD}":
        raise RuntimeError("the restored app modules are from another build")
    random.seed()
    from medex.records import PracticeProfile
    profile = PracticeProfile.model_validate({"practitioner_name": " Self Test ", "business_name": "Check"})
    if profile.practitioner_name != "Self Test":
        raise RuntimeError("a model did not validate as expected")
    from app.render import environment
    environment().get_template("views/locked.html")
    html = environment().from_string("<p>{{ v }}</p>").render(v="<b>&")
    if html != "<p>&lt;b&gt;&amp;</p>":
        raise RuntimeError("a template did not render as expected")
    return "ok"

_medex_result = _medex_self_test()
del _medex_self_test
_medex_result
`;

function linkExtensions(stored) {
  // Called by the patched pyodide.asm.mjs after the new instance is up and before the
  // snapshot's memory is copied in: the files go back into the in-memory file system, and
  // each extension module is linked at the addresses it had when the snapshot was made.
  return (Module) => {
    mark("Pyodide's instance up");
    const { meta, snapshot, files, compiled } = stored.value;
    // Pyodide's snapshot: a header (its length in the second word), then the whole memory.
    const memoryLength = snapshot.byteLength - new Uint32Array(snapshot.buffer, snapshot.byteOffset, 2)[1];
    // The new instance's memory is as small as a fresh start needs: grow it to the
    // snapshot's before anything is linked into it.
    if (Module.HEAP8.length < memoryLength) Module.growMemory(memoryLength);
    if (Module.HEAP8.length < memoryLength) throw new Error("cannot grow memory to the snapshot's size");
    // Each folder made once (`mkdirTree` looks up every parent of its path again: per file,
    // that was most of the loop's time).
    const made = new Set();
    for (const [path, data, mtime] of files) {
      const dir = path.slice(0, path.lastIndexOf("/"));
      if (!made.has(dir)) {
        Module.FS.mkdirTree(dir);
        made.add(dir);
      }
      Module.FS.writeFile(path, data);
      Module.FS.utime(path, mtime, mtime); // jinja's compiled templates stay valid
    }
    mark(`files written (${files.length})`);
    const table = Module.wasmTable;
    for (const lib of meta.dynlibs) {
      if (lib.tableSize) {
        if (table.length > lib.tableBase) throw new Error(`table already past ${lib.path}'s slots`);
        table.grow(lib.tableBase - table.length);
      }
      Module.medexMemoryBase = lib.memoryBase;
      let exports;
      try {
        exports = Module.loadWebAssemblyModule(compiled.get(lib.path), { global: lib.global, nodelete: true }, lib.path, {}, undefined);
      } finally {
        Module.medexMemoryBase = null;
      }
      const dso = Module.newDSO(lib.path, lib.handle, exports);
      dso.global = lib.global;
      if (lib.global) Module.mergeLibSymbols(exports, lib.path);
    }
    if (table.length > meta.tableLength) throw new Error("the function table differs from the snapshot's");
    table.grow(meta.tableLength - table.length);
    mark("files and extensions in place");
  };
}

async function restore() {
  mark("looking for one");
  const response = await find();
  if (!response) return null;
  mark("found");
  // Pyodide loads (its loader script, the wasm instantiated, the standard library) while the
  // snapshot is read: it waits for the bytes only to copy them in (the pyodide.mjs patch,
  // buildtools/startup.py `START_PATCHES`).
  const stored = {};
  const snapshot = read(response, mark).then((value) => {
    if (value.meta.appBuild !== APP_BUILD) throw new Error("the snapshot is of another build");
    stored.value = value;
    return value.snapshot;
  });
  snapshot.catch(() => {}); // its failure is loadPyodide's (below), never an unhandled one
  const pyodide = await loadPyodideNormally({
    indexURL: PYODIDE_URL,
    _loadSnapshot: snapshot,
    _beforeRestore: linkExtensions(stored),
  });
  mark("restored");
  Object.assign(pyodide.loadedPackages, stored.value.meta.loadedPackages);
  const result = pyodide.runPython(SELF_TEST);
  if (result !== "ok") throw new Error(`self-test: ${result}`);
  mark("self-tested");
  return pyodide;
}

let restoring = null;
// Restores this version's start snapshot if one is stored: the restored and self-tested
// Python, or null (none stored; or a bad one, then deleted). Started once, as early as the
// page can; never throws.
export function startRestore() {
  restoring ??= (async () => {
    const started = performance.now();
    try {
      const pyodide = await restore();
      if (pyodide) {
        html.dataset.restoreMs = String(Math.round(performance.now() - started));
        sweep().catch(() => {});
      } else preloadPackages();
      return pyodide;
    } catch (err) {
      // Eviction, corruption, another build, a failed self-test: forget this snapshot (a new
      // one is made after this start) and start normally.
      console.info("Start snapshot not used:", err && err.message ? err.message : err);
      html.dataset.snapshotFallback = String(err && err.message ? err.message : err).slice(0, 200);
      preloadPackages();
      await remove().catch(() => {});
      return null;
    }
  })();
  return restoring;
}

// A normal start loads the app's packages once Python is up (main.py's loadPackage): on a
// first visit their 2.4 MB would only then be fetched, while the network has been idle for
// seconds as Pyodide's own WebAssembly compiled. Each is preloaded as soon as the page knows
// it starts normally, under the URL and integrity Pyodide's own fetch uses (its lock file), so
// that fetch takes the preloaded response. Any failure here only means they are fetched when
// asked, as before. A restored start needs none of them (they are in the snapshot).
const normalName = (name) => name.toLowerCase().replace(/[-_.]+/g, "-");
const sri = (hex) => `sha256-${btoa(String.fromCharCode(...hex.match(/../g).map((h) => parseInt(h, 16))))}`;
function preloadPackages() {
  (async () => {
    const lock = await (await fetch(new URL("pyodide-lock.json", PYODIDE_URL))).json();
    const wanted = new Set();
    const todo = PACKAGES.map(normalName);
    while (todo.length) {
      const name = todo.pop();
      const pkg = lock.packages[name];
      if (wanted.has(name) || !pkg) continue;
      wanted.add(name);
      todo.push(...pkg.depends.map(normalName));
    }
    for (const name of wanted) {
      const { file_name: file, sha256 } = lock.packages[name];
      const link = document.createElement("link");
      link.rel = "preload";
      link.as = "fetch";
      link.crossOrigin = "anonymous";
      link.href = new URL(file, PYODIDE_URL).href;
      if (sha256) link.integrity = sri(sha256);
      document.head.append(link);
    }
  })().catch((err) => console.info("Packages not preloaded:", err && err.message ? err.message : err));
}

let running = null; // the Python this page started with
export async function loadPyodide(options = {}) {
  // PyScript passes its output streams (and an indexURL, ours instead): a Python restored
  // before PyScript asked gets them now.
  const restored = await startRestore();
  if (restored) {
    try {
      if (options.stdout) restored.setStdout({ batched: options.stdout });
      if (options.stderr) restored.setStderr({ batched: options.stderr });
    } catch (err) {
      console.info("Python's output stays on the console:", err && err.message ? err.message : err);
    }
    html.dataset.startPath = "restored";
    running = restored;
  } else {
    html.dataset.startPath = "normal";
    running = await loadPyodideNormally({ ...options, indexURL: PYODIDE_URL });
  }
  return running;
}

// The sources of PyScript's own Python package as this start wrote them ([path, text]), for
// the next start snapshot to hold their bytecode (js/snapshot-worker.js).
// Any failure gives none: the snapshot is made without them and they compile as before.
export function pyscriptSources() {
  if (!running) return [];
  const out = [];
  try {
    let dir = running.runPython(`getattr(__import__("sys").modules.get("pyscript"), "__path__", [""])[0]`);
    if (dir && !dir.startsWith("/")) dir = `${running.FS.cwd()}/${dir}`;
    const walk = (path) => {
      for (const name of running.FS.readdir(path)) {
        if (name === "." || name === ".." || name === "__pycache__") continue;
        const child = `${path}/${name}`;
        if (running.FS.isDir(running.FS.stat(child).mode)) walk(child);
        else if (name.endsWith(".py")) out.push([child, running.FS.readFile(child, { encoding: "utf8" })]);
      }
    };
    if (dir) walk(dir);
  } catch (err) {
    console.info("PyScript's sources not read for the start snapshot:", err && err.message ? err.message : err);
    return [];
  }
  return out;
}

export const snapshotKey = KEY;
