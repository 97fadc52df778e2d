/**
 * Optimizer step benchmark: one Adam step and one SGD-momentum step on 1M and 10M
 * parameters (one tensor), as GB/s of memory traffic, beside a plain `Float32Array` copy
 * of the same number of bytes and tfjs-wasm 4.22's Adam, all in the same run.
 *
 * Traffic counted per element (4-byte floats): Adam reads p, g, m, v and writes p, m, v
 * (28 B); SGD with momentum reads p, g, b and writes p, b (20 B). The copy baseline is
 * `dst.set(src)` on two Float32Arrays whose read + written bytes equal the step's (Adam:
 * 3.5·N floats each), i.e. what the memory system gives a plain memmove from JS.
 * The tread step is `optimizer.step()` as a user calls it: the NaN/Inf guard (one extra read
 * of g, not counted in the traffic) and the fused SIMD kernel on 2 threads; the kernel alone
 * (`checkFinite = false`) and 1 thread are shown too. tfjs-wasm (SIMD, no threads in Node)
 * runs `optimizer.applyGradients` of `tf.train.adam` (it is not in place: it allocates new
 * moment tensors each step). Each number is the best of several alternating rounds.
 * Writes bench/results/optim.json.
 *
 *   npm run bench:optim            (TREAD_BENCH_QUICK=1 for a short run)
 */
import { measureRates } from './harness.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { startTreadAndTfjs } from './baselines.js';
import { Adam } from '../ts/optim/adam.js';
import { SGD } from '../ts/optim/sgd.js';
import type { Optimizer } from '../ts/optim/optimizer.js';
import { setThreads } from '../ts/runtime/wasm.js';
import { Tensor } from '../ts/tensor/tensor.js';

const here = dirname(fileURLToPath(import.meta.url));
const QUICK = process.env.TREAD_BENCH_QUICK === '1';
const SIZES = QUICK ? [1_000_000] : [1_000_000, 10_000_000];
const ROUNDS = QUICK ? 3 : 7;
const ROUND_MS = QUICK ? 60 : 120;

interface Stat {
  /** GB/s of the best round, and of the median round. */
  best: number;
  median: number;
  /** ms per call in the best round. */
  ms: number;
}

/** GB/s of each of `fns` (alternating rounds), with ms per call in the best round. */
function measure(bytes: number, fns: (() => void)[], rounds = ROUNDS, roundMs = ROUND_MS): Stat[] {
  return measureRates(bytes, fns, rounds, roundMs).map((r) => ({ ...r, ms: bytes / (r.best * 1e6) }));
}

function fill(t: Tensor, seed: number, scale: number): void {
  const d = t.f32;
  let s = seed >>> 0;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = (s / 2147483648 - 1) * scale;
  }
}

function treadStep(make: (p: Tensor) => Optimizer<any>, n: number): { p: Tensor; opt: Optimizer<any> } {
  const p = Tensor.empty([n], 'float32').keep();
  fill(p, 1, 1);
  p.requiresGrad = true;
  p.grad = Tensor.empty([n], 'float32').keep();
  fill(p.grad, 2, 0.01);
  return { p, opt: make(p) };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const { info, loadBefore } = await startTreadAndTfjs();

  const rows: Record<string, unknown>[] = [];
  const table: string[] = [];
  const f1 = (x: number) => x.toFixed(1);
  table.push('| params | step | bytes/step | tread step() 2T | kernel only 2T | tread step() 1T | Float32Array copy | step 2T / copy | tfjs-wasm Adam | tread 2T / tfjs |');
  table.push('|---|---|---|---|---|---|---|---|---|---|');

  for (const n of SIZES) {
    for (const kind of ['Adam', 'SGD-momentum'] as const) {
      const perElem = kind === 'Adam' ? 28 : 20;
      const bytes = perElem * n;
      const { p, opt } = treadStep(kind === 'Adam' ? (q) => new Adam([q], { lr: 1e-3 }) : (q) => new SGD([q], { lr: 1e-3, momentum: 0.9 }), n);
      const step2 = () => {
        setThreads(2);
        opt.checkFinite = true;
        opt.step();
      };
      const kernel2 = () => {
        setThreads(2);
        opt.checkFinite = false;
        opt.step();
      };
      const step1 = () => {
        setThreads(1);
        opt.checkFinite = true;
        opt.step();
      };
      const half = (perElem / 8) * n; // floats per copy array: read + written = bytes
      const src = new Float32Array(half).fill(1.5);
      const dst = new Float32Array(half);
      const copy = () => dst.set(src);
      const fns = [step2, kernel2, step1, copy];
      // tfjs-wasm Adam (same traffic counted, so GB/s compare as time per step).
      let tfjsStat: Stat | null = null;
      let tfjsRun: (() => void) | null = null;
      let tfjsCleanup: (() => void) | null = null;
      if (kind === 'Adam') {
        const v = tf.variable(tf.randomUniform([n], -1, 1, 'float32'), true, `p${n}`);
        const g = tf.randomUniform([n], -0.01, 0.01, 'float32');
        const adam = tf.train.adam(1e-3);
        tfjsRun = () => tf.tidy(() => adam.applyGradients([{ name: v.name, tensor: g }]));
        tfjsCleanup = () => {
          adam.dispose();
          v.dispose();
          g.dispose();
        };
        fns.push(tfjsRun);
      }
      const stats = measure(bytes, fns, n >= 10_000_000 ? Math.max(3, ROUNDS - 2) : ROUNDS);
      const [s2, k2, s1, cp] = stats;
      if (kind === 'Adam') tfjsStat = stats[4];
      setThreads(2);
      tfjsCleanup?.();
      opt.dispose();
      p.grad!.dispose();
      p.dispose();
      const ratio = s2.best / cp.best;
      rows.push({
        params: n, step: kind, bytesPerStep: bytes,
        treadStep2T: s2, treadKernel2T: k2, treadStep1T: s1, copy: cp, tfjsWasmAdam: tfjsStat,
        step2TOverCopy: ratio, tread2TOverTfjs: tfjsStat ? s2.best / tfjsStat.best : null,
      });
      table.push(
        `| ${n / 1e6}M | ${kind} | ${(bytes / 1e6).toFixed(0)} MB | ${f1(s2.best)} GB/s (${s2.ms.toFixed(2)} ms) | ${f1(k2.best)} GB/s | ${f1(s1.best)} GB/s | ${f1(cp.best)} GB/s (${cp.ms.toFixed(2)} ms) | ${(ratio * 100).toFixed(0)}% | ` +
          `${tfjsStat ? `${f1(tfjsStat.best)} GB/s (${tfjsStat.ms.toFixed(1)} ms)` : '-'} | ${tfjsStat ? `${(s2.best / tfjsStat.best).toFixed(1)}x` : '-'} |`,
      );
    }
  }

  const seconds = (performance.now() - t0) / 1000;
  const loadAfter = loadavg()[0];
  console.log(
    `\nOptimizer steps, GB/s of memory traffic (best of ${ROUNDS} rounds of ${ROUND_MS} ms; ${info.variant}, pool ${info.poolThreads}; ` +
      `tfjs-wasm ${tf.version_core}, backend ${tf.getBackend()}; ${seconds.toFixed(0)} s; load avg ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, this run included)\n`,
  );
  console.log(table.join('\n'));
  const adam10 = rows.find((r) => r.step === 'Adam' && r.params === 10_000_000);
  if (adam10) {
    const r = adam10.step2TOverCopy as number;
    console.log(`\nAdam on 10M parameters, 2 threads: ${(r * 100).toFixed(0)}% of the copy bandwidth (target >= 70%): ${r >= 0.7 ? 'met' : 'NOT met'}`);
  }
  const out = resolve(here, 'results/optim.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        bench: 'optim', unit: 'GB/s', date: new Date().toISOString(), node: process.version,
        variant: info.variant, poolThreads: info.poolThreads, tfjs: tf.version_core, rounds: ROUNDS, roundMs: ROUND_MS,
        seconds, loadAvgBefore: loadBefore, loadAvgAfter: loadAfter,
        bytesPerElement: { Adam: 28, 'SGD-momentum': 20 }, results: rows,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwrote ${out}`);
  process.exit(0);
}

await main();
