/**
 * Activation kernels, forward and backward (crates/tread-core/src/kernels/activation.rs).
 * Pointers are byte offsets of float32 arrays of `n` elements.
 */
import { wasm } from '../runtime/wasm.js';

/** Activation op codes; parameters in comments. */
export const ActOp = {
  relu: 0,
  /** p1 = negative slope */
  leakyRelu: 1,
  /** p1 = alpha */
  elu: 2,
  /** exact erf form */
  gelu: 3,
  silu: 4,
  sigmoid: 5,
  tanh: 6,
  /** p1 = beta, p2 = threshold */
  softplus: 7,
} as const;

/** `out = act(x)`. */
export function act(op: number, x: number, out: number, n: number, p1 = 0, p2 = 0, ref = false): void {
  (ref ? wasm().tread_act_ref : wasm().tread_act)(op, p1, p2, x, out, n);
}

/** `dx = g · act'(x)`, given `y = act(x)`. */
export function actBackward(
  op: number, x: number, y: number, g: number, dx: number, n: number, p1 = 0, p2 = 0, ref = false,
): void {
  (ref ? wasm().tread_act_backward_ref : wasm().tread_act_backward)(op, p1, p2, x, y, g, dx, n);
}
