/**
 * Goodfellow's narrowing of a search space ("Deep Learning", 11.4.5: after a first random
 * search, draw again from ranges around the best values): every continuous dimension's new
 * range spans the kept trials' values, widened by `margin` of that span on each side
 * (measured in log space for logUniform), and clipped to the original range; a choice keeps
 * the values the kept trials used; constants stay.
 */
import { choice, intUniform, logUniform, SearchParam, uniform, type SearchSpace } from '../train/search.js';
import { checkOptions } from '../util/options.js';

export interface NarrowOptions {
  /** Widening of each range on both sides, as a fraction of the kept values' span (default 0.25). */
  margin?: number;
  /** Smallest new range, as a fraction of the original range (default 0.02; in log space for logUniform). */
  minFraction?: number;
}

interface RangeParam {
  kind: string;
  lo: number;
  hi: number;
  values?: readonly unknown[];
}

export function narrowSpace<S extends SearchSpace>(original: S, kept: readonly Record<string, unknown>[], options: NarrowOptions = {}): S {
  // perRound and keep pass: NarrowingSampler (samplers.ts) hands its own (checked) options on.
  checkOptions('narrowSpace', options, ['margin', 'minFraction']);
  options ??= {};
  if (kept.length === 0) return original;
  const margin = options.margin ?? 0.25;
  const minFraction = options.minFraction ?? 0.02;
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(original)) {
    if (!(p instanceof SearchParam)) {
      out[k] = p;
      continue;
    }
    const r = p as unknown as RangeParam;
    if (r.kind === 'choice') {
      const used = (r.values ?? []).filter((v) => kept.some((t) => Object.is(t[k], v)));
      out[k] = used.length > 0 ? choice(used) : p;
      continue;
    }
    const log = r.kind === 'logUniform';
    const f = (v: number) => (log ? Math.log(v) : v);
    const g = (v: number) => (log ? Math.exp(v) : v);
    const vals = kept.map((t) => f(Number(t[k])));
    const [lo0, hi0] = [f(r.lo), f(r.hi)];
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    const span = Math.max(hi - lo, minFraction * (hi0 - lo0));
    const mid = (lo + hi) / 2;
    lo = Math.max(lo0, Math.min(lo, mid - span / 2) - margin * span);
    hi = Math.min(hi0, Math.max(hi, mid + span / 2) + margin * span);
    if (r.kind === 'intUniform') {
      const a = Math.max(r.lo, Math.floor(lo));
      const b = Math.min(r.hi, Math.ceil(hi));
      out[k] = intUniform(a, Math.max(a, b));
    } else if (log) out[k] = logUniform(g(lo), g(hi));
    else out[k] = uniform(lo, hi);
  }
  return out as S;
}
