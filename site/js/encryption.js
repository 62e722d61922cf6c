// Turning encryption on and off, unlocking and locking: in step with the app's other tabs
// (their messages below) and after a time without use (setIdleLock).
import {
  announceCrypto,
  cryptoChannel,
  cryptoMeta,
  dataKey,
  enabled,
  encryption,
  newRecoveryKey,
  normaliseRecovery,
  openDoc,
  openMeta,
  requireKey,
  sealDoc,
  sealMeta,
  setCryptoMeta,
  setDataKey,
  setEncryption,
  unwrapEnvelope,
  wrapEnvelope,
} from "./crypto.js";
import {
  abortMove,
  copyStore,
  db,
  finishMove,
  follow,
  holdMoveLock,
  move,
  readCryptoState,
  reloadCryptoState,
  startMove,
} from "./database.js";
import { isBucket, unbucketed } from "./buckets.js";
import { putPlainMeta } from "./storage.js";

// -- one cross-tab truth for encryption --------------------------------------------------------
// Every tab keeps its own copy of the encryption state and of the unwrapped key. Each write
// compares that copy with what is stored (writeNow); a change made here is announced to the
// other tabs, which reload theirs; "Lock" locks every tab; activity in any tab keeps the others
// from auto-locking.
cryptoChannel.onmessage = (event) => {
  const message = event.data || {};
  if (message.type === "lock") {
    if (dataKey) {
      setDataKey(null);
      dispatchEvent(new CustomEvent("medex:locked"));
    }
  } else if (message.type === "changed") {
    // (a failure here is a closed connection: its own handler tells the page)
    if (db) reloadCryptoState().catch(() => {});
  } else if (message.type === "moved") {
    // another tab turned encryption on: the records are in a new database
    if (db) follow().catch(() => {});
  } else if (message.type === "active") {
    lastActivity = Math.max(lastActivity, Number(message.at) || 0);
  }
};

// Turn encryption on: make the data key, wrap it twice, and start a move into a fresh database
// (startMove). The caller then calls migrateStore for every store (each is copied, sealed) and
// finishMigration (the switch). Returns the recovery key. Until the switch the live database
// is untouched and says "off" (this tab alone says "encrypting"): if the tab dies meanwhile,
// encryption simply is not on, and nothing is lost.
export async function setupEncryptionNow(passphrase) {
  if (move) throw new Error("Encryption is being turned on already.");
  const release = await holdMoveLock(); // no write runs in any tab until the switch
  try {
    await follow();
    await readCryptoState(); // the live database's state, not this tab's memory of it
    if (enabled()) throw new Error("Encryption is already on.");
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    const recovery = newRecoveryKey();
    const wrapped = { passphrase: await wrapEnvelope(key, passphrase), recovery: await wrapEnvelope(key, recovery) };
    // Only the non-extractable copy is kept.
    const dataKeyNow = await unwrapEnvelope(wrapped.passphrase, passphrase, false);
    await startMove(release, dataKeyNow, wrapped);
    setCryptoMeta(wrapped);
    setDataKey(dataKeyNow);
    setEncryption({ state: "encrypting" });
    return recovery;
  } catch (e) {
    if (!move) release();
    throw e;
  }
}

export async function startDecryptionNow() {
  requireKey();
  setEncryption({ state: "decrypting" });
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
export async function migrateStoreNow(store) {
  if (move || encryption.state === "encrypting") {
    // Turning encryption on (or an in-place run of an older version, interrupted): copy into
    // a fresh database. The stores already sealed in place stay as they are there.
    if (!move) {
      requireKey();
      const release = await holdMoveLock();
      try {
        await follow(); // another tab may have finished this run meanwhile
        await readCryptoState();
        if (encryption.state !== "encrypting" || !dataKey) {
          release();
          return 0;
        }
        await startMove(release, dataKey, cryptoMeta);
      } catch (e) {
        if (!move) release();
        throw e;
      }
    }
    try {
      return await copyStore(store);
    } catch (e) {
      await abortMove();
      throw e;
    }
  }
  requireKey();
  const toSealed = encryption.state === "encrypting";
  if (!toSealed && encryption.state !== "decrypting") return 0;
  const table = db.table(store);
  const key = table.schema.primKey.keyPath;
  const before = await table.toArray();
  const changed = [];
  const buckets = []; // [the bucket as read, its documents sealed] (buckets.js: never sealed whole)
  let moved = false;
  for (const row of before) {
    if (isBucket(row)) {
      if (toSealed) buckets.push([JSON.stringify(row), await Promise.all(unbucketed([row]).map((doc) => sealDoc(store, doc)))]);
      continue;
    }
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
    for (const [was, sealed] of buckets) {
      const id = JSON.parse(was).id;
      const now = await table.get(id);
      if (now === undefined) continue; // emptied meanwhile
      if (JSON.stringify(now) !== was) {
        moved = true; // written meanwhile: read and sealed again below
        continue;
      }
      await table.bulkPut(sealed);
      await table.delete(id);
    }
  });
  if (moved) return changed.length + buckets.length + (await migrateStoreNow(store));
  return changed.length + buckets.length;
}

export async function finishMigrationNow() {
  if (move) {
    try {
      await finishMove();
    } catch (e) {
      if (move) await abortMove(); // not switched: the old database is live and complete
      throw e;
    }
    announceCrypto("changed");
    return encryption.state;
  }
  requireKey();
  if (encryption.state === "encrypting") {
    setEncryption({ state: "on" });
    await putPlainMeta("encryption", encryption);
  } else if (encryption.state === "decrypting") {
    setEncryption({ state: "off" });
    setCryptoMeta(null);
    await db.transaction("rw", db.meta, async () => {
      await putPlainMeta("encryption", encryption);
      await db.meta.delete("crypto");
    });
    setDataKey(null);
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
  setDataKey(key);
  lastActivity = Date.now();
  return true;
}

// Re-wrap the data key under a new passphrase (the records are not touched).
export async function changePassphraseNow(oldSecret, newSecret) {
  if (!cryptoMeta) return false;
  const key = await unwrapEnvelope(cryptoMeta.passphrase, oldSecret, true);
  if (!key) return false;
  setCryptoMeta({ ...cryptoMeta, passphrase: await wrapEnvelope(key, newSecret) });
  await putPlainMeta("crypto", cryptoMeta);
  announceCrypto("changed");
  return true;
}

// Lock this tab and every other open tab of the app.
export function lock() {
  if (!enabled()) return false;
  setDataKey(null);
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
