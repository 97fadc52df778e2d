/**
 * Conv2d's dilation / groups / padding modes / 'same' and 'valid', MaxPool2d's dilation and
 * ceil mode, AvgPool2d's ceil mode, countIncludePad and divisorOverride, against:
 *
 * - naive references written here from PyTorch's definitions: the convolution pads the input
 *   explicitly (as `F.pad(x, mode)`), then runs the 7-deep loop over groups with dilated
 *   taps; its backward is the same loop's adjoint followed by folding the padded gradient
 *   back through the padding map; pooling walks every tap of every window, output sizes by
 *   PyTorch's formula (aten/src/ATen/native/Pool.h) written out again;
 * - central finite differences (test/helpers/gradcheck.ts);
 * - a few outputs computed by PyTorch 1.13 (Debian's python3-torch), for the edge cases
 *   that fix the semantics (which side gets the odd 'same' padding, ceil-mode divisors);
 * - the error messages for options PyTorch rejects.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { Conv2d, type Conv2dOptions, type PaddingMode } from '../ts/nn/layers/conv.js';
import { AvgPool2d, MaxPool2d, type AvgPoolOptions, type PoolOptions } from '../ts/nn/layers/pool.js';
import { gradcheck, mulberry } from './helpers/gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

type Pair = [number, number];
const asPair = (v: number | readonly [number, number] | undefined, d: number): Pair =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

function randomTensor(shape: number[], seed: number, requiresGrad = true): Tensor {
  const r = mulberry(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
  return tensor(v, shape, { requiresGrad });
}

// ---------------------------------------------------------------- naive convolution

/** The input index padded position `i` reads, as F.pad(mode) builds it; -1 for a zero. */
function padSource(i: number, len: number, mode: PaddingMode): number {
  if (i >= 0 && i < len) return i;
  switch (mode) {
    case 'zeros':
      return -1;
    case 'reflect':
      return i < 0 ? -i : 2 * (len - 1) - i;
    case 'replicate':
      return Math.min(Math.max(i, 0), len - 1);
    case 'circular':
      return ((i % len) + len) % len;
  }
}

interface ConvCase {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  k: number | [number, number];
  opts: Conv2dOptions;
}

/** Per-side padding [top, bottom, left, right] as PyTorch derives it from the options. */
function convPads(k: Pair, o: Conv2dOptions): [number, number, number, number] {
  if (o.padding === 'valid') return [0, 0, 0, 0];
  if (o.padding === 'same') {
    const d = asPair(o.dilation, 1);
    const th = d[0] * (k[0] - 1);
    const tw = d[1] * (k[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  const p = asPair(o.padding as number | [number, number] | undefined, 0);
  return [p[0], p[0], p[1], p[1]];
}

/**
 * y = conv(pad(x)) with dilation and groups; returns y, and a backward that gives dx, dw, db
 * for an upstream gradient (all in float64).
 */
function naiveConv(c: ConvCase, x: Float32Array, wt: Float32Array, bias: Float32Array | null) {
  const k = asPair(c.k, 1);
  const [sh, sw] = asPair(c.opts.stride, 1);
  const [dh, dw] = asPair(c.opts.dilation, 1);
  const g = c.opts.groups ?? 1;
  const mode = c.opts.paddingMode ?? 'zeros';
  const [pt, pb, pl, pr] = convPads(k, c.opts);
  const [H, W] = [c.h + pt + pb, c.w + pl + pr];
  // The padded input as an index map into x (-1 = zero), per plane.
  const src = new Int32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      const iy = padSource(y - pt, c.h, mode);
      const ix = padSource(xx - pl, c.w, mode);
      src[y * W + xx] = iy < 0 || ix < 0 ? -1 : iy * c.w + ix;
    }
  }
  const oh = Math.floor((H - dh * (k[0] - 1) - 1) / sh) + 1;
  const ow = Math.floor((W - dw * (k[1] - 1) - 1) / sw) + 1;
  const [cg, og] = [c.cin / g, c.cout / g];
  const plane = c.h * c.w;
  const y = new Float64Array(c.n * c.cout * oh * ow);
  // Visits every (output, input, weight) triple of the convolution.
  const each = (fn: (yi: number, xi: number, wi: number, o: number) => void) => {
    for (let b = 0; b < c.n; b++) {
      for (let o = 0; o < c.cout; o++) {
        const grp = Math.floor(o / og);
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const yi = ((b * c.cout + o) * oh + oy) * ow + ox;
            for (let ci = 0; ci < cg; ci++) {
              for (let ki = 0; ki < k[0]; ki++) {
                for (let kj = 0; kj < k[1]; kj++) {
                  const s = src[(oy * sh + ki * dh) * W + ox * sw + kj * dw];
                  const xi = s < 0 ? -1 : (b * c.cin + grp * cg + ci) * plane + s;
                  fn(yi, xi, ((o * cg + ci) * k[0] + ki) * k[1] + kj, o);
                }
              }
            }
          }
        }
      }
    }
  };
  each((yi, xi, wi) => {
    if (xi >= 0) y[yi] += x[xi] * wt[wi];
  });
  if (bias) y.forEach((_, i) => (y[i] += bias[Math.floor(i / (oh * ow)) % c.cout]));
  const backward = (dy: Float32Array) => {
    const dx = new Float64Array(x.length);
    const dwt = new Float64Array(wt.length);
    const db = new Float64Array(c.cout);
    each((yi, xi, wi) => {
      if (xi < 0) return;
      dx[xi] += dy[yi] * wt[wi];
      dwt[wi] += dy[yi] * x[xi];
    });
    dy.forEach((v, i) => (db[Math.floor(i / (oh * ow)) % c.cout] += v));
    return { dx, dw: dwt, db };
  };
  return { y, shape: [c.n, c.cout, oh, ow], backward };
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

/** Forward and all three gradients of the layer against the naive reference. */
function checkConvAgainstNaive(c: ConvCase, seed: number): void {
  const conv = new Conv2d(c.cin, c.cout, c.k, c.opts);
  const rw = mulberry(seed);
  conv.weight.f32.forEach((_, i, a) => (a[i] = rw() * 2 - 1));
  if (conv.bias) conv.bias.f32.forEach((_, i, a) => (a[i] = rw() * 2 - 1));
  const x = randomTensor([c.n, c.cin, c.h, c.w], seed + 1);
  // Copies: the reference's backward reads them after the layer ran, and on a single-threaded
  // build (own, non-shared memory) a view of wasm memory detaches when the memory grows.
  const ref = naiveConv(c, x.f32.slice(), conv.weight.f32.slice(), conv.bias ? conv.bias.f32.slice() : null);
  const label = JSON.stringify(c);
  const y = conv.forward(x);
  expect(y.shape, label).toEqual(ref.shape);
  expectClose(y.f32, ref.y, `y ${label}`);
  const up = randomTensor(y.shape as number[], seed + 2, false);
  conv.weight.grad = null;
  if (conv.bias) conv.bias.grad = null;
  y.backward(up);
  const g = ref.backward(up.f32);
  expectClose(x.grad!.f32, g.dx, `dx ${label}`);
  expectClose(conv.weight.grad!.f32, g.dw, `dw ${label}`);
  if (conv.bias) expectClose(conv.bias.grad!.f32, g.db, `db ${label}`);
  endStep();
}

describe('Conv2d options against a naive padded 7-loop convolution', () => {
  it('dilation (int and pair), with stride and padding', () => {
    checkConvAgainstNaive({ n: 2, cin: 3, cout: 4, h: 9, w: 11, k: 3, opts: { dilation: 2 } }, 1);
    checkConvAgainstNaive({ n: 2, cin: 2, cout: 3, h: 10, w: 9, k: [3, 2], opts: { dilation: [2, 3], stride: [2, 1], padding: [2, 1] } }, 2);
    checkConvAgainstNaive({ n: 1, cin: 3, cout: 2, h: 7, w: 8, k: 2, opts: { dilation: [1, 3], stride: 3, padding: 1, bias: false } }, 3);
  });

  it('groups: grouped, depthwise (groups = in) and depthwise with a channel multiplier', () => {
    checkConvAgainstNaive({ n: 2, cin: 4, cout: 6, h: 7, w: 6, k: 3, opts: { groups: 2, padding: 1 } }, 4);
    checkConvAgainstNaive({ n: 3, cin: 5, cout: 5, h: 8, w: 7, k: [3, 2], opts: { groups: 5, stride: [1, 2] } }, 5);
    checkConvAgainstNaive({ n: 2, cin: 3, cout: 6, h: 6, w: 9, k: 3, opts: { groups: 3, dilation: 2, padding: [2, 1], bias: false } }, 6);
  });

  it("padding 'same' (odd and even kernels, dilated: the odd remainder goes after) and 'valid'", () => {
    checkConvAgainstNaive({ n: 2, cin: 2, cout: 3, h: 7, w: 6, k: 4, opts: { padding: 'same' } }, 7);
    checkConvAgainstNaive({ n: 1, cin: 2, cout: 2, h: 6, w: 9, k: [2, 3], opts: { padding: 'same', dilation: [3, 2], groups: 2 } }, 8);
    checkConvAgainstNaive({ n: 2, cin: 3, cout: 2, h: 6, w: 5, k: 3, opts: { padding: 'same' } }, 9);
    checkConvAgainstNaive({ n: 2, cin: 3, cout: 2, h: 6, w: 5, k: [3, 2], opts: { padding: 'valid', stride: 2 } }, 10);
    // Taps that read only padding: width 2, kernel 4 dilated by 2 pads 3 + 3 (found by a
    // PyTorch-generated fuzz run; the wasm kernel used to trap here).
    checkConvAgainstNaive({ n: 1, cin: 1, cout: 2, h: 6, w: 2, k: [1, 4], opts: { padding: 'same', dilation: [1, 2], bias: false } }, 24);
    checkConvAgainstNaive({ n: 1, cin: 6, cout: 3, h: 2, w: 1, k: 3, opts: { padding: 'same', dilation: 3, groups: 3 } }, 25);
  });

  for (const mode of ['reflect', 'replicate', 'circular'] as const) {
    it(`paddingMode '${mode}' (with stride, dilation, groups, 'same')`, () => {
      checkConvAgainstNaive({ n: 2, cin: 3, cout: 4, h: 6, w: 5, k: 3, opts: { paddingMode: mode, padding: 1 } }, 11);
      checkConvAgainstNaive({ n: 2, cin: 4, cout: 2, h: 7, w: 8, k: [3, 2], opts: { paddingMode: mode, padding: [2, 1], stride: [2, 1], dilation: [1, 2], groups: 2 } }, 12);
      checkConvAgainstNaive({ n: 1, cin: 2, cout: 2, h: 5, w: 6, k: 4, opts: { paddingMode: mode, padding: 'same' } }, 13);
      checkConvAgainstNaive({ n: 1, cin: 1, cout: 2, h: 3, w: 4, k: 3, opts: { paddingMode: mode, padding: mode === 'reflect' ? [2, 3] : [3, 4] } }, 14);
    });
  }

  it('a batch big enough to be split over the 2 threads (grouped, dilated, reflect)', () => {
    checkConvAgainstNaive({ n: 8, cin: 8, cout: 16, h: 14, w: 13, k: 3, opts: { groups: 4, dilation: 2, padding: 2, paddingMode: 'reflect' } }, 15);
  });

  it('unbatched [C, H, W] input', () => {
    const opts: Conv2dOptions = { groups: 2, dilation: 2, padding: 'same', paddingMode: 'circular' };
    const conv = new Conv2d(4, 2, 3, opts);
    const x = randomTensor([4, 6, 7], 16, false);
    const y = conv.forward(x);
    const ref = naiveConv({ n: 1, cin: 4, cout: 2, h: 6, w: 7, k: 3, opts }, x.f32, conv.weight.f32, conv.bias!.f32);
    expect(y.shape).toEqual([2, 6, 7]);
    expectClose(y.f32, ref.y, 'unbatched y');
    endStep();
  });
});

describe('Conv2d outputs computed by PyTorch 1.13', () => {
  // x = torch.arange(40.).reshape(1, 2, 4, 5) / 10; weight [[[[1,0,-1],[2,0,1]]], [[[0,1,0],[1,-1,2]]]];
  // nn.Conv2d(2, 2, (2, 3), padding='same', dilation=(1, 2), groups=2, bias=False, padding_mode=...)
  const x = () => tensor(Float32Array.from({ length: 40 }, (_, i) => i / 10), [1, 2, 4, 5]);
  const weight = [1, 0, -1, 2, 0, 1, 0, 1, 0, 1, -1, 2];
  const run = (opts: Conv2dOptions) => {
    const conv = new Conv2d(2, 2, [2, 3], { bias: false, groups: 2, ...opts });
    conv.weight.f32.set(weight);
    return conv.forward(x());
  };

  it("padding 'same', even kernel height, dilated width: zeros and reflect", () => {
    // The height pads 0 before and 1 after (the odd total after), the width 2 and 2.
    const zeros = [
      0.5, 0.5, 1.5, 1.3, 1.6, 0.5, 0.5, 3.0, 2.8, 3.1, 0.5, 0.5, 4.5, 4.3, 4.6, -1.7, -1.8, -0.4, 1.6, 1.7,
      4.9, 5.1, 7.8, 2.1, 2.2, 5.9, 6.1, 9.3, 2.6, 2.7, 6.9, 7.1, 10.8, 3.1, 3.2, 3.5, 3.6, 3.7, 3.8, 3.9,
    ];
    const reflect = [
      2.1, 1.8, 1.5, 1.8, 2.1, 3.6, 3.3, 3.0, 3.3, 3.6, 5.1, 4.8, 4.5, 4.8, 5.1, 3.6, 3.3, 3.0, 3.3, 3.6,
      7.6, 7.7, 7.8, 7.7, 7.6, 9.1, 9.2, 9.3, 9.2, 9.1, 10.6, 10.7, 10.8, 10.7, 10.6, 10.1, 10.2, 10.3, 10.2, 10.1,
    ];
    const yz = run({ padding: 'same', dilation: [1, 2] });
    expect(yz.shape).toEqual([1, 2, 4, 5]);
    expectClose(yz.f32, zeros, "same/zeros", 1e-5);
    expectClose(run({ padding: 'same', dilation: [1, 2], paddingMode: 'reflect' }).f32, reflect, 'same/reflect', 1e-5);
    endStep();
  });

  it("paddingMode 'circular', padding (1, 2)", () => {
    // padding=(1, 2), padding_mode='circular' (no dilation): output [1, 2, 5, 7].
    const want = [
      0.9, 1.2, 0, 0.3, 0.6, 0.9, 1.2, 2.4, 2.7, 1.5, 1.8, 2.1, 2.4, 2.7, 3.9, 4.2, 3.0, 3.3, 3.6, 3.9, 4.2,
      5.4, 5.7, 4.5, 4.8, 5.1, 5.4, 5.7, 0.9, 1.2, 0, 0.3, 0.6, 0.9, 1.2,
      7.8, 8.1, 7.9, 8.2, 8.5, 7.8, 8.1, 7.3, 7.6, 7.4, 7.7, 8.0, 7.3, 7.6, 8.8, 9.1, 8.9, 9.2, 9.5, 8.8, 9.1,
      10.3, 10.6, 10.4, 10.7, 11.0, 10.3, 10.6, 7.8, 8.1, 7.9, 8.2, 8.5, 7.8, 8.1,
    ];
    const y = run({ padding: [1, 2], paddingMode: 'circular' });
    expect(y.shape).toEqual([1, 2, 5, 7]);
    expectClose(y.f32, want, 'circular', 1e-5);
    endStep();
  });
});

describe('Conv2d gradients by finite differences', () => {
  const cases: [number, number, number | [number, number], Conv2dOptions][] = [
    [4, 6, 3, { groups: 2, dilation: 2, padding: 'same' }],
    [3, 3, [2, 3], { groups: 3, stride: [2, 1], padding: [1, 2], paddingMode: 'reflect' }],
    [2, 4, 3, { dilation: [2, 1], padding: 2, paddingMode: 'replicate', bias: false }],
    [2, 2, 4, { padding: 'same', paddingMode: 'circular' }],
  ];
  for (const [cin, cout, k, o] of cases) {
    it(`Conv2d(${cin}, ${cout}, ${JSON.stringify(k)}, ${JSON.stringify(o)})`, () => {
      const conv = new Conv2d(cin, cout, k, o);
      const x = randomTensor([2, cin, 6, 5], 21);
      const r = gradcheck((xx) => conv.forward(xx), [x, ...conv.parameters()], { name: 'Conv2d', eps: 1e-2, rtol: 2e-2, atol: 2e-3 });
      expect(r.checked).toBeGreaterThan(0);
      endStep();
    });
  }
});

// ---------------------------------------------------------------- naive pooling

/** PyTorch's pooling_output_shape (Pool.h), written out. */
function poolOut(len: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let out = Math.floor((len + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= len + p) out--;
  return out;
}

interface PoolGeometry {
  k: Pair;
  s: Pair;
  p: Pair;
  d: Pair;
  ceil: boolean;
}

function poolGeometry(k: number | Pair, o: PoolOptions): PoolGeometry {
  const kk = asPair(k, 1);
  return { k: kk, s: o.stride == null ? kk : asPair(o.stride, 1), p: asPair(o.padding, 0), d: asPair(o.dilation, 1), ceil: o.ceilMode ?? false };
}

/** Every tap (iy, ix) of output (oy, ox), in or out of the input, in row-major tap order. */
function* taps(g: PoolGeometry, oy: number, ox: number): Generator<[number, number]> {
  for (let ki = 0; ki < g.k[0]; ki++) {
    for (let kj = 0; kj < g.k[1]; kj++) yield [oy * g.s[0] - g.p[0] + ki * g.d[0], ox * g.s[1] - g.p[1] + kj * g.d[1]];
  }
}

/**
 * Max pooling over [planes, h, w]: values and the flat input index of each max. As PyTorch's
 * CPU kernel: the first maximum in tap order wins a tie, a NaN wins over everything before it.
 */
function naiveMaxPool(x: Float32Array, planes: number, h: number, w: number, g: PoolGeometry) {
  const oh = poolOut(h, g.k[0], g.s[0], g.p[0], g.d[0], g.ceil);
  const ow = poolOut(w, g.k[1], g.s[1], g.p[1], g.d[1], g.ceil);
  const y = new Float32Array(planes * oh * ow);
  const arg = new Int32Array(y.length);
  for (let pl = 0; pl < planes; pl++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let at = -1;
        for (const [iy, ix] of taps(g, oy, ox)) {
          if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
          const i = (pl * h + iy) * w + ix;
          if (at < 0 || x[i] > best || Number.isNaN(x[i])) [best, at] = [x[i], i];
        }
        y[(pl * oh + oy) * ow + ox] = best;
        arg[(pl * oh + oy) * ow + ox] = at;
      }
    }
  }
  return { y, arg, oh, ow };
}

/**
 * Average pooling: the sum over taps inside the input, divided by divisorOverride, or by the
 * taps inside input + padding (countIncludePad; a ceil-mode window running past the right
 * padding counts only the part inside it), or by the taps inside the input.
 */
function naiveAvgPool(x: Float32Array, planes: number, h: number, w: number, g: PoolGeometry, o: AvgPoolOptions) {
  const oh = poolOut(h, g.k[0], g.s[0], g.p[0], 1, g.ceil);
  const ow = poolOut(w, g.k[1], g.s[1], g.p[1], 1, g.ceil);
  const y = new Float64Array(planes * oh * ow);
  const weights: { yi: number; xi: number; wgt: number }[] = [];
  for (let pl = 0; pl < planes; pl++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const inside: number[] = [];
        let padded = 0;
        for (const [iy, ix] of taps(g, oy, ox)) {
          if (iy < h + g.p[0] && ix < w + g.p[1]) padded++;
          if (iy >= 0 && ix >= 0 && iy < h && ix < w) inside.push((pl * h + iy) * w + ix);
        }
        const div = o.divisorOverride ?? ((o.countIncludePad ?? true) ? padded : inside.length);
        const yi = (pl * oh + oy) * ow + ox;
        for (const xi of inside) {
          y[yi] += x[xi] / div;
          weights.push({ yi, xi, wgt: 1 / div });
        }
      }
    }
  }
  const backward = (dy: Float32Array) => {
    const dx = new Float64Array(x.length);
    for (const { yi, xi, wgt } of weights) dx[xi] += dy[yi] * wgt;
    return dx;
  };
  return { y, oh, ow, backward };
}

const POOL_SHAPES: [number, number, number, number][] = [
  [2, 3, 7, 9],
  [1, 2, 10, 6],
  [2, 1, 5, 5],
  // Wide rows: runs of windows wholly inside the plane, done four at a time in wasm
  // (crates/tread-core/src/kernels/pool_interior.rs), with borders and a remainder around them.
  [1, 2, 6, 43],
];

describe('MaxPool2d options against naive pooling', () => {
  const configs: [number | Pair, PoolOptions][] = [
    [2, { ceilMode: true }], // the 2x2 fast path's shape, odd sizes: a last partial window
    [3, { stride: 2, padding: 1, ceilMode: true }],
    [[2, 3], { stride: [3, 2], padding: [1, 1], ceilMode: true }],
    [3, { dilation: 2, padding: 1 }],
    [[3, 2], { dilation: [2, 3], stride: [2, 1], padding: [1, 1], ceilMode: true }],
    [2, { dilation: 2, stride: 3, ceilMode: true }],
    [3, { stride: 1, padding: 1 }],
    [[3, 4], { stride: [1, 3], padding: [0, 2] }],
  ];
  for (const [k, o] of configs) {
    it(`MaxPool2d(${JSON.stringify(k)}, ${JSON.stringify(o)}): values, shape and the gradient's scatter`, () => {
      for (const [n, c, h, w] of POOL_SHAPES) {
        const m = new MaxPool2d(k, o);
        const x = randomTensor([n, c, h, w], h * 31 + w);
        const ref = naiveMaxPool(x.f32, n * c, h, w, poolGeometry(k, o));
        const y = m.forward(x);
        expect(y.shape).toEqual([n, c, ref.oh, ref.ow]);
        expect(Array.from(y.f32)).toEqual(Array.from(ref.y));
        const up = randomTensor(y.shape as number[], 5, false);
        y.backward(up);
        const dx = new Float32Array(x.size);
        ref.arg.forEach((i, j) => (dx[i] += up.f32[j]));
        expectClose(x.grad!.f32, dx, 'max dx', 1e-6);
        endStep();
      }
    });
  }

  it('ties and NaNs in wide rows: the first maximum, the last NaN, as PyTorch', () => {
    for (const o of [{ stride: 1, padding: 1 }, { stride: 2, padding: 1 }, { stride: 3 }]) {
      const m = new MaxPool2d(3, o);
      const x = randomTensor([1, 2, 5, 40], 77);
      // Values on a coarse grid (many ties), a few NaNs.
      const v = x.f32;
      for (let i = 0; i < v.length; i++) v[i] = i % 37 === 5 ? NaN : Math.round(v[i] * 2) / 2;
      const ref = naiveMaxPool(v.slice(), 2, 5, 40, poolGeometry(3, o));
      const y = m.forward(x);
      expect(Array.from(y.f32)).toEqual(Array.from(ref.y));
      const up = randomTensor(y.shape as number[], 8, false);
      y.backward(up);
      const dx = new Float32Array(x.size);
      ref.arg.forEach((i, j) => (dx[i] += up.f32[j]));
      expectClose(x.grad!.f32, dx, 'max dx', 1e-6);
      endStep();
    }
  });

  it('finite differences with dilation and ceil mode', () => {
    const m = new MaxPool2d(3, { stride: 2, padding: 1, dilation: 2, ceilMode: true });
    const x = randomTensor([2, 2, 7, 8], 41);
    gradcheck((xx) => m.forward(xx), [x], { name: 'MaxPool2d', eps: 1e-3 });
    endStep();
  });
});

describe('AvgPool2d options against naive pooling', () => {
  const configs: [number | Pair, AvgPoolOptions][] = [
    [2, { ceilMode: true }],
    [3, { stride: 2, padding: 1, ceilMode: true }],
    [3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
    [[3, 2], { stride: [2, 3], padding: [1, 1], ceilMode: true }],
    [[2, 3], { stride: 2, padding: [1, 0], divisorOverride: 5 }],
    [3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false, divisorOverride: 4 }],
    [2, { stride: 1, divisorOverride: -3 }],
    [3, { stride: 1, padding: 1 }],
    [[3, 5], { stride: [1, 3], padding: [1, 2], countIncludePad: false }],
  ];
  for (const [k, o] of configs) {
    it(`AvgPool2d(${JSON.stringify(k)}, ${JSON.stringify(o)}): values, shape, gradient`, () => {
      for (const [n, c, h, w] of POOL_SHAPES) {
        const m = new AvgPool2d(k, o);
        const x = randomTensor([n, c, h, w], h * 17 + w);
        const ref = naiveAvgPool(x.f32, n * c, h, w, poolGeometry(k, o), o);
        const y = m.forward(x);
        expect(y.shape).toEqual([n, c, ref.oh, ref.ow]);
        expectClose(y.f32, ref.y, `avg y ${JSON.stringify([k, o, n, c, h, w])}`, 1e-5);
        const up = randomTensor(y.shape as number[], 6, false);
        y.backward(up);
        expectClose(x.grad!.f32, ref.backward(up.f32), 'avg dx', 1e-5);
        endStep();
      }
    });
  }

  it('finite differences with ceil mode, countIncludePad false and a divisor override', () => {
    for (const o of [{ stride: 2, padding: 1, ceilMode: true, countIncludePad: false }, { stride: 2, ceilMode: true, divisorOverride: 3 }]) {
      const m = new AvgPool2d(3, o);
      const x = randomTensor([2, 2, 6, 7], 42);
      gradcheck((xx) => m.forward(xx), [x], { name: 'AvgPool2d', eps: 1e-2 });
      endStep();
    }
  });
});

describe('pooling outputs computed by PyTorch 1.13', () => {
  // x = (torch.arange(25.).reshape(1, 1, 5, 5) * 7 % 11) - 5
  const x = () => tensor(Float32Array.from({ length: 25 }, (_, i) => ((i * 7) % 11) - 5), [1, 1, 5, 5]);

  it('MaxPool2d ceil mode with dilation and padding; argmax order', () => {
    // nn.MaxPool2d(2, stride=2, padding=1, dilation=2, ceil_mode=True)
    const y = new MaxPool2d(2, { stride: 2, padding: 1, dilation: 2, ceilMode: true }).forward(x());
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(Array.from(y.f32)).toEqual([4, 4, -4, 4, 4, 0, -3, 0, 0]);
    // nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True): values; the gradient of each
    // output lands on PyTorch's return_indices [6, 3, 3, 6, 6, 14, 20, 17, 23].
    const xin = x().requiresGrad_();
    const y3 = new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }).forward(xin);
    expect(Array.from(y3.f32)).toEqual([4, 5, 5, 4, 4, 5, 3, 4, 2]);
    y3.backward(tensor(Float32Array.from({ length: 9 }, (_, i) => 10 ** (i % 3) * (1 + Math.floor(i / 3))), [1, 1, 3, 3]));
    const want = new Float32Array(25);
    [6, 3, 3, 6, 6, 14, 20, 17, 23].forEach((k, i) => (want[k] += 10 ** (i % 3) * (1 + Math.floor(i / 3))));
    expect(Array.from(xin.grad!.f32)).toEqual(Array.from(want));
    endStep();
  });

  it('AvgPool2d ceil mode: countIncludePad true/false, divisorOverride', () => {
    const a = (o: AvgPoolOptions, k = 3) => new AvgPool2d(k, o).forward(x()).f32;
    // nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False / True)
    expectClose(a({ stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [-0.5, 0.8333333, 1.25, -1.1666666, -0.4444444, -0.3333333, 0, -0.5, -1], 'exclude pad', 1e-6);
    expectClose(a({ stride: 2, padding: 1, ceilMode: true }), [-0.2222222, 0.5555556, 0.5555556, -0.7777778, -0.4444444, -0.2222222, 0, -0.3333333, -0.4444444], 'include pad', 1e-6);
    // nn.AvgPool2d(2, stride=2, ceil_mode=True, divisor_override=3): the last, partial windows too
    expectClose(a({ stride: 2, ceilMode: true, divisorOverride: 3 }, 2), [-0.6666667, -0.3333333, 1.3333334, -2.6666667, 1.3333334, 0.3333333, 0.6666667, -1, -0.6666667], 'override', 1e-6);
    endStep();
  });
});

describe('bad options: errors that name the layer, the argument and the numbers', () => {
  const throws = (f: () => unknown, re: RegExp) => expect(f).toThrow(re);

  it('Conv2d', () => {
    throws(() => new Conv2d(3, 4, 3, { groups: 2 }), /Conv2d\(3, 4\): inChannels 3 must be divisible by groups 2/);
    throws(() => new Conv2d(4, 6, 3, { groups: 4 }), /Conv2d\(4, 6\): outChannels 6 must be divisible by groups 4/);
    throws(() => new Conv2d(4, 4, 3, { groups: 0 }), /groups must be a positive integer, got 0/);
    throws(() => new Conv2d(2, 2, 3, { padding: 'same', stride: 2 }), /Conv2d\(2, 2\): padding='same' is not supported for strided convolutions \(stride \[2,2\]\)/);
    throws(() => new Conv2d(2, 2, 3, { padding: 'full' as any }), /padding must be an int, a pair, 'same' or 'valid', got "full"/);
    throws(() => new Conv2d(2, 2, 3, { paddingMode: 'mirror' as any }), /paddingMode must be one of 'zeros', 'reflect', 'replicate', 'circular', got "mirror"/);
    throws(() => new Conv2d(2, 2, 3, { dilation: 0 }), /dilation must be positive integers, got 0/);
    throws(() => new Conv2d(1, 1, 3, { paddingMode: 'reflect', padding: 3 }).forward(randomTensor([1, 1, 3, 5], 1)), /reflect padding \(3, 3\) must be smaller than the input size, got input \[1, 1, 3, 5\]/);
    throws(() => new Conv2d(1, 1, 3, { paddingMode: 'circular', padding: [1, 6] }).forward(randomTensor([1, 1, 4, 5], 1)), /circular padding \(1, 6\) must be at most the input size/);
    throws(() => new Conv2d(1, 1, 3, { dilation: 3 }).forward(randomTensor([1, 1, 6, 9], 1)), /input \[1, 1, 6, 9\] is smaller than the kernel \(padded 6x9, dilated kernel 7x7\)/);
    endStep();
  });

  it('MaxPool2d and AvgPool2d', () => {
    throws(() => new MaxPool2d(3, { padding: 2 }), /MaxPool2d: padding should be at most half of the kernel size, got padding \[2,2\] for kernel \[3,3\]/);
    throws(() => new AvgPool2d([2, 4], { padding: [1, 3] }), /AvgPool2d: padding should be at most half/);
    throws(() => new AvgPool2d(2, { divisorOverride: 0 }), /AvgPool2d: divisorOverride must be a non-zero integer or null, got 0/);
    throws(() => new AvgPool2d(2, { divisorOverride: 1.5 }), /divisorOverride must be a non-zero integer/);
    throws(() => new AvgPool2d(2, { dilation: 2 } as any), /AvgPool2d: there is no dilation option/);
    throws(() => new MaxPool2d(2, { dilation: [1, 0] }), /MaxPool2d: dilation must be positive integers/);
    throws(() => new MaxPool2d(3, { dilation: 3 }).forward(randomTensor([1, 1, 6, 6], 1)), /MaxPool2d\(3x3\): input \[1, 1, 6, 6\] is smaller than the kernel \(padding 0, 0; dilated kernel 7x7\)/);
    endStep();
  });
});
