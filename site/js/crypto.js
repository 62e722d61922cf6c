// WebCrypto: this tab's data key and encryption state, sealing and opening records and meta
// values, wrapping the key under a passphrase or the recovery key. No IndexedDB here: the
// database modules call in (database.js, storage.js, encryption.js, files.js).
import { INDEXED } from "./schema.js";

// A random 256-bit data key encrypts every record (AES-GCM, fresh 96-bit IV per write, the
// store and record id as additional data). It is wrapped by a key derived from the passphrase
// (PBKDF2-SHA256) and, separately, from a printable recovery key; both wrappings live in meta
// "crypto" as versioned envelopes {v, kdf, params, salt, iv, ct}. Unwrapped, the data key is a
// non-extractable CryptoKey held only in this module's memory; lock() drops it.
// A sealed record keeps its id and the indexed fields (ids and a status word: no client
// content) in clear so the indexes work; everything else is in `_enc: {v, iv, ct}`.
// Meta values are sealed the same way, except the few below that must be read while locked.
export const PLAIN_META = new Set(["crypto", "encryption", "persist_requested", "versions", "idle_minutes"]);
export const PBKDF2_ITERATIONS = 600000;
export const te = new TextEncoder();
export const td = new TextDecoder();
export let dataKey = null;
export let encryption = { state: "off" }; // off | encrypting | on | decrypting (meta "encryption")
export let cryptoMeta = null; // meta "crypto": {passphrase: envelope, recovery: envelope}

export function b64(bytes) {
  bytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function unb64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const STORAGE_FIELDS = ["_rev", "_signed"];

export const sealing = () => encryption.state === "on" || encryption.state === "encrypting";
export const enabled = () => encryption.state !== "off";

export function requireKey() {
  if (!dataKey) throw new Error("MEDEX_LOCKED: MedEx Practice is locked. Unlock it with your passphrase.");
}

export function requireOpen() {
  if (enabled()) requireKey();
}

export async function encryptBytes(key, plain, aad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: te.encode(aad) }, key, plain);
  return { v: 1, iv: b64(iv), ct: b64(ct) };
}

export async function decryptBytes(key, box, aad) {
  return crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(box.iv), additionalData: te.encode(aad) }, key, unb64(box.ct));
}

// `key`: seal with this key whatever this tab's state (copying into a fresh database).
export async function sealDoc(store, doc, key = null) {
  if (doc._enc || (!key && !sealing())) return doc;
  if (!key) requireKey();
  const sealed = { id: doc.id, _enc: await encryptBytes(key || dataKey, te.encode(JSON.stringify(doc)), `${store}:${doc.id}`) };
  for (const field of INDEXED[store] || []) if (field in doc) sealed[field] = doc[field];
  // The revision and the signed marker stay readable: the write transaction checks them.
  for (const field of STORAGE_FIELDS) if (field in doc) sealed[field] = doc[field];
  return sealed;
}

export async function openDoc(store, doc) {
  if (doc === undefined || !doc._enc) return doc;
  requireKey();
  return JSON.parse(td.decode(await decryptBytes(dataKey, doc._enc, `${store}:${doc.id}`)));
}

export async function sealMeta(row, key = null) {
  if (PLAIN_META.has(row.key) || row._enc || (!key && !sealing())) return row;
  if (!key) requireKey();
  return { key: row.key, _enc: await encryptBytes(key || dataKey, te.encode(JSON.stringify(row.value)), `meta:${row.key}`) };
}

export async function openMeta(row) {
  if (row === undefined || !row._enc) return row;
  requireKey();
  return { key: row.key, value: JSON.parse(td.decode(await decryptBytes(dataKey, row._enc, `meta:${row.key}`))) };
}

export const openDocs = (store, docs) => Promise.all(docs.map((d) => openDoc(store, d)));

// Setters for the state above (an importing module sees it live but cannot assign it).
export const setDataKey = (key) => { dataKey = key; };
export const setEncryption = (state) => { encryption = state; };
export const setCryptoMeta = (meta) => { cryptoMeta = meta; };

// Take the stored encryption state and key wrappings (database.js readCryptoState): the
// unwrapped key is dropped if the key changed or encryption is off.
export function adoptCryptoState(enc, meta) {
  const sameKey = keyIdentity(meta) === keyIdentity(cryptoMeta);
  encryption = enc;
  cryptoMeta = meta;
  if (!sameKey || !enabled()) dataKey = null;
}

// -- one cross-tab truth for encryption (the messages: encryption.js) ---------------------------
export const keyIdentity = (meta) => meta?.recovery?.ct || meta?.passphrase?.ct || "";
export const cryptoView = (enc, meta) => `${enc?.state || "off"}|${keyIdentity(meta)}`;
export const cryptoChannel = new BroadcastChannel("medex-practice-crypto");

export function announceCrypto(type) {
  cryptoChannel.postMessage({ type, at: Date.now() });
}

// -- passphrase and recovery key wrapping ------------------------------------------------------

export async function deriveKek(secret, salt, iterations) {
  const base = await crypto.subtle.importKey("raw", te.encode(secret), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
  );
}

export async function wrapEnvelope(key, secret) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const kek = await deriveKek(secret, salt, PBKDF2_ITERATIONS);
  const ct = await crypto.subtle.wrapKey("raw", key, kek, { name: "AES-GCM", iv });
  return { v: 1, kdf: "PBKDF2-SHA256", params: { iterations: PBKDF2_ITERATIONS, hash: "SHA-256" }, salt: b64(salt), iv: b64(iv), ct: b64(ct) };
}

export async function unwrapEnvelope(envelope, secret, extractable) {
  const kek = await deriveKek(secret, unb64(envelope.salt), envelope.params.iterations);
  try {
    return await crypto.subtle.unwrapKey("raw", unb64(envelope.ct), kek, { name: "AES-GCM", iv: unb64(envelope.iv) }, { name: "AES-GCM" }, extractable, ["encrypt", "decrypt"]);
  } catch {
    return null;
  }
}

export function newRecoveryKey() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O, 1/I
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const chars = [...bytes].map((b) => alphabet[b % 32]).join("");
  return chars.match(/.{4}/g).join("-");
}

export const normaliseRecovery = (text) => text.toUpperCase().replace(/[^A-Z0-9]/g, "").match(/.{1,4}/g)?.join("-") || "";

// {"enabled", "locked", "state"}: what the shell needs before reading anything.
export function cryptoStatus() {
  return JSON.stringify({ enabled: enabled(), locked: enabled() && !dataKey, state: encryption.state });
}

// For js/signing.js (the practice signing key, sealed with the data key while encryption is
// on): the unlocked data key, a non-extractable AES-GCM CryptoKey, or null.
export const currentDataKey = () => dataKey;
