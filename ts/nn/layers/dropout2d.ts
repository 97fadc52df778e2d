/**
 * `Dropout2d(p)`, as PyTorch's nn.Dropout2d: in training, each channel of each sample of an
 * [N, C, H, W] input is zeroed as a whole with probability p and the kept channels are scaled
 * by 1/(1-p); in eval mode (or p = 0) the input is returned. (PyTorch 1.13 also reads a 3-D
 * input as [N, C, L] with a warning and later versions as unbatched [C, H, W]; tread asks
 * for 4-D to avoid that ambiguity.) The keep/drop choice of (sample, channel) is a hash of
 * (seed, call, n·C + c), so a seeded layer draws the same masks in every run and on any
 * thread count; the mask is a small [N, C, 1, 1] tensor multiplied in with autograd.
 */
import { mul } from '../../ops/index.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import { DropoutBase } from './dropout_base.js';
import { checkFloat, shapeStr, temp } from './util.js';

export interface Dropout2dOptions {
  /** Seed of this layer's masks (default: drawn from the global seed, see manualSeed). */
  seed?: number;
  /** Accepted for PyTorch parity (as Dropout's); the result is a new tensor either way. */
  inplace?: boolean;
}

/** murmur3's finalizer over a few words: a uniform draw in [0, 1) per (seed, call, channel). */
function uniformOf(seed: number, call: number, k: number): number {
  let h = seed >>> 0;
  for (const v of [call, k]) {
    h = Math.imul(h ^ (v >>> 0), 0x9e37_79b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85eb_ca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2_ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4294967296;
}

export class Dropout2d extends DropoutBase {
  constructor(p = 0.5, options: Dropout2dOptions = {}) {
    checkOptions('Dropout2d', options ?? {}, ['seed', 'inplace']);
    super(p, options?.seed, 'Dropout2d');
  }

  forward(x: Tensor): Tensor {
    checkFloat(x, `Dropout2d(p=${this.p})`);
    if (x.ndim !== 4) throw new Error(`Dropout2d(p=${this.p}): expected input [N, C, H, W], got ${shapeStr(x.shape)}`);
    if (!this.training || this.p === 0) return x;
    const [n, c] = x.shape;
    const call = this.calls++;
    const mask = temp([n, c, 1, 1]);
    const m = mask.f32;
    // p = 1 drops everything (0, not 0 · Infinity).
    const kept = this.p === 1 ? 0 : 1 / (1 - this.p);
    for (let k = 0; k < n * c; k++) m[k] = uniformOf(this.seed, call, k) < this.p ? 0 : kept;
    return mul(x, mask);
  }
}
