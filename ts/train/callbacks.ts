/**
 * Callbacks: a small interface through which fit() tells observers what happens, and
 * through which they can stop training.
 *
 *   onTrainBegin(ctx)            once, before the first epoch
 *   onEpochBegin(ctx)            ctx.epoch is the epoch starting (0-based)
 *   onBatchBegin(ctx)            ctx.batch, ctx.input, ctx.target set
 *   onAfterBackward(ctx)         gradients are in .grad (before clipping and the update)
 *   onBatchEnd(ctx)              after optimizer.step(); ctx.loss is this batch's loss
 *   onEpochEnd(ctx)              ctx.logs holds the epoch's metrics (loss, accuracy, val_*, lr)
 *   onTrainEnd(ctx)              once, also after a stop or a non-finite loss
 *
 * Every hook may be async. `ctx.stop(reason)` ends training after the current batch (from
 * a batch hook) or after the current epoch (from onEpochEnd). Hooks run in the order the
 * callbacks were given.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { ModuleLike, OptimizerLike, SchedulerLike } from './types.js';

/** One epoch's numbers: `epoch` (0-based) and every metric, e.g. loss, val_accuracy, lr. */
export type EpochLogs = Record<string, number>;

/** Per-epoch history of a run. */
export class History {
  readonly epochs: EpochLogs[] = [];

  /** Adds an epoch's logs (the object itself: fit pushes it before onEpochEnd, so keys callbacks add land here too). */
  push(logs: EpochLogs): void {
    this.epochs.push(logs);
  }

  /** The values of one key over epochs (NaN where an epoch lacks it). */
  series(key: string): number[] {
    return this.epochs.map((e) => (key in e ? e[key] : NaN));
  }

  /** Every key that appears in some epoch, in first-seen order. */
  keys(): string[] {
    const seen = new Set<string>();
    for (const e of this.epochs) for (const k of Object.keys(e)) seen.add(k);
    return [...seen];
  }

  get last(): EpochLogs | undefined {
    return this.epochs[this.epochs.length - 1];
  }

  toJSON(): EpochLogs[] {
    // JSON has no NaN/Infinity: write them as strings and read them back in fromJSON.
    return this.epochs.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, Number.isFinite(v) ? v : (String(v) as any)])));
  }

  static fromJSON(rows: Record<string, number | string>[]): History {
    const h = new History();
    for (const r of rows) h.push(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])));
    return h;
  }
}

export interface TrainContext {
  readonly model: ModuleLike;
  readonly optimizer: OptimizerLike;
  readonly scheduler: SchedulerLike | null;
  /** Current epoch, 0-based (counting epochs of a resumed run). */
  epoch: number;
  /** The epoch index at which training ends (exclusive). */
  readonly epochs: number;
  /** Batch index within the epoch. */
  batch: number;
  /** Batches per epoch when the loader knows its length. */
  batchesPerEpoch: number | null;
  /** Optimizer steps taken so far, over all epochs. */
  globalStep: number;
  /** This batch's input and target (valid during batch hooks only: they are temporaries). */
  input: Tensor | null;
  target: Tensor | null;
  /** This batch's output (valid in onAfterBackward and onBatchEnd). */
  output: Tensor | null;
  /** This batch's loss as a number (onAfterBackward, onBatchEnd). */
  loss: number;
  /** Samples in this batch. */
  batchSize: number;
  /** The epoch's logs (filled at onEpochEnd; a callback may add keys, e.g. grad norms). */
  logs: EpochLogs;
  readonly history: History;
  /** Set by stop(). */
  stopTraining: boolean;
  stopReason: string | null;
  stop(reason: string): void;
  /** Warnings raised during training (also sent to fit's `onWarning`). */
  readonly warnings: string[];
  warn(message: string): void;
  /** Free-form space for callbacks to share results (the monitor puts its statistics here). */
  readonly extras: Record<string, unknown>;
}

type Hook = (ctx: TrainContext) => void | Promise<void>;

export interface Callback {
  /**
   * Callbacks whose hooks must run before this one's, whatever order the list gives (a
   * checkpoint that saves early stopping's counters runs after the early stopping).
   */
  readonly runsAfter?: readonly Callback[];
  onTrainBegin?: Hook;
  onEpochBegin?: Hook;
  onBatchBegin?: Hook;
  onAfterBackward?: Hook;
  onBatchEnd?: Hook;
  onEpochEnd?: Hook;
  onTrainEnd?: Hook;
}

export type HookName = Exclude<keyof Callback, 'runsAfter'>;

/**
 * The callbacks in the order their hooks run: as listed, except that each one's `runsAfter`
 * (those of them in the list) come first. Throws on a cycle.
 */
export function orderCallbacks(callbacks: readonly Callback[]): Callback[] {
  const out: Callback[] = [];
  const state = new Map<Callback, 'visiting' | 'done'>();
  const listed = new Set(callbacks);
  const visit = (cb: Callback) => {
    const st = state.get(cb);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`callbacks: a cycle in runsAfter involving ${cb.constructor?.name ?? 'a callback'}`);
    state.set(cb, 'visiting');
    for (const dep of cb.runsAfter ?? []) if (listed.has(dep)) visit(dep);
    state.set(cb, 'done');
    out.push(cb);
  };
  callbacks.forEach(visit);
  return out;
}

/** Runs one hook on every callback, in order; awaits only hooks that return promises. */
export async function runHook(callbacks: readonly Callback[], hook: HookName, ctx: TrainContext): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[hook];
    if (fn) {
      const r = fn.call(cb, ctx);
      if (r && typeof (r as Promise<void>).then === 'function') await r;
    }
  }
}

/** A callback from plain functions: `lambdaCallback({ onEpochEnd: (ctx) => ... })`. */
export function lambdaCallback(hooks: Callback): Callback {
  return { ...hooks };
}

/** Stops training once `ctx.logs[monitor]` reaches a target value. */
export class StopAtValue implements Callback {
  constructor(
    readonly monitor: string,
    readonly target: number,
    readonly mode: 'min' | 'max' = 'max',
  ) {}
  onEpochEnd(ctx: TrainContext): void {
    const v = ctx.logs[this.monitor];
    if (v === undefined) return;
    if (this.mode === 'max' ? v >= this.target : v <= this.target) ctx.stop(`${this.monitor} reached ${v.toFixed(4)} (target ${this.target})`);
  }
}
