// Backup files of format 2 (site/py/medex/backup_stream.py says what the lines are): written
// page by page straight from IndexedDB into a file made of parts, and read back a line at a
// time, so neither side ever holds the whole file as one string. Writing is one call (the loop
// is here, progress is reported back to Python); reading is driven by Python a line at a time.
import { b64, decryptBytes, deriveKek, encryptBytes, openDocs, openMeta, PBKDF2_ITERATIONS, requireOpen, td, te, unb64 } from "./crypto.js";
import { db } from "./database.js";
import { download } from "./files.js";

const FORMAT = "medex-practice-backup";
const VERSION = 2;
const aad = (salt, n) => `${FORMAT}/${VERSION}/${salt}/${n}`;
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

// -- writing -------------------------------------------------------------------------------------
const writers = new Map();
let nextId = 1;
const NEWLINE = new Uint8Array([10]);
// Records read from IndexedDB at a time (a part line still holds at most the caller's limit).
const READ_PAGE = 2000;
// The longest time between two progress reports to Python (ms).
const PROGRESS_EVERY = 250;

// Append one plain line (its UTF-8 bytes); returns its SHA-256. Encrypted, the line is one
// AES-GCM box bound to its place and this file.
async function put(w, bytes) {
  const digest = crypto.subtle.digest("SHA-256", bytes);
  let out = bytes;
  if (w.key) {
    const box = await encryptBytes(w.key, bytes, aad(w.salt, w.n));
    out = te.encode(JSON.stringify({ ct: box.ct, iv: box.iv }));
  }
  w.n += 1;
  // Each line becomes a Blob at once: the bytes live in the browser's blob storage (which may
  // keep big files on disk), and the file is a Blob of these parts.
  w.parts.push(new Blob([out, NEWLINE]));
  w.bytes += out.length + 1;
  return hex(await digest);
}

// A writer with the file's first lines: the envelope in clear (with a passphrase, every
// further line is encrypted under a key derived from it), then the header line.
async function startWriter(headerLine, passphrase) {
  const w = { parts: [], key: null, salt: "", n: 0, bytes: 0 };
  if (passphrase) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    w.key = await deriveKek(passphrase, salt, PBKDF2_ITERATIONS);
    w.salt = b64(salt);
    const envelope = { kdf: "PBKDF2-SHA256", params: { hash: "SHA-256", iterations: PBKDF2_ITERATIONS }, salt: w.salt, v: 2 };
    const first = te.encode(JSON.stringify({ encrypted: true, envelope, format: FORMAT, format_version: VERSION }));
    w.parts.push(new Blob([first, NEWLINE]));
    w.bytes += first.length + 1;
  }
  await put(w, te.encode(headerLine));
  const id = nextId++;
  writers.set(id, w);
  return id;
}

// One page of a store, in key order after `after` (undefined: from the start), opened.
async function readPage(table, after) {
  const page = after === undefined ? await table.orderBy(":id").limit(READ_PAGE).toArray() : await table.where(":id").above(after).limit(READ_PAGE).toArray();
  const docs = table.name !== "audit" && page.some((d) => d._enc) ? await openDocs(table.name, page) : page;
  return { docs, next: page.length === READ_PAGE ? page[page.length - 1][table.schema.primKey.keyPath] : undefined };
}

// Every page of a store appended as part lines of at most maxRecords records or maxChars
// characters; the next page is read from IndexedDB while this one is written.
async function writeStore(w, store, maxRecords, maxChars, hashes, onRecords) {
  const table = db.table(store);
  const wrap = store === "audit" ? (body) => `{"audit":[${body}]}` : (body) => `{"records":[${body}],"store":${JSON.stringify(store)}}`;
  let count = 0;
  let reading = readPage(table, undefined);
  for (;;) {
    const { docs, next } = await reading;
    if (next !== undefined) reading = readPage(table, next);
    let texts = [];
    let size = 0;
    const flush = async () => {
      hashes.push(await put(w, te.encode(wrap(texts.join(",")))));
      count += texts.length;
      onRecords(texts.length);
      texts = [];
      size = 0;
    };
    for (const doc of docs) {
      const text = JSON.stringify(doc);
      if (texts.length && (texts.length >= maxRecords || size + text.length > maxChars)) await flush();
      texts.push(text);
      size += text.length + 1;
    }
    if (texts.length) await flush();
    if (next === undefined) return count;
  }
}

// Write a whole backup file of format 2 in one call: the header line (made by Python), every
// store but the left-out ones (skip.stores: derived, computed again after a restore), sorted
// by name, then the audit log, then the settings line {"meta": {...}} (every meta value but
// skip.keys and keys starting with one of skip.prefixes; the left-out values are never read —
// one is the snapshot taken before a restore, as big as a backup). With a passphrase the
// file is encrypted line by line. `progress(done, total, auditEntries)` is called at most
// every 250 ms. Returns JSON {id: the writer (for the trailer line and backupFinish), hashes:
// [SHA-256 of each part line, in order], counts: {store: records}, audit_count}.
export async function backupExport(headerLine, passphrase, skipJson, maxRecords, maxChars, progress) {
  requireOpen();
  const skip = JSON.parse(skipJson);
  const skipStores = new Set([...skip.stores, "meta", "audit"]);
  const stores = db.tables.map((t) => t.name).filter((name) => !skipStores.has(name)).sort();
  const totals = await Promise.all(stores.map((name) => db.table(name).count()));
  let total = totals.reduce((a, b) => a + b, 0);
  let done = 0;
  let auditCount = 0;
  let reported = 0;
  const report = (force) => {
    const now = performance.now();
    if (!force && now - reported < PROGRESS_EVERY) return;
    reported = now;
    progress(done, Math.max(total, done), auditCount);
  };
  const id = await startWriter(headerLine, passphrase);
  const w = writers.get(id);
  const hashes = [];
  const counts = {};
  try {
    report(true);
    for (const store of stores) {
      counts[store] = await writeStore(w, store, maxRecords, maxChars, hashes, (n) => {
        done += n;
        report(false);
      });
    }
    total = done; // records written meanwhile may have changed the count
    report(true);
    // Entries appended while the records were written come too.
    auditCount = await writeStore(w, "audit", maxRecords, maxChars, hashes, (n) => {
      auditCount += n;
      report(false);
    });
    hashes.push(await writeMeta(w, skip));
    report(true);
  } catch (e) {
    writers.delete(id);
    throw e;
  }
  return JSON.stringify({ id, hashes, counts, audit_count: auditCount });
}

async function writeMeta(w, { keys, prefixes }) {
  const skip = new Set(keys);
  const wanted = (await db.meta.toCollection().primaryKeys()).filter((k) => !skip.has(k) && !prefixes.some((p) => String(k).startsWith(p)));
  const meta = {};
  for (const row of await db.meta.bulkGet(wanted)) {
    const opened = await openMeta(row);
    if (opened !== undefined) meta[opened.key] = opened.value;
  }
  return put(w, te.encode(JSON.stringify({ meta })));
}

// Append one line made by Python (the trailer): its SHA-256 (of the plain line).
export async function backupLine(id, line) {
  return put(writers.get(id), te.encode(line));
}

// Offer the finished file as a download; the writer is forgotten. Returns the file's size.
export function backupFinish(id, filename) {
  const w = writers.get(id);
  writers.delete(id);
  download(filename, new Blob(w.parts, { type: "application/x-ndjson" }));
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
      // The rest, not copied (a copy of up to 4 MB a line, 100 lines a backup): the slice read
      // is let go once the next one is joined to what is left of it.
      r.buffer = r.buffer.subarray(at + 1);
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
