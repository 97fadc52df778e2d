/**
 * `LayerNorm(normalizedShape, {eps, elementwiseAffine})`, as PyTorch's nn.LayerNorm: each
 * sample is normalized over its last `normalizedShape.length` dimensions with the biased
 * variance, then scaled by `weight` and shifted by `bias` (both of `normalizedShape`, state
 * names `weight`, `bias`). One fused wasm call each way (`group_norm_op.ts`: GroupNorm with one
 * group and every normalized value its own channel), parallel over samples.
 */
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import { Module, Parameter } from '../module.js';
import { groupNorm } from './group_norm_op.js';
import { checkFloat, ReusableBuffer, shapeStr } from './util.js';

export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learnable per-element `weight` (ones) and `bias` (zeros) (default true). */
  elementwiseAffine?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  private readonly saved = new ReusableBuffer('float32');

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    checkOptions('LayerNorm', options, ['eps', 'elementwiseAffine']);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`LayerNorm: normalizedShape must be a positive integer or a non-empty list of them, got ${JSON.stringify(normalizedShape)}`);
    }
    this.normalizedShape = shape;
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new Error(`LayerNorm: eps must be a non-negative number, got ${options.eps}`);
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? new Parameter(shape) : null;
    this.bias = this.elementwiseAffine ? new Parameter(shape) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    this.weight?.f32.fill(1);
    this.bias?.f32.fill(0);
  }

  override extraRepr(): string {
    return `(${this.normalizedShape.join(', ')},), eps=${this.eps}, elementwise_affine=${this.elementwiseAffine}`;
  }

  forward(x: Tensor): Tensor {
    const name = `LayerNorm(${shapeStr(this.normalizedShape)})`;
    checkFloat(x, name);
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new Error(`${name}: expected input [*, ${this.normalizedShape.join(', ')}], got ${shapeStr(x.shape)}`);
    }
    const d = tail.reduce((a, b) => a * b, 1);
    const n = x.size / d;
    return groupNorm(name, x, { n, c: d, l: 1, g: 1 }, this.weight, this.bias, this.eps, this.saved);
  }

  /** Frees the saved statistics' buffer (allocated again when needed). */
  releaseBuffers(): void {
    this.saved.dispose();
  }
}
