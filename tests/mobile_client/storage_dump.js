// Everything the page keeps: IndexedDB records (binary shown as lengths, keys as
// their extractability), localStorage, sessionStorage and the URLs in Cache Storage.
async () => {
  const idb = {};
  const open = (name) =>
    new Promise((ok, ko) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => ok(request.result);
      request.onerror = () => ko(request.error);
    });
  const all = (db, store) =>
    new Promise((ok) => {
      const request = db.transaction(store).objectStore(store).getAll();
      request.onsuccess = () => ok(request.result);
    });
  const plain = (key, value) => {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return `<${value.byteLength} bytes>`;
    if (value instanceof CryptoKey) return `<CryptoKey extractable=${value.extractable}>`;
    return value;
  };
  for (const info of await indexedDB.databases()) {
    const db = await open(info.name);
    for (const store of db.objectStoreNames) {
      const rows = await all(db, store);
      idb[`${info.name}/${store}`] = rows.map((row) => JSON.parse(JSON.stringify(row, plain)));
    }
    db.close();
  }
  const entries = (storage) => Object.fromEntries(Object.keys(storage).map((k) => [k, storage.getItem(k)]));
  const cached = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) cached.push(request.url);
  }
  return { idb, local: entries(localStorage), session: entries(sessionStorage), cached };
}
