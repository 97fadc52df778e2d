/**
 * fit(): the training loop.
 *
 *   const result = await fit(model, {
 *     train: trainLoader, val: valLoader,          // DataLoaders (or any iterable of [x, y])
 *     optimizer, lossFn: new nn.CrossEntropyLoss(),
 *     epochs: 10,
 *     scheduler, schedulerInterval: 'epoch',       // 'batch' for OneCycleLR / CyclicLR (auto)
 *     clipGradNorm: 1.0, l2: 1e-4,
 *     metrics: ['accuracy', 'top5'],
 *     callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })],
 *   });
 *   result.history.series('val_accuracy');
 *
 * One batch: zeroGrad -> forward -> loss -> (non-finite check) -> backward -> L1/L2
 * gradients -> onAfterBackward -> clip -> optimizer.step() -> per-batch scheduler.
 * One epoch: the batches, then validation (model.eval(), no graph), then the per-epoch
 * scheduler (ReduceLROnPlateau gets the monitored metric), then onEpochEnd.
 *
 * A non-finite loss or gradient stops training: the model, optimizer and scheduler go back
 * to the last good state (taken at the start and after every finite epoch) and the result
 * says which layer first went non-finite.
 */
import { clipGradNorm_, clipGradValue_, gradNorm } from '../optim/clip.js';
import { l1Penalty, l2Penalty } from '../optim/penalty.js';
import { tidy } from '../tensor/lifetime.js';
import { Tensor } from '../tensor/tensor.js';
import { checkYieldEvery, makeYielder, type YieldEvery } from './yield.js';
import { orderCallbacks, runHook, History, type Callback, type EpochLogs, type TrainContext } from './callbacks.js';
import { applyCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { allFinite, forwardLayers, probeWithHooks, sequentialLayers } from './layers.js';
import { MeanValue, resolveMetrics, type Metric } from './metrics.js';
import { parseSafetensors } from './safetensors.js';
import { firstNonFinite } from './state.js';
import { heldEpoch, type HeldEpoch } from './best_epoch.js';
import { entriesOf, type ModuleLike, type OptimizerLike, type SchedulerLike } from './types.js';
import { noGrad } from '../autograd/engine.js';
import { checkFitOptions } from './fit_options.js';
import { checkOptions } from '../util/options.js';
import { startDiagnosis, type BatchLog, type DiagnosisOptions } from './diagnosis/fit_diagnosis.js';
import type { Finding } from './diagnosis/finding.js';

/** A batch: [inputs, targets] (extra fields are ignored). */
export type Batch = readonly Tensor[];
export type BatchSource = Iterable<Batch> | AsyncIterable<Batch>;

/** A loss: a function or a module (e.g. nn.CrossEntropyLoss) mapping (output, target) to a scalar tensor. */
export type LossFn = ((output: Tensor, target: Tensor) => Tensor) | { forward(output: Tensor, target: Tensor): Tensor };

export interface FitOptions {
  /** Training batches, one epoch per pass (a DataLoader, or any (async) iterable of [x, y]). */
  train: BatchSource;
  /** Validation batches, evaluated after every epoch (metrics logged as val_*). */
  val?: BatchSource | null;
  optimizer: OptimizerLike;
  lossFn: LossFn;
  /** Epoch index to stop at (exclusive). */
  epochs: number;
  /** Epoch index to start at (a resumed run: the checkpoint's epoch). Default 0. */
  initialEpoch?: number;
  /** Optimizer steps already taken (a resumed run). */
  initialStep?: number;
  /** History to extend (a resumed run). */
  history?: History;
  scheduler?: SchedulerLike | null;
  /** When to step the scheduler; default: 'batch' for OneCycleLR/CyclicLR, 'epoch' otherwise. */
  schedulerInterval?: 'batch' | 'epoch';
  /** Metric passed to ReduceLROnPlateau.step (default 'val_loss', or 'loss' without validation). */
  schedulerMonitor?: string;
  /** Clip the total gradient norm to this (2-norm), or { maxNorm, normType }. */
  clipGradNorm?: number | { maxNorm: number; normType?: number };
  /** Clip every gradient element to [-v, v]. */
  clipGradValue?: number;
  /**
   * L1/L2 penalties: adds l1*sum|w| and l2*sum(w^2) to the loss (and l1*sign(w), 2*l2*w to the
   * gradients) for weights (parameters with 2+ dimensions; biases and norm scales are left
   * alone unless `penalizeAll`). A param group's own `l1` / `l2` overrides these for its parameters.
   */
  l1?: number;
  l2?: number;
  penalizeAll?: boolean;
  /** Metrics: 'accuracy', 'top5' (any k), 'mae', or Metric objects. The loss is always logged. */
  metrics?: (string | Metric)[];
  callbacks?: Callback[];
  /**
   * How often to let the event loop run (messages to a Worker, a page's frames): 'auto'
   * (default: every 50 ms), 'batch', 'epoch', 'never', or a number of milliseconds. See yield.ts.
   */
  yieldEvery?: YieldEvery;
  /** Check each loss and the gradients for NaN/Inf (default true). */
  checkFinite?: boolean;
  /** Called with each warning (default: console.warn when `verbose`). */
  onWarning?: (message: string) => void;
  /** Print one line per epoch (default false). */
  verbose?: boolean;
  /** The run's diagnosis (findings, primary cause; on by default): options, or false to skip it. */
  diagnosis?: DiagnosisOptions | boolean;
}

export interface NonFiniteReport {
  epoch: number;
  batch: number;
  globalStep: number;
  /** 'loss' or 'gradient'. */
  what: 'loss' | 'gradient';
  value: number;
  /** Where it first went non-finite, in words: a parameter, a layer's output, the input, the loss. */
  where: string;
  /** The layer or parameter name, when known. */
  layer: string | null;
  /** The epoch whose end state was restored (-1: the state before training). */
  restoredEpoch: number;
}

export interface FitResult {
  history: History;
  /** Epoch index reached (exclusive): pass as `initialEpoch` to continue. */
  epoch: number;
  globalStep: number;
  stopReason: string | null;
  warnings: string[];
  nonFinite: NonFiniteReport | null;
  /** Wall time in seconds. */
  seconds: number;
  /**
   * The epoch whose weights the model holds now, and its logs: the best epoch when
   * EarlyStopping({ restoreBestWeights }) restored it, else the last good one (null: none).
   * Report these, not `history.last`, after a restore.
   */
  best: HeldEpoch | null;
  /** What the diagnosis found (plain JSON), primary cause first; [] when `diagnosis: false`. */
  findings: Finding[];
  /** The one finding the diagnosis names as the cause of a failing run, or null. */
  primaryCause: Finding | null;
  /** Loss and learning rate of every batch (empty when `diagnosis: false`). */
  batches: BatchLog;
}

function callLoss(lossFn: LossFn, out: Tensor, y: Tensor): Tensor {
  return typeof lossFn === 'function' ? lossFn(out, y) : lossFn.forward(out, y);
}

function schedulerName(s: SchedulerLike | null | undefined): string {
  return (s as any)?.constructor?.name ?? '';
}

export function isPlateauScheduler(s: SchedulerLike | null | undefined): boolean {
  return /ReduceLROnPlateau/.test(schedulerName(s));
}

/** 'batch' for schedulers meant to step per batch (OneCycleLR, CyclicLR), else 'epoch'. */
export function defaultSchedulerInterval(s: SchedulerLike | null | undefined): 'batch' | 'epoch' {
  return /OneCycleLR|CyclicLR/.test(schedulerName(s)) ? 'batch' : 'epoch';
}

async function* batches(src: BatchSource): AsyncGenerator<Batch> {
  if (Symbol.asyncIterator in Object(src)) {
    for await (const b of src as AsyncIterable<Batch>) yield b;
  } else {
    for (const b of src as Iterable<Batch>) yield b;
  }
}

function lengthOf(src: BatchSource): number | null {
  const s = src as any;
  if (typeof s.length === 'number') return s.length;
  if (typeof s.size === 'number') return s.size;
  if (typeof s.numBatches === 'number') return s.numBatches;
  if (typeof s.numBatches === 'function') return s.numBatches();
  return null;
}

function paramsOf(optimizer: OptimizerLike): Tensor[] {
  return optimizer.paramGroups.flatMap((g) => g.params);
}

/**
 * Adds the L1/L2 penalty gradients (optim's wasm kernels) and returns the penalty value
 * (added to the logged loss). Weights only (2+ dimensions) unless `all`; a group's own
 * `l1` / `l2` overrides the defaults; parameters without a gradient are left alone.
 */
function applyPenalties(optimizer: OptimizerLike, l1: number, l2: number, all: boolean): number {
  let penalty = 0;
  for (const g of optimizer.paramGroups) {
    const a = typeof g.l1 === 'number' ? g.l1 : l1;
    const b = typeof g.l2 === 'number' ? g.l2 : l2;
    if (a === 0 && b === 0) continue;
    const params = g.params.filter((p) => (all || p.shape.length >= 2) && p.grad !== null && !p.grad.isFreed);
    penalty += l1Penalty(params, a) + l2Penalty(params, b);
  }
  return penalty;
}

/**
 * Evaluates a model on batches: mean loss (weighted by batch size) and metrics, in eval mode
 * without a graph; the model's train/eval mode is put back afterwards.
 */
export async function evaluate(
  model: ModuleLike,
  data: BatchSource,
  options: { lossFn?: LossFn; metrics?: (string | Metric)[]; prefix?: string } = {},
): Promise<EpochLogs> {
  checkOptions('evaluate', options, ['lossFn', 'metrics', 'prefix']);
  const metrics = resolveMetrics(options.metrics);
  const prefix = options.prefix ?? '';
  const lossMean = new MeanValue();
  const wasTraining = model.training ?? true;
  model.eval();
  try {
    for await (const [x, y] of batches(data)) {
      // tidy: this batch's results are freed right away (the loader's own tensors are not touched).
      tidy(() =>
        noGrad(() => {
          const out = model.forward(x);
          if (options.lossFn) lossMean.add(callLoss(options.lossFn, out, y).item(), x.shape[0]);
          for (const m of metrics) m.update(out, y);
        }),
      );
    }
  } finally {
    if (wasTraining) model.train(true);
  }
  const logs: EpochLogs = {};
  if (options.lossFn) logs[`${prefix}loss`] = lossMean.compute();
  for (const m of metrics) logs[`${prefix}${m.name}`] = m.compute();
  return logs;
}

/** Finds where a non-finite value first appeared, in words (see NonFiniteReport.where). */
export function locateNonFinite(model: ModuleLike, x: Tensor | null, what: 'loss' | 'gradient', names?: Map<Tensor, string>): { where: string; layer: string | null } {
  // Parameters first (a bad update), then the input, then layer outputs, then buffers (a
  // buffer such as a running mean is usually contaminated by a layer's output, not the cause).
  for (const [name, p] of entriesOf(model.namedParameters() as any)) {
    const d = p.f32;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return { where: `parameter '${name}' holds ${d[i]} (at flat index ${i})`, layer: name };
  }
  if (x && !allFinite(x)) return { where: 'the input batch contains NaN/Inf', layer: null };
  if (what === 'gradient' && names) {
    // Gradients flow from the last layer back: the first non-finite one in backward order.
    const params = [...names.entries()].reverse();
    for (const [p, n] of params) if (p.grad && !p.grad.isFreed && !allFinite(p.grad)) return { where: `the gradient of '${n}' (the last layer in backward order to go non-finite first)`, layer: n };
  }
  if (x) {
    // The first layer in forward order whose output is non-finite: through forward hooks on
    // any Module tree, else by running a Sequential's layers one by one.
    let found: { where: string; layer: string | null } | null = null;
    const wasTraining = model.training ?? true;
    const hit = (name: string, kind: string) => (found ??= { where: `the output of layer '${name}' (${kind}) is the first to go non-finite`, layer: name });
    try {
      const hooked = probeWithHooks(model, x, (name, kind, out) => {
        if (out instanceof Tensor && !allFinite(out)) hit(name, kind);
      });
      const layers = hooked ? null : sequentialLayers(model);
      if (layers) {
        forwardLayers(layers, x, (l, out) => {
          if (allFinite(out)) return true;
          hit(l.name, l.kind);
          return false;
        });
      }
    } catch {
      /* a model that cannot run this batch again, or a layer that cannot run alone: fall through */
    } finally {
      if (wasTraining) model.train(true);
    }
    if (found) return found;
  }
  const bad = firstNonFinite(model);
  if (bad) return { where: `buffer '${bad.name}' holds ${bad.value} (at flat index ${bad.index})`, layer: bad.name };
  return { where: what === 'loss' ? 'the loss function (its inputs were finite: e.g. log of 0, or a target out of range)' : 'a gradient (parameters and forward outputs are finite)', layer: null };
}

export async function fit(model: ModuleLike, options: FitOptions): Promise<FitResult> {
  const t0 = performance.now();
  checkFitOptions(options, model);
  const { optimizer, lossFn } = options;
  if (!optimizer) throw new Error('fit: an optimizer is required');
  if (!lossFn) throw new Error('fit: a lossFn is required');
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw new Error(`fit: epochs must be a non-negative integer, got ${options.epochs}`);
  const scheduler = options.scheduler ?? null;
  const interval = options.schedulerInterval ?? defaultSchedulerInterval(scheduler);
  const plateau = isPlateauScheduler(scheduler);
  const diagnosis = startDiagnosis(options.diagnosis);
  const callbacks = orderCallbacks([...(diagnosis ? [diagnosis.callback] : []), ...(options.callbacks ?? [])]);
  const metrics = resolveMetrics(options.metrics);
  const checkFinite = options.checkFinite ?? true;
  const yieldNow = makeYielder(checkYieldEvery('fit', options.yieldEvery ?? 'auto'));
  const l1 = options.l1 ?? 0;
  const l2 = options.l2 ?? 0;
  const penalize = l1 !== 0 || l2 !== 0 || optimizer.paramGroups.some((g) => typeof g.l1 === 'number' || typeof g.l2 === 'number');
  const clipNorm = options.clipGradNorm === undefined ? null : typeof options.clipGradNorm === 'number' ? { maxNorm: options.clipGradNorm, normType: 2 } : { normType: 2, ...options.clipGradNorm };
  const history = options.history ?? new History();
  const warnings: string[] = [];
  const warned = new Set<string>();
  const onWarning = options.onWarning ?? ((m: string) => (options.verbose ? console.warn(`warning: ${m}`) : undefined));
  const paramNames = new Map<Tensor, string>();
  for (const [n, p] of entriesOf(model.namedParameters() as any)) paramNames.set(p, n);

  const ctx: TrainContext = {
    model,
    optimizer,
    scheduler,
    epoch: options.initialEpoch ?? 0,
    epochs: options.epochs,
    batch: 0,
    batchesPerEpoch: lengthOf(options.train),
    globalStep: options.initialStep ?? 0,
    input: null,
    target: null,
    output: null,
    loss: NaN,
    batchSize: 0,
    logs: {},
    history,
    stopTraining: false,
    stopReason: null,
    stop(reason: string) {
      this.stopTraining = true;
      if (this.stopReason === null) this.stopReason = reason;
    },
    warnings,
    warn(message: string) {
      if (warned.has(message)) return;
      warned.add(message);
      warnings.push(message);
      onWarning(message);
    },
    extras: {},
  };

  // The last good state, as checkpoint bytes in memory (model + optimizer + scheduler).
  let goodState = encodeCheckpoint({ model, optimizer, scheduler });
  let goodEpoch = ctx.epoch - 1;
  let nonFinite: NonFiniteReport | null = null;

  const rollBack = (what: 'loss' | 'gradient', value: number, x: Tensor | null) => {
    const loc = locateNonFinite(model, x, what, paramNames);
    applyCheckpoint(parseSafetensors(goodState), { model, optimizer, scheduler }, 'last good state');
    for (const p of paramsOf(optimizer)) if (p.grad && !p.grad.isFreed) p.grad.f32.fill(0);
    nonFinite = { epoch: ctx.epoch, batch: ctx.batch, globalStep: ctx.globalStep, what, value, where: loc.where, layer: loc.layer, restoredEpoch: goodEpoch };
    const restored = goodEpoch < 0 ? 'the state before training' : `the state after epoch ${goodEpoch + 1}`;
    ctx.warn(`non-finite ${what} (${value}) at epoch ${ctx.epoch + 1}, batch ${ctx.batch + 1}: ${loc.where}. Restored ${restored} and stopped. Try a lower learning rate, gradient clipping, or check the data.`);
    ctx.stop(`non-finite ${what} at epoch ${ctx.epoch + 1}, batch ${ctx.batch + 1}`);
  };

  model.train(true);
  await runHook(callbacks, 'onTrainBegin', ctx);
  let completed = ctx.epoch; // epochs completed (the next epoch index to run)
  while (ctx.epoch < options.epochs && !ctx.stopTraining) {
    model.train(true);
    for (const m of metrics) m.reset();
    const lossMean = new MeanValue();
    const lr = optimizer.paramGroups[0]?.lr ?? NaN;
    ctx.logs = {};
    ctx.batch = 0;
    // Loaders that shuffle by epoch number (as DistributedSampler.set_epoch) learn it here, so
    // a resumed run draws the same order as an uninterrupted one.
    const src = options.train as { setEpoch?: (e: number) => void };
    if (typeof src.setEpoch === 'function') src.setEpoch(ctx.epoch);
    await runHook(callbacks, 'onEpochBegin', ctx);
    for await (const [x, y] of batches(options.train)) {
      if (ctx.stopTraining) break;
      ctx.input = x;
      ctx.target = y;
      ctx.batchSize = x.shape[0];
      await runHook(callbacks, 'onBatchBegin', ctx);
      optimizer.zeroGrad();
      const out = model.forward(x);
      const loss = callLoss(lossFn, out, y);
      let lossValue = loss.item();
      ctx.output = out;
      if (checkFinite && !Number.isFinite(lossValue)) {
        rollBack('loss', lossValue, x);
        break;
      }
      loss.backward();
      if (penalize) lossValue += applyPenalties(optimizer, l1, l2, options.penalizeAll ?? false);
      ctx.loss = lossValue;
      await runHook(callbacks, 'onAfterBackward', ctx);
      const params = paramsOf(optimizer);
      if (checkFinite) {
        const n = gradNorm(params);
        if (!Number.isFinite(n)) {
          rollBack('gradient', n, x);
          break;
        }
      }
      if (clipNorm) clipGradNorm_(params, clipNorm.maxNorm, clipNorm.normType ?? 2);
      if (options.clipGradValue !== undefined) clipGradValue_(params, options.clipGradValue);
      // Metrics read this batch's output before the update, as the loss is.
      lossMean.add(lossValue, ctx.batchSize);
      for (const m of metrics) m.update(out, y);
      optimizer.step();
      ctx.globalStep++;
      if (scheduler && interval === 'batch' && !plateau) scheduler.step();
      await runHook(callbacks, 'onBatchEnd', ctx);
      ctx.batch++;
      const turn = yieldNow('batch');
      if (turn) await turn;
    }
    ctx.input = ctx.target = ctx.output = null;
    if (nonFinite) break;
    const logs: EpochLogs = { epoch: ctx.epoch, loss: lossMean.compute() };
    for (const m of metrics) logs[m.name] = m.compute();
    if (options.val) Object.assign(logs, await evaluate(model, options.val, { lossFn, metrics: metrics.map(cloneMetric), prefix: 'val_' }));
    logs.lr = lr;
    if (optimizer.paramGroups.length > 1) optimizer.paramGroups.forEach((g, i) => (logs[`lr/${i}`] = g.lr));
    ctx.logs = logs;
    if (scheduler) {
      if (plateau) {
        const key = options.schedulerMonitor ?? (options.val ? 'val_loss' : 'loss');
        if (!(key in logs)) throw new Error(`fit: ReduceLROnPlateau monitors '${key}', which is not in the epoch logs (${Object.keys(logs).join(', ')})`);
        scheduler.step(logs[key]);
      } else if (interval === 'epoch') scheduler.step();
    }
    history.push(logs);
    await runHook(callbacks, 'onEpochEnd', ctx);
    if (options.verbose) console.log(formatEpoch(ctx.logs, options.epochs));
    if (checkFinite && Number.isFinite(logs.loss) && firstNonFinite(model) === null) {
      goodState = encodeCheckpoint({ model, optimizer, scheduler });
      goodEpoch = ctx.epoch;
    }
    completed = ctx.epoch + 1;
    await yieldNow('epoch');
    if (ctx.stopTraining || completed >= options.epochs) break;
    ctx.epoch++;
  }
  // onTrainEnd sees the last epoch that ran (or the one that failed).
  const reached = nonFinite ? (nonFinite as NonFiniteReport).restoredEpoch + 1 : completed;
  const dx = diagnosis?.finish({ model, train: options.train, lossFn, history, nonFinite });
  for (const line of dx?.lines ?? []) ctx.warn(line);
  await runHook(callbacks, 'onTrainEnd', ctx);
  return {
    history,
    epoch: reached,
    globalStep: ctx.globalStep,
    stopReason: ctx.stopReason,
    warnings,
    nonFinite,
    seconds: (performance.now() - t0) / 1000,
    best: heldEpoch(history, ctx.extras.restoredEpoch, reached - 1, nonFinite ? ctx.epoch : completed - 1),
    findings: dx?.findings ?? [],
    primaryCause: dx?.primaryCause ?? null,
    batches: dx?.batches ?? { loss: [], lr: [], epoch: [] },
  };
}

/** A fresh metric of the same kind, for validation (so train and val accumulate separately). */
function cloneMetric(m: Metric): Metric {
  const c = Object.create(Object.getPrototypeOf(m));
  Object.assign(c, m);
  c.reset();
  return c;
}

export function formatEpoch(logs: EpochLogs, epochs?: number): string {
  const parts = [`epoch ${logs.epoch + 1}${epochs ? `/${epochs}` : ''}`];
  for (const [k, v] of Object.entries(logs)) {
    if (k === 'epoch' || k.includes('/')) continue;
    parts.push(`${k} ${k.includes('lr') ? v.toExponential(2) : /acc/.test(k) ? (v * 100).toFixed(2) + '%' : v.toFixed(4)}`);
  }
  return parts.join('  ');
}
