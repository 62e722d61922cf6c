// Which database holds the records, the connection to it, and moving them into a fresh one
// (turning encryption on). The reads and writes over the connection are in storage.js.
import Dexie from "../%DEXIE%";
import { isBucketed, unbucketed } from "./buckets.js";
import { DB_NAME, SCHEMA } from "./schema.js";
import {
  adoptCryptoState,
  announceCrypto,
  dataKey,
  enabled,
  encryption,
  sealDoc,
  sealMeta,
  setCryptoMeta,
  setEncryption,
} from "./crypto.js";

export let db = null;

// -- where the records live --------------------------------------------------------------------
// Turning encryption on copies every record, sealed, into a FRESH database and deletes the old
// one: sealing records in place would leave their plaintext in the browser's files (Chromium
// keeps overwritten values in its LevelDB log and table files until a compaction that runs at
// most every few days). Chromium keeps every database of an origin's default storage bucket in
// ONE LevelDB, where deleting a database removes nothing from the files either; a Storage
// Bucket (navigator.storageBuckets) has a LevelDB of its own, deleted with the bucket. So the
// records live in a bucket where the browser has them (a database in the default bucket
// elsewhere: Firefox and Safari keep one SQLite file per database, deleted with it).
// Which database is live: a row in a tiny pointer database in the default bucket
// ("medex-practice-live", no clinical content), read by every tab at start-up. Absent: the
// records are in "medex-practice" of the default bucket (versions before the pointer), or this
// is a fresh install (which starts in the bucket "medex-g0"). A move (startMove, copyStore,
// finishMove) is crash-safe: the new database is made live, in one durable transaction of the pointer
// database, only once it is complete; it is listed as "stale" there before it is created, so if
// the tab dies mid-copy the next start still uses the old, complete database and deletes the
// partial one (tidyUp). Other tabs follow the pointer (follow): told by a message, by their
// connection being closed, or by the old database's meta "encryption" = {state: "moved"}.
const POINTER_DB = "medex-practice-live";
const MOVE_LOCK = "medex-practice-move"; // Web Lock: writes hold it shared, a move exclusive
const LEGACY = { bucket: null, name: DB_NAME, generation: 0 };
// The demo practice: a database of its own, never the practice's (see openPractice).
const DEMO = globalThis.navigator?.storageBuckets
  ? { bucket: "medex-demo", name: DB_NAME, generation: 0 }
  : { bucket: null, name: `${DB_NAME}-demo`, generation: 0 };
export let live = null; // {bucket, name, generation} of `db`
let pointerDb = null;
export let following = null; // a running follow()
export const bucketsSupported = () => Boolean(globalThis.navigator?.storageBuckets);
const locationId = (where) => (where.bucket ? `bucket:${where.bucket}` : `db:${where.name}`);
const sameLocation = (a, b) => Boolean(a && b) && locationId(a) === locationId(b);

function pointers() {
  if (!pointerDb) {
    pointerDb = new Dexie(POINTER_DB, { chromeTransactionDurability: "strict" });
    pointerDb.version(1).stores({ pointer: "key" });
  }
  return pointerDb;
}

const asLocation = (row) => (row ? { bucket: row.bucket || null, name: row.name, generation: row.generation || 0 } : null);

async function readPointer() {
  if (await pointers().pointer.get("demo")) return DEMO; // the demo practice is open (openPractice)
  return asLocation(await pointers().pointer.get("live"));
}

// The live location; on a fresh install (no pointer, no database of an older version) the
// pointer is created here: in one transaction, so two tabs starting at once agree.
async function findLive() {
  const pointer = await readPointer();
  if (pointer) return pointer;
  const names = indexedDB.databases ? (await indexedDB.databases()).map((info) => info.name) : [DB_NAME];
  if (names.includes(DB_NAME) || !bucketsSupported()) return LEGACY;
  const fresh = { bucket: "medex-g0", name: DB_NAME, generation: 0 };
  const p = pointers();
  return asLocation(await p.transaction("rw", p.pointer, async () => {
    const row = await p.pointer.get("live");
    if (row) return row;
    await p.pointer.put({ key: "live", ...fresh });
    return fresh;
  }));
}

async function factoryFor(where) {
  if (!where.bucket) return indexedDB;
  let bucket;
  try {
    bucket = await navigator.storageBuckets.open(where.bucket, { durability: "strict", persisted: true });
  } catch {
    bucket = await navigator.storageBuckets.open(where.bucket, { durability: "strict" });
  }
  return bucket.indexedDB;
}

// A connection to the database at `where` (created, empty, if it does not exist).
// autoOpen off: if the browser closes the connection by itself (a storage error, or site data
// cleared), Dexie would silently reopen it on the next call, creating an empty database if
// the browser dropped it, and the next save would succeed there ("saved", records gone).
// Instead every call fails with DatabaseClosedError and the page is told (watchClose).
async function connect(where) {
  const factory = await factoryFor(where);
  const handle = new Dexie(where.name, { indexedDB: factory, IDBKeyRange, chromeTransactionDurability: "strict", autoOpen: false });
  for (const [version, stores] of Object.entries(SCHEMA)) handle.version(Number(version)).stores(stores);
  // Another tab upgraded or deleted the database: close cleanly (never corrupt); if the records
  // moved, follow them, else tell the page.
  handle.on("versionchange", () => {
    handle.close();
    if (handle === db) lostConnection("medex:db-closed");
    return false;
  });
  await handle.open();
  return handle;
}

async function dropDatabase(where) {
  if (where.bucket) {
    if (bucketsSupported()) await navigator.storageBuckets.delete(where.bucket);
    return;
  }
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(where.name);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

// Web Locks: every write holds MOVE_LOCK shared, so a move (exclusive) waits for the writes in
// flight in every tab and no write lands in a database while it is being copied.
export function withLock(mode, fn) {
  if (!globalThis.navigator?.locks) return fn();
  return navigator.locks.request(MOVE_LOCK, { mode }, fn);
}

// The exclusive lock, held until the returned function is called (a move spans several calls).
export async function holdMoveLock() {
  if (!globalThis.navigator?.locks) return () => {};
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await new Promise((acquired) => navigator.locks.request(MOVE_LOCK, { mode: "exclusive" }, () => { acquired(); return held; }));
  return release;
}

export async function open() {
  for (let attempt = 0; ; attempt++) {
    const where = await findLive();
    const handle = await connect(where);
    // A move may have switched the pointer (and deleted `where`) meanwhile: open the new one.
    const now = (await readPointer()) || LEGACY;
    if (attempt < 5 && !sameLocation(now, where)) {
      handle.close();
      continue;
    }
    db = handle;
    live = where;
    break;
  }
  watchClose();
  setEncryption((await db.meta.get("encryption"))?.value || { state: "off" });
  setCryptoMeta((await db.meta.get("crypto"))?.value || null);
  tidyUp().catch(() => {});
  return JSON.stringify({ name: db.name, bucket: live.bucket, version: db.verno, stores: db.tables.map((t) => t.name) });
}

// Where the records are: {bucket, name} (bucket null: the default bucket). For tests and tools
// that read IndexedDB directly.
export function liveLocation() {
  return JSON.stringify({ bucket: live?.bucket ?? null, name: live?.name ?? DB_NAME });
}

// Delete what an interrupted move left: the partial copy (listed "stale" before it was created)
// or the old database (listed when the new one was made live). Only while no move runs.
async function tidyUp() {
  if (!globalThis.navigator?.locks) return;
  await navigator.locks.request(MOVE_LOCK, { mode: "exclusive", ifAvailable: true }, async (lock) => {
    if (!lock) return;
    for (const row of await pointers().pointer.where("key").startsWith("stale:").toArray()) await tidyUpNow(asLocation(row));
  });
}

// The records moved (another tab turned encryption on): close this tab's connection and open
// the live database. True when it moved.
export function follow() {
  if (!following) following = followLive().finally(() => { following = null; });
  return following;
}

async function followLive() {
  // Only a pointer names a new home (without one, e.g. after site data was cleared, nothing
  // moved: never open, and so create, another database).
  const where = await readPointer();
  if (!where || !live || sameLocation(where, live)) return false;
  // Never from the demo into the practice's records or back (another tab opened or removed
  // the demo): what this tab shows, and what is typed into it, belongs where it was read.
  if (sameLocation(where, DEMO) !== isDemo()) {
    crossed = true; // the page is told (no "closed" banner): nothing is written elsewhere
    practiceSwitched(sameLocation(where, DEMO));
    return false;
  }
  const handle = await connect(where);
  const old = db;
  db = handle;
  live = where;
  old?.close();
  watchClose();
  await readCryptoState();
  if (enabled() && !dataKey) dispatchEvent(new CustomEvent("medex:locked"));
  return true;
}

// This tab's connection was closed by someone else: follow the records if they moved, else
// tell the page (`eventName`) as before.
function lostConnection(eventName) {
  follow().then(
    (moved) => { if (!moved && !crossed) dispatchEvent(new CustomEvent(eventName)); },
    () => dispatchEvent(new CustomEvent(eventName)),
  );
}

// -- this tab's view of encryption, as the live database stores it ------------------------------
export async function readCryptoState() {
  if (move) return; // this tab is turning encryption on: its view is the one that will be live
  const [enc, meta] = await db.transaction("r", db.meta, async () => [
    (await db.meta.get("encryption"))?.value || { state: "off" },
    (await db.meta.get("crypto"))?.value || null,
  ]);
  adoptCryptoState(enc, meta);
}

// Another tab changed encryption (or this tab's write found it changed): take the stored
// state; if the records now need a key this tab does not hold, the page locks.
export async function reloadCryptoState() {
  await readCryptoState();
  if (encryption.state === "moved" && (await follow())) return; // the records moved: follow them
  if (enabled() && !dataKey) dispatchEvent(new CustomEvent("medex:locked"));
}

// The raw connection's "close" event fires only when the browser closes it by itself (never on
// db.close()): after a storage error, or when the site's data was cleared.
function watchClose() {
  const handle = db;
  const connection = db.backendDB();
  if (connection) connection.addEventListener("close", () => {
    if (handle === db) lostConnection("medex:storage-closed"); // unless the records moved
  });
}

// After the browser closed the database: reopen it for reading (the backup export) only if it
// still exists; never create an empty one. The app stays read-only until a reload.
// A connection Dexie still thinks open may belong to a database the browser has dropped (site
// data cleared): the database's existence is checked first.
export async function reopenForReading() {
  if (live.bucket && !(bucketsSupported() && (await navigator.storageBuckets.keys()).includes(live.bucket))) return false;
  const factory = await factoryFor(live);
  const existing = factory.databases ? await factory.databases() : [];
  if (!existing.some((info) => info.name === live.name)) return false;
  if (db.isOpen()) return true;
  await db.open();
  watchClose();
  return true;
}

// -- the move into a fresh database (turning encryption on) -------------------------------------
export let move = null; // {where, target, release, key, crypto, copied: Set}

function newLocation() {
  const generation = (live.generation || 0) + 1;
  const suffix = [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return bucketsSupported()
    ? { bucket: `medex-g${generation}-${suffix}`, name: DB_NAME, generation }
    : { bucket: null, name: `${DB_NAME}-g${generation}-${suffix}`, generation };
}

export async function startMove(release, key, wrapped) {
  if (sameLocation(live, DEMO)) throw new Error("The demo practice cannot be encrypted");
  const where = newLocation(); // a name never used before: nothing stale can be in it
  const p = pointers();
  // Listed as stale BEFORE it exists: if this tab dies mid-copy, the next start deletes it.
  await p.transaction("rw", p.pointer, () => p.pointer.put({ key: `stale:${locationId(where)}`, ...where }));
  const target = await connect(where);
  move = { where, target, release, key, crypto: wrapped, copied: new Set() };
}

// Drop a move that failed: the live database was never changed; the partial copy is deleted.
export async function abortMove() {
  const failed = move;
  if (!failed) return;
  move = null;
  failed.target.close();
  await readCryptoState().catch(() => {});
  try {
    await tidyUpNow(failed.where);
  } finally {
    failed.release();
  }
}

// Copy one store of the live database into the move's target, sealed (audit entries and the
// plain meta values as they are): one read transaction there, one write transaction here.
export async function copyStore(store) {
  const stored = await db.table(store).toArray();
  const rows = isBucketed(store) ? unbucketed(stored) : stored; // sealed one by one (buckets.js)
  const out = [];
  for (const row of rows) {
    if (store === "audit") out.push(row);
    else if (store === "meta") {
      if (row.key !== "encryption" && row.key !== "crypto") out.push(await sealMeta(row, move.key));
    } else out.push(await sealDoc(store, row, move.key));
  }
  const table = move.target.table(store);
  await move.target.transaction("rw", table, () => table.bulkPut(out));
  move.copied.add(store);
  return out.length;
}

// The switch: the complete copy becomes live (one durable write to the pointer database: the
// commit point), the old database is marked "moved" (a write that reached it after all is
// refused there and follows), the other tabs are told, then the old database is deleted
// (deleting a storage bucket deletes its files).
export async function finishMove() {
  for (const table of db.tables) if (!move.copied.has(table.name)) await copyStore(table.name);
  const { target, where } = move;
  await target.transaction("rw", target.meta, async () => {
    await target.meta.put({ key: "crypto", value: move.crypto });
    await target.meta.put({ key: "encryption", value: { state: "on" } });
  });
  const old = { handle: db, where: live };
  const p = pointers();
  await p.transaction("rw", p.pointer, async () => {
    await p.pointer.put({ key: "live", ...where, at: Date.now() });
    await p.pointer.delete(`stale:${locationId(where)}`);
    await p.pointer.put({ key: `stale:${locationId(old.where)}`, ...old.where });
  });
  const done = move;
  move = null;
  db = target;
  live = where;
  watchClose();
  setEncryption({ state: "on" });
  setCryptoMeta(done.crypto);
  try {
    await old.handle.transaction("rw", old.handle.meta, () => old.handle.meta.put({ key: "encryption", value: { state: "moved" } }));
  } catch {
    // already closed by the browser: it is deleted below or at the next start
  }
  announceCrypto("moved");
  old.handle.close();
  try {
    await tidyUpNow(old.where);
  } finally {
    done.release();
  }
}

// Delete a stale database (never the live one) and its "stale" row.
async function tidyUpNow(where) {
  const current = (await readPointer()) || LEGACY;
  if (!sameLocation(where, current)) await dropDatabase(where);
  const p = pointers();
  await p.transaction("rw", p.pointer, () => p.pointer.delete(`stale:${locationId(where)}`));
}

// -- the demo practice -------------------------------------------------------------------------
// "Try it with a demo practice" opens a database of its own (DEMO); the pointer database's row
// "demo" says so to every tab that starts meanwhile (readPointer). Leaving it deletes that
// database and reopens the practice's own records, which the demo never touched.
// Returns {demo} of the database now open.
export async function openPracticeNow(demo) {
  const p = pointers();
  const old = db;
  const oldWhere = live;
  await p.transaction("rw", p.pointer, () => (demo ? p.pointer.put({ key: "demo", ...DEMO }) : p.pointer.delete("demo")));
  const where = demo ? DEMO : await findLive();
  db = await connect(where);
  live = where;
  if (old && old !== db) old.close();
  watchClose();
  await readCryptoState();
  switchedTo = null;
  if (!demo && oldWhere && sameLocation(oldWhere, DEMO)) await dropDatabase(DEMO);
  practiceChannel?.postMessage({ demo });
  return JSON.stringify({ demo: sameLocation(live, DEMO) });
}
export const isDemo = () => sameLocation(live, DEMO);

// The other tabs, told (practiceChannel) that this one opened or removed the demo, do not
// follow by themselves: each keeps the records it reads and writes (a form typed for the
// practice is never saved into the demo, nor a demo form into the practice) and the page says
// what happened, with a reload (shell.py on_practice_switched). A tab whose database was the
// removed demo's has nothing left to read. Event detail: {demo: the practice now open
// elsewhere, differs: whether this tab shows the other one}.
const practiceChannel = typeof BroadcastChannel === "function" ? new BroadcastChannel("medex-practice-switch") : null;
let switchedTo = null; // the practice another tab switched to, while it differs from this tab's
let crossed = false; // this tab's database was closed because the other practice opened

function practiceSwitched(demo) {
  const differs = demo !== isDemo();
  if (differs && switchedTo === demo) return; // told already (message, then closed connection)
  switchedTo = differs ? demo : null;
  dispatchEvent(new CustomEvent("medex:practice-switched", { detail: JSON.stringify({ demo, differs }) }));
}

if (practiceChannel) {
  practiceChannel.onmessage = (event) => {
    if (db && live) practiceSwitched(Boolean(event.data?.demo));
  };
}
