/**
 * Splitting a data set: seeded random splits (torch.utils.data.random_split) and a
 * train/validation split that can be stratified (every class in the same proportion).
 */
import { Subset, type Batch, type Dataset } from './dataset.js';
import { Rng, seedOf } from './random.js';
import { checkNumberOption, checkOptions } from '../util/options.js';

/** Counts from `lengths` (counts summing to n, or fractions summing to 1). */
function resolveLengths(lengths: readonly number[], n: number): number[] {
  const sum = lengths.reduce((a, b) => a + b, 0);
  if (lengths.every((l) => Number.isInteger(l) && l >= 0) && sum === n) return [...lengths];
  if (lengths.every((l) => l >= 0 && l <= 1) && Math.abs(sum - 1) < 1e-9) {
    // As PyTorch: floor each, then hand the remainder out one by one from the first.
    const out = lengths.map((f) => Math.floor(n * f));
    let rest = n - out.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % out.length, rest--) out[i]++;
    return out;
  }
  throw new Error(`randomSplit: lengths [${lengths.join(', ')}] must be counts summing to ${n} or fractions summing to 1`);
}

/**
 * Random non-overlapping subsets of the given lengths (counts or fractions), seeded. One
 * subset per length, typed as a tuple: `const [a, b] = randomSplit(ds, [0.8, 0.2])`.
 */
export function randomSplit<B extends Batch, const L extends readonly number[]>(
  dataset: Dataset<B>,
  lengths: L,
  options: { seed?: number } = {},
): { -readonly [K in keyof L]: Subset<B> } {
  const n = dataset.length;
  checkOptions('randomSplit', options, ['seed']);
  const counts = resolveLengths(lengths, n);
  const perm = new Rng(seedOf(options.seed, 'randomSplit'), 0x5b1).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const out: Subset<B>[] = [];
  let at = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(at, at + c)));
    at += c;
  }
  return out as { -readonly [K in keyof L]: Subset<B> }; // one subset per length
}

export interface TrainValSplitOptions {
  /** Fraction of samples for validation (default 0.2), or give `valSize`. */
  valFraction?: number;
  /** Number of validation samples. */
  valSize?: number;
  seed?: number;
  /**
   * Keep class proportions: true (use dataset.labels()) or the labels themselves. Each class
   * gives round(valSize · its share) samples (largest remainders settle the total).
   */
  stratify?: boolean | ArrayLike<number>;
}

/**
 * Splits into train and validation subsets, seeded; optionally stratified. Indices inside
 * each subset are in increasing order (loaders shuffle them anyway).
 */
export function trainValSplit<B extends Batch>(dataset: Dataset<B>, options: TrainValSplitOptions = {}): { train: Subset<B>; val: Subset<B> } {
  checkOptions('trainValSplit', options, ['valFraction', 'valSize', 'seed', 'stratify']);
  options ??= {};
  if (options.valFraction !== undefined) checkNumberOption('trainValSplit', 'valFraction', options.valFraction, { min: 0, max: 1 });
  if (options.valSize !== undefined) checkNumberOption('trainValSplit', 'valSize', options.valSize, { min: 0, integer: true });
  if (options.valFraction !== undefined && options.valSize !== undefined) throw new Error('trainValSplit: give valFraction or valSize, not both');
  const n = dataset.length;
  const valSize = options.valSize ?? Math.round(n * (options.valFraction ?? 0.2));
  if (!Number.isInteger(valSize) || valSize < 0 || valSize > n) throw new Error(`trainValSplit: validation size ${valSize} is not in 0..${n}`);
  const rng = new Rng(seedOf(options.seed, 'trainValSplit'), 0x7a1);
  const isVal = new Uint8Array(n);
  if (!options.stratify) {
    const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    for (let i = 0; i < valSize; i++) isVal[perm[i]] = 1;
  } else {
    let labels: ArrayLike<number>;
    if (options.stratify === true) {
      if (!dataset.labels) throw new Error('trainValSplit: stratify needs labels: this data set has no labels(); pass them as stratify: labels');
      labels = dataset.labels();
    } else labels = options.stratify;
    if (labels.length !== n) throw new Error(`trainValSplit: ${labels.length} labels for ${n} samples`);
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const k = labels[i];
      let list = byClass.get(k);
      if (!list) byClass.set(k, (list = []));
      list.push(i);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const exact = classes.map((k) => (byClass.get(k)!.length * valSize) / n);
    const take = exact.map(Math.floor);
    let rest = valSize - take.reduce((a, b) => a + b, 0);
    const order = classes.map((_, i) => i).sort((a, b) => exact[b] - take[b] - (exact[a] - take[a]) || a - b);
    for (let j = 0; rest > 0; j = (j + 1) % order.length) {
      const i = order[j];
      if (take[i] < byClass.get(classes[i])!.length) {
        take[i]++;
        rest--;
      }
    }
    classes.forEach((k, i) => {
      const list = rng.shuffle(byClass.get(k)!);
      for (let j = 0; j < take[i]; j++) isVal[list[j]] = 1;
    });
  }
  const tr: number[] = [];
  const va: number[] = [];
  for (let i = 0; i < n; i++) (isVal[i] ? va : tr).push(i);
  return { train: new Subset(dataset, tr), val: new Subset(dataset, va) };
}
