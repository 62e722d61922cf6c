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

export async function open() {
  db = new Dexie(DB_NAME, { chromeTransactionDurability: "strict" });
  for (const [version, stores] of Object.entries(SCHEMA)) db.version(Number(version)).stores(stores);
  // Another tab upgraded the database: close cleanly and tell the page (never corrupt).
  db.on("versionchange", () => {
    db.close();
    dispatchEvent(new CustomEvent("medex:db-closed"));
    return false;
  });
  await db.open();
  return JSON.stringify({ name: DB_NAME, version: db.verno, stores: db.tables.map((t) => t.name) });
}

export async function get(store, id) {
  const doc = await db.table(store).get(id);
  return doc === undefined ? undefined : JSON.stringify(doc);
}

export async function getAll(store) {
  return JSON.stringify(await db.table(store).toArray());
}

// All records of a store whose indexed field equals value (e.g. a client's session logs).
export async function where(store, field, value) {
  return JSON.stringify(await db.table(store).where(field).equals(value).toArray());
}

// ops: [{store, doc}] to put, [{store, delete: id}] to delete; all in one transaction.
export async function write(opsJson) {
  const ops = JSON.parse(opsJson);
  const stores = [...new Set(ops.map((op) => op.store))];
  await db.transaction("rw", stores, async () => {
    for (const op of ops) {
      if ("delete" in op) await db.table(op.store).delete(op.delete);
      else await db.table(op.store).put(op.doc);
    }
  });
  return ops.length;
}

export async function getMeta(key) {
  const row = await db.meta.get(key);
  return row === undefined ? undefined : JSON.stringify(row.value);
}

export async function setMeta(key, valueJson) {
  await db.meta.put({ key, value: JSON.parse(valueJson) });
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
