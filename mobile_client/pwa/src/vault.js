// The encrypted store: IndexedDB holds each record sealed with AES-GCM. The key is a
// non-extractable CryptoKey: script can use it but never read its bytes, and
// deleting it makes every sealed record unreadable at once (crypto-shredding),
// whatever the storage engine leaves on flash. Three stores share the key:
// `drafts` (photos taken, not yet sent), `items` (the upload queue) and `sent`
// (what left the phone this shift). Threat model: docs/mobile-app.md.

const DB_NAME = "capture-queue";
const DB_VERSION = 2;
const KEY_ID = "queue-key";
export const STORES = ["drafts", "items", "sent"];

let dbPromise = null;
let keyPromise = null;

function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        // Version 1 had keys and items: an upgrade adds what is missing and keeps the queue.
        if (!db.objectStoreNames.contains("keys")) db.createObjectStore("keys");
        for (const store of STORES) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store, { keyPath: "id" });
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

const sealJson = (value, id) => seal(new TextEncoder().encode(JSON.stringify(value)), id);

/**
 * Stores one record in `store`: `file` (a Blob, or null) and `meta` (the JSON that
 * names the patient) are sealed; the plain fields (`plain`) must hold nothing that
 * identifies anyone.
 */
export async function vaultPut(store, id, file, meta, plain) {
  const body = file ? await seal(await file.arrayBuffer(), id) : undefined;
  const record = { id, ...plain, ...(body ? { body } : {}), meta: await sealJson(meta, id) };
  await tx(store, "readwrite", (objects) => objects.put(record));
  return record;
}

/** Changes a record's plain fields and, when `meta` is given, reseals its meta. */
export async function vaultUpdate(store, id, changes, meta = undefined) {
  const sealedMeta = meta === undefined ? undefined : await sealJson(meta, id);
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, "readwrite");
    const objects = transaction.objectStore(store);
    const get = objects.get(id);
    get.onsuccess = () => {
      if (get.result) objects.put({ ...get.result, ...changes, ...(sealedMeta ? { meta: sealedMeta } : {}) });
    };
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}

/**
 * Moves a record from one store to another in one transaction (a kill in between
 * leaves it in one place, never both): the sealed media goes along unopened when
 * `keepBody`, the meta is resealed from `meta`, the plain fields are `plain`.
 */
export async function vaultMove(from, to, id, { meta, plain, keepBody }) {
  const sealedMeta = await sealJson(meta, id);
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction([from, to], "readwrite");
    const source = transaction.objectStore(from);
    const get = source.get(id);
    get.onsuccess = () => {
      if (!get.result) return;
      const record = { id, ...plain, meta: sealedMeta };
      if (keepBody && get.result.body) record.body = get.result.body;
      transaction.objectStore(to).put(record);
      source.delete(id);
    };
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}

export async function vaultList(store) {
  return (await tx(store, "readonly", (objects) => objects.getAll())) || [];
}

export async function vaultMeta(record) {
  return JSON.parse(new TextDecoder().decode(await unseal(record.meta, record.id)));
}

export async function vaultFile(record, type) {
  return new Blob([await unseal(record.body, record.id)], { type });
}

export async function vaultDelete(store, id) {
  await tx(store, "readwrite", (objects) => objects.delete(id));
}

/** With nothing left in any store, the key goes too: any leftover bytes become noise. */
export async function vaultShredIfEmpty() {
  for (const store of STORES) if ((await vaultList(store)).length) return false;
  await tx("keys", "readwrite", (objects) => objects.delete(KEY_ID));
  keyPromise = null;
  return true;
}
