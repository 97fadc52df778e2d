/**
 * Monitor ("babysitting the learning process"), a callback for fit():
 *
 * - per parameter: the gradient 2-norm and the ratio of the update's size to the weight's
 *   size (‖Δw‖/‖w‖, healthy around 1e-3), averaged over a sample of batches each epoch;
 * - per layer (every leaf module of any Module tree, seen through forward hooks while the
 *   model runs a probe batch in eval mode; other Sequential-like models are walked child by
 *   child): mean and standard deviation of the output and, after ReLUs, the fraction of
 *   dead units (zero for every sample of the probe batch);
 * - warnings when gradients vanish or explode, when updates are far too large or too small
 *   for the weights, and when many ReLUs are dead;
 * - `diagnose(history)`: high bias vs high variance from the train and validation curves,
 *   with the usual advice.
 *
 * When fit()'s diagnosis runs (the default), the verdicts are its findings, ranked to one
 * primary cause (ts/train/diagnosis): the monitor then only logs statistics and does not
 * warn per epoch and parameter on its own.
 *
 * Everything lands in the epoch logs under `grad_norm/<param>`, `update_ratio/<param>`,
 * `act_mean/<layer>`, `act_std/<layer>` and `dead_relu/<layer>`, so it is in the history,
 * the checkpoint and the HTML report. Non-finite losses are handled by fit() itself.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Callback, EpochLogs, History, TrainContext } from './callbacks.js';
import { forwardLayers, probeWithHooks, sequentialLayers } from './layers.js';
import { entriesOf, type ModuleLike } from './types.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { DIAGNOSIS_EXTRA } from './diagnosis/collector.js';
import { ProbeSampler } from './diagnosis/probe.js';

export interface MonitorOptions {
  /** Batches sampled per epoch for gradient and update statistics (default 10). */
  samplesPerEpoch?: number;
  /** Training samples in the activation probe, gathered across the first batches (default 256; 0 turns activation stats off). */
  probeSize?: number;
  /** A gradient norm below this is 'vanishing' (default 1e-7). */
  vanishing?: number;
  /** A gradient norm above this is 'exploding' (default 1e3). */
  exploding?: number;
  /** Update/weight ratios outside [low, high] are warned about (default [1e-6, 1e-1]). */
  updateRatio?: [number, number];
  /** Dead-ReLU fraction above which to warn (default 0.5). */
  deadRelu?: number;
}

interface Acc {
  sum: number;
  n: number;
}

function norm2(d: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return Math.sqrt(s);
}

export class Monitor implements Callback {
  readonly options: Required<MonitorOptions>;
  private gradAcc = new Map<string, Acc>();
  private ratioAcc = new Map<string, Acc>();
  private before: Map<string, Float32Array> | null = null;
  private probe: ProbeSampler | null = null;
  private every = 1;
  private params: [string, Tensor][] = [];

  constructor(options: MonitorOptions = {}) {
    checkOptions('Monitor', options, ['samplesPerEpoch', 'probeSize', 'vanishing', 'exploding', 'updateRatio', 'deadRelu']);
    options ??= {};
    if (options.samplesPerEpoch !== undefined) checkNumberOption('Monitor', 'samplesPerEpoch', options.samplesPerEpoch, { integer: true, min: 1 });
    if (options.probeSize !== undefined) checkNumberOption('Monitor', 'probeSize', options.probeSize, { integer: true, min: 0 });
    for (const k of ['vanishing', 'exploding'] as const) if (options[k] !== undefined) checkNumberOption('Monitor', k, options[k], { min: 0 });
    if (options.deadRelu !== undefined) checkNumberOption('Monitor', 'deadRelu', options.deadRelu, { min: 0, max: 1 });
    this.options = {
      samplesPerEpoch: options.samplesPerEpoch ?? 10,
      probeSize: options.probeSize ?? 256,
      vanishing: options.vanishing ?? 1e-7,
      exploding: options.exploding ?? 1e3,
      updateRatio: options.updateRatio ?? [1e-6, 1e-1],
      deadRelu: options.deadRelu ?? 0.5,
    };
  }

  onTrainBegin(ctx: TrainContext): void {
    this.probe = this.options.probeSize > 0 ? new ProbeSampler(this.options.probeSize) : null;
    this.params = entriesOf(ctx.model.namedParameters() as any).filter(([, p]) => p.requiresGrad);
  }

  onEpochBegin(ctx: TrainContext): void {
    this.gradAcc.clear();
    this.ratioAcc.clear();
    const n = ctx.batchesPerEpoch;
    this.every = n ? Math.max(1, Math.floor(n / this.options.samplesPerEpoch)) : 10;
  }

  private sampled(ctx: TrainContext): boolean {
    return ctx.batch % this.every === 0;
  }

  onBatchBegin(ctx: TrainContext): void {
    // The probe: the first probeSize training samples, across as many batches as it takes.
    if (this.probe && !this.probe.full && ctx.input) this.probe.add(ctx.input);
  }

  onAfterBackward(ctx: TrainContext): void {
    if (!this.sampled(ctx)) return;
    this.before = new Map();
    for (const [name, p] of this.params) {
      if (p.grad && !p.grad.isFreed) add(this.gradAcc, name, norm2(p.grad.f32));
      this.before.set(name, p.f32.slice());
    }
  }

  onBatchEnd(ctx: TrainContext): void {
    if (!this.before) return;
    for (const [name, p] of this.params) {
      const w0 = this.before.get(name);
      if (!w0) continue;
      const w = p.f32;
      let d = 0;
      for (let i = 0; i < w.length; i++) d += (w[i] - w0[i]) ** 2;
      const wn = norm2(w0);
      if (wn > 0) add(this.ratioAcc, name, Math.sqrt(d) / wn);
    }
    this.before = null;
  }

  onEpochEnd(ctx: TrainContext): void {
    const logs = ctx.logs;
    const o = this.options;
    for (const [name, a] of this.gradAcc) logs[`grad_norm/${name}`] = a.sum / a.n;
    for (const [name, a] of this.ratioAcc) logs[`update_ratio/${name}`] = a.sum / a.n;
    const ep = `epoch ${ctx.epoch + 1}`;
    // The diagnosis judges these statistics in context (relative to other layers, the run's fit).
    const verdicts = !(DIAGNOSIS_EXTRA in ctx.extras);
    for (const [name, a] of verdicts ? this.gradAcc : []) {
      const g = a.sum / a.n;
      if (g < o.vanishing) ctx.warn(`${ep}: gradient of '${name}' is vanishing (‖g‖ = ${g.toExponential(2)}): check the initialization (He for ReLU), use BatchNorm or residual connections, or a non-saturating activation`);
      if (g > o.exploding) ctx.warn(`${ep}: gradient of '${name}' is exploding (‖g‖ = ${g.toExponential(2)}): lower the learning rate, clip gradients (clipGradNorm), or normalize the inputs`);
    }
    for (const [name, a] of verdicts ? this.ratioAcc : []) {
      // The rule of thumb is about weights: biases and norm scales start near zero.
      if ((this.params.find((p) => p[0] === name)?.[1].shape.length ?? 0) < 2) continue;
      const r = a.sum / a.n;
      if (r > o.updateRatio[1]) ctx.warn(`${ep}: updates to '${name}' are ${r.toExponential(1)} of its size (rule of thumb ~1e-3): the learning rate is probably too high`);
      else if (r < o.updateRatio[0] && r > 0) ctx.warn(`${ep}: updates to '${name}' are only ${r.toExponential(1)} of its size (rule of thumb ~1e-3): the learning rate is probably too low`);
    }
    if (this.probe) this.activationStats(ctx, logs);
  }

  private activationStats(ctx: TrainContext, logs: EpochLogs): void {
    const x = this.probe?.tensor();
    if (!x) return;
    const wasTraining = ctx.model.training ?? true;
    ctx.model.eval();
    try {
      const visit = (name: string, kind: string, out: unknown) => this.layerStats(ctx, logs, name, kind, out);
      if (!probeWithHooks(ctx.model, x, visit)) {
        const layers = sequentialLayers(ctx.model);
        if (layers) forwardLayers(layers, x, (l, out) => visit(l.name, l.kind, out));
      }
    } catch (e) {
      ctx.warn(`monitor: activation statistics unavailable (${(e as Error).message})`);
      this.probe = null;
    } finally {
      if (wasTraining) ctx.model.train(true);
      x.dispose();
    }
  }

  /** Mean, std and (after ReLUs) the dead fraction of one layer's output on the probe batch. */
  private layerStats(ctx: TrainContext, logs: EpochLogs, name: string, kind: string, out: unknown): void {
    if (!(out instanceof Tensor) || out.dtype !== 'float32' || out.size === 0) return;
    const d = out.f32;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < d.length; i++) {
      s += d[i];
      s2 += d[i] * d[i];
    }
    const mean = s / d.length;
    logs[`act_mean/${name}`] = mean;
    logs[`act_std/${name}`] = Math.sqrt(Math.max(0, s2 / d.length - mean * mean));
    if (!/^ReLU$/i.test(kind) || out.ndim === 0) return;
    const rows = out.shape[0];
    const units = d.length / rows;
    let dead = 0;
    for (let u = 0; u < units; u++) {
      let alive = false;
      for (let r = 0; r < rows && !alive; r++) if (d[r * units + u] > 0) alive = true;
      if (!alive) dead++;
    }
    const frac = dead / units;
    logs[`dead_relu/${name}`] = frac;
    if (frac > this.options.deadRelu && !(DIAGNOSIS_EXTRA in ctx.extras)) {
      ctx.warn(`epoch ${ctx.epoch + 1}: ${(frac * 100).toFixed(0)}% of the units after ReLU layer '${name}' are dead (never positive on the probe batch): lower the learning rate, use He initialization, or LeakyReLU`);
    }
  }
}

function add(m: Map<string, Acc>, k: string, v: number): void {
  const a = m.get(k);
  if (a) {
    a.sum += v;
    a.n++;
  } else m.set(k, { sum: v, n: 1 });
}

export interface DiagnoseOptions {
  /** The training error you would be happy with (1 - accuracy; default 0.05). */
  desiredError?: number;
  /** Validation minus training error that counts as a large gap (default 0.02). */
  gap?: number;
  /** Accuracy key (default 'accuracy'). */
  metric?: string;
  /** What the val_* split is (default 'validation'; say 'test' when it is the test set). */
  heldOutName?: string;
}

export interface Diagnosis {
  highBias: boolean;
  highVariance: boolean;
  /** Lines of findings and advice. */
  lines: string[];
}

/**
 * High bias (underfitting) vs high variance (overfitting) from the curves, with the usual
 * advice: bias -> a bigger model, train longer, a better optimizer or less regularization;
 * variance -> more data (augmentation), regularization (weight decay, dropout), early stopping.
 */
export function diagnose(history: History, options: DiagnoseOptions = {}): Diagnosis {
  checkOptions('diagnose', options, ['desiredError', 'gap', 'metric']);
  options ??= {};
  const lines: string[] = [];
  const last = history.last;
  if (!last) return { highBias: false, highVariance: false, lines: ['no epochs completed: nothing to diagnose'] };
  const metric = options.metric ?? 'accuracy';
  const desired = options.desiredError ?? 0.05;
  const gapMax = options.gap ?? 0.02;
  const held = options.heldOutName ?? 'validation';
  let highBias = false;
  let highVariance = false;
  const trainLoss = history.series('loss');
  const valLoss = history.series('val_loss');
  const hasVal = valLoss.some(Number.isFinite);
  if (metric in last) {
    const trainErr = 1 - last[metric];
    const valErr = `val_${metric}` in last ? 1 - last[`val_${metric}`] : NaN;
    const target = options.desiredError === undefined ? 'the default target; pass desiredError' : 'the error you said you would accept (desiredError)';
    lines.push(`training error ${(trainErr * 100).toFixed(2)}% (running mean over the last epoch)${Number.isFinite(valErr) ? `, ${held} error ${(valErr * 100).toFixed(2)}%` : ''} (desired: ≤ ${(desired * 100).toFixed(1)}%, ${target})`);
    if (trainErr > desired) highBias = true;
    if (Number.isFinite(valErr) && valErr - trainErr > Math.max(gapMax, 0.5 * trainErr)) highVariance = true;
  } else if (hasVal) {
    const tl = last.loss;
    const vl = last.val_loss;
    lines.push(`training loss ${tl.toFixed(4)}, ${held} loss ${vl.toFixed(4)}`);
    if (vl > 1.2 * tl + 1e-3) highVariance = true;
  }
  // Validation loss rising from its minimum for 2+ epochs while training loss falls: overfitting.
  if (hasVal && valLoss.length >= 3) {
    let best = 0;
    valLoss.forEach((v, i) => (v < valLoss[best] ? (best = i) : 0));
    const n = valLoss.length;
    // A rise of more than 5% above the minimum, kept for 2+ epochs, counts (not noise).
    if (best <= n - 3 && valLoss[n - 1] > valLoss[best] * 1.05 && trainLoss[n - 1] < trainLoss[best]) {
      highVariance = true;
      lines.push(`${held} loss was lowest at epoch ${best + 1} and has risen since, while the training loss kept falling`);
    }
  }
  // Training loss still falling fast at the end: more epochs would help.
  if (trainLoss.length >= 2) {
    const n = trainLoss.length;
    const drop = (trainLoss[n - 2] - trainLoss[n - 1]) / Math.max(1e-12, Math.abs(trainLoss[n - 2]));
    if (drop > 0.05) lines.push(`training loss still fell ${(drop * 100).toFixed(0)}% in the last epoch: training longer may help`);
  }
  if (highBias) lines.push('high bias (underfitting): try a bigger model (more units/layers), train longer, a better optimizer or learning-rate schedule, or less regularization');
  if (highVariance) lines.push('high variance (overfitting): try more data or data augmentation, regularization (weight decay/L2, dropout), a smaller model, or early stopping');
  if (!highBias && !highVariance) lines.push('no sign of high bias or high variance: the model fits the training data and generalizes about as well');
  return { highBias, highVariance, lines };
}
