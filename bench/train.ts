/**
 * One training step, tread beside tfjs-cpu and tfjs-wasm 4.22, in the same run:
 *
 * - MLP 784-256-128-10 ReLU, softmax cross-entropy, batch 128, Adam (lr 1e-3);
 * - CNN conv3x3x32-relu-maxpool2-conv3x3x64-relu-maxpool2-dense10 on 28x28x1, batch 64,
 *   SGD with momentum 0.9 (lr 0.01).
 *
 * tread runs on 2 threads (and 1 for reference). A step is zero-grad + forward + loss +
 * backward + optimizer update, on a fixed random batch. Rounds of the contenders alternate,
 * so a noisy neighbour hurts all of them alike; the median round is reported.
 *
 * tfjs-wasm has no Conv2DBackpropFilter kernel, so this benchmark registers one for it,
 * built from the backend's own Transpose and Conv2D kernels (stride 1, no dilation: what
 * the CNN needs). tfjs-cpu takes ~26 s for one CNN step, so it gets exactly one (cold) step;
 * `--skip-tfjs-cpu-cnn` skips it.
 *
 * Usage: npm run bench:train [-- --rounds 7 --skip-tfjs-cpu-cnn]
 * Writes bench/results/train.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { startTreadAndTfjs } from './baselines.js';
import { setThreads } from '../ts/runtime/wasm.js';
import { batch, treadCnnStep, treadMlpStep } from './models.js';
import { registerWasmConv2DBackpropFilter, tfjsCnn, tfjsMlp } from './tfjs_models.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const argVal = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = argVal('--rounds', 7);
const SKIP_CPU_CNN = args.includes('--skip-tfjs-cpu-cnn');

/**
 * tfjs-core's Node entry (a CJS bundle) has no gradients registered, and its ESM
 * `register_all_gradients.js` uses directory imports that Node cannot resolve. esbuild (a
 * dependency of tsx) bundles that file once; the kernel/gradient registries and the engine
 * live on globalThis, so the bundle's registrations reach the engine this file uses.
 */
async function registerTfjsGradients(): Promise<void> {
  const esbuild = await import('esbuild');
  const out = resolve(tmpdir(), `tread-bench-tfjs-gradients-${tf.version_core}.mjs`);
  if (!existsSync(out)) {
    await esbuild.build({
      entryPoints: [resolve(root, 'node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: out,
      logLevel: 'error',
    });
  }
  await import(pathToFileURL(out).href);
}

// ---------------------------------------------------------------- timing

interface Contender {
  name: string;
  /** Runs before the contender's round (thread count, backend). */
  setup: () => Promise<void> | void;
  step: () => number;
  /** Steps per round. */
  steps: number;
}

interface Stat {
  median: number;
  best: number;
  rounds: number[];
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timeRounds(contenders: Contender[], rounds: number, warmup: number): Promise<Stat[]> {
  for (const c of contenders) {
    await c.setup();
    for (let i = 0; i < warmup; i++) c.step();
  }
  const times: number[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[k];
      await c.setup();
      const t0 = performance.now();
      for (let i = 0; i < c.steps; i++) c.step();
      times[k].push((performance.now() - t0) / c.steps);
    }
  }
  return times.map((t) => ({ median: median(t), best: Math.min(...t), rounds: t }));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = performance.now();
  const { info, loadBefore, useBackend } = await startTreadAndTfjs();
  await registerTfjsGradients();
  registerWasmConv2DBackpropFilter();
  const threads = (n: number) => () => setThreads(n);
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  say(`tread ${info.variant} (pool ${info.poolThreads}) vs tfjs ${tf.version_core} (cpu, wasm), node ${process.version}; load avg ${loadBefore.toFixed(2)}`);
  say('tfjs-wasm: Conv2DBackpropFilter registered by this benchmark (Transpose + Conv2D kernels of the wasm backend; stride 1)');

  /** tread 2T, tread 1T and tfjs-wasm on one model, rounds alternating between them. */
  const compare = async (
    tread: () => number,
    tfjs: { step: () => number; dispose: () => void },
    steps: [number, number, number],
    warmup: number,
  ): Promise<Stat[]> => {
    const stats = await timeRounds(
      [
        { name: 'tread 2T', setup: threads(2), step: tread, steps: steps[0] },
        { name: 'tread 1T', setup: threads(1), step: tread, steps: steps[1] },
        { name: 'tfjs-wasm', setup: () => useBackend('wasm'), step: tfjs.step, steps: steps[2] },
      ],
      ROUNDS,
      warmup,
    );
    tfjs.dispose();
    return stats;
  };

  // ---- MLP
  const mlpData = batch(128, 784, 10, 1);
  const mlpOpt = treadMlpStep(128, 1);
  const tMlp = mlpOpt.step;
  await useBackend('wasm');
  const mlpStats = await compare(tMlp, tfjsMlp(mlpData.x, mlpData.y, 128), [50, 30, 5], 5);
  await useBackend('cpu');
  const tfcMlp = tfjsMlp(mlpData.x, mlpData.y, 128);
  const [mlpCpu] = await timeRounds([{ name: 'tfjs-cpu', setup: () => useBackend('cpu'), step: tfcMlp.step, steps: 1 }], 3, 1);
  tfcMlp.dispose();

  // ---- CNN
  const cnnData = batch(64, 784, 10, 2);
  const cnnOpt = treadCnnStep(64, 2);
  const tCnn = cnnOpt.step;
  await useBackend('wasm');
  const cnnStats = await compare(tCnn, tfjsCnn(cnnData.x, cnnData.y, 64), [10, 5, 1], 2);
  let cnnCpu: Stat | null = null;
  if (!SKIP_CPU_CNN) {
    await useBackend('cpu');
    const tfcCnn = tfjsCnn(cnnData.x, cnnData.y, 64);
    [cnnCpu] = await timeRounds([{ name: 'tfjs-cpu', setup: () => useBackend('cpu'), step: tfcCnn.step, steps: 1 }], 1, 0);
    tfcCnn.dispose();
  }
  setThreads(2);

  // ---- report
  const fmt = (s: Stat | null) => (s ? s.median.toFixed(2) : '-');
  const ratio = (a: Stat | null, b: Stat) => (a ? `${(a.median / b.median).toFixed(1)}x` : '-');
  const [m2, m1, mw] = mlpStats;
  const [c2, c1, cw] = cnnStats;
  say('');
  say(`ms/step, median of ${ROUNDS} rounds (tfjs-cpu: MLP 3 rounds of 1 step; CNN ${SKIP_CPU_CNN ? 'skipped (--skip-tfjs-cpu-cnn)' : 'one cold step'})`);
  say('');
  say('| model | tread 2T | tread 1T | tfjs-wasm | tfjs-cpu | tfjs-wasm / tread 2T | tfjs-cpu / tread 2T | 1T / 2T |');
  say('|---|---|---|---|---|---|---|---|');
  say(`| MLP 784-256-128-10, batch 128, Adam (${mlpOpt.optimizer}) | ${fmt(m2)} | ${fmt(m1)} | ${fmt(mw)} | ${fmt(mlpCpu)} | ${ratio(mw, m2)} | ${ratio(mlpCpu, m2)} | ${(m1.median / m2.median).toFixed(2)} |`);
  say(`| CNN 28x28x1, batch 64, SGD momentum (${cnnOpt.optimizer}) | ${fmt(c2)} | ${fmt(c1)} | ${fmt(cw)} | ${fmt(cnnCpu)} | ${ratio(cw, c2)} | ${ratio(cnnCpu, c2)} | ${(c1.median / c2.median).toFixed(2)} |`);
  say('');
  const mlpOk = m2.median <= 4 && mw.median / m2.median >= 10;
  const cnnOk = c2.median <= 25 && cw.median / c2.median >= 8;
  say(`targets (2 threads): MLP <= 4 ms and >= 10x tfjs-wasm: ${mlpOk ? 'met' : 'NOT met'}; CNN <= 25 ms and >= 8x tfjs-wasm: ${cnnOk ? 'met' : 'NOT met'}`);
  // Sanity: the models did train (loss finite) during the rounds.
  const lastLoss = tMlp();
  if (!Number.isFinite(lastLoss)) say(`warning: MLP loss is ${lastLoss}`);
  const loadAfter = loadavg()[0];
  say(`load avg after: ${loadAfter.toFixed(2)}; ${((performance.now() - started) / 1000).toFixed(0)} s`);

  mkdirSync(resolve(here, 'results'), { recursive: true });
  const out = {
    bench: 'train',
    unit: 'ms/step',
    date: new Date().toISOString(),
    node: process.version,
    variant: info.variant,
    poolThreads: info.poolThreads,
    tfjs: tf.version_core,
    rounds: ROUNDS,
    loadAvg: { before: loadBefore, after: loadAfter },
    notes: [
      'tfjs-wasm Conv2DBackpropFilter registered by the benchmark (Transpose + Conv2D kernels of the wasm backend)',
      SKIP_CPU_CNN ? 'tfjs-cpu CNN skipped' : 'tfjs-cpu CNN: one cold step',
    ],
    mlp: { treadOpt: mlpOpt.optimizer, tread2T: m2, tread1T: m1, tfjsWasm: mw, tfjsCpu: mlpCpu, tfjsWasmOverTread2T: mw.median / m2.median, targetMet: mlpOk },
    cnn: { treadOpt: cnnOpt.optimizer, tread2T: c2, tread1T: c1, tfjsWasm: cw, tfjsCpu: cnnCpu, tfjsWasmOverTread2T: cw.median / c2.median, targetMet: cnnOk },
    table: lines,
  };
  writeFileSync(resolve(here, 'results/train.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote bench/results/train.json`);
  process.exit(0);
}

await main();
