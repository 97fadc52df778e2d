/**
 * init.json: the initializers' arithmetic exactly, and their distributions statistically
 * (RNGs differ from PyTorch's, so values are never compared).
 *
 * - `gains`: calculateGain(nonlinearity, param) within 1e-12 relative.
 * - `fans`: computeFans(shape) exactly.
 * - `distributions`: the exact `bound` (uniform) or `std` (normal) for the shape, gain, a,
 *   mode, nonlinearity, within 1e-9 relative; then the initializer itself is run on a tensor
 *   of that shape (several seeds, at least 64K values together) and its draws must show that
 *   scale: every |x| <= bound and min/max within 1% of ∓bound, std within 2% (uniform:
 *   bound/√3), mean within 4 standard errors.
 * - `empirical`: PyTorch's mean/std/min/max of one draw; tread draws the same initializer on
 *   the same shape and must agree: mean within 4 standard errors (of the difference of two
 *   draws), std within 2%, min/max within 1% of the bound for uniform fills and within one
 *   std for normal ones (extremes of a normal sample are noisy). A case without its options
 *   (gain, a, mode, nonlinearity) takes the option set, among the usual ones, whose exact std
 *   is nearest PyTorch's measured std (within 3%), and says which when it fails.
 */
import * as I from '../../ts/nn/init.js';
import { Tensor } from '../../ts/tensor/tensor.js';
import type { CaseResult } from './types.js';

export interface Stats {
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

export function stats(d: ArrayLike<number>): Stats {
  const n = d.length;
  let s = 0;
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = d[i];
    s += x;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (d[i] - mean) ** 2;
  return { n, mean, std: Math.sqrt(v / n), min: mn, max: mx };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

type Spec = { kind: 'uniform'; low: number; high: number } | { kind: 'normal'; mean: number; std: number };

interface Resolved {
  spec: Spec;
  fill: (t: Tensor, seed: number) => void;
  what: string;
}

const KAIMING_CANDIDATES: I.KaimingOptions[] = [];
for (const mode of ['fan_in', 'fan_out'] as const) {
  for (const [nonlinearity, a] of [['leaky_relu', 0], ['leaky_relu', Math.sqrt(5)], ['leaky_relu', 0.01], ['relu', 0], ['tanh', 0], ['linear', 0], ['sigmoid', 0], ['selu', 0]] as const) {
    KAIMING_CANDIDATES.push({ mode, nonlinearity, a });
  }
}
const GAIN_CANDIDATES = [1, Math.SQRT2, 5 / 3, 3 / 4];

function kaimingOpts(c: any): I.KaimingOptions {
  const o: I.KaimingOptions = {};
  if (c.a !== undefined && c.a !== null) o.a = c.a;
  if (c.mode !== undefined) o.mode = c.mode;
  if (c.nonlinearity !== undefined) o.nonlinearity = c.nonlinearity;
  return o;
}

const hasKaimingOpts = (c: any) => c.a !== undefined || c.mode !== undefined || c.nonlinearity !== undefined;

/** The initializer a case names, with its options (inferred from `std` when absent). */
export function resolve(c: any, shape: number[]): Resolved {
  const name: string = c.init;
  const uniformSpec = (b: number): Spec => ({ kind: 'uniform', low: -b, high: b });
  const pick = <T>(cands: T[], stdOf: (x: T) => number, label: (x: T) => string): T => {
    if (typeof c.std !== 'number') return cands[0];
    let best = cands[0];
    for (const x of cands) if (rel(stdOf(x), c.std) < rel(stdOf(best), c.std)) best = x;
    if (rel(stdOf(best), c.std) > 0.03) throw new Error(`${name}: no usual option set explains PyTorch's std ${c.std} (nearest: ${label(best)}, std ${stdOf(best)})`);
    return best;
  };
  switch (name) {
    case 'xavier_uniform':
    case 'xavier_normal': {
      const uniform = name === 'xavier_uniform';
      const stdOf = (g: number) => (uniform ? I.xavierUniformBound(shape, g) / Math.sqrt(3) : I.xavierNormalStd(shape, g));
      const gain: number = c.gain ?? pick(GAIN_CANDIDATES, stdOf, (g) => `gain ${g}`);
      return uniform
        ? { spec: uniformSpec(I.xavierUniformBound(shape, gain)), fill: (t, seed) => I.xavierUniform_(t, gain, { seed }), what: `gain ${gain}` }
        : { spec: { kind: 'normal', mean: 0, std: I.xavierNormalStd(shape, gain) }, fill: (t, seed) => I.xavierNormal_(t, gain, { seed }), what: `gain ${gain}` };
    }
    case 'kaiming_uniform':
    case 'kaiming_normal': {
      const uniform = name === 'kaiming_uniform';
      const o = hasKaimingOpts(c) ? kaimingOpts(c) : pick(KAIMING_CANDIDATES, (x) => I.kaimingNormalStd(shape, x), (x) => JSON.stringify(x));
      const what = JSON.stringify(o);
      return uniform
        ? { spec: uniformSpec(I.kaimingUniformBound(shape, o)), fill: (t, seed) => I.kaimingUniform_(t, { ...o, seed }), what }
        : { spec: { kind: 'normal', mean: 0, std: I.kaimingNormalStd(shape, o) }, fill: (t, seed) => I.kaimingNormal_(t, { ...o, seed }), what };
    }
    case 'linear_default_weight':
    case 'conv_default_weight':
    case 'conv2d_default_weight':
      return {
        spec: uniformSpec(I.kaimingUniformBound(shape, { a: Math.sqrt(5) })),
        fill: (t, seed) => I.kaimingUniform_(t, { a: Math.sqrt(5), seed }),
        what: 'kaimingUniform_(a=√5)',
      };
    case 'uniform': {
      const a = c.a ?? c.low ?? 0;
      const b = c.b ?? c.high ?? 1;
      return { spec: { kind: 'uniform', low: a, high: b }, fill: (t, seed) => I.uniform_(t, a, b, { seed }), what: `U[${a}, ${b})` };
    }
    case 'normal': {
      const mean = c.mean_param ?? c.loc ?? 0;
      const std = c.std_param ?? c.scale ?? 1;
      return { spec: { kind: 'normal', mean, std }, fill: (t, seed) => I.normal_(t, mean, std, { seed }), what: `N(${mean}, ${std}²)` };
    }
    case 'scaled_uniform':
    case 'scaled_normal': {
      const k = c.k;
      const s = I.scaledScale(shape, k);
      return name === 'scaled_uniform'
        ? { spec: uniformSpec(s), fill: (t, seed) => I.scaledUniform_(t, k, { seed }), what: `k ${k}` }
        : { spec: { kind: 'normal', mean: 0, std: s }, fill: (t, seed) => I.scaledNormal_(t, k, { seed }), what: `k ${k}` };
    }
    default:
      throw new Error(`unknown initializer '${name}'`);
  }
}

const specStd = (s: Spec) => (s.kind === 'uniform' ? (s.high - s.low) / Math.sqrt(12) : s.std);
const specMean = (s: Spec) => (s.kind === 'uniform' ? (s.high + s.low) / 2 : s.mean);

/** Draws `shape` with `fill` over seeds seed0, seed0+1, ... until at least `minCount` values. */
export function draw(fill: (t: Tensor, seed: number) => void, shape: number[], seed0: number, minCount = 0): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const reps = Math.max(1, Math.ceil(minCount / Math.max(size, 1)));
  const out = new Float32Array(size * reps);
  const t = Tensor.empty(shape, 'float32');
  try {
    for (let r = 0; r < reps; r++) {
      fill(t, seed0 + r);
      out.set(t.f32, r * size);
    }
  } finally {
    t.dispose();
  }
  return out;
}

/** Problems with a sample against an exact distribution (empty: none). */
export function checkSample(s: Stats, spec: Spec): string[] {
  const bad: string[] = [];
  const sd = specStd(spec);
  const mu = specMean(spec);
  const se = sd / Math.sqrt(s.n);
  if (Math.abs(s.mean - mu) > 4 * se) bad.push(`mean ${s.mean} vs ${mu} (> 4 SE = ${4 * se})`);
  if (rel(s.std, sd) > 0.02) bad.push(`std ${s.std} vs ${sd} (${(100 * rel(s.std, sd)).toFixed(2)}%)`);
  if (spec.kind === 'uniform') {
    const w = spec.high - spec.low;
    if (s.min < Math.fround(spec.low) || s.max > Math.fround(spec.high)) bad.push(`range [${s.min}, ${s.max}] outside [${spec.low}, ${spec.high}]`);
    if (s.min - spec.low > 0.01 * w || spec.high - s.max > 0.01 * w) bad.push(`range [${s.min}, ${s.max}] not near [${spec.low}, ${spec.high}]`);
  }
  return bad;
}

export async function check(fixture: any): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  const seed0 = Number.isSafeInteger(fixture.meta?.seed) ? fixture.meta.seed : 1;
  const run = (name: string, f: () => string[]) => {
    try {
      const bad = f();
      out.push(bad.length ? { name, ok: false, detail: bad.join('; ') } : { name, ok: true });
    } catch (e) {
      out.push({ name, ok: false, detail: (e as Error).message });
    }
  };

  (fixture.gains ?? []).forEach((c: any, i: number) =>
    run(`init.json gains #${i} ${c.nonlinearity}${c.param !== null && c.param !== undefined ? `(${c.param})` : ''}`, () => {
      const g = I.calculateGain(c.nonlinearity, c.param);
      return rel(g, c.gain) > 1e-12 ? [`gain ${g}, want ${c.gain}`] : [];
    }),
  );

  (fixture.fans ?? []).forEach((c: any, i: number) =>
    run(`init.json fans #${i} [${c.shape}]`, () => {
      const f = I.computeFans(c.shape);
      return f.fanIn !== c.fan_in || f.fanOut !== c.fan_out ? [`fans (${f.fanIn}, ${f.fanOut}), want (${c.fan_in}, ${c.fan_out})`] : [];
    }),
  );

  (fixture.distributions ?? []).forEach((c: any, i: number) =>
    run(`init.json distributions #${i} ${c.init} [${c.shape}]${c.mode ? ` ${c.mode}` : ''}${c.nonlinearity ? ` ${c.nonlinearity}(a=${c.a})` : ''}${c.gain !== undefined ? ` gain ${c.gain}` : ''}`, () => {
      const r = resolve({ ...c, std: undefined }, c.shape); // options as given: std is the answer here
      const bad: string[] = [];
      if (c.bound !== undefined) {
        if (r.spec.kind !== 'uniform') return [`${c.init} has a bound but tread draws it from a normal`];
        if (rel(r.spec.high, c.bound) > 1e-9) bad.push(`bound ${r.spec.high}, want ${c.bound}`);
      }
      if (c.std !== undefined) {
        if (r.spec.kind !== 'normal') return [`${c.init} has a std but tread draws it from a uniform`];
        if (rel(r.spec.std, c.std) > 1e-9) bad.push(`std ${r.spec.std}, want ${c.std}`);
      }
      if (bad.length) return bad;
      const sample = draw(r.fill, c.shape, seed0 + 1000 * i, 65536);
      return checkSample(stats(sample), r.spec).map((m) => `drawn: ${m}`);
    }),
  );

  (fixture.empirical ?? []).forEach((c: any, i: number) =>
    run(`init.json empirical #${i} ${c.init} [${c.shape}]`, () => {
      const r = resolve(c, c.shape);
      const s = stats(draw(r.fill, c.shape, seed0 + 7919 * (i + 1)));
      const bad: string[] = [];
      const sd = specStd(r.spec);
      const se = Math.SQRT2 * (sd / Math.sqrt(s.n));
      if (Math.abs(s.mean - c.mean) > 4 * se) bad.push(`mean ${s.mean} vs PyTorch ${c.mean} (> 4 SE = ${4 * se})`);
      if (rel(s.std, c.std) > 0.02) bad.push(`std ${s.std} vs PyTorch ${c.std}`);
      const tol = r.spec.kind === 'uniform' ? 0.01 * (r.spec.high - r.spec.low) : sd;
      if (Math.abs(s.min - c.min) > tol) bad.push(`min ${s.min} vs PyTorch ${c.min} (tolerance ${tol})`);
      if (Math.abs(s.max - c.max) > tol) bad.push(`max ${s.max} vs PyTorch ${c.max} (tolerance ${tol})`);
      bad.push(...checkSample(s, r.spec).map((m) => `against its exact distribution: ${m}`));
      return bad.length ? [...bad, `(options: ${r.what})`] : [];
    }),
  );

  return out;
}
