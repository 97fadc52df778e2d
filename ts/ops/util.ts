/**
 * Shared pieces of the ops: outputs, dtype checks, broadcasting, gradient reduction.
 *
 * Gradient ownership rule (the engine accumulates fan-out gradients in place into a
 * temporary it was handed): a backward function may hand its incoming gradient `g` itself
 * (or a view of it) to at most ONE input; every other gradient it returns must be a fresh
 * tensor. `g` is never used by the engine after the backward function returns.
 */
import { Shape, shapeSize, shapeStr, Tensor } from '../tensor/tensor.js';
import { BinaryOp, binaryBcast, contiguousStrides, unary, UnaryOp } from '../kernels/elementwise.js';
import { reduceTo } from '../kernels/reduce.js';

/** A new temporary float32 tensor (an op's output or a gradient). */
export function out(shape: Shape): Tensor {
  return Tensor.empty(shape, 'float32', true);
}

export function checkFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${typeof t}`);
    if (t.dtype !== 'float32') throw new Error(`${op}: expected float32 tensors, got ${t.dtype} ${shapeStr(t.shape)}`);
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of two shapes; the error names the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const nd = Math.max(a.length, b.length);
  const outShape = new Array<number>(nd);
  for (let i = 0; i < nd; i++) {
    const da = i < nd - a.length ? 1 : a[i - (nd - a.length)];
    const db = i < nd - b.length ? 1 : b[i - (nd - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast`);
    }
    outShape[i] = da === 1 ? db : da;
  }
  return outShape;
}

/** Element strides of a contiguous tensor of shape `small` broadcast over `shape`. */
export function broadcastStrides(shape: Shape, small: Shape): number[] {
  const off = shape.length - small.length;
  const cs = contiguousStrides(small);
  return shape.map((_, d) => (d < off || small[d - off] === 1 ? 0 : cs[d - off]));
}

/** A fresh copy of `t` (temporary). */
export function copyOf(t: Tensor): Tensor {
  const o = out(t.shape);
  unary(UnaryOp.copy, t.ptr, o.ptr, t.size);
  return o;
}

/**
 * Sums gradient `g` (of the broadcast output shape) back to `shape`. When no reduction is
 * needed it returns `g` itself, or a copy when `fresh` (see the ownership rule above).
 */
export function sumTo(g: Tensor, shape: Shape, fresh: boolean): Tensor {
  if (sameShape(g.shape, shape)) return fresh ? copyOf(g) : g;
  if (shapeSize(shape) === g.size) {
    // Only size-1 dimensions differ: same elements, another shape.
    return fresh ? copyOf(g).reshapeView(shape) : g.reshapeView(shape);
  }
  const o = out(shape);
  reduceTo(g.shape, g.ptr, broadcastStrides(g.shape, shape), o.ptr, o.size);
  return o;
}

/** `op(a, b)` into a new temporary of the broadcast shape `shape`. */
export function bcastInto(op: number, shape: Shape, a: Tensor, b: Tensor, p = 1): Tensor {
  const o = out(shape);
  if (sameShape(a.shape, shape) && sameShape(b.shape, shape) && op !== BinaryOp.scaleA) {
    binaryBcast(op, p, [o.size], a.ptr, [1], b.ptr, [1], o.ptr);
  } else {
    binaryBcast(op, p, shape, a.ptr, broadcastStrides(shape, a.shape), b.ptr, broadcastStrides(shape, b.shape), o.ptr);
  }
  return o;
}

/** Normalises a possibly negative dimension index. */
export function normDim(op: string, dim: number, ndim: number): number {
  if (!Number.isInteger(dim) || dim < -ndim || dim >= Math.max(ndim, 1)) {
    throw new Error(`${op}: dimension ${dim} is out of range for a tensor of ${ndim} dimensions`);
  }
  return dim < 0 ? dim + ndim : dim;
}

/** `[outer, n, inner]` of a shape around axis `dim`. */
export function axisSplit(shape: Shape, dim: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < dim; i++) outer *= shape[i];
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape.length === 0 ? 1 : shape[dim], inner];
}
