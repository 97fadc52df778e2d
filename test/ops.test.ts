/**
 * Every op's forward against a naive JS reference on random inputs, including odd sizes and
 * broadcasting; shape errors; Tensor methods.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { tensor } from '../ts/tensor/create.js';
import * as ops from '../ts/ops/index.js';
import '../ts/ops/methods.js';
import { mulberry } from './helpers/gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const rnd = mulberry(42);
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function rand(shape: number[], lo = -3, hi = 3): Tensor {
  const v = new Float32Array(size(shape));
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * rnd();
  return tensor(v, shape);
}

function expectClose(got: Tensor, want: ArrayLike<number>, shape: readonly number[], rtol = 1e-5, atol = 1e-6): void {
  expect([...got.shape]).toEqual([...shape]);
  const g = got.data;
  expect(g.length).toBe(want.length);
  for (let i = 0; i < g.length; i++) {
    const w = want[i];
    if (Number.isNaN(w)) {
      expect(Number.isNaN(g[i])).toBe(true);
      continue;
    }
    if (Math.abs(g[i] - w) > atol + rtol * Math.abs(w)) {
      throw new Error(`element ${i}: got ${g[i]}, want ${w}`);
    }
  }
}

/** Naive NumPy broadcasting in JS (float64). */
function bcastRef(a: Tensor, b: Tensor, f: (x: number, y: number) => number): { data: number[]; shape: number[] } {
  const nd = Math.max(a.ndim, b.ndim);
  const pa = [...Array(nd - a.ndim).fill(1), ...a.shape];
  const pb = [...Array(nd - b.ndim).fill(1), ...b.shape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const n = size(shape);
  const data: number[] = [];
  const ad = a.data;
  const bd = b.data;
  for (let i = 0; i < n; i++) {
    let rest = i;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = nd - 1; d >= 0; d--) {
      const k = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      ia += (pa[d] === 1 ? 0 : k) * sa;
      ib += (pb[d] === 1 ? 0 : k) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    data.push(f(ad[ia], bd[ib]));
  }
  return { data, shape };
}

const f32 = Math.fround;

describe('binary ops with broadcasting', () => {
  const pairs: [number[], number[]][] = [
    [[1], [1]],
    [[7], [7]],
    [[129], [1]],
    [[1], [63]],
    [[63, 129], [129]],
    [[129], [63, 129]],
    [[63, 129], [63, 1]],
    [[63, 1], [1, 129]],
    [[2, 3, 4, 5], [3, 1, 5]],
    [[2, 1, 4, 1], [3, 1, 5]],
    [[300, 257], [300, 257]],
    [[300, 257], [257]],
    [[], [5]],
  ];
  const fns: [string, (a: any, b: any) => Tensor, (x: number, y: number) => number][] = [
    ['add', ops.add, (x, y) => x + y],
    ['sub', ops.sub, (x, y) => x - y],
    ['mul', ops.mul, (x, y) => x * y],
    ['div', ops.div, (x, y) => x / y],
  ];
  for (const [sa, sb] of pairs) {
    it(`${JSON.stringify(sa)} and ${JSON.stringify(sb)}`, () => {
      const a = rand(sa);
      const b = rand(sb, 0.5, 3);
      for (const [name, op, f] of fns) {
        const want = bcastRef(a, b, (x, y) => f32(f(x, y)));
        const got = op(a, b);
        try {
          expectClose(got, want.data, want.shape, name === 'div' ? 1e-6 : 0, 0);
        } catch (e) {
          throw new Error(`${name}: ${(e as Error).message}`);
        }
      }
    });
  }
  it('scalar operands on either side', () => {
    const x = rand([7, 9], 0.5, 2);
    const xd = Array.from(x.data);
    expectClose(ops.add(x, 2), xd.map((v) => v + 2), [7, 9]);
    expectClose(ops.add(2, x), xd.map((v) => v + 2), [7, 9]);
    expectClose(ops.sub(x, 2), xd.map((v) => v - 2), [7, 9]);
    expectClose(ops.sub(2, x), xd.map((v) => 2 - v), [7, 9]);
    expectClose(ops.mul(x, -3), xd.map((v) => v * -3), [7, 9]);
    expectClose(ops.mul(-3, x), xd.map((v) => v * -3), [7, 9]);
    expectClose(ops.div(x, 3), xd.map((v) => v / 3), [7, 9], 1e-6);
    expectClose(ops.div(3, x), xd.map((v) => 3 / v), [7, 9], 1e-6);
    expect(() => ops.add(1 as any, 2)).toThrow(/at least one operand must be a Tensor/);
  });
  it('errors name the op and both shapes', () => {
    expect(() => ops.add(rand([2, 3]), rand([4]))).toThrow('add: shapes [2, 3] and [4] cannot be broadcast');
    expect(() => ops.mul(rand([2, 3]), rand([3, 2]))).toThrow('mul: shapes [2, 3] and [3, 2] cannot be broadcast');
    expect(() => ops.matmul(rand([2, 3]), rand([4, 5]))).toThrow('matmul: shapes [2, 3] and [4, 5] cannot be multiplied');
    expect(() => ops.reshape(rand([2, 3]), [4, -1])).toThrow(/reshape of \[2, 3\]/);
    expect(() => ops.relu(tensor([1, 2], [2], { dtype: 'int32' }))).toThrow(/relu: expected float32/);
    expect(() => ops.softmax(rand([2, 3]), 2)).toThrow(/softmax: dimension 2 is out of range/);
  });
});

describe('unary ops', () => {
  for (const n of [1, 7, 63, 129, 1000, 70001]) {
    it(`n = ${n}`, () => {
      const x = rand([n]);
      const p = rand([n], 0.1, 4);
      const xd = Array.from(x.data);
      const pd = Array.from(p.data);
      expectClose(ops.neg(x), xd.map((v) => -v), [n]);
      expectClose(ops.exp(x), xd.map(Math.exp), [n], 1e-6);
      expectClose(ops.log(p), pd.map(Math.log), [n], 1e-6, 1e-7);
      expectClose(ops.sqrt(p), pd.map(Math.sqrt), [n], 1e-6);
      expectClose(ops.abs(x), xd.map(Math.abs), [n]);
      expectClose(ops.pow(x, 2), xd.map((v) => v * v), [n], 1e-6);
      expectClose(ops.pow(p, 1.7), pd.map((v) => v ** 1.7), [n], 1e-5);
      expectClose(ops.pow(x, 3), xd.map((v) => v ** 3), [n], 1e-5);
      expectClose(ops.square(x), xd.map((v) => v * v), [n], 1e-6);
      expectClose(ops.clamp(x, -1, 0.5), xd.map((v) => Math.min(0.5, Math.max(-1, v))), [n]);
      expectClose(ops.clamp(x, null, 0.5), xd.map((v) => Math.min(0.5, v)), [n]);
      expectClose(ops.clamp(x, 0), xd.map((v) => Math.max(0, v)), [n]);
      expectClose(ops.clone(x), xd, [n], 0, 0);
    });
  }
});

function erf(x: number): number {
  // Series / continued fraction, float64.
  const z = Math.abs(x);
  let r: number;
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) <= 1e-17 * Math.abs(sum)) break;
    }
    r = (sum * 2) / Math.sqrt(Math.PI);
  } else {
    let t = z;
    for (let k = 80; k >= 1; k--) t = z + k / 2 / t;
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / t;
  }
  return x < 0 ? -r : r;
}

describe('activations', () => {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (const n of [1, 7, 63, 129, 1000, 70001]) {
    it(`n = ${n}`, () => {
      const x = rand([n], -8, 8);
      const xd = Array.from(x.data);
      expectClose(ops.relu(x), xd.map((v) => Math.max(0, v)), [n]);
      expectClose(ops.leakyRelu(x), xd.map((v) => (v > 0 ? v : 0.01 * v)), [n], 1e-6);
      expectClose(ops.leakyRelu(x, 0.2), xd.map((v) => (v > 0 ? v : f32(0.2) * v)), [n], 1e-6);
      expectClose(ops.elu(x), xd.map((v) => (v > 0 ? v : Math.expm1(v))), [n], 1e-6, 1e-7);
      expectClose(ops.elu(x, 0.5), xd.map((v) => (v > 0 ? v : 0.5 * Math.expm1(v))), [n], 1e-6, 1e-7);
      expectClose(ops.gelu(x), xd.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), [n], 1e-5, 1e-6);
      expectClose(ops.silu(x), xd.map((v) => v * sig(v)), [n], 1e-5, 1e-7);
      expectClose(ops.sigmoid(x), xd.map(sig), [n], 1e-6, 1e-7);
      expectClose(ops.tanh(x), xd.map(Math.tanh), [n], 1e-6, 1e-7);
      expectClose(ops.softplus(x), xd.map((v) => (v > 20 ? v : Math.log1p(Math.exp(v)))), [n], 1e-6, 1e-7);
      expectClose(ops.softplus(x, 2, 3), xd.map((v) => (2 * v > 3 ? v : Math.log1p(Math.exp(2 * v)) / 2)), [n], 1e-6, 1e-7);
    });
  }
});

/** Reference of a reduction along one axis of [outer, n, inner]. */
function axisRef(x: Tensor, dim: number, f: (vals: number[]) => number): number[] {
  const s = x.shape;
  const outer = size(s.slice(0, dim));
  const n = s[dim];
  const inner = size(s.slice(dim + 1));
  const d = x.data;
  const res: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const vals: number[] = [];
      for (let k = 0; k < n; k++) vals.push(d[(o * n + k) * inner + i]);
      res.push(f(vals));
    }
  }
  return res;
}

const sumf = (v: number[]) => v.reduce((a, b) => a + b, 0);
const maxf = (v: number[]) => Math.max(...v);
const argmaxf = (v: number[]) => v.indexOf(Math.max(...v));

describe('reductions', () => {
  const shapes = [[1], [7], [129], [63, 129], [7, 63, 5], [2, 1000, 3], [70001]];
  for (const shape of shapes) {
    it(`${JSON.stringify(shape)}`, () => {
      const x = rand(shape);
      const all = Array.from(x.data);
      expectClose(ops.sum(x), [sumf(all)], [], 1e-5, 1e-4);
      expectClose(ops.mean(x), [sumf(all) / all.length], [], 1e-5, 1e-6);
      expectClose(ops.max(x), [Math.max(...all)], [], 0, 0);
      expect(ops.argmax(x).item()).toBe(all.indexOf(Math.max(...all)));
      for (let dim = 0; dim < shape.length; dim++) {
        const kept = shape.map((s, i) => (i === dim ? 1 : s));
        const dropped = shape.filter((_, i) => i !== dim);
        expectClose(ops.sum(x, dim), axisRef(x, dim, sumf), dropped, 1e-5, 1e-4);
        expectClose(ops.sum(x, dim - shape.length, true), axisRef(x, dim, sumf), kept, 1e-5, 1e-4);
        expectClose(ops.mean(x, dim), axisRef(x, dim, (v) => sumf(v) / v.length), dropped, 1e-5, 1e-5);
        expectClose(ops.max(x, dim), axisRef(x, dim, maxf), dropped, 0, 0);
        const am = ops.argmax(x, dim, true);
        expect(am.dtype).toBe('int32');
        expectClose(am, axisRef(x, dim, argmaxf), kept, 0, 0);
        const { values, indices } = ops.maxDim(x, dim);
        expectClose(values, axisRef(x, dim, maxf), dropped, 0, 0);
        expectClose(indices, axisRef(x, dim, argmaxf), dropped, 0, 0);
      }
    });
  }
  it('several dims at once', () => {
    const x = rand([3, 4, 5, 6]);
    const d = x.data;
    const want: number[] = [];
    for (let j = 0; j < 4; j++) {
      for (let l = 0; l < 6; l++) {
        let s = 0;
        for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) s += d[((i * 4 + j) * 5 + k) * 6 + l];
        want.push(s);
      }
    }
    expectClose(ops.sum(x, [0, 2]), want, [4, 6], 1e-5, 1e-5);
    expectClose(ops.sum(x, [2, -4], true), want, [1, 4, 1, 6], 1e-5, 1e-5);
    expectClose(ops.mean(x, [0, 2]), want.map((v) => v / 15), [4, 6], 1e-5, 1e-6);
  });
});

describe('softmax / logSoftmax', () => {
  for (const shape of [[1], [7], [129], [63, 129], [7, 63, 5], [300, 10]]) {
    it(`${JSON.stringify(shape)} along every dim`, () => {
      const x = rand(shape, -10, 10);
      for (let dim = 0; dim < shape.length; dim++) {
        const s = shape[dim];
        const inner = size(shape.slice(dim + 1));
        const outer = size(shape.slice(0, dim));
        const d = x.data;
        const sm = new Array(x.size);
        const lsm = new Array(x.size);
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            const at = (k: number) => (o * s + k) * inner + i;
            let m = -Infinity;
            for (let k = 0; k < s; k++) m = Math.max(m, d[at(k)]);
            let z = 0;
            for (let k = 0; k < s; k++) z += Math.exp(d[at(k)] - m);
            for (let k = 0; k < s; k++) {
              sm[at(k)] = Math.exp(d[at(k)] - m) / z;
              lsm[at(k)] = d[at(k)] - m - Math.log(z);
            }
          }
        }
        expectClose(ops.softmax(x, dim), sm, shape, 1e-5, 1e-7);
        expectClose(ops.logSoftmax(x, dim), lsm, shape, 1e-5, 1e-5);
      }
    });
  }
  it('is stable for large logits', () => {
    const y = ops.softmax(tensor([[1000, 1001, 999]]), 1);
    expectClose(y, [0.24472847, 0.66524096, 0.09003057], [1, 3], 1e-5);
    const l = ops.logSoftmax(tensor([[-1000, 0]]), -1);
    expectClose(l, [-1000, 0], [1, 2], 1e-6);
  });
});

describe('matmul', () => {
  function mmRef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
    const r: number[] = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        r.push(s);
      }
    }
    return r;
  }
  for (const [m, k, n] of [[1, 1, 1], [7, 3, 5], [63, 129, 7], [128, 256, 129]]) {
    it(`${m}x${k} @ ${k}x${n}`, () => {
      const a = rand([m, k]);
      const b = rand([k, n]);
      expectClose(ops.matmul(a, b), mmRef(a.data, b.data, m, k, n), [m, n], 1e-4, 1e-4);
    });
  }
  it('1-D promotions, N-D @ 2-D and batched broadcasting', () => {
    const v = rand([4]);
    const w = rand([4, 3]);
    const a = rand([2, 5, 4]);
    expectClose(ops.matmul(v, w), mmRef(v.data, w.data, 1, 4, 3), [3], 1e-5, 1e-5);
    expectClose(ops.matmul(w.t(), v), mmRef(w.t().data, v.data, 3, 4, 1), [3], 1e-5, 1e-5);
    expectClose(ops.matmul(v, v), mmRef(v.data, v.data, 1, 4, 1), [], 1e-5, 1e-5);
    expectClose(ops.matmul(a, w), mmRef(a.data, w.data, 10, 4, 3), [2, 5, 3], 1e-5, 1e-5);
    const b = rand([2, 4, 3]);
    const want = [...mmRef(a.data.subarray(0, 20), b.data.subarray(0, 12), 5, 4, 3), ...mmRef(a.data.subarray(20), b.data.subarray(12), 5, 4, 3)];
    expectClose(ops.matmul(a, b), want, [2, 5, 3], 1e-5, 1e-5);
    // [5, 4] @ [2, 4, 3]: the matrix is shared by both batch items.
    const a2 = rand([5, 4]);
    const want2 = [...mmRef(a2.data, b.data.subarray(0, 12), 5, 4, 3), ...mmRef(a2.data, b.data.subarray(12), 5, 4, 3)];
    expectClose(ops.matmul(a2, b), want2, [2, 5, 3], 1e-5, 1e-5);
  });
});

describe('shape ops', () => {
  it('reshape / view share storage; -1 is inferred', () => {
    const x = rand([2, 3, 4]);
    const y = ops.reshape(x, [6, -1]);
    expect([...y.shape]).toEqual([6, 4]);
    expect(y.storage).toBe(x.storage);
    expect([...ops.view(x, [-1]).shape]).toEqual([24]);
    expect([...x.reshape(4, 6).shape]).toEqual([4, 6]);
    expect([...x.reshape([4, 6]).shape]).toEqual([4, 6]);
  });
  it('flatten squeeze unsqueeze', () => {
    const x = rand([2, 1, 3, 1]);
    expect([...ops.flatten(x).shape]).toEqual([6]);
    expect([...ops.flatten(x, 1).shape]).toEqual([2, 3]);
    expect([...ops.flatten(x, 1, 2).shape]).toEqual([2, 3, 1]);
    expect([...ops.squeeze(x).shape]).toEqual([2, 3]);
    expect([...ops.squeeze(x, 1).shape]).toEqual([2, 3, 1]);
    expect([...ops.squeeze(x, 0).shape]).toEqual([2, 1, 3, 1]);
    expect([...ops.unsqueeze(x, 0).shape]).toEqual([1, 2, 1, 3, 1]);
    expect([...ops.unsqueeze(x, -1).shape]).toEqual([2, 1, 3, 1, 1]);
  });
  it('transpose / permute / t against index arithmetic', () => {
    for (const [r, c] of [[1, 1], [7, 3], [63, 129], [300, 257]]) {
      const x = rand([r, c]);
      const y = x.t();
      const xd = x.data;
      const want = new Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) want[j * r + i] = xd[i * c + j];
      expectClose(y, want, [c, r], 0, 0);
    }
    const x = rand([2, 3, 4]);
    const p = ops.permute(x, [2, 0, 1]);
    expect([...p.shape]).toEqual([4, 2, 3]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
      expect(p.data[(k * 2 + i) * 3 + j]).toBe(x.data[(i * 3 + j) * 4 + k]);
    }
    expect(ops.transpose(x, 0, 2).tolist()).toEqual(x.permute(2, 1, 0).tolist());
  });
  it('cat and stack', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5], [6]]);
    expect(ops.cat([a, b], 1).tolist()).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(ops.cat([a, a], 0).tolist()).toEqual([[1, 2], [3, 4], [1, 2], [3, 4]]);
    expect(ops.stack([a, a], 0).tolist()).toEqual([[[1, 2], [3, 4]], [[1, 2], [3, 4]]]);
    expect(ops.stack([a, a], 2).tolist()).toEqual([[[1, 1], [2, 2]], [[3, 3], [4, 4]]]);
    expect(() => ops.cat([a, b], 0)).toThrow(/cat: shapes \[2, 2\] and \[2, 1\] differ outside dimension 0/);
  });
});

describe('Tensor methods', () => {
  it('chain as in PyTorch', () => {
    const x = tensor([[1, -2], [3, 4]]);
    const w = tensor([[1, 0], [0, 1]]);
    expect(x.matmul(w).add(1).relu().sum().item()).toBe(2 + 0 + 4 + 5);
    expect(x.mul(2).sub(1).div(2).neg().tolist()).toEqual([[-0.5, 2.5], [-2.5, -3.5]]);
    expect(x.abs().max().item()).toBe(4);
    expect(x.argmax(1).tolist()).toEqual([0, 1]);
    expect(x.mean(0).tolist()).toEqual([2, 1]);
    expect(x.clone().tolist()).toEqual(x.tolist());
    expect(x.detach().storage).toBe(x.storage);
    expect(x.softmax(1).sum(1).tolist().map((v: number) => Math.round(v * 1e6) / 1e6)).toEqual([1, 1]);
  });
});
