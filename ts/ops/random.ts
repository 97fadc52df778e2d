/**
 * Random tensors, PyTorch's `torch.rand`, `torch.randn`, `torch.randint`:
 *
 *   tread.rand(2, 3)                      // U[0, 1)
 *   tread.randn([4, 5], { requiresGrad: true })
 *   tread.randint(0, 10, [8])             // int32 in [0, 10)
 *   tread.randint(10, [8], { seed: 3 })   // low defaults to 0, as torch.randint(10, (8,))
 *
 * Each call takes its seed from the global generator that `nn.manualSeed` seeds (or from
 * `{ seed }`, PyTorch's `generator=`), and fills in wasm with the same counter-based Philox
 * stream as the initializers: a seed gives the same tensor on any thread count. The numbers
 * are not PyTorch's (its CPU generator is a Mersenne Twister); the distributions are.
 *
 * The seed stream lives in ts/nn/random.ts, a module without imports: ops use it as a leaf,
 * so the layering (ops below nn) only borrows that one file.
 */
import { checkSeed, nextSeed } from '../nn/random.js';
import { wasm } from '../runtime/wasm.js';
import { DType } from '../tensor/storage.js';
import { checkShape, Shape, Tensor } from '../tensor/tensor.js';
import { checkBooleanOption, checkOneOf, checkOptions, show } from '../util/options.js';

export interface RandomOptions {
  /** 'float32' (default) for rand/randn; randint also takes 'int32' (its default). */
  dtype?: DType;
  requiresGrad?: boolean;
  /** Draw from this seed instead of the global generator (PyTorch's `generator=`). */
  seed?: number;
}

const KNOWN = ['dtype', 'requiresGrad', 'seed'];

type ShapeArgs = (number | readonly number[] | RandomOptions | undefined)[];

/** `f(2, 3)`, `f([2, 3])`, `f(2, 3, options)` or `f([2, 3], options)`. */
function splitArgs(op: string, args: ShapeArgs): { shape: number[]; options: RandomOptions } {
  let options: RandomOptions = {};
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && !Array.isArray(last)) {
    options = last as RandomOptions;
    args = args.slice(0, -1);
  }
  const shape = args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as number[])] : (args as number[]);
  if (shape.some((d) => typeof d !== 'number')) throw new Error(`${op}: the shape must be numbers or one array of numbers, got ${show(args)}`);
  checkShape(shape, op);
  checkOptions(op, options, KNOWN);
  return { shape, options };
}

function seedFor(op: string, options: RandomOptions): number {
  return options.seed === undefined ? nextSeed() : checkSeed(options.seed, op);
}

function floatResult(op: string, shape: Shape, options: RandomOptions, fill: (t: Tensor, seed: number) => void): Tensor {
  if (options.dtype !== undefined) checkOneOf(op, 'dtype', options.dtype, ['float32'] as const);
  const seed = seedFor(op, options);
  const t = Tensor.empty(shape, 'float32');
  if (t.size > 0) fill(t, seed);
  if (options.requiresGrad !== undefined && checkBooleanOption(op, 'requiresGrad', options.requiresGrad)) t.requiresGrad_(true);
  return t;
}

function seedWords(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/** Uniform on [0, 1). */
export function rand(...args: ShapeArgs): Tensor {
  const { shape, options } = splitArgs('rand', args);
  return floatResult('rand', shape, options, (t, seed) => wasm().tread_init_uniform(...seedWords(seed), t.ptr, t.size, 0, 1));
}

/** Standard normal N(0, 1). */
export function randn(...args: ShapeArgs): Tensor {
  const { shape, options } = splitArgs('randn', args);
  return floatResult('randn', shape, options, (t, seed) => wasm().tread_init_normal(...seedWords(seed), t.ptr, t.size, 0, 1));
}

/** The widest range randint draws without bias from a float32 uniform (24 bits of mantissa). */
const MAX_RANGE = 2 ** 24;

/**
 * Integers uniform on [low, high), int32 by default (PyTorch's default is int64, which tread
 * does not have). `randint(high, shape)` takes low = 0, as PyTorch.
 */
export function randint(...args: (number | readonly number[] | RandomOptions | undefined)[]): Tensor {
  const op = 'randint';
  const nums: number[] = [];
  while (typeof args[0] === 'number') nums.push(args.shift() as number);
  if (nums.length < 1 || nums.length > 2 || !Array.isArray(args[0])) {
    throw new Error(`${op}: expects (low, high, shape[, options]) or (high, shape[, options]), e.g. randint(0, 10, [3, 4])`);
  }
  const [low, high] = nums.length === 2 ? nums : [0, nums[0]];
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) throw new Error(`${op}: low and high must be integers, got ${low} and ${high}`);
  if (!(high > low)) throw new Error(`${op}: high must be greater than low, got low=${low}, high=${high}`);
  if (high - low > MAX_RANGE) throw new Error(`${op}: the range high - low = ${high - low} is over ${MAX_RANGE} (float32 draws would be biased)`);
  if (low < -(2 ** 31) || high - 1 > 2 ** 31 - 1) throw new Error(`${op}: [${low}, ${high}) does not fit in int32`);
  const { shape, options } = splitArgs(op, args);
  const dtype = options.dtype === undefined ? 'int32' : checkOneOf(op, 'dtype', options.dtype, ['int32', 'float32'] as const);
  if (options.requiresGrad) throw new Error(`${op}: requiresGrad is not possible: integer draws have no gradient`);
  const seed = seedFor(op, options);
  const u = Tensor.empty(shape, 'float32', true);
  if (u.size > 0) wasm().tread_init_uniform(...seedWords(seed), u.ptr, u.size, 0, 1);
  const t = Tensor.empty(shape, dtype);
  const src = u.f32;
  const dst = t.data;
  const n = high - low;
  // u < 1, but u·n can round up to n in float64 only for n near 2^24: clamp to high - 1.
  for (let i = 0; i < src.length; i++) dst[i] = Math.min(low + Math.floor(src[i] * n), high - 1);
  u.dispose();
  return t;
}
