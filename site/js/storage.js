// Reads and writes of the records, the audit log and meta: every call one IndexedDB transaction
// (Dexie) taking and returning plain JSON text, sealed and opened by crypto.js; the errors
// Python gets (plainError); the browser's storage quota and persistence.
import {
  cryptoMeta,
  cryptoView,
  encryption,
  openDoc,
  openDocs,
  openMeta,
  PLAIN_META,
  requireOpen,
  sealDoc,
  sealing,
  sealMeta,
} from "./crypto.js";
import { entries, isBucketed, storedIn, unbucketed, writeRun } from "./buckets.js";
import { bucketsSupported, db, follow, following, live, reloadCryptoState, withLock } from "./database.js";

// A stored document is signed (so no guarded write may change or delete it): the marker the
// write path sets, or a signature field of a document written before the marker existed
// (the same rule as medex.revisions.is_signed_doc).
const SIGN_FIELDS = ["signed_at", "signature", "signed_on", "signature_svg", "signed_by"];
const isSignedDoc = (doc) => doc !== undefined && (doc._signed === true || SIGN_FIELDS.some((f) => doc[f]));

// Writes made in this tab are announced to the app's other tabs (their caches go stale).
const changes = new BroadcastChannel("medex-practice-writes");
export function onOtherTabWrites(callback) {
  changes.onmessage = (event) => callback(JSON.stringify(event.data));
}

export async function getNow(store, id) {
  requireOpen();
  const table = db.table(store);
  if (isBucketed(store)) {
    const found = (await db.transaction("r", table, () => storedIn(table, [id]))).get(id);
    return found === undefined ? undefined : JSON.stringify(await openDoc(store, found));
  }
  const doc = await openDoc(store, await table.get(id));
  return doc === undefined ? undefined : JSON.stringify(doc);
}

// A bucketed store's documents as one JSON array text, in id order: a bucket's texts as they
// are, the records of their own opened (buckets.js).
async function bucketedText(store, records) {
  const texts = await Promise.all(
    entries(records).map(async ([, value]) => (typeof value === "string" ? value : JSON.stringify(await openDoc(store, value)))),
  );
  return `[${texts.join(",")}]`;
}

export async function getAllNow(store) {
  requireOpen();
  const records = await db.table(store).toArray();
  if (isBucketed(store)) return bucketedText(store, records);
  return JSON.stringify(await openDocs(store, records));
}

// Only some top-level fields of every record (e.g. the dashboard's view of 50,000 session
// logs: dates, attendance, signature, flags), so Python parses a fraction of the store. A
// bucketed store's documents come whole (their text is not parsed here): the models read
// from one ignore the fields they do not name (tests/unit/test_stores.py).
export async function projectNow(store, fieldsJson) {
  requireOpen();
  if (isBucketed(store)) return bucketedText(store, await db.table(store).toArray());
  const fields = JSON.parse(fieldsJson);
  const docs = await openDocs(store, await db.table(store).toArray());
  return JSON.stringify(docs.map((doc) => Object.fromEntries(fields.filter((f) => f in doc).map((f) => [f, doc[f]]))));
}

// All records of a store whose indexed field equals value (e.g. a client's session logs);
// with fieldsJson, each reduced to those fields (as projectNow does).
export async function whereNow(store, field, value, fieldsJson) {
  requireOpen();
  const docs = isBucketed(store)
    ? (await openDocs(store, unbucketed(await db.table(store).toArray()))).filter((doc) => doc[field] === value)
    : await openDocs(store, await db.table(store).where(field).equals(value).toArray());
  if (!fieldsJson) return JSON.stringify(docs);
  const fields = JSON.parse(fieldsJson);
  return JSON.stringify(docs.map((doc) => Object.fromEntries(fields.filter((f) => f in doc).map((f) => [f, doc[f]]))));
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
    return await withLock("shared", () => writeNow(JSON.parse(opsJson), auditJson));
  } catch (e) {
    throw plainError(e);
  }
}

// A write too big for one JSON text (a restore of 50,000 records): its ops are handed over in
// parts first (stageOps), then written by writeStaged exactly as write() would, in ONE
// transaction with their audit entries. Parts are kept as text until then (a refused write may
// be tried again), with what the transaction must know before it starts: the stores, and the
// few ops checked against the stored records. Written in clear, each part is parsed again
// inside the transaction and let go once written, so the records are never all parsed at once.
const staged = new Map();
let nextStage = 1;
export function stageOps(stageId, opsJson) {
  const id = stageId || nextStage++;
  if (!staged.has(id)) staged.set(id, { parts: [], stores: new Set(), checked: [], count: 0, meta: false });
  const stage = staged.get(id);
  const ops = JSON.parse(opsJson);
  for (const op of ops) {
    stage.stores.add(op.store);
    if (needsCheck(op)) stage.checked.push(op);
  }
  stage.count += ops.length;
  stage.parts.push(opsJson);
  return id;
}

// Puts staged as the JSON text they came in (a part of a checked backup restored over records
// this device does not hold: medex.repository.EncodedPuts): `text` is a JSON array of `store`'s
// documents; the i-th gets revisions[i] as its _rev and, where signed[i], the signed marker.
// Unconditional puts (like every put of a restore): nothing to check before the transaction.
export function stageEncoded(stageId, store, text, revisionsJson, signedJson) {
  const id = stageId || nextStage++;
  if (!staged.has(id)) staged.set(id, { parts: [], stores: new Set(), checked: [], count: 0, meta: false });
  const stage = staged.get(id);
  const part = { store, text, revisions: JSON.parse(revisionsJson), signed: JSON.parse(signedJson) };
  if (part.revisions.length !== part.signed.length) throw new Error(`MEDEX_BAD_PART: ${store}`);
  stage.stores.add(store);
  stage.count += part.revisions.length;
  stage.parts.push(part);
  return id;
}

// The checked parts of a backup about to be restored, kept here (as the JSON text of each
// part's checked records) from the moment the check has done with each, rather than in
// Python, whose memory never shrinks: Python keeps what it needs to know of a part and asks
// for its text by number to compare its records (keptPart) or to write it whole
// (stageKept: the same text, not a copy). Python lets go of each (dropKept) when it drops
// the checked backup (restored, cancelled, refused, or another file checked).
const kept = new Map();
let nextKept = 1;
export function keepPart(text) {
  const id = nextKept++;
  kept.set(id, text);
  return id;
}

export function keptPart(id) {
  const text = kept.get(id);
  if (text === undefined) throw new Error(`MEDEX_BAD_PART: part ${id} is no longer kept`);
  return text;
}

export function dropKept(id) {
  kept.delete(id);
}

export function stageKept(stageId, store, keptId, revisionsJson, signedJson) {
  return stageEncoded(stageId, store, keptPart(keptId), revisionsJson, signedJson);
}

// A staged part's ops: a JSON text of ops (stageOps) or encoded puts (stageEncoded).
function stagedOps(part) {
  if (typeof part === "string") return JSON.parse(part);
  const docs = JSON.parse(part.text);
  if (docs.length !== part.revisions.length) throw new Error(`MEDEX_BAD_PART: ${part.store}`);
  return docs.map((doc, i) => {
    doc._rev = part.revisions[i];
    if (part.signed[i]) doc._signed = true;
    return { store: part.store, doc };
  });
}

export function dropStaged(stageId) {
  staged.delete(stageId);
}

export async function writeStaged(stageId, auditJson) {
  try {
    const stage = staged.get(stageId) || { parts: [], stores: new Set(), checked: [], count: 0 };
    return await withLock("shared", () => writeNow([], auditJson, stage));
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

export function plainError(e) {
  const causes = errorCauses(e);
  const listed = causes.length > 1 ? ` [causes: ${causes.join(" < ")}]` : "";
  const err = new Error(`${e?.name || "Error"}: ${e?.message || e}${listed}`);
  err.name = String(e?.name || "Error");
  return err;
}

// An op checked against the stored document before the write: a record's, with `expect` or `guard`.
const needsCheck = (op) => op.store !== "meta" && op.store !== "audit" && ("expect" in op || op.guard);

// Inside a write's transaction: the stored documents of every checked op, read with one
// bulkGet per store (not one awaited get per op: a restore is 50,000 of them), as
// Map(store → Map(id → document or undefined)). All are read before anything is written.
async function storedFor(ops) {
  const ids = new Map();
  for (const op of ops) {
    if (!needsCheck(op)) continue;
    if (!ids.has(op.store)) ids.set(op.store, new Set());
    ids.get(op.store).add("delete" in op ? op.delete : op.doc.id);
  }
  const stored = new Map();
  for (const [store, wanted] of ids) {
    const keys = [...wanted];
    if (isBucketed(store)) {
      stored.set(store, await storedIn(db.table(store), keys));
      continue;
    }
    const docs = await db.table(store).bulkGet(keys);
    stored.set(store, new Map(keys.map((key, i) => [key, docs[i]])));
  }
  return stored;
}

// The ops as runs of consecutive puts or deletes into one store, in the ops' order, each
// written with one bulkPut / bulkDelete (whose requests IndexedDB runs in order): a put then
// a delete of the same record ends deleted, two puts end with the second.
function runsOf(ops) {
  const runs = [];
  let run = null;
  for (const op of ops) {
    const del = "delete" in op;
    if (!run || run.store !== op.store || run.delete !== del) {
      run = { store: op.store, delete: del, items: [] };
      runs.push(run);
    }
    run.items.push(del ? op.delete : op.doc);
  }
  return runs;
}

// A bulk write refused because its transaction aborted (a failing disk) names the abort's own
// cause, as Dexie's AbortError around a single put did: Python must see the UnknownError or
// QuotaExceededError among the causes (plainError) to know that storage is failing.
function withAbortCause(e, tx) {
  const cause = tx?.idbtrans?.error;
  if (cause && e && typeof e === "object" && !e.inner) e.inner = cause;
  return e;
}

// Inside the transaction, before anything is written, every op is checked against what is
// stored now: `expect` (the revision the tab read: "" = never stored, or stored before
// revisions) → MEDEX_STALE; `guard` and the stored document is signed → MEDEX_SIGNED. And this
// tab's view of encryption must still be the stored one (another tab may have turned it on or
// off, or re-keyed): else nothing is written, the view is reloaded and the write sealed again
// (or refused with MEDEX_LOCKED when the records now need a key this tab does not have).
// `stage` (writeStaged): the ops as staged parts instead of `plainOps`.
async function writeNow(plainOps, auditJson, stage = null) {
  const audit = auditJson ? JSON.parse(auditJson) : null;
  let followed = false;
  for (let attempt = 0; ; attempt++) {
    if (following) await following; // the records are moving to another database: write there
    requireOpen();
    // Staged parts in clear are parsed inside the transaction, a part at a time (`lazy`: only
    // the checked ops are at hand before); to be sealed, all are sealed before it starts.
    const lazy = stage !== null && !sealing();
    const all = stage === null ? plainOps : lazy ? stage.checked : stage.parts.flatMap(stagedOps);
    const ops = lazy ? all : await Promise.all(all.map(sealOp));
    const parts = lazy ? stage.parts.map((part) => () => stagedOps(part)) : [() => ops];
    const stores = new Set(stage === null ? ops.map((op) => op.store) : stage.stores);
    const writesMeta = stores.has("meta");
    if (audit) stores.add("audit");
    stores.add("meta");
    const view = cryptoView(encryption, cryptoMeta);
    try {
      await db.transaction("rw", [...stores], async (tx) => {
        const now = cryptoView((await db.meta.get("encryption"))?.value, (await db.meta.get("crypto"))?.value);
        if (now !== view) throw new Error("MEDEX_CRYPTO_CHANGED: encryption was changed in another tab");
        if (audit) {
          const last = await db.audit.orderBy("seq").last();
          const seq = last ? last.seq : 0;
          if (seq !== audit.expect) throw new Error(`MEDEX_AUDIT_MOVED: expected ${audit.expect}, found ${seq}`);
        }
        const stored = await storedFor(ops);
        for (const op of ops) {
          if (!needsCheck(op)) continue;
          const id = "delete" in op ? op.delete : op.doc.id;
          const current = stored.get(op.store).get(id);
          // Signed first (medex.revisions.refusal): a stale copy of a record signed meanwhile is
          // refused as signed, so the tab says it is locked and lists what was typed.
          if (op.guard && isSignedDoc(current)) throw new Error(`MEDEX_SIGNED ${op.store} ${id}`);
          if ("expect" in op && (current?._rev || "") !== op.expect) throw new Error(`MEDEX_STALE ${op.store} ${id}`);
        }
        try {
          for (const part of parts) {
            for (const run of runsOf(part())) {
              if (isBucketed(run.store)) await writeRun(db.table(run.store), run);
              else if (run.delete) await db.table(run.store).bulkDelete(run.items);
              else await db.table(run.store).bulkPut(run.items);
            }
          }
          if (audit && audit.entries.length) await db.audit.bulkPut(audit.entries);
        } catch (e) {
          throw withAbortCause(e, tx);
        }
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
    changes.postMessage([...stores].filter((s) => s !== "meta" || writesMeta));
    return stage === null ? ops.length : stage.count;
  }
}

// The last audit entry (the one the next entry chains from), or undefined.
export async function lastAuditNow() {
  const last = await db.audit.orderBy("seq").last();
  return last === undefined ? undefined : JSON.stringify(last);
}

export async function getAuditNow() {
  return JSON.stringify(await db.audit.orderBy("seq").toArray());
}

// Every store, the audit log and meta in one read transaction, decrypted:
// {"stores": {store: [doc]}, "audit": [entry], "meta": {key: value}}.
export async function exportAllNow() {
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
    } else out.stores[store] = await openDocs(store, isBucketed(store) ? unbucketed(docs) : docs);
  }
  return JSON.stringify(out);
}

export async function getMetaNow(key) {
  if (!PLAIN_META.has(key)) requireOpen();
  const row = await openMeta(await db.meta.get(key));
  return row === undefined ? undefined : JSON.stringify(row.value);
}

// Every meta value whose key starts with prefix, as {key: value} (a tab's drafts, one per form).
export async function metaWithPrefixNow(prefix) {
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


export async function putPlainMeta(key, value) {
  // Inside a caller's transaction this joins it; alone it waits for its own commit.
  await db.transaction("rw", db.meta, () => db.meta.put({ key, value }));
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
// answer is awaited for a few seconds at most. Then `null` means "the browser is asking the
// person": the prompt stays, and when it is answered the page gets a `medex:storage-answer`
// event (detail: granted) so the answer is shown then.
const PERSIST_WAIT_MS = 3000;

async function persistBucket() {
  if (!live?.bucket || !bucketsSupported()) return;
  // The records' own bucket (its persistence is its own; the default bucket's is persist()'s).
  try {
    await (await navigator.storageBuckets.open(live.bucket)).persist();
  } catch {
    // best effort: the bucket was opened with persisted: true already
  }
}

export async function requestPersist() {
  if (!navigator.storage || !navigator.storage.persist) return false;
  const asked = navigator.storage.persist().then(Boolean, () => false);
  const granted = await Promise.race([asked, new Promise((resolve) => setTimeout(() => resolve(null), PERSIST_WAIT_MS))]);
  if (granted === null) {
    asked.then(async (answer) => {
      if (answer) await persistBucket();
      dispatchEvent(new CustomEvent("medex:storage-answer", { detail: answer }));
    });
  } else if (granted) {
    await persistBucket();
  }
  return granted;
}
