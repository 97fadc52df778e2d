/**
 * jax-js's side of bench/train.ts and bench/gemm.ts: a persistent process speaking the line
 * protocol of bench/child.ts, started by bench/jax.ts under Node 24 (jax-js needs Node >= 21).
 *
 *   node --import tsx bench/jax_child.ts --threads 1|2
 *
 * jax-js's wasm backend (SIMD, kernels generated per shape). In Node it has no `Worker` global
 * and so no worker pool: `--threads 1` runs it as it comes, on the main thread (synchronous
 * reads); `--threads 2` installs bench/web_worker_shim.ts so that it starts its pool of 2
 * workers (asynchronous reads), as it would in a browser page.
 *
 * Commands (one JSON line each):
 *   round mlp <steps>     ms/step: MLP 784-256-128-10 ReLU, softmax cross-entropy, batch 128, Adam
 *                         (lr 1e-3) written with jax-js ops (jax-js has no optimizer package in
 *                         this repository), jit-compiled together with valueAndGrad
 *   round cnn <steps>     ms/step: the CNN of bench/models.ts (NCHW lax.conv, reduceWindow max
 *                         pool), batch 64, SGD momentum 0.9 (lr 0.01), jit-compiled the same way
 *                         (both from bench/browser/jax_models.ts, which bench:browser runs too)
 *   gemm <form> <n> <round_ms>   GFLOP/s of one round of a jit-compiled matmul (at least 1 call;
 *                         the caller's first round, with round_ms 0, is its warm-up: it compiles)
 * The first command on a model compiles it and runs warm-up steps (2 for the MLP, 1 for the CNN: seconds each).
 */
import { installWorkerShim } from './web_worker_shim.js';
import { roundRateAsync } from './harness.js';

const args = process.argv.slice(2);
const THREADS = Number(args[args.indexOf('--threads') + 1] ?? '1');
if (THREADS > 1) installWorkerShim(THREADS);
const jax = await import('@jax-js/jax');
const { jit, numpy: np } = jax;
type Arr = InstanceType<typeof np.Array>;
const { jaxCnn, jaxMlp } = await import('./browser/jax_models.js');
const { cnnInit, mlpInit } = await import('./browser/init.js');
const { batch, rng } = await import('./models.js');

const devices = await jax.init();
if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (${devices.join(', ')})`);
jax.defaultDevice('wasm');

interface Model {
  step: () => Promise<number>;
}

/**
 * The steps of bench/browser/jax_models.ts (shared with bench:browser), on bench/models.ts's
 * batches and bench/browser/init.ts's initial weights: synchronous without a pool, awaiting
 * the pool's work with one.
 */
function model(name: 'mlp' | 'cnn'): Model {
  const n = name === 'mlp' ? 128 : 64;
  const d = batch(n, 784, 10, name === 'mlp' ? 1 : 2);
  const s = name === 'mlp' ? jaxMlp(d.x, d.y, n, mlpInit()) : jaxCnn(d.x, d.y, n, cnnInit());
  return { step: THREADS > 1 ? s.stepAsync : async () => s.stepSync() };
}

const models = new Map<string, Model>();
const matrices = new Map<number, [Arr, Arr]>();
const gemmFns = new Map<string, (a: Arr, b: Arr) => Arr>();

async function roundModel(name: string, steps: number) {
  let m = models.get(name);
  if (!m) {
    m = model(name as 'mlp' | 'cnn');
    models.set(name, m);
    await m.step(); // compiles; a second warm-up step would cost seconds on the CNN
    if (name === 'mlp') await m.step();
  }
  const t0 = performance.now();
  let loss = NaN;
  for (let i = 0; i < steps; i++) loss = await m.step();
  return { ms: (performance.now() - t0) / steps, loss };
}

async function gemm(form: string, n: number, roundMs: number) {
  if (!matrices.has(n)) {
    const q = rng(n);
    const fill = () => np.array(Float32Array.from({ length: n * n }, () => q() * 2 - 1)).reshape([n, n]);
    matrices.set(n, [fill(), fill()]);
  }
  const [a, b] = matrices.get(n)!;
  let f = gemmFns.get(form);
  if (!f) {
    const ta = form === 'AtB' || form === 'AtBt';
    const tb = form === 'ABt' || form === 'AtBt';
    f = jit((a: Arr, b: Arr) => np.matmul(ta ? a.transpose() : a, tb ? b.transpose() : b)) as unknown as (a: Arr, b: Arr) => Arr;
    gemmFns.set(form, f);
  }
  const call = async () => {
    const c = f!(a.ref, b.ref);
    if (THREADS > 1) await c.data();
    else c.dataSync();
  };
  let calls = 0;
  const gflops = await roundRateAsync(2 * n ** 3, () => (calls++, call()), roundMs);
  return { gflops, calls };
}

async function handle(w: string[]): Promise<Record<string, unknown>> {
  if (w[0] === 'round' && (w[1] === 'mlp' || w[1] === 'cnn')) return roundModel(w[1], Number(w[2]));
  if (w[0] === 'gemm') return gemm(w[1]!, Number(w[2]), Number(w[3]));
  throw new Error(`unknown command: ${w.join(' ')}`);
}

const { readFileSync } = await import('node:fs');
const pkg = new URL('../node_modules/@jax-js/jax/package.json', import.meta.url);
const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
process.stdout.write(JSON.stringify({ ready: true, jax: version, node: process.version, device: jax.defaultDevice(), threads: THREADS, pool: THREADS > 1 ? 'web_worker_shim' : 'none' }) + '\n');
const { createInterface } = await import('node:readline');
for await (const line of createInterface({ input: process.stdin })) {
  const w = line.trim().split(/\s+/);
  if (!w[0]) continue;
  if (w[0] === 'quit') break;
  let out: Record<string, unknown>;
  try {
    out = await handle(w);
  } catch (e) {
    out = { error: String((e as Error).message ?? e) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
process.exit(0);
