/**
 * Reduction kernels (crates/tread-core/src/kernels/reduce.rs). An axis reduction sees its
 * input as `[outer, n, inner]` and writes `[outer, inner]`.
 */
import { wasm } from '../runtime/wasm.js';
import { writeDims } from './elementwise.js';

/** `out[o, i] = scale · Σ_k x[o, k, i]`. */
export function sumAxis(x: number, outer: number, n: number, inner: number, scale: number, out: number, ref = false): void {
  (ref ? wasm().tread_sum_axis_ref : wasm().tread_sum_axis)(x, outer, n, inner, scale, out);
}

/** Σ of `n` elements. */
export function sumAll(x: number, n: number, ref = false): number {
  return (ref ? wasm().tread_sum_all_ref : wasm().tread_sum_all)(x, n);
}

/** Max along the middle axis, with the first index attaining it (int32 at `idx`). */
export function maxAxis(x: number, outer: number, n: number, inner: number, out: number, idx: number, ref = false): void {
  (ref ? wasm().tread_max_axis_ref : wasm().tread_max_axis)(x, outer, n, inner, out, idx);
}

/** Backward of maxAxis: `dx` zeroed, then `g` scattered to the argmax positions. */
export function maxAxisBackward(g: number, idx: number, outer: number, n: number, inner: number, dx: number): void {
  wasm().tread_max_axis_backward(g, idx, outer, n, inner, dx);
}

/**
 * Sum of a gradient `g` (contiguous over `shape`) back to an input whose element strides over
 * `shape` are `st` (0 where it was broadcast); `outLen` elements at `out`.
 */
export function reduceTo(shape: readonly number[], g: number, st: readonly number[], out: number, outLen: number, ref = false): void {
  const [ps, pt] = writeDims(shape, st);
  (ref ? wasm().tread_reduce_to_ref : wasm().tread_reduce_to)(shape.length, ps, g, pt, out, outLen);
}
