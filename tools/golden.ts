/**
 * Replays PyTorch fixtures: `npm run golden -- <folder>` (default test/fixtures/golden).
 *
 * Every known file found in the folder is checked by its checker in tools/golden/; unknown
 * files are listed and skipped. Prints one line per failed case, then "N passed, N failed",
 * and exits non-zero on any failure or when nothing was checked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init } from '../ts/runtime/wasm.js';
import type { CaseResult, Checker } from './golden/types.js';

/** File name -> module exporting `check`. Loaded lazily so one broken area names itself. */
const CHECKERS: Record<string, string> = {
  'layers.json': './golden/layers.js',
  'optimizers.json': './golden/optimizers.js',
  'schedulers.json': './golden/schedulers.js',
  'init.json': './golden/init.js',
  'clip.json': './golden/clip.js',
  'data.json': './golden/data.js',
  'training.json': './golden/training.js',
};

export async function replayFolder(folder: string, verbose = false): Promise<{ passed: number; failed: number; results: CaseResult[] }> {
  const results: CaseResult[] = [];
  for (const [file, mod] of Object.entries(CHECKERS)) {
    const path = join(folder, file);
    if (!existsSync(path)) continue;
    let check: Checker;
    try {
      check = (await import(mod)).check;
    } catch (e) {
      results.push({ name: file, ok: false, detail: `no checker for ${file}: ${(e as Error).message}` });
      continue;
    }
    const fixture = JSON.parse(readFileSync(path, 'utf8'));
    try {
      results.push(...(await check(fixture, file)));
    } catch (e) {
      results.push({ name: file, ok: false, detail: `checker threw: ${(e as Error).stack}` });
    }
    if (verbose) console.log(`${file}: ${results.length} cases so far`);
  }
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}

async function main() {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const folder = resolve(args.find((a) => !a.startsWith('--')) ?? 'test/fixtures/golden');
  if (!existsSync(folder)) {
    console.error(`golden: no such folder: ${folder}`);
    process.exit(2);
  }
  await init();
  const { passed, failed, results } = await replayFolder(folder, verbose);
  for (const r of results) {
    if (!r.ok) console.log(`FAIL ${r.name}: ${r.detail ?? ''}`);
    else if (verbose) console.log(`ok   ${r.name}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('golden.ts')) {
  void readFileSync; // keep the import list honest for bundlers
  await main();
}
