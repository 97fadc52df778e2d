/**
 * DataLoader: batches of a Dataset, as torch.utils.data.DataLoader.
 *
 *   const loader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 1,
 *     transform: new Compose([new RandomCrop(28, 2), new RandomHorizontalFlip()]) });
 *   for (const [x, y] of loader) { ... }           // one epoch per pass
 *
 * - Order: with `shuffle`, epoch e visits the samples in a permutation drawn from
 *   (seed, e); epochs count up from 0 with each pass, `setEpoch(e)` sets the next one (for
 *   resumed runs). Without shuffle: 0..n-1.
 * - `sampler` (sampler.ts: SequentialSampler, RandomSampler, WeightedRandomSampler, or any
 *   object with `length`, `random` and `indices(epoch)`) chooses the order instead of
 *   `shuffle` (not both, as PyTorch); its indices go into wasm memory like the shuffle's.
 * - `dropLast` drops the last, short batch.
 * - Collate: the epoch's indices live in wasm memory; each batch is gathered by the data set
 *   straight into new batch tensors there (no JS arrays in between).
 * - Memory: batches are temporaries. Handing out a batch ends a training step (`endStep()`),
 *   so the batch before last and everything made while using it are freed: an epoch loop
 *   needs no dispose() calls and its memory stays flat. Keep what you need with `.keep()`.
 * - Transforms: `transform` runs on the first field (the inputs) of every batch;
 *   `targetTransform` on the second. Random transforms act only in training mode, which
 *   is the default for a loader that shuffles; `train()` / `eval()` switch it (see
 *   transforms.ts).
 * - Prefetch: none, deliberately. A batch of 128 Fashion-MNIST images costs ~0.07 ms to
 *   collate and ~0.1 ms more for RandomCrop+RandomHorizontalFlip (bench/data.ts: a whole
 *   augmented epoch of 60,000 images takes ~75 ms on this project's 2-core machines), against
 *   milliseconds for a training step. The work runs in the WASM core, JS has one thread, and
 *   the pool's workers are busy with the step's own kernels, so running ahead would only
 *   reorder the same work, not hide it. The slow part of data is loading files (gunzip,
 *   ~0.2 s for Fashion-MNIST), done once before the first epoch.
 */
import { endStep } from '../tensor/lifetime.js';
import { Tensor } from '../tensor/tensor.js';
import type { Batch, Dataset } from './dataset.js';
import { Rng, seedOf } from './random.js';
import type { Sampler } from './sampler.js';
import { Compose, randomTransformNames, type BatchTransform } from './transforms.js';
import { checkBooleanOption, checkOptions } from '../util/options.js';

export interface DataLoaderOptions {
  /** Samples per batch (default 1, as PyTorch). */
  batchSize?: number;
  /** A new seeded permutation every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is short (default false). */
  dropLast?: boolean;
  /** Seed of the shuffles and of random transforms (default: a fixed constant). */
  seed?: number;
  /** Batch transform(s) of the inputs (field 0); an array is a Compose. */
  transform?: BatchTransform | BatchTransform[] | null;
  /** Batch transform(s) of the targets (field 1). */
  targetTransform?: BatchTransform | BatchTransform[] | null;
  /** Training mode (random transforms on); default: `shuffle`. */
  training?: boolean;
  /** Call endStep() before each batch (default true). */
  endStep?: boolean;
  /** The indices of each epoch (instead of `shuffle`), see sampler.ts. */
  sampler?: Sampler | null;
}

const OPTIONS = ['batchSize', 'shuffle', 'dropLast', 'seed', 'transform', 'targetTransform', 'training', 'endStep', 'sampler'];

function asTransform(t: BatchTransform | BatchTransform[] | null | undefined): BatchTransform | null {
  if (!t) return null;
  return Array.isArray(t) ? new Compose(t) : t;
}

export class DataLoader<B extends Batch = Batch> implements Iterable<B> {
  readonly dataset: Dataset<B>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly transform: BatchTransform | null;
  readonly targetTransform: BatchTransform | null;
  readonly sampler: Sampler | null;
  training: boolean;
  private readonly stepEnds: boolean;
  private nextEpoch = 0;

  constructor(dataset: Dataset<B>, options: DataLoaderOptions = {}) {
    checkOptions('DataLoader', options, OPTIONS);
    options ??= {};
    if (!dataset || typeof (dataset as Dataset<B>).gather !== 'function' || typeof (dataset as Dataset<B>).length !== 'number') {
      throw new TypeError(`DataLoader: expected a Dataset (TensorDataset, a split, ...), got ${dataset === null ? 'null' : typeof dataset}`);
    }
    for (const k of ['shuffle', 'dropLast', 'training', 'endStep'] as const) if (options[k] !== undefined) checkBooleanOption('DataLoader', k, options[k]);
    const bs = options.batchSize ?? 1;
    if (!Number.isInteger(bs) || bs < 1) throw new Error(`DataLoader: batchSize must be a positive integer, got ${bs}`);
    this.dataset = dataset;
    this.batchSize = bs;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.seed = seedOf(options.seed, 'DataLoader');
    this.transform = asTransform(options.transform);
    this.targetTransform = asTransform(options.targetTransform);
    this.sampler = options.sampler ?? null;
    if (this.sampler !== null) {
      if (this.shuffle) throw new Error('DataLoader: sampler option is mutually exclusive with shuffle (the sampler decides the order)');
      if (typeof this.sampler.indices !== 'function' || !Number.isInteger(this.sampler.length)) {
        throw new Error('DataLoader: sampler must have a length and an indices(epoch) method (see SequentialSampler, RandomSampler, WeightedRandomSampler)');
      }
    }
    this.training = options.training ?? (this.shuffle || this.sampler?.random === true);
    this.stepEnds = options.endStep ?? true;
    // Random augmentation acts only in training mode, which a loader that does not shuffle
    // is not by default: say so rather than silently train without it.
    const random = [...randomTransformNames(this.transform), ...randomTransformNames(this.targetTransform)];
    if (options.training === undefined && !this.training && random.length > 0) {
      console.warn(
        `DataLoader: the random transforms ${random.join(', ')} are off: a loader that does not shuffle is in eval mode ` +
          `(random transforms do nothing there; RandomCrop takes the centre). Pass training: true to augment without shuffling, ` +
          `or training: false to keep them off without this warning.`,
      );
    }
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.samples;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Samples per epoch: the sampler's length, or the data set's. */
  private get samples(): number {
    return this.sampler !== null ? this.sampler.length : this.dataset.length;
  }

  /** The epoch the next pass will be (its shuffle and augmentation depend on it). */
  get epoch(): number {
    return this.nextEpoch;
  }

  setEpoch(epoch: number): this {
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`DataLoader.setEpoch: epoch must be a non-negative integer, got ${epoch}`);
    this.nextEpoch = epoch;
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** The order of samples for `epoch` (a copy, for inspection and tests). */
  order(epoch: number): Int32Array {
    const idx = new Int32Array(this.samples);
    this.fillOrder(idx, epoch);
    return idx;
  }

  private fillOrder(idx: Int32Array, epoch: number): void {
    if (this.sampler !== null) {
      const drawn = this.sampler.indices(epoch);
      if (drawn.length !== idx.length) throw new Error(`DataLoader: the sampler gave ${drawn.length} indices for epoch ${epoch}, but its length is ${idx.length}`);
      idx.set(drawn);
      return;
    }
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    if (this.shuffle) new Rng(this.seed, epoch).shuffle(idx);
  }

  *[Symbol.iterator](): Iterator<B> {
    const epoch = this.nextEpoch++;
    const n = this.samples;
    const batches = this.length;
    // The epoch's order, in wasm memory; batches gather from slices of it.
    const order = Tensor.empty([Math.max(n, 1)], 'int32');
    try {
      this.fillOrder((order.data as Int32Array).subarray(0, n), epoch);
      for (let b = 0; b < batches; b++) {
        if (this.stepEnds) endStep();
        const start = b * this.batchSize;
        const count = Math.min(this.batchSize, n - start);
        const batch = this.dataset.gather(order.ptr + start * 4, count);
        const ctx = { training: this.training, seed: this.seed, epoch, batch: b };
        if (this.transform && batch.length > 0) batch[0] = this.transform.apply(batch[0], ctx);
        if (this.targetTransform && batch.length > 1) batch[1] = this.targetTransform.apply(batch[1], { ...ctx, salt: 0x7a7a });
        yield batch;
      }
    } finally {
      order.dispose();
    }
  }
}
