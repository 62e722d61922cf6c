// The in-browser unit tests' interpreter (site/tests.json "interpreter"): Pyodide with its whole
// standard library. The app's python_stdlib.zip carries only what the app can import (the
// build proves it: buildtools/stdlib.py); pytest imports more (unittest, doctest), so the
// test page loads the untouched copy, which only this page downloads and nothing caches.
import { loadPyodide as loadPyodideWhole, version } from "../%PYODIDE%/pyodide.mjs";

export { version };

const WHOLE_STDLIB = new URL("./python_stdlib.zip", import.meta.url).href;
// Pyodide's own files: its folder, not this module's (the default is the caller's folder).
const PYODIDE_URL = new URL("../%PYODIDE%/", import.meta.url).href;

export function loadPyodide(options = {}) {
  return loadPyodideWhole({ ...options, indexURL: PYODIDE_URL, stdLibURL: WHOLE_STDLIB });
}
