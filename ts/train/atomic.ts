/**
 * Atomic file writes (Node only): the bytes go to a temporary file in the same folder, are
 * flushed to disk (fsync), and the temporary file is then renamed over the target. A rename
 * within one file system is atomic, so a reader (or a crash at any moment) sees either the
 * complete old file or the complete new one, never a mix or a half-written file. The folder
 * is fsynced afterwards so the rename itself survives a power loss (where the OS allows it).
 *
 * node:fs is imported dynamically so that the library bundle still loads in browsers.
 */

export interface AtomicWriteOptions {
  /**
   * Test hook: runs after the temporary file is complete and synced, just before the rename.
   * A throw here (or the process dying here) must leave the target untouched.
   */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

async function nodeFs() {
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error(
      'tread: files can only be written and read in Node. In a browser use tread.train.saveCheckpointTo / loadCheckpointFrom ' +
        'with indexedDBStore() or opfsStore(), checkpointBytes / weightsBytes + downloadBytes for a download, and ' +
        'loadCheckpointFrom / loadWeightsFrom with a File, Blob or fetch() Response',
    );
  }
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  return { fs, path };
}

/** Writes `bytes` to `file` atomically (see above). Creates the folder if needed. */
export async function atomicWriteFile(file: string, bytes: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const { fs, path } = await nodeFs();
  const dir = path.dirname(path.resolve(file));
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  let handle: Awaited<ReturnType<typeof fs.open>> | null = null;
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    let off = 0;
    const CHUNK = 16 << 20;
    while (off < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, off, Math.min(CHUNK, bytes.length - off), off);
      off += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = null;
    if (options.beforeRename) await options.beforeRename(tmp);
    await fs.rename(tmp, file);
  } catch (e) {
    if (handle) await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  // Make the rename durable; not every platform lets a folder be opened for fsync.
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
}

/** Reads a whole file as bytes (Node only). */
export async function readFileBytes(file: string): Promise<Uint8Array> {
  const { fs } = await nodeFs();
  const b = await fs.readFile(file);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Removes temporary files left in `file`'s folder by writers that died mid-save (their
 * process id no longer runs). Returns the names removed.
 */
export async function removeStaleTemps(file: string): Promise<string[]> {
  const { fs, path } = await nodeFs();
  const dir = path.dirname(path.resolve(file));
  const prefix = `.${path.basename(file)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) continue;
    if (pid === process.pid) continue;
    await fs.rm(path.join(dir, n), { force: true }).catch(() => {});
    removed.push(n);
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
