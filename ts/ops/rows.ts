/**
 * The layout the statistics and ordering ops compute on: a tensor with the dimensions an
 * op works along moved last and flattened, [rows, n], so that each op is one loop per row
 * with one backward. The moves are ordinary differentiable ops (permute, reshape), so an
 * op only writes the gradient of its [rows, n] input.
 */
import { Shape, shapeStr, Tensor } from '../tensor/tensor.js';
import { permute, reshape } from './shape.js';
import { checkFloat, normDim } from './util.js';

import type { Dims } from './reduce.js';

export interface Rows {
  /** [rows, n], contiguous (a view of x, or of a permuted copy). */
  x: Tensor;
  rows: number;
  n: number;
  /** The shape of a reduction's result: x's shape without the dims (keepdim: with 1s there). */
  outShape(keepdim: boolean): number[];
}

/** Sorted, unique dims (all when undefined; [] for a 0-D tensor). */
export function dimList(op: string, x: Tensor, dim: Dims | undefined | null): number[] {
  // Nothing given, or [] (PyTorch 1.13 reads dim=[] as all dims): every dimension.
  if (dim === undefined || dim === null || (Array.isArray(dim) && dim.length === 0)) return x.shape.map((_, i) => i);
  const list = typeof dim === 'number' ? [dim] : Array.isArray(dim) ? [...dim] : null;
  if (list === null) throw new Error(`${op}: dim must be a number or a list of numbers, got ${String(dim)}`);
  const ds = list.map((d) => normDim(op, d, x.ndim));
  if (new Set(ds).size !== ds.length) throw new Error(`${op}: dim [${list.join(', ')}] repeats a dimension`);
  return x.ndim === 0 ? [] : ds.sort((a, b) => a - b);
}

/** `x` as [rows, n] with `dims` last (in order). */
export function toRows(op: string, x: Tensor, dims: readonly number[]): Rows {
  checkFloat(op, x);
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const perm = [...kept, ...dims];
  const moved = perm.every((p, i) => p === i) ? x : permute(x, perm);
  let n = 1;
  for (const d of dims) n *= x.shape[d];
  const rows = n === 0 ? kept.reduce((a, d) => a * x.shape[d], 1) : x.size / n;
  return {
    x: reshape(moved, [rows, n]),
    rows,
    n,
    outShape: (keepdim) => (keepdim ? x.shape.map((s, i) => (dims.includes(i) ? 1 : s)) : kept.map((i) => x.shape[i])),
  };
}

/** A [rows, k] result of an op along one dim, put back in x's layout (k replacing the dim). */
export function fromRows(y: Tensor, xShape: Shape, dim: number): Tensor {
  const kept = xShape.map((_, i) => i).filter((i) => i !== dim);
  const k = y.shape[1];
  const movedShape = [...kept.map((i) => xShape[i]), k];
  const moved = reshape(y, movedShape);
  if (dim === xShape.length - 1 || xShape.length === 0) return xShape.length === 0 ? reshape(moved, []) : moved;
  // moved has dims in the order kept..., dim: the inverse permutation puts dim back.
  const perm = new Array<number>(xShape.length);
  [...kept, dim].forEach((src, pos) => (perm[src] = pos));
  return permute(moved, perm);
}

export function emptyError(op: string, x: Tensor, dims: readonly number[]): Error {
  return new Error(`${op}: cannot reduce over an empty dimension (dims [${dims.join(', ')}] of ${shapeStr(x.shape)})`);
}
