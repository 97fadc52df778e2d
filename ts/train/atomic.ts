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

/**
 * An output could not be written (or was refused): names the target file, never the temporary
 * one. `code` is the system error code (ENOSPC, EROFS, EACCES ...) or 'ESYMLINK' / 'ENOTFILE'
 * when tread refused to replace a symbolic link or something that is not a regular file.
 */
export class OutputFileError extends Error {
  readonly file: string;
  readonly code: string;
  constructor(file: string, code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'OutputFileError';
    this.file = file;
    this.code = code;
  }
}

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a folder',
};

/** The name of a temporary file for `base` made by this process: `.<base>.tmp-<pid>-<random base36>`. */
function tempName(base: string): string {
  return `.${base}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Matches exactly the names tempName makes for `base`; group 1 is the pid. */
function tempPattern(base: string): RegExp {
  return new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-([1-9][0-9]{0,9})-[0-9a-z]+$`);
}

/**
 * Refuses a target that is a symbolic link (a rename would replace the link, and a user who
 * planted it meant it to point somewhere) or anything but a regular file. A missing file is fine.
 */
export async function checkWritableTarget(file: string): Promise<void> {
  const { fs } = await nodeFs();
  let st;
  try {
    st = await fs.lstat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isSymbolicLink()) throw new OutputFileError(file, 'ESYMLINK', `tread: refusing to write ${file}: it is a symbolic link (tread never writes through links; remove it or write elsewhere)`);
  if (!st.isFile()) throw new OutputFileError(file, 'ENOTFILE', `tread: refusing to write ${file}: it exists and is not a regular file`);
}

/** Writes `bytes` to `file` atomically (see above). Creates the folder if needed. Never follows or replaces a symbolic link at `file`. */
export async function atomicWriteFile(file: string, bytes: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  // saveCheckpoint/saveWeights pass their whole options (checked there); only the hook is read here.
  if (options !== undefined && options !== null && typeof options !== 'object') throw new TypeError(`atomicWriteFile: options must be an object, got ${typeof options}`);
  const { fs, path } = await nodeFs();
  const dir = path.dirname(path.resolve(file));
  let tmp = '';
  const fail = (e: unknown): never => {
    if (e instanceof OutputFileError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (typeof code !== 'string') throw e;
    // Name the target, not the temporary file the system call saw.
    const why = WHY[code] ?? (tmp ? (e as Error).message.split(tmp).join('its temporary file') : (e as Error).message);
    throw new OutputFileError(file, code, `tread: could not write ${file}: ${why} (${code}); the previous file, if any, is unchanged`, e);
  };
  try {
    await fs.mkdir(dir, { recursive: true });
    await checkWritableTarget(file);
  } catch (e) {
    fail(e);
  }
  tmp = path.join(dir, tempName(path.basename(file)));
  let handle: Awaited<ReturnType<typeof fs.open>> | null = null;
  let created = false;
  try {
    // 'wx' = O_CREAT | O_EXCL: never opens an existing file (nor a planted link) under this name.
    handle = await fs.open(tmp, 'wx', 0o644);
    created = true;
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
    // A link planted while we wrote is refused too (rename itself would replace, not follow, it).
    await checkWritableTarget(file);
    await fs.rename(tmp, file);
  } catch (e) {
    if (handle) await handle.close().catch(() => {});
    // Only the file this call created is removed.
    if (created) await fs.rm(tmp, { force: true }).catch(() => {});
    fail(e);
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
 * Removes temporary files left in `file`'s folder by writers that died mid-save. Only names of
 * exactly the form tread makes (`.<name>.tmp-<pid>-<base36>`, see tempName) whose process no
 * longer runs, and only regular files: a user's `.checkpoint.safetensors.tmp-backup` stays.
 * Returns the names removed.
 */
export async function removeStaleTemps(file: string): Promise<string[]> {
  const { fs, path } = await nodeFs();
  const dir = path.dirname(path.resolve(file));
  const pattern = tempPattern(path.basename(file));
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = pattern.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const full = path.join(dir, n);
    try {
      if (!(await fs.lstat(full)).isFile()) continue;
      await fs.rm(full);
      removed.push(n);
    } catch {
      /* gone already, or not ours to remove */
    }
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
