/**
 * Statistics with autograd: var, std, varMean, stdMean, logsumexp, norm and
 * linalg.vectorNorm, over everything or over one or several dims (keepdim), as PyTorch.
 *
 * Each runs as one loop per row of the [rows, n] layout (ts/ops/rows.ts), accumulating in
 * float64 (PyTorch's CPU reductions accumulate wider than float32 too), with its own
 * backward; results agree with PyTorch 1.13 to float32 rounding (test/stats.test.ts
 * replays test/fixtures/stats/, made by tools/fixtures/stats.py).
 *
 * var/std: `correction` as PyTorch 1.13's keyword and 2.x's (default 1: Bessel's
 * correction, divide by N - 1; 0 divides by N); `unbiased: true/false` is the older
 * spelling of correction 1/0 (deprecated in 2.x), and giving both is an error. A divisor
 * N - correction <= 0 is an error here (PyTorch returns NaN or inf with a warning).
 */
import { record } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../util/options.js';
import type { Dims } from './reduce.js';
import { reshape } from './shape.js';
import { dimList, emptyError, toRows } from './rows.js';
import { out } from './util.js';

export interface VarOptions {
  /** Dimension(s) to reduce (default: all). */
  dim?: Dims;
  /** Divide by N - correction (default 1). */
  correction?: number;
  /** The older spelling: true = correction 1, false = correction 0. */
  unbiased?: boolean;
  keepdim?: boolean;
}

export interface ReduceOptions {
  dim?: Dims;
  keepdim?: boolean;
}

export interface NormOptions extends ReduceOptions {
  /** The order: any p > 0, or Infinity (default 2). */
  p?: number;
}

export interface VectorNormOptions extends ReduceOptions {
  /** The order, as torch.linalg.vector_norm's `ord`: any ord > 0, or Infinity (default 2). */
  ord?: number;
}

function correctionOf(op: string, o: VarOptions): number {
  if (o.correction !== undefined && o.unbiased !== undefined) throw new Error(`${op}: give correction or unbiased, not both`);
  if (o.unbiased !== undefined) return checkBooleanOption(op, 'unbiased', o.unbiased) ? 1 : 0;
  return o.correction === undefined ? 1 : checkNumberOption(op, 'correction', o.correction, { min: 0 });
}

function keepdimOf(op: string, o: { keepdim?: boolean }): boolean {
  return o.keepdim === undefined ? false : checkBooleanOption(op, 'keepdim', o.keepdim);
}

/** Variance (and std, and the mean) per row; one recorded op per output that has a backward. */
function moments(op: string, x: Tensor, options: VarOptions, wantStd: boolean): { value: Tensor; mean: Tensor } {
  checkOptions(op, options, ['dim', 'correction', 'unbiased', 'keepdim']);
  const o = options ?? {};
  const correction = correctionOf(op, o);
  const keepdim = keepdimOf(op, o);
  const dims = dimList(op, x, o.dim);
  const r = toRows(op, x, dims);
  if (r.n === 0) throw emptyError(op, x, dims);
  const divisor = r.n - correction;
  if (!(divisor > 0)) throw new Error(`${op}: correction ${correction} needs more than ${correction} element(s) per reduction, got ${r.n} (over dims [${dims.join(', ')}] of [${x.shape.join(', ')}]); use correction: 0`);
  const value = out([r.rows]);
  const mean = out([r.rows]);
  const xs = r.x.f32;
  const vs = value.f32;
  const ms = mean.f32;
  for (let i = 0; i < r.rows; i++) {
    const base = i * r.n;
    let s = 0;
    for (let j = 0; j < r.n; j++) s += xs[base + j];
    const m = s / r.n;
    let q = 0;
    for (let j = 0; j < r.n; j++) {
      const d = xs[base + j] - m;
      q += d * d;
    }
    const v = q / divisor;
    ms[i] = m;
    vs[i] = wantStd ? Math.sqrt(v) : v;
  }
  const rx = r.x;
  record(value, op, [rx], (g) => {
    const dx = out(rx.shape);
    const xs = rx.f32;
    const gs = g.f32;
    const ys = value.f32;
    const mv = mean.f32;
    const d = dx.f32;
    for (let i = 0; i < r.rows; i++) {
      // var: 2(x - mean)/(N - c); std: (x - mean)/((N - c)·std), 0 where std = 0 (as PyTorch).
      const k = wantStd ? (ys[i] === 0 ? 0 : gs[i] / (divisor * ys[i])) : (2 * gs[i]) / divisor;
      const m = mv[i];
      for (let j = 0, b = i * r.n; j < r.n; j++) d[b + j] = k * (xs[b + j] - m);
    }
    return [dx];
  });
  record(mean, `${op}.mean`, [rx], (g) => {
    const dx = out(rx.shape);
    const gs = g.f32;
    const d = dx.f32;
    for (let i = 0; i < r.rows; i++) d.fill(gs[i] / r.n, i * r.n, (i + 1) * r.n);
    return [dx];
  });
  const shape = r.outShape(keepdim);
  return { value: reshape(value, shape), mean: reshape(mean, shape) };
}

/** Variance over `dim` (default all), dividing by N - correction (default 1), as torch.var. */
export function variance(x: Tensor, options: VarOptions = {}): Tensor {
  return moments('var', x, options, false).value;
}

/** Standard deviation, as torch.std (options as var). */
export function std(x: Tensor, options: VarOptions = {}): Tensor {
  return moments('std', x, options, true).value;
}

/** [variance, mean], as torch.var_mean; both differentiable. */
export function varMean(x: Tensor, options: VarOptions = {}): [Tensor, Tensor] {
  const m = moments('varMean', x, options, false);
  return [m.value, m.mean];
}

/** [std, mean], as torch.std_mean; both differentiable. */
export function stdMean(x: Tensor, options: VarOptions = {}): [Tensor, Tensor] {
  const m = moments('stdMean', x, options, true);
  return [m.value, m.mean];
}

/** log Σ exp(x) over `dim` (default all), computed stably (the max is taken out first). */
export function logsumexp(x: Tensor, options: ReduceOptions = {}): Tensor {
  const op = 'logsumexp';
  checkOptions(op, options, ['dim', 'keepdim']);
  const o = options ?? {};
  const keepdim = keepdimOf(op, o);
  const dims = dimList(op, x, o.dim);
  const r = toRows(op, x, dims);
  const y = out([r.rows]);
  const xs = r.x.f32;
  const ys = y.f32;
  for (let i = 0; i < r.rows; i++) {
    const b = i * r.n;
    let m = -Infinity;
    for (let j = 0; j < r.n; j++) if (xs[b + j] > m || Number.isNaN(xs[b + j])) m = xs[b + j];
    if (m === -Infinity || m === Infinity || Number.isNaN(m)) {
      ys[i] = r.n === 0 ? -Infinity : m; // all -inf (or empty): -inf; any +inf: inf; NaN stays
      continue;
    }
    let s = 0;
    for (let j = 0; j < r.n; j++) s += Math.exp(xs[b + j] - m);
    ys[i] = m + Math.log(s);
  }
  const rx = r.x;
  record(y, op, [rx], (g) => {
    const dx = out(rx.shape);
    const xs = rx.f32;
    const ys = y.f32;
    const gs = g.f32;
    const d = dx.f32;
    for (let i = 0; i < r.rows; i++) for (let j = 0, b = i * r.n; j < r.n; j++) d[b + j] = gs[i] * Math.exp(xs[b + j] - ys[i]);
    return [dx];
  });
  return reshape(y, r.outShape(keepdim));
}

function vectorNormImpl(op: string, x: Tensor, p: number, dim: Dims | undefined, keepdim: boolean): Tensor {
  const dims = dimList(op, x, dim);
  const r = toRows(op, x, dims);
  const y = out([r.rows]);
  const xs = r.x.f32;
  const ys = y.f32;
  for (let i = 0; i < r.rows; i++) {
    const b = i * r.n;
    let acc = 0;
    if (p === Infinity) {
      for (let j = 0; j < r.n; j++) {
        const a = Math.abs(xs[b + j]);
        if (a > acc || Number.isNaN(a)) acc = a;
      }
    } else if (p === 1) for (let j = 0; j < r.n; j++) acc += Math.abs(xs[b + j]);
    else if (p === 2) {
      for (let j = 0; j < r.n; j++) acc += xs[b + j] * xs[b + j];
      acc = Math.sqrt(acc);
    } else {
      for (let j = 0; j < r.n; j++) acc += Math.abs(xs[b + j]) ** p;
      acc = acc ** (1 / p);
    }
    ys[i] = acc;
  }
  const rx = r.x;
  record(y, op, [rx], (g) => {
    const dx = out(rx.shape);
    const xs = rx.f32;
    const ys = y.f32;
    const gs = g.f32;
    const d = dx.f32;
    for (let i = 0; i < r.rows; i++) {
      const b = i * r.n;
      const norm = ys[i];
      if (p === Infinity) {
        // Shared evenly by the elements that attain the max (PyTorch 1.13's norm_backward).
        let ties = 0;
        for (let j = 0; j < r.n; j++) if (Math.abs(xs[b + j]) === norm) ties++;
        for (let j = 0; j < r.n; j++) d[b + j] = Math.abs(xs[b + j]) === norm ? (Math.sign(xs[b + j]) * gs[i]) / ties : 0;
      } else if (p === 1) for (let j = 0; j < r.n; j++) d[b + j] = Math.sign(xs[b + j]) * gs[i];
      else if (norm === 0) d.fill(0, b, b + r.n); // PyTorch masks the 0/0 to 0
      else if (p === 2) for (let j = 0; j < r.n; j++) d[b + j] = (xs[b + j] / norm) * gs[i];
      else {
        const k = gs[i] / norm ** (p - 1);
        for (let j = 0; j < r.n; j++) d[b + j] = Math.sign(xs[b + j]) * Math.abs(xs[b + j]) ** (p - 1) * k;
      }
    }
    return [dx];
  });
  return reshape(y, r.outShape(keepdim));
}

function checkOrder(op: string, name: string, p: unknown): number {
  const v = checkNumberOption(op, name, p);
  if (!(v > 0)) throw new Error(`${op}: ${name} must be > 0 (1, 2, Infinity or any other positive order), got ${v}`);
  return v;
}

/** The p-norm of x over `dim` (default: all elements, as a vector), as torch.norm. */
export function norm(x: Tensor, options: NormOptions = {}): Tensor {
  checkOptions('norm', options, ['p', 'dim', 'keepdim']);
  const o = options ?? {};
  return vectorNormImpl('norm', x, o.p === undefined ? 2 : checkOrder('norm', 'p', o.p), o.dim, keepdimOf('norm', o));
}

/** torch.linalg.vector_norm: the `ord`-norm over `dim` (default all). */
export function vectorNorm(x: Tensor, options: VectorNormOptions = {}): Tensor {
  checkOptions('linalg.vectorNorm', options, ['ord', 'dim', 'keepdim']);
  const o = options ?? {};
  return vectorNormImpl('linalg.vectorNorm', x, o.ord === undefined ? 2 : checkOrder('linalg.vectorNorm', 'ord', o.ord), o.dim, keepdimOf('linalg.vectorNorm', o));
}

/** torch.linalg's vector function (matrix norms are not here). */
export const linalg = { vectorNorm };
