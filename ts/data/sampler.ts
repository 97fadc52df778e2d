/**
 * Samplers, as torch.utils.data's: the order (and multiplicity) in which a DataLoader visits
 * sample indices, given with its `sampler` option (instead of `shuffle`).
 *
 *   new DataLoader(ds, { batchSize: 32, sampler: new WeightedRandomSampler(w, ds.length, { seed: 1 }) })
 *
 * A sampler hands the loader the whole epoch's indices at once (`indices(epoch)`), which the
 * loader copies into wasm memory and gathers from, as it does for its own shuffles (the fast
 * path). Random samplers are seeded: epoch e draws from the stream (seed, e), so a run repeats
 * and a resumed run (`loader.setEpoch(e)`) continues with the same draws.
 */
import { checkOptions } from '../util/options.js';
import { Rng, seedOf } from './random.js';

export interface Sampler {
  /** Indices per epoch. */
  readonly length: number;
  /** Whether the order is random (a loader with a random sampler defaults to training mode). */
  readonly random: boolean;
  /** The indices epoch `epoch` visits, in order. */
  indices(epoch: number): Int32Array;
}

function sizeOf(source: number | { length: number }, where: string): number {
  const n = typeof source === 'number' ? source : source?.length;
  if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: expected a data set (or a sample count), got ${String(source)}`);
  return n;
}

function positiveInt(v: unknown, what: string, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${where}: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** 0, 1, ..., n-1 every epoch. */
export class SequentialSampler implements Sampler {
  readonly length: number;
  readonly random = false;
  constructor(dataSource: number | { length: number }) {
    this.length = sizeOf(dataSource, 'SequentialSampler');
  }
  indices(): Int32Array {
    return Int32Array.from({ length: this.length }, (_, i) => i);
  }
}

export interface RandomSamplerOptions {
  /** Draw with replacement (default false: a permutation). */
  replacement?: boolean;
  /** Indices per epoch (default: the data set's length; more than it, without replacement, chains permutations as PyTorch). */
  numSamples?: number;
  /** Seed of the draws (default: a fixed constant). */
  seed?: number;
}

/** A new seeded permutation every epoch, or with `replacement` uniform draws. */
export class RandomSampler implements Sampler {
  readonly size: number;
  readonly length: number;
  readonly replacement: boolean;
  readonly seed: number;
  readonly random = true;

  constructor(dataSource: number | { length: number }, options: RandomSamplerOptions = {}) {
    checkOptions('RandomSampler', options, ['replacement', 'numSamples', 'seed']);
    this.size = sizeOf(dataSource, 'RandomSampler');
    this.replacement = options.replacement ?? false;
    this.length = options.numSamples === undefined ? this.size : positiveInt(options.numSamples, 'numSamples', 'RandomSampler');
    if (this.size === 0 && this.length > 0) throw new Error(`RandomSampler: cannot draw ${this.length} samples from an empty data set`);
    this.seed = seedOf(options.seed, 'RandomSampler');
  }

  indices(epoch: number): Int32Array {
    const rng = new Rng(this.seed, epoch);
    const out = new Int32Array(this.length);
    if (this.replacement) {
      for (let i = 0; i < out.length; i++) out[i] = rng.int(this.size);
      return out;
    }
    const perm = new Int32Array(this.size);
    for (let done = 0; done < out.length; done += this.size) {
      for (let i = 0; i < perm.length; i++) perm[i] = i;
      rng.shuffle(perm);
      out.set(perm.subarray(0, Math.min(this.size, out.length - done)), done);
    }
    return out;
  }
}

export interface WeightedRandomSamplerOptions {
  /** Draw with replacement (default true, as PyTorch). */
  replacement?: boolean;
  /** Seed of the draws (default: a fixed constant). */
  seed?: number;
}

/**
 * `numSamples` indices drawn with probability proportional to `weights[i]` (which need not sum
 * to 1), as PyTorch's WeightedRandomSampler: with replacement, independent draws; without,
 * successive draws each among the indices not drawn yet (then at most as many as there are
 * positive weights).
 */
export class WeightedRandomSampler implements Sampler {
  readonly weights: Float64Array;
  readonly length: number;
  readonly replacement: boolean;
  readonly seed: number;
  readonly random = true;
  private readonly cumulative: Float64Array;

  constructor(weights: ArrayLike<number>, numSamples: number, options: WeightedRandomSamplerOptions = {}) {
    checkOptions('WeightedRandomSampler', options, ['replacement', 'seed']);
    const w = Float64Array.from(weights);
    if (w.length === 0) throw new Error('WeightedRandomSampler: weights is empty');
    for (let i = 0; i < w.length; i++) {
      if (!(w[i] >= 0 && Number.isFinite(w[i]))) throw new Error(`WeightedRandomSampler: weights must be finite and non-negative, got ${w[i]} at index ${i}`);
    }
    this.weights = w;
    this.length = positiveInt(numSamples, 'numSamples', 'WeightedRandomSampler');
    this.replacement = options.replacement ?? true;
    this.seed = seedOf(options.seed, 'WeightedRandomSampler');
    this.cumulative = new Float64Array(w.length);
    let s = 0;
    for (let i = 0; i < w.length; i++) this.cumulative[i] = s += w[i];
    if (!(s > 0)) throw new Error('WeightedRandomSampler: the weights sum to 0; give at least one positive weight');
    const positive = w.filter((v) => v > 0).length;
    if (!this.replacement && this.length > positive) {
      throw new Error(`WeightedRandomSampler: cannot draw ${this.length} samples without replacement from ${positive} positive weights`);
    }
  }

  indices(epoch: number): Int32Array {
    const rng = new Rng(this.seed, epoch);
    const out = new Int32Array(this.length);
    if (this.replacement) {
      const c = this.cumulative;
      const total = c[c.length - 1];
      for (let k = 0; k < out.length; k++) {
        // The first index whose cumulative weight exceeds u (binary search).
        const u = rng.uniform() * total;
        let lo = 0;
        let hi = c.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (c[mid] > u) hi = mid;
          else lo = mid + 1;
        }
        out[k] = lo;
      }
      return out;
    }
    // Successive sampling without replacement = the largest keys u^(1/w) (Efraimidis & Spirakis),
    // in decreasing key order; log(u)/w keeps the keys apart in floating point.
    const keys: [number, number][] = [];
    for (let i = 0; i < this.weights.length; i++) {
      const u = rng.uniform();
      if (this.weights[i] > 0) keys.push([Math.log(u === 0 ? Number.MIN_VALUE : u) / this.weights[i], i]);
    }
    keys.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let k = 0; k < out.length; k++) out[k] = keys[k][1];
    return out;
  }
}
