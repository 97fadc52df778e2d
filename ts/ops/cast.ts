/**
 * dtype casts, PyTorch's `x.float()` and `x.int()`: turn a comparison's int32 0/1 mask into
 * float32 to count or average it (`x.gt(0).float().mean()`), or float values into int32
 * indices. float -> int truncates toward zero, as PyTorch; NaN and values outside int32 are
 * refused rather than wrapped. A cast to the same dtype returns a copy (gradients flow
 * through float -> float; no gradient crosses an int32 tensor).
 */
import { Tensor } from '../tensor/tensor.js';
import { clone } from './arith.js';

/** A float32 copy of x. */
export function toFloat(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`float: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.dtype === 'float32') return clone(x);
  const y = Tensor.empty(x.shape, 'float32', true);
  y.f32.set(x.data);
  return y;
}

/** An int32 copy of x (float values truncated toward zero). */
export function toInt(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`int: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  const y = Tensor.empty(x.shape, 'int32', true);
  const src = x.data;
  const dst = y.data;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!(v > -2147483649 && v < 2147483648)) {
      y.dispose();
      throw new Error(`int: element ${i} is ${v}, which has no int32 value`);
    }
    dst[i] = Math.trunc(v);
  }
  return y;
}
