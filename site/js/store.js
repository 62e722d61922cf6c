// The IndexedDB facade: the only place that talks to IndexedDB (through Dexie).
// Every call is one transaction taking and returning plain JSON text (or undefined, which
// Python sees as None), so Python never holds
// a transaction open across an await and no JS objects cross into Python.
import Dexie from "../%DEXIE%";

const DB_NAME = "medex-practice";
// One store per record type, keyed by id; `meta` holds small settings by key.
// Bump the version (and add a line) when a store or an index is added.
// Record stores are keyed by id; the second field on is an index the screens query by.
const SCHEMA = {
  1: {
    profile: "id",
    meta: "key",
    audit: "++seq",
    settings: "id",
    providers: "id",
    clients: "id, status",
    referrals: "id, client_id, provider_id",
    health_histories: "id, client_id",
    screenings: "id, client_id",
    clearances: "id, client_id",
    consents: "id, client_id",
    goals: "id, client_id",
    custom_measures: "id",
    assessments: "id, client_id",
    programs: "id",
    episodes: "id, client_id",
    exercises: "id",
    session_logs: "id, client_id",
    addenda: "id, client_id, session_log_id",
    documents: "id, client_id, provider_id",
    communications: "id, provider_id",
  },
};

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

async function sealDoc(store, doc) {
  if (!sealing() || doc._enc) return doc;
  requireKey();
  const sealed = { id: doc.id, _enc: await encryptBytes(dataKey, te.encode(JSON.stringify(doc)), `${store}:${doc.id}`) };
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

async function sealMeta(row) {
  if (!sealing() || PLAIN_META.has(row.key) || row._enc) return row;
  requireKey();
  return { key: row.key, _enc: await encryptBytes(dataKey, te.encode(JSON.stringify(row.value)), `meta:${row.key}`) };
}

async function openMeta(row) {
  if (row === undefined || !row._enc) return row;
  requireKey();
  return { key: row.key, value: JSON.parse(td.decode(await decryptBytes(dataKey, row._enc, `meta:${row.key}`))) };
}

const openDocs = (store, docs) => Promise.all(docs.map((d) => openDoc(store, d)));

export async function open() {
  // autoOpen off: if the browser closes the connection by itself (a storage error, or site data
  // cleared), Dexie would silently reopen it on the next call, creating an empty database if
  // the browser dropped it, and the next save would succeed there ("saved", records gone).
  // Instead every call fails with DatabaseClosedError and the page is told (watchClose).
  db = new Dexie(DB_NAME, { chromeTransactionDurability: "strict", autoOpen: false });
  for (const [version, stores] of Object.entries(SCHEMA)) db.version(Number(version)).stores(stores);
  // Another tab upgraded the database: close cleanly and tell the page (never corrupt).
  db.on("versionchange", () => {
    db.close();
    dispatchEvent(new CustomEvent("medex:db-closed"));
    return false;
  });
  await db.open();
  watchClose();
  encryption = (await db.meta.get("encryption"))?.value || { state: "off" };
  cryptoMeta = (await db.meta.get("crypto"))?.value || null;
  return JSON.stringify({ name: DB_NAME, version: db.verno, stores: db.tables.map((t) => t.name) });
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
    if (db) reloadCryptoState();
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
    return await writeNow(opsJson, auditJson);
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
  for (let attempt = 0; ; attempt++) {
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
  if (!PLAIN_META.has(key)) requireOpen();
  try {
    const value = JSON.parse(valueJson);
    if (value === null) {
      await db.transaction("rw", db.meta, () => db.meta.delete(key));
      return;
    }
    const row = await sealMeta({ key, value });
    // An explicit transaction resolves once it has committed (durably: "strict"); a bare put
    // resolves at the request's success, before the commit, and is lost if the browser dies.
    await db.transaction("rw", db.meta, () => db.meta.put(row));
  } catch (e) {
    throw plainError(e);
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

// Turn encryption on: make the data key, wrap it twice, mark the run "encrypting". The caller
// then calls migrateStore for every store and finishEncryption. Returns the recovery key.
async function setupEncryptionNow(passphrase) {
  if (enabled()) throw new Error("Encryption is already on.");
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
  const recovery = newRecoveryKey();
  cryptoMeta = { passphrase: await wrapEnvelope(key, passphrase), recovery: await wrapEnvelope(key, recovery) };
  // Only the non-extractable copy is kept.
  dataKey = await unwrapEnvelope(cryptoMeta.passphrase, passphrase, false);
  encryption = { state: "encrypting" };
  await db.transaction("rw", db.meta, async () => {
    await putPlainMeta("crypto", cryptoMeta);
    await putPlainMeta("encryption", encryption);
  });
  announceCrypto("changed");
  return recovery;
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

export async function requestPersist() {
  if (!navigator.storage || !navigator.storage.persist) return false;
  return await navigator.storage.persist();
}

// The raw connection's "close" event fires only when the browser closes it by itself (never on
// db.close()): after a storage error, or when the site's data was cleared.
function watchClose() {
  const connection = db.backendDB();
  if (connection) connection.addEventListener("close", () => dispatchEvent(new CustomEvent("medex:storage-closed")));
}

// After the browser closed the database: reopen it for reading (the backup export) only if it
// still exists; never create an empty one. The app stays read-only until a reload.
export async function reopenForReading() {
  if (db.isOpen()) return true;
  const existing = indexedDB.databases ? await indexedDB.databases() : [];
  if (!existing.some((info) => info.name === DB_NAME)) return false;
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
