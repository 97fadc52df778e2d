/**
 * The Winograd path of dense 3x3 stride-1 convolutions (crates/tread-core/src/kernels/conv/
 * winograd.rs: F(4x4, 3x3) by default, F(2x2, 3x3) selectable) through the wasm build (its
 * SIMD128 lanes, which the native cargo tests do not run) and the Conv2d layer, on 1 and 2
 * threads, against a naive dense convolution written here from the definition (every
 * output, every input channel, every tap, zero outside the input) and its adjoint, in
 * float64; and against the im2col path of the same build (Winograd switched off).
 *
 * Shapes: odd sizes (ragged last tiles), padding 0, 1, 2 and 'same', channels that are not
 * multiples of 4, batch 1, and enough samples to split over threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads, wasm } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { Conv2d } from '../ts/nn/layers/conv.js';
import { mulberry } from './helpers/gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});
afterAll(() => {
  setThreads(2);
  wasm().tread_conv2d_set_winograd(4);
});

interface Case {
  n: number;
  c: number;
  oc: number;
  h: number;
  w: number;
  padding: number | 'same';
  bias?: boolean;
}

/** Dense 3x3 stride-1 correlation with zero padding p, and its adjoint, in float64. */
function naive(t: Case, x: Float32Array, wt: Float32Array, bias: Float32Array | null) {
  const p = t.padding === 'same' ? 1 : t.padding;
  const [oh, ow] = [t.h + 2 * p - 2, t.w + 2 * p - 2];
  const each = (fn: (yi: number, xi: number, wi: number) => void) => {
    for (let b = 0; b < t.n; b++)
      for (let o = 0; o < t.oc; o++)
        for (let ci = 0; ci < t.c; ci++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++)
              for (let ki = 0; ki < 3; ki++)
                for (let kj = 0; kj < 3; kj++) {
                  const [iy, ix] = [oy + ki - p, ox + kj - p];
                  if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) continue;
                  fn(((b * t.oc + o) * oh + oy) * ow + ox, ((b * t.c + ci) * t.h + iy) * t.w + ix, ((o * t.c + ci) * 3 + ki) * 3 + kj);
                }
  };
  const y = new Float64Array(t.n * t.oc * oh * ow);
  if (bias) y.forEach((_, i) => (y[i] = bias[Math.floor(i / (oh * ow)) % t.oc]));
  each((yi, xi, wi) => (y[yi] += x[xi] * wt[wi]));
  const backward = (dy: Float32Array) => {
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(wt.length);
    const db = new Float64Array(t.oc);
    each((yi, xi, wi) => {
      dx[xi] += dy[yi] * wt[wi];
      dw[wi] += dy[yi] * x[xi];
    });
    dy.forEach((v, i) => (db[Math.floor(i / (oh * ow)) % t.oc] += v));
    return { dx, dw, db };
  };
  return { y, shape: [t.n, t.oc, oh, ow], backward };
}

function randomTensor(shape: number[], seed: number, requiresGrad = true): Tensor {
  const r = mulberry(seed);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = r() * 2 - 1;
  return tensor(v, shape, { requiresGrad });
}

/** Largest |got - want| / (1 + |want|). */
function worst(got: Float32Array, want: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  return e;
}

/** Forward and the three gradients of one layer; returns them for comparisons. */
function run(t: Case, seed: number) {
  const conv = new Conv2d(t.c, t.oc, 3, { padding: t.padding, bias: t.bias ?? true });
  const r = mulberry(seed);
  conv.weight.f32.forEach((_, i, a) => (a[i] = r() * 2 - 1));
  if (conv.bias) conv.bias.f32.forEach((_, i, a) => (a[i] = r() * 2 - 1));
  const x = randomTensor([t.n, t.c, t.h, t.w], seed + 1);
  const y = conv.forward(x);
  const up = randomTensor(y.shape as number[], seed + 2, false);
  y.backward(up);
  const out = {
    conv, x, up, shape: [...y.shape],
    y: y.f32.slice(), dx: x.grad!.f32.slice(), dw: conv.weight.grad!.f32.slice(), db: conv.bias ? conv.bias.grad!.f32.slice() : null,
  };
  endStep();
  return out;
}

const cases: Case[] = [
  { n: 2, c: 8, oc: 8, h: 7, w: 6, padding: 0 },
  { n: 2, c: 8, oc: 12, h: 11, w: 13, padding: 1 },
  { n: 1, c: 9, oc: 10, h: 13, w: 13, padding: 'same', bias: false },
  { n: 3, c: 13, oc: 11, h: 5, w: 9, padding: 0 },
  { n: 2, c: 8, oc: 9, h: 3, w: 3, padding: 0 },
  { n: 2, c: 8, oc: 8, h: 6, w: 7, padding: 2 },
  { n: 12, c: 16, oc: 8, h: 10, w: 10, padding: 1 },
];

describe('Conv2d 3x3 stride 1 (Winograd) against a naive convolution', () => {
  // F(2x2) agrees as a reordered float32 sum does; F(4x4)'s transforms (coefficients up to
  // 8 and 1/24) round about ten times more.
  for (const [tile, tol] of [[4, 2e-4], [2, 2e-5]] as const) {
    for (const threads of [1, 2]) {
      it(`F(${tile}x${tile}, 3x3) on ${threads} thread(s)`, () => {
        setThreads(threads);
        wasm().tread_conv2d_set_winograd(tile);
        cases.forEach((t, i) => {
          const got = run(t, 100 * i + threads);
          const ref = naive(t, got.x.f32, got.conv.weight.f32, got.conv.bias ? got.conv.bias.f32 : null);
          const g = ref.backward(got.up.f32);
          const label = `${JSON.stringify(t)} F(${tile})`;
          expect(got.shape, label).toEqual(ref.shape);
          const errs = { y: worst(got.y, ref.y), dx: worst(got.dx, g.dx), dw: worst(got.dw, g.dw), db: got.db ? worst(got.db, g.db) : 0 };
          for (const [k, e] of Object.entries(errs)) expect(e, `${k} ${label}`).toBeLessThanOrEqual(k === 'db' ? 1e-5 : tol);
        });
      });
    }
  }

  it('agrees with the im2col path on a larger layer, on 1 and 2 threads', () => {
    const t: Case = { n: 16, c: 32, oc: 64, h: 13, w: 13, padding: 0 };
    const results = [];
    for (const [tile, threads] of [[0, 1], [4, 1], [4, 2]]) {
      setThreads(threads);
      wasm().tread_conv2d_set_winograd(tile);
      results.push(run(t, 7));
    }
    const [im2col, ...winograd] = results;
    for (const k of ['y', 'dx', 'dw', 'db'] as const) {
      // Scale: |values| here reach ~10-100 (288-term sums); compare relative to the largest.
      const scale = im2col[k]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (const [i, w] of winograd.entries()) {
        const e = worst(w[k]!.map((v) => v / scale), Array.from(im2col[k]!, (v) => v / scale));
        expect(e, `${k} on ${i + 1} thread(s)`).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('keeps the transformed input for the backward: smaller than the im2col columns', () => {
    // geometry: n, c, h, w, oc, kh, kw, sh, sw, pads (top, bottom, left, right), dilation, groups, mode
    const geo = [64, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0];
    const im2col = 64 * 32 * 9 * 11 * 11;
    wasm().tread_conv2d_set_winograd(4);
    expect(wasm().tread_conv2d_saved_len_ex(...geo)).toBe(36 * 64 * 9 * 32); // 3x3 tiles of 4x4 outputs
    wasm().tread_conv2d_set_winograd(2);
    expect(wasm().tread_conv2d_saved_len_ex(...geo)).toBe(16 * 64 * 36 * 32); // 6x6 tiles of 2x2
    wasm().tread_conv2d_set_winograd(0);
    expect(wasm().tread_conv2d_saved_len_ex(...geo)).toBe(im2col);
    wasm().tread_conv2d_set_winograd(4);
    expect(36 * 64 * 9 * 32).toBeLessThan(im2col / 3);
  });
});
