/**
 * One set of initial weights for the MLP and CNN of bench/models.ts, given to tread, tfjs-wasm
 * and jax-js as plain arrays, so that bench:browser can check that the three compute the same
 * training step (their first losses must agree) before it compares their speed.
 *
 * The weights are PyTorch's default init (U(-1/√fan_in, 1/√fan_in) for weights and biases)
 * drawn from a seeded stream, in PyTorch's layout and state-dict names, which is tread's:
 * Linear weight [out, in], Conv2d weight [Co, Ci, kh, kw], Flatten over (C, H, W). The other
 * libraries' layouts are derived here, each by a plain index permutation.
 */
import { rng } from '../models.js';

export type Init = Record<string, Float32Array>;

function uniform(n: number, fanIn: number, next: () => number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: n }, () => (2 * next() - 1) * bound);
}

/** MLP 784-256-128-10: `0.weight` [256, 784], `0.bias`, `2.weight` [128, 256], ..., `4.bias` [10]. */
export function mlpInit(seed = 11): Init {
  const next = rng(seed);
  const init: Init = {};
  for (const [layer, fanIn, out] of [[0, 784, 256], [2, 256, 128], [4, 128, 10]] as const) {
    init[`${layer}.weight`] = uniform(out * fanIn, fanIn, next);
    init[`${layer}.bias`] = uniform(out, fanIn, next);
  }
  return init;
}

/** CNN: `0.weight` [32, 1, 3, 3], `3.weight` [64, 32, 3, 3], `7.weight` [10, 1600] and their biases. */
export function cnnInit(seed = 12): Init {
  const next = rng(seed);
  const init: Init = {};
  for (const [layer, fanIn, size, out] of [[0, 9, 32 * 9, 32], [3, 288, 64 * 288, 64], [7, 1600, 10 * 1600, 10]] as const) {
    init[`${layer}.weight`] = uniform(size, fanIn, next);
    init[`${layer}.bias`] = uniform(out, fanIn, next);
  }
  return init;
}

/** [rows, cols] row-major -> [cols, rows] row-major. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** Conv weight [Co, Ci, kh, kw] (PyTorch) -> [kh, kw, Ci, Co] (tfjs). */
export function convToHwio(w: Float32Array, co: number, ci: number, kh: number, kw: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) t[((y * kw + x) * ci + i) * co + o] = w[((o * ci + i) * kh + y) * kw + x]!;
    }
  }
  return t;
}

/**
 * Dense weight [out, C*H*W] over an NCHW flatten (PyTorch) -> [H*W*C, out] over an NHWC
 * flatten (tfjs): row (h, w, c) of the result is column (c, h, w) of the input.
 */
export function denseToNhwcRows(w: Float32Array, out: number, c: number, h: number, wd: number): Float32Array {
  const t = new Float32Array(w.length);
  const features = c * h * wd;
  for (let o = 0; o < out; o++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) for (let x = 0; x < wd; x++) t[((y * wd + x) * c + ch) * out + o] = w[o * features + (ch * h + y) * wd + x]!;
    }
  }
  return t;
}

/** The MLP's weights as tfjsMlp takes them: w1 [784, 256], b1, w2 [256, 128], b2, w3 [128, 10], b3. */
export function tfjsMlpInit(init: Init): Float32Array[] {
  return [
    transpose2d(init['0.weight']!, 256, 784), init['0.bias']!,
    transpose2d(init['2.weight']!, 128, 256), init['2.bias']!,
    transpose2d(init['4.weight']!, 10, 128), init['4.bias']!,
  ];
}

/** The CNN's weights as tfjsCnn takes them (NHWC): k1 [3, 3, 1, 32], c1, k2 [3, 3, 32, 64], c2, w [1600, 10], b. */
export function tfjsCnnInit(init: Init): Float32Array[] {
  return [
    convToHwio(init['0.weight']!, 32, 1, 3, 3), init['0.bias']!,
    convToHwio(init['3.weight']!, 64, 32, 3, 3), init['3.bias']!,
    denseToNhwcRows(init['7.weight']!, 10, 64, 5, 5), init['7.bias']!,
  ];
}
