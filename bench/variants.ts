/**
 * Relaxed SIMD against plain SIMD128: bench:train's MLP and CNN steps (bench/models.ts) and a
 * few exp-based kernels, on each wasm variant. A process holds one variant (init runs once),
 * so each round runs one child process per variant, alternating plain and relaxed, and the
 * median of the rounds is reported with the ratio relaxed / plain (below 1: relaxed faster);
 * within a child each workload's time is the best of 4 batches.
 * Run it on an engine with relaxed SIMD (Node 22+; Node 20 has none by default):
 *
 *   npm run bench:variants [-- --rounds 5]   (Node 24 from build/node24, scripts/setup.sh)
 *
 * Writes bench/results/variants.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 5) || 5;

type Times = Record<string, number>;

/** One child: the variant from TREAD_RELAXED_SIMD, ms per step or per call for each workload. */
async function child(): Promise<void> {
  const tread = await import('../ts/index.js');
  const { treadCnnStep, treadMlpStep } = await import('./models.js');
  const info = await tread.init({ threads: 2 });
  /** ms per call: the best of 4 batches of n calls (a busy neighbour slows some batches, not the best). */
  const time = (f: () => unknown, n: number, warm: number) => {
    for (let i = 0; i < warm; i++) f();
    let best = Infinity;
    for (let b = 0; b < 4; b++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f();
      best = Math.min(best, (performance.now() - t0) / n);
    }
    return best;
  };
  const out: Times = {};
  const mlp = treadMlpStep(128, 1).step;
  const cnn = treadCnnStep(64, 2).step;
  for (const threads of [2, 1]) {
    tread.setThreads(threads);
    out[`MLP b128 Adam ${threads}T`] = time(mlp, 10, 5);
    out[`CNN b64 SGD-m ${threads}T`] = time(cnn, 2, 2);
  }
  tread.setThreads(1);
  const x = tread.tensor(Float32Array.from({ length: 1 << 16 }, (_, i) => Math.sin(i) * 4), [64, 1024]);
  out['exp 64K 1T'] = time(() => tread.tidy(() => { tread.exp(x); }), 100, 50);
  out['sigmoid 64K 1T'] = time(() => tread.tidy(() => { tread.sigmoid(x); }), 100, 50);
  out['softmax 64x1024 1T'] = time(() => tread.tidy(() => { tread.softmax(x, -1); }), 100, 50);
  process.stdout.write(`${JSON.stringify({ variant: info.variant, times: out })}\n`);
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(): void {
  const load = loadavg()[0];
  const runs: Record<'0' | '1', Times[]> = { 0: [], 1: [] };
  const variants: Record<string, string> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of ['0', '1'] as const) {
      const p = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child'], {
        env: { ...process.env, TREAD_RELAXED_SIMD: v, TREAD_THREADS: '' },
        encoding: 'utf8',
        timeout: 300_000,
      });
      if (p.status !== 0) throw new Error(`child (TREAD_RELAXED_SIMD=${v}) failed: ${p.stderr}`);
      const res = JSON.parse(p.stdout.trim().split('\n').at(-1)!);
      variants[v] = res.variant;
      runs[v].push(res.times);
    }
  }
  const rows = Object.keys(runs[0][0]).map((k) => {
    const plain = median(runs[0].map((t) => t[k]));
    const relaxed = median(runs[1].map((t) => t[k]));
    const bestRatio = Math.min(...runs[1].map((t) => t[k])) / Math.min(...runs[0].map((t) => t[k]));
    return { workload: k, plainMs: plain, relaxedMs: relaxed, ratio: relaxed / plain, bestRatio };
  });
  console.log(`${variants[0]} vs ${variants[1]}, node ${process.version}, ${ROUNDS} rounds alternating, load avg ${load.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after`);
  // 2-thread times on 2 shared vCPUs are bimodal (a neighbour on the other core doubles them):
  // the best round of each variant is the steadier comparison there.
  console.log('| workload | plain ms (median) | relaxed ms (median) | relaxed / plain (medians) | relaxed / plain (best rounds) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.workload} | ${r.plainMs.toFixed(3)} | ${r.relaxedMs.toFixed(3)} | ${r.ratio.toFixed(3)} | ${r.bestRatio.toFixed(3)} |`);
  mkdirSync(resolve(here, 'results'), { recursive: true });
  writeFileSync(resolve(here, 'results/variants.json'), `${JSON.stringify({ node: process.version, variants, load, rounds: ROUNDS, rows, runs }, null, 2)}\n`);
}

if (args.includes('--child')) await child();
else main();
