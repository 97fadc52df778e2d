/**
 * Statistics with autograd: var, std, varMean, stdMean, logsumexp, norm and
 * linalg.vectorNorm, over everything or over one or several dims (keepdim), as PyTorch.
 *
 * They are composed of the wasm ops (mean, sub, square, sum, exp, log, max, pow), so autograd
 * runs through those; custom backwards only where PyTorch's gradient differs from the
 * composition's: a root at 0 (std or a norm of an all-zero slice: 0, not NaN) and the
 * inf-norm's ties (shared evenly). Results agree with PyTorch 1.13 to float32 rounding
 * (test/stats.test.ts replays test/fixtures/stats/, made by tools/fixtures/stats.py).
 *
 * var/std: `correction` as PyTorch 1.13's keyword and 2.x's (default 1: Bessel's
 * correction, divide by N - 1; 0 divides by N); `unbiased: true/false` is the older
 * spelling of correction 1/0 (deprecated in 2.x), and giving both is an error. A divisor
 * N - correction <= 0 is an error here (PyTorch returns NaN or inf with a warning).
 */
import { noGrad, record } from '../autograd/engine.js';
import { unary, UnaryOp } from '../kernels/elementwise.js';
import { Tensor } from '../tensor/tensor.js';
import { abs, add, exp, log, mul, pow, square, sub } from './arith.js';
import { max, mean, sum } from './reduce.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../util/options.js';
import type { Dims } from './reduce.js';
import { reshape } from './shape.js';
import { dimList, emptyError, toRows } from './rows.js';
import { checkFloat, out } from './util.js';

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

/**
 * y = s^(1/p) (p = 2: sqrt) with PyTorch's gradient at s = 0: 0 rather than 0 · inf = NaN
 * (the norm and std of an all-zero slice have a zero gradient). The loop is over the
 * reduced result only.
 */
function rootMasked(op: string, s: Tensor, p: number): Tensor {
  const y = out(s.shape);
  unary(UnaryOp.pow, s.ptr, y.ptr, s.size, 1 / p, 0);
  return record(y, op, [s], (g) => {
    const ds = out(s.shape);
    const d = ds.f32;
    const gs = g.f32;
    const ys = y.f32;
    const ss = s.f32;
    for (let i = 0; i < d.length; i++) d[i] = ss[i] === 0 ? 0 : (gs[i] * ys[i]) / (p * ss[i]);
    return [ds];
  });
}

/** Variance (or std) and the mean, composed of wasm ops (mean, sub, square, sum); autograd through them. */
function moments(op: string, x: Tensor, options: VarOptions, wantStd: boolean): { value: Tensor; mean: Tensor } {
  checkOptions(op, options, ['dim', 'correction', 'unbiased', 'keepdim']);
  const o = options ?? {};
  const correction = correctionOf(op, o);
  const keepdim = keepdimOf(op, o);
  checkFloat(op, x);
  const dims = dimList(op, x, o.dim);
  let n = 1;
  for (const d of dims) n *= x.shape[d];
  if (n === 0) throw emptyError(op, x, dims);
  const divisor = n - correction;
  if (!(divisor > 0)) throw new Error(`${op}: correction ${correction} needs more than ${correction} element(s) per reduction, got ${n} (over dims [${dims.join(', ')}] of [${x.shape.join(', ')}]); use correction: 0`);
  const scalar = x.ndim === 0;
  const xv = scalar ? reshape(x, [1]) : x;
  const rdims = scalar ? [0] : dims;
  const m = mean(xv, rdims, true);
  const sq = sum(square(sub(xv, m)), rdims, keepdim);
  const v = scalar ? reshape(sq, []) : sq;
  const value = mul(v, 1 / divisor);
  return { value: wantStd ? rootMasked(op, value, 2) : value, mean: reshape(m, v.shape) };
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

/**
 * log Σ exp(x) over `dim` (default all), computed stably: the (detached) max is taken out
 * first, and an infinite max is replaced by 0 (as PyTorch), so all -inf gives -inf.
 */
export function logsumexp(x: Tensor, options: ReduceOptions = {}): Tensor {
  const op = 'logsumexp';
  checkOptions(op, options, ['dim', 'keepdim']);
  const o = options ?? {};
  const keepdim = keepdimOf(op, o);
  const dims = dimList(op, x, o.dim);
  const r = toRows(op, x, dims);
  if (r.n === 0) return add(reshape(sum(r.x, 1), r.outShape(keepdim)), -Infinity); // log 0
  const shift = noGrad(() => {
    const m = max(r.x, 1, true);
    const ms = m.f32;
    for (let i = 0; i < ms.length; i++) if (!Number.isFinite(ms[i])) ms[i] = Number.isNaN(ms[i]) ? ms[i] : 0;
    return m;
  });
  const s = sum(exp(sub(r.x, shift)), 1);
  return reshape(add(log(s), reshape(shift, [r.rows])), r.outShape(keepdim));
}

function vectorNormImpl(op: string, x: Tensor, p: number, dim: Dims | undefined, keepdim: boolean): Tensor {
  checkFloat(op, x);
  const dims = dimList(op, x, dim);
  if (p === Infinity) return infNorm(op, x, dims, keepdim);
  const rdims = x.ndim === 0 ? undefined : dims;
  const s = p === 1 ? sum(abs(x), rdims, keepdim) : sum(p === 2 ? square(x) : pow(abs(x), p), rdims, keepdim);
  return p === 1 ? s : rootMasked(op, s, p);
}

/**
 * max |x| over the dims (wasm), with PyTorch 1.13's gradient: shared evenly by the elements
 * that attain the max (the max op's own gradient picks one of them).
 */
function infNorm(op: string, x: Tensor, dims: number[], keepdim: boolean): Tensor {
  const r = toRows(op, x, dims);
  if (r.n === 0) throw emptyError(op, x, dims);
  const rx = r.x;
  const y = noGrad(() => max(abs(rx), 1));
  const yr = record(y, op, [rx], (g) => {
    const dx = out(rx.shape);
    const xs = rx.f32;
    const ys = y.f32;
    const gs = g.f32;
    const d = dx.f32;
    for (let i = 0; i < r.rows; i++) {
      const b = i * r.n;
      let ties = 0;
      for (let j = 0; j < r.n; j++) if (Math.abs(xs[b + j]) === ys[i]) ties++;
      for (let j = 0; j < r.n; j++) d[b + j] = Math.abs(xs[b + j]) === ys[i] ? (Math.sign(xs[b + j]) * gs[i]) / ties : 0;
    }
    return [dx];
  });
  return reshape(yr, r.outShape(keepdim));
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
