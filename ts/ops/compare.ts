/**
 * Comparisons `eq, ne, gt, ge, lt, le` (PyTorch's, with NumPy broadcasting; the other operand
 * may be a number) and `where(cond, a, b)`.
 *
 * tread has no bool dtype: a comparison gives an **int32 tensor of 0 and 1** (PyTorch gives
 * torch.bool with False/True at the same places). It works as a mask: `where(mask, a, b)`;
 * `mask.float()` makes it float32 (to count or average it). Comparisons have no
 * gradient (as in PyTorch). NaN compares
 * unequal to everything, `ne` included (true), as IEEE and PyTorch.
 */
import { record } from '../autograd/engine.js';
import { Shape, shapeStr, Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, out, sumTo } from './util.js';

type Operand = Tensor | number;

/** Visits every element of the broadcast `shape`: f(outIndex, offsetA, offsetB, offsetC). */
export function forEachBroadcast(shape: Shape, strides: number[][], f: (i: number, offs: number[]) => void): void {
  const nd = shape.length;
  const size = shape.reduce((a, d) => a * d, 1);
  const idx = new Array<number>(nd).fill(0);
  const offs = strides.map(() => 0);
  for (let i = 0; i < size; i++) {
    f(i, offs);
    // Odometer increment, keeping each operand's offset in step.
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < strides.length; k++) offs[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (let k = 0; k < strides.length; k++) offs[k] -= strides[k][d] * shape[d];
      idx[d] = 0;
    }
  }
}

function asTensorShape(x: Operand): Shape {
  return typeof x === 'number' ? [] : x.shape;
}

function checkOperand(op: string, x: unknown, what: string): asserts x is Operand {
  if (typeof x === 'number') return;
  if (!(x instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor or a number, got ${x === null ? 'null' : typeof x}`);
}

function compare(op: string, a: Operand, b: Operand, test: (x: number, y: number) => boolean): Tensor {
  checkOperand(op, a, 'input');
  checkOperand(op, b, 'other');
  if (typeof a === 'number') throw new Error(`${op}: the first operand must be a Tensor (the second may be a number)`);
  const shape = broadcastShapes(op, asTensorShape(a), asTensorShape(b));
  const y = Tensor.empty(shape, 'int32', true);
  const ad = a.data;
  const yd = y.data;
  if (typeof b === 'number') {
    for (let i = 0; i < yd.length; i++) yd[i] = test(ad[i], b) ? 1 : 0;
    return y;
  }
  const bd = b.data;
  forEachBroadcast(shape, [broadcastStrides(shape, a.shape), broadcastStrides(shape, b.shape)], (i, o) => {
    yd[i] = test(ad[o[0]], bd[o[1]]) ? 1 : 0;
  });
  return y;
}

/** `a == b` as int32 0/1. */
export function eq(a: Tensor, b: Operand): Tensor {
  return compare('eq', a, b, (x, y) => x === y);
}
/** `a != b` as int32 0/1 (NaN != NaN is 1). */
export function ne(a: Tensor, b: Operand): Tensor {
  return compare('ne', a, b, (x, y) => x !== y);
}
/** `a > b` as int32 0/1. */
export function gt(a: Tensor, b: Operand): Tensor {
  return compare('gt', a, b, (x, y) => x > y);
}
/** `a >= b` as int32 0/1. */
export function ge(a: Tensor, b: Operand): Tensor {
  return compare('ge', a, b, (x, y) => x >= y);
}
/** `a < b` as int32 0/1. */
export function lt(a: Tensor, b: Operand): Tensor {
  return compare('lt', a, b, (x, y) => x < y);
}
/** `a <= b` as int32 0/1. */
export function le(a: Tensor, b: Operand): Tensor {
  return compare('le', a, b, (x, y) => x <= y);
}

/**
 * Elementwise `cond ? a : b` over the broadcast shape of all three. `cond` is a mask (int32
 * 0/1 from a comparison, or any tensor: non-zero is true); `a` and `b` are float32 tensors or
 * numbers. Gradients flow to `a` where cond holds and to `b` elsewhere, summed back to each
 * one's shape.
 */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const op = 'where';
  if (!(cond instanceof Tensor)) throw new Error(`${op}: condition must be a Tensor (e.g. from gt/eq), got ${cond === null ? 'null' : typeof cond}`);
  checkOperand(op, a, 'input');
  checkOperand(op, b, 'other');
  for (const [x, what] of [[a, 'input'], [b, 'other']] as const) {
    if (x instanceof Tensor && x.dtype !== 'float32') throw new Error(`${op}: ${what} must be float32, got ${x.dtype} ${shapeStr(x.shape)}`);
  }
  const ab = broadcastShapes(op, asTensorShape(a), asTensorShape(b));
  const shape = broadcastShapes(op, cond.shape, ab);
  const y = out(shape);
  const cs = broadcastStrides(shape, cond.shape);
  const as = typeof a === 'number' ? shape.map(() => 0) : broadcastStrides(shape, a.shape);
  const bs = typeof b === 'number' ? shape.map(() => 0) : broadcastStrides(shape, b.shape);
  const cd = cond.data;
  const ad = typeof a === 'number' ? Float32Array.of(a) : a.f32;
  const bd = typeof b === 'number' ? Float32Array.of(b) : b.f32;
  const yd = y.f32;
  forEachBroadcast(shape, [cs, as, bs], (i, o) => {
    yd[i] = cd[o[0]] !== 0 ? ad[o[1]] : bd[o[2]];
  });
  const inputs = [a, b].filter((x): x is Tensor => x instanceof Tensor);
  return record(y, op, inputs, (g) => {
    // Allocate both masked gradients before reading any view (allocation may grow memory).
    const ga = out(shape);
    const gb = out(shape);
    const gd = g.f32;
    const cv = cond.data;
    const gav = ga.f32;
    const gbv = gb.f32;
    forEachBroadcast(shape, [cs], (i, o) => {
      const take = cv[o[0]] !== 0;
      gav[i] = take ? gd[i] : 0;
      gbv[i] = take ? 0 : gd[i];
    });
    const grads: (Tensor | null)[] = [];
    if (a instanceof Tensor) grads.push(a.requiresGrad ? sumTo(ga, a.shape, false) : null);
    if (b instanceof Tensor) grads.push(b.requiresGrad ? sumTo(gb, b.shape, false) : null);
    return grads;
  });
}
