/**
 * Places in a browser that keep bytes between visits, behind one small interface:
 *
 *   indexedDBStore(name)  an IndexedDB database with one object store; a put is one
 *                         transaction, so a reader sees the old value or the new one
 *   opfsStore(folder)     a folder of the origin private file system (OPFS); a put writes
 *                         through createWritable(), which Chromium and Firefox commit
 *                         atomically on close() (a swap file until then), and aborts on error
 *
 * Keys are file-name-like (checked: no slashes, no '..', no control characters), so a key
 * cannot reach outside the store's folder. No Node dependency; browsers only (Workers too).
 */

/** Bytes by key: what saveCheckpointTo / loadCheckpointFrom take. */
export interface ByteStore {
  /** 'indexeddb' or 'opfs' (or your own). */
  readonly kind: string;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes under `key`, or null when there are none. */
  get(key: string): Promise<Uint8Array | null>;
  /** Removes `key` (nothing happens when it is absent). */
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** Throws unless `key` is a plain name (it becomes a file name in OPFS). */
export function checkStoreKey(owner: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
    throw new Error(`${owner}: a key must be a non-empty string of at most 255 characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(key) || key === '.' || key === '..') {
    throw new Error(`${owner}: key ${JSON.stringify(key)} may not contain slashes or control characters, nor be '.' or '..'`);
  }
  return key;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

const IDB_STORE = 'files';

/** A ByteStore in the IndexedDB database `name` (created on first use). */
export function indexedDBStore(name = 'tread'): ByteStore {
  if (typeof indexedDB === 'undefined') throw new Error('indexedDBStore: IndexedDB is not available here (it is a browser API; in Node use saveCheckpoint / loadCheckpoint with files)');
  if (typeof name !== 'string' || name.length === 0) throw new Error(`indexedDBStore: the database name must be a non-empty string, got ${JSON.stringify(name)}`);
  let db: Promise<IDBDatabase> | null = null;
  const open = () => {
    db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(IDB_STORE)) r.result.createObjectStore(IDB_STORE);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(new Error(`indexedDBStore: cannot open database '${name}': ${r.error?.message ?? 'unknown error'}`));
      r.onblocked = () => reject(new Error(`indexedDBStore: database '${name}' is blocked by another tab holding an older version`));
    });
    return db;
  };
  const tx = async (mode: IDBTransactionMode) => (await open()).transaction(IDB_STORE, mode);
  return {
    kind: 'indexeddb',
    async put(key, bytes) {
      checkStoreKey('indexedDBStore.put', key);
      const t = await tx('readwrite');
      // A copy: the caller's buffer may be wasm memory or transferred away later.
      t.objectStore(IDB_STORE).put(bytes.slice().buffer, key);
      await done(t);
    },
    async get(key) {
      checkStoreKey('indexedDBStore.get', key);
      const v = await request((await tx('readonly')).objectStore(IDB_STORE).get(key));
      if (v === undefined) return null;
      if (!(v instanceof ArrayBuffer)) throw new Error(`indexedDBStore: the value under '${key}' in '${name}' is not bytes (it was not written by tread)`);
      return new Uint8Array(v);
    },
    async delete(key) {
      checkStoreKey('indexedDBStore.delete', key);
      const t = await tx('readwrite');
      t.objectStore(IDB_STORE).delete(key);
      await done(t);
    },
    async keys() {
      const ks = await request((await tx('readonly')).objectStore(IDB_STORE).getAllKeys());
      return ks.filter((k): k is string => typeof k === 'string');
    },
  };
}

/** A ByteStore in the folder `folder` of the origin private file system (created on first use). */
export function opfsStore(folder = 'tread'): ByteStore {
  const storage = (globalThis as any).navigator?.storage as StorageManager | undefined;
  if (!storage || typeof storage.getDirectory !== 'function') {
    throw new Error('opfsStore: the origin private file system is not available here (a browser API, on secure origins; in Node use saveCheckpoint / loadCheckpoint with files)');
  }
  checkStoreKey('opfsStore (folder)', folder);
  const dir = async () => (await storage.getDirectory()).getDirectoryHandle(folder, { create: true });
  const fileHandle = async (key: string, create: boolean): Promise<FileSystemFileHandle | null> => {
    try {
      return await (await dir()).getFileHandle(key, { create });
    } catch (e) {
      if ((e as DOMException)?.name === 'NotFoundError' || (e as DOMException)?.name === 'TypeMismatchError') return null;
      throw e;
    }
  };
  return {
    kind: 'opfs',
    async put(key, bytes) {
      checkStoreKey('opfsStore.put', key);
      const h = (await fileHandle(key, true))!;
      const w = await h.createWritable();
      try {
        await w.write(bytes.slice());
        await w.close();
      } catch (e) {
        await w.abort().catch(() => {});
        throw e;
      }
    },
    async get(key) {
      checkStoreKey('opfsStore.get', key);
      const h = await fileHandle(key, false);
      if (!h) return null;
      return new Uint8Array(await (await h.getFile()).arrayBuffer());
    },
    async delete(key) {
      checkStoreKey('opfsStore.delete', key);
      try {
        await (await dir()).removeEntry(key);
      } catch (e) {
        if ((e as DOMException)?.name !== 'NotFoundError') throw e;
      }
    },
    async keys() {
      const out: string[] = [];
      for await (const [name, h] of (await dir()) as any as AsyncIterable<[string, FileSystemHandle]>) if (h.kind === 'file') out.push(name);
      return out.sort();
    },
  };
}
