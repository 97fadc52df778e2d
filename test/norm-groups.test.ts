/**
 * The fused GroupNorm / LayerNorm kernel (ts/nn/layers/group_norm_op.ts) on shapes bigger than
 * the PyTorch fixtures (test/vocab-layers.test.ts): outputs and all three gradients against a
 * naive float64 implementation of the definitions written here, on 1 and 2 threads (the same
 * bits on both; 1 on a single-threaded build); the gradient accumulating into `.grad` over two backwards; a wrong-sized
 * weight is an error, not a read past it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads } from '../ts/runtime/wasm.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { GroupNorm, LayerNorm } from '../ts/nn/layers/index.js';
import { Parameter } from '../ts/nn/module.js';
import { fillUniform } from './helpers/nn-gradcheck.js';
import { expectRelClose as expectClose } from './helpers/close.js';
import { POOL_THREADS, THREAD_COUNTS } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});
afterAll(() => setThreads(POOL_THREADS));

/**
 * Naive reference: rows of `d` values (sample, group), channel of value i in row r is
 * `(r % g) * cpg + floor(i / l)`. Returns y and the gradients of sum(y * u).
 */
function reference(x: Float32Array, u: Float32Array, n: number, c: number, l: number, g: number, w: Float32Array | null, b: Float32Array | null, eps: number) {
  const cpg = c / g;
  const d = cpg * l;
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(c);
  const db = new Float64Array(c);
  for (let r = 0; r < n * g; r++) {
    const o = r * d;
    let mu = 0;
    for (let i = 0; i < d; i++) mu += x[o + i];
    mu /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[o + i] - mu) ** 2;
    v /= d;
    const rs = 1 / Math.sqrt(v + eps);
    let sg = 0;
    let sgx = 0;
    for (let i = 0; i < d; i++) {
      const ch = (r % g) * cpg + Math.floor(i / l);
      const xh = (x[o + i] - mu) * rs;
      const wc = w ? w[ch] : 1;
      y[o + i] = xh * wc + (b ? b[ch] : 0);
      const gi = u[o + i] * wc;
      sg += gi;
      sgx += gi * xh;
      dw[ch] += u[o + i] * xh;
      db[ch] += u[o + i];
    }
    for (let i = 0; i < d; i++) {
      const ch = (r % g) * cpg + Math.floor(i / l);
      const xh = (x[o + i] - mu) * rs;
      dx[o + i] = rs * (u[o + i] * (w ? w[ch] : 1) - sg / d - xh * (sgx / d));
    }
  }
  return { y, dx, dw, db };
}

const rand = (shape: number[], seed: number, lo = -2, hi = 2) => fillUniform(Tensor.empty(shape, 'float32'), seed, lo, hi);

describe('fused GroupNorm / LayerNorm', () => {
  const cases: { name: string; make: () => GroupNorm | LayerNorm; shape: number[]; ncl: [number, number, number, number] }[] = [
    { name: 'LayerNorm(768) on [64, 768]', make: () => new LayerNorm(768), shape: [64, 768], ncl: [64, 768, 1, 1] },
    { name: 'LayerNorm([6, 50]) on [3, 7, 6, 50]', make: () => new LayerNorm([6, 50], { eps: 1e-3 }), shape: [3, 7, 6, 50], ncl: [21, 300, 1, 1] },
    { name: 'LayerNorm(5000) on [4, 5000] (rows past a sum block)', make: () => new LayerNorm(5000), shape: [4, 5000], ncl: [4, 5000, 1, 1] },
    { name: 'GroupNorm(8, 32) on [6, 32, 14, 14]', make: () => new GroupNorm(8, 32), shape: [6, 32, 14, 14], ncl: [6, 32, 196, 8] },
    { name: 'GroupNorm(4, 64) on [96, 64] (L = 1)', make: () => new GroupNorm(4, 64), shape: [96, 64], ncl: [96, 64, 1, 4] },
    { name: 'GroupNorm(3, 12, affine false) on [5, 12, 40]', make: () => new GroupNorm(3, 12, { affine: false }), shape: [5, 12, 40], ncl: [5, 12, 40, 3] },
  ];
  for (const c of cases) {
    it(`${c.name}: y, dx, dweight, dbias as the definition, same bits on 1 and 2 threads`, () => {
      const runs: Float32Array[][] = [];
      for (const threads of THREAD_COUNTS) {
        setThreads(threads);
        const m = c.make();
        m.parameters().forEach((p, i) => fillUniform(p, 30 + i, -1.5, 1.5));
        // An offset mean: cancellation in the statistics would show.
        const x = rand(c.shape, 7, 8, 12).requiresGrad_();
        const u = rand(c.shape, 8);
        const y = m.forward(x);
        expect(y.gradFn?.name).toBe(c.name.split('(')[0]);
        y.backward(u);
        const [n, ch, l, g] = c.ncl;
        const w = m.weight ? m.weight.f32 : null;
        const b = m.bias ? m.bias.f32 : null;
        const ref = reference(x.f32, u.f32, n, ch, l, g, w, b, m.eps);
        expectClose(y.f32, ref.y, 'y');
        expectClose(x.grad!.f32, ref.dx, 'dx', 5e-5);
        const run = [y.f32.slice(), x.grad!.f32.slice()];
        if (m.weight) {
          expectClose(m.weight.grad!.f32, ref.dw, 'dweight', 5e-5);
          expectClose(m.bias!.grad!.f32, ref.db, 'dbias', 5e-5);
          run.push(m.weight.grad!.f32.slice(), m.bias!.grad!.f32.slice());
        }
        runs.push(run);
      }
      if (runs.length > 1) expect(runs[1]).toEqual(runs[0]);
    });
  }

  it('parameter gradients add up over two backwards, as PyTorch', () => {
    const m = new GroupNorm(2, 8);
    m.parameters().forEach((p, i) => fillUniform(p, 40 + i, -1, 1));
    const x = rand([3, 8, 5], 9);
    const u = rand([3, 8, 5], 10);
    m.forward(x).backward(u);
    const once = [m.weight!.grad!.f32.slice(), m.bias!.grad!.f32.slice()];
    m.forward(x).backward(u);
    expectClose(m.weight!.grad!.f32, Float64Array.from(once[0], (v) => 2 * v), 'dweight twice');
    expectClose(m.bias!.grad!.f32, Float64Array.from(once[1], (v) => 2 * v), 'dbias twice');
  });

  it('a weight of the wrong size is an error naming the layer and shapes', () => {
    const ln = new LayerNorm(6);
    ln.weight = new Parameter([5]);
    expect(() => ln.forward(rand([2, 6], 1))).toThrow(/LayerNorm\(\[6\]\): weight must be float32 with 6 elements, got float32 \[5\]/);
    const gn = new GroupNorm(2, 4);
    gn.bias = new Parameter([3]);
    expect(() => gn.forward(rand([2, 4, 3], 1))).toThrow(/GroupNorm\(2, 4\): bias must be float32 with 4 elements, got float32 \[3\]/);
  });
});
