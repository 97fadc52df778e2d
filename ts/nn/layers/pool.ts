/**
 * `MaxPool2d(kernelSize, {stride, padding})` and `AvgPool2d(kernelSize, {stride, padding,
 * countIncludePad})` over NCHW (or CHW) input, floor mode, as PyTorch. Max pooling saves the
 * argmax (int32, index within each plane) in a layer-owned buffer for its backward.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import type { IntOrPair } from './conv.js';
import { checkFloat, pair, ReusableBuffer, shapeStr, temp } from './util.js';

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceilMode?: boolean;
}

abstract class Pool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(kind: string, kernelSize: IntOrPair, options: PoolOptions) {
    super();
    this.kernelSize = pair(kernelSize, 'kernelSize', kind, 1);
    this.stride = options.stride == null ? this.kernelSize : pair(options.stride, 'stride', kind, 1);
    this.padding = pair(options.padding ?? 0, 'padding', kind, 0);
    const d = pair(options.dilation ?? 1, 'dilation', kind, 1);
    if (d[0] !== 1 || d[1] !== 1) throw new Error(`${kind}: dilation other than 1 is not supported`);
    if (options.ceilMode) throw new Error(`${kind}: ceilMode is not supported`);
    if (this.padding[0] * 2 > this.kernelSize[0] || this.padding[1] * 2 > this.kernelSize[1]) {
      throw new Error(`${kind}: padding should be at most half of the kernel size, got padding ${this.padding} for kernel ${this.kernelSize}`);
    }
  }

  protected abstract get label(): string;

  override extraRepr(): string {
    return `kernel_size=(${this.kernelSize.join(', ')}), stride=(${this.stride.join(', ')}), padding=(${this.padding.join(', ')})`;
  }

  /** [planes, h, w, kh, kw, sh, sw, ph, pw] and the output shape. */
  protected geometry(x: Tensor): { geo: number[]; outShape: number[] } {
    checkFloat(x, this.label);
    if (x.ndim !== 3 && x.ndim !== 4) throw new Error(`${this.label}: expected input [N, C, H, W] or [C, H, W], got ${shapeStr(x.shape)}`);
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const [kh, kw] = this.kernelSize;
    const [sh, sw] = this.stride;
    const [ph, pw] = this.padding;
    if (h + 2 * ph < kh || w + 2 * pw < kw) throw new Error(`${this.label}: input ${shapeStr(x.shape)} is smaller than the kernel`);
    const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
    const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
    const planes = x.size / (h * w || 1);
    return { geo: [planes, h, w, kh, kw, sh, sw, ph, pw], outShape: [...x.shape.slice(0, -2), oh, ow] };
  }
}

export class MaxPool2d extends Pool2d {
  private readonly argmax = new ReusableBuffer('int32');

  constructor(kernelSize: IntOrPair, options: PoolOptions = {}) {
    super('MaxPool2d', kernelSize, options);
  }

  protected get label(): string {
    return `MaxPool2d(${this.kernelSize.join('x')})`;
  }

  forward(x: Tensor): Tensor {
    const { geo, outShape } = this.geometry(x);
    const recording = isGradEnabled() && x.requiresGrad;
    const y = temp(outShape);
    const idx = this.argmax.acquire(outShape, recording);
    wasm().tread_maxpool2d_forward(...geo, x.ptr, y.ptr, idx.ptr);
    if (!recording) {
      this.argmax.release(idx);
      return y;
    }
    return record(y, 'MaxPool2d', [x], (g) => {
      const dx = temp(x.shape);
      wasm().tread_maxpool2d_backward(...geo, g.ptr, idx.ptr, dx.ptr);
      this.argmax.release(idx);
      return [dx];
    });
  }

  releaseBuffers(): void {
    this.argmax.dispose();
  }
}

export interface AvgPoolOptions extends PoolOptions {
  /** Divide by the whole window, padding included (PyTorch's default, true). */
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

export class AvgPool2d extends Pool2d {
  readonly countIncludePad: boolean;

  constructor(kernelSize: IntOrPair, options: AvgPoolOptions = {}) {
    super('AvgPool2d', kernelSize, options);
    this.countIncludePad = options.countIncludePad ?? true;
    if (options.divisorOverride != null) throw new Error('AvgPool2d: divisorOverride is not supported');
  }

  protected get label(): string {
    return `AvgPool2d(${this.kernelSize.join('x')})`;
  }

  forward(x: Tensor): Tensor {
    const { geo, outShape } = this.geometry(x);
    const cip = this.countIncludePad ? 1 : 0;
    const y = temp(outShape);
    wasm().tread_avgpool2d_forward(...geo, cip, x.ptr, y.ptr);
    return record(y, 'AvgPool2d', [x], (g) => {
      const dx = temp(x.shape);
      wasm().tread_avgpool2d_backward(...geo, cip, g.ptr, dx.ptr);
      return [dx];
    });
  }
}
