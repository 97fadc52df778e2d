/**
 * Matrix product with PyTorch's rules: 1-D operands are promoted to a row / column and the
 * dimension dropped again; `[..., m, k] @ [k, n]` folds the leading dimensions into m (one
 * GEMM); batched `[..., m, k] @ [..., k, n]` broadcasts the batch dimensions (one GEMM per
 * matrix). Backward uses the GEMM's transpose forms — `dA = g·Bᵀ`, `dB = Aᵀ·g` — so
 * nothing is transposed explicitly.
 */
import { record } from '../autograd/engine.js';
import { fill } from '../kernels/elementwise.js';
import { sgemmRaw } from '../kernels/gemm.js';
import { shapeSize, shapeStr, Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, checkFloat, out, sameShape } from './util.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  checkFloat('matmul', a, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(`matmul: both operands need at least one dimension, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const aVec = a.ndim === 1;
  const bVec = b.ndim === 1;
  const aShape = aVec ? [1, a.shape[0]] : [...a.shape];
  const bShape = bVec ? [b.shape[0], 1] : [...b.shape];
  const m = aShape[aShape.length - 2];
  const k = aShape[aShape.length - 1];
  const k2 = bShape[bShape.length - 2];
  const n = bShape[bShape.length - 1];
  if (k !== k2) {
    throw new Error(`matmul: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be multiplied (${k} != ${k2})`);
  }
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', batchA, batchB);
  } catch {
    throw new Error(`matmul: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be broadcast (batch dimensions)`);
  }
  const outShape = [...batch];
  if (!aVec) outShape.push(m);
  if (!bVec) outShape.push(n);
  const y = out(outShape);

  if (batchB.length === 0) {
    // [..., m, k] @ [k, n]: one GEMM with the leading dimensions folded into the rows.
    const M = shapeSize(batchA) * m;
    sgemmRaw(false, false, M, n, k, 1, a.ptr, k, b.ptr, n, 0, y.ptr, n);
    return record(y, 'matmul', [a, b], (g) => {
      let da: Tensor | null = null;
      let db: Tensor | null = null;
      if (a.requiresGrad) {
        da = out(a.shape);
        sgemmRaw(false, true, M, k, n, 1, g.ptr, n, b.ptr, n, 0, da.ptr, k);
      }
      if (b.requiresGrad) {
        db = out(b.shape);
        sgemmRaw(true, false, k, n, M, 1, a.ptr, k, g.ptr, n, 0, db.ptr, n);
      }
      return [da, db];
    });
  }

  // Batched, with broadcasting of the batch dimensions.
  const nb = shapeSize(batch);
  const sa = broadcastStrides(batch, batchA).map((s) => s * m * k * 4);
  const sb = broadcastStrides(batch, batchB).map((s) => s * k * n * 4);
  const offsets = (i: number): [number, number] => {
    let oa = 0;
    let ob = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      const j = i % batch[d];
      i = (i - j) / batch[d];
      oa += j * sa[d];
      ob += j * sb[d];
    }
    return [oa, ob];
  };
  const mn = m * n * 4;
  for (let i = 0; i < nb; i++) {
    const [oa, ob] = offsets(i);
    sgemmRaw(false, false, m, n, k, 1, a.ptr + oa, k, b.ptr + ob, n, 0, y.ptr + i * mn, n);
  }
  return record(y, 'matmul', [a, b], (g) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = out(a.shape);
      // A matrix used by several batch items sums their gradients (beta = 1 over zeros).
      const shared = !sameShape(batchA, batch);
      if (shared) fill(da.ptr, da.size, 0);
      for (let i = 0; i < nb; i++) {
        const [oa, ob] = offsets(i);
        sgemmRaw(false, true, m, k, n, 1, g.ptr + i * mn, n, b.ptr + ob, n, shared ? 1 : 0, da.ptr + oa, k);
      }
    }
    if (b.requiresGrad) {
      db = out(b.shape);
      const shared = !sameShape(batchB, batch);
      if (shared) fill(db.ptr, db.size, 0);
      for (let i = 0; i < nb; i++) {
        const [oa, ob] = offsets(i);
        sgemmRaw(true, false, k, n, m, 1, a.ptr + oa, k, g.ptr + i * mn, n, shared ? 1 : 0, db.ptr + ob, n);
      }
    }
    return [da, db];
  });
}

/** Alias of matmul for 2-D operands (checks that they are matrices). */
export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) throw new Error(`mm: expects two matrices, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  return matmul(a, b);
}
