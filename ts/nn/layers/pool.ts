/**
 * `MaxPool2d(kernelSize, {stride, padding, dilation, ceilMode})` and `AvgPool2d(kernelSize,
 * {stride, padding, ceilMode, countIncludePad, divisorOverride})` over NCHW (or CHW) input,
 * as PyTorch. The output size comes from the wasm core's window formula (shared with
 * Conv2d): in ceil mode the division rounds up, but a last window that would start in the
 * right padding is dropped. Max pooling saves the argmax (int32, index within each plane) in
 * a layer-owned buffer for its backward. Average pooling divides by `divisorOverride` when
 * given, else by the window clipped to the padded input (`countIncludePad`, the default) or
 * to the input: a ceil-mode window that runs past the padding counts only what is inside.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import type { IntOrPair } from './conv.js';
import { checkFloat, pair, ReusableBuffer, shapeStr, temp } from './util.js';
import { checkOptions } from '../../util/options.js';

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: IntOrPair | null;
  /** Implicit padding on each side, at most half the kernel (-inf for max, 0 for average). */
  padding?: IntOrPair;
  /** Spacing between window taps (MaxPool2d only). */
  dilation?: IntOrPair;
  /** Round the output size up (windows may run past the input). */
  ceilMode?: boolean;
}

abstract class Pool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;

  constructor(kind: string, kernelSize: IntOrPair, options: PoolOptions) {
    checkOptions(kind, options, kind === 'AvgPool2d' ? ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'] : ['stride', 'padding', 'dilation', 'ceilMode']);
    options ??= {};
    super();
    this.kernelSize = pair(kernelSize, 'kernelSize', kind, 1);
    this.stride = options.stride == null ? this.kernelSize : pair(options.stride, 'stride', kind, 1);
    this.padding = pair(options.padding ?? 0, 'padding', kind, 0);
    this.dilation = pair(options.dilation ?? 1, 'dilation', kind, 1);
    this.ceilMode = options.ceilMode ?? false;
    if (typeof this.ceilMode !== 'boolean') throw new Error(`${kind}: ceilMode must be a boolean, got ${JSON.stringify(options.ceilMode)}`);
    // PyTorch's check: on the kernel size itself, dilation or not.
    if (this.padding[0] * 2 > this.kernelSize[0] || this.padding[1] * 2 > this.kernelSize[1]) {
      throw new Error(`${kind}: padding should be at most half of the kernel size, got padding ${JSON.stringify(this.padding)} for kernel ${JSON.stringify(this.kernelSize)}`);
    }
  }

  protected abstract get label(): string;

  override extraRepr(): string {
    const pairStr = (p: [number, number]) => `(${p.join(', ')})`;
    let s = `kernel_size=${pairStr(this.kernelSize)}, stride=${pairStr(this.stride)}, padding=${pairStr(this.padding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${pairStr(this.dilation)}`;
    if (this.ceilMode) s += ', ceil_mode=True';
    return s;
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
    const [dh, dw] = this.dilation;
    const ceil = this.ceilMode ? 1 : 0;
    const oh = wasm().tread_window_out_size(h, kh, sh, dh, ph, ph, ceil) as number;
    const ow = wasm().tread_window_out_size(w, kw, sw, dw, pw, pw, ceil) as number;
    if (oh === 0 || ow === 0) {
      throw new Error(`${this.label}: input ${shapeStr(x.shape)} is smaller than the kernel (padding ${ph}, ${pw}; dilated kernel ${dh * (kh - 1) + 1}x${dw * (kw - 1) + 1})`);
    }
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
    const { geo: g, outShape } = this.geometry(x);
    const geo = [...g, ...this.dilation, this.ceilMode ? 1 : 0];
    const recording = isGradEnabled() && x.requiresGrad;
    const y = temp(outShape);
    const idx = this.argmax.acquire(outShape, recording);
    wasm().tread_maxpool2d_forward(...geo, x.ptr, y.ptr, idx.ptr);
    if (!recording) {
      this.argmax.release(idx);
      return y;
    }
    return record(y, 'MaxPool2d', [x], (grad) => {
      const dx = temp(x.shape);
      wasm().tread_maxpool2d_backward(...geo, grad.ptr, idx.ptr, dx.ptr);
      this.argmax.release(idx);
      return [dx];
    });
  }

  releaseBuffers(): void {
    this.argmax.dispose();
  }
}

export interface AvgPoolOptions extends Omit<PoolOptions, 'dilation'> {
  /** Divide by the window including padding (PyTorch's default, true). */
  countIncludePad?: boolean;
  /** Divide every window by this instead (a non-zero integer), or null for the window size. */
  divisorOverride?: number | null;
}

export class AvgPool2d extends Pool2d {
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: IntOrPair, options: AvgPoolOptions = {}) {
    if ('dilation' in options && (options as PoolOptions).dilation != null) {
      throw new Error('AvgPool2d: there is no dilation option (as in PyTorch)');
    }
    super('AvgPool2d', kernelSize, options);
    this.countIncludePad = options.countIncludePad ?? true;
    const d = options.divisorOverride ?? null;
    if (d !== null && (!Number.isInteger(d) || d === 0)) {
      throw new Error(`AvgPool2d: divisorOverride must be a non-zero integer or null, got ${JSON.stringify(d)}`);
    }
    this.divisorOverride = d;
  }

  protected get label(): string {
    return `AvgPool2d(${this.kernelSize.join('x')})`;
  }

  override extraRepr(): string {
    let s = super.extraRepr();
    if (!this.countIncludePad) s += ', count_include_pad=False';
    if (this.divisorOverride !== null) s += `, divisor_override=${this.divisorOverride}`;
    return s;
  }

  forward(x: Tensor): Tensor {
    const { geo: g, outShape } = this.geometry(x);
    const geo = [...g, this.ceilMode ? 1 : 0, this.countIncludePad ? 1 : 0, this.divisorOverride ?? 0];
    const y = temp(outShape);
    wasm().tread_avgpool2d_forward(...geo, x.ptr, y.ptr);
    return record(y, 'AvgPool2d', [x], (grad) => {
      const dx = temp(x.shape);
      wasm().tread_avgpool2d_backward(...geo, grad.ptr, dx.ptr);
      return [dx];
    });
  }
}
