/**
 * `npm run bench:browser`: tread beside tfjs-wasm 4.22 (threads on) and jax-js (its wasm
 * backend, its Worker pool on) in headless Chromium, in one cross-origin-isolated page: SGEMM
 * n = 1024 A·B and Aᵀ·B (GFLOP/s, best round) and the MLP and CNN training steps of
 * bench/train.ts (ms/step, median round), at 1 and 2 threads. Each library runs in its own
 * Worker, one after another (bench/browser/index.html); the ratios come from the same run.
 * All three start from the same weights (bench/browser/init.ts) and the run checks that
 * their first losses agree (else it exits with status 1). Prints a table and writes
 * bench/results/browser.json. A run takes a few minutes (jax-js's CNN step takes seconds:
 * at most 3 rounds of it).
 *
 *   npm run bench:browser [-- --rounds 5]
 *   npm run bench:browser -- --probe      only start tfjs-wasm with 2 threads and print what it reports
 *
 * Needs dist/ (npm run build) and /usr/bin/chromium (scripts/setup.sh).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
// @ts-expect-error plain ESM helper without types
import { serveDemo } from '../demo/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const JAX_VERSION = JSON.parse(readFileSync(resolve(root, 'node_modules/@jax-js/jax/package.json'), 'utf8')).version as string;
const args = process.argv.slice(2);
const known = ['--rounds', '--probe'];
const PROBE = args.includes('--probe');
for (const a of args) if (a.startsWith('--') && !known.includes(a)) throw new Error(`bench:browser: unknown option ${a} (known: ${known.join(', ')})`);
const i = args.indexOf('--rounds');
const ROUNDS = i >= 0 ? Number(args[i + 1]) : 5;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 100) throw new Error(`bench:browser: --rounds must be an integer in 1..100, got ${args[i + 1]}`);

interface Rate { best: number; median: number }
interface Row { threads: number; sgemmAB: Rate; sgemmAtB: Rate; mlp: Rate; cnn: Rate }

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  const out = mkdtempSync(join(tmpdir(), 'tread-bench-browser-'));
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [resolve(here, 'browser/worker.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(out, 'worker.js'),
      // tread imports Node built-ins only dynamically, in Node.
      external: ['node:*'],
      logLevel: 'error',
    });
    copyFileSync(resolve(here, 'browser/index.html'), join(out, 'index.html'));
    const server = await serveDemo({
      root,
      port: 0,
      isolated: true,
      mounts: [['/bench/', out], ['/dist/', 'dist'], ['/tfjs/', 'node_modules/@tensorflow/tfjs-backend-wasm/dist']],
    });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      page.on('console', (m) => (PROBE || m.type() === 'error') && console.error(`page: ${m.type()} ${m.text()}`));
      await page.goto(`http://127.0.0.1:${server.port}/bench/index.html?rounds=${ROUNDS}${PROBE ? '&probe=1' : ''}`);
      await page.waitForFunction(() => (window as any).__bench, null, { timeout: 900_000, polling: 1000 });
      const bench = await page.evaluate(() => (window as any).__bench);
      if (PROBE) console.log(JSON.stringify(bench, null, 2));
      else report(bench, loadBefore, (performance.now() - started) / 1000);
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Relative tolerance of the loss check: float32 sums in different orders, over 3 steps. */
const LOSS_TOL = 1e-4;

interface Check { lib: string; model: 'mlp' | 'cnn'; maxDiff: number; ok: boolean }

/** Every library's first losses against tread's (same weights, same batch: the same steps). */
function checkLosses(runs: { lib: string; losses: { mlp: number[]; cnn: number[] } }[], reference: { mlp: number[]; cnn: number[] }): Check[] {
  const checks: Check[] = [];
  for (const { lib, losses } of runs) {
    for (const model of ['mlp', 'cnn'] as const) {
      const ref = reference[model];
      const got = losses[model];
      let maxDiff = got.length === ref.length && ref.length > 0 ? 0 : Infinity;
      for (let k = 0; k < ref.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k]! - ref[k]!) / (1 + Math.abs(ref[k]!)));
      checks.push({ lib, model, maxDiff, ok: maxDiff <= LOSS_TOL });
    }
  }
  return checks;
}

function report(bench: any, loadBefore: number, seconds: number): void {
  for (const r of bench.results) if (!r.ok) throw new Error(`bench:browser: ${r.lib}${r.threads ? ` ${r.threads}T` : ''} failed:\n${r.error}`);
  const tread = bench.results.find((r: any) => r.lib === 'tread').result;
  const tfjs = (t: number) => bench.results.find((r: any) => r.lib === 'tfjs' && r.threads === t).result;
  const jax = bench.results.find((r: any) => r.lib === 'jax').result;
  const tr = (t: number): Row => tread.rows.find((r: Row) => r.threads === t);
  const tf = (t: number): Row => tfjs(t).rows[0];
  const jx = (t: number): Row => jax.rows.find((r: Row) => r.threads === t);
  const checks = checkLosses([
    { lib: 'tfjs-wasm 1T', losses: tfjs(1).losses },
    { lib: 'tfjs-wasm 2T', losses: tfjs(2).losses },
    { lib: 'jax-js', losses: jax.losses },
  ], tread.losses);
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  const version = /Chrom(e|ium)\/([\d.]+)/.exec(bench.userAgent)?.[2] ?? '?';
  say(`Chromium ${version} headless, cross-origin isolated: ${bench.isolated}; hardwareConcurrency ${bench.hardwareConcurrency}; tread ${tread.variant} (pool ${tread.runtime.poolThreads}); tfjs-wasm ${tfjs(1).tfjs} (XNNPACK threads ${tfjs(1).threadsUsed} / ${tfjs(2).threadsUsed}); jax-js ${JAX_VERSION} (wasm, pool of ${jax.poolWorkers} Workers); ${ROUNDS} rounds (jax-js CNN ${jax.cnnRounds}); load avg ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ${seconds.toFixed(0)} s`);
  say('');
  say('| benchmark | tread 1T | tread 2T | tfjs-wasm 1T | tfjs-wasm 2T | jax-js 1T | jax-js 2T | tread / tfjs 1T | tread / tfjs 2T | tread / jax 1T | tread / jax 2T |');
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  const gf = (r: Rate) => r.best.toFixed(1);
  const ms = (r: Rate) => r.median.toFixed(2);
  const x = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)}x`;
  for (const [name, key] of [['SGEMM n=1024 A·B, GFLOP/s', 'sgemmAB'], ['SGEMM n=1024 Aᵀ·B, GFLOP/s', 'sgemmAtB']] as const) {
    const ratio = (o: (t: number) => Row, t: number) => x(tr(t)[key].best / o(t)[key].best);
    say(`| ${name} | ${gf(tr(1)[key])} | ${gf(tr(2)[key])} | ${gf(tf(1)[key])} | ${gf(tf(2)[key])} | ${gf(jx(1)[key])} | ${gf(jx(2)[key])} | ${ratio(tf, 1)} | ${ratio(tf, 2)} | ${ratio(jx, 1)} | ${ratio(jx, 2)} |`);
  }
  for (const [name, key] of [['MLP 784-256-128-10 b128 Adam, ms/step', 'mlp'], ['CNN conv32-conv64 28x28 b64 SGD-m, ms/step', 'cnn']] as const) {
    const ratio = (o: (t: number) => Row, t: number) => x(o(t)[key].median / tr(t)[key].median);
    say(`| ${name} | ${ms(tr(1)[key])} | ${ms(tr(2)[key])} | ${ms(tf(1)[key])} | ${ms(tf(2)[key])} | ${ms(jx(1)[key])} | ${ms(jx(2)[key])} | ${ratio(tf, 1)} | ${ratio(tf, 2)} | ${ratio(jx, 1)} | ${ratio(jx, 2)} |`);
  }
  say('');
  say('ratios: how many times faster tread is (GFLOP/s ratio for SGEMM, ms/step ratio for the steps). tfjs-wasm: Conv2DBackpropFilter registered by the benchmark (it lacks one).');
  say('jax-js: 1T = its synchronous path (dataSync: kernels on its own Worker), 2T = its asynchronous path (kernels split over its pool of 2 Workers); Adam and SGD-momentum written by hand in its jit-compiled step (it has no optimizers).');
  const bad = checks.filter((c) => !c.ok);
  say(`losses of the first ${tread.losses.mlp.length} steps from the same weights, against tread's: ${checks.map((c) => `${c.lib} ${c.model} ${c.maxDiff.toExponential(1)}`).join(', ')} (relative; tolerance ${LOSS_TOL}): ${bad.length ? 'DISAGREE' : 'agree'}`);
  const file = resolve(here, 'results/browser.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ bench: 'browser', date: new Date().toISOString(), rounds: ROUNDS, loadAvgBefore: loadBefore, loadAvgAfter: loadavg()[0], seconds, jax: JAX_VERSION, lossCheck: checks, ...bench, table: lines }, null, 2) + '\n');
  console.log(`\nwrote bench/results/browser.json`);
  if (bad.length) {
    console.error(`bench:browser: the libraries do not compute the same steps: ${bad.map((c) => `${c.lib} ${c.model}`).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
