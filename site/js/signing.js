// The practice signing key: WebCrypto ECDSA P-256 (SHA-256). Python (medex.signing) decides
// WHAT is signed (a record's content hash) and what a check concludes; this module only holds
// the key, signs, and verifies. Every call takes and returns plain JSON text.
//
// Key storage: a small IndexedDB database of its own ("medex-practice-keys", store "keys",
// one row per key, keyed by its fingerprint `key_id` = hex SHA-256 of the public key's SPKI).
// It is kept apart from the records database so that record exports, restores and encryption
// runs (which JSON-serialise rows) never see a CryptoKey.
//   - encryption at rest off: the private key is stored as a non-extractable CryptoKey
//     (IndexedDB keeps CryptoKeys by structured clone; its bytes cannot be read back by script).
//   - encryption at rest on: a usable private key must not sit there without the passphrase.
//     The key's PKCS#8 bytes are exported once, at creation, encrypted with the data key
//     (AES-GCM, AAD "medex-signing-key:<key_id>") and only that ciphertext is stored; each
//     signature decrypts it with the unlocked data key and imports it as a non-extractable
//     key for that one signature. Locked, nothing can sign.
//   - when the encryption state no longer fits the stored key (turned on or off, or a new data
//     key), the next signature rotates: a new key pair in the right form, and the old key is
//     kept as public-only ("retired") so the signatures it made still verify on this device.
// Trust: only the keys in this database verify as "valid"; a key named by a restored backup
// (its practice profile) is "unknown_key" here, whatever the file claims.
import { cryptoStatus, currentDataKey } from "./store.js";

const KEYS_DB = "medex-practice-keys";
const STORE = "keys";
const ALG = { name: "ECDSA", namedCurve: "P-256" };
const SIGN = { name: "ECDSA", hash: "SHA-256" };
const te = new TextEncoder();

let dbPromise = null;
const publicKeys = new Map(); // key_id → public CryptoKey (verify)

function b64(bytes) {
  bytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function unb64(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// The keys database has generations ("medex-practice-keys", then "-g1", "-g2" …): the highest
// is the live one. Retiring a plain (usable) private key moves the rows to the next generation
// and deletes the old database, because deleting a database removes its files, while deleting
// a row may leave its bytes in the browser's storage files for a while. A generation is
// created with its rows in its one upgrade transaction, so it exists complete or not at all.
let dbGen = 0;
const dbName = (gen) => (gen ? `${KEYS_DB}-g${gen}` : KEYS_DB);

function genOf(name) {
  if (name === KEYS_DB) return 0;
  const m = typeof name === "string" && name.startsWith(`${KEYS_DB}-g`) ? name.slice(KEYS_DB.length + 2) : "";
  return /^[1-9][0-9]{0,8}$/.test(m) ? Number(m) : -1;
}

async function generations() {
  const names = indexedDB.databases ? (await indexedDB.databases()).map((info) => info.name) : [KEYS_DB];
  return names.map(genOf).filter((g) => g >= 0).sort((a, b) => a - b);
}

function openGen(gen, rows) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(dbName(gen), 1);
    req.onupgradeneeded = () => {
      const store = req.result.createObjectStore(STORE, { keyPath: "key_id" });
      for (const row of rows || []) store.put(row);
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => { db.close(); dbPromise = null; };
      resolve(db);
    };
    req.onerror = () => reject(req.error);
  });
}

function deleteDb(gen) {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(dbName(gen));
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

function openDb() {
  if (!dbPromise) {
    dbPromise = (async () => {
      const gens = await generations();
      const gen = gens.length ? gens[gens.length - 1] : 0;
      const db = await openGen(gen);
      dbGen = gen;
      for (const old of gens) if (old < gen) deleteDb(old); // left by an interrupted move
      return db;
    })();
    dbPromise.catch(() => { dbPromise = null; });
  }
  return dbPromise;
}

// Move every row to the next generation and delete the current database.
async function moveToNextGeneration() {
  const old = await openDb();
  const oldGen = dbGen;
  const rows = await request(old.transaction(STORE).objectStore(STORE).getAll());
  const db = await openGen(oldGen + 1, rows); // another tab's move got there first: same rows
  dbPromise = Promise.resolve(db);
  dbGen = oldGen + 1;
  old.close();
  await deleteDb(oldGen);
}

// Where the keys are (for tests that read the raw database).
export async function keysLocation() {
  await openDb();
  return dbName(dbGen);
}

async function allKeys() {
  const db = await openDb();
  return request(db.transaction(STORE).objectStore(STORE).getAll());
}

// The stored key a signature should use now: sealed while encryption is on, plain otherwise.
const wantSealed = () => ["on", "encrypting"].includes(JSON.parse(cryptoStatus()).state);
const aadFor = (keyId) => te.encode(`medex-signing-key:${keyId}`);

// The non-extractable private key of a stored row, or null when it cannot be used now
// (sealed with a data key that is not the current one, or locked).
async function privateKeyOf(row) {
  if (!row || !row.status || row.status !== "current") return null;
  if (row.protection === "plain") return wantSealed() ? null : row.privateKey || null;
  if (row.protection !== "sealed" || !wantSealed()) return null;
  const dataKey = currentDataKey();
  if (!dataKey) throw new Error("MEDEX_LOCKED: MedEx Practice is locked. Unlock it with your passphrase.");
  let pkcs8;
  try {
    pkcs8 = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(row.sealed.iv), additionalData: aadFor(row.key_id) }, dataKey, unb64(row.sealed.ct)));
  } catch {
    return null; // sealed under another data key: rotate
  }
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8, ALG, false, ["sign"]);
  } finally {
    pkcs8.fill(0);
  }
}

// A new key pair, as the row to store (and the usable private key).
async function newKey(sealed) {
  const pair = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const keyId = hex(await crypto.subtle.digest("SHA-256", spki));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  try {
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, ALG, false, ["sign"]);
    const row = { key_id: keyId, spki: b64(spki), algorithm: "ECDSA-P256-SHA256", created_at: new Date().toISOString(), status: "current" };
    if (sealed) {
      const dataKey = currentDataKey();
      if (!dataKey) throw new Error("MEDEX_LOCKED: MedEx Practice is locked. Unlock it with your passphrase.");
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aadFor(keyId) }, dataKey, pkcs8);
      Object.assign(row, { protection: "sealed", sealed: { v: 1, iv: b64(iv), ct: b64(ct) } });
    } else {
      Object.assign(row, { protection: "plain", privateKey });
    }
    return { row, privateKey };
  } finally {
    pkcs8.fill(0); // the only extractable copy is dropped here
  }
}

const retired = (row) => ({ key_id: row.key_id, spki: row.spki, algorithm: row.algorithm, created_at: row.created_at, status: "retired", retired_at: new Date().toISOString() });

// The current key (made, or rotated, when none fits the encryption state). Two tabs doing this
// at once end with one current key: the write re-reads the current row in its transaction.
async function currentKey() {
  const rows = await allKeys();
  const current = rows.find((r) => r.status === "current");
  const usable = await privateKeyOf(current);
  if (usable) return { row: current, privateKey: usable };
  const made = await newKey(wantSealed());
  const db = await openDb();
  const tx = db.transaction(STORE, "readwrite", { durability: "strict" });
  const store = tx.objectStore(STORE);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    // A plain Error, never the raw one: Chromium's QuotaExceededError (a full disk) is now its
    // own interface, which Pyodide cannot raise, so the awaiting Python task would hang.
    const failed = () => new Error(`${tx.error?.name || "AbortError"}: ${tx.error?.message || "the signing key was not stored"}`);
    tx.onerror = () => reject(failed());
    tx.onabort = () => reject(failed());
  });
  const now = await request(store.getAll());
  const raced = now.find((r) => r.status === "current" && r.key_id !== current?.key_id);
  if (raced) {
    tx.abort();
    await done.catch(() => {});
    const theirs = await privateKeyOf(raced);
    if (theirs) return { row: raced, privateKey: theirs };
    throw new Error("The practice signing key changed in another tab: try signing again.");
  }
  const retiredPlain = now.some((r) => r.status === "current" && r.protection === "plain");
  for (const row of now) if (row.status === "current") store.put(retired(row));
  store.put(made.row);
  await done;
  if (retiredPlain && made.row.protection === "sealed") await moveToNextGeneration();
  return made;
}

// After encryption is turned on or off: re-make the current key in the form that fits (a plain
// key must not stay usable once the records need the passphrase). No key yet: nothing to do.
export async function resealKey() {
  const current = (await allKeys()).find((r) => r.status === "current");
  if (!current) return false;
  if (await privateKeyOf(current)) return false;
  await currentKey();
  return true;
}

// Sign `message` (text) with the practice key: {key_id, signature, public_key}.
export async function signMessage(message) {
  const { row, privateKey } = await currentKey();
  const signature = await crypto.subtle.sign(SIGN, privateKey, te.encode(message));
  return JSON.stringify({
    key_id: row.key_id,
    signature: b64(signature),
    public_key: { key_id: row.key_id, algorithm: row.algorithm, spki: row.spki },
  });
}

async function loadPublicKeys() {
  for (const row of await allKeys()) {
    if (publicKeys.has(row.key_id)) continue;
    publicKeys.set(row.key_id, await crypto.subtle.importKey("spki", unb64(row.spki), ALG, false, ["verify"]));
  }
}

// items: [{key_id, message, signature}] → ["valid" | "invalid" | "unknown_key"], one per item.
export async function verifySignatures(itemsJson) {
  const items = JSON.parse(itemsJson);
  if (items.some((item) => !publicKeys.has(item.key_id))) await loadPublicKeys();
  const out = [];
  for (const item of items) {
    const key = publicKeys.get(item.key_id);
    if (!key) {
      out.push("unknown_key");
      continue;
    }
    let ok = false;
    try {
      ok = await crypto.subtle.verify(SIGN, key, unb64(item.signature), te.encode(item.message));
    } catch {
      ok = false;
    }
    out.push(ok ? "valid" : "invalid");
  }
  return JSON.stringify(out);
}
