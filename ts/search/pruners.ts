/**
 * Pruners stop unpromising trials from their intermediate results (`trial.report(value,
 * step)`), as Optuna's do:
 *
 * - `MedianPruner`: prune when the trial's best value so far is worse than the median of
 *   the other complete trials' values at the same step (after `startupTrials` finished
 *   trials and `warmupSteps` steps of this one).
 * - `SuccessiveHalvingPruner` (ASHA, Li et al. 2020, run one trial at a time): rungs at steps
 *   minResource·ηᵏ; a trial reaching a rung continues only while its value is in the top 1/η
 *   of all values recorded at that rung so far (the first at a rung always continues).
 */
import { checkNumberOption, checkOptions } from '../util/options.js';
import type { StudyTrial } from './study.js';

export interface Pruner {
  readonly name: string;
  /** Whether `trial` (running; its last report at `step`) should stop now. */
  shouldPrune(trial: StudyTrial, step: number, others: readonly StudyTrial[], mode: 'min' | 'max'): boolean;
}

const better = (mode: 'min' | 'max') => (a: number, b: number) => (mode === 'min' ? a < b : a > b);

function valueAt(t: StudyTrial, step: number): number | undefined {
  for (const [s, v] of t.intermediate) if (s === step) return v;
  return undefined;
}

export interface MedianPrunerOptions {
  startupTrials?: number;
  warmupSteps?: number;
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly startupTrials: number;
  readonly warmupSteps: number;
  constructor(options: MedianPrunerOptions = {}) {
    checkOptions('MedianPruner', options, ['startupTrials', 'warmupSteps']);
    this.startupTrials = checkNumberOption('MedianPruner', 'startupTrials', options.startupTrials ?? 5, { integer: true, min: 0 });
    this.warmupSteps = checkNumberOption('MedianPruner', 'warmupSteps', options.warmupSteps ?? 0, { integer: true, min: 0 });
  }
  shouldPrune(trial: StudyTrial, step: number, others: readonly StudyTrial[], mode: 'min' | 'max'): boolean {
    if (step < this.warmupSteps) return false;
    const finished = others.filter((t) => t.state === 'complete' && t.index !== trial.index); // as Optuna: complete trials only
    if (finished.length < this.startupTrials) return false;
    const at = finished.map((t) => valueAt(t, step)).filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
    if (at.length === 0) return false;
    const m = at.length % 2 ? at[(at.length - 1) / 2]! : (at[at.length / 2 - 1]! + at[at.length / 2]!) / 2;
    const mine = trial.intermediate.filter(([s]) => s <= step).map(([, v]) => v);
    const best = mine.reduce((a, v) => (better(mode)(v, a) ? v : a), mine[0]!);
    return !Number.isFinite(best) || better(mode)(m, best);
  }
}

export interface SuccessiveHalvingPrunerOptions {
  /** Step of the first rung (default 1). */
  minResource?: number;
  /** η (default 3). */
  reductionFactor?: number;
}

export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'asha';
  readonly minResource: number;
  readonly eta: number;
  constructor(options: SuccessiveHalvingPrunerOptions = {}) {
    checkOptions('SuccessiveHalvingPruner', options, ['minResource', 'reductionFactor']);
    this.minResource = checkNumberOption('SuccessiveHalvingPruner', 'minResource', options.minResource ?? 1, { min: 0, minExclusive: true });
    this.eta = checkNumberOption('SuccessiveHalvingPruner', 'reductionFactor', options.reductionFactor ?? 3, { min: 1, minExclusive: true });
  }
  /** The rung whose step `step` is, or -1. */
  private rungOf(step: number): number {
    const k = Math.log(step / this.minResource) / Math.log(this.eta);
    const r = Math.round(k);
    return r >= 0 && Math.abs(this.minResource * this.eta ** r - step) < 1e-9 * Math.max(1, step) ? r : -1;
  }
  shouldPrune(trial: StudyTrial, step: number, others: readonly StudyTrial[], mode: 'min' | 'max'): boolean {
    if (this.rungOf(step) < 0) return false;
    const mine = valueAt(trial, step);
    if (mine === undefined || !Number.isFinite(mine)) return true;
    const competing = [mine, ...others.filter((t) => t.index !== trial.index).map((t) => valueAt(t, step)).filter((v): v is number => v !== undefined && Number.isFinite(v))];
    competing.sort((a, b) => (mode === 'min' ? a - b : b - a));
    const idx = Math.max(0, Math.floor(competing.length / this.eta) - 1);
    return better(mode)(competing[idx]!, mine);
  }
}

/** A pruner as plain data (to rebuild it in a Worker), and back. */
export interface PrunerSpec {
  name: 'median' | 'asha';
  options: Record<string, number>;
}

export function prunerSpec(p: Pruner): PrunerSpec {
  if (p instanceof MedianPruner) return { name: 'median', options: { startupTrials: p.startupTrials, warmupSteps: p.warmupSteps } };
  if (p instanceof SuccessiveHalvingPruner) return { name: 'asha', options: { minResource: p.minResource, reductionFactor: p.eta } };
  throw new Error(`a ${p.constructor?.name ?? 'custom'} pruner cannot run in parallel trials (only MedianPruner and SuccessiveHalvingPruner can be sent to a Worker)`);
}

export function prunerFromSpec(s: PrunerSpec): Pruner {
  return s.name === 'median' ? new MedianPruner(s.options) : new SuccessiveHalvingPruner(s.options);
}
