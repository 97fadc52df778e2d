/**
 * Where a study's next trial comes from. A sampler sees the trials so far and returns the
 * params of trial `index`; it is deterministic in (seed, index, the trials before), so a
 * resumed study draws what an uninterrupted one would have drawn.
 */
import { Rng } from '../data/random.js';
import { sampleSpace, sortTrials, type SearchSpace } from '../train/search.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { narrowSpace, type NarrowOptions } from './narrowing.js';
import type { StudyTrial } from './study.js';

export interface Sampler {
  readonly name: string;
  sample(space: SearchSpace, index: number, done: readonly StudyTrial[], mode: 'min' | 'max', seed: number): Record<string, unknown>;
}

/** Independent draws from the space (what randomSearch draws for the same seed and index). */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  sample(space: SearchSpace, index: number, _done: readonly StudyTrial[], _mode: 'min' | 'max', seed: number): Record<string, unknown> {
    return sampleSpace(space, new Rng(seed, 0x5ea0000 + index));
  }
}

export interface NarrowingOptions extends NarrowOptions {
  /** Trials per round (default 8). Round 0 draws from the whole space. */
  perRound?: number;
  /** Best trials kept to narrow the space for the next round (default 3). */
  keep?: number;
}

/**
 * Goodfellow's coarse-to-fine random search: rounds of `perRound` random trials; after each
 * round the space is narrowed around the best `keep` trials so far (narrowing.ts).
 */
export class NarrowingSampler implements Sampler {
  readonly name = 'narrowing';
  readonly perRound: number;
  readonly keep: number;
  constructor(readonly options: NarrowingOptions = {}) {
    checkOptions('NarrowingSampler', options, ['perRound', 'keep', 'margin', 'minFraction']);
    this.perRound = checkNumberOption('NarrowingSampler', 'perRound', options.perRound ?? 8, { integer: true, min: 1 });
    this.keep = checkNumberOption('NarrowingSampler', 'keep', options.keep ?? 3, { integer: true, min: 1 });
    if (options.margin !== undefined) checkNumberOption('NarrowingSampler', 'margin', options.margin, { min: 0 });
    if (options.minFraction !== undefined) checkNumberOption('NarrowingSampler', 'minFraction', options.minFraction, { min: 0, max: 1 });
  }
  sample(space: SearchSpace, index: number, done: readonly StudyTrial[], mode: 'min' | 'max', seed: number): Record<string, unknown> {
    const round = Math.floor(index / this.perRound);
    const before = done.filter((t) => t.index < round * this.perRound && t.state === 'complete');
    const best = sortTrials(before.map((t) => ({ ...t, ok: true })), mode).slice(0, this.keep);
    const narrowed = round === 0 || best.length === 0 ? space : narrowSpace(space, best.map((t) => t.params), { ...(this.options.margin !== undefined && { margin: this.options.margin }), ...(this.options.minFraction !== undefined && { minFraction: this.options.minFraction }) });
    return sampleSpace(narrowed, new Rng(seed, 0x5ea0000 + index));
  }
}
