/**
 * The output folder of `tread train --out DIR` (issue 19.2): a user's files there are never
 * changed or removed (a `.checkpoint.safetensors.tmp-backup` included), an earlier run is refused
 * unless --resume or --overwrite, no output is written through a planted symbolic link, --out
 * naming a file is one line without a stack, and a full or read-only disk names the target file
 * and keeps the last good one.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { atomicWriteFile, OutputFileError, removeStaleTemps } from '../ts/train/atomic.js';
import { runCli } from './helpers/run-cli.js';

const base = mkdtempSync(join(tmpdir(), 'tread-out-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const QUICK = ['--model', 'mlp', '--width', '16', '--limit', '128', '--schedule', 'none', '--no-progress', '--no-monitor'];
const train = (out: string, ...extra: string[]) => runCli(['train', ...QUICK, '--epochs', '1', '--out', out, ...extra]);

/** Content and modification time of every file in `dir` (names sorted). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) {
    const st = lstatSync(join(dir, n));
    out[n] = st.isFile() ? `${readFileSync(join(dir, n), 'utf8')}|${st.mtimeMs}` : st.isSymbolicLink() ? 'link' : 'other';
  }
  return out;
}

const USER_FILES: Record<string, string> = {
  'notes.txt': 'my notes',
  '.checkpoint.safetensors.tmp-backup': 'a backup that looks like a stale temp',
  '.checkpoint.safetensors.tmp-old-1': 'another',
  '.report.html.tmp-': 'empty pid',
  'checkpoint.safetensors.bak': 'older checkpoint',
};

/** A pid that surely does not run any more: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp) {
  expect(stderr).toMatch(pattern);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('tread train --out', () => {
  it("leaves a user's files alone, refuses an earlier run unless --resume or --overwrite", async () => {
    const out = join(base, 'run');
    mkdirSync(out);
    for (const [n, text] of Object.entries(USER_FILES)) writeFileSync(join(out, n), text);
    const users = snapshot(out);

    const first = await train(out);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const afterFirst = snapshot(out);
    for (const n of Object.keys(users)) expect(afterFirst[n], n).toBe(users[n]);
    expect(Object.keys(afterFirst).sort()).toEqual([...Object.keys(users), 'checkpoint.safetensors', 'history.json', 'model.safetensors', 'report.html'].sort());

    // The same command again would overwrite the run: refused, one line, nothing changed.
    const again = await train(out);
    expect(again.status).toBe(2);
    expectOneLine(again.stderr, /^tread train: --out .*run already holds a run \(checkpoint.safetensors, model.safetensors, history.json, report.html\): pass --resume to continue it, --overwrite to replace those files, or choose another --out$/m);
    expect(snapshot(out)).toEqual(afterFirst);

    // --resume continues it; --overwrite replaces tread's four files and nothing else.
    const resumed = await runCli(['train', ...QUICK, '--epochs', '2', '--out', out, '--resume']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).history).toHaveLength(2);
    const over = await train(out, '--overwrite');
    expect(over.status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).history).toHaveLength(1);
    const afterOver = snapshot(out);
    for (const n of Object.keys(users)) expect(afterOver[n], n).toBe(users[n]);
    expect(Object.keys(afterOver)).toHaveLength(Object.keys(users).length + 4);
  });

  it('refuses a folder whose output names are symbolic links (even with --overwrite); the link targets stay untouched', async () => {
    for (const name of ['history.json', 'report.html', 'model.safetensors', 'checkpoint.safetensors']) {
      const out = join(base, `link-${name}`);
      mkdirSync(out);
      const outside = join(base, `outside-${name}.txt`);
      writeFileSync(outside, 'precious');
      symlinkSync(outside, join(out, name));
      const r = await train(out, '--overwrite');
      expect(r.status, name).toBe(2);
      expectOneLine(r.stderr, new RegExp(`^tread train: --out .*: ${name.replace('.', '\\.')} is a symbolic link; tread never writes through links`));
      expect(readFileSync(outside, 'utf8')).toBe('precious');
      expect(lstatSync(join(out, name)).isSymbolicLink()).toBe(true);
      expect(readdirSync(out)).toEqual([name]);
    }
  });

  it('--out naming an existing file: one line, no stack', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'x');
    const r = await train(file);
    expect(r.status).toBe(2);
    expectOneLine(r.stderr, /^tread train: --out .*a-file exists and is not a folder$/m);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('atomicWriteFile and removeStaleTemps', () => {
  it('refuses to replace a symbolic link or a folder, leaving the link, its target and no temp behind', async () => {
    const dir = join(base, 'atomic');
    mkdirSync(dir);
    writeFileSync(join(base, 'target.txt'), 'precious');
    symlinkSync(join(base, 'target.txt'), join(dir, 'out.bin'));
    const err = await atomicWriteFile(join(dir, 'out.bin'), new Uint8Array([1, 2])).catch((e) => e);
    expect(err).toBeInstanceOf(OutputFileError);
    expect(err).toMatchObject({ code: 'ESYMLINK', file: join(dir, 'out.bin') });
    expect(err.message).toMatch(/refusing to write .*out\.bin: it is a symbolic link/);
    mkdirSync(join(dir, 'sub.bin'));
    await expect(atomicWriteFile(join(dir, 'sub.bin'), new Uint8Array([1]))).rejects.toMatchObject({ code: 'ENOTFILE' });
    // A link planted while the temp file is written is refused at the rename too.
    const late = join(dir, 'late.bin');
    writeFileSync(late, 'old');
    await expect(
      atomicWriteFile(late, new Uint8Array([9]), {
        beforeRename: () => {
          rmSync(late);
          symlinkSync(join(base, 'target.txt'), late);
        },
      }),
    ).rejects.toMatchObject({ code: 'ESYMLINK' });
    expect(readFileSync(join(base, 'target.txt'), 'utf8')).toBe('precious');
    expect(readdirSync(dir).sort()).toEqual(['late.bin', 'out.bin', 'sub.bin']);
  });

  it("removes only tread's own temp files of dead processes, never a user's look-alikes", async () => {
    const dir = join(base, 'stale');
    mkdirSync(dir);
    const dead = await deadPid();
    const names = {
      deadTemp: `.ck.safetensors.tmp-${dead}-lq2x9k4ab12`,
      ownTemp: `.ck.safetensors.tmp-${process.pid}-abc`,
      liveTemp: `.ck.safetensors.tmp-${process.ppid}-abc`,
      backup: '.ck.safetensors.tmp-backup',
      zeroPid: '.ck.safetensors.tmp-0-abc',
      mixed: `.ck.safetensors.tmp-${dead}x-abc`,
      suffix: `.ck.safetensors.tmp-${dead}-abc.keep`,
      otherName: `.ck2.safetensors.tmp-${dead}-abc`,
      noDot: `ck.safetensors.tmp-${dead}-abc`,
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), n);
    mkdirSync(join(dir, `.ck.safetensors.tmp-${dead}-dir`));
    symlinkSync(join(base, 'target.txt'), join(dir, `.ck.safetensors.tmp-${dead}-link`));
    const removed = await removeStaleTemps(join(dir, 'ck.safetensors'));
    expect(removed).toEqual([names.deadTemp]);
    const left = readdirSync(dir).sort();
    expect(left).toEqual(
      [...Object.values(names).filter((n) => n !== names.deadTemp), `.ck.safetensors.tmp-${dead}-dir`, `.ck.safetensors.tmp-${dead}-link`].sort(),
    );
    expect(readFileSync(join(base, 'target.txt'), 'utf8')).toBe('precious');
  });

  // A tiny tmpfs in a private mount namespace (unshare -r -m: no root needed where user
  // namespaces are allowed) gives a real ENOSPC and, remounted read-only, a real EROFS.
  const canUnshare = existsSync('/usr/bin/unshare');
  it.runIf(canUnshare)('a full or read-only disk: the error names the target file and the last good file is kept', async () => {
    const mnt = join(base, 'tinyfs');
    mkdirSync(mnt);
    const script = join(import.meta.dirname, 'helpers', 'atomic-full-disk.ts');
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const sh = `mount -t tmpfs -o size=256k tmpfs '${mnt}' && '${tsx}' '${script}' '${mnt}' enospc && mount -o remount,ro '${mnt}' && '${tsx}' '${script}' '${mnt}' erofs`;
    const child = spawn('unshare', ['-r', '-m', 'sh', '-c', sh]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('close', r));
    if (/unshare: .*(Operation not permitted|not supported)/.test(stderr)) {
      console.warn(`skipped the full-disk check: ${stderr.trim()}`);
      return;
    }
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    const [full, ro] = lines;
    expect(full).toMatchObject({ code: 'ENOSPC', file: `${mnt}/model.bin`, kept: 'last good', entries: ['model.bin'] });
    expect(full.message).toMatch(/^tread: could not write .*tinyfs\/model\.bin: no space left on the device \(ENOSPC\); the previous file, if any, is unchanged$/);
    expect(full.message).not.toMatch(/tmp-/);
    expect(ro).toMatchObject({ code: 'EROFS', file: `${mnt}/model.bin`, kept: 'last good', entries: ['model.bin'] });
    expect(ro.message).toMatch(/could not write .*tinyfs\/model\.bin: the file system is read-only \(EROFS\)/);
  });

  it.runIf(canUnshare)('tread train on a full disk: one line naming the output file, exit 1, no temp left', async () => {
    const mnt = join(base, 'tinyfs-cli');
    mkdirSync(mnt);
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const main = join(import.meta.dirname, '..', 'ts', 'cli', 'main.ts');
    const args = ['train', ...QUICK, '--epochs', '1', '--out', `${mnt}/run`].map((a) => `'${a}'`).join(' ');
    // 32 KiB: the folder fits, the first checkpoint (about 60 KB) does not.
    const sh = `mount -t tmpfs -o size=32k tmpfs '${mnt}' && TREAD_THREADS=1 '${tsx}' '${main}' ${args}; echo "exit=$?"; ls -A '${mnt}/run'`;
    const child = spawn('unshare', ['-r', '-m', 'sh', '-c', sh]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise((r) => child.on('close', r));
    if (/unshare: .*(Operation not permitted|not supported)/.test(stderr)) {
      console.warn(`skipped the full-disk check: ${stderr.trim()}`);
      return;
    }
    expect(stdout).toMatch(/exit=1\n$/);
    expectOneLine(stderr, /^tread train: could not write .*tinyfs-cli\/run\/checkpoint\.safetensors: no space left on the device \(ENOSPC\); the previous file, if any, is unchanged$/m);
  });
});
