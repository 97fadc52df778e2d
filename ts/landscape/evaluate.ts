/**
 * How a landscape point is scored: the mean loss (and accuracy) of a model over fixed
 * evaluation batches, without autograd (noGrad), in eval mode, every temporary freed per
 * batch (tidy). The same batches are used for every point, so a grid is a deterministic
 * function of the parameters.
 *
 * BatchNorm: with `batchNorm: 'keep'` (default) the running statistics of the model are used
 * at every point; with `'recompute'` they are re-estimated at every point from the
 * evaluation batches (a cumulative average, as BatchNorm's `momentum: null`) before the
 * loss is measured; the model's own statistics are restored afterwards (restore()).
 */
import { noGrad } from '../autograd/engine.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/lifetime.js';
import { Accuracy } from '../train/metrics.js';
import { checkBooleanOption, checkOneOf, checkOptions } from '../util/options.js';

export type LossFunction = ((output: Tensor, target: Tensor) => Tensor) | { forward(output: Tensor, target: Tensor): Tensor };

export interface PointValue {
  loss: number;
  /** Present when the evaluator measures accuracy. */
  accuracy?: number;
}

/** Scores the model's current parameters. */
export type Evaluator = () => PointValue;

export interface EvaluatorOptions {
  /** Also measure classification accuracy (targets are class indices). Default false. */
  accuracy?: boolean;
  /** 'keep' (default) or 'recompute' BatchNorm running statistics at every point. */
  batchNorm?: 'keep' | 'recompute';
}

interface BatchNormLike extends Module {
  momentum: number | null;
  resetRunningStats(): void;
}

function batchNorms(model: Module): BatchNormLike[] {
  return model.modules().filter((m): m is BatchNormLike => typeof (m as any).resetRunningStats === 'function' && (m as any).runningMean);
}

/**
 * An evaluator over `batches` ([input, target] pairs, kept by the caller for the evaluator's
 * lifetime). `restore()` puts back the model's mode and BatchNorm statistics.
 */
export function lossEvaluator(
  model: Module,
  lossFn: LossFunction,
  batches: readonly (readonly [Tensor, Tensor])[],
  options: EvaluatorOptions = {},
): Evaluator & { restore(): void } {
  checkOptions('landscape.lossEvaluator', options, ['accuracy', 'batchNorm']);
  const withAccuracy = options.accuracy === undefined ? false : checkBooleanOption('landscape.lossEvaluator', 'accuracy', options.accuracy);
  const bnMode = checkOneOf('landscape.lossEvaluator', 'batchNorm', options.batchNorm ?? 'keep', ['keep', 'recompute'] as const);
  if (batches.length === 0) throw new Error('landscape.lossEvaluator: no evaluation batches given');
  const forward = typeof lossFn === 'function' ? lossFn : (o: Tensor, t: Tensor) => lossFn.forward(o, t);
  const bns = bnMode === 'recompute' ? batchNorms(model) : [];
  const savedBuffers = bns.map((bn) => bn.namedBuffers().map(([, t]) => t.data.slice()));
  const savedMomentum = bns.map((bn) => bn.momentum);
  const wasTraining = model.training;

  const evaluateNow = (): PointValue => {
    if (bns.length > 0) {
      // Re-estimate the statistics at this point: cumulative average over the batches.
      model.eval();
      for (const bn of bns) {
        bn.resetRunningStats();
        bn.momentum = null;
        bn.train(true);
      }
      for (const [x] of batches) tidy(() => noGrad(() => void model.forward(x)));
    }
    model.eval();
    let loss = 0;
    let n = 0;
    const acc = withAccuracy ? new Accuracy() : null;
    for (const [x, y] of batches) {
      tidy(() =>
        noGrad(() => {
          const out = model.forward(x);
          const rows = x.shape[0] ?? 1;
          loss += forward(out, y).item() * rows;
          n += rows;
          acc?.update(out, y);
        }),
      );
    }
    return acc ? { loss: loss / n, accuracy: acc.compute() } : { loss: loss / n };
  };
  const restore = () => {
    bns.forEach((bn, i) => {
      bn.momentum = savedMomentum[i]!;
      bn.namedBuffers().forEach(([, t], j) => t.data.set(savedBuffers[i]![j]!));
    });
    model.train(wasTraining);
  };
  return Object.assign(evaluateNow, { restore });
}

/**
 * The first `rows` rows of a loader's batches as evaluation batches, kept (owned: a DataLoader's
 * batches are temporaries) until the caller disposes them.
 */
export async function evaluationBatches(
  source: Iterable<readonly Tensor[]> | AsyncIterable<readonly Tensor[]>,
  rows: number,
): Promise<(readonly [Tensor, Tensor])[]> {
  const out: (readonly [Tensor, Tensor])[] = [];
  let n = 0;
  for await (const [x, y] of source as AsyncIterable<readonly Tensor[]>) {
    if (!x || !y) throw new Error('landscape.evaluationBatches: each batch must be [input, target]');
    out.push([x.keep(), y.keep()]);
    n += x.shape[0] ?? 1;
    if (n >= rows) break;
  }
  return out;
}
