/**
 * `Dropout(p)`: in training, zeroes each element with probability p and scales the rest by
 * 1/(1-p) (inverted dropout); in eval mode (or p = 0) it returns its input. The mask comes
 * from a counter-based hash of (seed, element), so it does not depend on the thread count:
 * a Dropout made with `{seed}` (or after `manualSeed`) draws the same masks in every run.
 * The mask (the factor per element) is kept in a layer-owned buffer for the backward.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { nextDropoutSeed } from '../random.js';
import { checkFloat, ReusableBuffer, temp } from './util.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../../util/options.js';


export interface DropoutOptions {
  /** Seed of this layer's masks (default: drawn from the global seed). */
  seed?: number;
  inplace?: boolean;
}

export class Dropout extends Module {
  /** Seed of the mask stream; the n-th training forward uses draw n of it. */
  seed: number;
  /** Training forwards run so far (the position in the mask stream). */
  calls = 0;
  private readonly mask = new ReusableBuffer('float32');

  readonly p: number;

  /** Dropout(p, { seed }) as PyTorch's Dropout(p), or Dropout({ p, seed }). */
  constructor(p: number | (DropoutOptions & { p?: number }) = 0.5, options: DropoutOptions = {}) {
    super();
    if (p !== null && typeof p === 'object') {
      checkOptions('Dropout', p, ['p', 'seed', 'inplace']);
      options = p;
      p = p.p ?? 0.5;
    } else checkOptions('Dropout', options, ['seed', 'inplace']);
    this.p = p;
    options ??= {};
    if (options.seed !== undefined) checkNumberOption('Dropout', 'seed', options.seed, { integer: true });
    if (options.inplace !== undefined) checkBooleanOption('Dropout', 'inplace', options.inplace);
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be between 0 and 1, got ${p}`);
    this.seed = options.seed !== undefined ? options.seed >>> 0 : nextDropoutSeed();
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }

  /** Restarts the mask stream (the next forward draws what the first one drew). */
  reseed(seed: number = this.seed): void {
    this.seed = seed >>> 0;
    this.calls = 0;
  }

  forward(x: Tensor): Tensor {
    checkFloat(x, `Dropout(p=${this.p})`);
    if (!this.training || this.p === 0) return x;
    const recording = isGradEnabled() && x.requiresGrad;
    const y = temp(x.shape);
    const mask = this.mask.acquire(x.shape, recording);
    const call = this.calls++;
    wasm().tread_dropout_forward(this.seed, call >>> 0, this.p, x.ptr, y.ptr, mask.ptr, x.size);
    if (!recording) {
      this.mask.release(mask);
      return y;
    }
    return record(y, 'Dropout', [x], (g) => {
      const dx = temp(x.shape);
      wasm().tread_dropout_backward(g.ptr, mask.ptr, dx.ptr, x.size);
      this.mask.release(mask);
      return [dx];
    });
  }

  releaseBuffers(): void {
    this.mask.dispose();
  }
}
