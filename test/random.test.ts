/**
 * rand, randn, randint: seeded by nn.manualSeed's generator (same seed, same tensors, on 1 or
 * 2 threads), the distributions they claim (moments, range, uniform counts), the shape forms
 * PyTorch users write, and the checks of their arguments and options.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';

beforeAll(async () => {
  await tread.init({ threads: 2 });
});

function moments(d: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i];
  const mean = s / d.length;
  let v = 0;
  for (let i = 0; i < d.length; i++) v += (d[i] - mean) ** 2;
  return { mean, variance: v / d.length };
}

describe('seeding', () => {
  it('manualSeed repeats the same draws; later draws differ from earlier ones', () => {
    tread.nn.manualSeed(42);
    const a = [tread.rand(100).toArray(), tread.randn(3, 4).toArray(), tread.randint(0, 5, [50]).toArray()];
    tread.nn.manualSeed(42);
    const b = [tread.rand(100).toArray(), tread.randn(3, 4).toArray(), tread.randint(0, 5, [50]).toArray()];
    a.forEach((x, i) => expect([...b[i]]).toEqual([...x]));
    expect([...tread.rand(100).data]).not.toEqual([...a[0]]);
    tread.nn.manualSeed(43);
    expect([...tread.rand(100).data]).not.toEqual([...a[0]]);
  });

  it('a { seed } gives the same tensor on 1 and 2 threads, without moving the global stream', () => {
    tread.setThreads(2);
    const two = tread.randn([5000], { seed: 7 }).toArray();
    tread.setThreads(1);
    const one = tread.randn([5000], { seed: 7 }).toArray();
    tread.setThreads(2);
    expect([...one]).toEqual([...two]);
    tread.nn.manualSeed(1);
    const first = tread.rand(10).toArray();
    tread.nn.manualSeed(1);
    tread.rand(10, { seed: 99 });
    expect([...tread.rand(10).data]).toEqual([...first]);
  });
});

describe('distributions', () => {
  it('rand is U[0, 1): mean 1/2, variance 1/12, never 1', () => {
    const d = tread.rand([200_000], { seed: 1 }).f32;
    const m = moments(d);
    // Standard errors: 0.29/sqrt(n) = 6.5e-4 for the mean; ~1.9e-4 for the variance.
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(4e-3);
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(1.5e-3);
    expect(d.reduce((a, v) => Math.min(a, v), Infinity)).toBeGreaterThanOrEqual(0);
    expect(d.reduce((a, v) => Math.max(a, v), -Infinity)).toBeLessThan(1);
  });

  it('randn is N(0, 1): mean 0, variance 1, 68% within one sigma', () => {
    const d = tread.randn([200_000], { seed: 2 }).f32;
    const m = moments(d);
    expect(Math.abs(m.mean)).toBeLessThan(1e-2);
    expect(Math.abs(m.variance - 1)).toBeLessThan(2e-2);
    const within = d.filter((v) => Math.abs(v) < 1).length / d.length;
    expect(Math.abs(within - 0.6827)).toBeLessThan(5e-3);
  });

  it('randint covers [low, high) evenly (chi-square), including negative lows', () => {
    const d = tread.randint(-3, 4, [70_000], { seed: 3 }).data;
    expect(d).toBeInstanceOf(Int32Array);
    const counts = new Array(7).fill(0);
    for (const v of d) counts[v + 3]++;
    const expected = d.length / 7;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(22.5); // 6 degrees of freedom: p = 0.001
    expect(counts.every((c) => c > 0)).toBe(true);
  });
});

describe('shapes and options', () => {
  it('accepts PyTorch\'s shape forms, dtype and requiresGrad', () => {
    expect(tread.rand(2, 3).shape).toEqual([2, 3]);
    expect(tread.rand([2, 3]).shape).toEqual([2, 3]);
    expect(tread.randn(4, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(tread.rand().shape).toEqual([]);
    expect(tread.randint(5, [2, 2]).shape).toEqual([2, 2]);
    expect(tread.randint(0, 5, [3], { dtype: 'float32' }).dtype).toBe('float32');
    expect(tread.rand(0, 3).size).toBe(0);
  });

  it('refuses bad shapes, ranges and options with a hint', () => {
    expect(() => tread.rand(2, 3, { requires_grad: true } as any)).toThrow(/rand: unknown option 'requires_grad' \(did you mean 'requiresGrad'\?/);
    expect(() => tread.randn([2, -1])).toThrow(/randn: invalid shape \[2, -1\]/);
    expect(() => tread.rand(2, { dtype: 'int32' })).toThrow(/rand: dtype must be one of 'float32', got "int32"/);
    expect(() => tread.randint(5, 5, [2])).toThrow(/randint: high must be greater than low, got low=5, high=5/);
    expect(() => tread.randint([2] as any)).toThrow(/randint: expects \(low, high, shape\[, options\]\)/);
    expect(() => tread.randint(0, 2 ** 25, [2])).toThrow(/randint: the range high - low = 33554432 is over 16777216/);
    expect(() => tread.randint(0, 2, [2], { requiresGrad: true })).toThrow(/randint: requiresGrad is not possible/);
    expect(() => tread.rand(2, { seed: -1 })).toThrow(/rand: seed must be a non-negative integer/);
  });
});
