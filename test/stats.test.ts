/**
 * Statistics and ordering ops (issue 20 item 2): var, std, varMean, stdMean, logsumexp,
 * norm, linalg.vectorNorm, cumsum, topk, sort. Values and gradients replayed from PyTorch
 * 1.13 (test/fixtures/stats/stats.json, made by tools/fixtures/stats.py), gradients also
 * against finite differences, and the options checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { Tensor } from '../ts/tensor/tensor.js';
import * as ops from '../ts/ops/index.js';
import '../ts/ops/methods.js';
import { gradcheck, mulberry } from './helpers/gradcheck.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

interface Case {
  op: string;
  options: Record<string, any>;
  shape: number[];
  x: number[];
  outputs: { shape: number[]; values: number[] }[];
  indices: number[][];
  weights: number[][];
  dx: number[];
}

const fixture: { cases: Case[] } = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'stats', 'stats.json'), 'utf8'));

/** The op as tread spells it, returning its float outputs (and int indices). */
function run(c: Case, x: Tensor): { values: Tensor[]; indices: Tensor[] } {
  const o = Object.fromEntries(Object.entries(c.options).map(([k, v]) => [k, v === 'inf' ? Infinity : v]));
  switch (c.op) {
    case 'var':
      return { values: [ops.var(x, o)], indices: [] };
    case 'std':
      return { values: [x.std(o)], indices: [] };
    case 'stdMean':
      return { values: ops.stdMean(x, o), indices: [] };
    case 'varMean':
      return { values: x.varMean(o), indices: [] };
    case 'logsumexp':
      return { values: [x.logsumexp(o)], indices: [] };
    case 'norm':
      return { values: [x.norm(o)], indices: [] };
    case 'vectorNorm':
      return { values: [ops.linalg.vectorNorm(x, o)], indices: [] };
    case 'cumsum':
      return { values: [x.cumsum(o.dim)], indices: [] };
    case 'topk': {
      const { k, ...rest } = o;
      const r = x.topk(k, rest);
      return { values: [r.values], indices: [r.indices] };
    }
    case 'sort': {
      const r = ops.sort(x, o);
      return { values: [r.values], indices: [r.indices] };
    }
  }
  throw new Error(`unknown op ${c.op}`);
}

function close(got: ArrayLike<number>, want: number[], what: string, rtol = 2e-6, atol = 1e-6): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]);
    if (!ok) expect.fail(`${what}[${i}]: tread ${got[i]}, PyTorch ${want[i]}`);
  }
}

describe('statistics ops against PyTorch 1.13', () => {
  it.each(fixture.cases.map((c, i) => [`${i} ${c.op} ${JSON.stringify(c.options)} on [${c.shape}]`, c] as const))('%s', (name, c) => {
    const x = tensor(c.x, c.shape, { requiresGrad: true });
    const { values, indices } = run(c, x);
    values.forEach((v, i) => {
      expect(v.shape, `${name} output ${i} shape`).toEqual(c.outputs[i].shape);
      close(v.data, c.outputs[i].values, `${name} output ${i}`);
    });
    indices.forEach((t, i) => expect([...t.data], `${name} indices`).toEqual(c.indices[i]));
    let loss = ops.sum(ops.mul(values[0], tensor(c.weights[0], c.outputs[0].shape)));
    for (let i = 1; i < values.length; i++) loss = ops.add(loss, ops.sum(ops.mul(values[i], tensor(c.weights[i], c.outputs[i].shape))));
    loss.backward();
    close(x.grad!.data, c.dx, `${name} dx`, 1e-5, 1e-6);
  });
});

describe('statistics ops against finite differences', () => {
  const rnd = mulberry(7);
  const input = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return tensor(Array.from({ length: n }, () => rnd() * 4 - 2), shape, { requiresGrad: true });
  };
  const cases: [string, (x: Tensor) => Tensor][] = [
    ['var dim [0,2]', (x) => ops.var(x, { dim: [0, 2] })],
    ['std keepdim', (x) => ops.std(x, { dim: 1, keepdim: true })],
    ['stdMean sum', (x) => ops.add(...(ops.stdMean(x, { dim: 2, correction: 0 }) as [Tensor, Tensor]))],
    ['logsumexp', (x) => ops.logsumexp(x, { dim: [1, 2] })],
    ['norm p=2', (x) => ops.norm(x, { dim: 0 })],
    ['norm p=1.5', (x) => ops.norm(x, { p: 1.5, dim: [0, 1] })],
    ['vectorNorm inf', (x) => ops.vectorNorm(x, { ord: Infinity, dim: 2 })],
    ['cumsum dim 1', (x) => ops.cumsum(x, 1)],
    ['topk dim 0 smallest', (x) => ops.topk(x, 2, { dim: 0, largest: false }).values],
    ['sort dim 1 descending', (x) => ops.sort(x, { dim: 1, descending: true }).values],
  ];
  it.each(cases)('%s', (name, fn) => {
    const r = gradcheck(fn, [input([3, 4, 5])], { name, eps: 1e-2, rtol: 2e-2, atol: 2e-3 });
    expect(r.checked).toBeGreaterThan(10);
  });
});

describe('statistics ops: options, errors and edge cases', () => {
  it('checks options with a hint and refuses what PyTorch would return as NaN', () => {
    const x = tensor([[1, 2, 3], [4, 5, 7]]);
    expect(() => ops.var(x, { dims: 1 } as any)).toThrow(/var: unknown option 'dims' \(did you mean 'dim'\?/);
    expect(() => ops.std(x, { correction: 1, unbiased: true })).toThrow(/std: give correction or unbiased, not both/);
    expect(() => ops.var(x, { dim: 0, correction: 2 })).toThrow(/var: correction 2 needs more than 2 element\(s\) per reduction, got 2/);
    expect(() => ops.norm(x, { p: 0 })).toThrow(/norm: p must be > 0/);
    expect(() => ops.vectorNorm(x, { ord: 2, keep_dim: true } as any)).toThrow(/linalg.vectorNorm: unknown option 'keep_dim' \(did you mean 'keepdim'\?/);
    expect(() => ops.topk(x, 4)).toThrow(/topk: k = 4 is larger than dimension -1 of \[2, 3\] \(3\)/);
    expect(() => ops.sort(x, { dim: 2 })).toThrow(/sort: dimension 2 is out of range/);
    expect(() => ops.sort(x, { decending: true } as any)).toThrow(/sort: unknown option 'decending' \(did you mean 'descending'\?/);
    expect(() => ops.var(x, { dim: [1, 1] })).toThrow(/var: dim \[1, 1\] repeats a dimension/);
  });

  it('sorts NaN last (largest), keeps ties stable, and handles 0-D tensors', () => {
    const s = ops.sort(tensor([3, NaN, 1, 3, -2]));
    expect([...s.values.data].map(String)).toEqual(['-2', '1', '3', '3', 'NaN']);
    expect([...s.indices.data]).toEqual([4, 2, 0, 3, 1]);
    expect([...ops.topk(tensor([3, NaN, 1]), 1).indices.data]).toEqual([1]);
    const z = tensor([2.5], []);
    expect(ops.cumsum(z, 0).item()).toBe(2.5);
    expect(ops.sort(z).values.item()).toBe(2.5);
    expect(ops.var(z, { correction: 0 }).item()).toBe(0);
    expect(ops.logsumexp(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(ops.logsumexp(tensor([1000, 1000])).item()).toBeCloseTo(1000 + Math.log(2), 3);
  });

  it('topk with sorted: false keeps the original order along dim', () => {
    const r = ops.topk(tensor([[1, 9, 3, 7, 5]]), 3, { sorted: false });
    expect([...r.values.data]).toEqual([9, 7, 5]);
    expect([...r.indices.data]).toEqual([1, 3, 4]);
  });
});
