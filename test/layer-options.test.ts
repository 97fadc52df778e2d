/**
 * PyTorch options of BatchNorm and the activations: `momentum: null` (cumulative average),
 * `affine: false`, `trackRunningStats: false`, BatchNorm1d on [N, C, L]; GELU 'tanh',
 * Softplus beta/threshold, Softmax/LogSoftmax on any dim of 3-D/4-D input. Checked against
 * PyTorch 1.13 (the option cases of test/fixtures/golden-variants/layers.json, made by
 * tools/fixtures/layers.py, replayed by the golden checker), against plain JS formulas and finite differences. Also: the checker
 * still refuses options it does not know.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../ts/autograd/engine.js';
import { init } from '../ts/runtime/wasm.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { BatchNorm1d, BatchNorm2d } from '../ts/nn/layers/batchnorm.js';
import * as A from '../ts/nn/layers/activation.js';
import { check } from '../tools/golden/layers.js';
import { fdCheck, fillUniform } from './helpers/nn-gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const VARIANTS = 'test/fixtures/golden-variants/layers.json';
const rand = (shape: number[], seed: number, lo = -2, hi = 2) => fillUniform(Tensor.empty(shape, 'float32'), seed, lo, hi).requiresGrad_();

describe('PyTorch 1.13 cases for the options (test/fixtures/golden-variants)', () => {
  it('replay: loss weights, pos_weight, probability targets, BatchNorm options, activation options', async () => {
    const all = JSON.parse(readFileSync(VARIANTS, 'utf8'));
    const option = (c: any) => ['weight', 'pos_weight', 'momentum', 'affine', 'track_running_stats', 'approximate', 'beta', 'threshold', 'dim', 'label_smoothing', 'ignore_index'].some((k) => k in (c.options ?? {})) || (Array.isArray(c.target_shape) && c.target_shape.length === c.x_shape.length && c.layer === 'CrossEntropyLoss');
    const fixture = { ...all, cases: all.cases.filter(option) };
    const results = await check(fixture, 'layers.json');
    expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.length).toBe(fixture.cases.length);
    const layers = new Set(fixture.cases.map((c: any) => c.layer));
    for (const l of ['CrossEntropyLoss', 'NLLLoss', 'BCELoss', 'BCEWithLogitsLoss', 'BatchNorm1d', 'BatchNorm2d', 'GELU', 'Softplus', 'Softmax', 'LogSoftmax']) expect(layers.has(l)).toBe(true);
  });

  it('the checker fails clearly on options it does not know', async () => {
    const fixture = JSON.parse(readFileSync(VARIANTS, 'utf8'));
    const ce = fixture.cases.find((c: any) => c.layer === 'CrossEntropyLoss');
    const bad = { ...ce, options: { ...ce.options, size_average: true } };
    const [r] = await check({ cases: [bad] }, 'x.json');
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/CrossEntropyLoss: option\(s\) size_average not understood by the checker/);
  });
});

/** Per-channel mean and biased variance of an [N, C, L] array. */
function channelStats(x: Float32Array, n: number, c: number, l: number): { mean: number[]; varB: number[] } {
  const mean: number[] = [];
  const varB: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) s += x[(i * c + ch) * l + j];
    const m = s / (n * l);
    let v = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) v += (x[(i * c + ch) * l + j] - m) ** 2;
    mean.push(m);
    varB.push(v / (n * l));
  }
  return { mean, varB };
}

describe('BatchNorm options', () => {
  it('momentum: null keeps the cumulative average of the batch statistics (1/num_batches_tracked)', () => {
    const bn = new BatchNorm1d(3, { momentum: null });
    const [n, c, l] = [4, 3, 5];
    const means: number[][] = [];
    const vars: number[][] = [];
    noGrad(() => {
      for (let b = 0; b < 4; b++) {
        const x = rand([n, c, l], 100 + b);
        const { mean, varB } = channelStats(x.f32, n, c, l);
        means.push(mean);
        vars.push(varB.map((v) => (v * n * l) / (n * l - 1))); // unbiased, as the running estimate
        bn.forward(x);
      }
    });
    // Starting from mean 0 / var 1, the cumulative average of k batches is the plain average.
    for (let ch = 0; ch < c; ch++) {
      expect(bn.runningMean!.f32[ch]).toBeCloseTo(means.reduce((s, m) => s + m[ch], 0) / 4, 5);
      expect(bn.runningVar!.f32[ch]).toBeCloseTo(vars.reduce((s, v) => s + v[ch], 0) / 4, 5);
    }
    expect(bn.numBatchesTracked!.data[0]).toBe(4);
    endStep();
  });

  it('trackRunningStats: false has no running buffers and normalizes with batch statistics in eval too', () => {
    const bn = new BatchNorm2d(2, { trackRunningStats: false, affine: false });
    expect([...bn.stateDict().keys()]).toEqual([]);
    expect(bn.parameters()).toEqual([]);
    bn.eval();
    const x = rand([3, 2, 2, 2], 7);
    const y = bn.forward(x);
    const { mean, varB } = channelStats(x.f32, 3, 2, 4);
    for (let i = 0; i < 3; i++)
      for (let ch = 0; ch < 2; ch++)
        for (let j = 0; j < 4; j++) {
          const k = (i * 2 + ch) * 4 + j;
          expect(y.f32[k]).toBeCloseTo((x.f32[k] - mean[ch]) / Math.sqrt(varB[ch] + 1e-5), 4);
        }
    expect(fdCheck(() => bn.forward(x), [x]).where).toBe('');
    const tracked = new BatchNorm1d(4);
    expect([...tracked.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect([...new BatchNorm1d(4, { affine: false }).stateDict().keys()]).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
  });

  it('BatchNorm1d on [N, C, L]: gradients of input, weight and bias match finite differences (train and eval)', () => {
    const bn = new BatchNorm1d(3);
    fillUniform(bn.weight!, 3, 0.5, 1.5);
    fillUniform(bn.bias!, 4);
    const x = rand([4, 3, 5], 9);
    expect(fdCheck(() => bn.forward(x), [x, bn.weight!, bn.bias!]).where).toBe('');
    bn.eval();
    expect(fdCheck(() => bn.forward(x), [x, bn.weight!, bn.bias!]).where).toBe('');
    expect(() => bn.forward(rand([4, 2, 5], 1))).toThrow(/BatchNorm1d\(3\): expected 3 channels in dimension 1, got input \[4, 2, 5\]/);
  });
});

describe('activation options', () => {
  it("GELU 'tanh' and Softplus(beta, threshold) match their formulas and finite differences", () => {
    const x = rand([4, 6], 11, -4, 4);
    const g = new A.GELU('tanh').forward(x);
    const sp = new A.Softplus(2, 3).forward(x);
    for (let i = 0; i < x.size; i++) {
      const v = x.f32[i];
      expect(g.f32[i]).toBeCloseTo(0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), 5);
      // PyTorch: x where beta·x > threshold, else log(1 + exp(beta·x)) / beta.
      expect(sp.f32[i]).toBeCloseTo(2 * v > 3 ? v : Math.log1p(Math.exp(2 * v)) / 2, 5);
    }
    expect(fdCheck(() => new A.GELU('tanh').forward(x), [x]).where).toBe('');
    expect(fdCheck(() => new A.Softplus(2, 3).forward(x), [x], { eps: 1e-3 }).where).toBe('');
  });

  it('Softmax / LogSoftmax along every dim of 3-D and 4-D input', () => {
    for (const shape of [[2, 3, 4], [2, 3, 2, 2]]) {
      const x = rand(shape, 13);
      for (let d = -shape.length; d < shape.length; d++) {
        const y = new A.Softmax(d).forward(x);
        const ly = new A.LogSoftmax(d).forward(x);
        const dim = d < 0 ? d + shape.length : d;
        const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
        const n = shape[dim];
        for (let f = 0; f < x.size; f++) {
          const base = f - (Math.floor(f / inner) % n) * inner;
          let z = 0;
          for (let k = 0; k < n; k++) z += Math.exp(x.f32[base + k * inner]);
          expect(y.f32[f]).toBeCloseTo(Math.exp(x.f32[f]) / z, 5);
          expect(ly.f32[f]).toBeCloseTo(x.f32[f] - Math.log(z), 5);
        }
        expect(fdCheck(() => new A.LogSoftmax(d).forward(x), [x]).where).toBe('');
      }
      endStep();
    }
    expect(() => new A.Softmax(3).forward(rand([2, 3, 4], 1))).toThrow(/dim/);
  });
});
