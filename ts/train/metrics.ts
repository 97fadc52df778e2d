/**
 * Metrics accumulated over an epoch. They read a batch's outputs and targets once (plain JS
 * over the zero-copy views) and hold only JS numbers, so nothing in them outlives a step's
 * tensors (see ts/tensor/lifetime.ts).
 *
 * Classification conventions: `output` is [N, C] scores (logits or probabilities), `target`
 * is int32 class indices [N]; or, for binary tasks, `output` is [N] or [N, 1] logits and
 * `target` holds 0/1 (int32 or float32), a logit > 0 counting as class 1.
 */
import type { Tensor } from '../tensor/tensor.js';
import { didYouMean } from '../util/options.js';
import { F1Score } from './confusion.js';

export interface Metric {
  /** Key in the logs and history, e.g. 'accuracy' (validation logs prefix it with 'val_'). */
  readonly name: string;
  /** 'max' for accuracies, 'min' for errors: used by EarlyStopping's mode 'auto'. */
  readonly mode: 'min' | 'max';
  reset(): void;
  update(output: Tensor, target: Tensor): void;
  compute(): number;
}

function rowsCols(output: Tensor): [number, number] {
  if (output.shape.length === 1) return [output.shape[0], 1];
  const n = output.shape[0];
  return [n, n === 0 ? 0 : output.size / n];
}

function checkTarget(output: Tensor, target: Tensor, who: string): void {
  const [n] = rowsCols(output);
  if (target.size !== n) {
    throw new Error(`${who}: output has ${n} rows [${output.shape.join(', ')}] but target has ${target.size} elements [${target.shape.join(', ')}]`);
  }
}

/** Fraction of rows whose highest score is the target class. */
export class Accuracy implements Metric {
  readonly mode = 'max' as const;
  private correct = 0;
  private total = 0;
  constructor(readonly name = 'accuracy') {}
  reset(): void {
    this.correct = 0;
    this.total = 0;
  }
  update(output: Tensor, target: Tensor): void {
    checkTarget(output, target, this.name);
    const [n, c] = rowsCols(output);
    const o = output.f32;
    const t = target.data;
    if (c === 1) {
      for (let i = 0; i < n; i++) if ((o[i] > 0 ? 1 : 0) === Math.round(t[i])) this.correct++;
    } else {
      for (let i = 0; i < n; i++) {
        let best = 0;
        let bv = o[i * c];
        for (let j = 1; j < c; j++) {
          const v = o[i * c + j];
          if (v > bv || (bv !== bv && v === v)) {
            bv = v;
            best = j;
          }
        }
        if (best === t[i]) this.correct++;
      }
    }
    this.total += n;
  }
  compute(): number {
    return this.total === 0 ? NaN : this.correct / this.total;
  }
}

/** Fraction of rows whose target class is among the k highest scores. */
export class TopKAccuracy implements Metric {
  readonly mode = 'max' as const;
  readonly name: string;
  private correct = 0;
  private total = 0;
  constructor(readonly k: number, name?: string) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`TopKAccuracy: k must be a positive integer, got ${k}`);
    this.name = name ?? `top${k}_accuracy`;
  }
  reset(): void {
    this.correct = 0;
    this.total = 0;
  }
  update(output: Tensor, target: Tensor): void {
    checkTarget(output, target, this.name);
    const [n, c] = rowsCols(output);
    const o = output.f32;
    const t = target.data;
    for (let i = 0; i < n; i++) {
      const cls = t[i];
      const v = o[i * c + cls];
      // Rank of the target: how many classes score strictly higher (ties favour the target).
      let higher = 0;
      for (let j = 0; j < c; j++) if (o[i * c + j] > v) higher++;
      if (v === v && higher < this.k) this.correct++;
    }
    this.total += n;
  }
  compute(): number {
    return this.total === 0 ? NaN : this.correct / this.total;
  }
}

/** Mean of a per-batch value weighted by batch size (fit uses it for the loss). */
export class MeanValue {
  private sum = 0;
  private count = 0;
  constructor(readonly name = 'loss') {}
  reset(): void {
    this.sum = 0;
    this.count = 0;
  }
  add(value: number, weight = 1): void {
    this.sum += value * weight;
    this.count += weight;
  }
  compute(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

/** Mean absolute error for regression outputs of the target's size. */
export class MeanAbsoluteError implements Metric {
  readonly mode = 'min' as const;
  private sum = 0;
  private count = 0;
  constructor(readonly name = 'mae') {}
  reset(): void {
    this.sum = 0;
    this.count = 0;
  }
  update(output: Tensor, target: Tensor): void {
    if (output.size !== target.size) throw new Error(`${this.name}: output has ${output.size} elements, target ${target.size}`);
    const o = output.f32;
    const t = target.data;
    for (let i = 0; i < o.length; i++) this.sum += Math.abs(o[i] - t[i]);
    this.count += o.length;
  }
  compute(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

/** Builds metrics from short names: 'accuracy' | 'acc', 'top5' (any k), 'mae', 'f1' | 'f1_micro' | 'f1_weighted', or Metric objects. */
/** The metric names fit() knows (besides 'topK' for any k). */
const METRIC_NAMES = ['accuracy', 'acc', 'top5', 'mae', 'f1', 'f1_macro', 'f1_micro', 'f1_weighted'];

export function resolveMetrics(specs: (string | Metric)[] = []): Metric[] {
  return specs.map((s) => {
    if (typeof s !== 'string') {
      if (!s || typeof (s as Metric).update !== 'function') throw new TypeError(`fit: a metric must be a name or a Metric object (name, reset, update, compute), got ${typeof s}`);
      return s;
    }
    if (s === 'accuracy' || s === 'acc') return new Accuracy();
    const m = /^top-?(\d+)(_?acc(uracy)?)?$/.exec(s);
    if (m) return new TopKAccuracy(Number(m[1]));
    if (s === 'mae') return new MeanAbsoluteError();
    if (s === 'f1' || s === 'f1_macro') return new F1Score();
    if (s === 'f1_micro' || s === 'f1_weighted') return new F1Score({ average: s.slice(3) as 'micro' | 'weighted' });
    throw new Error(`fit: unknown metric '${s}'${didYouMean(s, METRIC_NAMES)}: use 'accuracy', 'top5' (any k), 'mae', 'f1' (macro), 'f1_micro', 'f1_weighted' or a Metric object`);
  });
}
