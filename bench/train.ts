/**
 * One training step, tread beside PyTorch, jax-js and tfjs, all in the same run:
 *
 * - MLP 784-256-128-10 ReLU, softmax cross-entropy, batch 128, Adam (lr 1e-3);
 * - CNN conv3x3x32-relu-maxpool2-conv3x3x64-relu-maxpool2-dense10 on 28x28x1, batch 64,
 *   SGD with momentum 0.9 (lr 0.01).
 *
 * Contenders: tread at 2 and 1 threads; PyTorch 1.13 + OpenBLAS (OpenMP build) at 2 and 1
 * threads (bench/torch_child.py, a persistent child process); jax-js 0.1.25 on its wasm backend
 * under Node 24 at 1 thread and with a pool of 2 workers (bench/jax_child.ts; Adam and
 * SGD-momentum written with jax-js ops and jit-compiled with the gradient); tfjs-wasm 4.22 (one
 * thread: tfjs-wasm has no threads in Node) and tfjs-cpu. A step is zero-grad + forward + loss +
 * backward + optimizer update, on a fixed random batch. Rounds of all contenders alternate (the
 * child processes run one round per request of the line protocol, bench/child.ts), so a noisy
 * neighbour hurts all of them alike; the median round is reported, and each ratio is tread at
 * the same thread count over the baseline (below 1: tread is faster).
 *
 * tfjs-wasm has no Conv2DBackpropFilter kernel, so this benchmark registers one for it,
 * built from the backend's own Transpose and Conv2D kernels (stride 1, no dilation: what
 * the CNN needs). tfjs-cpu takes ~26 s for one CNN step, so it gets exactly one (cold) step
 * when asked for (`--tfjs-cpu-cnn`). jax-js's CNN step takes seconds (its conv runs at
 * ~0.3 GFLOP/s), so it gets 2 rounds of 1 step, at 1 thread only (its pool is slower still).
 * PyTorch or jax-js missing: the benchmark says so and runs without it.
 *
 * Usage: npm run bench:train [-- --rounds 7 --node 24 --no-torch --no-jax --no-jax-cnn --tfjs-cpu-cnn]
 * Writes bench/results/train.json (train-node24.json under Node 24).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { startTreadAndTfjs } from './baselines.js';
import { setThreads } from '../ts/runtime/wasm.js';
import { batch, treadCnnStep, treadMlpStep } from './models.js';
import { registerWasmConv2DBackpropFilter, tfjsCnn, tfjsMlp } from './tfjs_models.js';
import { alternateRounds, busyWarning, type RoundContender, type RoundStat } from './harness.js';
import { cpuLine } from './cpu.js';
import { reexecForNode } from './node24.js';
import { startTorch } from './torch_child.js';
import { JAX_OPTIMIZERS, startJax, type Jax } from './jax.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = reexecForNode();
const known = ['--rounds', '--no-torch', '--no-jax', '--no-jax-cnn', '--tfjs-cpu-cnn', '--skip-tfjs-cpu-cnn'];
for (const a of args) if (a.startsWith('--') && !known.includes(a)) throw new Error(`bench:train: unknown option ${a} (known: --node, ${known.join(', ')})`);
const argVal = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = argVal('--rounds', 7);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 100) throw new Error(`bench:train: --rounds must be an integer in 1..100`);
/** tfjs-cpu's CNN step takes ~26 s: only on request (--skip-tfjs-cpu-cnn, the old opt-out, is the default now). */
const CPU_CNN = args.includes('--tfjs-cpu-cnn');
const TORCH = !args.includes('--no-torch');
const JAX = !args.includes('--no-jax');
const JAX_CNN = JAX && !args.includes('--no-jax-cnn');

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

// ---------------------------------------------------------------- main

type Stat = RoundStat;

async function main(): Promise<void> {
  const started = performance.now();
  const { info, loadBefore, useBackend } = await startTreadAndTfjs();
  await registerTfjsGradients();
  registerWasmConv2DBackpropFilter();
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  const notes: string[] = ['tfjs-wasm: Conv2DBackpropFilter registered by this benchmark (Transpose + Conv2D kernels of the wasm backend; stride 1)'];
  const { torch, note: torchNote } = TORCH ? await startTorch() : { torch: null, note: 'PyTorch not run (--no-torch)' };
  notes.push(torchNote);
  const jaxs: Jax[] = [];
  for (const t of JAX ? [1, 2] : []) {
    const { jax, note } = await startJax(t);
    if (jax) jaxs.push(jax);
    notes.push(note);
  }
  if (!JAX) notes.push('jax-js not run (--no-jax)');
  else if (jaxs.length) notes.push(`jax-js optimizers: ${JAX_OPTIMIZERS}`);
  say(`tread ${info.variant} (pool ${info.poolThreads}), node ${process.version}; load avg ${loadBefore.toFixed(2)}`);
  say(`cpu: ${cpuLine()}`);
  for (const n of notes) say(n);
  const busy = busyWarning(loadBefore, availableParallelism());
  if (busy) {
    say(busy);
    notes.push(busy);
  }

  /** A tread contender: `steps` steps on `threads` threads per round. */
  const treadC = (name: string, threads: number, step: () => number, steps: number): RoundContender => ({
    name,
    round: () => {
      setThreads(threads);
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) step();
      return (performance.now() - t0) / steps;
    },
  });
  const tfjsC = (name: string, backend: string, step: () => number, steps: number, maxRounds?: number): RoundContender => ({
    name,
    maxRounds,
    round: async () => {
      await useBackend(backend);
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) step();
      return (performance.now() - t0) / steps;
    },
  });
  const askMs = async (child: { ask: (c: string) => Promise<Record<string, unknown>> }, cmd: string) => Number((await child.ask(cmd)).ms);

  /** Runs the contenders' warm-ups, then the alternating rounds; returns stats by name. */
  const race = async (contenders: RoundContender[], warm: () => Promise<void>): Promise<Map<string, Stat>> => {
    await warm();
    const stats = await alternateRounds(contenders, ROUNDS);
    return new Map(contenders.map((c, i) => [c.name, stats[i]!]));
  };

  // ---- MLP
  const mlpData = batch(128, 784, 10, 1);
  const mlpOpt = treadMlpStep(128, 1);
  await useBackend('wasm');
  const tfMlp = tfjsMlp(mlpData.x, mlpData.y, 128);
  const mlpC: RoundContender[] = [
    treadC('tread 2T', 2, mlpOpt.step, 50),
    treadC('tread 1T', 1, mlpOpt.step, 30),
  ];
  if (torch) mlpC.push({ name: 'PyTorch 2T', round: () => askMs(torch.child, 'round mlp 2 50 1000') }, { name: 'PyTorch 1T', round: () => askMs(torch.child, 'round mlp 1 30 1000') });
  for (const j of jaxs) mlpC.push({ name: `jax-js ${j.threads}T`, round: () => askMs(j.child, 'round mlp 5') });
  mlpC.push(tfjsC('tfjs-wasm', 'wasm', tfMlp.step, 5));
  const mlp = await race(mlpC, async () => {
    for (const t of [2, 1]) {
      setThreads(t);
      for (let i = 0; i < 5; i++) mlpOpt.step();
    }
    for (let i = 0; i < 5; i++) tfMlp.step();
    // The children warm up on their first command (model built, warm-up steps).
    if (torch) await torch.child.ask('round mlp 2 1');
    for (const j of jaxs) await j.child.ask('round mlp 1');
  });
  tfMlp.dispose();
  await useBackend('cpu');
  const tfcMlp = tfjsMlp(mlpData.x, mlpData.y, 128);
  tfcMlp.step();
  const [mlpCpu] = await alternateRounds([tfjsC('tfjs-cpu', 'cpu', tfcMlp.step, 1)], 3);
  mlp.set('tfjs-cpu', mlpCpu!);
  tfcMlp.dispose();

  // ---- CNN
  const cnnData = batch(64, 784, 10, 2);
  const cnnOpt = treadCnnStep(64, 2);
  await useBackend('wasm');
  const tfCnn = tfjsCnn(cnnData.x, cnnData.y, 64);
  const cnnC: RoundContender[] = [
    treadC('tread 2T', 2, cnnOpt.step, 10),
    treadC('tread 1T', 1, cnnOpt.step, 5),
  ];
  if (torch) cnnC.push({ name: 'PyTorch 2T', round: () => askMs(torch.child, 'round cnn 2 10 1000') }, { name: 'PyTorch 1T', round: () => askMs(torch.child, 'round cnn 1 5 1000') });
  const jaxCnn = JAX_CNN ? jaxs.find((j) => j.threads === 1) : undefined;
  if (jaxCnn) cnnC.push({ name: 'jax-js 1T', round: () => askMs(jaxCnn.child, 'round cnn 1'), maxRounds: 2 });
  cnnC.push(tfjsC('tfjs-wasm', 'wasm', tfCnn.step, 1));
  const cnn = await race(cnnC, async () => {
    for (const t of [2, 1]) {
      setThreads(t);
      for (let i = 0; i < 2; i++) cnnOpt.step();
    }
    for (let i = 0; i < 2; i++) tfCnn.step();
    if (torch) await torch.child.ask('round cnn 2 1');
    if (jaxCnn) await jaxCnn.child.ask('round cnn 1'); // compile + one warm-up step
  });
  tfCnn.dispose();
  if (CPU_CNN) {
    await useBackend('cpu');
    const tfcCnn = tfjsCnn(cnnData.x, cnnData.y, 64);
    const [s] = await alternateRounds([tfjsC('tfjs-cpu', 'cpu', tfcCnn.step, 1)], 1);
    cnn.set('tfjs-cpu', s!);
    tfcCnn.dispose();
  }
  setThreads(2);
  await torch?.child.close();
  for (const j of jaxs) await j.child.close();

  // ---- report
  const names = ['tread 2T', 'tread 1T', 'PyTorch 2T', 'PyTorch 1T', 'jax-js 2T', 'jax-js 1T', 'tfjs-wasm', 'tfjs-cpu'];
  /** The threads of a contender (tfjs: 1, it has no threads in Node). */
  const threadsOf = (n: string) => (n.endsWith('2T') ? 2 : 1);
  const fmt = (s: Stat | undefined) => (s ? s.median.toFixed(2) : '-');
  const ratio = (m: Map<string, Stat>, n: string) => {
    const t = m.get(`tread ${threadsOf(n)}T`);
    const b = m.get(n);
    return t && b && !n.startsWith('tread') ? (t.median / b.median).toFixed(2) : '';
  };
  say('');
  say(`ms/step, median of ${ROUNDS} rounds (jax-js CNN: ${jaxCnn ? '2 rounds of 1 step' : 'not run'}; tfjs-cpu: MLP 3 rounds of 1 step, CNN ${CPU_CNN ? 'one step' : 'not run (--tfjs-cpu-cnn)'}); tread/x: tread at the same threads over x (below 1: tread faster)`);
  say('');
  say('| implementation | MLP 784-256-128-10 b128 Adam | CNN b64 SGD-m | tread / x, MLP | tread / x, CNN |');
  say('|---|---|---|---|---|');
  for (const n of names) {
    if (!mlp.has(n) && !cnn.has(n)) continue;
    say(`| ${n} | ${fmt(mlp.get(n))} | ${fmt(cnn.get(n))} | ${ratio(mlp, n)} | ${ratio(cnn, n)} |`);
  }
  say('');
  const m2 = mlp.get('tread 2T')!, mw = mlp.get('tfjs-wasm')!;
  const c2 = cnn.get('tread 2T')!, cw = cnn.get('tfjs-wasm')!;
  const mlpOk = m2.median <= 4 && mw.median / m2.median >= 10;
  const cnnOk = c2.median <= 25 && cw.median / c2.median >= 8;
  say(`targets (2 threads): MLP <= 4 ms and >= 10x tfjs-wasm: ${mlpOk ? 'met' : 'NOT met'}; CNN <= 25 ms and >= 8x tfjs-wasm: ${cnnOk ? 'met' : 'NOT met'}`);
  // Sanity: the models did train (loss finite) during the rounds.
  const lastLoss = mlpOpt.step();
  if (!Number.isFinite(lastLoss)) say(`warning: MLP loss is ${lastLoss}`);
  const loadAfter = loadavg()[0]!;
  const seconds = (performance.now() - started) / 1000;
  say(`load avg after: ${loadAfter.toFixed(2)}; ${seconds.toFixed(0)} s`);

  mkdirSync(resolve(here, 'results'), { recursive: true });
  const byName = (m: Map<string, Stat>) => Object.fromEntries(names.filter((n) => m.has(n)).map((n) => [n, m.get(n)!]));
  const ratios = (m: Map<string, Stat>) => Object.fromEntries(names.filter((n) => m.has(n) && !n.startsWith('tread')).map((n) => [n, Number(ratio(m, n))]));
  const out = {
    bench: 'train',
    unit: 'ms/step',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpuLine(),
    variant: info.variant,
    poolThreads: info.poolThreads,
    tfjs: tf.version_core,
    torch: torch?.info ?? null,
    jax: jaxs.map((j) => j.ready),
    rounds: ROUNDS,
    seconds,
    loadAvg: { before: loadBefore, after: loadAfter },
    notes,
    ratioIs: 'tread at the same thread count / baseline, medians (below 1: tread faster)',
    mlp: { treadOpt: mlpOpt.optimizer, results: byName(mlp), treadOver: ratios(mlp), tfjsWasmOverTread2T: mw.median / m2.median, targetMet: mlpOk },
    cnn: { treadOpt: cnnOpt.optimizer, results: byName(cnn), treadOver: ratios(cnn), tfjsWasmOverTread2T: cw.median / c2.median, targetMet: cnnOk },
    table: lines,
  };
  const file = `results/train${process.versions.node.startsWith('24.') ? '-node24' : ''}.json`;
  writeFileSync(resolve(here, file), JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote bench/${file}`);
  process.exit(0);
}

await main();
