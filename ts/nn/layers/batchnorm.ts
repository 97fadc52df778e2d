/**
 * `BatchNorm1d(numFeatures)` ([N, C] or [N, C, L]) and `BatchNorm2d(numFeatures)`
 * ([N, C, H, W]), as PyTorch: in training, batch statistics normalize (biased variance) and
 * the running estimates are updated with `momentum` (unbiased variance; `momentum: null` is
 * a cumulative average), `num_batches_tracked` counts batches; in eval mode the running
 * statistics are used. Forward and backward are one wasm call each, parallel over channels.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, Parameter } from '../module.js';
import { checkFloat, gradTarget, ReusableBuffer, shapeStr, temp } from './util.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../../util/options.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1); null: cumulative average. */
  momentum?: number | null;
  /** Learnable per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true). */
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  private readonly saved = new ReusableBuffer('float32');

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions,
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`${this.constructor.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    checkOptions(this.constructor.name, options, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    options ??= {};
    this.eps = checkNumberOption(this.constructor.name, 'eps', options.eps ?? 1e-5, { min: 0, minExclusive: true });
    if (options.momentum != null) checkNumberOption(this.constructor.name, 'momentum', options.momentum, { min: 0, max: 1 });
    for (const k of ['affine', 'trackRunningStats'] as const) if (options[k] !== undefined) checkBooleanOption(this.constructor.name, k, options[k]);
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.weight = this.affine ? new Parameter([numFeatures]) : null;
    this.bias = this.affine ? new Parameter([numFeatures]) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', Tensor.empty([numFeatures]));
      this.registerBuffer('running_var', Tensor.empty([numFeatures]));
      this.registerBuffer('num_batches_tracked', Tensor.empty([], 'int32'));
    }
    this.resetParameters();
  }

  get runningMean(): Tensor | null {
    return this.trackRunningStats ? this.getBuffer('running_mean') : null;
  }
  get runningVar(): Tensor | null {
    return this.trackRunningStats ? this.getBuffer('running_var') : null;
  }
  get numBatchesTracked(): Tensor | null {
    return this.trackRunningStats ? this.getBuffer('num_batches_tracked') : null;
  }

  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    this.runningMean!.f32.fill(0);
    this.runningVar!.f32.fill(1);
    this.numBatchesTracked!.data.fill(0);
  }

  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) this.weight.f32.fill(1);
    if (this.bias) this.bias.f32.fill(0);
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, track_running_stats=${this.trackRunningStats}`;
  }

  /** [N, C, L] of the input, after checking its rank. */
  protected abstract layout(x: Tensor): [number, number, number];

  forward(x: Tensor): Tensor {
    const name = `${this.constructor.name}(${this.numFeatures})`;
    checkFloat(x, name);
    const [n, c, l] = this.layout(x);
    if (c !== this.numFeatures) throw new Error(`${name}: expected ${this.numFeatures} channels in dimension 1, got input ${shapeStr(x.shape)}`);
    const useBatch = this.training || !this.trackRunningStats;
    if (this.training && n * l <= 1) throw new Error(`${name}: expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`);
    const w = this.weight;
    const b = this.bias;
    const inputs = w && b ? [x, w, b] : [x];
    const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
    const y = temp(x.shape);
    // saved: [mean(C), invstd(C)]
    const saved = this.saved.acquire([2 * c], recording);
    const meanPtr = saved.ptr;
    const invstdPtr = saved.ptr + 4 * c;
    if (useBatch) {
      let rm = 0;
      let rv = 0;
      let factor = 0;
      if (this.training && this.trackRunningStats) {
        const nbt = this.numBatchesTracked!;
        nbt.data[0] += 1;
        factor = this.momentum === null ? 1 / nbt.data[0] : this.momentum;
        rm = this.runningMean!.ptr;
        rv = this.runningVar!.ptr;
      }
      wasm().tread_batchnorm_forward_train(n, c, l, x.ptr, w ? w.ptr : 0, b ? b.ptr : 0, this.eps, factor, y.ptr, meanPtr, invstdPtr, rm, rv);
    } else {
      const rm = this.runningMean!;
      const rv = this.runningVar!;
      wasm().tread_batchnorm_forward_eval(n, c, l, x.ptr, w ? w.ptr : 0, b ? b.ptr : 0, rm.ptr, rv.ptr, this.eps, y.ptr);
      if (recording) {
        // The backward needs the statistics used, frozen as they are now.
        const s = saved.f32;
        const m = rm.f32;
        const v = rv.f32;
        for (let i = 0; i < c; i++) {
          s[i] = m[i];
          s[c + i] = 1 / Math.sqrt(v[i] + this.eps);
        }
      }
    }
    if (!recording) {
      this.saved.release(saved);
      return y;
    }
    const train = useBatch ? 1 : 0;
    return record(y, this.constructor.name, inputs, (g) => {
      const dx = x.requiresGrad ? temp(x.shape) : null;
      const dw = gradTarget(w);
      const db = gradTarget(b);
      wasm().tread_batchnorm_backward(
        n, c, l, train, x.ptr, g.ptr, w ? w.ptr : 0, meanPtr, invstdPtr,
        dx ? dx.ptr : 0, dw ? dw.ptr : 0, dw ? dw.beta : 0, db ? db.ptr : 0, db ? db.beta : 0,
      );
      this.saved.release(saved);
      return w && b ? [dx, dw?.ret ?? null, db?.ret ?? null] : [dx];
    });
  }

  releaseBuffers(): void {
    this.saved.dispose();
  }
}

export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected layout(x: Tensor): [number, number, number] {
    if (x.ndim === 2) return [x.shape[0], x.shape[1], 1];
    if (x.ndim === 3) return [x.shape[0], x.shape[1], x.shape[2]];
    throw new Error(`BatchNorm1d(${this.numFeatures}): expected input [N, C] or [N, C, L], got ${shapeStr(x.shape)}`);
  }
}

export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected layout(x: Tensor): [number, number, number] {
    if (x.ndim === 4) return [x.shape[0], x.shape[1], x.shape[2] * x.shape[3]];
    throw new Error(`BatchNorm2d(${this.numFeatures}): expected input [N, C, H, W], got ${shapeStr(x.shape)}`);
  }
}
