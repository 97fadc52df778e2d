/**
 * Parameter initializers (`tread.nn.init`), PyTorch's `torch.nn.init` with camelCase names.
 * Each fills a float32 tensor in place and returns it.
 *
 * Random fills run in WASM from a counter-based RNG (Philox4x32-10): the value of element i
 * depends only on (seed, i), so a seed gives the same tensor on 1 or 8 threads. Without a
 * `{ seed }` option each call takes the next seed from the global generator (`manualSeed`
 * in ts/nn/random.ts), so a seeded program draws the same weights every run.
 *
 *   init.kaimingUniform_(w, { a: Math.sqrt(5) });           // PyTorch's Linear/Conv default
 *   init.xavierNormal_(w, init.calculateGain('tanh'));
 *   init.scaledUniform_(w, 6);                                // U(±sqrt(6/(fanIn+fanOut))): Glorot
 */
import { wasm } from '../runtime/wasm.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkSeed, nextSeed } from './random.js';
import { checkOptions } from '../util/options.js';

const KAIMING_KEYS = ['a', 'mode', 'nonlinearity', 'seed'];

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

export const NONLINEARITIES: readonly Nonlinearity[] = [
  'linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
  'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu',
];

export type FanMode = 'fan_in' | 'fan_out';

/** `{ seed }`: draw from this seed instead of the global generator. */
export interface SeedOption {
  seed?: number;
}

export interface KaimingOptions extends SeedOption {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  /** 'fan_in' (default) keeps the forward variance, 'fan_out' the backward one. */
  mode?: FanMode;
  /** Default 'leaky_relu' (PyTorch's default; with a = 0 the same as 'relu'). */
  nonlinearity?: Nonlinearity;
}

/**
 * The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for
 * relu, √(2/(1+slope²)) for leaky_relu (slope = param, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity | string, param?: number | null): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) {
        throw new Error(`calculateGain: negative_slope ${String(param)} is not a valid number`);
      }
      return Math.sqrt(2 / (1 + slope ** 2));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}' (valid: ${NONLINEARITIES.join(', ')})`);
  }
}

type ShapeLike = readonly number[] | Tensor;

function shapeOf(t: ShapeLike): readonly number[] {
  return Array.isArray(t) ? (t as readonly number[]) : (t as Tensor).shape;
}

/**
 * fanIn / fanOut of a weight: Linear [out, in] -> (in, out); Conv [out, in, ...kernel] ->
 * (in·k, out·k) with k the kernel size product. Needs at least 2 dimensions.
 */
export function computeFans(t: ShapeLike): { fanIn: number; fanOut: number } {
  const shape = shapeOf(t);
  if (shape.length < 2) {
    throw new Error(`computeFans: fan in and fan out need a tensor of at least 2 dimensions, got shape [${shape.join(', ')}]`);
  }
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

// ---- the exact scale each initializer uses (exported for checks) ----

/** The bound of xavierUniform_: gain·√(6/(fanIn+fanOut)). */
export function xavierUniformBound(t: ShapeLike, gain = 1): number {
  const { fanIn, fanOut } = computeFans(t);
  return Math.sqrt(3) * (gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** The std of xavierNormal_: gain·√(2/(fanIn+fanOut)). */
export function xavierNormalStd(t: ShapeLike, gain = 1): number {
  const { fanIn, fanOut } = computeFans(t);
  return gain * Math.sqrt(2 / (fanIn + fanOut));
}

function fanOf(t: ShapeLike, mode: FanMode | string, where: string): number {
  const f = computeFans(t);
  if (mode === 'fan_in') return f.fanIn;
  if (mode === 'fan_out') return f.fanOut;
  throw new Error(`${where}: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
}

/** The std of kaimingNormal_: gain(nonlinearity, a) / √fan. */
export function kaimingNormalStd(t: ShapeLike, o: KaimingOptions = {}, where = 'kaimingNormal_'): number {
  checkOptions(where, o, KAIMING_KEYS);
  const fan = fanOf(t, o.mode ?? 'fan_in', where);
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** The bound of kaimingUniform_: √3 · gain(nonlinearity, a) / √fan. */
export function kaimingUniformBound(t: ShapeLike, o: KaimingOptions = {}, where = 'kaimingUniform_'): number {
  checkOptions(where, o, KAIMING_KEYS);
  return Math.sqrt(3) * kaimingNormalStd(t, o, where);
}

/** √(k/(fanIn+fanOut)): the bound of scaledUniform_ and the std of scaledNormal_. */
export function scaledScale(t: ShapeLike, k: number, where = 'scaled'): number {
  if (typeof k !== 'number' || !(k > 0) || !Number.isFinite(k)) throw new Error(`${where}: k must be a positive number, got ${String(k)}`);
  const { fanIn, fanOut } = computeFans(t);
  return Math.sqrt(k / (fanIn + fanOut));
}

// ---- fills ----

function target(t: Tensor, where: string): Tensor {
  if (!t || typeof (t as Tensor).ptr !== 'number') throw new Error(`${where}: expected a Tensor`);
  if (t.dtype !== 'float32') throw new Error(`${where}: expected a float32 tensor, got ${t.dtype}`);
  return t;
}

/** The seed option, or the next global seed; `known`: every key the caller's options may hold. */
function seedOf(o: SeedOption | undefined, where: string, known: readonly string[] = ['seed']): number {
  checkOptions(where, o, known);
  if (o?.seed === undefined) return nextSeed();
  return checkSeed(o.seed, where);
}

function finite(v: unknown, name: string, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

function fillUniform(t: Tensor, low: number, high: number, seed: number): Tensor {
  if (t.size > 0) wasm().tread_init_uniform(seed >>> 0, Math.floor(seed / 4294967296) >>> 0, t.ptr, t.size, low, high);
  return t;
}

function fillNormal(t: Tensor, mean: number, std: number, seed: number): Tensor {
  if (t.size > 0) wasm().tread_init_normal(seed >>> 0, Math.floor(seed / 4294967296) >>> 0, t.ptr, t.size, mean, std);
  return t;
}

/** Fills with `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  target(t, 'constant_').f32.fill(finiteOrNaN(value, 'constant_'));
  return t;
}

function finiteOrNaN(v: unknown, where: string): number {
  if (typeof v !== 'number') throw new Error(`${where}: value must be a number, got ${String(v)}`);
  return v;
}

/** Fills with 0. */
export function zeros_(t: Tensor): Tensor {
  target(t, 'zeros_').f32.fill(0);
  return t;
}

/** Fills with 1. */
export function ones_(t: Tensor): Tensor {
  target(t, 'ones_').f32.fill(1);
  return t;
}

/** Fills from U[a, b) (default [0, 1)). */
export function uniform_(t: Tensor, a = 0, b = 1, options?: SeedOption): Tensor {
  const where = 'uniform_';
  target(t, where);
  finite(a, 'a', where);
  finite(b, 'b', where);
  if (a > b) throw new Error(`${where}: a must be <= b, got a=${a}, b=${b}`);
  return fillUniform(t, a, b, seedOf(options, where));
}

/** Fills from N(mean, std²) (default N(0, 1)). */
export function normal_(t: Tensor, mean = 0, std = 1, options?: SeedOption): Tensor {
  const where = 'normal_';
  target(t, where);
  finite(mean, 'mean', where);
  finite(std, 'std', where);
  if (std < 0) throw new Error(`${where}: std must be >= 0, got ${std}`);
  return fillNormal(t, mean, std, seedOf(options, where));
}

/** Glorot/Xavier uniform: U(±gain·√(6/(fanIn+fanOut))). */
export function xavierUniform_(t: Tensor, gain = 1, options?: SeedOption): Tensor {
  const where = 'xavierUniform_';
  target(t, where);
  finite(gain, 'gain', where);
  const bound = xavierUniformBound(t, gain);
  return fillUniform(t, -bound, bound, seedOf(options, where));
}

/** Glorot/Xavier normal: N(0, gain²·2/(fanIn+fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, options?: SeedOption): Tensor {
  const where = 'xavierNormal_';
  target(t, where);
  finite(gain, 'gain', where);
  return fillNormal(t, 0, xavierNormalStd(t, gain), seedOf(options, where));
}

function checkKaiming(o: KaimingOptions, where: string): void {
  if (o === null || typeof o !== 'object') throw new Error(`${where}: options must be an object, got ${String(o)}`);
  checkOptions(where, o, KAIMING_KEYS);
  if (o.a !== undefined) finite(o.a, 'a', where);
  if (o.nonlinearity !== undefined && !NONLINEARITIES.includes(o.nonlinearity)) {
    throw new Error(`${where}: unsupported nonlinearity '${String(o.nonlinearity)}' (valid: ${NONLINEARITIES.join(', ')})`);
  }
}

/** He/Kaiming uniform: U(±√3·gain/√fan), gain from nonlinearity and a. */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const where = 'kaimingUniform_';
  target(t, where);
  checkKaiming(options, where);
  const bound = kaimingUniformBound(t, options, where);
  return fillUniform(t, -bound, bound, seedOf(options, where, KAIMING_KEYS));
}

/** He/Kaiming normal: N(0, (gain/√fan)²), gain from nonlinearity and a. */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const where = 'kaimingNormal_';
  target(t, where);
  checkKaiming(options, where);
  return fillNormal(t, 0, kaimingNormalStd(t, options, where), seedOf(options, where, KAIMING_KEYS));
}

/**
 * U(±√(k/(fanIn+fanOut))) with k chosen by the user. k = 6 is Glorot/Xavier uniform (gain
 * 1); k = 12 matches its relu gain (√2); k = 6·gain² in general.
 */
export function scaledUniform_(t: Tensor, k: number, options?: SeedOption): Tensor {
  const where = 'scaledUniform_';
  target(t, where);
  const bound = scaledScale(t, k, where);
  return fillUniform(t, -bound, bound, seedOf(options, where));
}

/**
 * N(0, k/(fanIn+fanOut)) with k chosen by the user. k = 2 is Glorot/Xavier normal (gain 1);
 * k = 2·gain² in general.
 */
export function scaledNormal_(t: Tensor, k: number, options?: SeedOption): Tensor {
  const where = 'scaledNormal_';
  target(t, where);
  return fillNormal(t, 0, scaledScale(t, k, where), seedOf(options, where));
}

/**
 * PyTorch's default for nn.Linear / nn.Conv2d (reset_parameters): weight
 * kaimingUniform_(a=√5), i.e. U(±1/√fanIn), and bias U(±1/√fanIn).
 */
export function defaultLayerInit_(weight: Tensor, bias?: Tensor | null, options?: SeedOption): void {
  checkOptions('defaultLayerInit_', options, ['seed']);
  const { fanIn } = computeFans(weight);
  const seed = options?.seed;
  kaimingUniform_(weight, { a: Math.sqrt(5), ...(seed !== undefined ? { seed } : {}) });
  if (bias) {
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound, seed !== undefined ? { seed: (checkSeed(seed, 'defaultLayerInit_') + 1) % 2 ** 53 } : undefined);
  }
}
