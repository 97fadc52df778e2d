/**
 * Every op's backward against central finite differences (test/helpers/gradcheck.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { tensor } from '../ts/tensor/create.js';
import * as ops from '../ts/ops/index.js';
import '../ts/ops/methods.js';
import { gradcheck, GradcheckOptions, mulberry } from './helpers/gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

let seed = 1;
/** A leaf requiring grad with values U(lo, hi) (optionally kept away from 0 by `gap`). */
function leaf(shape: number[], lo = -2, hi = 2, gap = 0): Tensor {
  const r = mulberry(seed++);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x = lo + (hi - lo) * r();
    if (gap > 0 && Math.abs(x) < gap) x = x < 0 ? -gap - r() * 0.5 : gap + r() * 0.5;
    v[i] = x;
  }
  return tensor(v, shape, { requiresGrad: true });
}

function check(name: string, fn: (...t: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const r = gradcheck(fn, inputs, { name, ...opts });
  expect(r.checked).toBeGreaterThan(0);
}

describe('gradcheck: arithmetic with broadcasting', () => {
  const pairs: [number[], number[]][] = [
    [[3, 4], [3, 4]],
    [[3, 4], [4]],
    [[4], [3, 4]],
    [[3, 1], [1, 4]],
    [[2, 3, 4], [3, 1]],
    [[5], [1]],
    [[2, 1, 3], [2, 4, 1]],
  ];
  for (const [sa, sb] of pairs) {
    it(`add/sub/mul/div ${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}`, () => {
      check('add', ops.add, [leaf(sa), leaf(sb)]);
      check('sub', ops.sub, [leaf(sa), leaf(sb)]);
      check('mul', ops.mul, [leaf(sa), leaf(sb)]);
      check('div', ops.div, [leaf(sa), leaf(sb, 0.5, 2)], { eps: 1e-3 });
    });
  }
  it('scalar operands on either side', () => {
    check('x+2', (x) => ops.add(x, 2), [leaf([7])]);
    check('2-x', (x) => ops.sub(2, x), [leaf([7])]);
    check('x*3', (x) => ops.mul(x, -3), [leaf([7])]);
    check('x/4', (x) => ops.div(x, 4), [leaf([7])]);
    check('3/x', (x) => ops.div(3, x), [leaf([7], -2, 2, 0.5)], { eps: 1e-3 });
  });
  it('an input used twice (fan-out) and a broadcast input shared by two ops', () => {
    check('x*x', (x) => ops.mul(x, x), [leaf([3, 5])]);
    check('x+x', (x) => ops.add(x, x), [leaf([3, 5])]);
    check('(x+b)*(x-b)', (x, b) => ops.mul(ops.add(x, b), ops.sub(x, b)), [leaf([4, 6]), leaf([6])]);
  });
});

describe('gradcheck: unary', () => {
  it('neg exp log sqrt abs pow square clamp clone', () => {
    check('neg', ops.neg, [leaf([9])]);
    check('exp', ops.exp, [leaf([9])], { eps: 1e-3 });
    check('log', ops.log, [leaf([9], 0.5, 3)], { eps: 1e-3 });
    check('sqrt', ops.sqrt, [leaf([9], 0.5, 3)], { eps: 1e-3 });
    check('abs', ops.abs, [leaf([9], -2, 2, 0.1)]);
    check('pow 3', (x) => ops.pow(x, 3), [leaf([9])], { eps: 1e-3 });
    check('pow 1.5', (x) => ops.pow(x, 1.5), [leaf([9], 0.5, 2)], { eps: 1e-3 });
    check('pow -2', (x) => ops.pow(x, -2), [leaf([9], 0.7, 2)], { eps: 1e-3 });
    check('square', ops.square, [leaf([9])]);
    check('clamp', (x) => ops.clamp(x, -0.5, 0.7), [tensor([-1.9, -1, -0.3, 0.1, 0.5, 1.2, 1.9], [7], { requiresGrad: true })]);
    check('clone', ops.clone, [leaf([2, 3])]);
  });
});

describe('gradcheck: activations', () => {
  const x = () => leaf([4, 33], -3, 3, 0.05);
  it('relu leakyRelu elu gelu silu sigmoid tanh softplus', () => {
    check('relu', ops.relu, [x()]);
    check('leakyRelu', (t) => ops.leakyRelu(t, 0.1), [x()]);
    check('elu', (t) => ops.elu(t, 0.7), [x()], { eps: 1e-3 });
    check('gelu', ops.gelu, [x()], { eps: 1e-3 });
    check('silu', ops.silu, [x()], { eps: 1e-3 });
    check('sigmoid', ops.sigmoid, [x()], { eps: 1e-3 });
    check('tanh', ops.tanh, [x()], { eps: 1e-3 });
    check('softplus', (t) => ops.softplus(t), [x()], { eps: 1e-3 });
    check('softplus beta 2 threshold 2', (t) => ops.softplus(t, 2, 2), [x()], { eps: 1e-3 });
  });
  it('softmax and logSoftmax along each dimension', () => {
    for (const dim of [0, 1, 2, -1]) {
      check(`softmax ${dim}`, (t) => ops.softmax(t, dim), [leaf([3, 4, 5])], { eps: 1e-3 });
      check(`logSoftmax ${dim}`, (t) => ops.logSoftmax(t, dim), [leaf([3, 4, 5])], { eps: 1e-3 });
    }
  });
});

describe('gradcheck: reductions', () => {
  it('sum / mean over all, one dim, several dims, keepdim', () => {
    check('sum', (t) => ops.sum(t), [leaf([3, 4])]);
    check('mean', (t) => ops.mean(t), [leaf([3, 4])]);
    check('sum 0', (t) => ops.sum(t, 0), [leaf([3, 4])]);
    check('sum 1 keepdim', (t) => ops.sum(t, 1, true), [leaf([3, 4])]);
    check('mean -1', (t) => ops.mean(t, -1), [leaf([2, 3, 4])]);
    check('sum [0, 2]', (t) => ops.sum(t, [0, 2]), [leaf([2, 3, 4])]);
    check('mean [0, 2] keepdim', (t) => ops.mean(t, [0, 2], true), [leaf([2, 3, 4])]);
  });
  it('max over all and along a dim', () => {
    // Distinct values so the argmax is stable under ±eps.
    const distinct = (shape: number[]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = Array.from({ length: n }, (_, i) => ((i * 7919) % n) * 0.1);
      return tensor(v, shape, { requiresGrad: true });
    };
    check('max', (t) => ops.max(t), [distinct([3, 5])]);
    check('max 1', (t) => ops.max(t, 1), [distinct([3, 5])]);
    check('max 0 keepdim', (t) => ops.max(t, 0, true), [distinct([4, 3, 2])]);
  });
});

describe('gradcheck: shape ops and matmul', () => {
  it('reshape view flatten squeeze unsqueeze permute transpose t cat stack', () => {
    check('reshape', (t) => ops.mul(ops.reshape(t, [6, -1]), 2), [leaf([2, 3, 4])]);
    check('view', (t) => ops.view(t, [4, 6]).exp(), [leaf([2, 3, 4])], { eps: 1e-3 });
    check('flatten', (t) => ops.flatten(t, 1).square(), [leaf([2, 3, 4])]);
    check('squeeze', (t) => ops.squeeze(t).square(), [leaf([2, 1, 3])]);
    check('unsqueeze', (t) => ops.unsqueeze(t, 1).square(), [leaf([2, 3])]);
    check('permute', (t) => ops.permute(t, [2, 0, 1]).mul(ops.permute(t, [2, 0, 1])), [leaf([2, 3, 4])]);
    check('transpose', (t) => ops.transpose(t, 0, 2).square(), [leaf([2, 3, 4])]);
    check('t', (t) => ops.t(t).square(), [leaf([3, 5])]);
    check('cat', (a, b) => ops.cat([a, b], 1).square(), [leaf([2, 3]), leaf([2, 2])]);
    check('stack', (a, b) => ops.stack([a, b], 1).square(), [leaf([2, 3]), leaf([2, 3])]);
  });
  it('matmul: 2-D, 1-D promotions, N-D @ 2-D, batched with broadcasting', () => {
    check('mm', ops.matmul, [leaf([3, 4]), leaf([4, 5])]);
    check('vec@mat', ops.matmul, [leaf([4]), leaf([4, 5])]);
    check('mat@vec', ops.matmul, [leaf([3, 4]), leaf([4])]);
    check('dot', ops.matmul, [leaf([4]), leaf([4])]);
    check('3d@2d', ops.matmul, [leaf([2, 3, 4]), leaf([4, 5])]);
    check('bmm', ops.matmul, [leaf([2, 3, 4]), leaf([2, 4, 5])]);
    check('2d@3d', ops.matmul, [leaf([3, 4]), leaf([2, 4, 5])]);
    check('bcast batch', ops.matmul, [leaf([2, 1, 3, 4]), leaf([3, 4, 2])]);
  });
  it('a composite: x.matmul(w).add(b).relu() then logSoftmax', () => {
    check(
      'mlp',
      (x, w, b) => ops.logSoftmax(x.matmul(w).add(b).tanh(), 1),
      [leaf([5, 7]), leaf([7, 4]), leaf([4])],
      { eps: 1e-3 },
    );
  });
});
