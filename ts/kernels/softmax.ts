/**
 * Softmax / log-softmax kernels along the middle axis of `[outer, n, inner]`
 * (crates/tread-core/src/kernels/softmax.rs).
 */
import { wasm } from '../runtime/wasm.js';

export function softmaxKernel(x: number, outer: number, n: number, inner: number, log: boolean, out: number, ref = false): void {
  (ref ? wasm().tread_softmax_ref : wasm().tread_softmax)(x, outer, n, inner, log ? 1 : 0, out);
}

/** Backward from the forward output `y` and its gradient `g`. */
export function softmaxBackwardKernel(
  y: number, g: number, outer: number, n: number, inner: number, log: boolean, dx: number, ref = false,
): void {
  (ref ? wasm().tread_softmax_backward_ref : wasm().tread_softmax_backward)(y, g, outer, n, inner, log ? 1 : 0, dx);
}
