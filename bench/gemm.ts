/**
 * SGEMM benchmark: GFLOP/s of tread (1 and 2 threads) for all four transpose forms at
 * n = 256, 512, 1024, beside a naive JS i-k-j loop (n <= 512) and tfjs-wasm 4.22 (SIMD,
 * no threads in Node), all measured in the same run. Each number is the best of several
 * timed rounds (the median is kept in the JSON too). Writes bench/results/gemm.json.
 *
 *   npm run bench:gemm            (TREAD_BENCH_QUICK=1 for a short run)
 */
import { measureRates, type Rate } from './harness.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { startTreadAndTfjs } from './baselines.js';
import { memoryBuffer, setThreads, wasm } from '../ts/runtime/wasm.js';
import { sgemmRaw } from '../ts/kernels/gemm.js';

const here = dirname(fileURLToPath(import.meta.url));
const QUICK = process.env.TREAD_BENCH_QUICK === '1';
const SIZES = QUICK ? [256, 512] : [256, 512, 1024];
const ROUNDS = QUICK ? 3 : 25;
const ROUND_MS = QUICK ? 60 : 50;

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

  const rows: Record<string, unknown>[] = [];
  const table: string[] = [];
  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
  table.push('| n | form | tread 1T | tread 2T | 2T/1T | tfjs-wasm | naive JS | tread 1T / tfjs | tread 2T / tfjs |');
  table.push('|---|---|---|---|---|---|---|---|---|');

  for (const n of SIZES) {
    const flops = 2 * n * n * n;
    const bytes = n * n * 4;
    const pa = w.tread_alloc(bytes), pb = w.tread_alloc(bytes), pc = w.tread_alloc(bytes);
    const view = (p: number) => new Float32Array(memoryBuffer(), p, n * n);
    randomFill(view(pa), 1 + n);
    randomFill(view(pb), 2 + n);
    const ha = view(pa).slice(), hb = view(pb).slice();
    const ta = tf.tensor2d(ha, [n, n]), tb = tf.tensor2d(hb, [n, n]);

    let naive: Stat | undefined;
    if (n <= 512) {
      const hc = new Float32Array(n * n);
      [naive] = measure(flops, [() => naiveIkj(ha, hb, hc, n)], 3, 0);
    }
    for (const { form, ta: tA, tb: tB } of FORMS) {
      const tread = (threads: number) => () => {
        setThreads(threads);
        sgemmRaw(tA, tB, n, n, n, 1, pa, n, pb, n, 0, pc, n);
      };
      const tfjs = () => {
        const r = tf.matMul(ta, tb, tA, tB);
        r.dataSync();
        r.dispose();
      };
      // tfjs: A·B is fast and measured in the same rounds as tread; the transposed forms are
      // slow (seconds a call at n = 1024), so they get a few single-call rounds of their own.
      let t1: Stat, t2: Stat, tfs: Stat;
      if (form === 'AB') {
        [t1, t2, tfs] = measure(flops, [tread(1), tread(2), tfjs]);
      } else {
        [t1, t2] = measure(flops, [tread(1), tread(2)]);
        [tfs] = measure(flops, [tfjs], n >= 1024 ? 2 : 3, 0);
      }
      const nv = form === 'AB' ? naive : undefined;
      rows.push({ n, form, tread1: t1, tread2: t2, tfjsWasm: tfs, naiveJs: nv ?? null,
        speedup2T: t2.best / t1.best, tread1OverTfjs: t1.best / tfs.best, tread2OverTfjs: t2.best / tfs.best });
      table.push(`| ${n} | ${form} | ${fmt(t1.best)} | ${fmt(t2.best)} | ${(t2.best / t1.best).toFixed(2)}x | ${fmt(tfs.best)} | ${fmt(nv?.best)} | ${(t1.best / tfs.best).toFixed(1)}x | ${(t2.best / tfs.best).toFixed(1)}x |`);
      console.log(table[table.length - 1]);
    }
    ta.dispose();
    tb.dispose();
    w.tread_free(pa, bytes); w.tread_free(pb, bytes); w.tread_free(pc, bytes);
  }
  setThreads(2);

  const seconds = (performance.now() - t0) / 1000;
  const loadAfter = loadavg()[0];
  console.log(`\nSGEMM, GFLOP/s (best of ${ROUNDS} rounds; square float32; Node ${process.version}, ${info.variant}, pool ${info.poolThreads}; tfjs-wasm ${tf.version_core}, backend ${tf.getBackend()}; ${seconds.toFixed(0)} s; load avg ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, this run included)\n`);
  console.log(table.join('\n'));
  const out = resolve(here, 'results/gemm.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({
    bench: 'gemm', unit: 'GFLOP/s', date: new Date().toISOString(), node: process.version,
    variant: info.variant, poolThreads: info.poolThreads, tfjs: tf.version_core, rounds: ROUNDS,
    seconds, loadAvgBefore: loadBefore, loadAvgAfter: loadAfter, results: rows,
  }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
  process.exit(0);
}

await main();
