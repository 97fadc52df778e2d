/**
 * Saving checkpoints during fit() and resuming from them.
 *
 *   const ckpt = new ModelCheckpoint({ file: 'out/last.safetensors' });
 *   await fit(model, { ..., callbacks: [ckpt] });
 *
 *   // later, after a crash or to train further:
 *   const resume = await resumeFrom('out/last.safetensors', { model, optimizer, scheduler });
 *   await fit(model, { ..., ...resume, epochs: 20 });   // initialEpoch, initialStep, history
 *
 * A checkpoint is written at the end of every `every`-th epoch (or only when the monitored
 * metric improves, with `saveBestOnly`). It holds the model, the optimizer, the scheduler,
 * the RNG state (so shuffling, dropout and augmentation continue as they would have), the
 * history, early-stopping counters and best weights, and any `extra` JSON. Resuming restores all of them,
 * so an interrupted run continued from its last checkpoint ends with the same weights as an
 * uninterrupted one.
 */
import type { Callback, TrainContext } from './callbacks.js';
import { History } from './callbacks.js';
import { loadCheckpoint, saveCheckpoint, type LoadReport } from './checkpoint.js';
import type { EarlyStopping, EarlyStoppingState } from './early_stopping.js';
import type { ModuleLike, OptimizerLike, SchedulerLike } from './types.js';
import { captureModuleRng, defaultRng, restoreModuleRng, type RngStateSource } from './rng.js';
import { checkBooleanOption, checkNumberOption, checkOneOf, checkOptions } from '../util/options.js';

export interface ModelCheckpointOptions {
  /** Where to write (a .safetensors path); `{epoch}` in it is replaced by the epoch number. */
  file: string;
  /** Save every n epochs (default 1). */
  every?: number;
  /** Only save when `monitor` improves (default false). */
  saveBestOnly?: boolean;
  monitor?: string;
  mode?: 'min' | 'max' | 'auto';
  /** RNG to save (default: tread's global generator, nn/random). */
  rng?: RngStateSource | null;
  /** Early stopping whose counters (and, with restoreBestWeights, copy of the best weights) go into the checkpoint. */
  earlyStopping?: EarlyStopping | null;
  /** More JSON to store (the run's configuration ...). */
  extra?: unknown;
  /** Test hook passed to the atomic writer. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

export class ModelCheckpoint implements Callback {
  readonly options: ModelCheckpointOptions;
  readonly mode: 'min' | 'max';
  best: number;
  /** Path of the last file written. */
  lastSaved: string | null = null;

  /** Its early stopping first, so that the counters saved are this epoch's. */
  readonly runsAfter: readonly Callback[];

  constructor(options: ModelCheckpointOptions) {
    if (options === undefined || options === null) throw new TypeError("ModelCheckpoint: options are required ({ file: 'ckpt-{epoch}.safetensors', ... })");
    checkOptions('ModelCheckpoint', options, ['file', 'every', 'saveBestOnly', 'monitor', 'mode', 'rng', 'earlyStopping', 'extra', 'beforeRename']);
    if (typeof options.file !== 'string' || options.file === '') throw new TypeError(`ModelCheckpoint: file must be a path, got ${typeof options.file}`);
    if (options.every !== undefined) checkNumberOption('ModelCheckpoint', 'every', options.every, { integer: true, min: 1 });
    if (options.saveBestOnly !== undefined) checkBooleanOption('ModelCheckpoint', 'saveBestOnly', options.saveBestOnly);
    if (options.mode !== undefined) checkOneOf('ModelCheckpoint', 'mode', options.mode, ['auto', 'min', 'max']);
    this.options = options;
    this.runsAfter = options.earlyStopping ? [options.earlyStopping] : [];
    const monitor = options.monitor ?? 'val_loss';
    const mode = options.mode ?? 'auto';
    this.mode = mode === 'auto' ? (/acc/i.test(monitor) ? 'max' : 'min') : mode;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  async onEpochEnd(ctx: TrainContext): Promise<void> {
    const every = this.options.every ?? 1;
    if ((ctx.epoch + 1) % every !== 0) return;
    if (this.options.saveBestOnly) {
      const key = this.options.monitor ?? 'val_loss';
      const v = ctx.logs[key];
      if (v === undefined || !Number.isFinite(v)) return;
      if (this.mode === 'min' ? !(v < this.best) : !(v > this.best)) return;
      this.best = v;
    }
    await this.save(ctx);
  }

  /** Writes a checkpoint of the state at the end of ctx.epoch. */
  async save(ctx: TrainContext): Promise<string> {
    const file = this.options.file.replace('{epoch}', String(ctx.epoch + 1));
    const rng = this.options.rng === undefined ? defaultRng() : this.options.rng;
    await saveCheckpoint(file, {
      model: ctx.model,
      optimizer: ctx.optimizer,
      scheduler: ctx.scheduler,
      training: {
        epoch: ctx.epoch + 1,
        globalStep: ctx.globalStep,
        rng: { global: rng ? rng.getState() : undefined, modules: captureModuleRng(ctx.model) },
        history: ctx.history.toJSON(),
        earlyStopping: this.options.earlyStopping ? this.options.earlyStopping.state() : undefined,
        extra: this.options.extra,
      },
      bestWeights: this.options.earlyStopping?.bestWeights ?? null,
      beforeRename: this.options.beforeRename,
    });
    this.lastSaved = file;
    return file;
  }
}

export interface ResumeState {
  initialEpoch: number;
  initialStep: number;
  history: History;
  /** The `extra` JSON saved with the checkpoint. */
  extra: unknown;
  report: LoadReport;
}

/**
 * Loads a checkpoint into model, optimizer and scheduler (all or nothing), restores the RNG
 * and early stopping (counters and best weights), and returns what fit() needs to continue:
 * `fit(model, { ...options, ...resume })` uses initialEpoch, initialStep and history.
 */
export async function resumeFrom(
  file: string,
  opts: { model: ModuleLike; optimizer: OptimizerLike; scheduler?: SchedulerLike | null; rng?: RngStateSource | null; earlyStopping?: EarlyStopping | null },
): Promise<ResumeState> {
  if (opts === undefined || opts === null) throw new TypeError('resumeFrom: options are required ({ model, optimizer, scheduler?, rng?, earlyStopping? })');
  checkOptions('resumeFrom', opts, ['model', 'optimizer', 'scheduler', 'rng', 'earlyStopping']);
  const loaded = await loadCheckpoint(file, { model: opts.model, optimizer: opts.optimizer, scheduler: opts.scheduler ?? null });
  const t = loaded.training;
  const rng = opts.rng === undefined ? defaultRng() : opts.rng;
  const saved = (t.rng ?? {}) as { global?: unknown; modules?: Record<string, { seed: number; calls: number }> };
  if (rng && saved.global !== undefined) rng.setState(saved.global);
  restoreModuleRng(opts.model, saved.modules);
  if (opts.earlyStopping && t.earlyStopping) opts.earlyStopping.loadState(t.earlyStopping as EarlyStoppingState, loaded.bestWeights);
  return { initialEpoch: t.epoch, initialStep: t.globalStep, history: loaded.history, extra: t.extra, report: loaded.report };
}
