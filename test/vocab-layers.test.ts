/**
 * LayerNorm, GroupNorm, Embedding, Conv1d, AdaptiveAvgPool2d against PyTorch 1.13
 * (test/fixtures/vocab/layers.json, made by tools/fixtures/vocab_layers.py): outputs, input and
 * parameter gradients, state after the forward; finite differences for every new layer;
 * Dropout2d's masks (whole channels, rate, scaling, seeds); option and input errors.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { camelCase } from '../ts/util/options.js';
import { Module } from '../ts/nn/module.js';
import { AdaptiveAvgPool2d, Conv1d, Dropout2d, Embedding, GroupNorm, LayerNorm } from '../ts/nn/layers/index.js';
import { fdCheck, fillUniform } from './helpers/nn-gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

interface Case {
  name: string;
  layer: string;
  args: unknown[];
  options: Record<string, unknown>;
  x: number[];
  x_shape: number[];
  x_dtype: 'float32' | 'int32';
  state: Record<string, number[]>;
  upstream: number[];
  y: number[];
  y_shape: number[];
  grads: Record<string, number[]>;
  state_after: Record<string, number[]>;
}

const LAYERS: Record<string, new (...a: any[]) => Module> = { LayerNorm, GroupNorm, Embedding, Conv1d, AdaptiveAvgPool2d };

/** PyTorch's keyword options in tread's camelCase. */
function treadOptions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [camelCase(k), v]));
}

function build(c: Case): Module {
  const Ctor = LAYERS[c.layer];
  const opts = treadOptions(c.options);
  return Object.keys(opts).length > 0 ? new Ctor(...c.args, opts) : new Ctor(...c.args);
}

function worst(actual: ArrayLike<number>, expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  let w = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]) / (1e-4 + Math.abs(expected[i]));
    if (!(d <= w)) w = Number.isNaN(d) ? Infinity : d;
  }
  return w;
}

const fixture = JSON.parse(readFileSync('test/fixtures/vocab/layers.json', 'utf8')) as { cases: Case[] };

describe('golden vocab/layers.json (PyTorch 1.13)', () => {
  it('has cases for every layer', () => {
    expect(new Set(fixture.cases.map((c) => c.layer))).toEqual(new Set(Object.keys(LAYERS)));
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      const m = build(c);
      const sd = m.stateDict();
      expect([...sd.keys()].sort()).toEqual(Object.keys(c.state).sort());
      for (const [k, v] of Object.entries(c.state)) sd.get(k)!.f32.set(v);
      const x = tensor(c.x, c.x_shape, { dtype: c.x_dtype });
      if (c.x_dtype === 'float32') x.requiresGrad_();
      const y = m.forward(x);
      expect(y.shape).toEqual(c.y_shape);
      expect(worst(y.f32, c.y)).toBeLessThan(1e-4);
      y.backward(tensor(c.upstream, c.y_shape));
      for (const [k, g] of Object.entries(c.grads)) {
        const t = k === 'input' ? x : sd.get(k)!;
        expect(t.grad, `${k}.grad`).not.toBeNull();
        expect(worst(t.grad!.f32, g), `${k}.grad`).toBeLessThan(2e-4);
      }
      for (const [k, v] of Object.entries(c.state_after)) expect(worst(sd.get(k)!.f32, v), `${k} after`).toBeLessThan(1e-5);
    });
  }
});

describe('finite differences', () => {
  const rand = (shape: number[], seed: number) => fillUniform(Tensor.empty(shape, 'float32'), seed, -2, 2).requiresGrad_();
  const randomize = (m: Module, seed: number) => m.parameters().forEach((p, i) => fillUniform(p, seed + i, -1.5, 1.5));
  const expectFd = (r: { ok: boolean; where: string; worst: number }) => expect(r.where).toBe('');

  it('LayerNorm (affine and not, one and two normalized dims)', () => {
    for (const [shape, opts, xs] of [[[5], {}, [3, 5]], [[3, 4], { eps: 1e-3 }, [2, 3, 4]], [[4], { elementwiseAffine: false }, [2, 4]]] as const) {
      const m = new LayerNorm(shape, opts);
      randomize(m, 10);
      const x = rand([...xs], 1);
      expectFd(fdCheck(() => m.forward(x), [x, ...m.parameters()], { eps: 1e-2 }));
    }
  });

  it('GroupNorm (2-D, 3-D and 4-D inputs)', () => {
    for (const [g, c, opts, xs] of [[2, 4, {}, [2, 4, 3, 3]], [3, 6, { affine: false }, [2, 6, 4]], [2, 4, {}, [3, 4]]] as const) {
      const m = new GroupNorm(g, c, opts);
      randomize(m, 20);
      const x = rand([...xs], 2);
      expectFd(fdCheck(() => m.forward(x), [x, ...m.parameters()], { eps: 1e-2 }));
    }
  });

  it('Embedding; paddingIdx and scaleGradByFreq change its gradient on purpose (as PyTorch)', () => {
    const idx = tensor([1, 3, 3, 0, 2, 3, 1, 4], [2, 4], { dtype: 'int32' });
    const plain = new Embedding(5, 3);
    expectFd(fdCheck(() => plain.forward(idx), plain.parameters(), { eps: 1e-2 }));
    const g = plain.weight.grad!.toArray();
    // The same weights under the other options: the padding row gets nothing, and each row's
    // gradient is divided by its index's count (1 appears twice, 3 three times).
    for (const [opts, factor] of [[{ paddingIdx: 3 }, [1, 1, 1, 0, 1]], [{ scaleGradByFreq: true }, [1, 1 / 2, 1, 1 / 3, 1]]] as const) {
      const m = new Embedding(5, 3, opts);
      m.weight.f32.set(plain.weight.f32);
      m.forward(idx).backward(fillUniform(Tensor.empty([2, 4, 3], 'float32'), 99));
      const gm = m.weight.grad!.toArray();
      for (let i = 0; i < 15; i++) expect(gm[i]).toBeCloseTo(g[i] * factor[Math.floor(i / 3)], 6);
    }
  });

  it('Conv1d (stride, padding, dilation, groups, padding modes)', () => {
    for (const [ci, co, k, opts] of [
      [2, 3, 3, {}], [4, 2, 3, { stride: 2, padding: 1, groups: 2 }], [2, 2, 3, { padding: 'same', dilation: 2 }],
      [2, 3, 3, { padding: 2, paddingMode: 'reflect', bias: false }],
    ] as const) {
      const m = new Conv1d(ci, co, k, opts as any);
      const x = rand([2, ci, 7], 3);
      expectFd(fdCheck(() => m.forward(x), [x, ...m.parameters()], { eps: 1e-2 }));
    }
  });

  it('AdaptiveAvgPool2d (dividing, overlapping, upsampling windows)', () => {
    const x = rand([2, 2, 7, 5], 4);
    for (const size of [3, [2, null], [4, 4], [9, 6], 1] as const) {
      const m = new AdaptiveAvgPool2d(size as any);
      expectFd(fdCheck(() => m.forward(x), [x], { eps: 1e-2 }));
    }
  });

  it('Dropout2d (the mask is a constant factor per channel)', () => {
    const m = new Dropout2d(0.4, { seed: 5 });
    const x = rand([3, 4, 2, 3], 5);
    // Each forward draws a new mask: reseed before each so the FD objective sees the same one.
    expectFd(fdCheck(() => (m.reseed(), m.forward(x)), [x], { eps: 1e-2 }));
  });
});

describe('Dropout2d', () => {
  it('zeroes whole channels at rate p, scales the rest by 1/(1-p), repeats with its seed', () => {
    const p = 0.3;
    const [n, c, h, w] = [50, 40, 2, 3];
    const x = tensor(Array.from({ length: n * c * h * w }, () => 1), [n, c, h, w]);
    const m = new Dropout2d(p, { seed: 11 });
    const y1 = Float32Array.from(m.forward(x).f32);
    let dropped = 0;
    for (let k = 0; k < n * c; k++) {
      const plane = y1.subarray(k * h * w, (k + 1) * h * w);
      const v = plane[0];
      expect(plane.every((e) => e === v)).toBe(true);
      expect([0, Math.fround(1 / (1 - p))]).toContain(v);
      if (v === 0) dropped++;
    }
    // 2000 channels: the dropped fraction is within ~4.5 standard deviations (0.0102) of p.
    expect(Math.abs(dropped / (n * c) - p)).toBeLessThan(0.046);
    const y2 = m.forward(x).f32;
    expect(Array.from(y2)).not.toEqual(Array.from(y1));
    m.reseed();
    expect(Array.from(m.forward(x).f32)).toEqual(Array.from(y1));
    expect(Array.from(new Dropout2d(p, { seed: 11 }).forward(x).f32)).toEqual(Array.from(y1));
    m.eval();
    expect(m.forward(x)).toBe(x);
    expect(Array.from(new Dropout2d(1, { seed: 1 }).forward(x).f32).every((v) => v === 0)).toBe(true);
  });
});

describe('errors name the layer, the argument and the shapes', () => {
  it('options and inputs', () => {
    expect(() => new LayerNorm(4, { elementwise_affine: false } as any)).toThrow(/LayerNorm: unknown option 'elementwise_affine'.*elementwiseAffine/);
    expect(() => new GroupNorm(3, 4)).toThrow(/GroupNorm: numChannels 4 must be divisible by numGroups 3/);
    expect(() => new Embedding(5, 2, { padding_idx: 1 } as any)).toThrow(/Embedding: unknown option 'padding_idx'.*paddingIdx/);
    expect(() => new Embedding(5, 2, { paddingIdx: 5 })).toThrow(/paddingIdx must be an integer in -5..4, got 5/);
    expect(() => new Conv1d(2, 2, 3, { padding_mode: 'reflect' } as any)).toThrow(/Conv1d: unknown option 'padding_mode'.*paddingMode/);
    expect(() => new Conv1d(2, 2, 3, { stride: 2, padding: 'same' })).toThrow(/'same' is not supported for strided/);
    expect(() => new Dropout2d(0.5, { sed: 1 } as any)).toThrow(/Dropout2d: unknown option 'sed' \(did you mean 'seed'/);
    expect(() => new AdaptiveAvgPool2d(0)).toThrow(/AdaptiveAvgPool2d: outputSize must be/);
    expect(() => new LayerNorm([3, 4]).forward(tensor([1, 2, 3, 4, 5, 6], [2, 3]))).toThrow(/LayerNorm\(\[3, 4\]\): expected input \[\*, 3, 4\], got \[2, 3\]/);
    expect(() => new GroupNorm(2, 4).forward(tensor([1, 2, 3, 4, 5, 6], [2, 3]))).toThrow(/expected input \[N, 4, \*\], got \[2, 3\]/);
    expect(() => new Embedding(3, 2).forward(tensor([0, 3], [2], { dtype: 'int32' }))).toThrow(/index 3 \(element 1 of input \[2\]\) is outside 0..2/);
    expect(() => new Embedding(3, 2).forward(tensor([0, 1], [2]))).toThrow(/expected int32 indices, got float32/);
    expect(() => new Conv1d(2, 2, 3).forward(tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]))).toThrow(/Conv1d\(2, 2, kernel 3\): expected input \[N, 2, L\], got \[1, 3, 2\]/);
    expect(() => new Conv1d(1, 1, 5).forward(tensor([1, 2, 3], [1, 1, 3]))).toThrow(/Conv1d\(1, 1, kernel 5\): .*smaller than the kernel/);
    expect(() => new Dropout2d().forward(tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]))).toThrow(/Dropout2d\(p=0.5\): expected input \[N, C, H, W\], got \[1, 2, 3\]/);
  });

  it('state-dict names and shapes are PyTorch\'s', () => {
    const shapes = (m: Module) => Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, t.shape]));
    expect(shapes(new Conv1d(4, 6, 3, { groups: 2 }))).toEqual({ weight: [6, 2, 3], bias: [6] });
    expect(shapes(new LayerNorm([3, 4]))).toEqual({ weight: [3, 4], bias: [3, 4] });
    expect(shapes(new GroupNorm(2, 4, { affine: false }))).toEqual({});
    expect(shapes(new Embedding(7, 3))).toEqual({ weight: [7, 3] });
    expect(String(new Conv1d(2, 3, 3, { padding: 1 }))).toContain('Conv1d(2, 3, kernel_size=(3,), stride=(1,), padding=(1,))');
  });
});
