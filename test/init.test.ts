import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getThreads, init, setThreads } from '../ts/runtime/wasm.js';
import { Tensor } from '../ts/tensor/tensor.js';
import * as I from '../ts/nn/init.js';
import { getRngState, manualSeed, nextSeed, setRngState } from '../ts/nn/random.js';
import { init as nnInit, manualSeed as nnManualSeed } from '../ts/nn/index.js';
import { check, stats } from '../tools/golden/init.js';

const fixture = JSON.parse(readFileSync('test/fixtures/golden/init.json', 'utf8'));

beforeAll(async () => {
  await init({ threads: 2 });
});

const M = 1 << 20;

function withThreads<T>(n: number, f: () => T): T {
  const before = getThreads();
  setThreads(n);
  try {
    return f();
  } finally {
    setThreads(before);
  }
}

describe('golden init.json', () => {
  it('every gain, fan, exact bound/std and empirical distribution passes', async () => {
    const results = await check(fixture);
    expect(results.length).toBe(fixture.gains.length + fixture.fans.length + fixture.distributions.length + fixture.empirical.length);
    for (const r of results) expect(r, `${r.name}: ${r.detail}`).toMatchObject({ ok: true });
  });

  it('the checker fails a wrong bound, a wrong std and a wrong empirical spread', async () => {
    const bad = JSON.parse(JSON.stringify(fixture));
    bad.distributions[0].bound *= 1.05;
    bad.distributions[1].std *= 0.95;
    bad.empirical[0].std *= 1.05;
    const results = await check(bad);
    expect(results.filter((r) => !r.ok).length).toBe(3);
  });
});

describe('initializers', () => {
  it('the same seed gives the same tensor on 1 and 2 threads; different seeds differ', () => {
    const t = Tensor.empty([1024, 1024]);
    for (const fill of [
      (s: number) => I.normal_(t, 0, 1, { seed: s }),
      (s: number) => I.uniform_(t, -2, 3, { seed: s }),
      (s: number) => I.kaimingNormal_(t, { seed: s }),
    ]) {
      const one = withThreads(1, () => Float32Array.from(fill(42).f32));
      const two = withThreads(2, () => Float32Array.from(fill(42).f32));
      let diff = 0;
      for (let i = 0; i < one.length; i++) if (one[i] !== two[i]) diff++;
      expect(diff).toBe(0);
      const other = Float32Array.from(fill(43).f32);
      let same = 0;
      for (let i = 0; i < other.length; i++) if (other[i] === one[i]) same++;
      expect(same).toBeLessThan(100);
    }
    t.dispose();
  });

  it('manualSeed makes unseeded draws repeat; the generator state round-trips', () => {
    const t = Tensor.empty([300, 7]);
    manualSeed(123);
    const a = Float32Array.from(I.xavierUniform_(t).f32);
    const b = Float32Array.from(I.xavierUniform_(t).f32);
    expect(b).not.toEqual(a);
    manualSeed(123);
    expect(Float32Array.from(I.xavierUniform_(t).f32)).toEqual(a);
    const st = getRngState();
    const s1 = nextSeed();
    setRngState(JSON.parse(JSON.stringify(st)));
    expect(nextSeed()).toBe(s1);
    manualSeed(124);
    expect(Float32Array.from(I.xavierUniform_(t).f32)).not.toEqual(a);
    expect(nnInit.xavierUniform_).toBe(I.xavierUniform_);
    expect(nnManualSeed).toBe(manualSeed);
    t.dispose();
  });

  it('uniform_ on 1M values: mean, std and range', () => {
    const t = Tensor.empty([M]);
    const s = stats(I.uniform_(t, -1, 3, { seed: 9 }).f32);
    const sd = 4 / Math.sqrt(12);
    expect(Math.abs(s.mean - 1)).toBeLessThan((4 * sd) / Math.sqrt(M));
    expect(Math.abs(s.std / sd - 1)).toBeLessThan(0.01);
    expect(s.min).toBeGreaterThanOrEqual(-1);
    expect(s.max).toBeLessThan(3);
    expect(s.min).toBeLessThan(-1 + 1e-4);
    expect(s.max).toBeGreaterThan(3 - 1e-4);
    t.dispose();
  });

  it('normal_ on 1M values: mean, std, range and tails', () => {
    const t = Tensor.empty([M]);
    const d = I.normal_(t, 2, 0.5, { seed: 10 }).f32;
    const s = stats(d);
    expect(Math.abs(s.mean - 2)).toBeLessThan((4 * 0.5) / Math.sqrt(M));
    expect(Math.abs(s.std / 0.5 - 1)).toBeLessThan(0.01);
    // The extremes of 1M normals lie around 4.9 std; both tails are present.
    expect((s.max - 2) / 0.5).toBeGreaterThan(4.2);
    expect((2 - s.min) / 0.5).toBeGreaterThan(4.2);
    expect((s.max - 2) / 0.5).toBeLessThan(6.5);
    let within1 = 0;
    for (const x of d) if (Math.abs(x - 2) < 0.5) within1++;
    expect(within1 / M).toBeCloseTo(0.6827, 2);
    t.dispose();
  });

  it('xavier / kaiming / scaled fills use the exact scale on a large tensor', () => {
    const t = Tensor.empty([1024, 1024]);
    const b = Math.sqrt(6 / 2048);
    let s = stats(I.xavierUniform_(t, 1, { seed: 1 }).f32);
    expect(s.max).toBeLessThanOrEqual(b);
    expect(s.max).toBeGreaterThan(0.999 * b);
    expect(Math.abs(s.std / (b / Math.sqrt(3)) - 1)).toBeLessThan(0.01);
    s = stats(I.scaledUniform_(t, 6, { seed: 2 }).f32);
    expect(s.max).toBeGreaterThan(0.999 * b);
    expect(s.max).toBeLessThanOrEqual(b);
    s = stats(I.scaledNormal_(t, 2, { seed: 3 }).f32);
    expect(Math.abs(s.std / Math.sqrt(2 / 2048) - 1)).toBeLessThan(0.01);
    s = stats(I.kaimingNormal_(t, { nonlinearity: 'relu', mode: 'fan_out', seed: 4 }).f32);
    expect(Math.abs(s.std / Math.sqrt(2 / 1024) - 1)).toBeLessThan(0.01);
    s = stats(I.kaimingUniform_(t, { a: Math.sqrt(5), seed: 5 }).f32);
    expect(s.max).toBeLessThanOrEqual(1 / 32);
    expect(s.max).toBeGreaterThan(0.999 / 32);
    t.dispose();
  });

  it('constant fills, fans of conv weights, gains', () => {
    const t = Tensor.empty([3, 4]);
    expect([...I.zeros_(t).f32]).toEqual(new Array(12).fill(0));
    expect([...I.ones_(t).f32]).toEqual(new Array(12).fill(1));
    expect([...I.constant_(t, 0.25).f32]).toEqual(new Array(12).fill(0.25));
    expect(I.computeFans([32, 16, 5, 5])).toEqual({ fanIn: 400, fanOut: 800 });
    expect(I.computeFans(t)).toEqual({ fanIn: 4, fanOut: 3 });
    expect(I.calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 14);
    expect(I.calculateGain('tanh')).toBeCloseTo(5 / 3, 14);
    t.dispose();
  });

  it('bad options and unknown nonlinearities throw, naming them', () => {
    const t = Tensor.empty([4, 4]);
    expect(() => I.calculateGain('swish')).toThrow(/unsupported nonlinearity 'swish' \(valid: linear, .*leaky_relu, selu\)/);
    expect(() => I.kaimingUniform_(t, { nonlinearity: 'gelu' as any })).toThrow(/kaimingUniform_: unsupported nonlinearity 'gelu'/);
    expect(() => I.kaimingNormal_(t, { mode: 'fan_avg' as any })).toThrow(/kaimingNormal_: mode must be 'fan_in' or 'fan_out'/);
    expect(() => I.kaimingNormal_(t, { nonlin: 'relu' } as any)).toThrow(/kaimingNormal_: unknown option 'nonlin'/);
    expect(() => I.xavierUniform_(Tensor.empty([5]))).toThrow(/at least 2 dimensions/);
    expect(() => I.normal_(t, 0, -1)).toThrow(/normal_: std must be >= 0/);
    expect(() => I.uniform_(t, 2, 1)).toThrow(/uniform_: a must be <= b/);
    expect(() => I.scaledUniform_(t, -6)).toThrow(/scaledUniform_: k must be a positive number/);
    expect(() => I.uniform_(t, 0, 1, { seed: -3 })).toThrow(/uniform_: seed must be a non-negative integer/);
    expect(() => manualSeed(1.5)).toThrow(/manualSeed: seed/);
    expect(() => I.zeros_(Tensor.empty([2], 'int32'))).toThrow(/zeros_: expected a float32 tensor/);
    t.dispose();
  });
});
