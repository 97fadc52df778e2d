/**
 * Hyperparameter search: search spaces, grid search, random search and successive halving,
 * all seeded and reproducible, with failing trials recorded rather than fatal.
 *
 *   const space = { lr: logUniform(1e-4, 1e-1), weightDecay: choice([0, 1e-4, 1e-3]), hidden: 64 };
 *   const result = await randomSearch(space, async (p, trial) => {
 *     nn.manualSeed(trial.seed);
 *     ...train with p.lr, p.weightDecay, p.hidden...
 *     return validationLoss;                    // lower is better (mode: 'max' for accuracy)
 *   }, { trials: 20, seed: 1 });
 *   result.best.params; console.log(formatTrials(result));
 *
 * A space maps names to parameters (`choice`, `uniform`, `logUniform`, `intUniform`) or to
 * constants, which every trial receives unchanged. The objective gets the trial's params and
 * a TrialInfo (its index, a seed derived from the search seed for its own initialisation,
 * and the budget under successive halving), and returns a score, or `{ score, ...info }` to
 * record more. A throw, or a NaN/infinite score, marks the trial failed (with the error) and
 * the search goes on. Trials run one after another: training already uses every core.
 *
 * `fitObjective` turns "build a model, optimizer and loaders from params" into an objective
 * that runs fit() and scores the best (or last) validation loss or accuracy.
 */
import { hash32, Rng } from '../data/random.js';
import { fit, type FitOptions, type FitResult } from './fit.js';
import type { ModuleLike } from './types.js';
import { checkBooleanOption, checkNumberOption, checkOneOf, checkOptions } from '../util/options.js';

// ---------------------------------------------------------------------------------------
// Search spaces

export type ParamKind = 'choice' | 'uniform' | 'logUniform' | 'intUniform';

/** One dimension of a search space: how to sample it and how to lay it on a grid. */
export abstract class SearchParam<T> {
  abstract readonly kind: ParamKind;
  /** A random value. */
  abstract sample(rng: Rng): T;
  /** Grid points: every choice, or `steps` points spanning a range (`steps` is needed for continuous ranges). */
  abstract grid(steps: number | undefined, name: string): T[];
  abstract toString(): string;
}

class Choice<T> extends SearchParam<T> {
  readonly kind = 'choice' as const;
  constructor(readonly values: readonly T[]) {
    super();
    if (!Array.isArray(values) || values.length === 0) throw new Error(`choice: expects a non-empty array of values, got ${JSON.stringify(values)}`);
  }
  sample(rng: Rng): T {
    return this.values[rng.int(this.values.length)];
  }
  grid(): T[] {
    return [...this.values];
  }
  toString(): string {
    return `choice([${this.values.map((v) => JSON.stringify(v)).join(', ')}])`;
  }
}

function checkRange(where: string, lo: number, hi: number): void {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`${where}: lo and hi must be finite numbers, got ${lo} and ${hi}`);
  if (!(lo < hi)) throw new Error(`${where}: lo (${lo}) must be below hi (${hi})`);
}

function checkSteps(steps: number | undefined, name: string, what: string): number {
  if (steps === undefined) {
    throw new Error(`gridSearch: '${name}' is a continuous range (${what}); give options.steps (a number, or { ${name}: n }) to lay it on a grid`);
  }
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`gridSearch: steps for '${name}' must be a positive integer, got ${steps}`);
  return steps;
}

/** `steps` evenly spaced points from 0 to 1 (one step: the middle). */
function fractions(steps: number): number[] {
  if (steps === 1) return [0.5];
  return Array.from({ length: steps }, (_, i) => i / (steps - 1));
}

class Uniform extends SearchParam<number> {
  readonly kind = 'uniform' as const;
  constructor(readonly lo: number, readonly hi: number) {
    super();
    checkRange('uniform', lo, hi);
  }
  sample(rng: Rng): number {
    return this.lo + (this.hi - this.lo) * rng.uniform();
  }
  grid(steps: number | undefined, name: string): number[] {
    return fractions(checkSteps(steps, name, String(this))).map((f) => this.lo + (this.hi - this.lo) * f);
  }
  toString(): string {
    return `uniform(${this.lo}, ${this.hi})`;
  }
}

class LogUniform extends SearchParam<number> {
  readonly kind = 'logUniform' as const;
  constructor(readonly lo: number, readonly hi: number) {
    super();
    checkRange('logUniform', lo, hi);
    if (lo <= 0) throw new Error(`logUniform: lo must be positive (it is sampled on a log scale), got ${lo}`);
  }
  sample(rng: Rng): number {
    const a = Math.log(this.lo);
    return Math.exp(a + (Math.log(this.hi) - a) * rng.uniform());
  }
  grid(steps: number | undefined, name: string): number[] {
    const a = Math.log(this.lo);
    const b = Math.log(this.hi);
    // The ends exactly (exp(log(x)) can be off in the last bit).
    return fractions(checkSteps(steps, name, String(this))).map((f) => (f === 0 ? this.lo : f === 1 ? this.hi : Math.exp(a + (b - a) * f)));
  }
  toString(): string {
    return `logUniform(${this.lo}, ${this.hi})`;
  }
}

class IntUniform extends SearchParam<number> {
  readonly kind = 'intUniform' as const;
  constructor(readonly lo: number, readonly hi: number) {
    super();
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) throw new Error(`intUniform: lo and hi must be integers, got ${lo} and ${hi}`);
    if (lo > hi) throw new Error(`intUniform: lo (${lo}) must not exceed hi (${hi})`);
  }
  sample(rng: Rng): number {
    return this.lo + rng.int(this.hi - this.lo + 1);
  }
  /** Every integer (without steps), or `steps` evenly spaced ones, rounded and deduplicated. */
  grid(steps: number | undefined): number[] {
    if (steps === undefined) {
      const n = this.hi - this.lo + 1;
      if (n > 10000) throw new Error(`gridSearch: ${this} has ${n} values; give options.steps`);
      return Array.from({ length: n }, (_, i) => this.lo + i);
    }
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`gridSearch: steps must be a positive integer, got ${steps}`);
    return [...new Set(fractions(steps).map((f) => Math.round(this.lo + (this.hi - this.lo) * f)))];
  }
  toString(): string {
    return `intUniform(${this.lo}, ${this.hi})`;
  }
}

/** One of `values`, each equally likely (on a grid: every value). */
export function choice<T>(values: readonly T[]): SearchParam<T> {
  return new Choice(values);
}
/** A number in [lo, hi), uniformly. */
export function uniform(lo: number, hi: number): SearchParam<number> {
  return new Uniform(lo, hi);
}
/** A number in [lo, hi) whose logarithm is uniform (learning rates, weight decays); lo > 0. */
export function logUniform(lo: number, hi: number): SearchParam<number> {
  return new LogUniform(lo, hi);
}
/** An integer in lo..hi, both included, uniformly. */
export function intUniform(lo: number, hi: number): SearchParam<number> {
  return new IntUniform(lo, hi);
}

/** Names to parameters, or to constants passed to every trial as they are. */
export type SearchSpace = Record<string, unknown>;
/** The params a trial of `S` receives. */
export type ParamsOf<S extends SearchSpace> = { [K in keyof S]: ValueOf<S[K]> };
/** A dimension's value type (distributes over unions such as `SearchParam<number> | number`). */
export type ValueOf<V> = V extends SearchParam<infer T> ? T : V;

function checkSpace(space: SearchSpace, where: string): void {
  if (!space || typeof space !== 'object' || Array.isArray(space)) throw new Error(`${where}: the search space must be an object of name -> choice/uniform/logUniform/intUniform (or a constant)`);
}

/** Draws one point of `space` (constants pass through), keys in the space's order. */
export function sampleSpace<S extends SearchSpace>(space: S, rng: Rng): ParamsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(space)) out[k] = v instanceof SearchParam ? v.sample(rng) : v;
  return out as ParamsOf<S>;
}

/**
 * Every point of the grid, in row-major order (the first key varies slowest). `steps` lays
 * continuous ranges on `steps` points (a number for all, or per name).
 */
export function gridPoints<S extends SearchSpace>(space: S, steps?: number | Record<string, number>): ParamsOf<S>[] {
  // Per-name steps: a misspelled name would silently get the default.
  if (steps !== undefined && typeof steps === 'object') checkOptions('gridSearch: steps', steps, Object.keys(space));
  checkSpace(space, 'gridSearch');
  let points: Record<string, unknown>[] = [{}];
  for (const [k, v] of Object.entries(space)) {
    const values = v instanceof SearchParam ? v.grid(typeof steps === 'number' ? steps : steps?.[k], k) : [v];
    points = points.flatMap((p) => values.map((x) => ({ ...p, [k]: x })));
  }
  return points as ParamsOf<S>[];
}

// ---------------------------------------------------------------------------------------
// Trials

export interface TrialInfo {
  /** The trial's number, from 0 in the order trials run. */
  index: number;
  /** A seed for this trial's own randomness (e.g. nn.manualSeed), derived from the search seed. */
  seed: number;
  /** The budget (e.g. epochs) under successive halving; undefined otherwise. */
  budget?: number;
}

/** What the objective returns: a score, or a score with more to record in `trial.info`. */
export type ObjectiveValue = number | ({ score: number } & Record<string, unknown>);

export type Objective<P> = ((params: P, trial: TrialInfo) => ObjectiveValue | Promise<ObjectiveValue>) & {
  /** The direction the objective's score wants, used when the search gives no `mode`. */
  mode?: 'min' | 'max';
};

export interface Trial<P> {
  index: number;
  params: P;
  /** The score (NaN when failed). */
  score: number;
  /** False when the objective threw or returned a non-finite score. */
  ok: boolean;
  error: string | null;
  /** Wall time of the objective, seconds. */
  seconds: number;
  seed: number;
  budget?: number;
  /** Extra fields the objective returned besides `score`. */
  info?: Record<string, unknown>;
}

export interface SearchResult<P> {
  /** Best first; failed trials last, in the order they ran. */
  trials: Trial<P>[];
  best: Trial<P> | null;
  mode: 'min' | 'max';
  failed: number;
  seconds: number;
}

export interface SearchOptions<P> {
  /** 'min' (default: losses) or 'max' (accuracies); defaults to the objective's own `mode`. */
  mode?: 'min' | 'max';
  /** Seeds each trial's TrialInfo.seed (and, for random search, the sampling). Default 0. */
  seed?: number;
  /** Called after each trial (e.g. to print progress). */
  onTrialEnd?: (trial: Trial<P>) => void | Promise<void>;
  /** Print one line per trial. */
  verbose?: boolean;
}

const SEARCH_KEYS = ['mode', 'seed', 'onTrialEnd', 'verbose'];

/** Keys and values of a search's options (plain JS users have no compiler). */
function checkSearchOptions(owner: string, options: unknown, own: readonly string[]): void {
  checkOptions(owner, options, [...SEARCH_KEYS, ...own]);
  const o = (options ?? {}) as Record<string, unknown>;
  if (o.seed !== undefined) checkNumberOption(owner, 'seed', o.seed, { integer: true, min: 0 });
  if (o.verbose !== undefined) checkBooleanOption(owner, 'verbose', o.verbose);
  if (o.onTrialEnd !== undefined && typeof o.onTrialEnd !== 'function') throw new TypeError(`${owner}: onTrialEnd must be a function`);
}

function trialSeed(seed: number, index: number): number {
  return hash32(seed, 0x7e1a1, index);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function runTrial<P>(objective: Objective<P>, params: P, info: TrialInfo): Promise<Trial<P>> {
  const t0 = performance.now();
  const trial: Trial<P> = { index: info.index, params, score: NaN, ok: false, error: null, seconds: 0, seed: info.seed };
  if (info.budget !== undefined) trial.budget = info.budget;
  try {
    const value = await objective(params, { ...info });
    const { score, ...rest } = typeof value === 'object' && value !== null ? value : { score: value };
    if (Object.keys(rest).length > 0) trial.info = rest;
    if (typeof score !== 'number') trial.error = `the objective returned ${JSON.stringify(score)}, not a number`;
    else if (!Number.isFinite(score)) trial.error = `the objective returned a non-finite score (${score})`;
    else {
      trial.score = score;
      trial.ok = true;
    }
  } catch (e) {
    trial.error = message(e);
  }
  trial.seconds = (performance.now() - t0) / 1000;
  return trial;
}

/** Best first (ties: the earlier trial), failed trials last in index order. */
export function sortTrials<P>(trials: readonly Trial<P>[], mode: 'min' | 'max'): Trial<P>[] {
  const sign = mode === 'max' ? -1 : 1;
  return [...trials].sort((a, b) => {
    if (a.ok !== b.ok) return a.ok ? -1 : 1;
    if (a.ok && a.score !== b.score) return sign * (a.score - b.score);
    return a.index - b.index;
  });
}

function resolveMode(mode: 'min' | 'max' | undefined, objective: Objective<unknown>, where: string): 'min' | 'max' {
  const m = mode ?? objective.mode ?? 'min';
  if (m !== 'min' && m !== 'max') throw new Error(`${where}: mode must be 'min' or 'max', got '${m}'`);
  return m;
}

async function runAll<P>(pointsAndInfo: [P, TrialInfo][], objective: Objective<P>, options: SearchOptions<P>, mode: 'min' | 'max', t0: number): Promise<SearchResult<P>> {
  const done: Trial<P>[] = [];
  for (const [params, info] of pointsAndInfo) {
    const trial = await runTrial(objective, params, info);
    done.push(trial);
    if (options.verbose) console.log(formatTrialLine(trial));
    if (options.onTrialEnd) await options.onTrialEnd(trial);
  }
  const trials = sortTrials(done, mode);
  return { trials, best: trials[0]?.ok ? trials[0] : null, mode, failed: done.filter((t) => !t.ok).length, seconds: (performance.now() - t0) / 1000 };
}

function checkObjective(objective: unknown, where: string): void {
  if (typeof objective !== 'function') throw new Error(`${where}: the objective must be a function (params, trial) => score`);
}

export interface GridSearchOptions<P> extends SearchOptions<P> {
  /** Points per continuous range (uniform, logUniform; intUniform defaults to every integer): a number, or per name. */
  steps?: number | Record<string, number>;
}

/** Runs the objective on every point of the grid (the product of the dimensions), in row-major order. */
export async function gridSearch<S extends SearchSpace>(space: S, objective: Objective<ParamsOf<S>>, options: GridSearchOptions<ParamsOf<S>> = {}): Promise<SearchResult<ParamsOf<S>>> {
  const t0 = performance.now();
  checkObjective(objective, 'gridSearch');
  checkSearchOptions('gridSearch', options, ['steps']);
  options ??= {};
  const mode = resolveMode(options.mode, objective as Objective<unknown>, 'gridSearch');
  const seed = options.seed ?? 0;
  const points = gridPoints(space, options.steps);
  return runAll(points.map((p, i) => [p, { index: i, seed: trialSeed(seed, i) }]), objective, options, mode, t0);
}

export interface RandomSearchOptions<P> extends SearchOptions<P> {
  /** Number of trials. */
  trials: number;
}

/** Runs the objective on `trials` points drawn from the space; trial i's point depends only on (seed, i). */
export async function randomSearch<S extends SearchSpace>(space: S, objective: Objective<ParamsOf<S>>, options: RandomSearchOptions<ParamsOf<S>>): Promise<SearchResult<ParamsOf<S>>> {
  const t0 = performance.now();
  checkSpace(space, 'randomSearch');
  checkObjective(objective, 'randomSearch');
  checkSearchOptions('randomSearch', options, ['trials']);
  const n = options?.trials;
  if (!Number.isInteger(n) || n < 1) throw new Error(`randomSearch: trials must be a positive integer, got ${n}`);
  const mode = resolveMode(options.mode, objective as Objective<unknown>, 'randomSearch');
  const seed = options.seed ?? 0;
  const points: [ParamsOf<S>, TrialInfo][] = [];
  for (let i = 0; i < n; i++) points.push([sampleSpace(space, new Rng(seed, 0x5ea0000 + i)), { index: i, seed: trialSeed(seed, i) }]);
  return runAll(points, objective, options, mode, t0);
}

// ---------------------------------------------------------------------------------------
// Successive halving

export interface SuccessiveHalvingOptions<P> extends SearchOptions<P> {
  /** Configurations drawn at the start (from the space, as randomSearch draws them). */
  trials: number;
  /** Budget of the first rung (e.g. 1 epoch). */
  minBudget: number;
  /** Budget never exceeded (default: grows until one configuration is left). */
  maxBudget?: number;
  /** Keep the best 1/eta of each rung and multiply the budget by eta (default 3). */
  eta?: number;
}

export interface SuccessiveHalvingResult<P> extends SearchResult<P> {
  /** Each rung's trials, best first. */
  rungs: Trial<P>[][];
}

/**
 * Successive halving: run every configuration with a small budget, keep the best 1/eta,
 * multiply the budget by eta, and repeat until one configuration is left or the budget
 * reaches maxBudget. The objective sees the budget as `trial.budget` and starts afresh at
 * each rung (it may use trial.seed, which is the same for a configuration at every rung, to
 * retrace its earlier steps). `best` is the best trial of the last rung; `trials` holds
 * every evaluation, the last rung's first.
 */
export async function successiveHalving<S extends SearchSpace>(space: S, objective: Objective<ParamsOf<S>>, options: SuccessiveHalvingOptions<ParamsOf<S>>): Promise<SuccessiveHalvingResult<ParamsOf<S>>> {
  const t0 = performance.now();
  checkSpace(space, 'successiveHalving');
  checkObjective(objective, 'successiveHalving');
  checkSearchOptions('successiveHalving', options, ['trials', 'minBudget', 'maxBudget', 'eta']);
  const n = options?.trials;
  if (!Number.isInteger(n) || n < 1) throw new Error(`successiveHalving: trials must be a positive integer, got ${n}`);
  const eta = options.eta ?? 3;
  if (!(eta > 1)) throw new Error(`successiveHalving: eta must be above 1, got ${eta}`);
  if (!(options.minBudget > 0)) throw new Error(`successiveHalving: minBudget must be positive, got ${options.minBudget}`);
  const maxBudget = options.maxBudget ?? Infinity;
  if (!(maxBudget >= options.minBudget)) throw new Error(`successiveHalving: maxBudget (${maxBudget}) must be at least minBudget (${options.minBudget})`);
  const mode = resolveMode(options.mode, objective as Objective<unknown>, 'successiveHalving');
  const seed = options.seed ?? 0;
  const integral = Number.isInteger(options.minBudget);

  let alive = Array.from({ length: n }, (_, i) => ({ config: i, params: sampleSpace(space, new Rng(seed, 0x5ea0000 + i)) }));
  const rungs: Trial<ParamsOf<S>>[][] = [];
  let budget = options.minBudget;
  let index = 0;
  for (;;) {
    const res = await runAll(
      alive.map((a) => [a.params, { index: index++, seed: trialSeed(seed, a.config), budget }] as [ParamsOf<S>, TrialInfo]),
      objective,
      options,
      mode,
      t0,
    );
    rungs.push(res.trials);
    const ok = res.trials.filter((t) => t.ok);
    const byTrial = new Map(alive.map((a, i) => [index - alive.length + i, a]));
    const keep = Math.max(1, Math.floor(alive.length / eta));
    if (ok.length <= 1 || budget >= maxBudget || alive.length === 1) break;
    alive = ok.slice(0, keep).map((t) => byTrial.get(t.index)!);
    const next = budget * eta;
    budget = Math.min(maxBudget, integral ? Math.round(next) : next);
  }
  const last = rungs[rungs.length - 1];
  const trials = rungs.slice().reverse().flat();
  const all = rungs.flat();
  return { trials, best: last[0]?.ok ? last[0] : null, mode, failed: all.filter((t) => !t.ok).length, seconds: (performance.now() - t0) / 1000, rungs };
}

// ---------------------------------------------------------------------------------------
// fit() as an objective

/** What fitObjective's setup returns: fit()'s options plus the model to train. */
export type FitTrialSetup = FitOptions & { model: ModuleLike };

export interface FitObjectiveOptions {
  /** The logged key to score (default 'val_loss'; e.g. 'val_accuracy'). */
  monitor?: string;
  /** 'best' value over epochs (default; what early stopping with restored weights keeps) or 'last'. */
  reduce?: 'best' | 'last';
  /** Direction of the monitored value (default: 'max' when its name contains 'acc', else 'min'). */
  mode?: 'min' | 'max';
}

/**
 * An objective that builds a run from the params (`setup` returns the model and fit()'s
 * options), trains it with fit(), and scores the monitored value; the trial's info records
 * the epoch of that value, the epochs run, fit's stop reason and warnings. Under successive
 * halving, `trial.budget` replaces the setup's `epochs`. The objective carries `mode`, which
 * the searches use when they are given none.
 */
export function fitObjective<P>(setup: (params: P, trial: TrialInfo) => FitTrialSetup | Promise<FitTrialSetup>, options: FitObjectiveOptions = {}): Objective<P> {
  checkOptions('fitObjective', options, ['monitor', 'reduce', 'mode']);
  options ??= {};
  if (options.reduce !== undefined) checkOneOf('fitObjective', 'reduce', options.reduce, ['best', 'last']);
  if (options.mode !== undefined) checkOneOf('fitObjective', 'mode', options.mode, ['min', 'max']);
  const monitor = options.monitor ?? 'val_loss';
  const reduce = options.reduce ?? 'best';
  const mode = options.mode ?? (/acc/.test(monitor) ? 'max' : 'min');
  const objective: Objective<P> = async (params, trial) => {
    const { model, ...fitOptions } = await setup(params, trial);
    if (trial.budget !== undefined) fitOptions.epochs = trial.budget;
    const result: FitResult = await fit(model, fitOptions);
    const series = result.history.series(monitor);
    if (series.length === 0) {
      throw new Error(`fit stopped before any epoch finished${result.warnings.length ? `: ${result.warnings[0]}` : ''}`);
    }
    if (!result.history.keys().includes(monitor)) {
      throw new Error(`fitObjective: '${monitor}' is not in the epoch logs (${result.history.keys().join(', ')}); give fit a 'val' set or choose another monitor`);
    }
    let at = series.length - 1;
    if (reduce === 'best') {
      for (let i = 0; i < series.length; i++) {
        const better = mode === 'min' ? series[i] < series[at] : series[i] > series[at];
        if (Number.isFinite(series[i]) && (!Number.isFinite(series[at]) || better)) at = i;
      }
    }
    return { score: series[at], epoch: at + 1, epochs: series.length, stopReason: result.stopReason, warnings: result.warnings, seconds: result.seconds };
  };
  objective.mode = mode;
  return objective;
}

// ---------------------------------------------------------------------------------------
// Printing

function formatValue(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    // Four significant digits without trailing zeros: 0.001, 0.07721, 3.78e-4.
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? Number(v.toExponential(2)).toExponential() : String(Number(v.toPrecision(4)));
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function formatTrialLine<P>(t: Trial<P>): string {
  const params = Object.entries(t.params as Record<string, unknown>).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
  const budget = t.budget !== undefined ? ` budget ${formatValue(t.budget)}` : '';
  return `trial ${t.index}${budget}: ${params} -> ${t.ok ? formatValue(t.score) : `failed (${t.error})`} [${t.seconds.toFixed(2)} s]`;
}

/** The trials as a text table, best first (`top` rows at most). */
export function formatTrials<P>(result: SearchResult<P>, options: { top?: number; scoreName?: string } = {}): string {
  checkOptions('formatTrials', options, ['top', 'scoreName']);
  options ??= {};
  if (options.top !== undefined) checkNumberOption('formatTrials', 'top', options.top, { integer: true, min: 0 });
  const rows = result.trials.slice(0, options.top ?? result.trials.length);
  const names = [...new Set(rows.flatMap((t) => Object.keys(t.params as Record<string, unknown>)))];
  const withBudget = rows.some((t) => t.budget !== undefined);
  const head = ['rank', 'trial', ...names, ...(withBudget ? ['budget'] : []), options.scoreName ?? 'score', 'seconds'];
  const body = rows.map((t, i) => [
    String(i + 1),
    String(t.index),
    ...names.map((n) => formatValue((t.params as Record<string, unknown>)[n])),
    ...(withBudget ? [t.budget === undefined ? '' : formatValue(t.budget)] : []),
    t.ok ? formatValue(t.score) : `failed: ${t.error}`,
    t.seconds.toFixed(2),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((c, j) => (j === r.length - 2 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
