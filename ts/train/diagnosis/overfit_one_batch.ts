/**
 * "Overfit one batch" (Karpathy's recipe): train on one small batch until the loss is near
 * zero. A model, loss and optimizer that cannot memorize a handful of samples have a bug
 * (labels shuffled against inputs, a frozen or dead layer, symmetry, a wrong loss), and no
 * amount of data or epochs will fix it. The model's weights are put back afterwards unless
 * `keepWeights`, so the check can run before the real training.
 *
 *   const r = await tread.train.overfitOneBatch(model, { data: loader, lossFn: new nn.CrossEntropyLoss() });
 *   if (!r.ok) console.log(r.verdict);
 */
import { Adam } from '../../optim/adam.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../../util/options.js';
import { restoreState, snapshotState } from '../state.js';
import type { ModuleLike, OptimizerLike } from '../types.js';

type LossLike = ((o: Tensor, y: Tensor) => Tensor) | { forward(o: Tensor, y: Tensor): Tensor };

export interface OverfitOneBatchOptions {
  /** The batch: [x, y], or batches (a DataLoader) whose first batch is taken. */
  data: readonly Tensor[] | Iterable<readonly Tensor[]>;
  lossFn: LossLike;
  /** Use only the first `samples` rows of the batch (default 32). */
  samples?: number;
  /** Optimizer steps (default 300). */
  steps?: number;
  /** The optimizer for the check (default Adam, lr 1e-2); given the trainable parameters. */
  optimizer?: (params: Tensor[]) => OptimizerLike;
  /** Loss below which the batch counts as memorized (default 0.05). */
  targetLoss?: number;
  /** Keep the trained weights instead of restoring them (default false). */
  keepWeights?: boolean;
}

const KNOWN = ['data', 'lossFn', 'samples', 'steps', 'optimizer', 'targetLoss', 'keepWeights'] as const;

export interface OverfitOneBatchResult {
  ok: boolean;
  samples: number;
  steps: number;
  initialLoss: number;
  finalLoss: number;
  /** Loss after every step. */
  losses: number[];
  /** Fraction of the batch classified right at the end (classification only, else null). */
  accuracy: number | null;
  verdict: string;
}

function firstBatch(data: OverfitOneBatchOptions['data']): readonly Tensor[] {
  const d = data as any;
  if (Array.isArray(d) && d.length >= 2 && typeof d[0]?.shape === 'object') return d;
  if (d && typeof d[Symbol.iterator] === 'function') for (const b of d as Iterable<readonly Tensor[]>) return b;
  throw new Error('overfitOneBatch: data must be [x, y] tensors or an iterable of batches');
}

/** An owned copy of the first `rows` rows (it must outlive the training steps). */
function rowsOf(t: Tensor, rows: number): Tensor {
  const per = t.size / t.shape[0];
  return tensor(t.data.slice(0, rows * per), [rows, ...t.shape.slice(1)], { dtype: t.dtype });
}

function accuracyOf(out: Tensor, y: Tensor): number | null {
  if (out.ndim !== 2 || y.dtype !== 'int32' || y.ndim !== 1 || out.shape[1] < 2) return null;
  const [n, k] = out.shape;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (out.f32[i * k + j] > out.f32[i * k + b]) b = j;
    if (b === y.data[i]) right++;
  }
  return right / n;
}

export async function overfitOneBatch(model: ModuleLike, options: OverfitOneBatchOptions): Promise<OverfitOneBatchResult> {
  const where = 'overfitOneBatch';
  checkOptions(where, options, KNOWN);
  if (!options || !options.lossFn) throw new Error(`${where}: lossFn is required`);
  const samplesWanted = options.samples === undefined ? 32 : checkNumberOption(where, 'samples', options.samples, { min: 1, integer: true });
  const steps = options.steps === undefined ? 300 : checkNumberOption(where, 'steps', options.steps, { min: 1, integer: true });
  const target = options.targetLoss === undefined ? 0.05 : checkNumberOption(where, 'targetLoss', options.targetLoss, { min: 0 });
  const keep = options.keepWeights === undefined ? false : checkBooleanOption(where, 'keepWeights', options.keepWeights);
  const [bx, by] = firstBatch(options.data);
  if (!bx || !by || bx.ndim === 0 || by.ndim === 0) throw new Error(`${where}: the batch needs inputs and targets with a sample dimension`);
  if (bx.shape[0] !== by.shape[0]) throw new Error(`${where}: inputs have ${bx.shape[0]} rows [${bx.shape}], targets ${by.shape[0]} [${by.shape}]`);
  const rows = Math.min(samplesWanted, bx.shape[0]);
  const x = rowsOf(bx, rows);
  const y = rowsOf(by, rows);
  const params = [...model.parameters()].filter((p) => p.requiresGrad);
  const optimizer = options.optimizer ? options.optimizer(params) : (new Adam(params, { lr: 1e-2 }) as unknown as OptimizerLike);
  const snap = keep ? null : snapshotState(model);
  const wasTraining = model.training ?? true;
  const call = (o: Tensor) => (typeof options.lossFn === 'function' ? options.lossFn(o, y) : options.lossFn.forward(o, y));
  const losses: number[] = [];
  let accuracy: number | null = null;
  try {
    model.train(true);
    for (let s = 0; s < steps; s++) {
      optimizer.zeroGrad();
      const loss = call(model.forward(x));
      const v = loss.item();
      losses.push(v);
      if (!Number.isFinite(v) || v < target) break;
      loss.backward();
      optimizer.step();
    }
    model.eval();
    const out = model.forward(x);
    accuracy = accuracyOf(out, y);
    const final = call(out).item();
    if (losses.length && Number.isFinite(final)) losses[losses.length - 1] = Math.min(losses[losses.length - 1], final);
  } finally {
    if (snap) restoreState(model, snap);
    if (wasTraining) model.train(true);
    else model.eval();
    x.dispose();
    y.dispose();
  }
  const initialLoss = losses[0] ?? NaN;
  const finalLoss = losses[losses.length - 1] ?? NaN;
  const ok = Number.isFinite(finalLoss) && finalLoss < target;
  const acc = accuracy === null ? '' : `, ${(accuracy * 100).toFixed(0)}% of it classified right`;
  const verdict = ok
    ? `memorized ${rows} samples in ${losses.length} steps (loss ${initialLoss.toPrecision(3)} -> ${finalLoss.toPrecision(3)}${acc}): the model, loss and optimizer can learn`
    : `could not memorize ${rows} samples in ${steps} steps (loss ${initialLoss.toPrecision(3)} -> ${finalLoss.toPrecision(3)}, target < ${target}${acc}): look for a bug before training longer (labels that do not match the inputs, a frozen or dead layer, a constant init, the wrong loss for the output)`;
  return { ok, samples: rows, steps: losses.length, initialLoss, finalLoss, losses, accuracy, verdict };
}
