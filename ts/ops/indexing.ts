/**
 * Slicing and indexing, PyTorch-named: `narrow`, `select`, `slice` (a small spec for
 * Python's `x[:, 0:2]`), `indexSelect`, `gather`, and `T`.
 *
 * All of them are one op underneath, `take`: the output's element i is x's element
 * `offsets[i]`; the backward adds g[i] into dx[offsets[i]] (a scatter-add, which is what
 * gather's and indexSelect's gradients need when an index repeats). Results are copies:
 * tread tensors are contiguous, so unlike PyTorch's views, writing into a slice does not
 * write into x.
 */
import { record } from '../autograd/engine.js';
import { contiguousStrides } from '../kernels/elementwise.js';
import { Shape, shapeSize, shapeStr, Tensor } from '../tensor/tensor.js';
import { show } from '../util/options.js';
import { permute } from './shape.js';
import { normDim, out } from './util.js';

/** `y[i] = x[offsets[i]]`, recorded with a scatter-add backward. */
function take(name: string, x: Tensor, shape: Shape, offsets: Int32Array): Tensor {
  const y = Tensor.empty(shape, x.dtype, true);
  const xd = x.data;
  const yd = y.data;
  for (let i = 0; i < offsets.length; i++) yd[i] = xd[offsets[i]];
  if (x.dtype !== 'float32') return y;
  return record(y, name, [x], (g) => {
    const dx = out(x.shape);
    const dd = dx.f32;
    dd.fill(0);
    const gd = g.f32;
    for (let i = 0; i < offsets.length; i++) dd[offsets[i]] += gd[i];
    return [dx];
  });
}

function checkTensor(op: string, x: unknown, what = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
}

/**
 * Offsets of the sub-grid of x that keeps, along each dim d, the indices `picks[d]`
 * (in order). The output shape is `picks.map(p => p.length)`.
 */
function gridOffsets(xShape: Shape, picks: readonly (readonly number[])[]): Int32Array {
  const strides = contiguousStrides(xShape);
  let offs = Int32Array.of(0);
  picks.forEach((p, d) => {
    const next = new Int32Array(offs.length * p.length);
    let k = 0;
    for (const base of offs) for (const i of p) next[k++] = base + i * strides[d];
    offs = next;
  });
  return offs;
}

function allOf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The part of dimension `dim` from `start` (may be negative) of length `length`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const op = 'narrow';
  checkTensor(op, x);
  if (x.ndim === 0) throw new Error(`${op}: cannot be applied to a 0-D tensor`);
  const d = normDim(op, dim, x.ndim);
  const n = x.shape[d];
  if (!Number.isInteger(start) || start < -n || start > n) throw new Error(`${op}: start ${start} is out of range for dimension ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(length) || length < 0 || s + length > n) {
    throw new Error(`${op}: start (${s}) + length (${length}) exceeds dimension ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
  }
  const picks = x.shape.map((m, i) => (i === d ? allOf(length).map((j) => s + j) : allOf(m)));
  return take(op, x, picks.map((p) => p.length), gridOffsets(x.shape, picks));
}

/** The slice at `index` of dimension `dim`, which is removed (PyTorch's `x.select(dim, i)`, `x[:, i]`). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const op = 'select';
  checkTensor(op, x);
  if (x.ndim === 0) throw new Error(`${op}: cannot be applied to a 0-D tensor`);
  const d = normDim(op, dim, x.ndim);
  const n = x.shape[d];
  if (!Number.isInteger(index) || index < -n || index >= n) throw new Error(`${op}: index ${index} is out of range for dimension ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
  const i0 = index < 0 ? index + n : index;
  const picks = x.shape.map((m, i) => (i === d ? [i0] : allOf(m)));
  return take(op, x, x.shape.filter((_, i) => i !== d), gridOffsets(x.shape, picks));
}

/**
 * One entry of a slice spec per leading dimension (missing trailing entries take all):
 * `null` takes all (Python's `:`), a number selects one index and drops the dimension
 * (`x[i]`), `[start, end]` or `[start, end, step]` is Python's `start:end:step` (negative
 * start/end count from the end, out-of-range bounds are clamped, null means the default;
 * step must be positive, as in PyTorch).
 */
export type SliceEntry = null | number | readonly [number | null, (number | null)?, (number | null)?];

/** Python/PyTorch basic indexing: `slice(x, [null, [0, 2]])` is `x[:, 0:2]`. */
export function slice(x: Tensor, spec: readonly SliceEntry[]): Tensor {
  const op = 'slice';
  checkTensor(op, x);
  if (!Array.isArray(spec)) throw new Error(`${op}: spec must be an array with one entry per dimension (null, an index, or [start, end, step]), got ${show(spec)}`);
  if (spec.length > x.ndim) throw new Error(`${op}: ${spec.length} entries in the spec for a tensor of shape ${shapeStr(x.shape)}`);
  const picks: number[][] = [];
  const shape: number[] = [];
  x.shape.forEach((n, d) => {
    const e = spec[d];
    if (e === null || e === undefined) {
      picks.push(allOf(n));
      shape.push(n);
    } else if (typeof e === 'number') {
      if (!Number.isInteger(e) || e < -n || e >= n) throw new Error(`${op}: index ${e} is out of range for dimension ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
      picks.push([e < 0 ? e + n : e]);
    } else if (Array.isArray(e) && e.length >= 1 && e.length <= 3) {
      const [start, end, step] = e as [number | null, number | null | undefined, number | null | undefined];
      const st = step ?? 1;
      if (!Number.isInteger(st) || st <= 0) throw new Error(`${op}: step must be a positive integer, got ${show(step)} for dimension ${d}`);
      for (const [v, what] of [[start, 'start'], [end, 'end']] as const) {
        if (v !== null && v !== undefined && !Number.isInteger(v)) throw new Error(`${op}: ${what} must be an integer or null, got ${show(v)} for dimension ${d}`);
      }
      const clampBound = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
      const s = start == null ? 0 : clampBound(start);
      const t = end == null ? n : clampBound(end);
      const p: number[] = [];
      for (let i = s; i < t; i += st) p.push(i);
      picks.push(p);
      shape.push(p.length);
    } else {
      throw new Error(`${op}: spec entry ${d} must be null, an integer or [start, end, step], got ${show(e)}`);
    }
  });
  return take(op, x, shape, gridOffsets(x.shape, picks));
}

/** Checks an index tensor (int32, or float32 holding integers) and returns its values. */
function indexValues(op: string, index: unknown): Int32Array | Float32Array {
  checkTensor(op, index, 'index');
  const v = index.data;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i])) throw new Error(`${op}: index must hold integers, got ${v[i]} at position ${i}`);
  }
  return v;
}

/** Rows (or slices along `dim`) of x at `index`, a 1-D int32 tensor; indices may repeat. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const op = 'indexSelect';
  checkTensor(op, x);
  const iv = indexValues(op, index);
  if (index.ndim > 1) throw new Error(`${op}: index must be 1-D (or 0-D), got shape ${shapeStr(index.shape)}`);
  const nd = Math.max(x.ndim, 1);
  const d = normDim(op, dim, nd);
  const xShape = x.ndim === 0 ? [1] : x.shape;
  const n = xShape[d];
  const p = Array.from(iv, (i, k) => {
    if (i < -n || i >= n) throw new Error(`${op}: index ${i} (position ${k}) is out of range for dimension ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
    return i < 0 ? i + n : i;
  });
  const picks = xShape.map((m, i) => (i === d ? p : allOf(m)));
  const shape = x.ndim === 0 ? [] : picks.map((q) => q.length);
  return take(op, x, shape, gridOffsets(xShape, picks));
}

/**
 * Values of x along `dim` at `index` (same number of dimensions as x; every other dimension
 * of index at most x's): for dim 1, `out[i][j][k] = x[i][index[i][j][k]][k]`. The gradient
 * is scattered back with additions where an index repeats.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const op = 'gather';
  checkTensor(op, x);
  const iv = indexValues(op, index);
  const nd = Math.max(x.ndim, 1);
  const d = normDim(op, dim, nd);
  const xShape = x.ndim === 0 ? [1] : [...x.shape];
  const iShape = index.ndim === 0 ? [1] : [...index.shape];
  if (Math.max(index.ndim, 1) !== nd) throw new Error(`${op}: index ${shapeStr(index.shape)} must have as many dimensions as input ${shapeStr(x.shape)}`);
  iShape.forEach((m, i) => {
    if (i !== d && m > xShape[i]) throw new Error(`${op}: index ${shapeStr(index.shape)} is larger than input ${shapeStr(x.shape)} in dimension ${i} (only dimension ${d} may differ)`);
  });
  const xs = contiguousStrides(xShape);
  const is = contiguousStrides(iShape);
  const offsets = new Int32Array(iv.length);
  const n = xShape[d];
  for (let k = 0; k < iv.length; k++) {
    const j = iv[k];
    if (j < -n || j >= n) throw new Error(`${op}: index ${j} (element ${k} of index) is out of range for dimension ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
    let rest = k;
    let off = 0;
    for (let a = 0; a < iShape.length; a++) {
      const c = Math.floor(rest / is[a]);
      rest -= c * is[a];
      off += (a === d ? (j < 0 ? j + n : j) : c) * xs[a];
    }
    offsets[k] = off;
  }
  return take(op, x, index.shape, offsets);
}

/**
 * PyTorch's `x.T`: the transpose of a matrix; other ranks have their dimensions reversed, as
 * PyTorch 1.13 does (it warns that this is deprecated for ranks other than 2; tread does not).
 */
export function T(x: Tensor): Tensor {
  checkTensor('T', x);
  if (x.ndim >= 2) return permute(x, x.shape.map((_, i) => x.ndim - 1 - i));
  return take('T', x, x.shape, Int32Array.from(allOf(x.size)));
}
