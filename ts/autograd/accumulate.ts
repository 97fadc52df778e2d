/**
 * dst += src, elementwise, same size: gradient accumulation, by the wasm axpy kernel
 * (SIMD, split over threads for big tensors).
 */
import { axpy } from '../kernels/elementwise.js';
import { Tensor } from '../tensor/tensor.js';

export function addInto(dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) throw new Error(`addInto: sizes differ (${dst.size} vs ${src.size})`);
  if (dst.storage === src.storage && dst.offset === src.offset) {
    // x += x: axpy must not alias its operands.
    const d = dst.f32;
    for (let i = 0; i < d.length; i++) d[i] += d[i];
    return;
  }
  axpy(1, src.ptr, dst.ptr, dst.size);
}
