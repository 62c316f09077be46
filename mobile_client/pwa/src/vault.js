// The encrypted queue: IndexedDB holds each capture sealed with AES-GCM until the
// hub confirms it has it. The key is a non-extractable CryptoKey: script can use it
// but never read its bytes, and deleting it makes every sealed record unreadable
// at once (crypto-shredding), whatever the storage engine leaves on flash.
// Threat model: docs/mobile-app.md.

const DB_NAME = "capture-queue";
const DB_VERSION = 1;
const KEY_ID = "queue-key";

let dbPromise = null;
let keyPromise = null;

function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("keys");
        db.createObjectStore("items", { keyPath: "id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return dbPromise;
}

async function tx(store, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    let result;
    const request = work(transaction.objectStore(store));
    request.onsuccess = () => (result = request.result);
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("IndexedDB transaction aborted"));
  });
}

function key() {
  if (!keyPromise) {
    keyPromise = (async () => {
      const existing = await tx("keys", "readonly", (store) => store.get(KEY_ID));
      if (existing) return existing;
      const fresh = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      await tx("keys", "readwrite", (store) => store.put(fresh, KEY_ID));
      return fresh;
    })();
    keyPromise.catch(() => (keyPromise = null));
  }
  return keyPromise;
}

async function seal(bytes, id) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  // The record id is the additional data: a sealed blob cannot be moved to another record.
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(id) },
    await key(),
    bytes,
  );
  return { iv, data };
}

async function unseal(sealed, id) {
  return crypto.subtle.decrypt(
    { name: "AES-GCM", iv: sealed.iv, additionalData: new TextEncoder().encode(id) },
    await key(),
    sealed.data,
  );
}

/**
 * Stores one capture: `file` (Blob) and `meta` (the JSON that names the patient) are
 * sealed; the record's plain fields (`plain`) must hold nothing that identifies anyone.
 */
export async function vaultPut(id, file, meta, plain) {
  const body = await seal(await file.arrayBuffer(), id);
  const sealedMeta = await seal(new TextEncoder().encode(JSON.stringify(meta)), id);
  const record = { id, ...plain, body, meta: sealedMeta };
  await tx("items", "readwrite", (store) => store.put(record));
  return record;
}

/** Updates plain fields only (state, upload URL, attempts). */
export async function vaultUpdate(id, changes) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction("items", "readwrite");
    const store = transaction.objectStore("items");
    const get = store.get(id);
    get.onsuccess = () => {
      if (get.result) store.put({ ...get.result, ...changes });
    };
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}

export async function vaultList() {
  return (await tx("items", "readonly", (store) => store.getAll())) || [];
}

export async function vaultMeta(record) {
  return JSON.parse(new TextDecoder().decode(await unseal(record.meta, record.id)));
}

export async function vaultFile(record, type) {
  return new Blob([await unseal(record.body, record.id)], { type });
}

export async function vaultDelete(id) {
  await tx("items", "readwrite", (store) => store.delete(id));
}

/** With nothing left to send, the key goes too: any leftover bytes become noise. */
export async function vaultShredIfEmpty() {
  if ((await vaultList()).length) return false;
  await tx("keys", "readwrite", (store) => store.delete(KEY_ID));
  keyPromise = null;
  return true;
}
