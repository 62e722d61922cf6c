// Backup files of format 2 (site/py/medex/backup_stream.py says what the lines are): written
// page by page straight from IndexedDB into a file made of parts, and read back a line at a
// time, so neither side ever holds the whole file as one string. Python drives both loops (one
// call per page or line), so the page stays responsive and shows progress in between.
import { b64, decryptBytes, deriveKek, encryptBytes, openDocs, openMeta, PBKDF2_ITERATIONS, requireOpen, td, te, unb64 } from "./crypto.js";
import { db } from "./database.js";

const FORMAT = "medex-practice-backup";
const VERSION = 2;
const aad = (salt, n) => `${FORMAT}/${VERSION}/${salt}/${n}`;
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (text) => hex(await crypto.subtle.digest("SHA-256", te.encode(text)));

// -- writing -------------------------------------------------------------------------------------
const writers = new Map();
let nextId = 1;

async function put(w, line) {
  let out = line;
  if (w.key) {
    const box = await encryptBytes(w.key, te.encode(line), aad(w.salt, w.n));
    out = JSON.stringify({ ct: box.ct, iv: box.iv });
  }
  w.n += 1;
  // Each line becomes a Blob at once: its text can be collected, the bytes live in the browser's
  // blob storage (which may keep big files on disk), and the file is a Blob of these parts.
  w.parts.push(new Blob([out, "\n"]));
  w.bytes += out.length + 1;
  return sha256(line);
}

// Start a backup file with its header line (made by Python); with a passphrase, the file is
// encrypted line by line under a key derived from it. Returns the writer's id.
export async function backupStart(headerLine, passphrase) {
  const w = { parts: [], key: null, salt: "", n: 0, bytes: 0 };
  if (passphrase) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    w.key = await deriveKek(passphrase, salt, PBKDF2_ITERATIONS);
    w.salt = b64(salt);
    const envelope = { kdf: "PBKDF2-SHA256", params: { hash: "SHA-256", iterations: PBKDF2_ITERATIONS }, salt: w.salt, v: 2 };
    const first = JSON.stringify({ encrypted: true, envelope, format: FORMAT, format_version: VERSION });
    w.parts.push(new Blob([first, "\n"]));
  }
  const id = nextId++;
  writers.set(id, w);
  await put(w, headerLine);
  return id;
}

// Append one line made by Python (the settings, the trailer): its SHA-256 (of the plain line).
export async function backupLine(id, line) {
  return put(writers.get(id), line);
}

// Append the next page of a store, read from IndexedDB (decrypted), as part lines of at most
// maxRecords records or maxChars characters. `afterJson`: the last key of the previous page
// (JSON; null to start). Returns JSON {hashes: [sha256 of each line], count, next: last key or
// null when the store is done}.
export async function backupPage(id, store, afterJson, maxRecords, maxChars) {
  requireOpen();
  const w = writers.get(id);
  const after = JSON.parse(afterJson);
  const table = db.table(store);
  const page = after === null ? await table.orderBy(":id").limit(maxRecords).toArray() : await table.where(":id").above(after).limit(maxRecords).toArray();
  const key = table.schema.primKey.keyPath;
  const docs = store === "audit" ? page : await openDocs(store, page);
  const hashes = [];
  const wrap = store === "audit" ? (body) => `{"audit":[${body}]}` : (body) => `{"records":[${body}],"store":${JSON.stringify(store)}}`;
  let texts = [];
  let size = 0;
  const flush = async () => {
    if (texts.length) hashes.push(await put(w, wrap(texts.join(","))));
    texts = [];
    size = 0;
  };
  for (const doc of docs) {
    const text = JSON.stringify(doc);
    if (texts.length && size + text.length > maxChars) await flush();
    texts.push(text);
    size += text.length + 1;
  }
  await flush();
  const next = page.length === maxRecords ? page[page.length - 1][key] : null;
  return JSON.stringify({ hashes, count: page.length, next });
}

// Append the settings line {"meta": {...}}: every meta value but the keys and key prefixes
// Python leaves out (skipJson: {keys, prefixes}); the left-out values are never read (one of
// them is the snapshot taken before a restore, as big as a backup).
export async function backupMeta(id, skipJson) {
  requireOpen();
  const { keys, prefixes } = JSON.parse(skipJson);
  const skip = new Set(keys);
  const wanted = (await db.meta.toCollection().primaryKeys()).filter((k) => !skip.has(k) && !prefixes.some((p) => String(k).startsWith(p)));
  const meta = {};
  for (const row of await db.meta.bulkGet(wanted)) {
    const opened = await openMeta(row);
    if (opened !== undefined) meta[opened.key] = opened.value;
  }
  return put(writers.get(id), JSON.stringify({ meta }));
}

// The number of records in each store (for the progress bar; the audit log is not counted).
export async function backupCounts() {
  requireOpen();
  const out = {};
  for (const table of db.tables) if (table.name !== "meta" && table.name !== "audit") out[table.name] = await table.count();
  return JSON.stringify(out);
}

// Offer the finished file as a download; the writer is forgotten. Returns the file's size.
export function backupFinish(id, filename) {
  const w = writers.get(id);
  writers.delete(id);
  const url = URL.createObjectURL(new Blob(w.parts, { type: "application/x-ndjson" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 120000);
  return w.bytes;
}

export function backupAbort(id) {
  writers.delete(id);
}

// -- reading -------------------------------------------------------------------------------------
// A picked file is held here (by id) while Python reads it a line at a time.
const files = new Map();
const readers = new Map();
const SLICE = 4 << 20;

export function holdFile(file) {
  const id = nextId++;
  files.set(id, file);
  return id;
}

export function releaseFile(id) {
  files.delete(id);
  for (const [rid, r] of readers) if (r.file === id) readers.delete(rid);
}

// The start of a held file as text (to tell its format), at most `chars` characters.
export async function fileHead(id, chars) {
  return td.decode(await files.get(id).slice(0, chars).arrayBuffer());
}

// The whole held file as text (a format-1 backup is one JSON document).
export async function fileText(id) {
  return files.get(id).text();
}

// Read a held file a line at a time; with a passphrase, the file's first line is the envelope
// and every further line is decrypted (a wrong passphrase or a moved line fails to decrypt:
// nextLine throws MEDEX_DECRYPT <line number>).
export async function openLines(id, passphrase) {
  const r = { file: id, offset: 0, buffer: new Uint8Array(0), done: false, key: null, salt: "", n: 0 };
  const rid = nextId++;
  readers.set(rid, r);
  if (passphrase) {
    const first = await rawLine(r);
    let env;
    try {
      env = JSON.parse(first ?? "").envelope;
    } catch {
      env = null;
    }
    const iterations = Number(env?.params?.iterations);
    if (!env || env.v !== 2 || env.kdf !== "PBKDF2-SHA256" || !Number.isInteger(iterations) || iterations < 1 || iterations > 10000000) throw new Error("MEDEX_DECRYPT 0");
    r.key = await deriveKek(passphrase, unb64(env.salt), iterations);
    r.salt = env.salt;
  }
  return rid;
}

async function rawLine(r) {
  const file = files.get(r.file);
  for (;;) {
    const at = r.buffer.indexOf(10);
    if (at >= 0) {
      const line = td.decode(r.buffer.subarray(0, at));
      r.buffer = r.buffer.slice(at + 1);
      return line;
    }
    if (r.offset >= file.size) {
      if (!r.buffer.length) return null;
      const line = td.decode(r.buffer);
      r.buffer = new Uint8Array(0);
      return line;
    }
    const more = new Uint8Array(await file.slice(r.offset, r.offset + SLICE).arrayBuffer());
    r.offset += more.length;
    const joined = new Uint8Array(r.buffer.length + more.length);
    joined.set(r.buffer);
    joined.set(more, r.buffer.length);
    r.buffer = joined;
    if (r.buffer.length > 64 << 20) throw new Error("MEDEX_LINE_TOO_LONG");
  }
}

// The next plain line, or undefined at the end of the file (Python sees None).
export async function nextLine(rid) {
  const r = readers.get(rid);
  const line = await rawLine(r);
  if (line === null) {
    readers.delete(rid);
    return undefined;
  }
  if (!r.key) return line;
  const n = r.n++;
  try {
    const box = JSON.parse(line);
    return td.decode(await decryptBytes(r.key, box, aad(r.salt, n)));
  } catch {
    throw new Error(`MEDEX_DECRYPT ${n}`);
  }
}

// How far a reader has read, in bytes, and the file's size (for the progress bar).
export function readProgress(rid) {
  const r = readers.get(rid);
  if (!r) return JSON.stringify({ read: 0, size: 0 });
  return JSON.stringify({ read: r.offset - r.buffer.length, size: files.get(r.file).size });
}
