/**
 * The diagnosis collector: a callback fit() runs by default. It records what the rules need
 * and nothing they do not, cheaply enough to stay on:
 *
 * - every batch: the loss, the learning rate (so a 1-epoch run has curves) and, for the first
 *   steps, the total gradient norm (a divergence often ends within the first epoch);
 * - up to `samplesPerEpoch` batches an epoch: per parameter ‖g‖ and ‖g‖/‖w‖ (float64 sums
 *   in wasm), and the update ratio ‖Δw‖/‖w‖ of the step;
 * - the probe (the first 256 training samples, across batches): input statistics per feature
 *   once, and every epoch, in eval mode through forward hooks, the dead fraction of each
 *   ReLU's units and the saturated fraction of each sigmoid/tanh;
 * - at the end: identical units per weight matrix (symmetry).
 */
import { wasm } from '../../runtime/wasm.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Callback, TrainContext } from '../callbacks.js';
import { forwardLayers, probeWithHooks, sequentialLayers } from '../layers.js';
import { entriesOf } from '../types.js';
import { checkNumberOption, checkOptions } from '../../util/options.js';
import { moduleKinds, paramLabel } from './names.js';
import { ProbeSampler, PROBE_SIZE } from './probe.js';
import type { CleanError, LayerProbe, ParamFlow, RunStats } from './run_stats.js';
import { distinctRows, inputStats, unitStats } from './stats.js';

/** The key under which the collector announces itself in ctx.extras (the Monitor then leaves verdicts to it). */
export const DIAGNOSIS_EXTRA = 'tread.diagnosis';

export interface CollectorOptions {
  samplesPerEpoch?: number;
  probeSize?: number;
}

interface Acc {
  grad: number;
  rel: number;
  update: number;
  nGrad: number;
  nUpdate: number;
}

/** The total gradient norm is taken at every one of the first steps, where divergence usually starts. */
const EARLY_STEPS = 50;

/** Σx² of a float32 tensor in wasm (SIMD, float64 accumulation: see optim/reduce.rs sum_sq). */
function sumSq(t: Tensor): number {
  return wasm().tread_optim_sum_pow(t.ptr, t.size, 2);
}

export class DiagnosisCollector implements Callback {
  private readonly samplesPerEpoch: number;
  private readonly probe: ProbeSampler;
  private readonly targets: number[] = [];
  private params: [string, Tensor][] = [];
  private kinds = new Map<string, string>();
  private acc = new Map<string, Acc>();
  private before: Map<string, Float32Array> | null = null;
  private every = 1;
  private readonly flows = new Map<string, ParamFlow>();
  private readonly layers = new Map<string, LayerProbe>();
  readonly stats: RunStats;

  constructor(options: CollectorOptions = {}) {
    checkOptions('DiagnosisCollector', options, ['samplesPerEpoch', 'probeSize']);
    options ??= {};
    this.samplesPerEpoch = options.samplesPerEpoch === undefined ? 8 : checkNumberOption('DiagnosisCollector', 'samplesPerEpoch', options.samplesPerEpoch, { min: 1, integer: true });
    this.probe = new ProbeSampler(options.probeSize === undefined ? PROBE_SIZE : checkNumberOption('DiagnosisCollector', 'probeSize', options.probeSize, { min: 1, integer: true }));
    this.stats = {
      firstEpoch: 0,
      epochsRun: 0,
      classes: null,
      initLoss: null,
      batchLoss: [],
      batchLr: [],
      batchEpoch: [],
      gradNormSteps: [],
      gradNorms: [],
      input: null,
      labelsOutOfRange: 0,
      distinctLabels: null,
      params: [],
      layers: [],
      symmetry: [],
      biasMedian: {},
      cleanTrain: null,
      heldOutName: 'validation',
      heldOutLoss: [],
      heldOutError: [],
      trainLoss: [],
      nonFinite: null,
    };
  }

  onTrainBegin(ctx: TrainContext): void {
    ctx.extras[DIAGNOSIS_EXTRA] = this;
    this.stats.firstEpoch = ctx.epoch;
    this.kinds = moduleKinds(ctx.model);
    this.params = entriesOf(ctx.model.namedParameters() as any).filter(([, p]) => p.requiresGrad);
    for (const [name, p] of this.params) {
      const flow: ParamFlow = { name, label: paramLabel(name, this.kinds), isWeight: p.shape.length >= 2, epochs: [] };
      this.flows.set(name, flow);
      this.stats.params.push(flow);
    }
  }

  onEpochBegin(ctx: TrainContext): void {
    this.acc.clear();
    const n = ctx.batchesPerEpoch;
    this.every = n ? Math.max(1, Math.ceil(n / this.samplesPerEpoch)) : 5;
  }

  onBatchBegin(ctx: TrainContext): void {
    if (!this.probe.full && ctx.input) {
      const before = this.probe.count;
      this.probe.add(ctx.input);
      const y = ctx.target;
      if (y && y.dtype === 'int32' && y.ndim === 1) {
        const take = this.probe.count - before;
        for (let i = 0; i < take; i++) this.targets.push(y.data[i]);
      }
    }
  }

  onAfterBackward(ctx: TrainContext): void {
    const s = this.stats;
    if (s.initLoss === null) {
      s.initLoss = ctx.loss;
      const out = ctx.output;
      const y = ctx.target;
      if (out && y && out.ndim === 2 && out.shape[1] > 1 && y.dtype === 'int32' && y.ndim === 1) s.classes = out.shape[1];
    }
    s.batchLoss.push(ctx.loss);
    s.batchLr.push(ctx.optimizer.paramGroups[0]?.lr ?? NaN);
    s.batchEpoch.push(ctx.epoch);
    const sampled = ctx.batch % this.every === 0;
    if (!sampled && ctx.globalStep >= EARLY_STEPS) return;
    let total = 0;
    for (const [, p] of this.params) if (p.grad && !p.grad.isFreed) total += sumSq(p.grad);
    s.gradNormSteps.push(ctx.globalStep);
    s.gradNorms.push(Math.sqrt(total));
    if (!sampled) return;
    this.before = new Map();
    for (const [name, p] of this.params) {
      if (!p.grad || p.grad.isFreed) continue;
      const g = Math.sqrt(sumSq(p.grad));
      const w = p.f32;
      const wn = Math.sqrt(sumSq(p));
      const a = this.accFor(name);
      a.grad += g;
      a.rel += wn > 0 ? g / wn : 0;
      a.nGrad++;
      this.before.set(name, w.slice());
    }
  }

  onBatchEnd(): void {
    if (!this.before) return;
    for (const [name, p] of this.params) {
      const w0 = this.before.get(name);
      if (!w0) continue;
      const w = p.f32;
      let d = 0;
      let q = 0;
      for (let i = 0; i < w.length; i++) {
        const a = w0[i];
        const t = w[i] - a;
        d += t * t;
        q += a * a;
      }
      const wn = Math.sqrt(q);
      if (wn > 0 && Number.isFinite(d)) {
        const a = this.accFor(name);
        a.update += Math.sqrt(d) / wn;
        a.nUpdate++;
      }
    }
    this.before = null;
  }

  onEpochEnd(ctx: TrainContext): void {
    const i = ctx.epoch - this.stats.firstEpoch;
    this.stats.epochsRun = i + 1;
    for (const [name, flow] of this.flows) {
      const a = this.acc.get(name);
      flow.epochs[i] = a && a.nGrad ? { grad: a.grad / a.nGrad, relGrad: a.rel / a.nGrad, update: a.nUpdate ? a.update / a.nUpdate : NaN } : null;
    }
    this.measureInputs();
    this.probeLayers(ctx, i);
  }

  private accFor(name: string): Acc {
    let a = this.acc.get(name);
    if (!a) this.acc.set(name, (a = { grad: 0, rel: 0, update: 0, nGrad: 0, nUpdate: 0 }));
    return a;
  }

  /** Input statistics of the probe, once (also called at the end: a run may stop inside its first epoch). */
  measureInputs(): void {
    if (this.stats.input || this.stats.distinctLabels !== null) return;
    const f = this.probe.flat();
    if (!f) return;
    if (this.probe.isFloat) this.stats.input = inputStats(f.data, f.rows, f.perRow);
    if (this.targets.length) {
      const k = this.stats.classes;
      this.stats.distinctLabels = new Set(this.targets).size;
      if (k !== null) this.stats.labelsOutOfRange = this.targets.filter((t) => t < 0 || t >= k).length;
    }
  }

  /** Dead/saturated units of every leaf layer on the probe, in eval mode (no dropout). */
  private probeLayers(ctx: TrainContext, epochIndex: number): void {
    const x = this.probe.tensor();
    if (!x) return;
    const wasTraining = ctx.model.training ?? true;
    ctx.model.eval();
    const visit = (path: string, kind: string, out: unknown) => {
      if (!(out instanceof Tensor) || out.dtype !== 'float32' || out.size === 0 || out.ndim === 0) return;
      if (!/^(ReLU|Sigmoid|Tanh)$/i.test(kind)) return;
      let layer = this.layers.get(path);
      if (!layer) {
        layer = { path, kind, label: `${kind} ${path}`, epochs: [] };
        this.layers.set(path, layer);
        this.stats.layers.push(layer);
      }
      const u = unitStats(out.f32, out.shape[0], kind);
      layer.epochs[epochIndex] = { dead: u.dead, saturated: u.saturated, std: u.std };
    };
    try {
      if (!probeWithHooks(ctx.model, x, visit)) {
        const layers = sequentialLayers(ctx.model);
        if (layers) forwardLayers(layers, x, (l, out) => visit(l.name, l.kind, out));
      }
    } catch {
      /* a model that cannot run the probe alone: no activation statistics */
    } finally {
      if (wasTraining) ctx.model.train(true);
      x.dispose();
    }
  }

  /** Identical units in each weight matrix with 2+ rows, except the output layer's, and bias medians (read at the end). */
  measureSymmetry(): void {
    for (const [name, p] of this.params) {
      if (p.shape.length !== 1 || !name.endsWith('bias') || p.size === 0) continue;
      const v = Float64Array.from(p.f32).sort();
      this.stats.biasMedian[name] = v[v.length >> 1];
    }
    const weights = this.params.filter(([, p]) => p.shape.length >= 2 && p.shape[0] > 1);
    for (const [name, p] of weights.slice(0, -1)) {
      const d = distinctRows(p.f32, p.shape[0]);
      this.stats.symmetry.push({ param: name, label: paramLabel(name, this.kinds), rows: p.shape[0], distinct: d });
    }
  }

  setCleanTrain(e: CleanError | null): void {
    this.stats.cleanTrain = e;
  }
}
