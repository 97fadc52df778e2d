/**
 * Making tensors from data. Each copies the data once, into wasm memory; the result is
 * owned by the caller (see lifetime.ts).
 */
import { DType } from './storage.js';
import { checkShape, shapeSize, shapeStr, Shape, Tensor } from './tensor.js';
import { checkBooleanOption, checkOneOf, checkOptions } from '../util/options.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Keys and values of tensor-creation options. */
function checkTensorOptions(where: string, options: TensorOptions | undefined): TensorOptions {
  checkOptions(where, options, ['dtype', 'requiresGrad']);
  if (options?.dtype !== undefined) checkOneOf(where, 'dtype', options.dtype, ['float32', 'int32']);
  if (options?.requiresGrad !== undefined) checkBooleanOption(where, 'requiresGrad', options.requiresGrad);
  return options ?? {};
}

type Nested = number | Nested[];

function flatten(data: Nested, shape: number[], depth: number, out: number[]): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new Error(`tensor: ragged nested array: expected ${shape[depth]} items at depth ${depth}, got ${data.length}`);
    for (const x of data) flatten(x, shape, depth + 1, out);
  } else {
    if (depth !== shape.length) throw new Error(`tensor: ragged nested array at depth ${depth}`);
    out.push(data);
  }
}

/**
 * A tensor from numbers: a nested array (shape inferred), or a flat array / typed array with
 * a shape (default: 1-D).
 */
export function tensor(data: Nested | ArrayLike<number>, shapeOrOptions?: Shape | TensorOptions, options: TensorOptions = {}): Tensor {
  // tensor(data, { dtype }) as PyTorch's torch.tensor(data, dtype=...): options in the shape's place.
  let shape: Shape | undefined = shapeOrOptions as Shape | undefined;
  if (shapeOrOptions != null && !Array.isArray(shapeOrOptions) && typeof shapeOrOptions === 'object' && !ArrayBuffer.isView(shapeOrOptions)) {
    options = shapeOrOptions as TensorOptions;
    shape = undefined;
  }
  options = checkTensorOptions('tensor', options);
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
  options = checkTensorOptions('full', options);
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
  options = checkTensorOptions('empty', options);
  const t = Tensor.empty(shape, options.dtype ?? 'float32');
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype });
}

export function arange(n: number, options: TensorOptions = {}): Tensor {
  options = checkTensorOptions('arange', options);
  if (options.requiresGrad) throw new Error('arange: requiresGrad is not supported (make it float32 and call requiresGrad_(true))');
  const t = Tensor.empty([n], options.dtype ?? 'float32');
  const d = t.data;
  for (let i = 0; i < n; i++) d[i] = i;
  return t;
}
