/**
 * Which epoch's weights the model holds when fit() returns, with that epoch's logs
 * (`FitResult.best`): the epoch EarlyStopping({ restoreBestWeights }) put back, the last
 * good epoch after a non-finite loss rolled training back, or else the last epoch that ran.
 * The history's last row is not it whenever weights were restored (its metrics belong to
 * weights that are gone).
 */
import type { EpochLogs, History } from './callbacks.js';

export interface HeldEpoch {
  /** The epoch index (0-based, as `logs.epoch`). */
  epoch: number;
  /** That epoch's logs (loss, val_loss, metrics, lr ...). */
  logs: EpochLogs;
  /** True when the model was set back to this epoch's weights after a later epoch ran. */
  restored: boolean;
}

/**
 * `restoredEpoch`: what a callback restored (ctx.extras.restoredEpoch), if anything;
 * `endEpoch`: the epoch whose weights training ended with (-1: none completed).
 */
export function heldEpoch(history: History, restoredEpoch: unknown, endEpoch: number, lastRan: number): HeldEpoch | null {
  const restored = typeof restoredEpoch === 'number' && Number.isInteger(restoredEpoch) && restoredEpoch >= 0;
  const epoch = restored ? (restoredEpoch as number) : endEpoch;
  if (epoch < 0) return null;
  // Search from the end: a resumed run's history starts with the earlier run's epochs.
  for (let i = history.epochs.length - 1; i >= 0; i--) {
    const logs = history.epochs[i];
    if (logs.epoch === epoch) return { epoch, logs, restored: restored || epoch < lastRan };
  }
  return null;
}
