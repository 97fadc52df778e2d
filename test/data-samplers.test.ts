/**
 * Map-style data sets (MapDataset / mapDataset) and samplers (Sequential, Random, WeightedRandom)
 * through DataLoader: collate against TensorDataset's WASM gather, sampler distributions
 * against their exact probabilities, reproducibility by seed and epoch, errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { TensorDataset } from '../ts/data/dataset.js';
import { DataLoader } from '../ts/data/loader.js';
import { MapDataset, mapDataset, type Item } from '../ts/data/map_dataset.js';
import { RandomSampler, SequentialSampler, WeightedRandomSampler } from '../ts/data/sampler.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

/** Sample i: features [i, i², -i/2], label i % 3. */
class Toy extends MapDataset {
  get length(): number {
    return 23;
  }
  getItem(i: number): Item {
    return [[i, i * i, -i / 2], i % 3];
  }
}

const rows = (n: number) => ({
  x: tensor(Array.from({ length: n }, (_, i) => [i, i * i, -i / 2]).flat(), [n, 3]),
  y: tensor(Array.from({ length: n }, (_, i) => i % 3), [n], { dtype: 'int32' }),
});

describe('MapDataset', () => {
  it('batches exactly as the same data in a TensorDataset (shuffled, last batch short)', () => {
    const { x, y } = rows(23);
    const fast = new DataLoader(new TensorDataset(x, y), { batchSize: 5, shuffle: true, seed: 4, endStep: false });
    const slow = new DataLoader(new Toy(), { batchSize: 5, shuffle: true, seed: 4, endStep: false });
    expect(slow.length).toBe(5);
    const a = [...fast].map((b) => b.map((t) => [t.dtype, t.shape, Array.from(t.data)]));
    const b = [...slow].map((b) => b.map((t) => [t.dtype, t.shape, Array.from(t.data)]));
    expect(b).toEqual(a);
    expect(b[4][0][1]).toEqual([3, 3]);
  });

  it('stacks Tensor fields, keeps their dtype; dtypes overrides the number rule', () => {
    const ds = mapDataset({ length: 4, getItem: (i) => [tensor([i, i + 0.5, 2 * i, 7], [2, 2]), i, tensor([i], [1], { dtype: 'int32' })] }, { dtypes: [undefined, 'float32'] });
    const [x, t, k] = new DataLoader(ds, { batchSize: 4, endStep: false })[Symbol.iterator]().next().value!;
    expect(x.shape).toEqual([4, 2, 2]);
    expect(Array.from(x.data.subarray(8, 12))).toEqual([2, 2.5, 4, 7]);
    expect([t.dtype, Array.from(t.data)]).toEqual(['float32', [0, 1, 2, 3]]);
    expect([k.dtype, k.shape]).toEqual(['int32', [4, 1]]);
    // Without dtypes a batch of whole numbers is int32 (labels); a fraction makes it float32.
    const mixed = mapDataset({ length: 2, getItem: (i) => [i === 0 ? 1 : 1.5] });
    expect(new DataLoader(mixed, { batchSize: 2, endStep: false })[Symbol.iterator]().next().value![0].dtype).toBe('float32');
  });

  it('names the item and field that do not fit', () => {
    const ragged = mapDataset({ length: 3, getItem: (i) => [Array.from({ length: i === 2 ? 4 : 3 }, () => i), 0] });
    expect(() => [...new DataLoader(ragged, { batchSize: 3, endStep: false })]).toThrow(/field 0 of item 2 is an array of 4, but of item 0 an array of 3/);
    const short = mapDataset({ length: 2, getItem: (i) => (i === 0 ? [1, 2] : [1]) });
    expect(() => [...new DataLoader(short, { batchSize: 2, endStep: false })]).toThrow(/item 1 has 1 fields, item 0 has 2/);
    expect(() => mapDataset({ length: -1, getItem: () => 0 })).toThrow(/length must be a non-negative integer/);
    expect(() => mapDataset({ length: 1, getItem: () => 0 }, { dtype: ['int32'] } as any)).toThrow(/MapDataset: unknown option 'dtype'.*dtypes/);
  });
});

describe('samplers', () => {
  it('SequentialSampler and RandomSampler: permutations per epoch, repeatable by seed', () => {
    expect(Array.from(new SequentialSampler(5).indices())).toEqual([0, 1, 2, 3, 4]);
    const s = new RandomSampler(20, { seed: 3 });
    const e0 = Array.from(s.indices(0));
    expect([...e0].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(e0).not.toEqual([...Array(20).keys()]);
    expect(Array.from(s.indices(1))).not.toEqual(e0);
    expect(Array.from(new RandomSampler(20, { seed: 3 }).indices(0))).toEqual(e0);
    expect(Array.from(new RandomSampler(20, { seed: 4 }).indices(0))).not.toEqual(e0);
    // numSamples beyond the length chains permutations (each block of 20 is one).
    const long = Array.from(new RandomSampler(20, { numSamples: 50, seed: 1 }).indices(0));
    expect(long.length).toBe(50);
    for (const block of [long.slice(0, 20), long.slice(20, 40)]) expect(new Set(block).size).toBe(20);
    expect(new Set(long.slice(40)).size).toBe(10);
  });

  it('RandomSampler with replacement draws uniformly', () => {
    const n = 8;
    const draws = new RandomSampler(n, { replacement: true, numSamples: 40000, seed: 9 }).indices(0);
    const counts = new Array(n).fill(0);
    for (const i of draws) counts[i]++;
    // Binomial(40000, 1/8): sd ≈ 66; 5 sd.
    for (const c of counts) expect(Math.abs(c - 5000)).toBeLessThan(330);
  });

  it('WeightedRandomSampler with replacement: frequencies proportional to the weights', () => {
    const w = [1, 2, 3, 4, 0, 10];
    const total = 20;
    const draws = new WeightedRandomSampler(w, 60000, { seed: 2 }).indices(0);
    const counts = new Array(w.length).fill(0);
    for (const i of draws) counts[i]++;
    for (const [i, wi] of w.entries()) {
      const p = wi / total;
      const sd = Math.sqrt(60000 * p * (1 - p));
      expect(Math.abs(counts[i] - 60000 * p), `index ${i}`).toBeLessThanOrEqual(5 * sd);
    }
    expect(counts[4]).toBe(0);
  });

  it('WeightedRandomSampler without replacement: distinct indices, inclusion probabilities of successive draws', () => {
    const w = [1, 2, 3, 4];
    const W = 10;
    const s = new WeightedRandomSampler(w, 2, { replacement: false, seed: 5 });
    const epochs = 20000;
    const included = new Array(4).fill(0);
    const first = new Array(4).fill(0);
    for (let e = 0; e < epochs; e++) {
      const [a, b] = s.indices(e);
      expect(a).not.toBe(b);
      included[a]++;
      included[b]++;
      first[a]++;
    }
    for (let j = 0; j < 4; j++) {
      // P(j first) = w_j/W; P(j in the pair) = w_j/W + Σ_{i≠j} (w_i/W)·w_j/(W - w_i).
      const pFirst = w[j] / W;
      let pIn = pFirst;
      for (let i = 0; i < 4; i++) if (i !== j) pIn += (w[i] / W) * (w[j] / (W - w[i]));
      expect(Math.abs(first[j] / epochs - pFirst)).toBeLessThan(5 * Math.sqrt((pFirst * (1 - pFirst)) / epochs));
      expect(Math.abs(included[j] / epochs - pIn)).toBeLessThan(5 * Math.sqrt((pIn * (1 - pIn)) / epochs));
    }
    expect(Array.from(new WeightedRandomSampler(w, 2, { replacement: false, seed: 5 }).indices(7))).toEqual(Array.from(s.indices(7)));
  });

  it('refuses bad weights and sizes', () => {
    expect(() => new WeightedRandomSampler([1, -1], 3)).toThrow(/weights must be finite and non-negative, got -1 at index 1/);
    expect(() => new WeightedRandomSampler([0, 0], 3)).toThrow(/sum to 0/);
    expect(() => new WeightedRandomSampler([1, 0, 1], 3, { replacement: false })).toThrow(/cannot draw 3 samples without replacement from 2 positive weights/);
    expect(() => new WeightedRandomSampler([1], 0)).toThrow(/numSamples must be a positive integer/);
    expect(() => new RandomSampler(5, { num_samples: 3 } as any)).toThrow(/RandomSampler: unknown option 'num_samples'.*numSamples/);
  });
});

describe('DataLoader with a sampler', () => {
  it('visits the sampler\'s indices, epoch by epoch, and counts batches from its length', () => {
    const { x, y } = rows(10);
    const sampler = new WeightedRandomSampler([0, 0, 1, 0, 0, 0, 0, 0, 0, 3], 7, { seed: 1 });
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 3, sampler, endStep: false });
    expect(loader.length).toBe(3);
    expect(loader.training).toBe(true);
    for (const epoch of [0, 1]) {
      const seen = [...loader].flatMap(([xb]) => Array.from(xb.data).filter((_, k) => k % 3 === 0));
      expect(seen).toEqual(Array.from(sampler.indices(epoch)));
      expect(seen.every((i) => i === 2 || i === 9)).toBe(true);
    }
    const seq = new DataLoader(new Toy(), { batchSize: 4, sampler: new SequentialSampler(23), endStep: false });
    expect(seq.training).toBe(false);
    expect(Array.from(seq.order(0))).toEqual([...Array(23).keys()]);
  });

  it('refuses shuffle with a sampler, and misspelled options', () => {
    const ds = new Toy();
    expect(() => new DataLoader(ds, { shuffle: true, sampler: new RandomSampler(ds) })).toThrow(/sampler option is mutually exclusive with shuffle/);
    expect(() => new DataLoader(ds, { batch_size: 4 } as any)).toThrow(/DataLoader: unknown option 'batch_size'.*batchSize/);
    expect(() => new DataLoader(ds, { sampler: [1, 2] as any })).toThrow(/sampler must have a length and an indices\(epoch\) method/);
  });
});
