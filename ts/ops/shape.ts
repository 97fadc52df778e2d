/**
 * Shape ops: reshape / view (share storage; -1 allowed), flatten, squeeze, unsqueeze
 * (views too), transpose / permute / t (a strided copy in wasm), cat and stack (copies).
 * All differentiable.
 */
import { record } from '../autograd/engine.js';
import { contiguousStrides, stridedCopy } from '../kernels/elementwise.js';
import { resolveShape, Shape, shapeStr, Tensor } from '../tensor/tensor.js';
import { normDim, out } from './util.js';

/** A view of `x` with another shape (same storage). */
function viewAs(x: Tensor, shape: Shape, name: string): Tensor {
  const y = new Tensor(shape, x.dtype, x.storage, x.offset);
  if (x.dtype !== 'float32') return y;
  return record(y, name, [x], (g) => [g.reshapeView(x.shape)]);
}

/** Same elements, another shape (one dimension may be -1). Shares storage. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return viewAs(x, resolveShape(shape, x.size, `reshape of ${shapeStr(x.shape)}`), 'reshape');
}

/** Alias of reshape (tensors are contiguous, so a view is always possible). */
export function view(x: Tensor, shape: Shape): Tensor {
  return viewAs(x, resolveShape(shape, x.size, `view of ${shapeStr(x.shape)}`), 'view');
}

/** Merges dimensions `startDim..endDim` (default: all from startDim) into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return viewAs(x, [1], 'flatten');
  const s = normDim('flatten', startDim, x.ndim);
  const e = normDim('flatten', endDim, x.ndim);
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${shapeStr(x.shape)}`);
  let merged = 1;
  for (let i = s; i <= e; i++) merged *= x.shape[i];
  return viewAs(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)], 'flatten');
}

/** Removes size-1 dimensions (all of them, or just `dim` if it has size 1). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return viewAs(x, x.shape.filter((d) => d !== 1), 'squeeze');
  const d = normDim('squeeze', dim, x.ndim);
  if (x.ndim === 0 || x.shape[d] !== 1) return viewAs(x, x.shape, 'squeeze');
  return viewAs(x, x.shape.filter((_, i) => i !== d), 'squeeze');
}

/** Inserts a size-1 dimension at `dim` (-1 appends). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return viewAs(x, shape, 'unsqueeze');
}

/** Reorders dimensions: output dimension i is input dimension `dims[i]`. Copies. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(`permute: ${dims.length} dimensions given for a tensor of shape ${shapeStr(x.shape)}`);
  }
  const p = dims.map((d) => normDim('permute', d, x.ndim));
  if (new Set(p).size !== p.length) throw new Error(`permute: repeated dimension in [${dims.join(', ')}]`);
  const xs = contiguousStrides(x.shape);
  const shape = p.map((d) => x.shape[d]);
  const y = Tensor.empty(shape, x.dtype, true);
  if (x.dtype !== 'float32') {
    // Integer tensors: the same strided read, in JS (rare, small).
    const src = x.data;
    const dst = y.data;
    const ys = contiguousStrides(shape);
    for (let i = 0; i < y.size; i++) {
      let rest = i;
      let off = 0;
      for (let d = 0; d < shape.length; d++) {
        const k = Math.floor(rest / ys[d]);
        rest -= k * ys[d];
        off += k * xs[p[d]];
      }
      dst[i] = src[off];
    }
    return y;
  }
  stridedCopy(shape, x.ptr, p.map((d) => xs[d]), y.ptr);
  return record(y, 'permute', [x], (g) => {
    const inv = new Array<number>(p.length);
    p.forEach((d, i) => (inv[d] = i));
    const gs = contiguousStrides(g.shape);
    const dx = out(x.shape);
    stridedCopy(x.shape, g.ptr, inv.map((i) => gs[i]), dx.ptr);
    return [dx];
  });
}

/** Swaps two dimensions. Copies. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normDim('transpose', dim0, x.ndim);
  const b = normDim('transpose', dim1, x.ndim);
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** The transpose of a matrix (a 0-D or 1-D tensor is returned as is). */
export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new Error(`t: expects a tensor of at most 2 dimensions, got ${shapeStr(x.shape)}`);
  if (x.ndim < 2) return viewAs(x, x.shape, 't');
  return permute(x, [1, 0]);
}

/** Joins tensors along an existing dimension. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('cat: expects at least one tensor');
  const first = tensors[0];
  const d = normDim('cat', dim, first.ndim);
  let total = 0;
  for (const x of tensors) {
    if (x.dtype !== first.dtype) throw new Error(`cat: dtypes differ (${first.dtype} and ${x.dtype})`);
    const ok = x.ndim === first.ndim && x.shape.every((s, i) => i === d || s === first.shape[i]);
    if (!ok) throw new Error(`cat: shapes ${shapeStr(first.shape)} and ${shapeStr(x.shape)} differ outside dimension ${d}`);
    total += x.shape[d];
  }
  const shape = [...first.shape];
  shape[d] = total;
  const y = Tensor.empty(shape, first.dtype, true);
  let outer = 1;
  for (let i = 0; i < d; i++) outer *= shape[i];
  let inner = 1;
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  const rowOut = total * inner;
  const dst = y.data;
  let off = 0;
  const offsets: number[] = [];
  for (const x of tensors) {
    const src = x.data;
    const block = x.shape[d] * inner;
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * block, (o + 1) * block), o * rowOut + off);
    offsets.push(off);
    off += block;
  }
  if (first.dtype !== 'float32') return y;
  return record(y, 'cat', [...tensors], (g) => {
    // Allocate first: views are re-read after anything that may grow memory.
    const grads = tensors.map((x) => (x.requiresGrad ? out(x.shape) : null));
    const gd = g.f32;
    grads.forEach((gx, i) => {
      if (gx === null) return;
      const dst2 = gx.f32;
      const block = tensors[i].shape[d] * inner;
      for (let o = 0; o < outer; o++) dst2.set(gd.subarray(o * rowOut + offsets[i], o * rowOut + offsets[i] + block), o * block);
    });
    return grads;
  });
}

/** Joins tensors of one shape along a new dimension. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expects at least one tensor');
  const first = tensors[0];
  for (const x of tensors) {
    if (x.ndim !== first.ndim || !x.shape.every((s, i) => s === first.shape[i])) {
      throw new Error(`stack: shapes ${shapeStr(first.shape)} and ${shapeStr(x.shape)} differ`);
    }
  }
  const d = normDim('stack', dim, first.ndim + 1);
  return cat(tensors.map((x) => unsqueeze(x, d)), d);
}
