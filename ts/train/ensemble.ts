/**
 * Ensembles: several independently trained models whose outputs are combined.
 *
 *   const { ensemble, results } = await trainEnsemble({
 *     members: 5, seed: 1, bootstrap: false,
 *     makeModel: () => new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 3)),
 *     makeOptimizer: (m) => new optim.Adam(m.parameters(), { lr: 0.01 }),
 *     data: trainSet, val: valSet, batchSize: 32, epochs: 30,
 *     lossFn: new nn.CrossEntropyLoss(), metrics: ['accuracy'],
 *   });
 *   await evaluate(ensemble, valLoader, { lossFn: new nn.CrossEntropyLoss(), metrics: ['accuracy'] });
 *
 * `Ensemble` is an nn.Module: its members live in an nn.ModuleList named `members`, so the
 * state dict holds `members.0.weight`, `members.1.weight`, ... (as PyTorch's ModuleList) and
 * saveCheckpoint / loadWeights work unchanged.
 *
 * Combination rules (`combine`):
 * - 'probs' (default): softmax of each member's logits along `dim`, then their mean. With
 *   `logProbs: true` it returns log of that mean, computed as logsumexp(log_softmax) - log k
 *   so a confident member's 0 probability does not become -Infinity. Log-probabilities are
 *   what NLLLoss expects, and CrossEntropyLoss gives the same value on them (log_softmax of
 *   log-probabilities that sum to 1 is the identity), so evaluate()/fit() report the
 *   ensemble's true negative log-likelihood with either loss.
 * - 'mean': the mean of the raw outputs (regression; or averaging logits).
 * - 'vote': each member votes for its argmax class; the output is the fraction of votes per
 *   class [N, C] (argmax = the majority class, ties going to the lowest index). `predict()`
 *   breaks ties by the mean probability instead. Votes have no gradient.
 *
 * All rules except 'vote' are built from differentiable ops, so an Ensemble can also be
 * trained jointly with fit() (all members' parameters in one optimizer).
 */
import { Module, ModuleList } from '../nn/module.js';
import { manualSeed } from '../nn/random.js';
import { add, exp, log, sub } from '../ops/arith.js';
import { max, mean, sum } from '../ops/reduce.js';
import { softmax, logSoftmax } from '../ops/activation.js';
import { stack } from '../ops/shape.js';
import { detach, noGrad } from '../autograd/engine.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { DataLoader } from '../data/loader.js';
import { Subset, type Dataset } from '../data/dataset.js';
import { hash32, Rng } from '../data/random.js';
import type { History, Callback } from './callbacks.js';
import { fit, type BatchSource, type FitOptions, type FitResult, type LossFn } from './fit.js';
import type { Metric } from './metrics.js';
import type { OptimizerLike, SchedulerLike } from './types.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../util/options.js';
import { FIT_KEYS } from './fit_options.js';

export type EnsembleCombine = 'probs' | 'mean' | 'vote';

export interface EnsembleOptions {
  /** How member outputs are combined (default 'probs'; see the file comment). */
  combine?: EnsembleCombine;
  /** With combine 'probs': return log of the mean probability (default false). */
  logProbs?: boolean;
  /** The class dimension of the members' outputs (default 1, as PyTorch's losses). */
  dim?: number;
}

export class Ensemble extends Module {
  readonly members: ModuleList;
  combine: EnsembleCombine;
  logProbs: boolean;
  dim: number;

  constructor(members: Module[], options: EnsembleOptions = {}) {
    super();
    checkOptions('Ensemble', options, ['combine', 'logProbs', 'dim']);
    options ??= {};
    if (options.logProbs !== undefined) checkBooleanOption('Ensemble', 'logProbs', options.logProbs);
    if (options.dim !== undefined) checkNumberOption('Ensemble', 'dim', options.dim, { integer: true });
    if (!Array.isArray(members) || members.length === 0) throw new Error('Ensemble: members must be a non-empty array of modules');
    members.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`Ensemble: member ${i} is not an nn.Module (got ${m === null ? 'null' : typeof m})`);
    });
    const combine = options.combine ?? 'probs';
    if (!['probs', 'mean', 'vote'].includes(combine)) throw new Error(`Ensemble: combine must be 'probs', 'mean' or 'vote', got '${combine}'`);
    this.members = new ModuleList(members);
    this.combine = combine;
    this.logProbs = options.logProbs ?? false;
    this.dim = options.dim ?? 1;
    if (!Number.isInteger(this.dim)) throw new Error(`Ensemble: dim must be an integer, got ${this.dim}`);
  }

  get size(): number {
    return this.members.length;
  }

  /** The members as an array (member i is `members.i` in the state dict). */
  memberList(): Module[] {
    return this.members.children();
  }

  /** Every member's output for `x`, checked to share one shape. */
  memberOutputs(x: Tensor, ...rest: any[]): Tensor[] {
    const outs = this.memberList().map((m) => m.forward(x, ...rest));
    for (let i = 1; i < outs.length; i++) {
      const a = outs[0].shape;
      const b = outs[i].shape;
      if (a.length !== b.length || a.some((d, j) => d !== b[j])) {
        throw new Error(`Ensemble: member ${i} returned shape ${shapeStr(b)} but member 0 returned ${shapeStr(a)}; members must agree on the output shape`);
      }
    }
    return outs;
  }

  forward(x: Tensor, ...rest: any[]): Tensor {
    const outs = this.memberOutputs(x, ...rest);
    if (this.combine === 'mean') return outs.length === 1 ? outs[0] : mean(stack(outs, 0), 0);
    const dim = this.classDim(outs[0]);
    if (this.combine === 'vote') return voteFractions(outs, dim);
    if (!this.logProbs) return mean(stack(outs.map((o) => softmax(o, dim)), 0), 0);
    // log(mean_k p_k) = logsumexp_k(log p_k) - log k, shifted by the (constant) max for stability.
    const lp = stack(outs.map((o) => logSoftmax(o, dim)), 0);
    const m = max(detach(lp), 0, true);
    const lse = add(log(sum(exp(sub(lp, m)), 0)), m.reshapeView(m.shape.slice(1)));
    return sub(lse, Math.log(outs.length));
  }

  /**
   * Predicted classes (int32 [N]) without a graph: the argmax of the combined output; for
   * 'vote', the majority class with ties broken by the higher mean probability.
   */
  predict(x: Tensor, ...rest: any[]): Tensor {
    return noGrad(() => {
      const outs = this.memberOutputs(x, ...rest);
      const dim = this.classDim(outs[0]);
      if (outs[0].ndim !== 2 || dim !== 1) throw new Error(`Ensemble.predict: expects member outputs [N, C], got ${shapeStr(outs[0].shape)}`);
      const [n, c] = outs[0].shape;
      const votes = this.combine === 'vote' ? voteFractions(outs, dim).f32 : null;
      const score = this.combine === 'mean' ? mean(stack(outs, 0), 0).f32 : mean(stack(outs.map((o) => softmax(o, dim)), 0), 0).f32;
      const pred = Tensor.empty([n], 'int32', true);
      const p = pred.data as Int32Array;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 1; j < c; j++) {
          const a = votes ? votes[i * c + j] : 0;
          const b = votes ? votes[i * c + best] : 0;
          if (a > b || (a === b && score[i * c + j] > score[i * c + best])) best = j;
        }
        p[i] = best;
      }
      return pred;
    });
  }

  private classDim(o: Tensor): number {
    const d = this.dim < 0 ? this.dim + o.ndim : this.dim;
    if (d < 0 || d >= o.ndim) throw new Error(`Ensemble: class dim ${this.dim} is out of range for member outputs of shape ${shapeStr(o.shape)}`);
    if (o.shape[d] < 2) {
      throw new Error(`Ensemble: combine '${this.combine}' needs at least 2 classes along dim ${this.dim}, member outputs have shape ${shapeStr(o.shape)}; use combine 'mean' for single-logit or regression outputs`);
    }
    return d;
  }

  override extraRepr(): string {
    return `combine='${this.combine}'${this.combine === 'probs' && this.logProbs ? ', logProbs=true' : ''}`;
  }
}

/** Fraction of members whose argmax along `dim` is each class (a temporary without a graph). */
function voteFractions(outs: Tensor[], dim: number): Tensor {
  const shape = outs[0].shape;
  const c = shape[dim];
  let inner = 1;
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i];
  const outer = outs[0].size / (c * inner);
  const res = Tensor.empty(shape, 'float32', true);
  const r = res.f32;
  r.fill(0);
  const w = 1 / outs.length;
  for (const o of outs) {
    const v = o.f32;
    for (let a = 0; a < outer; a++) {
      for (let b = 0; b < inner; b++) {
        const base = a * c * inner + b;
        let best = 0;
        for (let j = 1; j < c; j++) if (v[base + j * inner] > v[base + best * inner]) best = j;
        r[base + best * inner] += w;
      }
    }
  }
  return res;
}

// ---------------------------------------------------------------------------------------
// Training an ensemble

export interface TrainEnsembleOptions {
  /** Number of members (k >= 1). */
  members: number;
  /** Builds member i; called right after nn.manualSeed(member seed), so inits differ. */
  makeModel: (index: number) => Module;
  makeOptimizer: (model: Module, index: number) => OptimizerLike;
  makeScheduler?: (optimizer: OptimizerLike, index: number) => SchedulerLike | null;
  /** Training samples: each member gets its own shuffled loader over them (or a bootstrap resample). */
  data: Dataset;
  /** Validation data: a Dataset (a loader is made) or batches; logged per member as val_*. */
  val?: Dataset | BatchSource | null;
  batchSize?: number;
  epochs: number;
  lossFn: LossFn;
  metrics?: (string | Metric)[];
  /** Base seed: member i uses a seed derived from (seed, i) for init, shuffling and resampling. */
  seed?: number;
  /**
   * Train each member on n samples drawn with replacement (bagging; about 63% distinct).
   * Default false: every member sees all the data, diversity comes from init and order alone.
   */
  bootstrap?: boolean;
  /** Fresh callbacks for member i (callbacks keep state, so they cannot be shared). */
  callbacks?: (index: number) => Callback[];
  /** Further fit() options (clipping, penalties, verbose, ...). */
  fitOptions?: Partial<Omit<FitOptions, 'train' | 'val' | 'optimizer' | 'scheduler' | 'lossFn' | 'epochs' | 'metrics' | 'callbacks'>>;
  /** Combination rule of the returned Ensemble. */
  ensemble?: EnsembleOptions;
  /** Called after each member is trained. */
  onMemberEnd?: (index: number, result: FitResult) => void | Promise<void>;
}

const TRAIN_ENSEMBLE_KEYS = [
  'members', 'makeModel', 'makeOptimizer', 'makeScheduler', 'data', 'val', 'batchSize', 'epochs', 'lossFn', 'metrics',
  'seed', 'bootstrap', 'callbacks', 'fitOptions', 'ensemble', 'onMemberEnd',
];
/** fit() options trainEnsemble sets itself (per member): not allowed in fitOptions. */
const FIT_OWNED: readonly string[] = ['train', 'val', 'optimizer', 'scheduler', 'lossFn', 'epochs', 'metrics', 'callbacks'];

export interface TrainEnsembleResult {
  ensemble: Ensemble;
  /** Each member's fit() result, in member order. */
  results: FitResult[];
  histories: History[];
  /** The seed each member used. */
  seeds: number[];
}

/** The seed member `index` of an ensemble with base seed `seed` uses. */
export function memberSeed(seed: number, index: number): number {
  return hash32(seed, 0xe75e, index);
}

/** `n` indices drawn uniformly with replacement from 0..n-1, seeded. */
export function bootstrapIndices(n: number, seed: number): Int32Array {
  const rng = new Rng(seed, 0xb007);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = rng.int(n);
  return idx;
}

function isDataset(v: unknown): v is Dataset {
  return !!v && typeof (v as Dataset).gather === 'function' && typeof (v as Dataset).length === 'number';
}

/**
 * Trains `members` models one after another through fit(), each with its own seed (its
 * initialisation, its loader's shuffling and, with `bootstrap`, its resample), and returns
 * them as an Ensemble. The global nn seed is left at the last member's (manualSeed is called
 * once per member).
 */
export async function trainEnsemble(options: TrainEnsembleOptions): Promise<TrainEnsembleResult> {
  if (options === undefined || options === null) throw new TypeError('trainEnsemble: options are required ({ members, makeModel, makeOptimizer, data, epochs, lossFn, ... })');
  checkOptions('trainEnsemble', options, TRAIN_ENSEMBLE_KEYS);
  if (options.bootstrap !== undefined) checkBooleanOption('trainEnsemble', 'bootstrap', options.bootstrap);
  if (options.batchSize !== undefined) checkNumberOption('trainEnsemble', 'batchSize', options.batchSize, { integer: true, min: 1 });
  if (options.seed !== undefined) checkNumberOption('trainEnsemble', 'seed', options.seed, { integer: true, min: 0 });
  if (options.fitOptions !== undefined) checkOptions('trainEnsemble: fitOptions', options.fitOptions, FIT_KEYS.filter((k) => !FIT_OWNED.includes(k)));
  if (options.ensemble !== undefined) checkOptions('trainEnsemble: ensemble', options.ensemble, ['combine', 'logProbs', 'dim']);
  const k = options.members;
  if (!Number.isInteger(k) || k < 1) throw new Error(`trainEnsemble: members must be a positive integer, got ${k}`);
  if (typeof options.makeModel !== 'function') throw new Error('trainEnsemble: makeModel must be a function (index) => Module');
  if (typeof options.makeOptimizer !== 'function') throw new Error('trainEnsemble: makeOptimizer must be a function (model, index) => optimizer');
  if (!isDataset(options.data)) throw new Error('trainEnsemble: data must be a Dataset (e.g. a TensorDataset or Subset), so each member can get its own loader');
  if (options.data.length === 0) throw new Error('trainEnsemble: data is empty');
  const batchSize = options.batchSize ?? 32;
  const seed = options.seed ?? 0;
  const val = options.val ? (isDataset(options.val) ? new DataLoader(options.val, { batchSize: Math.max(batchSize, 256) }) : options.val) : null;

  const models: Module[] = [];
  const results: FitResult[] = [];
  const seeds: number[] = [];
  for (let i = 0; i < k; i++) {
    const s = memberSeed(seed, i);
    seeds.push(s);
    manualSeed(s);
    const model = options.makeModel(i);
    if (!(model instanceof Module)) throw new Error(`trainEnsemble: makeModel(${i}) did not return an nn.Module`);
    const optimizer = options.makeOptimizer(model, i);
    const scheduler = options.makeScheduler ? options.makeScheduler(optimizer, i) : null;
    const trainData = options.bootstrap ? new Subset(options.data, bootstrapIndices(options.data.length, s)) : options.data;
    const train = new DataLoader(trainData, { batchSize, shuffle: true, seed: s });
    const result = await fit(model, {
      ...options.fitOptions,
      train,
      val,
      optimizer,
      scheduler,
      lossFn: options.lossFn,
      epochs: options.epochs,
      metrics: options.metrics,
      callbacks: options.callbacks ? options.callbacks(i) : [],
    });
    if (options.bootstrap) (trainData as Subset).indices.dispose();
    models.push(model);
    results.push(result);
    if (options.onMemberEnd) await options.onMemberEnd(i, result);
  }
  return { ensemble: new Ensemble(models, options.ensemble), results, histories: results.map((r) => r.history), seeds };
}
