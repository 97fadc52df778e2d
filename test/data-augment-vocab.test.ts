/**
 * RandomRotation, ColorJitter and RandomResizedCrop: their deterministic cores (rotate,
 * adjustColors, resizedCrops) against torch computing what torchvision 0.14 does
 * (test/fixtures/vocab/augment.json, tools/fixtures/vocab_augment.py) and against exact
 * quarter-turns; the random draws within their ranges, per sample, seeded, eval behaviour.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { TensorDataset } from '../ts/data/dataset.js';
import { DataLoader } from '../ts/data/loader.js';
import { Rng } from '../ts/data/random.js';
import { Compose } from '../ts/data/transforms.js';
import { RandomRotation, rotate } from '../ts/data/augment/random_rotation.js';
import { ColorJitter, adjustColors } from '../ts/data/augment/color_jitter.js';
import { RandomResizedCrop, resizedCrops, type CropBox } from '../ts/data/augment/random_resized_crop.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

const fixture = JSON.parse(readFileSync('test/fixtures/vocab/augment.json', 'utf8'));

function maxDiff(a: ArrayLike<number>, b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const ramp = (shape: number[]) => tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 97) / 97), shape);

describe('golden vocab/augment.json (torch as torchvision 0.14)', () => {
  it('resizedCrops = crop + F.interpolate(bilinear, align_corners=False)', () => {
    for (const c of fixture.resized_crops) {
      const y = resizedCrops(tensor(c.x, c.x_shape), c.boxes, c.size);
      expect(y.shape).toEqual(c.y_shape);
      expect(maxDiff(y.f32, c.y)).toBeLessThan(2e-6);
    }
  });

  it('rotate = F.rotate (bilinear and nearest)', () => {
    for (const c of fixture.rotations) {
      const y = rotate(tensor(c.x, c.x_shape), c.angles, c.mode);
      expect(maxDiff(y.f32, c.y), `${c.mode} ${c.angles}`).toBeLessThan(2e-6);
    }
  });

  it('adjustColors = adjust_brightness / adjust_contrast / adjust_saturation in order', () => {
    for (const c of fixture.colors) {
      const y = adjustColors(tensor(c.x, c.x_shape), c.plans);
      expect(maxDiff(y.f32, c.y)).toBeLessThan(2e-6);
    }
  });
});

describe('RandomRotation', () => {
  it('quarter and half turns move pixels exactly (counter-clockwise)', () => {
    const [h, w] = [5, 5];
    const x = ramp([1, 2, h, w]);
    const q = rotate(x, [90]).f32;
    const half = new RandomRotation([180, 180]).apply(x).f32;
    const s = x.f32;
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          expect(q[k * 25 + i * w + j]).toBe(s[k * 25 + j * w + (w - 1 - i)]);
          expect(half[k * 25 + i * w + j]).toBe(s[k * 25 + (h - 1 - i) * w + (w - 1 - j)]);
        }
      }
    }
  });

  it('draws one angle per sample in range, seeded; eval is the identity', () => {
    const img = Array.from({ length: 64 }, (_, i) => (i * 7) % 11);
    const x = tensor([...img, ...img, ...img], [3, 8, 8]);
    const t = new RandomRotation(40, { interpolation: 'bilinear', fill: -1 });
    const ctx = { seed: 5, epoch: 2, batch: 1 };
    const y = Array.from(t.apply(x, ctx).f32);
    expect(Array.from(t.apply(x, ctx).f32)).toEqual(y);
    expect(Array.from(t.apply(x, { ...ctx, batch: 2 }).f32)).not.toEqual(y);
    // The same image in three slots turns by three different angles.
    expect(y.slice(0, 64)).not.toEqual(y.slice(64, 128));
    expect(t.apply(x, { ...ctx, training: false })).toBe(x);
    // Each sample equals rotate() at some angle in [-40, 40]: search it on a 0.01° grid.
    for (let s = 0; s < 3; s++) {
      let best = Infinity;
      for (let a = -40; a <= 40; a += 0.01) {
        const r = rotate(tensor(img, [1, 8, 8]), [a], 'bilinear', -1).f32;
        best = Math.min(best, maxDiff(r, y.slice(64 * s, 64 * (s + 1))));
      }
      expect(best).toBeLessThan(0.05);
    }
    expect(() => new RandomRotation(10, { expand: true } as any)).toThrow(/RandomRotation: unknown option 'expand'/);
    expect(() => new RandomRotation([10, -10])).toThrow(/degrees must be a number or a \[min, max\] pair with min <= max/);
  });
});

describe('ColorJitter', () => {
  it('brightness factors spread over [1-b, 1+b]; contrast keeps the mean; seeded; eval identity', () => {
    const n = 400;
    const x = tensor(new Array(n * 4).fill(0.5), [n, 1, 2, 2]);
    const y = new ColorJitter({ brightness: 0.4 }).apply(x, { seed: 3 }).f32;
    const factors = Array.from({ length: n }, (_, s) => y[4 * s] / 0.5);
    expect(Math.min(...factors)).toBeGreaterThanOrEqual(0.6 - 1e-6);
    expect(Math.max(...factors)).toBeLessThanOrEqual(1.4 + 1e-6);
    // Uniform on [0.6, 1.4]: mean 1, about a quarter in each tenth... check the quartiles.
    const sorted = [...factors].sort((a, b) => a - b);
    expect(Math.abs(sorted[100] - 0.8)).toBeLessThan(0.05);
    expect(Math.abs(sorted[300] - 1.2)).toBeLessThan(0.05);
    const cj = new ColorJitter({ contrast: 0.5, brightness: [1, 1] });
    const img = tensor([0.1, 0.3, 0.5, 0.7], [1, 1, 2, 2]);
    const yc = cj.apply(img, { seed: 9 }).f32;
    expect((yc[0] + yc[1] + yc[2] + yc[3]) / 4).toBeCloseTo(0.4, 6);
    expect(Array.from(cj.apply(img, { seed: 9 }).f32)).toEqual(Array.from(yc));
    expect(cj.apply(img, { seed: 9, training: false })).toBe(img);
    expect(() => new ColorJitter({ saturation: 0.5 }).apply(img)).toThrow(/saturation needs 3-channel images/);
    expect(() => new ColorJitter({ hue: 0.1 } as any)).toThrow(/ColorJitter: unknown option 'hue'/);
    expect(() => new ColorJitter({ brightness: -1 })).toThrow(/brightness must be a non-negative number/);
  });
});

describe('RandomResizedCrop', () => {
  it('crop boxes: area fraction in scale, aspect ratio in ratio (up to rounding), anywhere in the image', () => {
    const t = new RandomResizedCrop(8, { scale: [0.2, 0.6], ratio: [0.5, 2] });
    const [h, w] = [60, 80];
    let tops = 0;
    for (let k = 0; k < 500; k++) {
      const [top, left, ch, cw] = t.cropBox(h, w, new Rng(1, k));
      expect(top + ch).toBeLessThanOrEqual(h);
      expect(left + cw).toBeLessThanOrEqual(w);
      expect(top).toBeGreaterThanOrEqual(0);
      const frac = (ch * cw) / (h * w);
      expect(frac).toBeGreaterThan(0.2 * 0.9);
      expect(frac).toBeLessThan(0.6 * 1.1);
      expect(cw / ch).toBeGreaterThan(0.5 * 0.9);
      expect(cw / ch).toBeLessThan(2 * 1.1);
      tops += top;
    }
    expect(tops / 500).toBeGreaterThan(5);
    // Central fallback: the whole image when its ratio is in range, else clamped to it.
    expect(t.cropBox(h, w, null)).toEqual([0, 0, 60, 80]);
    expect(new RandomResizedCrop(4, { ratio: [1, 1] }).cropBox(60, 80, null)).toEqual([0, 10, 60, 60]);
  });

  it('resizes each sample\'s box; eval uses the central crop; in a seeded DataLoader', () => {
    const x = ramp([4, 3, 12, 10]);
    const t = new RandomResizedCrop([6, 5]);
    const y = t.apply(x, { seed: 1 });
    expect(y.shape).toEqual([4, 3, 6, 5]);
    const boxes: CropBox[] = [0, 1, 2, 3].map(() => [0, 0, 12, 10]);
    expect(Array.from(t.apply(x, { training: false }).f32)).toEqual(Array.from(resizedCrops(x, boxes, [6, 5]).f32));
    const ds = new TensorDataset(x, tensor([0, 1, 2, 3], [4], { dtype: 'int32' }));
    const run = () =>
      [...new DataLoader(ds, { batchSize: 2, shuffle: true, seed: 4, endStep: false, transform: new Compose([t, new RandomRotation(15), new ColorJitter({ brightness: 0.2 })]) })].map(([b]) => Array.from(b.f32));
    const a = run();
    expect(run()).toEqual(a);
    expect(a[0].length).toBe(2 * 3 * 30);
    expect(() => new RandomResizedCrop(4, { scale: [0.5, 0.1] })).toThrow(/scale must be a \[min, max\] pair with 0 < min <= max/);
    expect(() => resizedCrops(x, [[0, 0, 13, 10], ...boxes.slice(1)], [2, 2])).toThrow(/box \[0,0,13,10\] is outside the 12x10 image/);
  });
});
