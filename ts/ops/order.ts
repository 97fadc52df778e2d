/**
 * sort, topk and cumsum along one dimension, with autograd (as PyTorch): sort/topk return
 * `{ values, indices }` (int32 indices; the gradient of the values goes back to the
 * elements they came from); cumsum's gradient is the reversed cumulative sum.
 *
 * Order: NaN counts as larger than every number (PyTorch's rule), and sorting is stable
 * (equal values keep their order; PyTorch's default CPU sort gives the same on ties, and
 * `stable: true` asks for it). topk picks the k largest (or smallest), sorted by default.
 * cumsum accumulates in float64, as PyTorch does on the CPU.
 */
import { record } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../util/options.js';
import { fromRows, toRows } from './rows.js';
import { normDim, out } from './util.js';

export interface SortOptions {
  /** Dimension to sort along (default -1, the last). */
  dim?: number;
  /** Largest first (default false). */
  descending?: boolean;
  /** Equal values keep their order (always true here; accepted for PyTorch's signature). */
  stable?: boolean;
}

export interface TopkOptions {
  /** Dimension (default -1). */
  dim?: number;
  /** The k largest (default true) or the k smallest. */
  largest?: boolean;
  /** Values in order (default true); false keeps them in their original order along dim. */
  sorted?: boolean;
}

export interface Sorted {
  values: Tensor;
  /** int32 positions along `dim` in the input. */
  indices: Tensor;
}

/** The dimension index; a 0-D tensor takes 0 or -1, as in PyTorch. */
function axis(op: string, dim: number, x: Tensor): number {
  if (x.ndim === 0 && (dim === 0 || dim === -1)) return 0;
  return normDim(op, dim, x.ndim);
}

/** Rows up to this length sort by float64 keys (32 order bits, 21 index bits: exact below 2^53). */
const KEY_INDEX_LIMIT = 2 ** 21;

/**
 * A uint32 in the order of the float32 values (IEEE bits with the sign folded: negatives
 * reversed below positives); -0 as +0 (they compare equal), every NaN above +inf.
 */
function orderBits(v: number, b: number): number {
  if (v !== v) return 0xffffffff;
  if (v === 0) return 0x80000000;
  return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/** a before b ascending, NaN last (the comparator of rows too long for the keys). */
function ascending(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first k positions of each row in the chosen order, gathered into values and indices. */
function select(op: string, x: Tensor, dim: number, k: number, descending: boolean, keepOrder: boolean): Sorted {
  const d = axis(op, dim, x);
  const r = toRows(op, x, x.ndim === 0 ? [] : [d]);
  const y = out([r.rows, k]);
  const idx = Tensor.empty([r.rows, k], 'int32', true);
  const xs = r.x.f32;
  const bits = new Uint32Array(xs.buffer, xs.byteOffset, xs.length);
  const ys = y.f32;
  const is = idx.data as Int32Array;
  const order = r.n <= KEY_INDEX_LIMIT ? null : new Array<number>(r.n);
  const keys = new Float64Array(order ? 0 : r.n);
  for (let i = 0; i < r.rows; i++) {
    const b = i * r.n;
    let chosen: ArrayLike<number>;
    if (order === null) {
      // One native numeric sort of float64 keys: the value's order bits, then its index
      // (so equal values keep their order: a stable sort, in both directions).
      for (let j = 0; j < r.n; j++) {
        const o = orderBits(xs[b + j], bits[b + j]);
        keys[j] = (descending ? 0xffffffff - o : o) * KEY_INDEX_LIMIT + j;
      }
      keys.sort();
      const c = new Int32Array(k);
      for (let j = 0; j < k; j++) c[j] = keys[j] % KEY_INDEX_LIMIT;
      chosen = c;
    } else {
      for (let j = 0; j < r.n; j++) order[j] = j;
      // Array.prototype.sort is stable: ties keep their order in both directions.
      order.sort(descending ? (p, q) => ascending(xs[b + q], xs[b + p]) : (p, q) => ascending(xs[b + p], xs[b + q]));
      chosen = order.slice(0, k);
    }
    if (keepOrder) chosen = Int32Array.from(chosen).sort();
    for (let j = 0; j < k; j++) {
      ys[i * k + j] = xs[b + chosen[j]];
      is[i * k + j] = chosen[j];
    }
  }
  const rx = r.x;
  record(y, op, [rx], (g) => {
    const dx = out(rx.shape);
    const gs = g.f32;
    const is = idx.data as Int32Array;
    const dd = dx.f32;
    dd.fill(0);
    for (let i = 0; i < r.rows; i++) for (let j = 0; j < k; j++) dd[i * r.n + is[i * k + j]] += gs[i * k + j];
    return [dx];
  });
  return { values: fromRows(y, x.shape, d), indices: fromRows(idx, x.shape, d) };
}

/** Sorts along `dim` (default last), as torch.sort: `{ values, indices }`. */
export function sort(x: Tensor, options: SortOptions = {}): Sorted {
  checkOptions('sort', options, ['dim', 'descending', 'stable']);
  const o = options ?? {};
  const dim = o.dim === undefined ? -1 : checkNumberOption('sort', 'dim', o.dim, { integer: true });
  const descending = o.descending === undefined ? false : checkBooleanOption('sort', 'descending', o.descending);
  if (o.stable !== undefined) checkBooleanOption('sort', 'stable', o.stable);
  const n = x.ndim === 0 ? 1 : x.shape[axis('sort', dim, x)];
  return select('sort', x, dim, n, descending, false);
}

/** The k largest (or smallest) values along `dim` and their indices, as torch.topk. */
export function topk(x: Tensor, k: number, options: TopkOptions = {}): Sorted {
  checkOptions('topk', options, ['dim', 'largest', 'sorted']);
  const o = options ?? {};
  const dim = o.dim === undefined ? -1 : checkNumberOption('topk', 'dim', o.dim, { integer: true });
  const largest = o.largest === undefined ? true : checkBooleanOption('topk', 'largest', o.largest);
  const sorted = o.sorted === undefined ? true : checkBooleanOption('topk', 'sorted', o.sorted);
  const n = x.ndim === 0 ? 1 : x.shape[axis('topk', dim, x)];
  checkNumberOption('topk', 'k', k, { integer: true, min: 0 });
  if (k > n) throw new Error(`topk: k = ${k} is larger than dimension ${dim} of [${x.shape.join(', ')}] (${n})`);
  return select('topk', x, dim, k, largest, !sorted);
}

/** Cumulative sum along `dim`, as torch.cumsum. */
export function cumsum(x: Tensor, dim: number): Tensor {
  if (dim === undefined) throw new Error('cumsum: dim must be given (torch.cumsum(x, dim))');
  const d = axis('cumsum', checkNumberOption('cumsum', 'dim', dim, { integer: true }), x);
  const r = toRows('cumsum', x, x.ndim === 0 ? [] : [d]);
  const y = out([r.rows, r.n]);
  const xs = r.x.f32;
  const ys = y.f32;
  for (let i = 0; i < r.rows; i++) {
    let s = 0;
    for (let j = 0, b = i * r.n; j < r.n; j++) ys[b + j] = s += xs[b + j];
  }
  const rx = r.x;
  record(y, 'cumsum', [rx], (g) => {
    const dx = out(rx.shape);
    const gs = g.f32;
    const dd = dx.f32;
    for (let i = 0; i < r.rows; i++) {
      let s = 0;
      for (let j = r.n - 1, b = i * r.n; j >= 0; j--) dd[b + j] = s += gs[b + j];
    }
    return [dx];
  });
  return fromRows(y, x.shape, d);
}
