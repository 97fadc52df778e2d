import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { check } from '../tools/golden/clip.js';
import { clipGradNorm_, clipGradValue_, gradNorm } from '../ts/optim/clip.js';
import { applyPenalties, l1Penalty, l2Penalty } from '../ts/optim/penalty.js';
import { SGD } from '../ts/optim/sgd.js';
import { init, setThreads } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import { SINGLE_BUILD } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

function withGrad(values: number[] | Float32Array, grad: number[] | Float32Array): Tensor {
  const p = tensor(values).keep();
  p.requiresGrad = true;
  p.grad = tensor(grad).keep();
  return p;
}

function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

describe('clipping: golden replay', () => {
  it('replays every case of test/fixtures/golden/clip.json', async () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/golden/clip.json', 'utf8'));
    const results = await check(fixture, 'clip.json');
    expect(results.length).toBe(fixture.cases.length);
    for (const r of results) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
  });
});

describe('clipGradNorm_', () => {
  it('returns the total norm of all gradients (2, 1, inf, p) and scales to maxNorm', () => {
    const a = withGrad([0, 0], [3, -4]);
    const b = withGrad([0], [12]);
    expect(gradNorm([a, b])).toBeCloseTo(13, 6);
    expect(gradNorm([a, b], 1)).toBeCloseTo(19, 6);
    expect(gradNorm([a, b], Infinity)).toBe(12);
    expect(gradNorm([a, b], 3)).toBeCloseTo((27 + 64 + 1728) ** (1 / 3), 5);
    const total = clipGradNorm_([a, b], 1.3);
    expect(total).toBeCloseTo(13, 5);
    expect(gradNorm([a, b])).toBeCloseTo(1.3, 5);
    expect(Array.from(a.grad!.f32)).toEqual([Math.fround(3 * Math.fround(1.3 / Math.fround(13 + 1e-6))), Math.fround(-4 * Math.fround(1.3 / Math.fround(13 + 1e-6)))]);
    // Below the limit nothing changes; parameters without gradients are skipped.
    const c = withGrad([0], [0.5]);
    const d = tensor([1]).keep();
    expect(clipGradNorm_([c, d], 10)).toBe(0.5);
    expect(c.grad!.f32[0]).toBe(0.5);
    expect(clipGradNorm_([d], 1)).toBe(0);
  });

  it('handles non-finite norms as PyTorch, or throws with errorIfNonfinite', () => {
    const a = withGrad([0, 0], [NaN, 1]);
    expect(() => clipGradNorm_([a], 1, 2, { errorIfNonfinite: true })).toThrow(/non-finite \(NaN\)/);
    expect(a.grad!.f32[1]).toBe(1);
    expect(Number.isNaN(clipGradNorm_([a], 1))).toBe(true);
    const b = withGrad([0], [Infinity]);
    expect(() => clipGradNorm_([b], 1, 'inf', { errorIfNonfinite: true })).toThrow(/non-finite \(Infinity\)/);
    expect(() => clipGradNorm_([b], -1)).toThrow(/maxNorm/);
    expect(() => clipGradNorm_([b], 1, 0)).toThrow(/normType/);
  });

  it.skipIf(SINGLE_BUILD)('a large gradient: the same norm on 1 and 2 threads, close to a float64 sum', () => {
    const n = 1 << 20;
    const g = noise(n, 9);
    let exact = 0;
    for (const v of g) exact += v * v;
    exact = Math.sqrt(exact);
    const norms = [1, 2].map((t) => {
      setThreads(t);
      const p = withGrad(new Float32Array(n), g);
      const r = [gradNorm([p]), gradNorm([p], 1), gradNorm([p], Infinity)];
      p.grad!.dispose();
      p.dispose();
      return r;
    });
    setThreads(2);
    expect(Math.abs(norms[1][0] - exact) / exact).toBeLessThan(1e-6);
    expect(norms[1][0]).toBeCloseTo(norms[0][0], 3);
    expect(norms[1][2]).toBe(norms[0][2]);
  });
});

describe('clipGradValue_', () => {
  it('clamps every gradient to [-v, v]', () => {
    const a = withGrad([0, 0, 0, 0], [-3, -0.5, 0.25, 9]);
    clipGradValue_([a], 1);
    expect(Array.from(a.grad!.f32)).toEqual([-1, -0.5, 0.25, 1]);
    expect(() => clipGradValue_([a], -1)).toThrow(/clipValue/);
  });
});

describe('penalties', () => {
  it('l2Penalty adds 2λw to the gradient and returns λΣw²; l1Penalty adds λ·sign(w), returns λΣ|w|', () => {
    const w = withGrad([1, -2, 0, 3], [0.5, 0.5, 0.5, 0.5]);
    expect(l2Penalty([w], 0.1)).toBeCloseTo(0.1 * 14, 6);
    const c = Math.fround(2 * Math.fround(0.1));
    expect(Array.from(w.grad!.f32)).toEqual([1, -2, 0, 3].map((v) => Math.fround(0.5 + Math.fround(c * v))));
    w.grad!.f32.fill(0);
    expect(l1Penalty([w], 0.5)).toBeCloseTo(3, 6);
    expect(Array.from(w.grad!.f32)).toEqual([0.5, -0.5, 0, 0.5]);
    const fresh = tensor([2, -1]).keep();
    expect(l2Penalty([fresh], 1)).toBe(5);
    expect(Array.from(fresh.grad!.f32)).toEqual([4, -2]);
    expect(() => l2Penalty([w], -1)).toThrow(/lambda/);
  });

  it('applyPenalties uses group overrides (e.g. no L2 on biases) and matches SGD weight decay 2λ', () => {
    const weight = withGrad([1, 2], [0, 0]);
    const bias = withGrad([5], [0]);
    const opt = new SGD([{ params: [weight] }, { params: [bias], l2: 0 }], { lr: 0.1 });
    const pen = applyPenalties(opt, { l2: 0.05 });
    expect(pen).toBeCloseTo(0.05 * 5, 6);
    expect(Array.from(weight.grad!.f32)).toEqual([0.1, 0.2].map(Math.fround));
    expect(bias.grad!.f32[0]).toBe(0);
    // The same step as SGD's weightDecay = 2λ on a zero loss gradient.
    opt.step();
    const twin = withGrad([1, 2], [0, 0]);
    new SGD([twin], { lr: 0.1, weightDecay: 0.1 }).step();
    expect(Array.from(weight.f32)).toEqual(Array.from(twin.f32));
  });
});
