// The IndexedDB facade: the only place that talks to IndexedDB (through Dexie), and the one
// module Python (app/browser.py, as `medex_store`), js/signing.js and the tests import.
// Every call is one transaction taking and returning plain JSON text (or undefined, which
// Python sees as None), so Python never holds
// a transaction open across an await and no JS objects cross into Python.
//
//   schema.js      the Dexie schema (written by build.py from site/py/medex/stores.py)
//   crypto.js      WebCrypto: the data key, sealing records, wrapping the key
//   database.js    which database is live (storage buckets, pointer database), the move
//   storage.js     reads and writes, errors, storage quota and persistence
//   encryption.js  turning encryption on and off, unlock, lock, the other tabs, auto-lock
//   files.js       encrypted backup files, downloads, picked files and images
//   backupfile.js  backup files of format 2, written and read a part at a time
import { currentDataKey, cryptoStatus } from "./crypto.js";
import { isDemo, liveLocation, open, openPracticeNow, reopenForReading } from "./database.js";
import {
  changePassphraseNow,
  finishMigrationNow,
  lock,
  migrateStoreNow,
  migrationStores,
  setIdleLock,
  setupEncryptionNow,
  startDecryptionNow,
  unlock,
} from "./encryption.js";
import { decryptBackup, download, encryptBackup, imageToDataUrl, readText } from "./files.js";
// The backup file, a part at a time (the Data screen calls these through this facade).
export {
  backupAbort,
  backupExport,
  backupFinish,
  backupLine,
  fileHead,
  fileText,
  holdFile,
  nextLine,
  openLines,
  readProgress,
  releaseFile,
} from "./backupfile.js";
import {
  exportAllNow,
  getAllNow,
  getAuditNow,
  getMetaNow,
  getNow,
  lastAuditNow,
  metaWithPrefixNow,
  onOtherTabWrites,
  plainError,
  projectNow,
  requestPersist,
  setMeta,
  storageInfo,
  whereNow,
  write,
  dropKept,
  dropStaged,
  keepPart,
  keptPart,
  stageEncoded,
  stageKept,
  stageOps,
  writeStaged,
} from "./storage.js";

export {
  dropKept,
  dropStaged,
  keepPart,
  keptPart,
  stageEncoded,
  stageKept,
  stageOps,
  writeStaged,
  cryptoStatus,
  decryptBackup,
  download,
  encryptBackup,
  imageToDataUrl,
  isDemo,
  liveLocation,
  lock,
  migrationStores,
  onOtherTabWrites,
  open,
  readText,
  reopenForReading,
  requestPersist,
  setIdleLock,
  setMeta,
  storageInfo,
  unlock,
  write,
};

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
// The same reads as UTF-8 bytes (a Uint8Array), for Python: Pyodide copies bytes, while it
// converts a string character by character (a megabyte of dashboard rows: 13–110 ms as text,
// 4–34 ms as bytes, measured side by side in one page).
const encoder = new TextEncoder();
const utf8 = (fn) => guarded(async (...args) => {
  const text = await fn(...args);
  return text === undefined ? undefined : encoder.encode(text);
});
export const getAllUtf8 = utf8(getAllNow);
export const projectUtf8 = utf8(projectNow);
export const whereUtf8 = utf8(whereNow);
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
export const openPractice = guarded(openPracticeNow);


// For js/signing.js (the practice signing key, sealed with the data key while encryption is
// on): the unlocked data key, a non-extractable AES-GCM CryptoKey, or null.
export { currentDataKey };
