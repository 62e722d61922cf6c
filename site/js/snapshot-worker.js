// Makes the start snapshot (see js/snapshot.js) in a worker, off the page's thread: a
// second, DOM-free Pyodide loads our packages, imports everything that needs no browser
// object, and its memory is saved with what Pyodide's snapshot leaves out (the files of
// site-packages, where each compiled extension was linked) to the Cache API.
import { loadPyodide } from "../%PYODIDE%/pyodide.mjs";
import { APP_BUILD, PACKAGES, PYODIDE_URL, pack, save } from "./snapshot.js";

// Pure Python only: a snapshot cannot hold a JavaScript object, so modules that import the
// browser bridges (js, pyscript) are left for the page to import as usual.
const WARM_UP = `
def _medex_warm_up():
    import importlib, os, pkgutil, sys

    # As main.py does: pydantic would otherwise scan every installed distribution for plugins.
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"

    class NoBrowser:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("js", "pyscript", "pyodide_js"):
                raise ImportError(f"{name} is not imported in a start snapshot")
            return None

    blocker = NoBrowser()
    sys.meta_path.insert(0, blocker)
    try:
        import app._build
        if app._build.CONTENT != "${APP_BUILD}":
            raise RuntimeError("the app wheel is not the one this page expects")
        import pydantic, jinja2  # noqa: F401
        for package in ("medex", "app"):
            root = importlib.import_module(package)
            for info in pkgutil.walk_packages(root.__path__, package + "."):
                try:
                    importlib.import_module(info.name)
                except ImportError:
                    pass  # needs the browser: imported by the page on its first use
        # Every template compiled now: jinja keeps them while their files' times are
        # unchanged, and the restore gives the files back their times.
        from app.render import environment
        env = environment()
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)
    finally:
        sys.meta_path.remove(blocker)

_medex_warm_up()
del _medex_warm_up
`;

function siteFiles(FS, dir, out = []) {
  for (const name of FS.readdir(dir)) {
    if (name === "." || name === "..") continue;
    const path = `${dir}/${name}`;
    const mode = FS.stat(path).mode;
    if (FS.isDir(mode)) siteFiles(FS, path, out);
    else if (FS.isFile(mode)) out.push([path, FS.readFile(path), FS.stat(path).mtime.getTime()]);
  }
  return out;
}

// Where each extension module (.so) was linked: the restore links it again at the same
// memory and table addresses before the snapshot's memory is put back.
function dynamicLibraries(Module) {
  const handles = Object.entries(Module.LDSO.loadedLibsByHandle).filter(([, dso]) => dso.name !== "__main__");
  const libs = handles.map(([handle, dso]) => {
    const h = Number(handle);
    return {
      path: dso.name,
      handle: h,
      global: !!dso.global,
      memoryBase: Module.HEAPU32[(h + 12) >>> 2],
      memorySize: Module.HEAP32[(h + 16) >>> 2],
      tableBase: Module.HEAPU32[(h + 20) >>> 2],
      tableSize: Module.HEAP32[(h + 24) >>> 2],
    };
  });
  const linked = new Set(libs.map((lib) => lib.path));
  for (const name of Object.keys(Module.LDSO.loadedLibsByName)) {
    if (name !== "__main__" && !linked.has(name)) throw new Error(`cannot snapshot ${name}: not loaded by dlopen`);
  }
  // Table slots are handed out in load order.
  return libs.sort((a, b) => a.tableBase - b.tableBase || a.memoryBase - b.memoryBase);
}

// PyScript writes its own Python package into the file system at every start and imports it
// (compiling about 130 kB of source each time). Given those sources as the page's start wrote
// them, their bytecode is compiled here into the snapshot's files, checked by a hash of the
// source: a restored start that writes the same sources imports them without compiling, and
// any other source is compiled as usual.
function precompile(pyodide, sources) {
  const { FS } = pyodide;
  const paths = [];
  for (const [path, text] of sources) {
    if (!path.startsWith("/") || !path.endsWith(".py") || path.includes("/__pycache__/")) continue;
    FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    FS.writeFile(path, text);
    paths.push(path);
  }
  if (!paths.length) return [];
  pyodide.runPython(`
def _medex_precompile(paths):
    import importlib.util, py_compile
    mode = py_compile.PycInvalidationMode.CHECKED_HASH
    for path in paths:
        try:
            py_compile.compile(path, cfile=importlib.util.cache_from_source(path), doraise=True, invalidation_mode=mode)
        except py_compile.PyCompileError:
            pass  # compiled by the page as usual

_medex_precompile(${JSON.stringify(paths)})
del _medex_precompile
`);
  const cached = new Set(paths.map((path) => path.slice(0, path.lastIndexOf("/")) + "/__pycache__"));
  return [...cached].flatMap((dir) => siteFiles(FS, dir));
}

async function make(sources) {
  const started = performance.now();
  const pyodide = await loadPyodide({
    indexURL: PYODIDE_URL, _makeSnapshot: true, stdout: () => {}, stderr: () => {},
  });
  await pyodide.loadPackage(PACKAGES, { messageCallback: () => {}, errorCallback: () => {} });
  pyodide.runPython(WARM_UP);
  const Module = pyodide._module;
  const dynlibs = dynamicLibraries(Module);
  const files = [...siteFiles(Module.FS, Module.API.sitePackages), ...precompile(pyodide, sources)];
  // Pyodide refuses to snapshot while its record of loaded packages (a JavaScript object) is
  // referenced: empty it for the call; the restore puts these entries back.
  const loaded = { ...pyodide.loadedPackages };
  for (const name of Object.keys(loaded)) delete pyodide.loadedPackages[name];
  let snapshot;
  try {
    snapshot = pyodide.makeMemorySnapshot();
  } finally {
    Object.assign(pyodide.loadedPackages, loaded);
  }
  const meta = {
    appBuild: APP_BUILD,
    dynlibs,
    tableLength: Module.wasmTable.length,
    loadedPackages: loaded,
    madeMs: Math.round(performance.now() - started),
  };
  const byPath = new Map(files.map(([path, data]) => [path, data]));
  const extensions = dynlibs.map((lib) => {
    if (!byPath.has(lib.path)) throw new Error(`the snapshot lacks ${lib.path}`);
    return byPath.get(lib.path);
  });
  await save(pack(meta, snapshot, files), extensions);
  return { bytes: snapshot.byteLength, ms: meta.madeMs };
}

self.onmessage = async (event) => {
  try {
    self.postMessage({ ok: true, ...(await make(event.data?.sources || [])) });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err && err.stack ? err.stack : err) });
  }
};
