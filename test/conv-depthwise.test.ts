/**
 * The direct depthwise kernel (one input channel per group, any channel multiplier, zero
 * padding: crates/tread-core/src/kernels/conv/depthwise.rs) through the wasm build and the
 * Conv2d layer, on 1 and 2 threads, against:
 *
 * - a naive depthwise convolution written here from the definition (every output of every
 *   plane, every tap, zero outside the input) and its adjoint, in float64;
 * - central finite differences on a small case.
 *
 * Widths are chosen so the SIMD rows run every block size (16, 8, 4 lanes and the scalar
 * tail); strided cases run the SIMD kernels' stride-2 blocks (even lanes of two loads),
 * with and without padding (the unpadded ones read the input plane itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { Conv2d, type Conv2dOptions } from '../ts/nn/layers/conv.js';
import { gradcheck, mulberry } from './helpers/gradcheck.js';
import { POOL_THREADS, THREAD_COUNTS } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});
afterAll(() => setThreads(POOL_THREADS));

type Pair = [number, number];
const asPair = (v: number | readonly [number, number] | undefined, d: number): Pair =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

interface DwCase {
  n: number;
  c: number;
  /** Channel multiplier: outputs per input channel. */
  m: number;
  h: number;
  w: number;
  k: number | Pair;
  opts: Omit<Conv2dOptions, 'groups'>;
}

/** [top, bottom, left, right], 'same' putting the odd remainder after (as PyTorch). */
function pads(k: Pair, o: DwCase['opts']): [number, number, number, number] {
  if (o.padding === 'same') {
    const d = asPair(o.dilation, 1);
    const [th, tw] = [d[0] * (k[0] - 1), d[1] * (k[1] - 1)];
    return [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
  }
  if (o.padding === 'valid') return [0, 0, 0, 0];
  const p = asPair(o.padding as number | Pair | undefined, 0);
  return [p[0], p[0], p[1], p[1]];
}

/** y[b, c·m + j] = bias + Σ_taps w[c·m + j] · x[b, c] at the tap (0 in the padding). */
function naiveDepthwise(t: DwCase, x: Float32Array, wt: Float32Array, bias: Float32Array | null) {
  const [kh, kw] = asPair(t.k, 1);
  const [sh, sw] = asPair(t.opts.stride, 1);
  const [dh, dw] = asPair(t.opts.dilation, 1);
  const [pt, pb, pl, pr] = pads([kh, kw], t.opts);
  const oh = Math.floor((t.h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((t.w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const oc = t.c * t.m;
  /** Calls fn(yIndex, xIndex, wIndex) for every tap that reads the input (not padding). */
  const each = (fn: (yi: number, xi: number, wi: number) => void) => {
    for (let b = 0; b < t.n; b++) {
      for (let o = 0; o < oc; o++) {
        const xPlane = (b * t.c + Math.floor(o / t.m)) * t.h * t.w;
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let ki = 0; ki < kh; ki++) {
              for (let kj = 0; kj < kw; kj++) {
                const iy = oy * sh + ki * dh - pt;
                const ix = ox * sw + kj * dw - pl;
                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) continue;
                fn(((b * oc + o) * oh + oy) * ow + ox, xPlane + iy * t.w + ix, (o * kh + ki) * kw + kj);
              }
            }
          }
        }
      }
    }
  };
  const y = new Float64Array(t.n * oc * oh * ow);
  if (bias) y.forEach((_, i) => (y[i] = bias[Math.floor(i / (oh * ow)) % oc]));
  each((yi, xi, wi) => (y[yi] += x[xi] * wt[wi]));
  const backward = (dy: Float32Array) => {
    const dx = new Float64Array(x.length);
    const dwt = new Float64Array(wt.length);
    const db = new Float64Array(oc);
    each((yi, xi, wi) => {
      dx[xi] += dy[yi] * wt[wi];
      dwt[wi] += dy[yi] * x[xi];
    });
    dy.forEach((v, i) => (db[Math.floor(i / (oh * ow)) % oc] += v));
    return { dx, dw: dwt, db };
  };
  return { y, shape: [t.n, oc, oh, ow], backward };
}

function randomTensor(shape: number[], seed: number, requiresGrad = true): Tensor {
  const r = mulberry(seed);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = r() * 2 - 1;
  return tensor(v, shape, { requiresGrad });
}

function expectClose(got: Float32Array, want: ArrayLike<number>, what: string, tol = 1e-4): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (e > worst) [worst, at] = [e, i];
  }
  expect(worst <= tol ? 'ok' : `${what}: worst relative error ${worst} at ${at} (${got[at]} vs ${want[at]})`).toBe('ok');
}

function depthwiseLayer(t: DwCase, seed: number): Conv2d {
  const conv = new Conv2d(t.c, t.c * t.m, t.k, { ...t.opts, groups: t.c });
  const r = mulberry(seed);
  conv.weight.f32.forEach((_, i, a) => (a[i] = r() * 2 - 1));
  if (conv.bias) conv.bias.f32.forEach((_, i, a) => (a[i] = r() * 2 - 1));
  return conv;
}

/** Forward and the three gradients of the layer against the naive loops. */
function checkAgainstNaive(t: DwCase, seed: number): void {
  const conv = depthwiseLayer(t, seed);
  const x = randomTensor([t.n, t.c, t.h, t.w], seed + 1);
  // Copies: the reference's backward reads them after the layer ran, and on a single-threaded
  // build (own, non-shared memory) a view of wasm memory detaches when the memory grows.
  const ref = naiveDepthwise(t, x.f32.slice(), conv.weight.f32.slice(), conv.bias ? conv.bias.f32.slice() : null);
  const label = JSON.stringify(t);
  const y = conv.forward(x);
  expect(y.shape, label).toEqual(ref.shape);
  expectClose(y.f32, ref.y, `y ${label}`);
  const up = randomTensor(y.shape as number[], seed + 2, false);
  y.backward(up);
  const g = ref.backward(up.f32);
  expectClose(x.grad!.f32, g.dx, `dx ${label}`);
  expectClose(conv.weight.grad!.f32, g.dw, `dw ${label}`);
  if (conv.bias) expectClose(conv.bias.grad!.f32, g.db, `db ${label}`);
  endStep();
}

const cases: DwCase[] = [
  // stride 1: widths 31 (16 + 8 + 4 + 3 lanes) and 13 (8 + 4 + 1), 'same' and plain padding
  { n: 2, c: 3, m: 1, h: 9, w: 31, k: 3, opts: { padding: 1 } },
  { n: 2, c: 3, m: 2, h: 7, w: 13, k: 3, opts: { padding: 'same', bias: false } },
  // 'same' with an even kernel (1 before, 2 after) and dilation; 'valid'
  { n: 2, c: 2, m: 1, h: 8, w: 21, k: 4, opts: { padding: 'same' } },
  { n: 1, c: 3, m: 3, h: 9, w: 23, k: [3, 2], opts: { padding: 'same', dilation: [2, 3] } },
  { n: 2, c: 4, m: 1, h: 10, w: 19, k: 5, opts: { padding: 'valid' } },
  // row stride only (SIMD rows), column stride only and both (scalar), with dilation
  { n: 2, c: 3, m: 2, h: 11, w: 18, k: 3, opts: { stride: [2, 1], padding: 1 } },
  { n: 2, c: 3, m: 1, h: 9, w: 17, k: 3, opts: { stride: [1, 2], padding: [0, 1] } },
  { n: 2, c: 2, m: 2, h: 12, w: 15, k: 3, opts: { stride: 2, padding: 2, dilation: 2 } },
  // stride 2 without padding: the input plane itself, whose last row ends the slice
  { n: 2, c: 3, m: 2, h: 10, w: 21, k: 3, opts: { stride: 2 } },
  { n: 1, c: 2, m: 1, h: 9, w: 26, k: [2, 4], opts: { stride: [3, 2], dilation: [1, 2] } },
  // padding wider than the kernel: rows and columns that read only zeros
  { n: 1, c: 2, m: 1, h: 5, w: 6, k: 2, opts: { padding: 3 } },
];

describe('depthwise Conv2d (direct kernel) against a naive depthwise convolution', () => {
  for (const threads of THREAD_COUNTS) {
    it(`every option, channel multipliers 1-3, on ${threads} thread(s)`, () => {
      setThreads(threads);
      cases.forEach((t, i) => checkAgainstNaive(t, 100 * i + threads));
    });

    it(`a larger layer ([8, 16, 29, 30], multiplier 2) on ${threads} thread(s)`, () => {
      setThreads(threads);
      checkAgainstNaive({ n: 8, c: 16, m: 2, h: 29, w: 30, k: 3, opts: { padding: 1 } }, 7 + threads);
      checkAgainstNaive({ n: 8, c: 16, m: 1, h: 29, w: 30, k: 3, opts: { stride: 2, padding: 1 } }, 9 + threads);
    });
  }

  it('gradients match central finite differences (stride 1 and 2)', () => {
    setThreads(POOL_THREADS);
    for (const [i, t] of ([
      { n: 2, c: 2, m: 2, h: 6, w: 9, k: 3, opts: { padding: 'same' } },
      { n: 1, c: 3, m: 1, h: 7, w: 8, k: [2, 3], opts: { stride: 2, padding: [1, 2], dilation: [2, 1] } },
    ] as DwCase[]).entries()) {
      const conv = depthwiseLayer(t, 50 + i);
      const x = randomTensor([t.n, t.c, t.h, t.w], 60 + i);
      const r = gradcheck((xx) => conv.forward(xx), [x, ...conv.parameters()], { name: 'depthwise Conv2d', eps: 1e-2, rtol: 2e-2, atol: 2e-3 });
      expect(r.checked).toBeGreaterThan(0);
      expect(r.worst).toBeLessThanOrEqual(1);
      endStep();
    }
  });
});

describe('what a depthwise layer keeps for its backward', () => {
  it('a copy of the input (N·C·H·W floats), not the nine-times-larger im2col columns', async () => {
    const { wasm } = await import('../ts/runtime/wasm.js');
    // geometry: n, c, h, w, oc, kh, kw, sh, sw, pads (top, bottom, left, right), dilation, groups, mode
    const depthwise = [32, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, 0];
    expect(wasm().tread_conv2d_saved_len_ex(...depthwise)).toBe(32 * 32 * 28 * 28);
    // A dense 3x3 stride-2 layer keeps im2col's columns (stride 1 goes to Winograd:
    // test/conv-winograd.test.ts).
    const dense = [32, 32, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0];
    expect(wasm().tread_conv2d_saved_len_ex(...dense)).toBe(32 * 9 * 32 * 14 * 14);
    const reflect = [2, 4, 9, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1];
    expect(wasm().tread_conv2d_saved_len_ex(...reflect)).toBe(4 * 9 * 2 * 9 * 8); // im2col path
  });
});
