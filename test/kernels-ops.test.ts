/**
 * The element-wise, activation, reduction and softmax kernels against their references,
 * through WASM, on odd and round sizes, with 1 and 2 threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads } from '../ts/runtime/wasm.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { act, actBackward, ActOp } from '../ts/kernels/activation.js';
import { axpy, BinaryOp, binaryBcast, contiguousStrides, unary, unaryBackward, UnaryOp } from '../ts/kernels/elementwise.js';
import { maxAxis, reduceTo, sumAll, sumAxis } from '../ts/kernels/reduce.js';
import { softmaxBackwardKernel, softmaxKernel } from '../ts/kernels/softmax.js';
import { mulberry } from './helpers/gradcheck.js';
import { POOL_THREADS, THREAD_COUNTS } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});
afterAll(() => setThreads(POOL_THREADS));

const rnd = mulberry(7);
function rand(n: number, lo = -3, hi = 3): Tensor {
  const t = Tensor.empty([n], 'float32');
  const d = t.f32;
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * rnd();
  return t;
}
function buf(n: number, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  return Tensor.empty([n], dtype);
}

function close(got: Tensor, want: Tensor, rtol: number, atol: number, what: string): void {
  const g = got.data;
  const w = want.data;
  for (let i = 0; i < g.length; i++) {
    if (Number.isNaN(w[i]) && Number.isNaN(g[i])) continue;
    if (!(Math.abs(g[i] - w[i]) <= atol + rtol * Math.abs(w[i]))) throw new Error(`${what}: [${i}] = ${g[i]}, want ${w[i]}`);
  }
}

const SIZES = [1, 7, 63, 64, 129, 1000, 70001];

for (const threads of THREAD_COUNTS) {
  describe(`kernels vs references, ${threads} thread(s)`, () => {
    beforeAll(() => setThreads(threads));

    it('unary and unary backward', () => {
      for (const n of SIZES) {
        const x = rand(n);
        const p = rand(n, 0.1, 3);
        const g = rand(n);
        const cases: [number, Tensor, number, number, number][] = [
          [UnaryOp.exp, x, 0, 0, 3e-7],
          [UnaryOp.log, p, 0, 0, 2e-7],
          [UnaryOp.sqrt, p, 0, 0, 2e-7],
          [UnaryOp.abs, x, 0, 0, 0],
          [UnaryOp.pow, p, 1.7, 0, 1e-6],
          [UnaryOp.affine, x, -2, 0.5, 0],
          [UnaryOp.rdiv, p, 3, 0, 2e-7],
          [UnaryOp.clamp, x, -1, 0.5, 0],
        ];
        for (const [op, inp, p1, p2, tol] of cases) {
          const [a, b, da, db] = [buf(n), buf(n), buf(n), buf(n)];
          unary(op, inp.ptr, a.ptr, n, p1, p2);
          unary(op, inp.ptr, b.ptr, n, p1, p2, true);
          close(a, b, tol, 1e-30, `unary ${op} n=${n}`);
          unaryBackward(op, inp.ptr, b.ptr, g.ptr, da.ptr, n, p1, p2);
          unaryBackward(op, inp.ptr, b.ptr, g.ptr, db.ptr, n, p1, p2, true);
          close(da, db, 1e-5, 1e-30, `unary backward ${op} n=${n}`);
        }
      }
    });

    it('activations forward and backward', () => {
      const list: [number, number, number][] = [
        [ActOp.relu, 0, 0], [ActOp.leakyRelu, 0.01, 0], [ActOp.elu, 1, 0], [ActOp.gelu, 0, 0],
        [ActOp.silu, 0, 0], [ActOp.sigmoid, 0, 0], [ActOp.tanh, 0, 0], [ActOp.softplus, 1, 20],
      ];
      for (const n of SIZES) {
        const x = rand(n, -8, 8);
        const g = rand(n);
        for (const [op, p1, p2] of list) {
          const [a, b, da, db] = [buf(n), buf(n), buf(n), buf(n)];
          act(op, x.ptr, a.ptr, n, p1, p2);
          act(op, x.ptr, b.ptr, n, p1, p2, true);
          close(a, b, 2e-6, 1e-7, `act ${op} n=${n}`);
          actBackward(op, x.ptr, a.ptr, g.ptr, da.ptr, n, p1, p2);
          actBackward(op, x.ptr, b.ptr, g.ptr, db.ptr, n, p1, p2, true);
          close(da, db, 1e-5, 1e-6, `act backward ${op} n=${n}`);
        }
      }
    });

    it('GELU, tanh and sigmoid keep their relative accuracy in the tails and at the switches', () => {
      // The vectorized erfc picks one of four rational forms per lane (switches at |x|/√2 =
      // 0.84375, 1.25, 2.857, 28) and tanh one of two (0.625): an absolute tolerance would hide
      // a wrong tail, so this is relative, on x from -12 to 12 and around each switch.
      const xs: number[] = [];
      for (let v = -12; v <= 12; v += 0.01) xs.push(v);
      for (const edge of [0.84375, 1.25, 1 / 0.35, 0.625]) for (const k of [-1, 1]) for (const d of [-1e-6, 0, 1e-6]) xs.push(k * edge * (edge === 0.625 ? 1 : Math.SQRT2) + d);
      xs.push(0, -0, 1e-30, -1e-30, Infinity, -Infinity, NaN);
      const n = xs.length;
      const x = buf(n);
      x.f32.set(xs);
      for (const op of [ActOp.gelu, ActOp.tanh, ActOp.sigmoid]) {
        const [a, b] = [buf(n), buf(n)];
        act(op, x.ptr, a.ptr, n, 0, 0);
        act(op, x.ptr, b.ptr, n, 0, 0, true);
        // GELU's tails are ill-conditioned in f32 itself: x/√2 rounded to f32 moves erfc by
        // ~x²·2⁻²⁴ relative (PyTorch's f32 GELU too), so the tolerance grows with x².
        for (let i = 0; i < n; i++) {
          const [got, want, v] = [a.f32[i]!, b.f32[i]!, xs[i]!];
          if (got === want || (Number.isNaN(want) && Number.isNaN(got))) continue;
          const rtol = 3e-6 + (op === ActOp.gelu ? 1.2e-7 * v * v : 0);
          if (!(Math.abs(got - want) <= rtol * Math.abs(want) + 1e-37)) throw new Error(`act ${op} at x = ${v}: ${got}, want ${want}`);
        }
        const g = buf(n);
        g.f32.fill(1);
        const [da, db] = [buf(n), buf(n)];
        actBackward(op, x.ptr, a.ptr, g.ptr, da.ptr, n, 0, 0);
        actBackward(op, x.ptr, b.ptr, g.ptr, db.ptr, n, 0, 0, true);
        // The backward of tanh and sigmoid is computed from the f32 output, as PyTorch's
        // (1 - y² is 0 once y rounds to ±1): hence the absolute term.
        close(da, db, 1e-5, 1e-6, `act backward ${op} tails`);
      }
    });

    it('NaN stays NaN through every activation and unary op, in every lane position', () => {
      // The relaxed builds once lost it in exp, sigmoid, tanh and clamp (x86's min/max return
      // the bound for a NaN); a NaN in each of the four lanes and in the scalar tail.
      const n = 11;
      const acts: [number, number, number][] = [
        [ActOp.relu, 0, 0], [ActOp.leakyRelu, 0.01, 0], [ActOp.elu, 1, 0], [ActOp.gelu, 0, 0],
        [ActOp.silu, 0, 0], [ActOp.sigmoid, 0, 0], [ActOp.tanh, 0, 0], [ActOp.softplus, 1, 20],
      ];
      const unaries: [number, number, number][] = [
        [UnaryOp.exp, 0, 0], [UnaryOp.log, 0, 0], [UnaryOp.sqrt, 0, 0], [UnaryOp.abs, 0, 0], [UnaryOp.pow, 2, 0],
        [UnaryOp.affine, 2, 1], [UnaryOp.rdiv, 1, 0], [UnaryOp.clamp, -1, 1], [UnaryOp.copy, 0, 0],
      ];
      for (const at of [0, 1, 2, 3, 9]) {
        const x = buf(n);
        for (let i = 0; i < n; i++) x.f32[i] = i === at ? NaN : 0.3 * i - 1;
        const y = buf(n);
        for (const [op, p1, p2] of acts) {
          act(op, x.ptr, y.ptr, n, p1, p2);
          expect(Number.isNaN(y.f32[at]!), `act ${op}, NaN at ${at}`).toBe(true);
        }
        for (const [op, p1, p2] of unaries) {
          unary(op, x.ptr, y.ptr, n, p1, p2);
          expect(Number.isNaN(y.f32[at]!), `unary ${op}, NaN at ${at}`).toBe(true);
        }
      }
    });

    it('binary with broadcasting, and axpy', () => {
      const cases: [number[], number[], number[]][] = [
        [[129], [129], [129]], [[63, 129], [63, 129], [129]], [[63, 129], [63, 1], [63, 129]],
        [[7, 1], [7, 1], [1, 63]], [[2, 3, 4, 5], [3, 1, 5], [2, 1, 4, 1]], [[300, 257], [300, 257], [257]],
        [[257, 300], [257, 1], [257, 300]],
      ];
      const strides = (shape: number[], small: number[]) => {
        const off = shape.length - small.length;
        const cs = contiguousStrides(small);
        return shape.map((_, d) => (d < off || small[d - off] === 1 ? 0 : cs[d - off]));
      };
      for (const [shape, sa, sb] of cases) {
        const n = shape.reduce((p, q) => p * q, 1);
        const a = rand(sa.reduce((p, q) => p * q, 1));
        const b = rand(sb.reduce((p, q) => p * q, 1), 0.5, 2);
        for (const op of [BinaryOp.add, BinaryOp.sub, BinaryOp.mul, BinaryOp.div, BinaryOp.mulNeg]) {
          const [x, y] = [buf(n), buf(n)];
          binaryBcast(op, 1, shape, a.ptr, strides(shape, sa), b.ptr, strides(shape, sb), x.ptr);
          binaryBcast(op, 1, shape, a.ptr, strides(shape, sa), b.ptr, strides(shape, sb), y.ptr, true);
          close(x, y, 0, 0, `binary ${op} ${JSON.stringify(shape)}`);
        }
      }
      for (const n of SIZES) {
        const x = rand(n);
        const y1 = rand(n);
        const y2 = buf(n);
        y2.f32.set(y1.f32);
        axpy(0.5, x.ptr, y1.ptr, n);
        axpy(0.5, x.ptr, y2.ptr, n, true);
        close(y1, y2, 0, 0, `axpy n=${n}`);
      }
    });

    it('sum / max along an axis, over everything, and reduceTo', () => {
      const axes: [number, number, number][] = [[1, 1, 1], [1, 129, 1], [63, 129, 1], [7, 63, 129], [1, 128, 256], [2, 1000, 40], [1, 70001, 1]];
      for (const [o, n, i] of axes) {
        const x = rand(o * n * i);
        const [a, b] = [buf(o * i), buf(o * i)];
        sumAxis(x.ptr, o, n, i, 0.5, a.ptr);
        sumAxis(x.ptr, o, n, i, 0.5, b.ptr, true);
        close(a, b, 1e-5, 1e-4, `sum ${o}x${n}x${i}`);
        const [ia, ib] = [buf(o * i, 'int32'), buf(o * i, 'int32')];
        maxAxis(x.ptr, o, n, i, a.ptr, ia.ptr);
        maxAxis(x.ptr, o, n, i, b.ptr, ib.ptr, true);
        close(a, b, 0, 0, `max ${o}x${n}x${i}`);
        expect(Array.from(ia.data)).toEqual(Array.from(ib.data));
      }
      for (const n of SIZES) {
        const x = rand(n);
        const s = sumAll(x.ptr, n);
        const r = sumAll(x.ptr, n, true);
        expect(Math.abs(s - r)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(r)));
      }
      const shapes: [number[], number[]][] = [[[128, 256], [0, 1]], [[129, 63], [1, 0]], [[3, 4, 5], [5, 0, 1]], [[2, 3, 4, 5], [0, 5, 0, 1]], [[2, 3, 4, 5], [4, 0, 1, 0]]];
      for (const [shape, st] of shapes) {
        const n = shape.reduce((p, q) => p * q, 1);
        const m = shape.reduce((p, q, d) => p * (st[d] === 0 ? 1 : q), 1);
        const g = rand(n);
        const [a, b] = [buf(m), buf(m)];
        reduceTo(shape, g.ptr, st, a.ptr, m);
        reduceTo(shape, g.ptr, st, b.ptr, m, true);
        close(a, b, 1e-5, 1e-4, `reduceTo ${JSON.stringify(shape)}`);
      }
    });

    it('softmax / logSoftmax forward and backward', () => {
      const axes: [number, number, number][] = [[1, 1, 1], [1, 7, 1], [63, 129, 1], [7, 63, 129], [129, 10, 1], [2, 1000, 40]];
      for (const [o, n, i] of axes) {
        const len = o * n * i;
        const x = rand(len, -10, 10);
        const g = rand(len);
        for (const log of [false, true]) {
          const [a, b, da, db] = [buf(len), buf(len), buf(len), buf(len)];
          softmaxKernel(x.ptr, o, n, i, log, a.ptr);
          softmaxKernel(x.ptr, o, n, i, log, b.ptr, true);
          close(a, b, 1e-5, 2e-6, `softmax log=${log} ${o}x${n}x${i}`);
          softmaxBackwardKernel(a.ptr, g.ptr, o, n, i, log, da.ptr);
          softmaxBackwardKernel(b.ptr, g.ptr, o, n, i, log, db.ptr, true);
          close(da, db, 1e-4, 1e-5, `softmax backward log=${log} ${o}x${n}x${i}`);
        }
      }
    });
  });
}
