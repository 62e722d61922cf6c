// The warm start: a memory snapshot of Python with pydantic, jinja2 and the app already
// imported, made in a background worker after a normal start (js/snapshot-worker.js) and
// restored on the next visit (js/pyodide-boot.mjs). Shared by both: the key, the stored
// format and the Cache API entry.
//
// The key is computed by build.py from every input of the snapshot (Pyodide's files and
// build id, the lock files, every wheel, our sources and templates, the loader patch and
// these scripts): an entry stored under any other key is never read, only deleted.
export const KEY = "%SNAPSHOT_KEY%";
export const APP_BUILD = "%APP_BUILD%"; // the content hash baked into the app's modules
export const PACKAGES = %APP_PACKAGES%;
export const PYODIDE_URL = new URL("../%PYODIDE%/", import.meta.url).href;
// Not "medex-…": the service worker deletes those caches when a new version activates.
export const CACHE_NAME = "medex.start-snapshot";
// Each extension module (pydantic-core) also stored on its own, as a wasm Response: the
// restore compiles it with `compileStreaming` while the snapshot is read (they ran one after
// the other), and the browser can keep the machine code it compiled for it beside the entry
// (a `WebAssembly.Module` cannot be stored in IndexedDB: Chromium refuses to serialize it).
export const CODE_CACHE_NAME = "medex.start-snapshot.code";
const ROOT = new URL("../", import.meta.url);
const entryUrl = (key) => new URL(`start-snapshot/${key}`, ROOT).href;
const extensionUrl = (key, index) => new URL(`start-snapshot/${key}/extension-${index}.wasm`, ROOT).href;
const EXTENSIONS_HEADER = "X-Medex-Extensions"; // how many, on the snapshot's own entry
const MAGIC = 0x5844454d; // "MEDX", little-endian
const FORMAT = 1;

// Stored layout (one Response body): a 16-byte header [magic, format, meta length, 0],
// the meta JSON padded to 16 bytes, the Pyodide memory snapshot (16-byte aligned, as
// Pyodide reads it through a Uint32Array), then the site-packages files back to back
// (listed in the meta with their modification times).
const pad16 = (n) => Math.ceil(n / 16) * 16;

export function pack(meta, snapshot, files) {
  let offset = 0;
  const listed = files.map(([path, data, mtime]) => {
    const entry = [path, offset, data.byteLength, mtime];
    offset += data.byteLength;
    return entry;
  });
  const json = new TextEncoder().encode(JSON.stringify({
    ...meta, format: FORMAT, key: KEY, snapshotLength: snapshot.byteLength, files: listed,
  }));
  const header = new Uint32Array([MAGIC, FORMAT, json.byteLength, 0]);
  const jsonPadded = new Uint8Array(pad16(json.byteLength));
  jsonPadded.set(json);
  return new Blob([header, jsonPadded, snapshot, ...files.map(([, data]) => data)]);
}

export function unpack(buffer) {
  if (buffer.byteLength < 16) throw new Error("the stored start snapshot is truncated");
  const [magic, format, jsonLength] = new Uint32Array(buffer, 0, 4);
  if (magic !== MAGIC || format !== FORMAT) throw new Error("the stored start snapshot has an unknown format");
  const meta = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 16, jsonLength)));
  if (meta.key !== KEY) throw new Error("the stored start snapshot belongs to another version");
  const start = 16 + pad16(jsonLength);
  const filesStart = start + meta.snapshotLength;
  const end = filesStart + meta.files.reduce((sum, [, , length]) => sum + length, 0);
  if (end !== buffer.byteLength) throw new Error("the stored start snapshot is truncated or padded");
  const snapshot = new Uint8Array(buffer, start, meta.snapshotLength);
  const files = meta.files.map(([path, offset, length, mtime]) => [path, new Uint8Array(buffer, filesStart + offset, length), mtime]);
  return { meta, snapshot, files };
}

async function openCache(name = CACHE_NAME) {
  return typeof caches === "undefined" ? null : caches.open(name);
}

// This version's extension modules, compiled from their own entries in the order of the
// snapshot's `dynlibs`. Rejects when an entry is missing (evicted, deleted, or never kept by
// this engine) or does not compile: `read` then compiles them from the snapshot's own bytes.
async function compileExtensions(count) {
  const cache = await openCache(CODE_CACHE_NAME);
  return Promise.all(Array.from({ length: count }, async (_, index) => {
    const response = cache && (await cache.match(extensionUrl(KEY, index)));
    if (!response) throw new Error("the start snapshot's compiled extension is missing");
    try {
      return await WebAssembly.compileStreaming(response);
    } catch (err) {
      throw new Error(`the start snapshot's compiled extension does not compile (${err && err.message})`);
    }
  }));
}

// The stored entry of this version (a Response whose body is not read yet), or null. Only
// this version's key is ever looked up; `sweep` deletes the others.
export async function find() {
  const cache = await openCache();
  if (!cache) return null;
  return (await cache.match(entryUrl(KEY))) || null;
}

// A found entry read and unpacked, and its extension modules compiled (at the same time).
// `mark(step)` records the start-up timings.
export async function read(response, mark = () => {}) {
  const count = Number(response.headers.get(EXTENSIONS_HEADER));
  if (!Number.isInteger(count) || count < 0) throw new Error("the stored start snapshot has an unknown format");
  const compiling = compileExtensions(count).then((modules) => {
    mark("extensions compiled");
    return modules;
  });
  compiling.catch(() => {}); // reported below, after the read
  const { meta, snapshot, files } = unpack(await response.arrayBuffer());
  mark("read");
  if (count !== meta.dynlibs.length) throw new Error("the start snapshot's extensions do not match it");
  let modules;
  try {
    modules = await compiling;
  } catch {
    // The entries of compiled code only save time: without them (or with a bad one) the
    // extensions compile from the snapshot's own bytes, as before there were any, and the
    // entries are stored again for the next visit.
    const byPath = new Map(files.map(([path, data]) => [path, data]));
    const bytes = meta.dynlibs.map((lib) => {
      if (!byPath.has(lib.path)) throw new Error(`the snapshot lacks ${lib.path}`);
      return byPath.get(lib.path);
    });
    modules = await Promise.all(bytes.map((data) => WebAssembly.compile(data)));
    mark("extensions compiled from the snapshot");
    storeExtensions(bytes).catch(() => {});
  }
  const compiled = new Map(meta.dynlibs.map((lib, index) => [lib.path, modules[index]]));
  return { meta, snapshot, files, compiled };
}

export async function has() {
  const cache = await openCache();
  return !!cache && !!(await cache.match(entryUrl(KEY)));
}

// This version's extension modules stored on their own (bytes, in the order of `dynlibs`).
// The responses copy the bytes before anything is awaited (the restore goes on using them).
async function storeExtensions(extensions) {
  const responses = extensions.map((data) => new Response(data, { headers: { "Content-Type": "application/wasm" } }));
  const code = await openCache(CODE_CACHE_NAME);
  if (!code) return;
  await Promise.all(responses.map((response, index) => code.put(extensionUrl(KEY, index), response)));
}

// `extensions`: the bytes of each extension module, in the order of the snapshot's `dynlibs`.
// Stored first: the snapshot's own entry, stored last, is what says there is one.
export async function save(blob, extensions = []) {
  const cache = await openCache();
  const code = await openCache(CODE_CACHE_NAME);
  if (!cache || !code) return;
  await storeExtensions(extensions);
  await cache.put(entryUrl(KEY), new Response(blob, {
    headers: { "Content-Type": "application/octet-stream", [EXTENSIONS_HEADER]: String(extensions.length) },
  }));
  await sweep();
}

// Deletes the entry of this version (a bad snapshot) and of any other version.
export async function remove() {
  const cache = await openCache();
  if (cache) await cache.delete(entryUrl(KEY));
  if (typeof caches !== "undefined") await caches.delete(CODE_CACHE_NAME);
  await sweep();
}

export async function sweep() {
  const cache = await openCache();
  if (!cache) return;
  for (const request of await cache.keys()) {
    if (request.url !== entryUrl(KEY)) await cache.delete(request);
  }
  const code = await openCache(CODE_CACHE_NAME);
  for (const request of await code.keys()) {
    if (!request.url.startsWith(`${entryUrl(KEY)}/`)) await code.delete(request);
  }
}

// After a normal start: make the snapshot in a worker when the browser is idle, unless this
// version has one already. Never blocks the person: the worker has its own thread, and any
// failure only means the next start is a normal one. `sources()` gives the [path, text] of
// the Python sources the start imported from outside site-packages (PyScript's package), for
// the worker to compile into the snapshot.
export function makeInBackground(onDone = () => {}, sources = () => []) {
  if (typeof Worker === "undefined" || typeof caches === "undefined" || typeof WebAssembly === "undefined") {
    onDone({ ok: false, error: "not supported here" });
    return;
  }
  const start = async () => {
    if (await has()) return onDone({ ok: true, existing: true });
    const worker = new Worker(new URL("./snapshot-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = (event) => {
      worker.terminate();
      onDone(event.data);
    };
    worker.onerror = (event) => {
      worker.terminate();
      onDone({ ok: false, error: event.message || "the snapshot worker failed" });
    };
    worker.postMessage({ type: "make", sources: sources() });
  };
  const idle = globalThis.requestIdleCallback || ((fn) => setTimeout(fn, 1000));
  idle(() => start().catch((err) => onDone({ ok: false, error: String(err) })), { timeout: 5000 });
}
