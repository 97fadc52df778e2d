/**
 * Gradients of intermediate tensors: retainGrad(), registerHook() and the warning when the
 * .grad of a non-leaf is read, checked against finite differences (float64, in plain JS)
 * and the chain rule.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tread from '../ts/index.js';
import { resetNonLeafGradWarning } from '../ts/tensor/tensor.js';

const { nn } = tread;

beforeAll(async () => {
  await tread.init({ threads: 2 });
});

afterEach(() => {
  vi.restoreAllMocks();
});

function values(n: number, seed: number, scale = 1): number[] {
  const out: number[] = [];
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push((s / 2147483648 - 1) * scale);
  }
  return out;
}

const sig = (v: number) => 1 / (1 + Math.exp(-v));

/** Central differences of f at every element of a (float64). */
function finiteDiff(f: (a: number[]) => number, a: number[], eps = 1e-5): number[] {
  return a.map((_, i) => {
    const up = a.slice();
    const down = a.slice();
    up[i] += eps;
    down[i] -= eps;
    return (f(up) - f(down)) / (2 * eps);
  });
}

describe('.grad of a non-leaf', () => {
  it('stays null and warns once, naming retainGrad()', () => {
    resetNonLeafGradWarning();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const w = tread.tensor([1, 2, 3], undefined, { requiresGrad: true });
    const h = tread.mul(w, 2);
    tread.sum(h).backward();
    expect(h.grad).toBeNull();
    expect(h.grad).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/not a leaf.*retainGrad\(\)/);
    // Leaves do not warn.
    expect(Array.from(w.grad!.f32)).toEqual([2, 2, 2]);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('retainGrad()', () => {
  // L = Σ c ⊙ sigmoid(x·W)² with a = x·W and h = sigmoid(a) retained.
  const x = values(4 * 3, 1);
  const W = values(3 * 5, 2);
  const c = values(4 * 5, 3);
  const downstreamOfH = (h: number[]) => h.reduce((s, v, i) => s + c[i] * v * v, 0);
  const downstreamOfA = (a: number[]) => downstreamOfH(a.map(sig));

  it('fills .grad of intermediate results with dL/d(result), as finite differences give', () => {
    const xt = tread.tensor(x, [4, 3]);
    const Wt = tread.tensor(W, [3, 5], { requiresGrad: true });
    const a = tread.matmul(xt, Wt).retainGrad();
    const h = tread.sigmoid(a).retainGrad();
    const loss = tread.sum(tread.mul(tread.tensor(c, [4, 5]), tread.square(h)));
    expect(a.retainsGrad).toBe(true);
    loss.backward();
    const aVals = Array.from(a.f32);
    const hVals = Array.from(h.f32);
    const fdH = finiteDiff(downstreamOfH, hVals);
    const fdA = finiteDiff(downstreamOfA, aVals);
    Array.from(h.grad!.f32).forEach((g, i) => expect(g).toBeCloseTo(fdH[i], 4));
    Array.from(a.grad!.f32).forEach((g, i) => expect(g).toBeCloseTo(fdA[i], 4));
    // Chain rule at the leaf: dL/dW = xᵀ · dL/da.
    const ga = Array.from(a.grad!.f32);
    for (let k = 0; k < 3; k++) {
      for (let j = 0; j < 5; j++) {
        let s = 0;
        for (let i = 0; i < 4; i++) s += x[i * 3 + k] * ga[i * 5 + j];
        expect(Wt.grad!.f32[k * 5 + j]).toBeCloseTo(s, 5);
      }
    }
  });

  it('sums every path into a tensor that fans out, and accumulates over backward calls', () => {
    const w = tread.tensor([0.5, -1, 2], undefined, { requiresGrad: true });
    const h = tread.mul(w, 3).retainGrad();
    const loss = tread.add(tread.sum(tread.mul(h, h)), tread.sum(tread.mul(h, 4))); // dL/dh = 2h + 4
    loss.backward(undefined, { retainGraph: true });
    const hv = Array.from(h.f32);
    Array.from(h.grad!.f32).forEach((g, i) => expect(g).toBeCloseTo(2 * hv[i] + 4, 5));
    loss.backward();
    Array.from(h.grad!.f32).forEach((g, i) => expect(g).toBeCloseTo(2 * (2 * hv[i] + 4), 5));
  });

  it('is a no-op on a leaf and refuses a tensor that does not require grad', () => {
    const w = tread.tensor([1, 2], undefined, { requiresGrad: true });
    expect(w.retainGrad()).toBe(w);
    expect(w.retainsGrad).toBe(false);
    expect(() => tread.tensor([1, 2]).retainGrad()).toThrow(/retainGrad\(\).*does not require grad/);
    expect(() => tread.noGrad(() => tread.mul(w, 2)).retainGrad()).toThrow(/does not require grad/);
  });
});

describe('registerHook()', () => {
  it('sees the complete gradient of an intermediate, and a returned tensor replaces it upstream', () => {
    const w = tread.tensor([1, -2, 3], undefined, { requiresGrad: true });
    const h = tread.mul(w, 2);
    const seen: number[][] = [];
    const handle = h.registerHook((g) => {
      seen.push(Array.from(g.f32));
      return tread.mul(g, 10);
    });
    // L = Σ h² + Σ h: dL/dh = 2h + 1 (one call with the sum of both paths).
    tread.add(tread.sum(tread.mul(h, h)), tread.sum(h)).backward();
    expect(seen).toEqual([[5, -7, 13]]);
    // dL/dw = 2 · (hook's 10 · dL/dh).
    expect(Array.from(w.grad!.f32)).toEqual([100, -140, 260]);
    handle.remove();
    w.grad = null;
    tread.sum(tread.mul(w, 2)).backward();
    expect(Array.from(w.grad!.f32)).toEqual([2, 2, 2]);
  });

  it('runs before .grad of a retained result is filled, so .grad holds the replaced gradient', () => {
    const w = tread.tensor([1, 2], undefined, { requiresGrad: true });
    const h = tread.mul(w, 1).retainGrad();
    h.registerHook((g) => tread.mul(g, -1));
    tread.sum(h).backward();
    expect(Array.from(h.grad!.f32)).toEqual([-1, -1]);
    expect(Array.from(w.grad!.f32)).toEqual([-1, -1]);
  });

  it('on a layer parameter: sees and replaces the gradient the layer computes', () => {
    nn.manualSeed(1);
    const layer = new nn.Linear(3, 2);
    const x = tread.tensor(values(12, 7), [4, 3]);
    tread.sum(layer.forward(x)).backward();
    const plain = Array.from(layer.weight.grad!.f32);
    layer.zeroGrad(true);
    let seen: number[] = [];
    const handle = layer.weight.registerHook((g) => {
      seen = Array.from(g.f32);
      return tread.mul(g, 2);
    });
    tread.sum(layer.forward(x)).backward();
    seen.forEach((v, i) => expect(v).toBeCloseTo(plain[i], 6));
    Array.from(layer.weight.grad!.f32).forEach((v, i) => expect(v).toBeCloseTo(2 * plain[i], 5));
    handle.remove();
    layer.zeroGrad(true);
    tread.sum(layer.forward(x)).backward();
    Array.from(layer.weight.grad!.f32).forEach((v, i) => expect(v).toBeCloseTo(plain[i], 6));
  });

  it('refuses tensors without grad, non-functions and gradients of the wrong shape', () => {
    expect(() => tread.tensor([1]).registerHook(() => {})).toThrow(/registerHook: cannot register a hook on a \[1\] tensor that does not require grad/);
    const w = tread.tensor([1, 2], undefined, { requiresGrad: true });
    expect(() => w.registerHook(42 as any)).toThrow(/expected a function/);
    const h = tread.mul(w, 2);
    h.registerHook(() => tread.tensor([1, 2, 3]));
    expect(() => tread.sum(h).backward()).toThrow(/returned a gradient of shape \[3\] for a tensor of shape \[2\]/);
  });
});

describe('examples/gradient_flow.ts', () => {
  it('runs: dL/da vanishes towards the input in the sigmoid net and holds steady in the He-initialised ReLU net', () => {
    const root = resolve(__dirname, '..');
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'examples/gradient_flow.ts')], {
      encoding: 'utf8',
      env: { ...process.env, TREAD_THREADS: '2' },
    });
    const flow = (name: string) => {
      const line = out.split('\n').find((l) => l.startsWith(name));
      const nums = (line ?? '').split(':')[1]?.trim().split(/\s+/).map(Number) ?? [];
      expect(nums, `${name} line in:\n${out}`).toHaveLength(10);
      return nums;
    };
    const sigmoid = flow('sigmoid');
    const relu = flow('relu');
    for (let i = 1; i < 10; i++) expect(sigmoid[i]).toBeGreaterThan(sigmoid[i - 1]); // shrinks layer by layer going back
    expect(sigmoid[0] / sigmoid[9]).toBeLessThan(1e-4);
    expect(relu[0] / relu[9]).toBeGreaterThan(0.3);
    expect(relu[0] / relu[9]).toBeLessThan(3);
  });
});
