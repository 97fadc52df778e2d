/**
 * The output folder of `tread train --out DIR`, checked before any training starts.
 *
 * What tread writes there: exactly the files in RUN_FILES (each atomically, never through a
 * symbolic link) and, while writing, temporary files `.<name>.tmp-<pid>-<random>` that it
 * renames over them; it removes only such temporary files left by a tread process that died.
 * Every other file in DIR is left alone. A folder that already holds a run is refused unless
 * the user says what to do with it: `--resume` continues it, `--overwrite` replaces its files.
 */
import { lstat, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkWritableTarget, OutputFileError } from '../train/atomic.js';

/** The files a run writes into its output folder. */
export const RUN_FILES = ['checkpoint.safetensors', 'model.safetensors', 'history.json', 'report.html'] as const;

/** A problem with --out that the user must fix; printed as one line. */
export class OutputFolderError extends Error {}

/** Creates `out` if needed and checks it may take this run's files; throws OutputFolderError. */
export async function prepareOutputFolder(out: string, opts: { overwrite: boolean; resume: boolean }): Promise<void> {
  let st;
  try {
    st = await lstat(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputFolderError(`--out ${out}: ${(e as Error).message}`);
  }
  if (st && st.isSymbolicLink()) {
    // A link the user named is theirs to follow, as long as it leads to a folder.
    try {
      st = await stat(out);
    } catch {
      throw new OutputFolderError(`--out ${out} is a symbolic link to nothing`);
    }
  }
  if (st && !st.isDirectory()) throw new OutputFolderError(`--out ${out} exists and is not a folder`);
  if (!st) {
    try {
      await mkdir(out, { recursive: true });
    } catch (e) {
      throw new OutputFolderError(`--out ${out}: cannot create the folder: ${(e as Error).message}`);
    }
  }
  const present: string[] = [];
  for (const name of RUN_FILES) {
    const file = join(out, name);
    try {
      await checkWritableTarget(file);
    } catch (e) {
      if (e instanceof OutputFileError) throw new OutputFolderError(`--out ${out}: ${name} is ${e.code === 'ESYMLINK' ? 'a symbolic link' : 'not a regular file'}; tread never writes through links or over other things (remove it or choose another --out)`);
      throw new OutputFolderError(`--out ${out}: ${(e as Error).message}`);
    }
    if (await exists(file)) present.push(name);
  }
  if (present.length > 0 && !opts.overwrite && !opts.resume) {
    throw new OutputFolderError(
      `--out ${out} already holds a run (${present.join(', ')}): pass --resume to continue it, --overwrite to replace those files, or choose another --out`,
    );
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}
