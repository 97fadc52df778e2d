/**
 * dst += src, elementwise, same size. Gradient accumulation is the one kernel the engine
 * itself needs; it is a plain loop here until the ops layer gives a wasm kernel for it.
 */
import { Tensor } from '../tensor/tensor.js';

export function addInto(dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) throw new Error(`addInto: sizes differ (${dst.size} vs ${src.size})`);
  const d = dst.f32;
  const s = src.f32;
  for (let i = 0; i < d.length; i++) d[i] += s[i];
}
