/**
 * `GroupNorm(numGroups, numChannels, {eps, affine})`, as PyTorch's nn.GroupNorm: the channels
 * of input [N, C, *] are split into `numGroups` groups, each (sample, group) is normalized
 * over its channels and positions with the biased variance, then each channel is scaled by
 * `weight[c]` and shifted by `bias[c]` (state names `weight`, `bias`). One fused wasm call each
 * way (`group_norm_op.ts`), parallel over samples. Same statistics in train and eval.
 */
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import { Module, Parameter } from '../module.js';
import { groupNorm } from './group_norm_op.js';
import { checkFloat, ReusableBuffer, shapeStr } from './util.js';

export interface GroupNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learnable per-channel `weight` (ones) and `bias` (zeros) (default true). */
  affine?: boolean;
}

export class GroupNorm extends Module {
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  private readonly saved = new ReusableBuffer('float32');

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    checkOptions('GroupNorm', options, ['eps', 'affine']);
    for (const [k, v] of [['numGroups', numGroups], ['numChannels', numChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`GroupNorm: ${k} must be a positive integer, got ${v}`);
    }
    if (numChannels % numGroups !== 0) throw new Error(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new Error(`GroupNorm: eps must be a non-negative number, got ${options.eps}`);
    this.affine = options.affine ?? true;
    this.weight = this.affine ? new Parameter([numChannels]) : null;
    this.bias = this.affine ? new Parameter([numChannels]) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    this.weight?.f32.fill(1);
    this.bias?.f32.fill(0);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }

  forward(x: Tensor): Tensor {
    const name = `GroupNorm(${this.numGroups}, ${this.numChannels})`;
    checkFloat(x, name);
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new Error(`${name}: expected input [N, ${this.numChannels}, *], got ${shapeStr(x.shape)}`);
    }
    const n = x.shape[0];
    const l = x.shape.slice(2).reduce((a, b) => a * b, 1);
    return groupNorm(name, x, { n, c: this.numChannels, l, g: this.numGroups }, this.weight, this.bias, this.eps, this.saved);
  }

  /** Frees the saved statistics' buffer (allocated again when needed). */
  releaseBuffers(): void {
    this.saved.dispose();
  }
}
