// The IndexedDB facade: the only place that talks to IndexedDB (through Dexie).
// Every call is one transaction taking and returning plain JSON text (or undefined, which
// Python sees as None), so Python never holds
// a transaction open across an await and no JS objects cross into Python.
import Dexie from "../%DEXIE%";

const DB_NAME = "medex-practice";
// One store per record type, keyed by id, with the few indexes the screens query by; `meta`
// holds small settings by key. {version: {store: "key, index, …"}}, written by build.py from
// the registry of stored record types (site/py/medex/stores.py): add a store there, not here.
const SCHEMA = %INDEXEDDB_SCHEMA%;

let db = null;

// -- Encryption at rest (optional) ------------------------------------------------------------
// A random 256-bit data key encrypts every record (AES-GCM, fresh 96-bit IV per write, the
// store and record id as additional data). It is wrapped by a key derived from the passphrase
// (PBKDF2-SHA256) and, separately, from a printable recovery key; both wrappings live in meta
// "crypto" as versioned envelopes {v, kdf, params, salt, iv, ct}. Unwrapped, the data key is a
// non-extractable CryptoKey held only in this module's memory; lock() drops it.
// A sealed record keeps its id and the indexed fields (ids and a status word: no client
// content) in clear so the indexes work; everything else is in `_enc: {v, iv, ct}`.
// Meta values are sealed the same way, except the few below that must be read while locked.
const PLAIN_META = new Set(["crypto", "encryption", "persist_requested", "versions", "idle_minutes"]);
const PBKDF2_ITERATIONS = 600000;
const te = new TextEncoder();
const td = new TextDecoder();
let dataKey = null;
let encryption = { state: "off" }; // off | encrypting | on | decrypting (meta "encryption")
let cryptoMeta = null; // meta "crypto": {passphrase: envelope, recovery: envelope}
const LATEST = SCHEMA[Math.max(...Object.keys(SCHEMA).map(Number))];
const INDEXED = Object.fromEntries(
  Object.entries(LATEST).map(([store, spec]) => [store, spec.split(",").slice(1).map((f) => f.trim()).filter(Boolean)]),
);

function b64(bytes) {
  bytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function unb64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const STORAGE_FIELDS = ["_rev", "_signed"];
// A stored document is signed (so no guarded write may change or delete it): the marker the
// write path sets, or a signature field of a document written before the marker existed
// (the same rule as medex.revisions.is_signed_doc).
const SIGN_FIELDS = ["signed_at", "signature", "signed_on", "signature_svg", "signed_by"];
const isSignedDoc = (doc) => doc !== undefined && (doc._signed === true || SIGN_FIELDS.some((f) => doc[f]));

const sealing = () => encryption.state === "on" || encryption.state === "encrypting";
const enabled = () => encryption.state !== "off";

function requireKey() {
  if (!dataKey) throw new Error("MEDEX_LOCKED: MedEx Practice is locked. Unlock it with your passphrase.");
}

function requireOpen() {
  if (enabled()) requireKey();
}

async function encryptBytes(key, plain, aad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: te.encode(aad) }, key, plain);
  return { v: 1, iv: b64(iv), ct: b64(ct) };
}

async function decryptBytes(key, box, aad) {
  return crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(box.iv), additionalData: te.encode(aad) }, key, unb64(box.ct));
}

// `key`: seal with this key whatever this tab's state (copying into a fresh database).
async function sealDoc(store, doc, key = null) {
  if (doc._enc || (!key && !sealing())) return doc;
  if (!key) requireKey();
  const sealed = { id: doc.id, _enc: await encryptBytes(key || dataKey, te.encode(JSON.stringify(doc)), `${store}:${doc.id}`) };
  for (const field of INDEXED[store] || []) if (field in doc) sealed[field] = doc[field];
  // The revision and the signed marker stay readable: the write transaction checks them.
  for (const field of STORAGE_FIELDS) if (field in doc) sealed[field] = doc[field];
  return sealed;
}

async function openDoc(store, doc) {
  if (doc === undefined || !doc._enc) return doc;
  requireKey();
  return JSON.parse(td.decode(await decryptBytes(dataKey, doc._enc, `${store}:${doc.id}`)));
}

async function sealMeta(row, key = null) {
  if (PLAIN_META.has(row.key) || row._enc || (!key && !sealing())) return row;
  if (!key) requireKey();
  return { key: row.key, _enc: await encryptBytes(key || dataKey, te.encode(JSON.stringify(row.value)), `meta:${row.key}`) };
}

async function openMeta(row) {
  if (row === undefined || !row._enc) return row;
  requireKey();
  return { key: row.key, value: JSON.parse(td.decode(await decryptBytes(dataKey, row._enc, `meta:${row.key}`))) };
}

const openDocs = (store, docs) => Promise.all(docs.map((d) => openDoc(store, d)));

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
let live = null; // {bucket, name, generation} of `db`
let pointerDb = null;
let following = null; // a running follow()
const bucketsSupported = () => Boolean(globalThis.navigator?.storageBuckets);
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
function withLock(mode, fn) {
  if (!globalThis.navigator?.locks) return fn();
  return navigator.locks.request(MOVE_LOCK, { mode }, fn);
}

// The exclusive lock, held until the returned function is called (a move spans several calls).
async function holdMoveLock() {
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
  encryption = (await db.meta.get("encryption"))?.value || { state: "off" };
  cryptoMeta = (await db.meta.get("crypto"))?.value || null;
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
function follow() {
  if (!following) following = followLive().finally(() => { following = null; });
  return following;
}

async function followLive() {
  // Only a pointer names a new home (without one, e.g. after site data was cleared, nothing
  // moved: never open, and so create, another database).
  const where = await readPointer();
  if (!where || !live || sameLocation(where, live)) return false;
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
    (moved) => { if (!moved) dispatchEvent(new CustomEvent(eventName)); },
    () => dispatchEvent(new CustomEvent(eventName)),
  );
}

// -- one cross-tab truth for encryption --------------------------------------------------------
// Every tab keeps its own copy of the encryption state and of the unwrapped key. Each write
// compares that copy with what is stored (writeNow); a change made here is announced to the
// other tabs, which reload theirs; "Lock" locks every tab; activity in any tab keeps the others
// from auto-locking.
const keyIdentity = (meta) => meta?.recovery?.ct || meta?.passphrase?.ct || "";
const cryptoView = (enc, meta) => `${enc?.state || "off"}|${keyIdentity(meta)}`;
const cryptoChannel = new BroadcastChannel("medex-practice-crypto");

async function readCryptoState() {
  if (move) return; // this tab is turning encryption on: its view is the one that will be live
  const [enc, meta] = await db.transaction("r", db.meta, async () => [
    (await db.meta.get("encryption"))?.value || { state: "off" },
    (await db.meta.get("crypto"))?.value || null,
  ]);
  const sameKey = keyIdentity(meta) === keyIdentity(cryptoMeta);
  encryption = enc;
  cryptoMeta = meta;
  if (!sameKey || !enabled()) dataKey = null;
}

// Another tab changed encryption (or this tab's write found it changed): take the stored
// state; if the records now need a key this tab does not hold, the page locks.
async function reloadCryptoState() {
  await readCryptoState();
  if (encryption.state === "moved" && (await follow())) return; // the records moved: follow them
  if (enabled() && !dataKey) dispatchEvent(new CustomEvent("medex:locked"));
}

function announceCrypto(type) {
  cryptoChannel.postMessage({ type, at: Date.now() });
}

cryptoChannel.onmessage = (event) => {
  const message = event.data || {};
  if (message.type === "lock") {
    if (dataKey) {
      dataKey = null;
      dispatchEvent(new CustomEvent("medex:locked"));
    }
  } else if (message.type === "changed") {
    // (a failure here is a closed connection: its own handler tells the page)
    if (db) reloadCryptoState().catch(() => {});
  } else if (message.type === "moved") {
    // another tab turned encryption on: the records are in a new database
    if (db) follow().catch(() => {});
  } else if (message.type === "active") {
    lastActivity = Math.max(lastActivity, Number(message.at) || 0);
  }
};

// Writes made in this tab are announced to the app's other tabs (their caches go stale).
const changes = new BroadcastChannel("medex-practice-writes");
export function onOtherTabWrites(callback) {
  changes.onmessage = (event) => callback(JSON.stringify(event.data));
}

async function getNow(store, id) {
  requireOpen();
  const doc = await openDoc(store, await db.table(store).get(id));
  return doc === undefined ? undefined : JSON.stringify(doc);
}

async function getAllNow(store) {
  requireOpen();
  return JSON.stringify(await openDocs(store, await db.table(store).toArray()));
}

// Only some top-level fields of every record (e.g. the dashboard's view of 50,000 session
// logs: dates, attendance, signature, flags), so Python parses a fraction of the store.
async function projectNow(store, fieldsJson) {
  requireOpen();
  const fields = JSON.parse(fieldsJson);
  const docs = await openDocs(store, await db.table(store).toArray());
  return JSON.stringify(docs.map((doc) => Object.fromEntries(fields.filter((f) => f in doc).map((f) => [f, doc[f]]))));
}

// All records of a store whose indexed field equals value (e.g. a client's session logs).
async function whereNow(store, field, value) {
  requireOpen();
  return JSON.stringify(await openDocs(store, await db.table(store).where(field).equals(value).toArray()));
}

async function sealOp(op) {
  if ("delete" in op) return op;
  if (op.store === "meta") return { ...op, doc: await sealMeta(op.doc) };
  if (op.store === "audit") return op;
  return { ...op, doc: await sealDoc(op.store, op.doc) };
}

// ops: [{store, doc}] to put, [{store, delete: id}] to delete; all in one transaction.
// audit (optional): {expect: seq of the last audit entry the caller chained from (0 = none),
// entries: [...]}: appended in the same transaction. If another tab appended meanwhile, the
// whole write is refused (MEDEX_AUDIT_MOVED) and the caller re-chains and tries again.
// Records are encrypted before the transaction starts (WebCrypto is not an IndexedDB request).
export async function write(opsJson, auditJson) {
  try {
    return await withLock("shared", () => writeNow(opsJson, auditJson));
  } catch (e) {
    throw plainError(e);
  }
}

// Dexie's errors carry lazy getters and inner errors; Python gets a plain Error whose name
// and message say what happened (QuotaExceededError, MEDEX_AUDIT_MOVED, MEDEX_LOCKED). The real
// causes Dexie wraps (an AbortError around a QuotaExceededError or UnknownError, a BulkError's
// failures) are listed at the end as "[causes: AbortError < QuotaExceededError]", so Python can
// tell full or failing storage (medex.storage.is_storage_failure) from the app's own refusals.
function errorCauses(e) {
  const names = [];
  const seen = new Set();
  const visit = (x, depth) => {
    if (!x || typeof x !== "object" || seen.has(x) || depth > 6) return;
    seen.add(x);
    if (x.name) names.push(String(x.name));
    visit(x.inner, depth + 1);
    for (const failure of Object.values(x.failuresByPos || x.failures || {})) visit(failure, depth + 1);
  };
  visit(e, 0);
  return names;
}

function plainError(e) {
  const causes = errorCauses(e);
  const listed = causes.length > 1 ? ` [causes: ${causes.join(" < ")}]` : "";
  const err = new Error(`${e?.name || "Error"}: ${e?.message || e}${listed}`);
  err.name = String(e?.name || "Error");
  return err;
}

// Inside the transaction, before anything is written, every op is checked against what is
// stored now: `expect` (the revision the tab read: "" = never stored, or stored before
// revisions) → MEDEX_STALE; `guard` and the stored document is signed → MEDEX_SIGNED. And this
// tab's view of encryption must still be the stored one (another tab may have turned it on or
// off, or re-keyed): else nothing is written, the view is reloaded and the write sealed again
// (or refused with MEDEX_LOCKED when the records now need a key this tab does not have).
async function writeNow(opsJson, auditJson) {
  const plainOps = JSON.parse(opsJson);
  const audit = auditJson ? JSON.parse(auditJson) : null;
  let followed = false;
  for (let attempt = 0; ; attempt++) {
    if (following) await following; // the records are moving to another database: write there
    requireOpen();
    const ops = await Promise.all(plainOps.map(sealOp));
    const stores = new Set(ops.map((op) => op.store));
    if (audit) stores.add("audit");
    stores.add("meta");
    const view = cryptoView(encryption, cryptoMeta);
    try {
      await db.transaction("rw", [...stores], async () => {
        const now = cryptoView((await db.meta.get("encryption"))?.value, (await db.meta.get("crypto"))?.value);
        if (now !== view) throw new Error("MEDEX_CRYPTO_CHANGED: encryption was changed in another tab");
        if (audit) {
          const last = await db.audit.orderBy("seq").last();
          const seq = last ? last.seq : 0;
          if (seq !== audit.expect) throw new Error(`MEDEX_AUDIT_MOVED: expected ${audit.expect}, found ${seq}`);
        }
        for (const op of ops) {
          if (op.store === "meta" || op.store === "audit" || !("expect" in op || op.guard)) continue;
          const id = "delete" in op ? op.delete : op.doc.id;
          const current = await db.table(op.store).get(id);
          if ("expect" in op && (current?._rev || "") !== op.expect) throw new Error(`MEDEX_STALE ${op.store} ${id}`);
          if (op.guard && isSignedDoc(current)) throw new Error(`MEDEX_SIGNED ${op.store} ${id}`);
        }
        for (const op of ops) {
          if ("delete" in op) await db.table(op.store).delete(op.delete);
          else await db.table(op.store).put(op.doc);
        }
        if (audit && audit.entries.length) await db.audit.bulkPut(audit.entries);
      });
    } catch (e) {
      // This tab's connection was closed because the records moved (encryption turned on in
      // another tab, which deleted the old database): follow them and write there.
      if (e?.name === "DatabaseClosedError" && !followed && (await follow())) {
        followed = true;
        continue;
      }
      if (String(e?.message || e).includes("MEDEX_CRYPTO_CHANGED") && attempt === 0) {
        await reloadCryptoState();
        continue; // sealed again under the stored view (or refused: locked)
      }
      if (String(e?.message || e).includes("MEDEX_CRYPTO_CHANGED")) await reloadCryptoState();
      throw e;
    }
    changes.postMessage([...stores].filter((s) => s !== "meta" || plainOps.some((op) => op.store === "meta")));
    return ops.length;
  }
}

// The last audit entry (the one the next entry chains from), or undefined.
async function lastAuditNow() {
  const last = await db.audit.orderBy("seq").last();
  return last === undefined ? undefined : JSON.stringify(last);
}

async function getAuditNow() {
  return JSON.stringify(await db.audit.orderBy("seq").toArray());
}

// Every store, the audit log and meta in one read transaction, decrypted:
// {"stores": {store: [doc]}, "audit": [entry], "meta": {key: value}}.
async function exportAllNow() {
  requireOpen();
  const raw = {};
  await db.transaction("r", db.tables, async () => {
    for (const table of db.tables) raw[table.name] = await table.toArray();
  });
  const out = { stores: {}, audit: raw.audit || [], meta: {} };
  for (const [store, docs] of Object.entries(raw)) {
    if (store === "audit") continue;
    if (store === "meta") {
      for (const row of docs) {
        const opened = await openMeta(row);
        out.meta[opened.key] = opened.value;
      }
    } else out.stores[store] = await openDocs(store, docs);
  }
  return JSON.stringify(out);
}

async function getMetaNow(key) {
  if (!PLAIN_META.has(key)) requireOpen();
  const row = await openMeta(await db.meta.get(key));
  return row === undefined ? undefined : JSON.stringify(row.value);
}

// Every meta value whose key starts with prefix, as {key: value} (a tab's drafts, one per form).
async function metaWithPrefixNow(prefix) {
  requireOpen();
  const rows = await db.meta.where("key").startsWith(prefix).toArray();
  const out = {};
  for (const row of rows) {
    const opened = await openMeta(row);
    out[opened.key] = opened.value;
  }
  return JSON.stringify(out);
}

export async function setMeta(key, valueJson) {
  try {
    await withLock("shared", () => setMetaNow(key, valueJson));
  } catch (e) {
    throw plainError(e);
  }
}

async function setMetaNow(key, valueJson, followed = false) {
  if (following) await following;
  if (!PLAIN_META.has(key)) requireOpen();
  const value = JSON.parse(valueJson);
  const row = value === null ? null : await sealMeta({ key, value });
  try {
    // An explicit transaction resolves once it has committed (durably: "strict"); a bare put
    // resolves at the request's success, before the commit, and is lost if the browser dies.
    await db.transaction("rw", db.meta, async () => {
      // Never into a database whose records moved to a new one (it is about to be deleted).
      if ((await db.meta.get("encryption"))?.value?.state === "moved") throw new Error("MEDEX_MOVED");
      if (row === null) await db.meta.delete(key);
      else await db.meta.put(row);
    });
  } catch (e) {
    const moved = e?.name === "DatabaseClosedError" || String(e?.message || e).includes("MEDEX_MOVED");
    if (moved && !followed && (await follow())) return setMetaNow(key, valueJson, true);
    throw e;
  }
}

// -- passphrase, key wrapping, lock -----------------------------------------------------------

async function deriveKek(secret, salt, iterations) {
  const base = await crypto.subtle.importKey("raw", te.encode(secret), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
  );
}

async function wrapEnvelope(key, secret) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const kek = await deriveKek(secret, salt, PBKDF2_ITERATIONS);
  const ct = await crypto.subtle.wrapKey("raw", key, kek, { name: "AES-GCM", iv });
  return { v: 1, kdf: "PBKDF2-SHA256", params: { iterations: PBKDF2_ITERATIONS, hash: "SHA-256" }, salt: b64(salt), iv: b64(iv), ct: b64(ct) };
}

async function unwrapEnvelope(envelope, secret, extractable) {
  const kek = await deriveKek(secret, unb64(envelope.salt), envelope.params.iterations);
  try {
    return await crypto.subtle.unwrapKey("raw", unb64(envelope.ct), kek, { name: "AES-GCM", iv: unb64(envelope.iv) }, { name: "AES-GCM" }, extractable, ["encrypt", "decrypt"]);
  } catch {
    return null;
  }
}

function newRecoveryKey() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O, 1/I
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const chars = [...bytes].map((b) => alphabet[b % 32]).join("");
  return chars.match(/.{4}/g).join("-");
}

const normaliseRecovery = (text) => text.toUpperCase().replace(/[^A-Z0-9]/g, "").match(/.{1,4}/g)?.join("-") || "";

async function putPlainMeta(key, value) {
  // Inside a caller's transaction this joins it; alone it waits for its own commit.
  await db.transaction("rw", db.meta, () => db.meta.put({ key, value }));
}

// {"enabled", "locked", "state"}: what the shell needs before reading anything.
export function cryptoStatus() {
  return JSON.stringify({ enabled: enabled(), locked: enabled() && !dataKey, state: encryption.state });
}

// Turn encryption on: make the data key, wrap it twice, and start a move into a fresh database
// (startMove). The caller then calls migrateStore for every store (each is copied, sealed) and
// finishMigration (the switch). Returns the recovery key. Until the switch the live database
// is untouched and says "off" (this tab alone says "encrypting"): if the tab dies meanwhile,
// encryption simply is not on, and nothing is lost.
async function setupEncryptionNow(passphrase) {
  if (move) throw new Error("Encryption is being turned on already.");
  const release = await holdMoveLock(); // no write runs in any tab until the switch
  try {
    await follow();
    await readCryptoState(); // the live database's state, not this tab's memory of it
    if (enabled()) throw new Error("Encryption is already on.");
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    const recovery = newRecoveryKey();
    const wrapped = { passphrase: await wrapEnvelope(key, passphrase), recovery: await wrapEnvelope(key, recovery) };
    // Only the non-extractable copy is kept.
    const dataKeyNow = await unwrapEnvelope(wrapped.passphrase, passphrase, false);
    await startMove(release, dataKeyNow, wrapped);
    cryptoMeta = wrapped;
    dataKey = dataKeyNow;
    encryption = { state: "encrypting" };
    return recovery;
  } catch (e) {
    if (!move) release();
    throw e;
  }
}

// -- the move into a fresh database (turning encryption on) -------------------------------------
let move = null; // {where, target, release, key, crypto, copied: Set}

function newLocation() {
  const generation = (live.generation || 0) + 1;
  const suffix = [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return bucketsSupported()
    ? { bucket: `medex-g${generation}-${suffix}`, name: DB_NAME, generation }
    : { bucket: null, name: `${DB_NAME}-g${generation}-${suffix}`, generation };
}

async function startMove(release, key, wrapped) {
  const where = newLocation(); // a name never used before: nothing stale can be in it
  const p = pointers();
  // Listed as stale BEFORE it exists: if this tab dies mid-copy, the next start deletes it.
  await p.transaction("rw", p.pointer, () => p.pointer.put({ key: `stale:${locationId(where)}`, ...where }));
  const target = await connect(where);
  move = { where, target, release, key, crypto: wrapped, copied: new Set() };
}

// Drop a move that failed: the live database was never changed; the partial copy is deleted.
async function abortMove() {
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
async function copyStore(store) {
  const rows = await db.table(store).toArray();
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
async function finishMove() {
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
  encryption = { state: "on" };
  cryptoMeta = done.crypto;
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

async function startDecryptionNow() {
  requireKey();
  encryption = { state: "decrypting" };
  await putPlainMeta("encryption", encryption);
  announceCrypto("changed");
}

// The stores (meta included) a migration run converts, one transaction each.
export function migrationStores() {
  return JSON.stringify(db.tables.map((t) => t.name).filter((n) => n !== "audit"));
}

// Convert one whole store to the run's target (sealed or plain) in ONE transaction, so a store
// is never half-converted. Records changed by another write since they were read are left as
// that write made them (writes during a run already use the target form). Idempotent, so an
// interrupted run simply resumes.
async function migrateStoreNow(store) {
  if (move || encryption.state === "encrypting") {
    // Turning encryption on (or an in-place run of an older version, interrupted): copy into
    // a fresh database. The stores already sealed in place stay as they are there.
    if (!move) {
      requireKey();
      const release = await holdMoveLock();
      try {
        await follow(); // another tab may have finished this run meanwhile
        await readCryptoState();
        if (encryption.state !== "encrypting" || !dataKey) {
          release();
          return 0;
        }
        await startMove(release, dataKey, cryptoMeta);
      } catch (e) {
        if (!move) release();
        throw e;
      }
    }
    try {
      return await copyStore(store);
    } catch (e) {
      await abortMove();
      throw e;
    }
  }
  requireKey();
  const toSealed = encryption.state === "encrypting";
  if (!toSealed && encryption.state !== "decrypting") return 0;
  const table = db.table(store);
  const key = table.schema.primKey.keyPath;
  const before = await table.toArray();
  const changed = [];
  for (const row of before) {
    if (Boolean(row._enc) === toSealed) continue;
    let next;
    if (store === "meta") next = toSealed ? await sealMeta(row) : await openMeta(row);
    else next = toSealed ? await sealDoc(store, row) : await openDoc(store, row);
    if (next !== row) changed.push([JSON.stringify(row), next]);
  }
  await db.transaction("rw", table, async () => {
    for (const [was, next] of changed) {
      const now = await table.get(next[key]);
      if (now !== undefined && JSON.stringify(now) === was) await table.put(next);
    }
  });
  return changed.length;
}

async function finishMigrationNow() {
  if (move) {
    try {
      await finishMove();
    } catch (e) {
      if (move) await abortMove(); // not switched: the old database is live and complete
      throw e;
    }
    announceCrypto("changed");
    return encryption.state;
  }
  requireKey();
  if (encryption.state === "encrypting") {
    encryption = { state: "on" };
    await putPlainMeta("encryption", encryption);
  } else if (encryption.state === "decrypting") {
    encryption = { state: "off" };
    cryptoMeta = null;
    await db.transaction("rw", db.meta, async () => {
      await putPlainMeta("encryption", encryption);
      await db.meta.delete("crypto");
    });
    dataKey = null;
  }
  announceCrypto("changed");
  return encryption.state;
}

// Unlock with the passphrase or the recovery key: true, or false when it does not fit
// (nothing is touched either way).
export async function unlock(secret) {
  await readCryptoState(); // another tab may have turned encryption on, off or re-keyed it
  if (!cryptoMeta) return true;
  let key = await unwrapEnvelope(cryptoMeta.passphrase, secret, false);
  if (!key && cryptoMeta.recovery) key = await unwrapEnvelope(cryptoMeta.recovery, normaliseRecovery(secret), false);
  if (!key) return false;
  dataKey = key;
  lastActivity = Date.now();
  return true;
}

// Re-wrap the data key under a new passphrase (the records are not touched).
async function changePassphraseNow(oldSecret, newSecret) {
  if (!cryptoMeta) return false;
  const key = await unwrapEnvelope(cryptoMeta.passphrase, oldSecret, true);
  if (!key) return false;
  cryptoMeta = { ...cryptoMeta, passphrase: await wrapEnvelope(key, newSecret) };
  await putPlainMeta("crypto", cryptoMeta);
  announceCrypto("changed");
  return true;
}

// Lock this tab and every other open tab of the app.
export function lock() {
  if (!enabled()) return false;
  dataKey = null;
  announceCrypto("lock");
  dispatchEvent(new CustomEvent("medex:locked"));
  return true;
}

let lastActivity = Date.now();
let lastAnnounced = 0;
let idleTimer = null;
// Lock after `minutes` without a tap or key press (0 turns auto-lock off).
export function setIdleLock(minutes) {
  if (idleTimer === null) {
    for (const kind of ["pointerdown", "keydown", "input", "wheel"]) {
      addEventListener(kind, () => {
        const now = Date.now();
        if (now - lastAnnounced > 10000) {
          lastAnnounced = now;
          announceCrypto("active"); // the other tabs do not auto-lock while this one is used
        }
        lastActivity = now;
      }, { capture: true, passive: true });
    }
  }
  clearInterval(idleTimer);
  idleTimer = setInterval(() => {
    if (minutes > 0 && dataKey && enabled() && Date.now() - lastActivity > minutes * 60000) lock();
  }, Math.min(15000, Math.max(1000, minutes * 60000 / 4)));
}

// -- backup files -----------------------------------------------------------------------------

const BACKUP_AAD = "medex-practice-backup";

// The backup text encrypted with a key derived from the passphrase, as the backup file text.
export async function encryptBackup(text, passphrase) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const kek = await deriveKek(passphrase, salt, PBKDF2_ITERATIONS);
  const box = await encryptBytes(kek, te.encode(text), BACKUP_AAD);
  return JSON.stringify({
    format: "medex-practice-backup",
    format_version: 1,
    encrypted: true,
    envelope: { v: 1, kdf: "PBKDF2-SHA256", params: { iterations: PBKDF2_ITERATIONS, hash: "SHA-256" }, salt: b64(salt), iv: box.iv, ct: box.ct },
  });
}

// The plain backup text inside an encrypted backup file, or undefined for a wrong passphrase
// (or a damaged envelope).
export async function decryptBackup(fileText, passphrase) {
  try {
    const env = JSON.parse(fileText).envelope;
    if (!env || env.v !== 1 || env.kdf !== "PBKDF2-SHA256") return undefined;
    const iterations = Number(env.params?.iterations);
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10000000) return undefined;
    const kek = await deriveKek(passphrase, unb64(env.salt), iterations);
    return td.decode(await decryptBytes(kek, env, BACKUP_AAD));
  } catch {
    return undefined;
  }
}

// Offer text as a file download (no network: a Blob URL and a.download).
export function download(filename, text, mime) {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// The text of the file picked in an <input type=file>.
export async function readText(file) {
  return await file.text();
}

export async function storageInfo() {
  const info = { persisted: null, usage: null, quota: null, supported: Boolean(navigator.storage) };
  if (navigator.storage) {
    if (navigator.storage.persisted) info.persisted = await navigator.storage.persisted();
    if (navigator.storage.estimate) {
      const estimate = await navigator.storage.estimate();
      info.usage = estimate.usage ?? null;
      info.quota = estimate.quota ?? null;
    }
  }
  return JSON.stringify(info);
}

// Firefox holds persist()'s promise until the person answers its permission prompt: the
// answer is awaited for a few seconds at most (the prompt stays; Settings shows the outcome).
const PERSIST_WAIT_MS = 3000;

export async function requestPersist() {
  if (!navigator.storage || !navigator.storage.persist) return false;
  const asked = navigator.storage.persist();
  const granted = await Promise.race([asked, new Promise((resolve) => setTimeout(() => resolve(false), PERSIST_WAIT_MS))]);
  if (granted && live?.bucket && bucketsSupported()) {
    // The records' own bucket (its persistence is its own; the default bucket's is above).
    try {
      await (await navigator.storageBuckets.open(live.bucket)).persist();
    } catch {
      // best effort: the bucket was opened with persisted: true already
    }
  }
  return granted;
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
export async function reopenForReading() {
  if (db.isOpen()) return true;
  if (live.bucket && !(bucketsSupported() && (await navigator.storageBuckets.keys()).includes(live.bucket))) return false;
  const factory = await factoryFor(live);
  const existing = factory.databases ? await factory.databases() : [];
  if (!existing.some((info) => info.name === live.name)) return false;
  await db.open();
  watchClose();
  return true;
}

// Read an image file the practitioner picked and return it as a PNG data URL, scaled down
// to fit max×max (a logo for the letterhead does not need a 12-megapixel photo).
export async function imageToDataUrl(file, max) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, max / Math.max(bitmap.width, bitmap.height));
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await canvas.convertToBlob({ type: "image/png" });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:image/png;base64,${btoa(binary)}`;
}

// Every call Python awaits rejects with a plain Error (see plainError).
const guarded = (fn) => async (...args) => {
  try {
    return await fn(...args);
  } catch (e) {
    throw plainError(e);
  }
};
export const get = guarded(getNow);
export const getAll = guarded(getAllNow);
export const project = guarded(projectNow);
export const where = guarded(whereNow);
export const lastAudit = guarded(lastAuditNow);
export const getAudit = guarded(getAuditNow);
export const exportAll = guarded(exportAllNow);
export const getMeta = guarded(getMetaNow);
export const metaWithPrefix = guarded(metaWithPrefixNow);
export const setupEncryption = guarded(setupEncryptionNow);
export const startDecryption = guarded(startDecryptionNow);
export const migrateStore = guarded(migrateStoreNow);
export const finishMigration = guarded(finishMigrationNow);
export const changePassphrase = guarded(changePassphraseNow);

// For js/signing.js (the practice signing key, sealed with the data key while encryption is
// on): the unlocked data key, a non-extractable AES-GCM CryptoKey, or null.
export const currentDataKey = () => dataKey;
