/**
 * The fused per-sample normalization behind `GroupNorm` and `LayerNorm`: one wasm call
 * forward and one backward (crates/tread-core/src/kernels/group_norm.rs), parallel over
 * samples. The input is seen as `[n, c, l]` with its `c` channels in `g` groups; LayerNorm over
 * D values is `g = 1, c = D, l = 1` (each value its own channel, the weight element-wise).
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Parameter } from '../module.js';
import { gradTarget, ReusableBuffer, shapeStr, temp } from './util.js';

export interface GroupNormShape {
  n: number;
  c: number;
  l: number;
  g: number;
}

/**
 * `y` of the normalization, recorded for autograd when any input needs a gradient. `saved`
 * holds each (sample, group)'s mean and rstd for the backward; `name` (the layer with its
 * arguments) labels errors, and its part before the parenthesis the graph node (as BatchNorm's).
 */
export function groupNorm(
  name: string,
  x: Tensor,
  s: GroupNormShape,
  weight: Parameter | null,
  bias: Parameter | null,
  eps: number,
  saved: ReusableBuffer,
): Tensor {
  for (const [what, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && (p.size !== s.c || p.dtype !== 'float32')) {
      throw new Error(`${name}: ${what} must be float32 with ${s.c} elements, got ${p.dtype} ${shapeStr(p.shape)}`);
    }
  }
  const affine = weight !== null && bias !== null;
  const inputs = affine ? [x, weight, bias] : [x];
  const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const rows = s.n * s.g;
  const y = temp(x.shape);
  // saved: [mean(rows), rstd(rows)]
  const stats = saved.acquire([2 * rows], recording);
  const meanPtr = stats.ptr;
  const rstdPtr = stats.ptr + 4 * rows;
  const [w, b] = affine ? [weight.ptr, bias.ptr] : [0, 0];
  wasm().tread_groupnorm_forward(s.n, s.c, s.l, s.g, x.ptr, w, b, eps, y.ptr, meanPtr, rstdPtr);
  if (!recording) {
    saved.release(stats);
    return y;
  }
  return record(y, name.split('(')[0], inputs, (g) => {
    const dx = x.requiresGrad ? temp(x.shape) : null;
    const dw = affine ? gradTarget(weight) : null;
    const db = affine ? gradTarget(bias) : null;
    wasm().tread_groupnorm_backward(
      s.n, s.c, s.l, s.g, x.ptr, g.ptr, w, meanPtr, rstdPtr,
      dx ? dx.ptr : 0, dw ? dw.ptr : 0, dw ? dw.beta : 0, db ? db.ptr : 0, db ? db.beta : 0,
    );
    saved.release(stats);
    return affine ? [dx, dw?.ret ?? null, db?.ret ?? null] : [dx];
  });
}
