/**
 * `npm run bench:browser`: tread beside tfjs-wasm 4.22 (threads on) in headless Chromium, in
 * one cross-origin-isolated page: SGEMM n = 1024 A·B and Aᵀ·B (GFLOP/s, best round) and the
 * MLP and CNN training steps of bench/train.ts (ms/step, median round), at 1 and 2 threads.
 * Each library runs in its own Worker, one after another (bench/browser/index.html); the
 * ratios come from the same run. Prints a table and writes bench/results/browser.json.
 *
 *   npm run bench:browser [-- --rounds 5]
 *   npm run bench:browser -- --probe      only start tfjs-wasm with 2 threads and print what it reports
 *
 * Needs dist/ (npm run build) and /usr/bin/chromium (scripts/setup.sh). jax-js is not in
 * this repository's dependencies, so it is not measured.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
// @ts-expect-error plain ESM helper without types
import { serveDemo } from '../demo/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
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
      await page.waitForFunction(() => (window as any).__bench, null, { timeout: 590_000, polling: 1000 });
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

function report(bench: any, loadBefore: number, seconds: number): void {
  for (const r of bench.results) if (!r.ok) throw new Error(`bench:browser: ${r.lib}${r.threads ? ` ${r.threads}T` : ''} failed:\n${r.error}`);
  const tread = bench.results.find((r: any) => r.lib === 'tread').result;
  const tfjs = (t: number) => bench.results.find((r: any) => r.lib === 'tfjs' && r.threads === t).result;
  const tr = (t: number): Row => tread.rows.find((r: Row) => r.threads === t);
  const tf = (t: number): Row => tfjs(t).rows[0];
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  const version = /Chrom(e|ium)\/([\d.]+)/.exec(bench.userAgent)?.[2] ?? '?';
  say(`Chromium ${version} headless, cross-origin isolated: ${bench.isolated}; hardwareConcurrency ${bench.hardwareConcurrency}; tread ${tread.variant} (pool ${tread.runtime.poolThreads}); tfjs-wasm ${tfjs(1).tfjs} (XNNPACK threads ${tfjs(1).threadsUsed} / ${tfjs(2).threadsUsed}); ${ROUNDS} rounds; load avg ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ${seconds.toFixed(0)} s`);
  say('');
  say('| benchmark | tread 1T | tread 2T | tfjs-wasm 1T | tfjs-wasm 2T | tread / tfjs, 1T | tread / tfjs, 2T |');
  say('|---|---|---|---|---|---|---|');
  const gf = (r: Rate) => r.best.toFixed(1);
  const ms = (r: Rate) => r.median.toFixed(2);
  for (const [name, key] of [['SGEMM n=1024 A·B, GFLOP/s', 'sgemmAB'], ['SGEMM n=1024 Aᵀ·B, GFLOP/s', 'sgemmAtB']] as const) {
    say(`| ${name} | ${gf(tr(1)[key])} | ${gf(tr(2)[key])} | ${gf(tf(1)[key])} | ${gf(tf(2)[key])} | ${(tr(1)[key].best / tf(1)[key].best).toFixed(1)}x | ${(tr(2)[key].best / tf(2)[key].best).toFixed(1)}x |`);
  }
  for (const [name, key] of [['MLP 784-256-128-10 b128 Adam, ms/step', 'mlp'], ['CNN conv32-conv64 28x28 b64 SGD, ms/step', 'cnn']] as const) {
    say(`| ${name} | ${ms(tr(1)[key])} | ${ms(tr(2)[key])} | ${ms(tf(1)[key])} | ${ms(tf(2)[key])} | ${(tf(1)[key].median / tr(1)[key].median).toFixed(1)}x | ${(tf(2)[key].median / tr(2)[key].median).toFixed(1)}x |`);
  }
  say('');
  say('ratios: how many times faster tread is (GFLOP/s ratio for SGEMM, ms/step ratio for the steps). tfjs-wasm: Conv2DBackpropFilter registered by the benchmark (it lacks one).');
  const file = resolve(here, 'results/browser.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ bench: 'browser', date: new Date().toISOString(), rounds: ROUNDS, loadAvgBefore: loadBefore, loadAvgAfter: loadavg()[0], seconds, ...bench, table: lines }, null, 2) + '\n');
  console.log(`\nwrote bench/results/browser.json`);
}

await main();
