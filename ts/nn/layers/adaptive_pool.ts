/**
 * `AdaptiveAvgPool2d(outputSize)`, as PyTorch's nn.AdaptiveAvgPool2d: output cell (i, j) of an
 * [N, C, H, W] (or [C, H, W]) input is the mean of rows floor(i·H/OH) .. ceil((i+1)·H/OH) - 1
 * and the same columns for W, so the windows cover the input for any sizes (they overlap
 * where OH does not divide H). `outputSize` is an int, or a pair whose null entry keeps the
 * input's size. Plain loops over the zero-copy views (the output is small by construction);
 * the backward spreads each upstream value evenly over its window.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { checkFloat, shapeStr, temp } from './util.js';

export type AdaptiveSize = number | readonly [number | null, number | null];

/** Start (inclusive) and end (exclusive) of window i of n over a length `len`. */
function windowOf(i: number, n: number, len: number): [number, number] {
  return [Math.floor((i * len) / n), Math.ceil(((i + 1) * len) / n)];
}

export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number | null, number | null];

  constructor(outputSize: AdaptiveSize) {
    super();
    const pair: [number | null, number | null] = typeof outputSize === 'number' ? [outputSize, outputSize] : [outputSize?.[0] ?? null, outputSize?.[1] ?? null];
    const okEntry = (v: number | null) => v === null || (Number.isInteger(v) && v >= 1);
    if (!(typeof outputSize === 'number' || Array.isArray(outputSize)) || !pair.every(okEntry)) {
      throw new Error(`AdaptiveAvgPool2d: outputSize must be a positive integer or a pair of positive integers (or null), got ${JSON.stringify(outputSize)}`);
    }
    this.outputSize = pair;
  }

  override extraRepr(): string {
    const [h, w] = this.outputSize;
    return `output_size=${h === w ? h : `(${h ?? 'None'}, ${w ?? 'None'})`}`;
  }

  forward(input: Tensor): Tensor {
    const label = `AdaptiveAvgPool2d(${this.extraRepr().slice('output_size='.length)})`;
    checkFloat(input, label);
    if (input.ndim !== 4 && input.ndim !== 3) throw new Error(`${label}: expected input [N, C, H, W] or [C, H, W], got ${shapeStr(input.shape)}`);
    const [h, w] = input.shape.slice(-2);
    if (h === 0 || w === 0) throw new Error(`${label}: input ${shapeStr(input.shape)} has an empty spatial dimension`);
    const oh = this.outputSize[0] ?? h;
    const ow = this.outputSize[1] ?? w;
    const planes = input.size / (h * w);
    const y = temp([...input.shape.slice(0, -2), oh, ow]);
    const xs = input.f32;
    const ys = y.f32;
    for (let p = 0; p < planes; p++) {
      for (let i = 0; i < oh; i++) {
        const [h0, h1] = windowOf(i, oh, h);
        for (let j = 0; j < ow; j++) {
          const [w0, w1] = windowOf(j, ow, w);
          let s = 0;
          for (let r = h0; r < h1; r++) for (let c = w0; c < w1; c++) s += xs[p * h * w + r * w + c];
          ys[p * oh * ow + i * ow + j] = s / ((h1 - h0) * (w1 - w0));
        }
      }
    }
    if (!(isGradEnabled() && input.requiresGrad)) return y;
    return record(y, 'AdaptiveAvgPool2d', [input], (g) => {
      const dx = temp(input.shape);
      const d = dx.f32;
      const gs = g.f32;
      d.fill(0);
      for (let p = 0; p < planes; p++) {
        for (let i = 0; i < oh; i++) {
          const [h0, h1] = windowOf(i, oh, h);
          for (let j = 0; j < ow; j++) {
            const [w0, w1] = windowOf(j, ow, w);
            const share = gs[p * oh * ow + i * ow + j] / ((h1 - h0) * (w1 - w0));
            for (let r = h0; r < h1; r++) for (let c = w0; c < w1; c++) d[p * h * w + r * w + c] += share;
          }
        }
      }
      return [dx];
    });
  }
}
