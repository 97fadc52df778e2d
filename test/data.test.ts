import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { liveStorage } from '../ts/tensor/storage.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import {
  DataLoader, ImageDataset, MinMaxScaler, PCAWhitening, Rng, StandardScaler, Subset, TensorDataset, ZCAWhitening,
  gaussianBlobs, getBatch, getItem, randomSplit, trainValSplit, twoSpirals, xor, Normalize,
} from '../ts/data/index.js';
import { replayFolder } from '../tools/golden.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

function ds(n: number, d = 3): TensorDataset {
  const x = tensor(Float32Array.from({ length: n * d }, (_, i) => i), [n, d]);
  const y = tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n], { dtype: 'int32' });
  return new TensorDataset(x, y);
}

describe('datasets', () => {
  it('TensorDataset gathers rows by index into new tensors; bad indices throw and leak nothing', () => {
    const d = ds(10);
    const [x, y] = getBatch(d, [9, 0, 4]);
    expect(x.shape).toEqual([3, 3]);
    expect([...x.data]).toEqual([27, 28, 29, 0, 1, 2, 12, 13, 14]);
    expect([...y.data]).toEqual([0, 0, 1]);
    expect(y.dtype).toBe('int32');
    const [xi, yi] = getItem(d, 2);
    expect(xi.shape).toEqual([3]);
    expect(yi.shape).toEqual([]);
    expect(yi.item()).toBe(2);
    const before = liveStorage().bytes;
    expect(() => getBatch(d, [1, 10])).toThrow(/TensorDataset: index 10 \(batch position 1\) is outside 0\.\.9/);
    expect(() => getBatch(d, [-1])).toThrow(RangeError);
    expect(liveStorage().bytes).toBe(before);
    expect(() => new TensorDataset(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(/size mismatch/);
    expect(d.labels()).toEqual(Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]));
  });

  it('ImageDataset widens bytes to float32 with its scale; Subset maps indices', () => {
    const px = Uint8Array.from({ length: 4 * 2 * 2 * 2 }, (_, i) => i * 8);
    const im = new ImageDataset(px, [4, 2, 2, 2], [3, 1, 4, 1]);
    const [x, y] = getBatch(im, [3, 1]);
    expect(x.shape).toEqual([2, 2, 2, 2]);
    expect(x.f32[0]).toBeCloseTo((24 * 8) / 255, 6);
    expect([...y.data]).toEqual([1, 1]);
    expect(im.numClasses).toBe(5);
    const all = im.toTensor();
    expect(all.f32[31]).toBeCloseTo((31 * 8) / 255, 6);
    const sub = new Subset(im, [2, 0]);
    const [sx, sy] = getBatch(sub, [1, 0, 1]);
    expect([...sy.data]).toEqual([3, 4, 3]);
    expect(sx.f32[0]).toBe(0);
    expect(sub.labels()).toEqual(Int32Array.from([4, 3]));
    expect(() => getBatch(sub, [2])).toThrow(/Subset: index 2 .* outside 0\.\.1/);
    const sel = im.select([1, 1]);
    expect(sel.length).toBe(2);
    expect(sel.labels()).toEqual(Int32Array.from([1, 1]));
  });
});

describe('DataLoader', () => {
  it('batches in order, with a short last batch or dropLast', () => {
    const d = ds(10);
    const l = new DataLoader(d, { batchSize: 4 });
    expect(l.length).toBe(3);
    const sizes: number[] = [];
    const firsts: number[] = [];
    for (const [x, y] of l) {
      sizes.push(x.shape[0]);
      firsts.push(x.data[0]);
      expect(y.shape[0]).toBe(x.shape[0]);
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(firsts).toEqual([0, 12, 24]);
    const dl = new DataLoader(d, { batchSize: 4, dropLast: true });
    expect(dl.length).toBe(2);
    expect([...dl].length).toBe(2);
    expect(() => new DataLoader(d, { batchSize: 0 })).toThrow(/batchSize/);
  });

  it('shuffles with a seeded permutation per epoch, reproducibly', () => {
    const d = ds(50);
    const l = new DataLoader(d, { batchSize: 7, shuffle: true, seed: 11 });
    const seen = (loader: DataLoader) => {
      const out: number[] = [];
      for (const [x] of loader) for (let i = 0; i < x.shape[0]; i++) out.push(x.data[i * 3] / 3);
      return out;
    };
    const e0 = seen(l);
    const e1 = seen(l);
    expect([...e0].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(e0).not.toEqual(e1);
    expect(e0).toEqual([...l.order(0)]);
    expect(seen(new DataLoader(d, { batchSize: 7, shuffle: true, seed: 11 }))).toEqual(e0);
    expect(seen(new DataLoader(d, { batchSize: 7, shuffle: true, seed: 12 }))).not.toEqual(e0);
    l.setEpoch(1);
    expect(seen(l)).toEqual(e1);
    expect(l.epoch).toBe(2);
  });

  it('ends a step per batch: the batch before last is freed, memory stays flat over epochs', () => {
    const d = ds(64, 16);
    const l = new DataLoader(d, { batchSize: 8, shuffle: true, transform: new Normalize(0, 2) });
    const batches: Tensor[] = [];
    for (const [x] of l) {
      batches.push(x);
      if (batches.length === 3) break;
    }
    expect(batches[0].isFreed).toBe(true);
    expect(batches[1].isFreed).toBe(false);
    endStep();
    endStep();
    const start = liveStorage();
    for (let e = 0; e < 5; e++) for (const [x, y] of l) void (x.data[0] + y.data[0]);
    endStep();
    endStep();
    expect(liveStorage()).toEqual(start);
  });
});

describe('splits', () => {
  it('randomSplit: disjoint, complete, seeded; counts or fractions', () => {
    const d = ds(103);
    const [a, b, c] = randomSplit(d, [0.5, 0.3, 0.2], { seed: 3 });
    expect([a.length, b.length, c.length]).toEqual([52, 31, 20]);
    const all = [...a.indices.data, ...b.indices.data, ...c.indices.data].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 103 }, (_, i) => i));
    const [a2] = randomSplit(d, [52, 51], { seed: 3 });
    expect([...a2.indices.data]).toEqual([...a.indices.data]);
    expect(() => randomSplit(d, [50, 50])).toThrow(/counts summing to 103 or fractions summing to 1/);
  });

  it('trainValSplit: seeded, optionally stratified (class shares kept)', () => {
    const n = 1000;
    const labels = Int32Array.from({ length: n }, (_, i) => (i < 700 ? 0 : i < 950 ? 1 : 2));
    const d = new TensorDataset(tensor(new Float32Array(n), [n, 1]), tensor(labels, [n], { dtype: 'int32' }));
    const { train, val } = trainValSplit(d, { valFraction: 0.2, seed: 5, stratify: true });
    expect(val.length).toBe(200);
    expect(train.length).toBe(800);
    const count = (s: Subset) => {
      const c = [0, 0, 0];
      for (const y of s.labels()) c[y]++;
      return c;
    };
    expect(count(val)).toEqual([140, 50, 10]);
    const inter = new Set(train.indices.data);
    for (const i of val.indices.data) expect(inter.has(i)).toBe(false);
    const again = trainValSplit(d, { valFraction: 0.2, seed: 5, stratify: true });
    expect([...again.val.indices.data]).toEqual([...val.indices.data]);
    const other = trainValSplit(d, { valFraction: 0.2, seed: 6, stratify: true });
    expect([...other.val.indices.data]).not.toEqual([...val.indices.data]);
    const plain = trainValSplit(d, { valSize: 100, seed: 5 });
    expect(plain.val.length).toBe(100);
  });
});

describe('scalers', () => {
  const data = (n: number, d: number, seed: number) => {
    const r = new Rng(seed);
    return tensor(Float32Array.from({ length: n * d }, (_, i) => 3 * (i % d) + (1 + (i % d)) * r.normal()), [n, d]);
  };

  it('StandardScaler fits on train, gives zero mean / unit population std, round-trips state and inverse', () => {
    const x = data(500, 4, 1);
    const s = new StandardScaler().fit(x);
    const y = s.transform(x);
    const m = new StandardScaler().fit(y).stateDict();
    for (let j = 0; j < 4; j++) {
      expect(Math.abs(m.mean[j])).toBeLessThan(1e-6);
      expect(m.std[j]).toBeCloseTo(1, 5);
    }
    const back = s.inverseTransform(y).toArray();
    x.toArray().forEach((v, i) => expect(back[i]).toBeCloseTo(v, 4));
    const s2 = new StandardScaler().loadStateDict(JSON.parse(JSON.stringify(s.stateDict())));
    const test = data(20, 4, 2);
    expect(s2.transform(test).toArray()).toEqual(s.transform(test).toArray());
    expect(() => new StandardScaler().transform(x)).toThrow(/not fitted/);
    expect(() => s.transform(data(3, 5, 1))).toThrow(/fitted on 4 features, got 5/);
    // a constant feature gets std 1 (no division by zero)
    const c = new StandardScaler().fit(tensor([2, 1, 2, 5], [2, 2]));
    expect(c.stateDict().std[0]).toBe(1);
  });

  it('per channel for images, and fitting on a Dataset equals fitting on its tensor', () => {
    const n = 300;
    const r = new Rng(4);
    const px = Uint8Array.from({ length: n * 3 * 4 * 4 }, (_, i) => Math.floor(r.uniform() * 256 * ((Math.floor(i / 16) % 3) + 1) / 3));
    const im = new ImageDataset(px, [n, 3, 4, 4], new Int32Array(n));
    const a = new StandardScaler({ perChannel: true }).fit(im).stateDict();
    const b = new StandardScaler({ perChannel: true }).fit(im.toTensor()).stateDict();
    expect(a.mean.length).toBe(3);
    a.mean.forEach((v, i) => expect(v).toBeCloseTo(b.mean[i], 10));
    a.std.forEach((v, i) => expect(v).toBeCloseTo(b.std[i], 10));
    const [x] = getBatch(im, [0, 1]);
    const y = new StandardScaler({ perChannel: true }).loadStateDict(a).transform(x);
    expect(y.shape).toEqual([2, 3, 4, 4]);
    expect(y.f32[17]).toBeCloseTo((x.f32[17] - a.mean[1]) / a.std[1], 5);
  });

  it('MinMaxScaler maps the training range onto featureRange', () => {
    const x = tensor([0, 10, 5, 20, 10, 30], [3, 2]);
    const s = new MinMaxScaler().fit(x);
    expect([...s.transform(x).data]).toEqual([0, 0, 0.5, 0.5, 1, 1]);
    const r = new MinMaxScaler({ featureRange: [-1, 1] }).fit(x);
    expect([...r.transform(tensor([5, 20, 15, 40], [2, 2])).data].map((v) => +v.toFixed(6))).toEqual([0, 0, 2, 2]);
    const back = r.inverseTransform(r.transform(x)).toArray();
    [...x.data].forEach((v, i) => expect(back[i]).toBeCloseTo(v, 5));
    expect(new MinMaxScaler().loadStateDict(s.stateDict()).stateDict()).toEqual(s.stateDict());
    expect(() => new MinMaxScaler({ perChannel: true }).loadStateDict(s.stateDict())).toThrow(/perChannel/);
  });
});

describe('whitening', () => {
  it('PCA keeps nComponents by decreasing variance and whitens them; ZCA gives identity covariance', () => {
    const n = 2000;
    const r = new Rng(9);
    const d = 6;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: d }, () => r.normal());
      for (let j = 0; j < d; j++) x[i * d + j] = 5 + z[j] * (j + 1) + 0.7 * z[(j + 1) % d];
    }
    const xt = tensor(x, [n, d]);
    const cov = (t: Tensor) => {
      const [m, k] = t.shape;
      const v = t.toArray();
      const mean = new Array(k).fill(0);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) mean[j] += v[i * k + j] / m;
      const c = Array.from({ length: k }, () => new Array(k).fill(0));
      for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) c[a][b] += ((v[i * k + a] - mean[a]) * (v[i * k + b] - mean[b])) / m;
      return c;
    };
    const p = new PCAWhitening({ nComponents: 3 }).fit(xt);
    const y = p.transform(xt);
    expect(y.shape).toEqual([n, 3]);
    const cy = cov(y);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) expect(cy[a][b]).toBeCloseTo(a === b ? 1 : 0, 3);
    const ev = [...p.eigenvalues!];
    for (let i = 1; i < ev.length; i++) expect(ev[i]).toBeLessThanOrEqual(ev[i - 1]);
    const z = new ZCAWhitening().fit(xt);
    const zy = z.transform(xt);
    expect(zy.shape).toEqual([n, d]);
    const cz = cov(zy);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expect(cz[a][b]).toBeCloseTo(a === b ? 1 : 0, 3);
    const p2 = new PCAWhitening({ nComponents: 3 }).loadStateDict(JSON.parse(JSON.stringify(p.stateDict())));
    expect(p2.transform(xt).toArray()).toEqual(y.toArray());
    expect(() => new ZCAWhitening().transform(xt)).toThrow(/not fitted/);
    expect(() => new PCAWhitening({ nComponents: 7 }).fit(xt)).toThrow(/nComponents must be in 1\.\.6/);
  });

  it('data.json replays through the golden tool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tread-golden-data-'));
    try {
      copyFileSync('test/fixtures/golden/data.json', join(dir, 'data.json'));
      const r = await replayFolder(dir);
      expect(r.results.filter((c) => !c.ok)).toEqual([]);
      expect(r.passed).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('synthetic sets', () => {
  it('two spirals, blobs and XOR: shapes, balanced labels, seeded', () => {
    const s = twoSpirals({ n: 200, seed: 1 });
    expect(s.tensors[0].shape).toEqual([200, 2]);
    const c = [0, 0];
    for (const y of s.labels()) c[y]++;
    expect(c).toEqual([100, 100]);
    expect(twoSpirals({ n: 200, seed: 1 }).tensors[0].toArray()).toEqual(s.tensors[0].toArray());
    expect(twoSpirals({ n: 200, seed: 2 }).tensors[0].toArray()).not.toEqual(s.tensors[0].toArray());
    const pts = s.tensors[0].toArray();
    for (const v of pts) expect(Math.abs(v)).toBeLessThan(1.3);

    const b = gaussianBlobs({ n: 300, centers: [[0, 0], [10, 10], [-10, 5]], std: 0.5, seed: 3 });
    const bx = b.tensors[0].toArray();
    const by = b.labels();
    const centers = [[0, 0], [10, 10], [-10, 5]];
    for (let i = 0; i < 300; i++) {
      expect(Math.hypot(bx[2 * i] - centers[by[i]][0], bx[2 * i + 1] - centers[by[i]][1])).toBeLessThan(3);
    }
    expect(gaussianBlobs({ n: 10, centers: 4, dims: 5 }).tensors[0].shape).toEqual([10, 5]);

    const x = xor({ n: 400, seed: 4 });
    const xv = x.tensors[0].toArray();
    const xl = x.labels();
    for (let i = 0; i < 400; i++) expect(Number(xv[2 * i] > 0 !== xv[2 * i + 1] > 0)).toBe(xl[i]);
  });
});
