/**
 * A study: trials drawn by a sampler, scored by an objective that may report intermediate
 * values and be pruned, kept in a JSON file so that an interrupted study resumes (as Optuna's
 * studies with storage):
 *
 *   const study = await Study.open('lr-study.json', { mode: 'min', pruner: new MedianPruner() });
 *   await study.optimize({ lr: logUniform(1e-4, 1e-1) }, async (p, trial) => {
 *     for (let epoch = 0; epoch < 10; epoch++) {
 *       const v = trainOneEpochAndValidate(p.lr);
 *       trial.report(v, epoch + 1);
 *       if (trial.shouldPrune()) return trial.prune();
 *     }
 *     return v;
 *   }, { trials: 30 });
 *   study.best
 *
 * Trial i's params depend only on (seed, i) and, for the narrowing sampler, the trials before
 * it, so a study resumed from its file draws what the uninterrupted one would have drawn. The
 * file is written atomically after every trial; a trial that was running when the process
 * died is run again.
 */
import { hash32 } from '../data/random.js';
import { atomicWriteFile } from '../train/atomic.js';
import { sortTrials, type SearchSpace } from '../train/search.js';
import { checkNumberOption, checkOneOf, checkOptions } from '../util/options.js';
import type { Pruner } from './pruners.js';
import { RandomSampler, type Sampler } from './samplers.js';
import { runParallel, type ParallelObjective, type ParallelOptions } from './parallel.js';

export type TrialState = 'complete' | 'pruned' | 'failed';

export interface StudyTrial<P = Record<string, unknown>> {
  index: number;
  params: P;
  state: TrialState;
  /** The objective's score; for a pruned trial its last reported value; NaN when failed. */
  score: number;
  /** [step, value] pairs reported, in order. */
  intermediate: [number, number][];
  seconds: number;
  seed: number;
  error: string | null;
  info?: Record<string, unknown>;
}

/** Thrown by (or returned from) `trial.prune()` to stop a trial as pruned. */
export class TrialPruned extends Error {
  constructor(step: number) {
    super(`pruned at step ${step}`);
    this.name = 'TrialPruned'; // recognised by name too (a trial in a Worker has its own copy of this class)
  }
}

/** What the objective gets: the trial's number and seed, and report/shouldPrune/prune. */
export class TrialContext<P = Record<string, unknown>> {
  private lastStep = -Infinity;
  constructor(
    private readonly study: Study,
    readonly trial: StudyTrial<P>,
  ) {}
  get index(): number {
    return this.trial.index;
  }
  get seed(): number {
    return this.trial.seed;
  }
  get params(): P {
    return this.trial.params;
  }
  /** Records an intermediate value (e.g. validation loss after `step` epochs); steps increase. */
  report(value: number, step: number): void {
    checkNumberOption(`trial ${this.trial.index}: report`, 'step', step, { min: 0 });
    if (!(step > this.lastStep)) throw new Error(`trial ${this.trial.index}: report: steps must increase (got ${step} after ${this.lastStep})`);
    if (typeof value !== 'number') throw new Error(`trial ${this.trial.index}: report: value must be a number, got ${typeof value}`);
    this.lastStep = step;
    this.trial.intermediate.push([step, value]);
  }
  /** Whether the study's pruner would stop this trial at its last reported step. */
  shouldPrune(): boolean {
    if (!this.study.pruner || this.trial.intermediate.length === 0) return false;
    return this.study.pruner.shouldPrune(this.trial as StudyTrial, this.lastStep, this.study.trials, this.study.mode);
  }
  /** Stops the trial as pruned: `return trial.prune()` or `throw` what it returns. */
  prune(): never {
    throw new TrialPruned(this.lastStep);
  }
}

export interface StudyOptions {
  mode?: 'min' | 'max';
  pruner?: Pruner | null;
  sampler?: Sampler;
  /** Seed of the sampling and of each trial's seed (default 0). */
  seed?: number;
  /** JSON file the study is kept in (written after every trial); Node only. */
  file?: string;
}

export interface OptimizeOptions<P> {
  /** Trials the study should have in all (those already in its file count). */
  trials: number;
  onTrialEnd?: (trial: StudyTrial<P>) => void | Promise<void>;
}

export type StudyObjective<P> = (params: P, trial: TrialContext<P>) => number | ({ score: number } & Record<string, unknown>) | Promise<number | ({ score: number } & Record<string, unknown>)>;

const FORMAT = 'tread.study/1';

export class Study {
  readonly mode: 'min' | 'max';
  readonly pruner: Pruner | null;
  readonly sampler: Sampler;
  readonly seed: number;
  readonly file: string | null;
  readonly trials: StudyTrial[] = [];

  constructor(options: StudyOptions = {}) {
    checkOptions('Study', options, ['mode', 'pruner', 'sampler', 'seed', 'file']);
    this.mode = checkOneOf('Study', 'mode', options.mode ?? 'min', ['min', 'max'] as const);
    this.pruner = options.pruner ?? null;
    this.sampler = options.sampler ?? new RandomSampler();
    this.seed = checkNumberOption('Study', 'seed', options.seed ?? 0, { integer: true, min: 0 });
    this.file = options.file ?? null;
  }

  /** A study kept in `file`: its trials are loaded when the file exists (same mode and seed required). */
  static async open(file: string, options: Omit<StudyOptions, 'file'> = {}): Promise<Study> {
    const study = new Study({ ...options, file });
    const { readFile } = await import('node:fs/promises');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return study;
      throw new Error(`Study.open: cannot read '${file}': ${(e as Error).message}`);
    }
    if (text.length > 256 * 1024 * 1024) throw new Error(`Study.open: '${file}' is larger than 256 MB`);
    let data: any;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new Error(`Study.open: '${file}' is not valid JSON (${(e as Error).message}); nothing was loaded`);
    }
    if (!data || data.format !== FORMAT || !Array.isArray(data.trials)) throw new Error(`Study.open: '${file}' is not a tread study (format '${FORMAT}')`);
    if (data.mode !== study.mode || data.seed !== study.seed || data.sampler !== study.sampler.name) {
      throw new Error(`Study.open: '${file}' was made with mode '${data.mode}', seed ${data.seed}, sampler '${data.sampler}'; this study has '${study.mode}', ${study.seed}, '${study.sampler.name}'`);
    }
    data.trials.forEach((t: any, i: number) => {
      const ok = t && t.index === i && typeof t.params === 'object' && ['complete', 'pruned', 'failed'].includes(t.state) && Array.isArray(t.intermediate);
      if (!ok) throw new Error(`Study.open: '${file}': trial ${i} is malformed; nothing was loaded`);
    });
    for (const t of data.trials) study.trials.push({ ...t, score: t.score === null ? NaN : t.score });
    return study;
  }

  /** Finished trials, best first (complete ones only); null when none. */
  get best(): StudyTrial | null {
    const complete = this.trials.filter((t) => t.state === 'complete');
    const first = sortTrials(complete.map((t) => ({ ...t, ok: true })), this.mode)[0];
    return first ? this.trials[first.index]! : null;
  }

  toJSON(): unknown {
    return { format: FORMAT, mode: this.mode, seed: this.seed, sampler: this.sampler.name, pruner: this.pruner?.name ?? null, trials: this.trials.map((t) => ({ ...t, score: Number.isFinite(t.score) ? t.score : null })) };
  }

  async save(): Promise<void> {
    if (!this.file) return;
    await atomicWriteFile(this.file, new TextEncoder().encode(JSON.stringify(this.toJSON(), null, 1)));
  }

  /** Runs trials until the study has `trials` of them. */
  async optimize<S extends SearchSpace>(space: S, objective: StudyObjective<any>, options: OptimizeOptions<any>): Promise<StudyTrial | null> {
    checkOptions('Study.optimize', options, ['trials', 'onTrialEnd']);
    const total = checkNumberOption('Study.optimize', 'trials', options?.trials, { integer: true, min: 1 });
    if (typeof objective !== 'function') throw new Error('Study.optimize: the objective must be a function (params, trial) => score');
    while (this.trials.length < total) {
      const trial = this.newTrial(space, this.trials.length, this.trials);
      const ctx = new TrialContext(this, trial);
      const t0 = performance.now();
      try {
        settle(trial, { value: await objective(trial.params, ctx) });
      } catch (e) {
        settle(trial, { error: e });
      }
      trial.seconds = (performance.now() - t0) / 1000;
      this.trials.push(trial);
      await this.save();
      if (options.onTrialEnd) await options.onTrialEnd(trial);
    }
    return this.best;
  }

  /**
   * As optimize(), with the trials run by `workers` Node worker threads at once, each giving
   * tread `threadsPerWorker` threads (default: the cores shared out). The objective is an export
   * of a module the workers import (`{ module: new URL('./objective.js', import.meta.url) }`),
   * with optimize()'s signature. Trials are numbered as they start and kept in that order;
   * `shouldPrune()` compares against the trials finished when the trial started. With the random
   * sampler a parallel study draws what a sequential one draws; the narrowing sampler narrows
   * from whatever has finished, so its draws depend on timing. Node only (search/parallel.ts).
   */
  async optimizeParallel<S extends SearchSpace>(space: S, objective: ParallelObjective, options: ParallelOptions): Promise<StudyTrial | null> {
    await runParallel(this, space, objective, options);
    return this.best;
  }

  /** @internal The record of trial `index`, its params drawn given the trials finished so far. */
  newTrial(space: SearchSpace, index: number, finished: readonly StudyTrial[]): StudyTrial {
    const params = this.sampler.sample(space, index, finished, this.mode, this.seed);
    return { index, params, state: 'failed', score: NaN, intermediate: [], seconds: 0, seed: hash32(this.seed, 0x7e1a1, index), error: null };
  }

  /** One line per state and the best trial. */
  summary(): string {
    const n = (s: TrialState) => this.trials.filter((t) => t.state === s).length;
    const b = this.best;
    const params = b ? Object.entries(b.params).map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : JSON.stringify(v)}`).join(' ') : '';
    return `${this.trials.length} trials: ${n('complete')} complete, ${n('pruned')} pruned, ${n('failed')} failed` + (b ? `; best: trial ${b.index} (${params}) -> ${Number(b.score.toPrecision(5))}` : '');
  }
}

/** @internal A trial's state from what its objective returned or threw. */
export function settle(trial: StudyTrial, r: { value?: unknown; error?: unknown; pruned?: boolean }): void {
  if ('error' in r || r.pruned) {
    const e = r.error;
    if (r.pruned || e instanceof TrialPruned || (e as Error)?.name === 'TrialPruned') {
      trial.state = 'pruned';
      trial.score = trial.intermediate.at(-1)?.[1] ?? NaN;
    } else trial.error = e instanceof Error ? e.message : String(e);
    return;
  }
  const value = r.value;
  const { score, ...rest } = typeof value === 'object' && value !== null ? (value as { score: unknown }) : { score: value };
  if (Object.keys(rest).length) trial.info = rest;
  if (typeof score === 'number' && Number.isFinite(score)) {
    trial.score = score;
    trial.state = 'complete';
  } else trial.error = `the objective returned ${String(score)}, not a finite number`;
}
