/**
 * The autograd engine through the ops: fan-out accumulation, accumulation across backward
 * calls until zeroing, noGrad, detach, freed graphs, non-scalar roots.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { detach, enableGrad, noGrad, record } from '../ts/autograd/engine.js';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { Tensor } from '../ts/tensor/tensor.js';
import * as ops from '../ts/ops/index.js';
import '../ts/ops/methods.js';
import { gradcheck } from './helpers/gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

describe('autograd', () => {
  it('sums gradients where a tensor fans out', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    // y = x·x + 3x + x → dy/dx = 2x + 4
    const y = x.mul(x).add(x.mul(3)).add(x).sum();
    y.backward();
    expect(x.grad!.tolist()).toEqual([6, 8, 10]);
  });

  it('does not corrupt one input’s gradient when another is accumulated in place', () => {
    // c = a + b passes one gradient to a and b; a also feeds d. b's gradient must stay 1.
    const p = tensor([1, 2], [2], { requiresGrad: true });
    const q = tensor([3, 4], [2], { requiresGrad: true });
    const a = p.mul(1);
    const b = q.mul(1);
    const c = a.add(b);
    const d = a.mul(5);
    c.add(d).sum().backward();
    expect(p.grad!.tolist()).toEqual([6, 6]);
    expect(q.grad!.tolist()).toEqual([1, 1]);
  });

  it('accumulates across backward calls until the gradient is zeroed', () => {
    const w = tensor([2, -1], [2], { requiresGrad: true });
    w.mul(3).sum().backward();
    w.mul(3).sum().backward();
    expect(w.grad!.tolist()).toEqual([6, 6]);
    w.grad = null; // what zeroGrad() does
    w.square().sum().backward();
    expect(w.grad!.tolist()).toEqual([4, -2]);
    w.grad!.f32.fill(0); // zeroGrad(setToNone = false)
    w.sum().backward();
    expect(w.grad!.tolist()).toEqual([1, 1]);
  });

  it('records nothing under noGrad, and enableGrad turns it back on', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => x.mul(2).exp().sum());
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => y.backward()).toThrow(/does not require grad/);
    const z = noGrad(() => enableGrad(() => x.mul(2)));
    expect(z.requiresGrad).toBe(true);
    expect(z.gradFn).not.toBeNull();
  });

  it('detach cuts the graph', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const h = x.mul(2);
    const d = h.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    expect(d.storage).toBe(h.storage);
    // y = x·detach(2x): the gradient treats the detached factor as a constant.
    x.mul(detach(h)).sum().backward();
    expect(x.grad!.tolist()).toEqual([2, 4]);
  });

  it('a second backward without retainGraph throws a clear error; with it, accumulates', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/already freed.*retainGraph/);
    const x2 = tensor([1, 2], [2], { requiresGrad: true });
    const y2 = x2.square().sum();
    y2.backward(undefined, { retainGraph: true });
    y2.backward();
    expect(x2.grad!.tolist()).toEqual([4, 8]);
  });

  it('backward of a non-scalar needs a gradient', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(/gradient must be given for a non-scalar output of shape \[3\]/);
    y.backward(tensor([1, 0, -1]));
    expect(x.grad!.tolist()).toEqual([2, 0, -2]);
    expect(() => x.mul(2).backward(tensor([1, 2]))).toThrow(/gradient shape \[2\] does not match output shape \[3\]/);
  });

  it('gradients reach only leaves that require them; int outputs are not differentiable', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const c = tensor([3, 4], [2]);
    x.mul(c).sum().backward();
    expect(x.grad!.tolist()).toEqual([3, 4]);
    expect(c.grad).toBeNull();
    const am = ops.argmax(x);
    expect(am.requiresGrad).toBe(false);
  });

  it('broadcast gradients are summed back to each input shape', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], undefined, { requiresGrad: true });
    const b = tensor([10, 20, 30], [3], { requiresGrad: true });
    const s = tensor([[2], [3]], undefined, { requiresGrad: true });
    x.add(b).mul(s).sum().backward();
    expect(b.grad!.tolist()).toEqual([5, 5, 5]);
    expect(s.grad!.tolist()).toEqual([[66], [75]]);
    expect(x.grad!.tolist()).toEqual([[2, 2, 2], [3, 3, 3]]);
  });

  it('gradcheck catches a wrong backward', () => {
    const bad = (x: Tensor) => {
      const y = ops.mul(x, 2);
      // Same forward, but a backward that is off by a factor.
      const z = Tensor.empty(y.shape, 'float32', true);
      z.f32.set(y.f32);
      return record(z, 'bad', [x], (g) => [ops.mul(noGrad(() => ops.mul(g, 3)), 1)]);
    };
    expect(() => gradcheck(bad, [tensor([1, 2, 3], [3], { requiresGrad: true })], { name: 'bad' })).toThrow(/gradcheck\(bad\)/);
  });
});
