/**
 * Relaxed-SIMD detection and the choice of variant, on each engine the project tests: Node 20
 * (no relaxed SIMD unless --experimental-wasm-relaxed-simd), Node 20 with the flag, Node 22
 * and Node 24 (on by default). Each case is a child process (init runs once per process):
 * test/helpers/relaxed-child.ts. The independent check of the probe in features.ts is the
 * relaxed build itself: dist/wasm/tread-relaxed.wasm holds relaxed instructions, so it
 * validates exactly where relaxed SIMD is on. Needs build/node22 and build/node24 (scripts/setup.sh) and
 * dist/wasm (npm run build).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasRelaxedSimd } from '../ts/runtime/features.js';
import { init } from '../ts/runtime/wasm.js';

const root = join(import.meta.dirname, '..');
const node20 = process.execPath.includes('node24') ? 'node' : process.execPath;
const node24 = join(root, 'build/node24/node_modules/.bin/node');
const node22 = join(root, 'build/node22/node_modules/.bin/node');
const FLAG = '--experimental-wasm-relaxed-simd';

interface ChildOut {
  node: string;
  hasRelaxedSimd: boolean;
  relaxedFileValidates: boolean | null;
  warnings: string[];
  info?: { variant: string; relaxedSimd: boolean; poolThreads: number; note: string | null };
  error?: string;
  gemmWorst?: number;
}

function child(node: string, flags: string[], options: object, env: Record<string, string> = {}): Promise<ChildOut> {
  const clean = { ...process.env };
  for (const k of ['TREAD_RELAXED_SIMD', 'TREAD_THREADS', 'TREAD_TEST_VARIANT', 'NODE_OPTIONS']) delete clean[k];
  return new Promise((resolve, reject) => {
    const p = spawn(node, [...flags, '--import', 'tsx', join(root, 'test/helpers/relaxed-child.ts'), JSON.stringify(options)], {
      cwd: root,
      env: { ...clean, ...env },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    p.on('error', reject);
    p.on('close', (status) => {
      if (status !== 0) return reject(new Error(`child exited ${status}: ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
      } catch {
        reject(new Error(`child printed no JSON: ${stdout} ${stderr}`));
      }
    });
  });
}

const dirs: string[] = [];
/** A wasmDir holding only the named files of dist/wasm (a user who copied some of them). */
function partialWasmDir(files: string[]): string {
  const d = mkdtempSync(join(tmpdir(), 'tread-wasmdir-'));
  dirs.push(d);
  for (const f of files) copyFileSync(join(root, 'dist/wasm', f), join(d, f));
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('relaxed SIMD detection', () => {
  it('has what it needs', () => {
    expect(existsSync(node24), 'build/node24 is missing: run scripts/setup.sh').toBe(true);
    expect(existsSync(node22), 'build/node22 is missing: run scripts/setup.sh').toBe(true);
    for (const f of ['tread-simd', 'tread-simd-threads', 'tread-relaxed', 'tread-relaxed-threads']) {
      expect(existsSync(join(root, `dist/wasm/${f}.wasm`)), `dist/wasm/${f}.wasm: run npm run build`).toBe(true);
    }
  });

  it('Node 20 without the flag: no relaxed SIMD; auto loads the plain build; true and TREAD_RELAXED_SIMD=1 fail clearly', async () => {
    const [auto, asked, env] = await Promise.all([
      child(node20, [], { threads: 1 }),
      child(node20, [], { threads: 1, relaxedSimd: true }),
      child(node20, [], { threads: 2 }, { TREAD_RELAXED_SIMD: '1' }),
    ]);
    expect(auto.node).toMatch(/^20\./);
    expect(auto.hasRelaxedSimd).toBe(false);
    expect(auto.relaxedFileValidates).toBe(false);
    expect(auto.info).toMatchObject({ variant: 'tread-simd', relaxedSimd: false, poolThreads: 1, note: null });
    expect(auto.gemmWorst).toBeLessThan(1e-5);
    for (const r of [asked, env]) {
      expect(r.info).toBeUndefined();
      expect(r.error).toMatch(/has no relaxed SIMD.*--experimental-wasm-relaxed-simd/);
    }
  });

  it(`Node 20 with ${FLAG}: relaxed SIMD, auto loads the relaxed builds`, async () => {
    const [single, threads] = await Promise.all([
      child(node20, [FLAG], { threads: 1 }),
      child(node20, [FLAG], { threads: 2 }),
    ]);
    expect(single.hasRelaxedSimd).toBe(true);
    expect(single.relaxedFileValidates).toBe(true);
    expect(single.info).toMatchObject({ variant: 'tread-relaxed', relaxedSimd: true, poolThreads: 1 });
    expect(threads.info).toMatchObject({ variant: 'tread-relaxed-threads', relaxedSimd: true, poolThreads: 2 });
    for (const r of [single, threads]) expect(r.gemmWorst).toBeLessThan(1e-5);
  });

  it('Node 24: relaxed SIMD by default; relaxedSimd: false and TREAD_RELAXED_SIMD=0 load the plain builds; a bad variable fails', async () => {
    const [auto, threads, off, env0, env2, optionWins] = await Promise.all([
      child(node24, [], { threads: 1 }),
      child(node24, [], { threads: 2 }),
      child(node24, [], { threads: 1, relaxedSimd: false }),
      child(node24, [], { threads: 2 }, { TREAD_RELAXED_SIMD: '0' }),
      child(node24, [], { threads: 1 }, { TREAD_RELAXED_SIMD: 'yes' }),
      child(node24, [], { threads: 1, relaxedSimd: true }, { TREAD_RELAXED_SIMD: '0' }),
    ]);
    expect(auto.node).toMatch(/^24\./);
    expect(auto.hasRelaxedSimd).toBe(true);
    expect(auto.relaxedFileValidates).toBe(true);
    expect(auto.info).toMatchObject({ variant: 'tread-relaxed', relaxedSimd: true, poolThreads: 1, note: null });
    expect(threads.info).toMatchObject({ variant: 'tread-relaxed-threads', relaxedSimd: true, poolThreads: 2 });
    expect(off.info).toMatchObject({ variant: 'tread-simd', relaxedSimd: false });
    expect(env0.info).toMatchObject({ variant: 'tread-simd-threads', relaxedSimd: false });
    expect(env2.error).toMatch(/TREAD_RELAXED_SIMD must be 0 or 1, got "yes"/);
    // The option is explicit; the variable only replaces 'auto'.
    expect(optionWins.info).toMatchObject({ variant: 'tread-relaxed', relaxedSimd: true });
    for (const r of [auto, threads, off, env0, optionWins]) {
      expect(r.gemmWorst).toBeLessThan(1e-5);
      expect(r.warnings).toEqual([]);
    }
  });

  it('Node 22: relaxed SIMD by default; auto loads the relaxed builds', async () => {
    const [single, threads] = await Promise.all([child(node22, [], { threads: 1 }), child(node22, [], { threads: 2 })]);
    expect(single.node).toMatch(/^22\./);
    expect(single.hasRelaxedSimd).toBe(true);
    expect(single.relaxedFileValidates).toBe(true);
    expect(single.info).toMatchObject({ variant: 'tread-relaxed', relaxedSimd: true, poolThreads: 1, note: null });
    expect(threads.info).toMatchObject({ variant: 'tread-relaxed-threads', relaxedSimd: true, poolThreads: 2 });
    for (const r of [single, threads]) expect(r.gemmWorst).toBeLessThan(1e-5);
  });

  it('a wasmDir with only the two plain files: auto falls back to plain with a note naming the missing file; true fails naming it', async () => {
    const plainOnly = partialWasmDir(['tread-simd.wasm', 'tread-simd-threads.wasm']);
    const none = partialWasmDir([]);
    const [single, threads, asked, envAsked, empty] = await Promise.all([
      child(node24, [], { threads: 1, wasmDir: plainOnly }),
      child(node24, [], { threads: 2, wasmDir: plainOnly }),
      child(node24, [], { threads: 1, wasmDir: plainOnly, relaxedSimd: true }),
      child(node24, [], { threads: 2, wasmDir: plainOnly }, { TREAD_RELAXED_SIMD: '1' }),
      child(node24, [], { threads: 1, wasmDir: none }),
    ]);
    expect(single.info).toMatchObject({ variant: 'tread-simd', relaxedSimd: false });
    expect(single.info!.note).toMatch(/tread-relaxed\.wasm is missing, so the plain SIMD128 build tread-simd\.wasm runs instead/);
    expect(single.warnings).toEqual([single.info!.note]);
    expect(single.gemmWorst).toBeLessThan(1e-5);
    expect(threads.info).toMatchObject({ variant: 'tread-simd-threads', relaxedSimd: false, poolThreads: 2 });
    expect(threads.info!.note).toMatch(/tread-relaxed-threads\.wasm is missing/);
    expect(threads.gemmWorst).toBeLessThan(1e-5);
    expect(asked.error).toMatch(/relaxed SIMD was asked for.*tread-relaxed\.wasm not found/);
    expect(envAsked.error).toMatch(/relaxed SIMD was asked for.*tread-relaxed-threads\.wasm not found/);
    // Neither file: the error names the plain one (the last tried), and no fallback is claimed.
    expect(empty.error).toMatch(/tread-simd\.wasm not found/);
  });

  it('in this process: detection matches the engine, and a wrong relaxedSimd value is refused by name', async () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(hasRelaxedSimd()).toBe(major >= 22 || process.execArgv.includes(FLAG));
    await expect(init({ relaxedSimd: 'yes' as any })).rejects.toThrow(/relaxedSimd must be true, false or 'auto', got "yes"/);
    await expect(init({ relaxedSimd: 1 as any })).rejects.toThrow(/relaxedSimd must be true, false or 'auto', got 1/);
  });
});
