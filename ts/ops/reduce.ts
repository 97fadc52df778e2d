/**
 * Reductions: sum, mean (over everything, one dimension or several; keepdim), max, min and
 * argmax (over everything or one dimension). Differentiable except argmax.
 */
import { record } from '../autograd/engine.js';
import { contiguousStrides, stridedCopy, unary, UnaryOp } from '../kernels/elementwise.js';
import { maxAxis, maxAxisBackward, reduceTo, sumAxis } from '../kernels/reduce.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { axisSplit, checkFloat, normDim, out } from './util.js';

export type Dims = number | readonly number[];

/** Sorted, unique, non-negative reduced dimensions (all when `dim` is undefined). */
function reducedDims(op: string, x: Tensor, dim: Dims | undefined): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const list = typeof dim === 'number' ? [dim] : [...dim];
  const ds = [...new Set(list.map((d) => normDim(op, d, x.ndim)))].sort((a, b) => a - b);
  if (x.ndim === 0) return [];
  return ds;
}

function sumImpl(op: string, x: Tensor, dim: Dims | undefined, keepdim: boolean, mean: boolean): Tensor {
  checkFloat(op, x);
  const dims = reducedDims(op, x, dim);
  const isReduced = x.shape.map((_, i) => dims.includes(i));
  const keepShape = x.shape.map((d, i) => (isReduced[i] ? 1 : d));
  const outShape = keepdim ? keepShape : x.shape.filter((_, i) => !isReduced[i]);
  let count = 1;
  dims.forEach((d) => (count *= x.shape[d]));
  const scale = mean ? 1 / count : 1;
  if (mean && count === 0) throw new Error(`${op}: cannot take the mean over an empty dimension of ${shapeStr(x.shape)}`);
  const y = out(outShape);
  // Strides of the output (as keepShape) over x's shape: 0 along reduced dimensions.
  const ks = contiguousStrides(keepShape);
  const st = ks.map((s, i) => (isReduced[i] ? 0 : s));
  if (dims.length === 0) {
    unary(UnaryOp.affine, x.ptr, y.ptr, x.size, scale, 0);
  } else if (dims.length === 1 || dims.length === x.ndim) {
    // One axis (or everything, as one axis of a flat view): the axis kernel, scaled.
    const [outer, n, inner] = dims.length === x.ndim ? [1, x.size, 1] : axisSplit(x.shape, dims[0]);
    sumAxis(x.ptr, outer, n, inner, scale, y.ptr);
  } else {
    reduceTo(x.shape, x.ptr, st, y.ptr, y.size);
    if (scale !== 1) {
      const t = out(outShape);
      unary(UnaryOp.affine, y.ptr, t.ptr, y.size, scale, 0);
      return record(t, op, [x], backward);
    }
  }
  return record(y, op, [x], backward);

  function backward(g: Tensor): Tensor[] {
    const dx = out(x.shape);
    stridedCopy(x.shape, g.ptr, st, dx.ptr, scale);
    return [dx];
  }
}

/** Sum over everything (a 0-D tensor), or over `dim` (a number or a list). */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return sumImpl('sum', x, dim, keepdim, false);
}

/** Mean over everything, or over `dim` (a number or a list). */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return sumImpl('mean', x, dim, keepdim, true);
}

/**
 * Max (sign 1) or min (sign -1) of `x`, over everything or along `dim`. The min is the max of
 * -x, negated back, so both share one kernel and one tie rule for the indices (the first).
 *
 * Gradients follow PyTorch: along a dimension the gradient goes to the returned index; over
 * everything it is split evenly among all the elements equal to the result
 * (evenly_distribute_backward; NaN counts as equal to a NaN result).
 */
function extremeImpl(op: string, x: Tensor, dim: number | undefined, keepdim: boolean, sign: 1 | -1): { values: Tensor; indices: Tensor } {
  checkFloat(op, x);
  if (x.size === 0) throw new Error(`${op}: cannot reduce an empty tensor ${shapeStr(x.shape)}`);
  let outer: number, n: number, inner: number, outShape: number[];
  if (dim === undefined) {
    [outer, n, inner] = [1, x.size, 1];
    outShape = keepdim ? x.shape.map(() => 1) : [];
  } else {
    const d = normDim(op, dim, x.ndim);
    [outer, n, inner] = x.ndim === 0 ? [1, 1, 1] : axisSplit(x.shape, d);
    outShape = x.ndim === 0 ? [] : keepdim ? x.shape.map((s, i) => (i === d ? 1 : s)) : x.shape.filter((_, i) => i !== d);
  }
  const values = out(outShape);
  const indices = Tensor.empty(outShape, 'int32', true);
  if (sign === 1) {
    maxAxis(x.ptr, outer, n, inner, values.ptr, indices.ptr);
  } else {
    const neg = out(x.shape);
    unary(UnaryOp.affine, x.ptr, neg.ptr, x.size, -1, 0);
    const negMax = out(outShape);
    maxAxis(neg.ptr, outer, n, inner, negMax.ptr, indices.ptr);
    unary(UnaryOp.affine, negMax.ptr, values.ptr, values.size, -1, 0);
  }
  record(values, op, [x], (g) => {
    const dx = out(x.shape);
    if (dim === undefined) evenlyDistribute(x, values.f32[0], g.f32[0], dx);
    else maxAxisBackward(g.ptr, indices.ptr, outer, n, inner, dx.ptr);
    return [dx];
  });
  return { values, indices };
}

/** `dx = g / k` at the k elements of `x` equal to `value` (NaN matches NaN), 0 elsewhere. */
function evenlyDistribute(x: Tensor, value: number, g: number, dx: Tensor): void {
  const xs = x.f32;
  const d = dx.f32;
  const isNaN = Number.isNaN(value);
  let ties = 0;
  for (let i = 0; i < xs.length; i++) if (isNaN ? Number.isNaN(xs[i]) : xs[i] === value) ties++;
  const share = g / ties;
  for (let i = 0; i < xs.length; i++) d[i] = (isNaN ? Number.isNaN(xs[i]) : xs[i] === value) ? share : 0;
}

/**
 * The maximum over everything (a 0-D tensor), or along `dim`. Over everything, the gradient
 * is shared evenly by all elements that attain it; along `dim`, it goes to the returned index.
 */
export function max(x: Tensor, dim?: number, keepdim = false): Tensor {
  return extremeImpl('max', x, dim, keepdim, 1).values;
}

/** Maximum values along `dim` and their indices (int32), as torch.max(x, dim). */
export function maxDim(x: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  return extremeImpl('max', x, dim, keepdim, 1);
}

/** The minimum over everything, or along `dim`; gradients as for max. */
export function min(x: Tensor, dim?: number, keepdim = false): Tensor {
  return extremeImpl('min', x, dim, keepdim, -1).values;
}

/** Minimum values along `dim` and their indices (int32, the first on ties), as torch.min(x, dim). */
export function minDim(x: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  return extremeImpl('min', x, dim, keepdim, -1);
}

/**
 * Index of the maximum (int32): over the flattened tensor (a 0-D tensor), or along `dim`.
 * Ties give the first index.
 */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  checkFloat('argmax', x);
  if (x.size === 0) throw new Error(`argmax: cannot reduce an empty tensor ${shapeStr(x.shape)}`);
  let outer: number, n: number, inner: number, outShape: number[];
  if (dim === undefined) {
    [outer, n, inner] = [1, x.size, 1];
    outShape = keepdim ? x.shape.map(() => 1) : [];
  } else {
    const d = normDim('argmax', dim, x.ndim);
    [outer, n, inner] = x.ndim === 0 ? [1, 1, 1] : axisSplit(x.shape, d);
    outShape = x.ndim === 0 ? [] : keepdim ? x.shape.map((s, i) => (i === d ? 1 : s)) : x.shape.filter((_, i) => i !== d);
  }
  const values = out(outShape);
  const indices = Tensor.empty(outShape, 'int32', true);
  maxAxis(x.ptr, outer, n, inner, values.ptr, indices.ptr);
  return indices;
}
