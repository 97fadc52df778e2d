/**
 * The jax-js twins of bench/models.ts's training steps, for bench:browser: the same MLP
 * (784-256-128-10 ReLU, softmax cross-entropy, Adam lr 1e-3) and CNN (conv3x3x32-relu-
 * maxpool2-conv3x3x64-relu-maxpool2-dense10, SGD lr 0.01 momentum 0.9) on the same batch,
 * from the same initial weights (bench/browser/init.ts).
 *
 * jax-js 0.1.25 has no optimizers (they are in a separate package, @jax-js/optax, which this
 * repository does not install), so Adam and SGD with momentum are written here by hand, with
 * PyTorch's update rules, inside the one jit-compiled function that also takes the gradient:
 * a step is one call of it. jax-js takes ownership of every array passed to a function
 * (reference counting, see its README), hence the `.ref`s.
 *
 * Each step comes in two forms: `stepSync` reads the loss with `dataSync()`, which runs every
 * kernel on the calling thread; `stepAsync` reads it with `await data()`, which jax-js's wasm
 * backend spreads over its pool of Web Workers (as many as `navigator.hardwareConcurrency`,
 * read once when the module loads; only on a cross-origin-isolated page). bench:browser times
 * the first as jax-js's 1 thread and the second, with a pool of 2, as its 2 threads.
 */
import { blockUntilReady, jit, lax, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import type { Init } from './init.js';
import { transpose2d } from './init.js';

type Params = Record<string, np.Array>;

export interface JaxStep {
  stepSync: () => number;
  stepAsync: () => Promise<number>;
  dispose: () => void;
}

const arr = (a: Float32Array, shape: number[]) => np.array(a).reshape(shape);

/** Mean softmax cross-entropy against one-hot labels `oh`. */
function xent(logits: np.Array, oh: np.Array, n: number): np.Array {
  return nn.logSoftmax(logits, -1).mul(oh).sum().mul(-1 / n);
}

function mlpLogits(p: Params, x: np.Array): np.Array {
  const h1 = nn.relu(np.dot(x, p.w1!).add(p.b1!));
  const h2 = nn.relu(np.dot(h1, p.w2!).add(p.b2!));
  return np.dot(h2, p.w3!).add(p.b3!);
}

function cnnLogits(p: Params, x: np.Array, n: number): np.Array {
  const pool = (a: np.Array) => lax.reduceWindow(a, np.max, [2, 2], [2, 2]);
  const h1 = pool(nn.relu(lax.conv(x, p.k1!, [1, 1], 'VALID').add(p.c1!))); // [n, 32, 13, 13]
  const h2 = pool(nn.relu(lax.conv(h1, p.k2!, [1, 1], 'VALID').add(p.c2!))); // [n, 64, 5, 5]
  return np.dot(h2.reshape([n, 1600]), p.w!).add(p.b!);
}

function zerosLike(p: Params): Params {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, np.zeros(v.shape)]));
}

/** Wraps a jit-compiled `(params, state..., x, oh, ...scalars) -> [loss, params, state...]`. */
function stepper(
  run: (p: Params, s: Params[], scalars: number[]) => [np.Array, Params, Params[]],
  params: Params,
  state: Params[],
  scalars: (t: number) => number[],
  owned: { dispose: () => void }[],
): JaxStep {
  let p = params;
  let s = state;
  let t = 0;
  const call = (): np.Array => {
    t++;
    const [loss, p2, s2] = run(p, s, scalars(t));
    p = p2;
    s = s2;
    return loss;
  };
  return {
    stepSync: () => call().dataSync()[0]!,
    stepAsync: async () => {
      const loss = call();
      // The loss may be ready before the last updates are: wait for all of the step.
      await blockUntilReady([loss, p, s]);
      return (await loss.data())[0]!;
    },
    dispose: () => {
      tree.dispose([p, s]);
      for (const o of owned) o.dispose();
    },
  };
}

/** MLP step, Adam (lr 1e-3, betas 0.9 / 0.999, eps 1e-8, PyTorch's bias correction). */
export function jaxMlp(xData: Float32Array, yData: Int32Array, n: number, init: Init): JaxStep {
  const x = arr(xData, [n, 784]);
  const oh = nn.oneHot(np.array(yData, { dtype: np.int32 }), 10);
  const params: Params = {
    w1: arr(transpose2d(init['0.weight']!, 256, 784), [784, 256]), b1: arr(init['0.bias']!, [256]),
    w2: arr(transpose2d(init['2.weight']!, 128, 256), [256, 128]), b2: arr(init['2.bias']!, [128]),
    w3: arr(transpose2d(init['4.weight']!, 10, 128), [128, 10]), b3: arr(init['4.bias']!, [10]),
  };
  const [lr, b1, b2, eps] = [1e-3, 0.9, 0.999, 1e-8];
  const f = jit((p: Params, m: Params, v: Params, xs: np.Array, ys: np.Array, stepSize: np.Array, c2: np.Array) => {
    const [loss, g] = valueAndGrad((q: Params) => xent(mlpLogits(q, xs), ys, n))(tree.ref(p));
    const np2: Params = {}, m2: Params = {}, v2: Params = {};
    for (const k of Object.keys(p)) {
      const gk = g[k]!;
      m2[k] = m[k]!.mul(b1).add(gk.ref.mul(1 - b1));
      v2[k] = v[k]!.mul(b2).add(gk.ref.mul(gk).mul(1 - b2));
      // p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
      const denom = np.sqrt(v2[k]!.ref).mul(c2.ref).add(eps);
      np2[k] = p[k]!.sub(m2[k]!.ref.mul(stepSize.ref).div(denom));
    }
    stepSize.dispose();
    c2.dispose();
    return [loss, np2, m2, v2] as [np.Array, Params, Params, Params];
  });
  const run = (p: Params, [m, v]: Params[], [stepSize, c2]: number[]): [np.Array, Params, Params[]] => {
    const [loss, p2, m2, v2] = f(p, m!, v!, x.ref, oh.ref, stepSize!, c2!);
    return [loss, p2, [m2, v2]];
  };
  const scalars = (t: number) => [lr / (1 - b1 ** t), 1 / Math.sqrt(1 - b2 ** t)];
  return stepper(run, params, [zerosLike(params), zerosLike(params)], scalars, [x, oh, f]);
}

/** CNN step, SGD lr 0.01 with momentum 0.9 (PyTorch's: buf = 0.9 buf + g, p -= lr buf). NCHW. */
export function jaxCnn(xData: Float32Array, yData: Int32Array, n: number, init: Init): JaxStep {
  const x = arr(xData, [n, 1, 28, 28]);
  const oh = nn.oneHot(np.array(yData, { dtype: np.int32 }), 10);
  const params: Params = {
    k1: arr(init['0.weight']!, [32, 1, 3, 3]), c1: arr(init['0.bias']!, [32, 1, 1]),
    k2: arr(init['3.weight']!, [64, 32, 3, 3]), c2: arr(init['3.bias']!, [64, 1, 1]),
    w: arr(transpose2d(init['7.weight']!, 10, 1600), [1600, 10]), b: arr(init['7.bias']!, [10]),
  };
  const [lr, momentum] = [0.01, 0.9];
  const f = jit((p: Params, buf: Params, xs: np.Array, ys: np.Array) => {
    const [loss, g] = valueAndGrad((q: Params) => xent(cnnLogits(q, xs, n), ys, n))(tree.ref(p));
    const np2: Params = {}, buf2: Params = {};
    for (const k of Object.keys(p)) {
      buf2[k] = buf[k]!.mul(momentum).add(g[k]!);
      np2[k] = p[k]!.sub(buf2[k]!.ref.mul(lr));
    }
    return [loss, np2, buf2] as [np.Array, Params, Params];
  });
  const run = (p: Params, [buf]: Params[]): [np.Array, Params, Params[]] => {
    const [loss, p2, buf2] = f(p, buf!, x.ref, oh.ref);
    return [loss, p2, [buf2]];
  };
  return stepper(run, params, [zerosLike(params)], () => [], [x, oh, f]);
}
