/**
 * `Conv2d(in, out, kernelSize, {stride, padding, dilation, groups, bias, paddingMode})`, NCHW,
 * as PyTorch's nn.Conv2d (cross-correlation). Forward and both backward passes are one wasm
 * call each: im2col per sample (dilation and padding modes folded into the gather) + one GEMM
 * per group (threaded over the batch), col2im for dX, the weight gradient accumulated straight
 * into `weight.grad`. A depthwise layer (one input channel per group, channel multiplier <= 8,
 * zero padding) runs a direct kernel instead (crates/tread-core/src/kernels/conv/). What the
 * backward needs (the im2col columns, or for the depthwise kernel a copy of the input) is kept
 * in a layer-owned buffer from forward to backward and reused across steps.
 *
 * Padding modes other than 'zeros' read the padded border from the input as PyTorch's
 * `F.pad(x, mode)` does (reflect / replicate / circular), without a padded copy. `padding:
 * 'same'` pads `dilation·(k-1)` in total per axis, the odd one after, as PyTorch.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import { MAX_STORAGE_BYTES } from '../../tensor/storage.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, Parameter } from '../module.js';
import { isPlainRelu } from './activation.js';
import { checkFloat, defaultInit, gradTarget, pair, ReusableBuffer, shapeStr, temp } from './util.js';
import { checkBooleanOption, checkOptions } from '../../util/options.js';

export type IntOrPair = number | readonly [number, number];
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

export interface Conv2dOptions {
  stride?: IntOrPair;
  /** Padding on each side, or 'valid' (none) / 'same' (output size = input size; stride 1). */
  padding?: IntOrPair | 'valid' | 'same';
  /** Spacing between kernel taps (default 1). */
  dilation?: IntOrPair;
  /** Channel groups: in and out channels must both divide by it; `groups = in` is depthwise. */
  groups?: number;
  bias?: boolean;
  /** How the padding is filled (default 'zeros'). */
  paddingMode?: PaddingMode;
}

/** Padding per side: [top, bottom, left, right]. */
type Pads = [number, number, number, number];

export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  /** As given: per-side padding (height, width), or 'same' / 'valid'. */
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  private readonly pads: Pads;
  private readonly cols = new ReusableBuffer('float32');

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntOrPair,
    options: Conv2dOptions = {},
  ) {
    super();
    const name = `Conv2d(${inChannels}, ${outChannels})`;
    checkOptions('Conv2d', options, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode']);
    options ??= {};
    if (options.bias !== undefined) checkBooleanOption('Conv2d', 'bias', options.bias);
    for (const [k, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv2d: ${k} must be a positive integer, got ${v}`);
    }
    this.kernelSize = pair(kernelSize, 'kernelSize', name, 1);
    this.stride = pair(options.stride ?? 1, 'stride', name, 1);
    this.dilation = pair(options.dilation ?? 1, 'dilation', name, 1);
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) throw new Error(`${name}: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0) throw new Error(`${name}: inChannels ${inChannels} must be divisible by groups ${groups}`);
    if (outChannels % groups !== 0) throw new Error(`${name}: outChannels ${outChannels} must be divisible by groups ${groups}`);
    this.groups = groups;
    const mode = options.paddingMode ?? 'zeros';
    if (!PADDING_MODES.includes(mode)) throw new Error(`${name}: paddingMode must be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
    this.paddingMode = mode;
    const p = options.padding ?? 0;
    if (p === 'valid') {
      this.padding = 'valid';
      this.pads = [0, 0, 0, 0];
    } else if (p === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) {
        throw new Error(`${name}: padding='same' is not supported for strided convolutions (stride ${JSON.stringify(this.stride)})`);
      }
      this.padding = 'same';
      // PyTorch: total dilation·(k-1) per axis, half before, the odd remainder after.
      const [th, tw] = [0, 1].map((i) => this.dilation[i] * (this.kernelSize[i] - 1));
      this.pads = [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
    } else if (typeof p === 'string') {
      throw new Error(`${name}: padding must be an int, a pair, 'same' or 'valid', got ${JSON.stringify(p)}`);
    } else {
      this.padding = pair(p, 'padding', name, 0);
      this.pads = [this.padding[0], this.padding[0], this.padding[1], this.padding[1]];
    }
    const [kh, kw] = this.kernelSize;
    this.weight = new Parameter([outChannels, inChannels / groups, kh, kw]);
    this.bias = options.bias === false ? null : new Parameter([outChannels]);
    this.resetParameters();
  }

  resetParameters(): void {
    defaultInit(this.weight, this.bias);
  }

  override extraRepr(): string {
    const k = this.kernelSize;
    const pad = typeof this.padding === 'string' ? `'${this.padding}'` : `(${this.padding.join(', ')})`;
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=(${k[0]}, ${k[1]}), stride=(${this.stride.join(', ')}), padding=${pad}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=(${this.dilation.join(', ')})`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }

  private get label(): string {
    return `Conv2d(${this.inChannels}, ${this.outChannels}, kernel ${this.kernelSize[0]}x${this.kernelSize[1]})`;
  }

  /** Output height and width for an input of h × w, or an error naming the layer. */
  private outSize(h: number, w: number, inputShape: readonly number[]): [number, number] {
    const [pt, pb, pl, pr] = this.pads;
    const [kh, kw] = this.kernelSize;
    const [dh, dw] = this.dilation;
    if (this.paddingMode === 'reflect' || this.paddingMode === 'circular') {
      // PyTorch's F.pad limits: reflect pads less than the size, circular at most the size.
      const limit = this.paddingMode === 'reflect' ? 'smaller than' : 'at most';
      const ok = (pad: number, len: number) => (this.paddingMode === 'reflect' ? pad < len : pad <= len);
      if (!ok(Math.max(pt, pb), h) || !ok(Math.max(pl, pr), w)) {
        throw new Error(`${this.label}: ${this.paddingMode} padding (${Math.max(pt, pb)}, ${Math.max(pl, pr)}) must be ${limit} the input size, got input ${shapeStr(inputShape)}`);
      }
    }
    const oh = wasm().tread_window_out_size(h, kh, this.stride[0], dh, pt, pb, 0) as number;
    const ow = wasm().tread_window_out_size(w, kw, this.stride[1], dw, pl, pr, 0) as number;
    if (oh === 0 || ow === 0) {
      throw new Error(
        `${this.label}: input ${shapeStr(inputShape)} is smaller than the kernel ` +
          `(padded ${h + pt + pb}x${w + pl + pr}, dilated kernel ${dh * (kh - 1) + 1}x${dw * (kw - 1) + 1})`,
      );
    }
    return [oh, ow];
  }

  /** Output [N, out, OH, OW] for input [N, in, H, W] (or [in, H, W] unbatched). */
  forward(input: Tensor): Tensor {
    return this.run(input, false);
  }

  override mayFuse(): boolean {
    return this.forward === Conv2d.prototype.forward;
  }

  /**
   * Sequential's Conv2d + ReLU: each sample's output is clamped as soon as it is computed,
   * and the backward masks dY by `y > 0` as it takes each sample (no pass of its own over the
   * batch); bit for bit the two modules. Off for a subclass or a hook, as Linear's.
   */
  override fusedForward(next: Module, x: Tensor): Tensor | null {
    return isPlainRelu(next) ? this.run(x, true) : null;
  }

  private run(input: Tensor, relu: boolean): Tensor {
    checkFloat(input, this.label);
    const unbatched = input.ndim === 3;
    if ((input.ndim !== 4 && !unbatched) || input.shape[input.ndim - 3] !== this.inChannels) {
      throw new Error(`${this.label}: expected input [N, ${this.inChannels}, H, W], got ${shapeStr(input.shape)}`);
    }
    const x = unbatched ? input.reshapeView([1, ...input.shape]) : input;
    const [n, c, h, w] = x.shape;
    const [kh, kw] = this.kernelSize;
    const [oh, ow] = this.outSize(h, w, input.shape);
    const oc = this.outChannels;
    const weight = this.weight;
    const bias = this.bias;
    const inputs = bias ? [input, weight, bias] : [input, weight];
    const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
    const mode = PADDING_MODES.indexOf(this.paddingMode);
    const geo = [n, c, h, w, oc, kh, kw, ...this.stride, ...this.pads, ...this.dilation, this.groups, mode] as const;
    const cols = this.cols.acquire([savedLen(geo, input.shape, oh, ow)], recording);
    const y = temp(unbatched ? [oc, oh, ow] : [n, oc, oh, ow]);
    wasm().tread_conv2d_forward_act_ex(...geo, x.ptr, weight.ptr, bias ? bias.ptr : 0, relu ? 1 : 0, y.ptr, cols.ptr);
    if (!recording) {
      this.cols.release(cols);
      return y;
    }
    return record(y, relu ? 'relu' : 'Conv2d', inputs, (g) => {
      const dx = input.requiresGrad ? temp(input.shape) : null;
      const dw = gradTarget(weight);
      const db = gradTarget(bias);
      const grads = [dw ? dw.ptr : 0, dw ? dw.beta : 0, db ? db.ptr : 0, db ? db.beta : 0, dx ? dx.ptr : 0] as const;
      if (relu) wasm().tread_conv2d_relu_backward_ex(...geo, cols.ptr, weight.ptr, y.ptr, g.ptr, ...grads);
      else wasm().tread_conv2d_backward_ex(...geo, cols.ptr, weight.ptr, g.ptr, ...grads);
      this.cols.release(cols);
      return bias ? [dx, dw?.ret ?? null, db?.ret ?? null] : [dx, dw?.ret ?? null];
    });
  }

  /** Frees the layer's saved-columns buffer (it is made again when needed). */
  releaseBuffers(): void {
    this.cols.dispose();
  }
}

/**
 * Floats of the buffer the forward keeps for the backward (im2col columns: N·C·KH·KW·OH·OW).
 * The core counts them in 32 bits and answers 2^32 - 1 when the count does not fit; a count
 * that fits may still be more than one buffer holds. Both are refused here, before allocating.
 */
function savedLen(geo: readonly number[], inputShape: readonly number[], oh: number, ow: number): number {
  const len = wasm().tread_conv2d_saved_len_ex(...geo) >>> 0;
  const [n, c, , , , kh, kw] = geo;
  // 2^32 - 1 only on the im2col path (a depthwise copy of x always fits): count it in JS numbers.
  const floats = len === 0xffffffff ? n * c * kh * kw * oh * ow : len;
  if (floats * 4 > MAX_STORAGE_BYTES) {
    throw new Error(
      `Conv2d: input ${shapeStr(inputShape)} with a ${kh}x${kw} kernel (output ${oh}x${ow}) needs an im2col buffer of ${floats} floats (${floats * 4} bytes); ` +
        `one buffer in wasm memory holds at most ${MAX_STORAGE_BYTES} bytes (2 GiB): use a smaller batch or input`,
    );
  }
  return floats;
}
