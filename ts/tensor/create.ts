/**
 * Making tensors from data. Each copies the data once, into wasm memory; the result is
 * owned by the caller (see lifetime.ts).
 */
import { checkBooleanOption, checkOneOf, checkOptions } from '../util/options.js';
import { DType } from './storage.js';
import { checkShape, shapeSize, shapeStr, Shape, Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

type Nested = number | Nested[];

function flatten(data: Nested, shape: number[], depth: number, out: number[]): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new Error(`tensor: ragged nested array: expected ${shape[depth]} items at depth ${depth}, got ${data.length}`);
    for (const x of data) flatten(x, shape, depth + 1, out);
  } else {
    if (depth !== shape.length) throw new Error(`tensor: ragged nested array at depth ${depth}`);
    if (typeof data !== 'number' && typeof data !== 'boolean') throw new Error(`tensor: expected numbers, got ${data === null ? 'null' : typeof data} at depth ${depth}`);
    out.push(data);
  }
}

const TENSOR_OPTIONS = ['dtype', 'requiresGrad'];
const DTYPES: readonly DType[] = ['float32', 'int32'];

/** Checks a TensorOptions object of `owner` (keys and dtype) at run time. */
export function checkTensorOptions(owner: string, options: unknown): TensorOptions {
  checkOptions(owner, options, TENSOR_OPTIONS);
  const o = (options ?? {}) as TensorOptions;
  if (o.dtype !== undefined) checkOneOf(owner, 'dtype', o.dtype, DTYPES);
  if (o.requiresGrad !== undefined) checkBooleanOption(owner, 'requiresGrad', o.requiresGrad);
  return o;
}

/**
 * A tensor from numbers: a nested array (shape inferred), or a flat array / typed array with
 * a shape (default: 1-D). The options may come second, as PyTorch users write it:
 * `tensor([[1, 2], [3, 4]], { dtype: 'int32' })`, or third after a shape:
 * `tensor(flat, [2, 2], { requiresGrad: true })`.
 */
export function tensor(data: Nested | ArrayLike<number>, shape?: Shape | TensorOptions, options?: TensorOptions): Tensor {
  if (shape !== undefined && shape !== null && typeof shape === 'object' && !Array.isArray(shape)) {
    if (options !== undefined) throw new Error('tensor: options given twice (use tensor(data, options) or tensor(data, shape, options))');
    options = shape as TensorOptions;
    shape = undefined;
  }
  return tensorOf(data, shape as Shape | undefined, checkTensorOptions('tensor', options));
}

function tensorOf(data: Nested | ArrayLike<number>, shape: Shape | undefined, options: TensorOptions): Tensor {
  let flat: ArrayLike<number>;
  let sh: number[];
  if (Array.isArray(data) && shape === undefined) {
    const vals: number[] = [];
    sh = [];
    flatten(data as Nested, sh, 0, vals);
    flat = vals;
  } else if (typeof data === 'number') {
    flat = [data];
    sh = shape ? [...shape] : [];
  } else {
    flat = data as ArrayLike<number>;
    sh = shape ? [...shape] : [flat.length];
  }
  checkShape(sh, 'tensor');
  if (shapeSize(sh) !== flat.length) throw new Error(`tensor: ${flat.length} values do not fill shape ${shapeStr(sh)} (${shapeSize(sh)} elements)`);
  const dtype = options.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  const t = Tensor.empty(sh, dtype);
  t.data.set(flat as ArrayLike<number>);
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const t = Tensor.empty(shape, options.dtype ?? 'float32');
  t.data.fill(value);
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Uninitialised memory (fast); fill it before reading. */
export function empty(shape: Shape, options: TensorOptions = {}): Tensor {
  const t = Tensor.empty(shape, options.dtype ?? 'float32');
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype });
}

export function arange(n: number, options: TensorOptions = {}): Tensor {
  const t = Tensor.empty([n], options.dtype ?? 'float32');
  const d = t.data;
  for (let i = 0; i < n; i++) d[i] = i;
  return t;
}
