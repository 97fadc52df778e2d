import { beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { Tensor } from '../ts/tensor/tensor.js';
import {
  CenterCrop, Compose, DataLoader, ImageDataset, Normalize, RandomCrop, RandomHorizontalFlip,
  RandomTranslate, RandomVerticalFlip, ToTensor,
} from '../ts/data/index.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

/** n images c×h×w whose pixel (s, ch, y, x) is 1 + ch·1000 + y·w + x (every value unique per image, none 0). */
function known(n: number, c: number, h: number, w: number): Tensor {
  const d = new Float32Array(n * c * h * w);
  for (let s = 0; s < n; s++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[((s * c + ch) * h + y) * w + x] = 1 + ch * 1000 + y * w + x;
  return tensor(d, [n, c, h, w]);
}

/** The (oy, ox) of a crop/translate of `known` images: out(y, x) = src(y + oy, x + ox). */
function offsetOf(out: Float32Array, base: number, h: number, w: number, oh: number, ow: number): [number, number] | null {
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const v = out[base + y * ow + x];
      if (v !== 0) {
        const sy = Math.floor((v - 1) / w);
        const sx = (v - 1) % w;
        return [sy - y, sx - x];
      }
    }
  }
  return null;
}

describe('RandomCrop', () => {
  it('pads with zeros and copies the window exactly; offsets cover the padded range uniformly', () => {
    const [n, c, h, w, pad] = [4000, 2, 6, 5, 2];
    const x = known(n, c, h, w);
    const crop = new RandomCrop([h, w], pad);
    const counts = new Map<string, number>();
    for (const seed of [1, 2, 3]) {
      const out = crop.apply(x, { seed }).f32;
      for (let s = 0; s < n; s++) {
        const off = offsetOf(out, s * c * h * w, h, w, h, w);
        expect(off).not.toBeNull();
        const [oy, ox] = off!;
        expect(Math.abs(oy)).toBeLessThanOrEqual(pad);
        expect(Math.abs(ox)).toBeLessThanOrEqual(pad);
        counts.set(`${oy},${ox}`, (counts.get(`${oy},${ox}`) ?? 0) + 1);
        // Every pixel of every channel: the source pixel, or exactly 0 outside the image.
        for (let ch = 0; ch < c; ch++) {
          for (let y = 0; y < h; y++) {
            for (let xx = 0; xx < w; xx++) {
              const sy = y + oy;
              const sx = xx + ox;
              const want = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : 1 + ch * 1000 + sy * w + sx;
              const got = out[((s * c + ch) * h + y) * w + xx];
              if (got !== want) throw new Error(`sample ${s} ch ${ch} (${y},${xx}): got ${got}, want ${want}`);
            }
          }
        }
      }
    }
    // 25 positions, 12,000 crops: each ~480; a 5-sigma band is about ±110.
    expect(counts.size).toBe((2 * pad + 1) ** 2);
    for (const v of counts.values()) expect(Math.abs(v - 12000 / 25)).toBeLessThan(110);
    // chi-square with 24 degrees of freedom, far tail at ~51 (p ≈ 0.001)
    const e = 12000 / 25;
    const chi2 = [...counts.values()].reduce((a, v) => a + (v - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(51);
  });

  it('crops to a smaller size; eval mode takes the centre crop', () => {
    const x = known(3, 1, 8, 8);
    const y = new RandomCrop(6).apply(x, { seed: 5 });
    expect(y.shape).toEqual([3, 1, 6, 6]);
    for (let s = 0; s < 3; s++) {
      const [oy, ox] = offsetOf(y.f32, s * 36, 8, 8, 6, 6)!;
      expect(oy >= 0 && oy <= 2 && ox >= 0 && ox <= 2).toBe(true);
    }
    const e = new RandomCrop(6).apply(x, { training: false });
    expect([...e.f32.subarray(0, 6)]).toEqual([10, 11, 12, 13, 14, 15]); // row 1, columns 1..6
    expect(new CenterCrop(6).apply(x).toArray()).toEqual(e.toArray());
    expect(new RandomCrop(8, 2).apply(x, { training: false })).toBe(x);
    expect(() => new RandomCrop(13, 2).apply(x)).toThrow(/larger than the padded image 12x12/);
    expect(() => new RandomCrop(4).apply(tensor([1, 2, 3, 4], [2, 2]))).toThrow(/\[N, C, H, W\]/);
  });

  it('accepts [N, H, W] batches', () => {
    const x = tensor(new Float32Array(2 * 5 * 5).fill(1), [2, 5, 5]);
    const y = new RandomCrop(5, 1).apply(x, { seed: 2 });
    expect(y.shape).toEqual([2, 5, 5]);
  });
});

describe('flips', () => {
  it('p = 1 mirrors exactly, p = 0 is the identity, p = 0.5 flips about half', () => {
    const x = known(1000, 3, 4, 5);
    const src = x.toArray();
    const h1 = new RandomHorizontalFlip(1).apply(x, { seed: 1 }).toArray();
    const v1 = new RandomVerticalFlip(1).apply(x, { seed: 1 }).toArray();
    for (let i = 0; i < 1000 * 3 * 4; i++) {
      for (let xx = 0; xx < 5; xx++) {
        expect(h1[i * 5 + xx]).toBe(src[i * 5 + 4 - xx]);
      }
    }
    for (let p = 0; p < 1000 * 3; p++) {
      for (let y = 0; y < 4; y++) for (let xx = 0; xx < 5; xx++) expect(v1[p * 20 + y * 5 + xx]).toBe(src[p * 20 + (3 - y) * 5 + xx]);
    }
    expect(new RandomHorizontalFlip(0).apply(x)).toBe(x);
    const half = new RandomHorizontalFlip(0.5).apply(x, { seed: 9 }).toArray();
    let flipped = 0;
    for (let s = 0; s < 1000; s++) {
      const img = half.subarray(s * 60, (s + 1) * 60);
      const same = img.every((v, i) => v === src[s * 60 + i]);
      const mirror = img.every((v, i) => v === h1[s * 60 + i]);
      expect(same || mirror).toBe(true); // all channels of a sample flip together
      if (mirror) flipped++;
    }
    expect(Math.abs(flipped - 500)).toBeLessThan(80);
    expect(() => new RandomHorizontalFlip(1.5)).toThrow(/p must be in \[0, 1\]/);
  });

  it('does nothing in eval mode', () => {
    const x = known(4, 1, 3, 3);
    expect(new RandomHorizontalFlip(1).apply(x, { training: false })).toBe(x);
    expect(new RandomVerticalFlip(1).apply(x, { training: false })).toBe(x);
    expect(new RandomTranslate(2).apply(x, { training: false })).toBe(x);
  });
});

describe('RandomTranslate', () => {
  it('shifts by whole pixels within the range and fills the rest', () => {
    const [n, h, w] = [3000, 7, 7];
    const x = known(n, 1, h, w);
    const out = new RandomTranslate([1, 2], { fill: 0 }).apply(x, { seed: 4 }).f32;
    const seen = new Set<string>();
    for (let s = 0; s < n; s++) {
      const [oy, ox] = offsetOf(out, s * h * w, h, w, h, w)!;
      expect(Math.abs(oy)).toBeLessThanOrEqual(1);
      expect(Math.abs(ox)).toBeLessThanOrEqual(2);
      seen.add(`${oy},${ox}`);
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
        const sy = y + oy, sx = xx + ox;
        const want = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : 1 + sy * w + sx;
        expect(out[s * h * w + y * w + xx]).toBe(want);
      }
    }
    expect(seen.size).toBe(15);
  });
});

describe('reproducibility', () => {
  it('same key, same result; another batch, epoch or seed, another; thread count does not matter', () => {
    const x = known(512, 1, 28, 28); // large enough for the kernels to split over threads
    const t = new Compose([new RandomCrop(28, 4), new RandomHorizontalFlip()]);
    const a = t.apply(x, { seed: 7, epoch: 1, batch: 3 }).toArray();
    expect(t.apply(x, { seed: 7, epoch: 1, batch: 3 }).toArray()).toEqual(a);
    expect(t.apply(x, { seed: 7, epoch: 1, batch: 4 }).toArray()).not.toEqual(a);
    expect(t.apply(x, { seed: 7, epoch: 2, batch: 3 }).toArray()).not.toEqual(a);
    expect(t.apply(x, { seed: 8, epoch: 1, batch: 3 }).toArray()).not.toEqual(a);
    setThreads(1);
    try {
      expect(t.apply(x, { seed: 7, epoch: 1, batch: 3 }).toArray()).toEqual(a);
    } finally {
      setThreads(2);
    }
  });

  it('Compose gives each transform its own stream (crop and flip are independent)', () => {
    const x = known(4000, 1, 5, 5);
    const crop = new RandomCrop(5, 1);
    const flip = new RandomHorizontalFlip(0.5);
    const both = new Compose([crop, flip]).apply(x, { seed: 3 }).f32;
    // Count flipped samples among those the crop did not move: about half.
    let still = 0;
    let flipped = 0;
    for (let s = 0; s < 4000; s++) {
      const img = both.subarray(s * 25, (s + 1) * 25);
      const unshifted = img[12] === 13; // the centre pixel stays put under a flip, moves under a shift
      if (!unshifted) continue;
      // unmoved iff the middle row is 11..15 or its mirror
      const row = [...img.subarray(10, 15)];
      if (row.join() === '11,12,13,14,15') still++;
      else if (row.join() === '15,14,13,12,11') flipped++;
    }
    const total = still + flipped;
    expect(total).toBeGreaterThan(300); // 1/9 of 4000
    expect(Math.abs(flipped / total - 0.5)).toBeLessThan(0.1);
  });
});

describe('Normalize and ToTensor', () => {
  it('normalizes per channel and scales bytes', () => {
    const x = tensor([0, 255, 51, 102, 10, 20, 30, 40], [1, 2, 2, 2]);
    const s = new ToTensor().apply(x).toArray();
    expect(s[1]).toBeCloseTo(1, 6);
    expect(s[2]).toBeCloseTo(0.2, 6);
    const n = new Normalize([1, 10], [2, 5]).apply(x).toArray();
    expect([...n]).toEqual([-0.5, 127, 25, 50.5, 0, 2, 4, 6]);
    expect(() => new Normalize([1, 2, 3], [1, 1, 1]).apply(x)).toThrow(/3 channel means for a batch of 2 channels/);
    expect(() => new Normalize([1], [0])).toThrow(/positive/);
  });
});

describe('loader modes', () => {
  it('augments in training only', () => {
    const pixels = new Uint8Array(64 * 36);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 251;
    const ds = new ImageDataset(pixels, [64, 1, 6, 6], new Int32Array(64));
    const tf = [new RandomCrop(6, 2), new RandomHorizontalFlip()];
    const train = new DataLoader(ds, { batchSize: 64, shuffle: false, training: true, transform: tf, seed: 3 });
    const evalL = new DataLoader(ds, { batchSize: 64, transform: tf });
    expect(evalL.training).toBe(false);
    // Batches are freed two steps later: read them out at once.
    const first = (l: DataLoader) => {
      for (const [x] of l) return x.toArray();
      throw new Error('no batch');
    };
    const plain = first(new DataLoader(ds, { batchSize: 64 }));
    expect(first(evalL)).toEqual(plain);
    const t = first(train);
    expect(t).not.toEqual(plain);
    // the same epoch again gives the same augmentation; the next epoch another
    train.setEpoch(0);
    expect(first(train)).toEqual(t);
    expect(first(train)).not.toEqual(t);
    train.eval();
    expect(first(train)).toEqual(plain);
  });
});
