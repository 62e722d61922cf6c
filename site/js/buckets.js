// Stores kept in buckets (stores.py `bucketed`: the dashboard rows, one small document per
// client that the home screen reads whole at every visit). Reading an IndexedDB store costs
// about as much per record as per byte: 1,000 rows of 2 kB took 40–70 ms one record each,
// the same 1.9 MB in 16 records 5–7 ms. So such a store's plain documents are kept as JSON
// text, many to a record: `{id: "~bucket:NN", texts: {documentId: text}}`.
//
// A sealed document (encryption on) stays a record of its own: a bucket is changed inside the
// write's transaction, where nothing can be encrypted or decrypted (WebCrypto is not an
// IndexedDB request). A document is in one place only: the write that puts it into its
// bucket deletes its own record in the same transaction, and the other way round. Readers
// take both places (records written before buckets, sealed ones, buckets).
import { BUCKETED } from "./schema.js";

const BUCKETS = 16;
const PREFIX = "~bucket:"; // "~" sorts after every id the app makes (UUIDs, the nil UUID)

export const isBucketed = (store) => BUCKETED.has(store);
export const isBucket = (record) =>
  record !== undefined && typeof record.id === "string" && record.id.startsWith(PREFIX) && typeof record.texts === "object";

// The bucket a document id belongs in (a hash of the id: any id, not only UUIDs).
export function bucketOf(id) {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (Math.imul(hash, 31) + id.charCodeAt(i)) >>> 0;
  return PREFIX + String(hash % BUCKETS).padStart(2, "0");
}

// The documents of a bucketed store's records (in key order, as toArray gives them) as
// [id, text] for a bucket's and [id, record] for a record of its own (maybe sealed: the
// caller opens it), in id order: the order a store of one record each reads in.
export function entries(records) {
  const out = [];
  for (const record of records) {
    if (isBucket(record)) for (const [id, text] of Object.entries(record.texts)) out.push([id, text]);
    else if (record !== undefined) out.push([record.id, record]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// Inside a write's transaction: the stored documents of `ids` (Map id → document or
// undefined), wherever each is kept; bucketed texts parsed (a write checks their revision).
export async function storedIn(table, ids) {
  const names = [...new Set(ids.map(bucketOf))];
  const [own, buckets] = await Promise.all([table.bulkGet(ids), table.bulkGet(names)]);
  const byName = new Map(names.map((name, i) => [name, buckets[i]]));
  return new Map(
    ids.map((id, i) => {
      const text = own[i] === undefined ? byName.get(bucketOf(id))?.texts[id] : undefined;
      return [id, own[i] ?? (text === undefined ? undefined : JSON.parse(text))];
    }),
  );
}

// Inside a write's transaction: a run of puts (`items`: documents) or deletes (`items`: ids)
// into a bucketed store, in order. A plain document goes into its bucket, a sealed one into a
// record of its own; either way it leaves the other place. A bucket left empty is deleted.
export async function writeRun(table, run) {
  const ids = run.delete ? run.items : run.items.map((doc) => doc.id);
  const names = [...new Set(ids.map(bucketOf))];
  const found = await table.bulkGet(names);
  const buckets = new Map(names.map((name, i) => [name, found[i] ?? { id: name, texts: {} }]));
  const own = new Map();
  for (const item of run.items) {
    const id = run.delete ? item : item.id;
    const texts = buckets.get(bucketOf(id)).texts;
    own.delete(id);
    if (!run.delete && !item._enc) texts[id] = JSON.stringify(item);
    else {
      delete texts[id];
      if (!run.delete) own.set(id, item);
    }
  }
  await table.bulkDelete(ids); // the records of their own, if any (IndexedDB runs requests in order)
  if (own.size) await table.bulkPut([...own.values()]);
  const kept = [...buckets.values()];
  const empty = kept.filter((bucket) => Object.keys(bucket.texts).length === 0).map((bucket) => bucket.id);
  const full = kept.filter((bucket) => Object.keys(bucket.texts).length > 0);
  if (empty.length) await table.bulkDelete(empty);
  if (full.length) await table.bulkPut(full);
}

// A bucketed store's records as documents, one each, in id order (maybe sealed: open them
// to read; sealed one by one when encryption is turned on: a bucket is never sealed whole).
export function unbucketed(records) {
  return entries(records).map(([, value]) => (typeof value === "string" ? JSON.parse(value) : value));
}
