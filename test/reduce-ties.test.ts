/**
 * max()/min() gradients as PyTorch: over all elements the gradient is split evenly among
 * every element equal to the result (evenly_distribute_backward, NaN matching NaN); along a
 * dim it goes to the returned index (the first on ties). Expected gradients below are
 * torch 1.13.1's, e.g. torch.tensor([[3.,1,3],[2,3,-1]], requires_grad=True).max().backward().
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { max, maxDim, min, minDim, sum } from '../ts/ops/reduce.js';
import { fdCheck, fillUniform } from './helpers/nn-gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const grad = (data: number[], shape: number[], f: (x: Tensor) => Tensor): { value: number[]; grad: number[] } => {
  const x = tensor(Float32Array.from(data), shape).requiresGrad_();
  const y = f(x);
  (y.ndim === 0 ? y : sum(y)).backward();
  return { value: Array.from(y.toArray()), grad: Array.from(x.grad!.toArray()) };
};

describe('max / min ties', () => {
  it('over all elements: the gradient is shared evenly by the tied extremes', () => {
    const third = 1 / 3;
    const mx = grad([3, 1, 3, 2, 3, -1], [2, 3], (x) => max(x));
    expect(mx.value).toEqual([3]);
    mx.grad.forEach((g, i) => expect(g).toBeCloseTo([third, 0, third, 0, third, 0][i], 7));
    const mn = grad([1, -1, -1, 2, -1, 5], [2, 3], (x) => min(x));
    expect(mn.value).toEqual([-1]);
    mn.grad.forEach((g, i) => expect(g).toBeCloseTo([0, third, third, 0, third, 0][i], 7));
    // An upstream gradient is split too: d(5·max)/dx.
    const x = tensor(Float32Array.from([2, 7, 7, 1]), [4]).requiresGrad_();
    max(x).backward(tensor(Float32Array.from([5]), []));
    expect(Array.from(x.grad!.toArray())).toEqual([0, 2.5, 2.5, 0]);
    // A NaN result: the gradient goes evenly to the NaNs (torch: [0, 0.5, 0, 0.5]).
    const nan = grad([1, NaN, 2, NaN], [4], (t) => max(t));
    expect(nan.value[0]).toBeNaN();
    expect(nan.grad).toEqual([0, 0.5, 0, 0.5]);
    expect(grad([1, NaN, 2, NaN], [4], (t) => min(t)).grad).toEqual([0, 0.5, 0, 0.5]);
  });

  it('along a dim: the gradient goes to the returned index (the first of ties)', () => {
    const d = grad([3, 1, 3, 2, 3, -1], [2, 3], (x) => max(x, 1));
    expect(d.value).toEqual([3, 3]);
    expect(d.grad).toEqual([1, 0, 0, 0, 1, 0]);
    const m = grad([1, -1, -1, 2, -1, 5], [2, 3], (x) => min(x, 1));
    expect(m.value).toEqual([-1, -1]);
    expect(m.grad).toEqual([0, 1, 0, 0, 1, 0]);
    const x = tensor(Float32Array.from([1, -1, -1, 2, -1, 5]), [2, 3]);
    expect(Array.from(minDim(x, 1).indices.toArray())).toEqual([1, 1]);
    expect(Array.from(minDim(x, 0, true).values.toArray())).toEqual([1, -1, -1]);
    expect(minDim(x, 0, true).values.shape).toEqual([1, 3]);
    expect(Array.from(maxDim(x, 0).indices.toArray())).toEqual([1, 0, 1]);
  });

  it('without ties, gradients match finite differences (all, along each dim, keepdim)', () => {
    const x = fillUniform(Tensor.empty([3, 4, 2], 'float32'), 5, -3, 3).requiresGrad_();
    for (const f of [max, min]) {
      expect(fdCheck(() => f(x), [x], { eps: 1e-3 }).where).toBe('');
      for (const d of [0, 1, 2, -1]) expect(fdCheck(() => f(x, d, d === 1), [x], { eps: 1e-3 }).where).toBe('');
    }
    expect(min(x).toArray()[0]).toBe(Math.min(...x.f32));
    expect(() => min(Tensor.empty([0], 'float32'))).toThrow(/min: cannot reduce an empty tensor \[0\]/);
  });
});
