/**
 * Early stopping: watch a metric at the end of each epoch and stop when it has not improved
 * for `patience` epochs; optionally put back the weights of the best epoch.
 *
 * An epoch improves when the value beats the best so far by more than `minDelta`
 * (`mode` 'min': value < best - minDelta; 'max': value > best + minDelta). 'auto' picks
 * 'max' for metrics whose name contains 'acc' and 'min' otherwise. With
 * `restoreBestWeights`, the best epoch's state (parameters and buffers, copied out of wasm
 * memory) is written back when training ends, whether it stopped early or ran all epochs.
 *
 * Checkpoints (ModelCheckpoint with `earlyStopping`) keep the counters and that copy of the
 * best weights; `resumeFrom` gives both back (`loadState(state, bestWeights)`), so a resumed
 * run restores the same best weights as an uninterrupted one.
 */
import type { Callback, TrainContext } from './callbacks.js';
import { restoreState, snapshotState, type StateSnapshot } from './state.js';
import { checkBooleanOption, checkNumberOption, checkOneOf, checkOptions } from '../util/options.js';

export interface EarlyStoppingOptions {
  /** Key of the epoch logs to watch (default 'val_loss'). */
  monitor?: string;
  mode?: 'min' | 'max' | 'auto';
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Put back the best epoch's weights at the end (default false). */
  restoreBestWeights?: boolean;
  /** A value the metric must beat before the run counts as improving (optional). */
  baseline?: number;
  /** Epochs to wait before counting patience (warm-up; default 0). */
  startFromEpoch?: number;
  /** Print a line when stopping and restoring (default false). */
  verbose?: boolean;
}

/** The serialisable part of the early-stopping state (kept in checkpoints). */
export interface EarlyStoppingState {
  best: number;
  bestEpoch: number;
  wait: number;
  stoppedEpoch: number;
}

export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  readonly baseline: number | undefined;
  readonly startFromEpoch: number;
  readonly verbose: boolean;

  best: number;
  bestEpoch = -1;
  wait = 0;
  /** The epoch after which training was stopped, or -1. */
  stoppedEpoch = -1;
  private bestState: StateSnapshot | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    checkOptions('EarlyStopping', options, ['monitor', 'mode', 'patience', 'minDelta', 'restoreBestWeights', 'baseline', 'startFromEpoch', 'verbose']);
    options ??= {};
    if (options.monitor !== undefined && typeof options.monitor !== 'string') throw new TypeError(`EarlyStopping: monitor must be a metric name such as 'val_loss', got ${typeof options.monitor}`);
    if (options.mode !== undefined) checkOneOf('EarlyStopping', 'mode', options.mode, ['auto', 'min', 'max']);
    if (options.minDelta !== undefined) checkNumberOption('EarlyStopping', 'minDelta', options.minDelta);
    if (options.baseline != null) checkNumberOption('EarlyStopping', 'baseline', options.baseline);
    if (options.startFromEpoch !== undefined) checkNumberOption('EarlyStopping', 'startFromEpoch', options.startFromEpoch, { integer: true, min: 0 });
    for (const k of ['restoreBestWeights', 'verbose'] as const) if (options[k] !== undefined) checkBooleanOption('EarlyStopping', k, options[k]);
    this.monitor = options.monitor ?? 'val_loss';
    const mode = options.mode ?? 'auto';
    this.mode = mode === 'auto' ? (/acc/i.test(this.monitor) ? 'max' : 'min') : mode;
    this.patience = options.patience ?? 5;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.baseline = options.baseline;
    this.startFromEpoch = options.startFromEpoch ?? 0;
    this.verbose = options.verbose ?? false;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new Error(`EarlyStopping: patience must be a non-negative integer, got ${options.patience}`);
    this.best = this.initialBest();
  }

  private initialBest(): number {
    if (this.baseline !== undefined) return this.baseline;
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** True when `value` beats `best` by more than minDelta. */
  isImprovement(value: number, best: number = this.best): boolean {
    if (!Number.isFinite(value)) return false;
    return this.mode === 'min' ? value < best - this.minDelta : value > best + this.minDelta;
  }

  onTrainBegin(): void {
    // A resumed run keeps the counters it was given through loadState().
    if (this.bestEpoch === -1) {
      this.best = this.initialBest();
      this.wait = 0;
    }
    this.stoppedEpoch = -1;
  }

  onEpochEnd(ctx: TrainContext): void {
    const value = ctx.logs[this.monitor];
    if (value === undefined) {
      const keys = Object.keys(ctx.logs).join(', ');
      ctx.warn(`EarlyStopping: '${this.monitor}' is not in the epoch logs (${keys}); early stopping does nothing. Give fit a validation set or pick another monitor.`);
      return;
    }
    if (this.isImprovement(value)) {
      this.best = value;
      this.bestEpoch = ctx.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestState = snapshotState(ctx.model);
      return;
    }
    if (ctx.epoch < this.startFromEpoch) return;
    this.wait++;
    if (this.wait >= this.patience && ctx.epoch + 1 < ctx.epochs) {
      this.stoppedEpoch = ctx.epoch;
      ctx.stop(
        `early stopping: ${this.monitor} did not improve for ${this.wait} epoch(s) (best ${fmt(this.best)} at epoch ${this.bestEpoch + 1})`,
      );
    }
  }

  onTrainEnd(ctx: TrainContext): void {
    if (!this.restoreBestWeights || this.bestState === null) return;
    if (this.bestEpoch === ctx.epoch) return; // the model already holds the best weights
    restoreState(ctx.model, this.bestState);
    const msg = `EarlyStopping: restored the weights of epoch ${this.bestEpoch + 1} (${this.monitor} = ${fmt(this.best)})`;
    ctx.extras.restoredEpoch = this.bestEpoch;
    if (this.verbose) console.log(msg);
  }

  /** Counters for a checkpoint (the best weights travel beside them: `bestWeights`). */
  state(): EarlyStoppingState {
    return { best: this.best, bestEpoch: this.bestEpoch, wait: this.wait, stoppedEpoch: this.stoppedEpoch };
  }

  /**
   * Takes back the counters of a checkpoint and, with restoreBestWeights, its copy of the best
   * weights (without one, the resumed run can only restore epochs it sees improve).
   */
  loadState(s: EarlyStoppingState, bestWeights: StateSnapshot | null = null): void {
    this.best = Number(s.best);
    this.bestEpoch = s.bestEpoch;
    this.wait = s.wait;
    this.stoppedEpoch = s.stoppedEpoch;
    this.bestState = this.restoreBestWeights ? bestWeights : null;
  }

  /** The held copy of the best weights (null unless restoreBestWeights). */
  get bestWeights(): StateSnapshot | null {
    return this.bestState;
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(5) : String(v);
}
