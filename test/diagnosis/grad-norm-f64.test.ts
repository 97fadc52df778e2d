/**
 * Gradient norms are summed in float64: a finite gradient of norm 5.6e23 (squares 3.1e47,
 * past float32's 3.4e38) has a finite norm, and one of 1e-25 (squares underflow float32) is
 * not 0. Before, `sum_sq` summed squares in f32 blocks and reported Infinity and 0.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../ts/runtime/wasm.js';
import { tensor } from '../../ts/tensor/create.js';
import { clipGradNorm_, gradNorm } from '../../ts/optim/clip.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

function paramWithGrad(values: number[]) {
  const p = tensor(new Float32Array(values.length), [values.length], { requiresGrad: true });
  p.grad = tensor(Float32Array.from(values), [values.length]);
  return p;
}

describe('gradient norms in float64', () => {
  for (const n of [1, 7, 300, 5000]) {
    it(`huge and tiny finite gradients (n = ${n}) against a float64 loop`, () => {
      for (const v of [5.6e23, -3e30, 1e-25]) {
        const g = Array.from({ length: n }, (_, i) => Math.fround(v * (1 + (i % 5) / 10)));
        const want = Math.sqrt(g.reduce((a, b) => a + b * b, 0));
        const got = gradNorm([paramWithGrad(g)]);
        expect(Number.isFinite(got)).toBe(true);
        expect(Math.abs(got - want) / want).toBeLessThan(1e-6);
      }
    });
  }
  it('clipGradNorm_ scales a huge finite gradient instead of zeroing it through an Infinity norm', () => {
    const p = paramWithGrad([5.6e23, -5.6e23, 1e23]);
    const total = clipGradNorm_([p], 1);
    const want = Math.sqrt(2 * Math.fround(5.6e23) ** 2 + Math.fround(1e23) ** 2);
    expect(Math.abs(total - want) / want).toBeLessThan(1e-6);
    const g = Array.from(p.grad!.f32);
    const norm = Math.sqrt(g.reduce((a, b) => a + b * b, 0));
    expect(norm).toBeGreaterThan(0.99);
    expect(norm).toBeLessThan(1.01);
  });
});
