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
import { DropoutBase } from './dropout_base.js';
import { checkFloat, ReusableBuffer, temp } from './util.js';
import { checkBooleanOption, checkOptions } from '../../util/options.js';

export interface DropoutOptions {
  /** Seed of this layer's masks (default: drawn from the global seed). */
  seed?: number;
  inplace?: boolean;
}

export class Dropout extends DropoutBase {
  private readonly mask = new ReusableBuffer('float32');

  /** Dropout(p, { seed }) as PyTorch's Dropout(p), or Dropout({ p, seed }). */
  constructor(p: number | (DropoutOptions & { p?: number }) = 0.5, options: DropoutOptions = {}) {
    if (p !== null && typeof p === 'object') {
      checkOptions('Dropout', p, ['p', 'seed', 'inplace']);
      options = p;
      p = p.p ?? 0.5;
    } else checkOptions('Dropout', options ?? {}, ['seed', 'inplace']);
    options ??= {};
    if (options.inplace !== undefined) checkBooleanOption('Dropout', 'inplace', options.inplace);
    super(p, options.seed, 'Dropout');
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
