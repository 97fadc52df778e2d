/**
 * Classification metrics from a confusion matrix: `ConfusionMatrix` and `F1Score` (macro,
 * micro, support-weighted, or one class), usable in fit's `metrics` like Accuracy
 * (conventions of metrics.ts: [N, C] scores and int32 targets, the predicted class the
 * first highest score; or binary [N] / [N, 1] logits, > 0 meaning class 1).
 *
 * Rows of the matrix are true classes, columns predicted ones (as sklearn's
 * confusion_matrix). Per class, F1 = 2·TP / (2·TP + FP + FN); a class that occurs neither as
 * target nor as prediction has no F1 (NaN in `perClass()`) and is left out of the macro mean,
 * as sklearn averages over the labels present; micro F1 over all classes equals accuracy for
 * single-label data.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../util/options.js';
import type { Metric } from './metrics.js';

function rowsCols(output: Tensor): [number, number] {
  if (output.shape.length === 1) return [output.shape[0], 1];
  const n = output.shape[0];
  return [n, n === 0 ? 0 : output.size / n];
}

/** Counts (true class, predicted class) pairs; grows to the classes it sees. */
export class ConfusionMatrix implements Metric {
  readonly mode = 'max' as const;
  readonly name: string;
  /** counts[t][p]: samples of true class t predicted as p. */
  private counts: number[][] = [];
  private readonly fixedClasses: number | null;

  constructor(options: { numClasses?: number; name?: string } = {}) {
    checkOptions('ConfusionMatrix', options, ['numClasses', 'name']);
    const k = options.numClasses;
    if (k !== undefined && !(Number.isInteger(k) && k >= 1)) throw new Error(`ConfusionMatrix: numClasses must be a positive integer, got ${k}`);
    this.fixedClasses = k ?? null;
    this.name = options.name ?? 'confusion_accuracy';
    this.reset();
  }

  reset(): void {
    this.counts = [];
    if (this.fixedClasses !== null) this.grow(this.fixedClasses);
  }

  private grow(k: number): void {
    for (const row of this.counts) while (row.length < k) row.push(0);
    while (this.counts.length < k) this.counts.push(new Array(Math.max(k, this.counts[0]?.length ?? 0)).fill(0));
  }

  get numClasses(): number {
    return this.counts.length;
  }

  update(output: Tensor, target: Tensor): void {
    const [n, c] = rowsCols(output);
    if (target.size !== n) {
      throw new Error(`${this.name}: output has ${n} rows [${output.shape.join(', ')}] but target has ${target.size} elements [${target.shape.join(', ')}]`);
    }
    const o = output.f32;
    const t = target.data;
    const classes = c === 1 ? 2 : c;
    const pairs: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const truth = Math.round(t[i]);
      if (!(truth >= 0 && truth < classes) || truth !== t[i]) {
        throw new Error(`${this.name}: target ${t[i]} (row ${i}) is not a class index in 0..${classes - 1} (output [${output.shape.join(', ')}])`);
      }
      let pred = 0;
      if (c === 1) pred = o[i] > 0 ? 1 : 0;
      else {
        let bv = o[i * c];
        for (let j = 1; j < c; j++) {
          const v = o[i * c + j];
          if (v > bv || (bv !== bv && v === v)) {
            bv = v;
            pred = j;
          }
        }
      }
      pairs.push([truth, pred]);
    }
    if (this.fixedClasses !== null && classes > this.fixedClasses) {
      throw new Error(`${this.name}: output has ${classes} classes [${output.shape.join(', ')}], more than numClasses ${this.fixedClasses}`);
    }
    this.grow(classes);
    for (const [a, b] of pairs) this.counts[a][b]++;
  }

  /** The matrix (a copy): rows true classes, columns predicted. */
  get matrix(): number[][] {
    return this.counts.map((r) => [...r]);
  }

  /** The matrix with rows ('true'), columns ('pred') or everything ('all') summing to 1 (an empty row stays 0). */
  normalized(over: 'true' | 'pred' | 'all'): number[][] {
    const m = this.matrix;
    const k = m.length;
    if (over === 'all') {
      const s = m.flat().reduce((a, b) => a + b, 0);
      return m.map((r) => r.map((v) => (s === 0 ? 0 : v / s)));
    }
    if (over === 'true') return m.map((r) => {
      const s = r.reduce((a, b) => a + b, 0);
      return r.map((v) => (s === 0 ? 0 : v / s));
    });
    if (over === 'pred') {
      const col = Array.from({ length: k }, (_, j) => m.reduce((a, r) => a + r[j], 0));
      return m.map((r) => r.map((v, j) => (col[j] === 0 ? 0 : v / col[j])));
    }
    throw new Error(`ConfusionMatrix.normalized: over must be 'true', 'pred' or 'all', got ${JSON.stringify(over)}`);
  }

  /** Per class: [true positives, false positives, false negatives, support]. */
  tallies(): { tp: number[]; fp: number[]; fn: number[]; support: number[] } {
    const m = this.counts;
    const k = m.length;
    const tp = m.map((r, i) => r[i]);
    const support = m.map((r) => r.reduce((a, b) => a + b, 0));
    const predicted = Array.from({ length: k }, (_, j) => m.reduce((a, r) => a + r[j], 0));
    return { tp, fp: predicted.map((p, i) => p - tp[i]), fn: support.map((s, i) => s - tp[i]), support };
  }

  /** Accuracy: the trace over the total (what fit logs for this metric). */
  compute(): number {
    const { tp, support } = this.tallies();
    const total = support.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : tp.reduce((a, b) => a + b, 0) / total;
  }
}

export type F1Average = 'macro' | 'micro' | 'weighted';

export interface F1Options {
  /** How per-class scores combine (default 'macro'). */
  average?: F1Average;
  /** Report this one class's F1 instead of an average (name `f1_class<k>`). */
  classIndex?: number;
  /** Fix the number of classes (default: grown from the outputs). */
  numClasses?: number;
  /** Key in the logs (default 'f1' for macro, 'f1_micro', 'f1_weighted', 'f1_class<k>'). */
  name?: string;
}

export class F1Score implements Metric {
  readonly mode = 'max' as const;
  readonly name: string;
  readonly average: F1Average;
  readonly classIndex: number | null;
  /** The counts behind the score (read it after an epoch). */
  confusion: ConfusionMatrix;
  private readonly numClasses: number | undefined;

  constructor(options: F1Options = {}) {
    checkOptions('F1Score', options, ['average', 'classIndex', 'numClasses', 'name']);
    this.average = options.average ?? 'macro';
    if (!['macro', 'micro', 'weighted'].includes(this.average)) throw new Error(`F1Score: average must be 'macro', 'micro' or 'weighted', got ${JSON.stringify(options.average)}`);
    const k = options.classIndex;
    if (k !== undefined && !(Number.isInteger(k) && k >= 0)) throw new Error(`F1Score: classIndex must be a non-negative integer, got ${k}`);
    this.classIndex = k ?? null;
    this.name = options.name ?? (k !== undefined ? `f1_class${k}` : this.average === 'macro' ? 'f1' : `f1_${this.average}`);
    this.numClasses = options.numClasses;
    this.confusion = new ConfusionMatrix({ numClasses: options.numClasses, name: this.name });
  }

  /** A new matrix rather than clearing the old one: a shallow copy (fit's validation copy) never shares counts. */
  reset(): void {
    this.confusion = new ConfusionMatrix({ numClasses: this.numClasses, name: this.name });
  }

  update(output: Tensor, target: Tensor): void {
    this.confusion.update(output, target);
  }

  /** F1 of every class (NaN for a class never targeted nor predicted). */
  perClass(): number[] {
    const { tp, fp, fn } = this.confusion.tallies();
    return tp.map((t, i) => {
      const d = 2 * t + fp[i] + fn[i];
      return d === 0 ? NaN : (2 * t) / d;
    });
  }

  compute(): number {
    const f1 = this.perClass();
    if (this.classIndex !== null) return this.classIndex < f1.length ? f1[this.classIndex] : NaN;
    const { tp, fp, fn, support } = this.confusion.tallies();
    if (this.average === 'micro') {
      const [t, p, n] = [tp, fp, fn].map((a) => a.reduce((x, y) => x + y, 0));
      return 2 * t + p + n === 0 ? NaN : (2 * t) / (2 * t + p + n);
    }
    let sum = 0;
    let weight = 0;
    for (let i = 0; i < f1.length; i++) {
      if (Number.isNaN(f1[i])) continue;
      const w = this.average === 'weighted' ? support[i] : 1;
      sum += w * f1[i];
      weight += w;
    }
    return weight === 0 ? NaN : sum / weight;
  }
}
