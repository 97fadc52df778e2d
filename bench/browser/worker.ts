/**
 * The Worker of `npm run bench:browser` (bundled by esbuild, see bench/browser.ts): times one
 * library at a time, as the page asks.
 *
 *   { lib: 'tread', rounds }           tread with a pool of 2; 1 and 2 threads via setThreads,
 *                                      rounds alternating between them
 *   { lib: 'tfjs', threads, rounds }   tfjs-wasm 4.22 with XNNPACK's pool at `threads`
 *                                      (fixed at backend start, so one Worker per count;
 *                                      see startTfjs for the hardwareConcurrency it needs)
 *   { lib: 'jax', rounds }             jax-js (its wasm backend) with a pool of 2 Web Workers;
 *                                      1 thread = its synchronous path (every kernel on this
 *                                      Worker), 2 threads = its asynchronous path (kernels
 *                                      split over the pool), rounds alternating between them
 *
 * Measured: SGEMM n = 1024 A·B and Aᵀ·B (GFLOP/s, best round) and the MLP and CNN training
 * steps of bench/train.ts (ms/step, median round), built by bench/models.ts,
 * bench/tfjs_models.ts and bench/browser/jax_models.ts from the same initial weights
 * (bench/browser/init.ts); each library reports the losses of its first steps, which
 * bench/browser.ts compares.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { init, memoryBuffer, runtimeInfo, setThreads, wasm } from '../../ts/runtime/wasm.js';
import { sgemmRaw } from '../../ts/kernels/gemm.js';
import { measureRates, roundRateAsync, type Rate } from '../harness.js';
import { batch, treadCnnStep, treadMlpStep } from '../models.js';
import { registerWasmConv2DBackpropFilter, tfjsCnn, tfjsMlp } from '../tfjs_models.js';
import { cnnInit, mlpInit, tfjsCnnInit, tfjsMlpInit } from './init.js';

const N = 1024;
const FLOPS = 2 * N * N * N;
/** Training steps whose losses each library reports (from the same weights), before timing. */
const CHECK_STEPS = 3;

export interface StepStat {
  median: number;
  best: number;
}

function fill(a: Float32Array, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** ms/step of each contender: warm-up, then rounds of `steps` steps, alternating. */
function timeSteps(fns: (() => unknown)[], steps: number[], rounds: number, warmup: number): StepStat[] {
  fns.forEach((f) => {
    for (let i = 0; i < warmup; i++) f();
  });
  const times: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((f, k) => {
      const t0 = performance.now();
      for (let i = 0; i < steps[k]!; i++) f();
      times[k]!.push((performance.now() - t0) / steps[k]!);
    });
  }
  return times.map((t) => ({ median: median(t), best: Math.min(...t) }));
}

async function benchTread(rounds: number) {
  const info = await init({ threads: 2, wasmDir: '/dist/wasm/' });
  const w = wasm();
  const bytes = N * N * 4;
  const pa = w.tread_alloc(bytes), pb = w.tread_alloc(bytes), pc = w.tread_alloc(bytes);
  fill(new Float32Array(memoryBuffer() as ArrayBuffer, pa, N * N), 1);
  fill(new Float32Array(memoryBuffer() as ArrayBuffer, pb, N * N), 2);
  const gemm = (ta: boolean, threads: number) => () => {
    setThreads(threads);
    sgemmRaw(ta, false, N, N, N, 1, pa, N, pb, N, 0, pc, N);
  };
  const sgemm: Record<string, Rate[]> = {};
  for (const [form, ta] of [['AB', false], ['AtB', true]] as const) sgemm[form] = measureRates(FLOPS, [gemm(ta, 1), gemm(ta, 2)], rounds * 2, 50);
  const mlp = treadMlpStep(128, 1, mlpInit()).step;
  const cnn = treadCnnStep(64, 2, cnnInit()).step;
  setThreads(2);
  const losses = { mlp: Array.from({ length: CHECK_STEPS }, mlp), cnn: Array.from({ length: CHECK_STEPS }, cnn) };
  const on = (threads: number, f: () => number) => () => {
    setThreads(threads);
    return f();
  };
  const mlpStats = timeSteps([on(1, mlp), on(2, mlp)], [20, 30], rounds, 5);
  const cnnStats = timeSteps([on(1, cnn), on(2, cnn)], [4, 6], rounds, 2);
  setThreads(2);
  return {
    runtime: runtimeInfo(),
    variant: info.variant,
    losses,
    rows: [1, 2].map((threads, i) => ({
      threads,
      sgemmAB: sgemm.AB![i]!,
      sgemmAtB: sgemm.AtB![i]!,
      mlp: mlpStats[i]!,
      cnn: cnnStats[i]!,
    })),
  };
}

/** Starts tfjs-wasm with `threads` and says what it got (the flags decide the threaded build). */
async function startTfjs(threads: number) {
  // tfjs-wasm sizes XNNPACK's pool at most half of navigator.hardwareConcurrency, whatever
  // setThreadsCount asks: on a 2-core machine it would run on 1 thread. So this Worker
  // reports 2x the threads asked for, and the check below makes sure the pool got them.
  const cores = navigator.hardwareConcurrency;
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: Math.max(cores, 2 * threads) });
  setWasmPaths('/tfjs/');
  setThreadsCount(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    multithreadSupport: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    simdSupport: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    isNode: tf.env().get('IS_NODE'),
    crossOriginIsolated: (self as any).crossOriginIsolated,
    threadsUsed: getThreadsCount(),
  };
}

async function benchTfjs(threads: number, rounds: number) {
  const started = await startTfjs(threads);
  if (started.threadsUsed !== threads) throw new Error(`tfjs-wasm started ${started.threadsUsed} threads, not ${threads}`);
  registerWasmConv2DBackpropFilter();
  const a = new Float32Array(N * N);
  const b = new Float32Array(N * N);
  fill(a, 1);
  fill(b, 2);
  const ta = tf.tensor2d(a, [N, N]);
  const tb = tf.tensor2d(b, [N, N]);
  const mm = (transA: boolean) => () => {
    const r = tf.matMul(ta, tb, transA, false);
    r.dataSync();
    r.dispose();
  };
  const [sgemmAB] = measureRates(FLOPS, [mm(false)], rounds * 2, 50);
  // Aᵀ·B is slow in tfjs-wasm (seconds a call at n = 1024): a few single-call rounds.
  const [sgemmAtB] = measureRates(FLOPS, [mm(true)], 2, 0);
  const m = batch(128, 784, 10, 1);
  const mlp = tfjsMlp(m.x, m.y, 128, tfjsMlpInit(mlpInit()));
  const losses = { mlp: Array.from({ length: CHECK_STEPS }, mlp.step), cnn: [] as number[] };
  const [mlpStat] = timeSteps([mlp.step], [5], rounds, 3);
  mlp.dispose();
  const c = batch(64, 784, 10, 2);
  const cnn = tfjsCnn(c.x, c.y, 64, tfjsCnnInit(cnnInit()));
  losses.cnn = Array.from({ length: CHECK_STEPS }, cnn.step);
  const [cnnStat] = timeSteps([cnn.step], [1], rounds, 1);
  cnn.dispose();
  return { backend: tf.getBackend(), tfjs: tf.version_core, ...started, losses, rows: [{ threads, sgemmAB: sgemmAB!, sgemmAtB: sgemmAtB!, mlp: mlpStat!, cnn: cnnStat! }] };
}

/**
 * measureRates and timeSteps (above) for contenders that may return a promise (jax-js's
 * asynchronous path): each call is awaited before the clock is read.
 */
async function measureRatesAsync(work: number, fns: (() => unknown)[], rounds: number, roundMs: number): Promise<Rate[]> {
  const rates: number[][] = fns.map(() => []);
  for (const fn of fns) await fn();
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) rates[i]!.push(await roundRateAsync(work, fn, roundMs));
  }
  return rates.map((v) => ({ best: Math.max(...v), median: median(v) }));
}

async function timeStepsAsync(fns: (() => unknown)[], steps: number[], rounds: number, warmup: number): Promise<StepStat[]> {
  for (const f of fns) for (let i = 0; i < warmup; i++) await f();
  const times: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [k, f] of fns.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < steps[k]!; i++) await f();
      times[k]!.push((performance.now() - t0) / steps[k]!);
    }
  }
  return times.map((t) => ({ median: median(t), best: Math.min(...t) }));
}

/**
 * Loads jax-js with a pool of `poolSize` Web Workers. Its wasm backend sizes the pool from
 * navigator.hardwareConcurrency when the module is evaluated (so the import is dynamic,
 * after the override) and only where SharedArrayBuffer and Worker exist (a cross-origin-
 * isolated page); it starts the pool at the first asynchronous dispatch. `workers()` counts
 * the Workers it started, to check the pool is what was asked for.
 */
async function startJax(poolSize: number) {
  const cores = navigator.hardwareConcurrency;
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: poolSize });
  let started = 0;
  const Base = self.Worker;
  (self as any).Worker = class extends Base {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      started++;
    }
  };
  const jax = await import('@jax-js/jax');
  const models = await import('./jax_models.js');
  const devices = await jax.init('wasm');
  jax.defaultDevice('wasm');
  return { jax, models, devices, cores, workers: () => started, crossOriginIsolated: (self as any).crossOriginIsolated as boolean };
}

async function benchJax(rounds: number) {
  const { jax, models, devices, cores, workers, crossOriginIsolated } = await startJax(2);
  const np = jax.numpy;
  const a = new Float32Array(N * N);
  const b = new Float32Array(N * N);
  fill(a, 1);
  fill(b, 2);
  const ja = np.array(a).reshape([N, N]);
  const jb = np.array(b).reshape([N, N]);
  // jax-js arrays are lazy: a product is computed when read. Sync: on this Worker; async: on the pool.
  const product = (transA: boolean) => np.matmul(transA ? ja.ref.transpose() : ja.ref, jb.ref);
  const sgemm: Record<string, Rate[]> = {};
  for (const [form, ta] of [['AB', false], ['AtB', true]] as const) {
    sgemm[form] = await measureRatesAsync(FLOPS, [() => product(ta).dataSync(), () => product(ta).data()], rounds, 50);
  }
  const m = batch(128, 784, 10, 1);
  const mlp = models.jaxMlp(m.x, m.y, 128, mlpInit());
  // The first steps, for the loss check: one on each path, then one more on the pool.
  const losses = { mlp: [mlp.stepSync(), await mlp.stepAsync(), await mlp.stepAsync()], cnn: [] as number[] };
  const mlpStats = await timeStepsAsync([mlp.stepSync, mlp.stepAsync], [10, 10], rounds, 3);
  mlp.dispose();
  const c = batch(64, 784, 10, 2);
  const cnn = models.jaxCnn(c.x, c.y, 64, cnnInit());
  losses.cnn = [cnn.stepSync(), await cnn.stepAsync(), await cnn.stepAsync()];
  // Seconds a step (BASELINES.md: its conv runs at ~0.3 GFLOP/s): at most 3 rounds of one step.
  const cnnRounds = Math.min(rounds, 3);
  const cnnStats = await timeStepsAsync([cnn.stepSync, cnn.stepAsync], [1, 1], cnnRounds, 0);
  cnn.dispose();
  ja.dispose();
  jb.dispose();
  const poolWorkers = workers();
  if (poolWorkers !== 2) throw new Error(`jax-js started ${poolWorkers} pool Workers, not 2 (crossOriginIsolated: ${crossOriginIsolated})`);
  return {
    devices, crossOriginIsolated, hardwareConcurrency: cores, poolWorkers, cnnRounds, losses,
    rows: [1, 2].map((threads, i) => ({ threads, sgemmAB: sgemm.AB![i]!, sgemmAtB: sgemm.AtB![i]!, mlp: mlpStats[i]!, cnn: cnnStats[i]! })),
  };
}

self.onmessage = async (e: MessageEvent) => {
  const { lib, threads, rounds } = e.data as { lib: 'tread' | 'tfjs' | 'tfjs-probe' | 'jax'; threads: number; rounds: number };
  try {
    const result = lib === 'tread' ? await benchTread(rounds) : lib === 'tfjs-probe' ? await startTfjs(threads) : lib === 'jax' ? await benchJax(rounds) : await benchTfjs(threads, rounds);
    postMessage({ ok: true, lib, result });
  } catch (err) {
    postMessage({ ok: false, lib, error: String((err as Error)?.stack ?? (err as Error)?.message ?? err) });
  }
};
