/**
 * SGEMM benchmark: GFLOP/s of tread (1 and 2 threads) for all four transpose forms at
 * n = 256, 512, 1024, beside, in the same run:
 *   - PyTorch 1.13 + OpenBLAS (OpenMP build) at 1 and 2 threads (bench/torch_child.py, a
 *     persistent child process; torch.mm on transposed views: BLAS gets the transpose flags),
 *   - jax-js 0.1.25 on its wasm backend under Node 24, 1 thread and a pool of 2 workers
 *     (bench/jax_child.ts; a jit-compiled np.matmul of the transposed operands),
 *   - tfjs-wasm 4.22 (SIMD, no threads in Node), and a naive JS i-k-j loop (A·B, n <= 512).
 * PyTorch and jax-js at n = 512 and 1024 (the anchors); tfjs and the loop at every n.
 * Rounds of all contenders alternate (the children run one round per request), so a noisy
 * neighbour hurts all alike. Each number is the best of the rounds (the median is in the JSON);
 * a contender slower than a second a call (tfjs-wasm's and jax-js's transposed forms) gets one
 * timed call; one slower than 5 s a call is timed on its warm-up call alone (jax-js's compile
 * included, a small part of it; marked oneCall in the JSON, * in the table). Ratios: tread at
 * the same thread count over the baseline (above 1: tread faster).
 *
 * The ceiling: "in-cache 1T" is tread's own macro-kernel over one packed block already in
 * cache (`tread_gemm_probe`: no packing, no edges, one thread), racing in the same rounds;
 * "tread 1T / in-cache" says how much of what this CPU's wasm SIMD gives the library keeps.
 * (Absolute GFLOP/s move with the CPU: 46-49 on an AVX-512 Zen 4 at 1T, 27-37 on an AVX2 Zen 3.)
 * Writes
 * bench/results/gemm.json (gemm-node24.json under Node 24). PyTorch or jax-js missing: the
 * benchmark says so and runs without it.
 *
 *   npm run bench:gemm [-- --quick --node 24 --no-torch --no-jax]     (TREAD_BENCH_QUICK=1 = --quick)
 */
import { alternateRounds, busyWarning, measureRates, roundRate, type Rate, type RoundContender } from './harness.js';
import { cpuLine } from './cpu.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { startTreadAndTfjs } from './baselines.js';
import { memoryBuffer, setThreads, wasm } from '../ts/runtime/wasm.js';
import { sgemmRaw } from '../ts/kernels/gemm.js';
import { reexecForNode } from './node24.js';
import { startTorch } from './torch_child.js';
import { startJax, type Jax } from './jax.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = reexecForNode();
const known = ['--quick', '--no-torch', '--no-jax'];
for (const a of args) if (!known.includes(a)) throw new Error(`bench:gemm: unknown option ${a} (known: --node, ${known.join(', ')})`);
const QUICK = process.env.TREAD_BENCH_QUICK === '1' || args.includes('--quick');
const SIZES = QUICK ? [256, 512] : [256, 512, 1024];
/** The sizes PyTorch and jax-js run at. */
const ANCHOR_SIZES = [512, 1024];
const ROUNDS = QUICK ? 3 : 10;
const ROUND_MS = 50;
/** A contender whose warm-up call took this long gets one timed call (ms). */
const SLOW_MS = 1000;
/** ... and this long: its warm-up call is its measurement. */
const VERY_SLOW_MS = 5000;

type Form = 'AB' | 'AtB' | 'ABt' | 'AtBt';
const FORMS: { form: Form; ta: boolean; tb: boolean }[] = [
  { form: 'AB', ta: false, tb: false },
  { form: 'AtB', ta: true, tb: false },
  { form: 'ABt', ta: false, tb: true },
  { form: 'AtBt', ta: true, tb: true },
];

type Stat = Rate; // GFLOP/s

function measure(flops: number, fns: (() => void)[], rounds = ROUNDS, roundMs = ROUND_MS): Stat[] {
  return measureRates(flops, fns, rounds, roundMs);
}

function randomFill(a: Float32Array, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
}

function naiveIkj(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let p = 0; p < n; p++) {
      const av = a[i * n + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const { info, loadBefore } = await startTreadAndTfjs();
  const w = wasm();
  const notes: string[] = [];
  const { torch, note: torchNote } = args.includes('--no-torch') ? { torch: null, note: 'PyTorch not run (--no-torch)' } : await startTorch();
  notes.push(torchNote);
  const jaxs: Jax[] = [];
  for (const t of args.includes('--no-jax') ? [] : [1, 2]) {
    const { jax, note } = await startJax(t);
    if (jax) jaxs.push(jax);
    notes.push(note);
  }
  if (args.includes('--no-jax')) notes.push('jax-js not run (--no-jax)');
  const busy = busyWarning(loadBefore, availableParallelism());
  if (busy) notes.push(busy);
  for (const n of notes) console.log(n);

  const rows: Record<string, unknown>[] = [];
  /** Flops of one repetition of the in-cache probe; a probe call does about one product's work. */
  const probeFlops = w.tread_gemm_probe_flops();
  const table: string[] = [];
  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
  const ratio = (a: number, b: number | undefined) => (b === undefined ? '-' : `${(a / b).toFixed(2)}`);
  table.push('| n | form | tread 1T | in-cache 1T | tread 1T / in-cache | tread 2T | 2T/1T | PyTorch 1T | PyTorch 2T | jax-js 1T | jax-js 2T | tfjs-wasm | naive JS | tread/torch 1T | tread/torch 2T | tread/jax 1T | tread/jax 2T | tread 1T/tfjs |');
  table.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');

  for (const n of SIZES) {
    const flops = 2 * n * n * n;
    const bytes = n * n * 4;
    const pa = w.tread_alloc(bytes), pb = w.tread_alloc(bytes), pc = w.tread_alloc(bytes);
    const view = (p: number) => new Float32Array(memoryBuffer(), p, n * n);
    randomFill(view(pa), 1 + n);
    randomFill(view(pb), 2 + n);
    const ha = view(pa).slice(), hb = view(pb).slice();
    const ta = tf.tensor2d(ha, [n, n]), tb = tf.tensor2d(hb, [n, n]);
    const anchors = ANCHOR_SIZES.includes(n);

    let naive: Stat | undefined;
    if (n <= 512) {
      const hc = new Float32Array(n * n);
      [naive] = measure(flops, [() => naiveIkj(ha, hb, hc, n)], 3, 0);
    }
    for (const { form, ta: tA, tb: tB } of FORMS) {
      /** A synchronous contender as a round: calls for at least ROUND_MS (at least one). */
      const local = (name: string, fn: () => void, budgetMs?: number): RoundContender => ({
        name,
        budgetMs,
        round: () => roundRate(flops, fn, ROUND_MS),
      });
      const tread = (threads: number) => () => {
        setThreads(threads);
        sgemmRaw(tA, tB, n, n, n, 1, pa, n, pb, n, 0, pc, n);
      };
      const tfjs = () => {
        const r = tf.matMul(ta, tb, tA, tB);
        r.dataSync();
        r.dispose();
      };
      const probeReps = Math.max(1, Math.round(flops / probeFlops));
      const probe = () => w.tread_gemm_probe(probeReps);
      const contenders: RoundContender[] = [local('tread 1T', tread(1)), local('tread 2T', tread(2)), { name: 'in-cache 1T', round: () => roundRate(probeReps * probeFlops, probe, ROUND_MS) }];
      if (anchors && torch) {
        for (const t of [1, 2]) {
          contenders.push({ name: `PyTorch ${t}T`, round: async () => Number((await torch.child.ask(`gemm ${form} ${n} ${t} ${ROUND_MS}`)).gflops) });
        }
      }
      if (anchors) {
        for (const j of jaxs) {
          contenders.push({ name: `jax-js ${j.threads}T`, budgetMs: SLOW_MS, round: async () => Number((await j.child.ask(`gemm ${form} ${n} ${ROUND_MS}`)).gflops) });
        }
      }
      // tfjs: A·B is fast; the transposed forms are slow (seconds a call at n = 1024).
      contenders.push(local('tfjs-wasm', tfjs, SLOW_MS));
      // Warm-up: allocation, wasm tier-up, jax-js's compile of this shape. A contender whose
      // warm-up call took over SLOW_MS (tfjs-wasm's and jax-js's transposed forms: up to tens
      // of seconds a call) gets one timed round of one call; over VERY_SLOW_MS, its warm-up
      // call is its only measurement (the compile is then a negligible part of it).
      tread(1)();
      tread(2)();
      const warm = new Map<string, number>();
      const tw = performance.now();
      tfjs();
      warm.set('tfjs-wasm', flops / ((performance.now() - tw) * 1e6));
      if (anchors && torch) for (const t of [1, 2]) await torch.child.ask(`gemm ${form} ${n} ${t} 0`);
      if (anchors) for (const j of jaxs) warm.set(`jax-js ${j.threads}T`, Number((await j.child.ask(`gemm ${form} ${n} 0`)).gflops));
      const warmMs = (name: string) => (warm.has(name) ? flops / (warm.get(name)! * 1e6) : 0);
      const slow = new Set(contenders.filter((c) => warmMs(c.name) > VERY_SLOW_MS).map((c) => c.name));
      const racing = contenders.filter((c) => !slow.has(c.name)).map((c) => (warmMs(c.name) > SLOW_MS ? { ...c, maxRounds: 1 } : c));
      const stats = await alternateRounds(racing, ROUNDS);
      const r: Record<string, Stat & { oneCall?: true }> = {};
      for (const c of contenders) {
        const i = racing.findIndex((q) => q.name === c.name);
        if (i < 0) r[c.name] = { best: warm.get(c.name)!, median: warm.get(c.name)!, oneCall: true };
        else r[c.name] = { best: Math.max(...stats[i]!.rounds), median: stats[i]!.median };
      }
      const g = (name: string) => r[name]?.best;
      const cell = (name: string) => (r[name] ? `${fmt(r[name].best)}${r[name].oneCall ? '*' : ''}` : '-');
      const t1 = r['tread 1T']!.best, t2 = r['tread 2T']!.best;
      const nv = form === 'AB' ? naive : undefined;
      const ceiling = r['in-cache 1T']!.best;
      rows.push({ n, form, results: r, naiveJs: nv ?? null,
        speedup2T: t2 / t1, ofInCache: t1 / ceiling,
        treadOver: {
          'PyTorch 1T': g('PyTorch 1T') && t1 / g('PyTorch 1T')!, 'PyTorch 2T': g('PyTorch 2T') && t2 / g('PyTorch 2T')!,
          'jax-js 1T': g('jax-js 1T') && t1 / g('jax-js 1T')!, 'jax-js 2T': g('jax-js 2T') && t2 / g('jax-js 2T')!,
          'tfjs-wasm': t1 / g('tfjs-wasm')!,
        },
        // the fields of the earlier JSON
        tread1: r['tread 1T'], tread2: r['tread 2T'], tfjsWasm: r['tfjs-wasm'], tread1OverTfjs: t1 / g('tfjs-wasm')!, tread2OverTfjs: t2 / g('tfjs-wasm')! });
      table.push(`| ${n} | ${form} | ${fmt(t1)} | ${fmt(ceiling)} | ${(t1 / ceiling).toFixed(2)} | ${fmt(t2)} | ${(t2 / t1).toFixed(2)}x | ${cell('PyTorch 1T')} | ${cell('PyTorch 2T')} | ${cell('jax-js 1T')} | ${cell('jax-js 2T')} | ${cell('tfjs-wasm')} | ${fmt(nv?.best)} | ${ratio(t1, g('PyTorch 1T'))} | ${ratio(t2, g('PyTorch 2T'))} | ${ratio(t1, g('jax-js 1T'))} | ${ratio(t2, g('jax-js 2T'))} | ${ratio(t1, g('tfjs-wasm'))} |`);
      console.log(table[table.length - 1]);
    }
    ta.dispose();
    tb.dispose();
    w.tread_free(pa, bytes); w.tread_free(pb, bytes); w.tread_free(pc, bytes);
  }
  setThreads(2);
  await torch?.child.close();
  for (const j of jaxs) await j.child.close();

  const seconds = (performance.now() - t0) / 1000;
  const loadAfter = loadavg()[0]!;
  console.log(`\nSGEMM, GFLOP/s (best of ${ROUNDS} rounds of >= ${ROUND_MS} ms, alternating; square float32; ${info.variant}, pool ${info.poolThreads}; node ${process.version}; tfjs-wasm ${tf.version_core}, backend ${tf.getBackend()}; ${seconds.toFixed(0)} s; load avg ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, this run included)`);
  console.log(`cpu: ${cpuLine()}`);
  for (const n of notes) console.log(n);
  console.log('tread/x: tread at the same thread count over x (above 1: tread faster); tfjs-wasm has one thread in Node; *: timed on its warm-up call alone (over 5 s a call)\n');
  console.log(table.join('\n'));
  const out = resolve(here, `results/gemm${process.versions.node.startsWith('24.') ? '-node24' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({
    bench: 'gemm', unit: 'GFLOP/s', date: new Date().toISOString(), node: process.version, cpu: cpuLine(),
    variant: info.variant, poolThreads: info.poolThreads, tfjs: tf.version_core, torch: torch?.info ?? null,
    jax: jaxs.map((j) => j.ready), notes, rounds: ROUNDS, roundMs: ROUND_MS,
    seconds, loadAvgBefore: loadBefore, loadAvgAfter: loadAfter, results: rows, table,
  }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
  process.exit(0);
}

await main();
