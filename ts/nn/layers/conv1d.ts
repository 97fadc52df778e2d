/**
 * `Conv1d(in, out, kernelSize, {stride, padding, dilation, groups, bias, paddingMode})`, as
 * PyTorch's nn.Conv1d, on [N, C, L] (or [C, L] unbatched). Its `weight` is [out, in/groups,
 * kernelSize] and `bias` [out] (PyTorch's state names and shapes); the work is done by a
 * Conv2d of kernel 1 × k on the input viewed as [N, C, 1, L], with the weight viewed as
 * [out, in/groups, 1, k] through an autograd reshape, which is exact (a height-1 image has
 * nothing else to add) and keeps Conv2d's padding modes and fast kernels.
 */
import { reshape } from '../../ops/index.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import { Module, Parameter } from '../module.js';
import { Conv2d, type PaddingMode } from './conv.js';
import { checkFloat, defaultInit, shapeStr } from './util.js';

export interface Conv1dOptions {
  stride?: number;
  /** Padding on each side, or 'valid' (none) / 'same' (output length = input length; stride 1). */
  padding?: number | 'valid' | 'same';
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups: in and out channels must both divide by it. */
  groups?: number;
  bias?: boolean;
  /** How the padding is filled (default 'zeros'). */
  paddingMode?: PaddingMode;
}

function int(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`Conv1d: ${what} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

export class Conv1d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number | 'valid' | 'same';
  readonly dilation: number;
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** The 2-D layer doing the work; private so that it is not a submodule (no state of its own). */
  readonly #conv: Conv2d;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number,
    options: Conv1dOptions = {},
  ) {
    super();
    checkOptions('Conv1d', options, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode']);
    this.kernelSize = int(kernelSize, 'kernelSize', 1);
    this.stride = int(options.stride ?? 1, 'stride', 1);
    this.dilation = int(options.dilation ?? 1, 'dilation', 1);
    const p = options.padding ?? 0;
    this.padding = p === 'same' || p === 'valid' ? p : int(p, 'padding', 0);
    this.groups = options.groups ?? 1;
    this.paddingMode = options.paddingMode ?? 'zeros';
    // Conv2d checks channels, groups, padding mode and 'same' with stride (its messages name Conv2d(in, out)).
    this.#conv = new Conv2d(inChannels, outChannels, [1, this.kernelSize], {
      stride: [1, this.stride],
      padding: typeof this.padding === 'string' ? this.padding : [0, this.padding],
      dilation: [1, this.dilation],
      groups: this.groups,
      bias: options.bias !== false,
      paddingMode: this.paddingMode,
    });
    this.#conv.weight.dispose();
    this.#conv.bias?.dispose();
    this.weight = new Parameter([outChannels, inChannels / this.groups, this.kernelSize]);
    this.bias = options.bias === false ? null : new Parameter([outChannels]);
    this.resetParameters();
  }

  resetParameters(): void {
    defaultInit(this.weight, this.bias);
  }

  override extraRepr(): string {
    const pad = typeof this.padding === 'string' ? `'${this.padding}'` : `(${this.padding},)`;
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize},), stride=(${this.stride},), padding=${pad}`;
    if (this.dilation !== 1) s += `, dilation=(${this.dilation},)`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }

  /** Output [N, out, L_out] for input [N, in, L] (or [in, L] unbatched). */
  forward(input: Tensor): Tensor {
    const label = `Conv1d(${this.inChannels}, ${this.outChannels}, kernel ${this.kernelSize})`;
    checkFloat(input, label);
    if ((input.ndim !== 3 && input.ndim !== 2) || input.shape[input.ndim - 2] !== this.inChannels) {
      throw new Error(`${label}: expected input [N, ${this.inChannels}, L], got ${shapeStr(input.shape)}`);
    }
    const conv = this.#conv;
    const [o, i, k] = this.weight.shape;
    // The views carry autograd back to this layer's own weight and bias.
    conv.weight = reshape(this.weight, [o, i, 1, k]) as Parameter;
    conv.bias = this.bias;
    const x = reshape(input, [...input.shape.slice(0, -1), 1, input.shape[input.ndim - 1]]);
    try {
      const y = conv.forward(x);
      return reshape(y, [...y.shape.slice(0, -2), y.shape[y.ndim - 1]]);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message} (input ${shapeStr(input.shape)})`);
    }
  }

  releaseBuffers(): void {
    this.#conv.releaseBuffers();
  }
}
