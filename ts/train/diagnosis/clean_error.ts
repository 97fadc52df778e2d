/**
 * The training error a bias/variance verdict may rest on. The running mean of an epoch is
 * taken with dropout on, on augmented samples, while the weights move: it overstates the
 * error of the final model. So: evaluate the final model in eval mode on up to `maxSamples`
 * training samples, with the loader's random transforms off (a DataLoader in eval mode);
 * where the source cannot be replayed that way, fall back to the last running mean and say so.
 */
import { noGrad } from '../../autograd/engine.js';
import { tidy } from '../../tensor/lifetime.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EpochLogs } from '../callbacks.js';
import type { ModuleLike } from '../types.js';
import type { CleanError } from './run_stats.js';

type LossLike = ((o: Tensor, y: Tensor) => Tensor) | { forward(o: Tensor, y: Tensor): Tensor };

interface Replayable extends Iterable<readonly Tensor[]> {
  training: boolean;
  epoch?: number;
  setEpoch?: (e: number) => unknown;
}

function replayable(src: unknown): src is Replayable {
  const s = src as any;
  return !!s && typeof s.training === 'boolean' && typeof s[Symbol.iterator] === 'function';
}

function errorOf(out: Tensor, y: Tensor): { wrong: number; n: number } | null {
  if (out.ndim !== 2 || y.dtype !== 'int32' || y.ndim !== 1 || out.shape[1] < 2) return null;
  const [n, k] = out.shape;
  const o = out.f32;
  const t = y.data;
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (o[i * k + j] > o[i * k + best]) best = j;
    if (best !== t[i]) wrong++;
  }
  return { wrong, n };
}

export function cleanTrainingError(model: ModuleLike, train: unknown, lossFn: LossLike, lastLogs: EpochLogs | undefined, maxSamples = 2048): CleanError | null {
  if (replayable(train)) {
    const wasLoaderTraining = train.training;
    const epoch = typeof train.epoch === 'number' ? train.epoch : null;
    const wasTraining = model.training ?? true;
    train.training = false;
    model.eval();
    let loss = 0;
    let wrong = 0;
    let n = 0;
    let classified = true;
    try {
      for (const [x, y] of train) {
        tidy(() =>
          noGrad(() => {
            const out = model.forward(x);
            const l = typeof lossFn === 'function' ? lossFn(out, y) : lossFn.forward(out, y);
            loss += l.item() * x.shape[0];
            const e = errorOf(out, y);
            if (e) wrong += e.wrong;
            else classified = false;
            n += x.shape[0];
          }),
        );
        if (n >= maxSamples) break;
      }
    } finally {
      train.training = wasLoaderTraining;
      if (epoch !== null && typeof train.setEpoch === 'function') train.setEpoch(epoch); // this pass does not count as an epoch
      if (wasTraining) model.train(true);
    }
    if (n > 0) return { loss: loss / n, error: classified ? wrong / n : null, how: 'clean', samples: n };
  }
  if (!lastLogs || !Number.isFinite(lastLogs.loss)) return null;
  return { loss: lastLogs.loss, error: 'accuracy' in lastLogs ? 1 - lastLogs.accuracy : null, how: 'running-mean', samples: 0 };
}
