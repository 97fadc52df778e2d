/**
 * Child of test/train-cli-out.test.ts, run inside a private mount namespace on a tiny tmpfs:
 * `enospc` writes a good file then one that does not fit; `erofs` (after a read-only remount)
 * tries to replace it. Prints one JSON line: the error's code, file and message, what the target
 * holds afterwards and the folder's entries (no temp may be left).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, OutputFileError } from '../../ts/train/atomic.js';

const [dir, mode] = process.argv.slice(2);
const file = join(dir, 'model.bin');
if (mode === 'enospc') await atomicWriteFile(file, new TextEncoder().encode('last good'));
try {
  await atomicWriteFile(file, new Uint8Array(mode === 'enospc' ? 4 << 20 : 16));
  console.log(JSON.stringify({ code: null }));
} catch (e) {
  const err = e as OutputFileError;
  console.log(JSON.stringify({ code: err.code, file: err.file, message: err.message, isOutputFileError: err instanceof OutputFileError, kept: readFileSync(file, 'utf8'), entries: readdirSync(dir) }));
}
