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
 *                         (lr 1e-3) written here with jax-js ops (jax-js has no optimizer package
 *                         in this repository), jit-compiled together with valueAndGrad
 *   round cnn <steps>     ms/step: the CNN of bench/models.ts (NCHW lax.conv, reduceWindow max
 *                         pool), batch 64, SGD momentum 0.9 (lr 0.01), jit-compiled the same way
 *   gemm <form> <n> <round_ms>   GFLOP/s of one round of a jit-compiled matmul (at least 1 call;
 *                         the caller's first round, with round_ms 0, is its warm-up: it compiles)
 * The first command on a model compiles it and runs warm-up steps (2 for the MLP, 1 for the CNN: seconds each).
 */
import { installWorkerShim } from './web_worker_shim.js';

const args = process.argv.slice(2);
const THREADS = Number(args[args.indexOf('--threads') + 1] ?? '1');
if (THREADS > 1) installWorkerShim(THREADS);
const jax = await import('@jax-js/jax');
const { jit, valueAndGrad, numpy: np, nn, lax, tree } = jax;
type Arr = InstanceType<typeof np.Array>;

const devices = await jax.init();
if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (${devices.join(', ')})`);
jax.defaultDevice('wasm');

/** The xorshift stream of bench/models.ts. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
const r = rng(7);
const uniform = (shape: number[], fanIn: number): Arr =>
  np.array(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((r() * 2 - 1) / Math.sqrt(fanIn)))).reshape(shape);
function batch(n: number, classes: number, seed: number): { x: Float32Array; y: Int32Array } {
  const q = rng(seed);
  const x = Float32Array.from({ length: n * 784 }, () => q());
  const y = Int32Array.from({ length: n }, () => Math.floor(q() * classes));
  return { x, y };
}
/** Reads a scalar: synchronously without a pool, awaiting the pool's work with one. */
const read = async (a: Arr): Promise<number> => (THREADS > 1 ? (await a.data())[0]! : a.dataSync()[0]!);

const crossEntropy = (logits: Arr, y: Arr): Arr => np.mean(np.sum(nn.logSoftmax(logits, -1).mul(y), -1)).mul(-1);

type Tree = Record<string, Arr>;
interface Model {
  step: () => Promise<number>;
}

function mlp(): Model {
  const B = 128;
  const d = batch(B, 10, 1);
  const x = np.array(d.x).reshape([B, 784]);
  const y = nn.oneHot(np.array(d.y, { dtype: np.int32 }), 10);
  let p: Tree = { w1: uniform([784, 256], 784), b1: np.zeros([256]), w2: uniform([256, 128], 256), b2: np.zeros([128]), w3: uniform([128, 10], 128), b3: np.zeros([10]) };
  let m = tree.map((a: Arr) => np.zerosLike(a.ref), p) as Tree;
  let v = tree.map((a: Arr) => np.zerosLike(a.ref), p) as Tree;
  const loss = (p: Tree, x: Arr, y: Arr) => {
    const h1 = nn.relu(np.matmul(x, p.w1!).add(p.b1!));
    const h2 = nn.relu(np.matmul(h1, p.w2!).add(p.b2!));
    return crossEntropy(np.matmul(h2, p.w3!).add(p.b3!), y);
  };
  // Adam (PyTorch's form): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  // p -= lr/(1-b1^t) * m / (sqrt(v/(1-b2^t)) + eps). The bias corrections come in as arrays.
  const step = jit((p: Tree, m: Tree, v: Tree, x: Arr, y: Arr, c1: Arr, c2: Arr) => {
    const [l, g] = valueAndGrad(loss)(tree.ref(p), x, y);
    const m2 = tree.map((mm: Arr, gg: Arr) => mm.mul(0.9).add(gg.mul(0.1)), m, tree.ref(g)) as Tree;
    const v2 = tree.map((vv: Arr, gg: Arr) => vv.mul(0.999).add(gg.ref.mul(gg).mul(0.001)), v, g) as Tree;
    const p2 = tree.map((pp: Arr, mm: Arr, vv: Arr) => pp.sub(mm.mul(c1.ref).div(np.sqrt(vv.mul(c2.ref)).add(1e-8))), p, tree.ref(m2), tree.ref(v2)) as Tree;
    c1.dispose();
    c2.dispose();
    return [l, p2, m2, v2];
  });
  let t = 0;
  return {
    step: async () => {
      t++;
      const c1 = np.array(1e-3 / (1 - 0.9 ** t));
      const c2 = np.array(1 / (1 - 0.999 ** t));
      const [l, p2, m2, v2] = step(p, m, v, x.ref, y.ref, c1, c2) as unknown as [Arr, Tree, Tree, Tree];
      p = p2; m = m2; v = v2;
      return read(l);
    },
  };
}

function cnn(): Model {
  const B = 64;
  const d = batch(B, 10, 2);
  const x = np.array(d.x).reshape([B, 1, 28, 28]);
  const y = nn.oneHot(np.array(d.y, { dtype: np.int32 }), 10);
  let p: Tree = {
    k1: uniform([32, 1, 3, 3], 9), c1: np.zeros([32]),
    k2: uniform([64, 32, 3, 3], 288), c2: np.zeros([64]),
    w: uniform([1600, 10], 1600), b: np.zeros([10]),
  };
  let vel = tree.map((a: Arr) => np.zerosLike(a.ref), p) as Tree;
  const pool = (h: Arr) => lax.reduceWindow(h, (w: Arr) => np.max(w), [2, 2], [2, 2]);
  const block = (h: Arr, k: Arr, c: Arr) => pool(nn.relu(lax.conv(h, k, [1, 1], 'VALID').add(c.reshape([1, -1, 1, 1]))));
  const loss = (p: Tree, x: Arr, y: Arr) => {
    const h = block(block(x, p.k1!, p.c1!), p.k2!, p.c2!); // [B, 64, 5, 5]
    return crossEntropy(np.matmul(h.reshape([B, 1600]), p.w!).add(p.b!), y);
  };
  // SGD with momentum (PyTorch's form): v = 0.9 v + g; p -= lr v.
  const step = jit((p: Tree, vel: Tree, x: Arr, y: Arr) => {
    const [l, g] = valueAndGrad(loss)(tree.ref(p), x, y);
    const v2 = tree.map((vv: Arr, gg: Arr) => vv.mul(0.9).add(gg), vel, g) as Tree;
    const p2 = tree.map((pp: Arr, vv: Arr) => pp.sub(vv.mul(0.01)), p, tree.ref(v2)) as Tree;
    return [l, p2, v2];
  });
  return {
    step: async () => {
      const [l, p2, v2] = step(p, vel, x.ref, y.ref) as unknown as [Arr, Tree, Tree];
      p = p2; vel = v2;
      return read(l);
    },
  };
}

const models = new Map<string, Model>();
const matrices = new Map<number, [Arr, Arr]>();
const gemmFns = new Map<string, (a: Arr, b: Arr) => Arr>();

async function roundModel(name: string, steps: number) {
  let m = models.get(name);
  if (!m) {
    m = name === 'mlp' ? mlp() : cnn();
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
  const t0 = performance.now();
  let t = t0;
  do {
    await call();
    calls++;
    t = performance.now();
  } while (t - t0 < roundMs);
  return { gflops: (2 * n ** 3 * calls) / ((t - t0) * 1e6), calls };
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
