/**
 * BatchNorm1d on `[N, C]` batches (the rows kernel, crates/tread-core/src/kernels/norm_rows.rs:
 * sums down the rows eight and four channels at a time, then single channels) on shapes that
 * take every one of those paths, against a naive float64 implementation of the definitions
 * written here: y, the running statistics, and the gradients of sum(y * u) in train and eval
 * mode, on 1 and 2 threads (the same bits on both; 1 on a single-threaded build). The small
 * shapes of test/layers.test.ts (C = 3) only reach the single-channel path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads } from '../ts/runtime/wasm.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { BatchNorm1d } from '../ts/nn/layers/batchnorm.js';
import { fillUniform } from './helpers/nn-gradcheck.js';
import { expectRelClose as expectClose } from './helpers/close.js';
import { POOL_THREADS, THREAD_COUNTS } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});
afterAll(() => setThreads(POOL_THREADS));

interface Stats {
  mean: Float64Array;
  /** Biased variance (normalizes in training). */
  varB: Float64Array;
  /** Unbiased variance (goes into running_var). */
  varU: Float64Array;
}

function stats(x: Float32Array, n: number, c: number): Stats {
  const mean = new Float64Array(c);
  const varB = new Float64Array(c);
  const varU = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * c + j];
    const mu = s / n;
    let q = 0;
    for (let i = 0; i < n; i++) q += (x[i * c + j] - mu) ** 2;
    [mean[j], varB[j], varU[j]] = [mu, q / n, n > 1 ? q / (n - 1) : NaN];
  }
  return { mean, varB, varU };
}

/** y and the gradients of sum(y * u), normalizing with `mean`/`variance` (batch or running). */
function reference(x: Float32Array, u: Float32Array, n: number, c: number, mean: Float64Array, variance: Float64Array, train: boolean, w: Float32Array | null, b: Float32Array | null, eps: number) {
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(c);
  const db = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    const is = 1 / Math.sqrt(variance[j] + eps);
    const wj = w ? w[j] : 1;
    let su = 0;
    let sux = 0;
    for (let i = 0; i < n; i++) {
      const xh = (x[i * c + j] - mean[j]) * is;
      y[i * c + j] = xh * wj + (b ? b[j] : 0);
      su += u[i * c + j];
      sux += u[i * c + j] * xh;
    }
    dw[j] = sux;
    db[j] = su;
    for (let i = 0; i < n; i++) {
      const xh = (x[i * c + j] - mean[j]) * is;
      // Training: the batch statistics depend on x too.
      dx[i * c + j] = train ? wj * is * (u[i * c + j] - su / n - xh * (sux / n)) : wj * is * u[i * c + j];
    }
  }
  return { y, dx, dw, db };
}

const rand = (shape: number[], seed: number, lo = -2, hi = 2) => fillUniform(Tensor.empty(shape, 'float32'), seed, lo, hi);

describe('BatchNorm1d on [N, C]', () => {
  const cases: { n: number; c: number; affine: boolean; why: string }[] = [
    { n: 128, c: 256, affine: true, why: 'the Fashion MLP\'s layer, split over threads' },
    { n: 300, c: 100, affine: true, why: 'a block of 64, then 36 = 4 x 8 + 4 channels' },
    { n: 33, c: 70, affine: false, why: 'a block of 64, then six single channels; one task' },
    { n: 6, c: 13, affine: true, why: '8 + 4 + 1 channels' },
  ];
  for (const { n, c, affine, why } of cases) {
    it(`[${n}, ${c}]${affine ? '' : ', affine false'} (${why}): train and eval as the definition, same bits on 1 and 2 threads`, () => {
      const runs: Float32Array[][] = [];
      for (const threads of THREAD_COUNTS) {
        setThreads(threads);
        const m = new BatchNorm1d(c, { affine, momentum: 0.25 });
        m.parameters().forEach((p, i) => fillUniform(p, 30 + i, -1.5, 1.5));
        fillUniform(m.runningMean!, 40, -1, 1);
        fillUniform(m.runningVar!, 41, 0.5, 2);
        const rm0 = Float64Array.from(m.runningMean!.f32);
        const rv0 = Float64Array.from(m.runningVar!.f32);
        // An offset mean: cancellation in the statistics would show.
        const x = rand([n, c], 7, 8, 12).requiresGrad_();
        const u = rand([n, c], 8);
        // Copies: a view of the wasm memory goes stale when the memory grows (single-threaded builds).
        const w = m.weight ? m.weight.f32.slice() : null;
        const b = m.bias ? m.bias.f32.slice() : null;
        const run: Float32Array[] = [];

        m.train();
        const y = m.forward(x);
        y.backward(u);
        const st = stats(x.f32, n, c);
        const ref = reference(x.f32, u.f32, n, c, st.mean, st.varB, true, w, b, m.eps);
        expectClose(y.f32, ref.y, 'train y');
        expectClose(x.grad!.f32, ref.dx, 'train dx', 5e-5);
        expectClose(m.runningMean!.f32, rm0.map((v, j) => 0.75 * v + 0.25 * st.mean[j]), 'running_mean');
        expectClose(m.runningVar!.f32, rv0.map((v, j) => 0.75 * v + 0.25 * st.varU[j]), 'running_var');
        run.push(y.f32.slice(), x.grad!.f32.slice(), m.runningMean!.f32.slice(), m.runningVar!.f32.slice());
        if (m.weight) {
          expectClose(m.weight.grad!.f32, ref.dw, 'train dweight', 5e-5);
          expectClose(m.bias!.grad!.f32, ref.db, 'train dbias', 5e-5);
          run.push(m.weight.grad!.f32.slice(), m.bias!.grad!.f32.slice());
        }

        m.eval();
        x.grad = null;
        m.zeroGrad();
        const ye = m.forward(x);
        ye.backward(u);
        const rm = Float64Array.from(m.runningMean!.f32);
        const rv = Float64Array.from(m.runningVar!.f32);
        const refE = reference(x.f32, u.f32, n, c, rm, rv, false, w, b, m.eps);
        expectClose(ye.f32, refE.y, 'eval y');
        expectClose(x.grad!.f32, refE.dx, 'eval dx', 5e-5);
        run.push(ye.f32.slice(), x.grad!.f32.slice());
        if (m.weight) {
          expectClose(m.weight.grad!.f32, refE.dw, 'eval dweight', 5e-5);
          expectClose(m.bias!.grad!.f32, refE.db, 'eval dbias', 5e-5);
        }
        runs.push(run);
      }
      if (runs.length > 1) expect(runs[1]).toEqual(runs[0]);
    });
  }
});
