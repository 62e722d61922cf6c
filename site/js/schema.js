// The records' database schema: {version: {store: "key, index, …"}}, one store per record type,
// keyed by id, with the few indexes the screens query by; `meta` holds small settings by key.
// Written by build.py from the registry of stored record types (site/py/medex/stores.py): add
// a store there, not here.
export const DB_NAME = "medex-practice";
export const SCHEMA = %INDEXEDDB_SCHEMA%;
const LATEST = SCHEMA[Math.max(...Object.keys(SCHEMA).map(Number))];
// The stores kept many documents to an IndexedDB record (buckets.js).
export const BUCKETED = new Set(%BUCKETED_STORES%);
// The indexed fields of each store: they stay readable when a record is sealed (crypto.js).
export const INDEXED = Object.fromEntries(
  Object.entries(LATEST).map(([store, spec]) => [store, spec.split(",").slice(1).map((f) => f.trim()).filter(Boolean)]),
);
