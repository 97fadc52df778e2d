/**
 * Snapshot ensembles (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for free"): one
 * training run, a copy of the weights taken at the end of chosen epochs (typically the end of
 * each cycle of CosineAnnealingWarmRestarts, where the model sits in a local minimum), and
 * the copies combined as an Ensemble.
 *
 *   const snapshots = new SnapshotEnsemble({ makeModel: () => buildNet(), every: 10 });
 *   const scheduler = new optim.lrScheduler.CosineAnnealingWarmRestarts(opt, { t0: 10 });
 *   await fit(model, { ..., scheduler, epochs: 50, callbacks: [snapshots] });
 *   const ensemble = snapshots.ensemble({ logProbs: true });   // 5 members
 *
 * A snapshot is a new model from `makeModel` with the trained model's state dict (parameters
 * and buffers, e.g. BatchNorm's running statistics) copied in, so later training does not
 * change it. Snapshots accumulate over fit() calls (a continued run adds to them); `reset()`
 * empties the list.
 */
import type { Module } from '../nn/module.js';
import type { Callback, TrainContext } from './callbacks.js';
import { Ensemble, type EnsembleOptions } from './ensemble.js';
import { checkOptions } from '../util/options.js';

export interface SnapshotEnsembleOptions {
  /** Builds an empty model of the trained model's architecture (its weights are overwritten). */
  makeModel: () => Module;
  /** Take a snapshot after every `every`-th epoch (epochs counted from 1). */
  every?: number;
  /** Or: the epochs (counted from 1) after which to take one. */
  epochs?: number[];
  /** Keep only the last `keep` snapshots (default: all). */
  keep?: number;
}

export class SnapshotEnsemble implements Callback {
  readonly snapshots: Module[] = [];
  /** The epoch (from 1) each snapshot was taken after. */
  readonly snapshotEpochs: number[] = [];
  private readonly makeModel: () => Module;
  private readonly every: number | null;
  private readonly at: Set<number> | null;
  private readonly keep: number;

  constructor(options: SnapshotEnsembleOptions) {
    checkOptions('SnapshotEnsemble', options, ['makeModel', 'every', 'epochs', 'keep']);
    if (typeof options?.makeModel !== 'function') throw new Error('SnapshotEnsemble: makeModel must be a function () => Module');
    if ((options.every === undefined) === (options.epochs === undefined)) throw new Error('SnapshotEnsemble: give exactly one of every or epochs');
    if (options.every !== undefined && (!Number.isInteger(options.every) || options.every < 1)) throw new Error(`SnapshotEnsemble: every must be a positive integer, got ${options.every}`);
    if (options.epochs && options.epochs.some((e) => !Number.isInteger(e) || e < 1)) throw new Error(`SnapshotEnsemble: epochs must be positive integers (counted from 1), got [${options.epochs.join(', ')}]`);
    const keep = options.keep ?? Infinity;
    if (!(keep >= 1)) throw new Error(`SnapshotEnsemble: keep must be at least 1, got ${options.keep}`);
    this.makeModel = options.makeModel;
    this.every = options.every ?? null;
    this.at = options.epochs ? new Set(options.epochs) : null;
    this.keep = keep;
  }

  reset(): void {
    this.snapshots.length = 0;
    this.snapshotEpochs.length = 0;
  }

  onEpochEnd(ctx: TrainContext): void {
    const epoch = ctx.epoch + 1;
    const take = this.every !== null ? epoch % this.every === 0 : this.at!.has(epoch);
    if (!take) return;
    const copy = this.makeModel();
    try {
      copy.loadStateDict(ctx.model.stateDict() as Map<string, any>);
    } catch (e) {
      throw new Error(`SnapshotEnsemble: makeModel() does not build the trained model's architecture: ${(e as Error).message}`);
    }
    copy.train(false);
    this.snapshots.push(copy);
    this.snapshotEpochs.push(epoch);
    while (this.snapshots.length > this.keep) {
      this.snapshots.shift();
      this.snapshotEpochs.shift();
    }
  }

  /** The snapshots as an Ensemble (they are shared, not copied). */
  ensemble(options?: EnsembleOptions): Ensemble {
    if (this.snapshots.length === 0) throw new Error('SnapshotEnsemble: no snapshot was taken (train first, with enough epochs for `every`/`epochs`)');
    return new Ensemble([...this.snapshots], options);
  }
}
