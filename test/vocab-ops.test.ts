/**
 * The tensor vocabulary of issue 14 item 3: comparisons, where, narrow / select / slice,
 * indexSelect, gather, x.T replayed against PyTorch 1.13 (values and gradients,
 * test/fixtures/vocab-ops/vocab_ops.json made by tools/fixtures/vocab_ops.py), printing as
 * PyTorch's repr, gradients against finite differences, and the argument checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { gradcheck, mulberry } from './helpers/gradcheck.js';

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

type Value = number | 'nan' | 'inf' | '-inf';
interface Encoded {
  shape: number[];
  dtype: 'float32' | 'int' | 'int32';
  values: Value[];
}
interface OpCase {
  op: string;
  args: Record<string, any>;
  inputs: Encoded[];
  output: Encoded;
  weights?: number[];
  grads?: (number[] | null)[];
}
interface PrintCase extends Encoded {
  requiresGrad: boolean;
  repr: string;
}

const fixture: { cases: OpCase[]; prints: PrintCase[] } = JSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'vocab-ops', 'vocab_ops.json'), 'utf8'),
);

const num = (v: Value): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

function decode(e: Encoded, requiresGrad: boolean): Tensor {
  const values = e.values.map(num);
  if (e.dtype === 'float32') return tread.tensor(values, e.shape, { requiresGrad });
  return tread.tensor(values, e.shape, { dtype: 'int32' });
}

/** The op as tread spells it (functions and methods both used). */
function run(c: OpCase, xs: Tensor[]): Tensor {
  const a = c.args;
  switch (c.op) {
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return 'other' in a ? (xs[0] as any)[c.op](a.other) : (tread as any)[c.op](xs[0], xs[1]);
    case 'where':
      return 'other' in a ? tread.where(xs[0], xs[1], a.other) : xs[1].where(xs[0], xs[2]);
    case 'narrow':
      return tread.narrow(xs[0], a.dim, a.start, a.length);
    case 'select':
      return xs[0].select(a.dim, a.index);
    case 'slice':
      return xs[0].slice(a.spec);
    case 'indexSelect':
      return tread.indexSelect(xs[0], a.dim, xs[1]);
    case 'gather':
      return xs[0].gather(a.dim, xs[1]);
    case 'T':
      return xs[0].T;
  }
  throw new Error(`unknown op ${c.op}`);
}

function close(got: ArrayLike<number>, want: number[], what: string, rtol = 1e-6, atol = 1e-7): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]);
    if (!ok) expect.fail(`${what}[${i}]: tread ${got[i]}, PyTorch ${want[i]}`);
  }
}

describe('tensor ops against PyTorch 1.13', () => {
  it.each(fixture.cases.map((c, i) => [`${i} ${c.op} ${JSON.stringify(c.args)} on ${c.inputs.map((e) => `[${e.shape}]`).join(', ')}`, c] as const))('%s', (name, c) => {
    const xs = c.inputs.map((e) => decode(e, e.dtype === 'float32'));
    const y = run(c, xs);
    expect(y.shape, `${name} shape`).toEqual(c.output.shape);
    // PyTorch's bool results are tread's int32 0/1.
    expect(y.dtype, `${name} dtype`).toBe(c.output.dtype === 'float32' ? 'float32' : 'int32');
    close(y.data, c.output.values.map(num), `${name} output`);
    if (c.weights === undefined) return;
    tread.sum(tread.mul(y, tread.tensor(c.weights, c.output.shape))).backward();
    c.grads!.forEach((want, k) => {
      if (want === null) return;
      close(xs[k].grad!.data, want, `${name} grad of input ${k}`);
    });
  });

  it('covers every op of the item', () => {
    const ops = new Set(fixture.cases.map((c) => c.op));
    for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'where', 'narrow', 'select', 'slice', 'indexSelect', 'gather', 'T']) expect(ops.has(op), op).toBe(true);
  });
});

describe('printing as PyTorch', () => {
  it.each(fixture.prints.map((p, i) => [`${i} ${p.dtype} [${p.shape}]`, p] as const))('%s', (_, p) => {
    const t = decode(p, p.requiresGrad);
    expect(String(t)).toBe(p.repr);
    expect(inspect(t)).toBe(p.repr);
    expect(`${t}`).toBe(p.repr);
  });

  it('names the op that made a result, and says when a tensor was freed', () => {
    const x = tread.tensor([1, 2], { requiresGrad: true });
    expect(String(x.mul(2))).toBe('tensor([2., 4.], grad_fn=<mul>)');
    const y = tread.tensor([1, 2]);
    y.dispose();
    expect(String(y)).toBe('Tensor([2], float32, freed)');
  });
});

describe('gradients against finite differences', () => {
  const rnd = mulberry(11);
  const input = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return tread.tensor(Array.from({ length: n }, () => rnd() * 4 - 2), shape, { requiresGrad: true });
  };
  const idx = (values: number[], shape: number[]) => tread.tensor(values, shape, { dtype: 'int32' });
  const mask = () => idx([1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1], [3, 4]);
  const cases: [string, (x: Tensor, y: Tensor) => Tensor][] = [
    ['where (broadcast b)', (x, y) => tread.where(mask(), x, y.narrow(0, 0, 1))],
    ['where (mask from gt)', (x, y) => tread.where(x.gt(y), x.mul(y), y)],
    ['narrow', (x) => tread.narrow(x, 1, 1, 2)],
    ['select', (x) => tread.select(x, 0, -1)],
    ['slice with step', (x) => tread.slice(x, [[0, 3, 2], [1, null]])],
    ['indexSelect, repeated', (x) => tread.indexSelect(x, 1, idx([3, 0, 3, 3], [4]))],
    ['gather, repeated', (x) => tread.gather(x, 1, idx([0, 0, 2, 1, 1, 1], [3, 2]))],
    ['T', (x) => x.T.mul(x.T)],
  ];
  it.each(cases)('%s', (name, fn) => {
    const r = gradcheck(fn, [input([3, 4]), input([3, 4])], { name, eps: 1e-2, rtol: 1e-2, atol: 1e-3 });
    expect(r.checked).toBeGreaterThan(0);
  });
});

describe('comparisons and where', () => {
  it('give int32 0/1 masks that where() reads, with numbers on either side', () => {
    const x = tread.tensor([[1, 5], [3, -2]]);
    const m = x.ge(3);
    expect(m.dtype).toBe('int32');
    expect([...m.data]).toEqual([0, 1, 1, 0]);
    expect([...tread.where(m, 1, -1).data]).toEqual([-1, 1, 1, -1]);
    expect([...tread.where(tread.tensor([0, 1]), x, 0).data]).toEqual([0, 5, 0, -2]); // float mask: non-zero is true
  });

  it('refuse what they cannot do, naming the op and the shapes', () => {
    const a = tread.tensor([1, 2, 3]);
    expect(() => tread.eq(a, tread.tensor([1, 2]))).toThrow(/eq: shapes \[3\] and \[2\] cannot be broadcast/);
    expect(() => tread.where(tread.tensor([1, 0]), a, a)).toThrow(/where: shapes \[2\] and \[3\] cannot be broadcast/);
    expect(() => tread.where(a.gt(1), tread.tensor([1, 2, 3], { dtype: 'int32' }), a)).toThrow(/where: input must be float32, got int32 \[3\]/);
    expect(() => tread.gt(2 as any, a)).toThrow(/gt: the first operand must be a Tensor/);
    expect(() => tread.where(null as any, a, a)).toThrow(/where: condition must be a Tensor/);
  });
});

describe('indexing arguments', () => {
  const x = () => tread.tensor([[1, 2, 3], [4, 5, 6]]);
  it('errors name the function, the argument and the shape', () => {
    expect(() => x().narrow(1, 2, 2)).toThrow(/narrow: start \(2\) \+ length \(2\) exceeds dimension 1 of size 3 \(shape \[2, 3\]\)/);
    expect(() => x().narrow(2, 0, 1)).toThrow(/narrow: dimension 2 is out of range/);
    expect(() => x().select(0, 2)).toThrow(/select: index 2 is out of range for dimension 0 of size 2/);
    expect(() => x().slice([null, [0, 2, -1]])).toThrow(/slice: step must be a positive integer/);
    expect(() => x().slice([null, null, null])).toThrow(/slice: 3 entries in the spec for a tensor of shape \[2, 3\]/);
    expect(() => x().slice([null, 'a' as any])).toThrow(/slice: spec entry 1 must be null, an integer or \[start, end, step\]/);
    expect(() => x().indexSelect(1, tread.tensor([0, 3], { dtype: 'int32' }))).toThrow(/indexSelect: index 3 \(position 1\) is out of range for dimension 1 of size 3/);
    expect(() => x().indexSelect(0, tread.tensor([0.5]))).toThrow(/indexSelect: index must hold integers, got 0.5/);
    expect(() => x().gather(1, tread.tensor([0, 1], { dtype: 'int32' }))).toThrow(/gather: index \[2\] must have as many dimensions as input \[2, 3\]/);
    expect(() => x().gather(0, tread.tensor([[0, 0, 0, 0]], { dtype: 'int32' }))).toThrow(/gather: index \[1, 4\] is larger than input \[2, 3\] in dimension 1/);
    expect(() => x().gather(0, tread.tensor([[0], [1], [1]], { dtype: 'int32' })).tolist()).not.toThrow(); // the gather dim may be longer
  });

  it('works on int32 tensors too (no gradient)', () => {
    const i = tread.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(i.T.tolist()).toEqual([[1, 3], [2, 4]]);
    expect(i.select(1, 0).tolist()).toEqual([1, 3]);
    expect(i.gather(1, tread.tensor([[1], [0]], { dtype: 'int32' })).tolist()).toEqual([[2], [3]]);
  });
});

describe('casts', () => {
  it('float() counts a mask; int() truncates toward zero as PyTorch and refuses NaN', () => {
    const x = tread.tensor([[-1.5, 0.25], [2.75, -0.5]], { requiresGrad: true });
    expect(x.gt(0).float().mean().item()).toBe(0.5);
    expect(x.int().tolist()).toEqual([[-1, 0], [2, 0]]); // torch.tensor([[-1.5, .25], [2.75, -.5]]).int()
    expect(x.int().dtype).toBe('int32');
    x.float().mul(x).sum().backward(); // float -> float keeps the graph
    expect([...x.grad!.data]).toEqual([-3, 0.5, 5.5, -1]);
    expect(() => tread.tensor([1, NaN]).int()).toThrow(/int: element 1 is NaN, which has no int32 value/);
    expect(() => tread.tensor([3e9]).int()).toThrow(/int: element 0 is 3000000000/);
  });
});
