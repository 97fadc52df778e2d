/**
 * `Conv2d(in, out, kernelSize, {stride, padding, bias})`, NCHW, as PyTorch (cross-
 * correlation, zero padding; no dilation or groups). Forward and both backward passes are
 * one wasm call each: im2col of the whole batch + one GEMM (threaded), col2im for dX, the
 * weight gradient accumulated straight into `weight.grad`. The im2col columns are kept in a
 * layer-owned buffer from forward to backward and reused across steps.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, Parameter } from '../module.js';
import { checkFloat, defaultInit, gradTarget, pair, ReusableBuffer, shapeStr, temp } from './util.js';

export type IntOrPair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: IntOrPair;
  /** Zero padding on each side, or 'valid' (0) / 'same' (stride 1, odd kernel). */
  padding?: IntOrPair | 'valid' | 'same';
  dilation?: IntOrPair;
  groups?: number;
  bias?: boolean;
  paddingMode?: 'zeros';
}

export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  private readonly cols = new ReusableBuffer('float32');

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntOrPair,
    options: Conv2dOptions = {},
  ) {
    super();
    const name = `Conv2d(${inChannels}, ${outChannels})`;
    for (const [k, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv2d: ${k} must be a positive integer, got ${v}`);
    }
    this.kernelSize = pair(kernelSize, 'kernelSize', name, 1);
    this.stride = pair(options.stride ?? 1, 'stride', name, 1);
    const dil = pair(options.dilation ?? 1, 'dilation', name, 1);
    if (dil[0] !== 1 || dil[1] !== 1) throw new Error(`${name}: dilation other than 1 is not supported`);
    if ((options.groups ?? 1) !== 1) throw new Error(`${name}: groups other than 1 are not supported`);
    if ((options.paddingMode ?? 'zeros') !== 'zeros') throw new Error(`${name}: only paddingMode 'zeros' is supported`);
    const p = options.padding ?? 0;
    if (p === 'valid') this.padding = [0, 0];
    else if (p === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) throw new Error(`${name}: padding='same' needs stride 1`);
      if (this.kernelSize[0] % 2 === 0 || this.kernelSize[1] % 2 === 0) throw new Error(`${name}: padding='same' is supported for odd kernel sizes only`);
      this.padding = [(this.kernelSize[0] - 1) / 2, (this.kernelSize[1] - 1) / 2];
    } else this.padding = pair(p, 'padding', name, 0);
    const [kh, kw] = this.kernelSize;
    this.weight = new Parameter([outChannels, inChannels, kh, kw]);
    this.bias = options.bias === false ? null : new Parameter([outChannels]);
    this.resetParameters();
  }

  resetParameters(): void {
    defaultInit(this.weight, this.bias, this.inChannels * this.kernelSize[0] * this.kernelSize[1]);
  }

  override extraRepr(): string {
    const k = this.kernelSize;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${k[0]}, ${k[1]}), stride=(${this.stride.join(', ')}), padding=(${this.padding.join(', ')})${this.bias ? '' : ', bias=False'}`;
  }

  private get label(): string {
    return `Conv2d(${this.inChannels}, ${this.outChannels}, kernel ${this.kernelSize[0]}x${this.kernelSize[1]})`;
  }

  /** Output [N, out, OH, OW] for input [N, in, H, W] (or [in, H, W] unbatched). */
  forward(input: Tensor): Tensor {
    checkFloat(input, this.label);
    const unbatched = input.ndim === 3;
    if ((input.ndim !== 4 && !unbatched) || input.shape[input.ndim - 3] !== this.inChannels) {
      throw new Error(`${this.label}: expected input [N, ${this.inChannels}, H, W], got ${shapeStr(input.shape)}`);
    }
    const x = unbatched ? input.reshapeView([1, ...input.shape]) : input;
    const [n, c, h, w] = x.shape;
    const [kh, kw] = this.kernelSize;
    const [sh, sw] = this.stride;
    const [ph, pw] = this.padding;
    const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
    const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
    if (h + 2 * ph < kh || w + 2 * pw < kw) {
      throw new Error(`${this.label}: input ${shapeStr(input.shape)} is smaller than the kernel (padding ${ph}, ${pw})`);
    }
    const oc = this.outChannels;
    const weight = this.weight;
    const bias = this.bias;
    const inputs = bias ? [input, weight, bias] : [input, weight];
    const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
    const geo = [n, c, h, w, oc, kh, kw, sh, sw, ph, pw] as const;
    const cols = this.cols.acquire([c * kh * kw, n * oh * ow], recording);
    const y = temp(unbatched ? [oc, oh, ow] : [n, oc, oh, ow]);
    wasm().tread_conv2d_forward(...geo, x.ptr, weight.ptr, bias ? bias.ptr : 0, y.ptr, cols.ptr);
    if (!recording) {
      this.cols.release(cols);
      return y;
    }
    return record(y, 'Conv2d', inputs, (g) => {
      const dx = input.requiresGrad ? temp(input.shape) : null;
      const dw = gradTarget(weight);
      const db = gradTarget(bias);
      wasm().tread_conv2d_backward(
        ...geo, cols.ptr, weight.ptr, g.ptr,
        dw ? dw.ptr : 0, dw ? dw.beta : 0, db ? db.ptr : 0, db ? db.beta : 0, dx ? dx.ptr : 0,
      );
      this.cols.release(cols);
      return bias ? [dx, dw?.ret ?? null, db?.ret ?? null] : [dx, dw?.ret ?? null];
    });
  }

  /** Frees the layer's saved-columns buffer (it is made again when needed). */
  releaseBuffers(): void {
    this.cols.dispose();
  }
}
