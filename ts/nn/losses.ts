/**
 * Loss functions, as modules (`new CrossEntropyLoss().forward(logits, target)`) and as
 * functions (`crossEntropy(logits, target)`), with PyTorch's semantics and reductions
 * ('mean' default, 'sum', 'none'). Each is one wasm call forward and one backward, in stable
 * form: cross-entropy is a fused log-softmax + NLL (+ label smoothing) that keeps the
 * probabilities for its backward; BCE clamps its logs at -100 like PyTorch; BCEWithLogits
 * uses max(x,0) - x·t + log1p(exp(-|x|)).
 *
 * Class losses take int32 class indices: input [N, C] with target [N], [N, C, d1...] with
 * [N, d1...], or [C] with a scalar target. Element-wise losses need input and target of the
 * same shape. Errors name the loss and both shapes.
 */
import { record } from '../autograd/engine.js';
import { wasm } from '../runtime/wasm.js';
import { Shape, shapeStr, Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { temp } from './layers/util.js';

export type Reduction = 'mean' | 'sum' | 'none';

const RED: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

function reductionCode(r: Reduction | undefined, loss: string): number {
  const code = RED[r ?? 'mean'];
  if (code === undefined) throw new Error(`${loss}: reduction must be 'mean', 'sum' or 'none', got '${r}'`);
  return code;
}

export interface ClassLossOptions {
  reduction?: Reduction;
  /** Targets equal to this are skipped (and not counted by 'mean'); default -100. */
  ignoreIndex?: number;
}

export interface CrossEntropyOptions extends ClassLossOptions {
  /** Mixes the one-hot target with the uniform distribution (0 ≤ ε ≤ 1; default 0). */
  labelSmoothing?: number;
}

/** [outer, C, inner] of a class-loss input, after checking it against its target. */
function classLayout(loss: string, input: Tensor, target: Tensor): [number, number, number] {
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${loss}: input and target must be Tensors`);
  if (input.dtype !== 'float32') throw new Error(`${loss}: input must be float32, got ${input.dtype} ${shapeStr(input.shape)}`);
  if (target.dtype !== 'int32') {
    throw new Error(`${loss}: target must hold int32 class indices, got ${target.dtype} ${shapeStr(target.shape)} (input ${shapeStr(input.shape)})`);
  }
  const bad = () => new Error(`${loss}: input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} do not match (expected input [N, C] with target [N], or [N, C, d...] with [N, d...])`);
  if (input.ndim === 1) {
    if (target.ndim !== 0) throw bad();
    return [1, input.shape[0], 1];
  }
  if (input.ndim < 1 || target.ndim !== input.ndim - 1) throw bad();
  if (target.shape[0] !== input.shape[0]) throw bad();
  let inner = 1;
  for (let i = 2; i < input.ndim; i++) {
    if (target.shape[i - 1] !== input.shape[i]) throw bad();
    inner *= input.shape[i];
  }
  return [input.shape[0], input.shape[1], inner];
}

function outShape(code: number, target: Tensor): Shape {
  return code === 0 ? target.shape : [];
}

function badTarget(loss: string, target: Tensor, r: number, c: number): Error {
  const i = -1 - r;
  return new Error(`${loss}: target ${target.data[i]} at index ${i} is out of bounds for ${c} classes (valid: 0..${c - 1})`);
}

/** Cross-entropy of logits against class indices (log-softmax + NLL, fused). */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}, name = 'CrossEntropyLoss'): Tensor {
  const code = reductionCode(options.reduction, name);
  const ls = options.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw new Error(`${name}: labelSmoothing must be in [0, 1], got ${ls}`);
  const ignore = options.ignoreIndex ?? -100;
  const [outer, c, inner] = classLayout(name, input, target);
  const probs = temp(input.shape);
  const out = temp(outShape(code, target));
  const count = wasm().tread_cross_entropy_forward(outer, c, inner, input.ptr, target.ptr, ls, ignore, code, probs.ptr, out.ptr);
  if (count < 0) throw badTarget(name, target, count, c);
  return record(out, name, [input], (g) => {
    const dx = temp(input.shape);
    wasm().tread_cross_entropy_backward(outer, c, inner, probs.ptr, target.ptr, ls, ignore, code, count, g.ptr, dx.ptr);
    return [dx];
  });
}

/** Negative log-likelihood of log-probabilities against class indices. */
export function nllLoss(input: Tensor, target: Tensor, options: ClassLossOptions = {}, name = 'NLLLoss'): Tensor {
  const code = reductionCode(options.reduction, name);
  const ignore = options.ignoreIndex ?? -100;
  const [outer, c, inner] = classLayout(name, input, target);
  const out = temp(outShape(code, target));
  const count = wasm().tread_nll_forward(outer, c, inner, input.ptr, target.ptr, ignore, code, out.ptr);
  if (count < 0) throw badTarget(name, target, count, c);
  return record(out, name, [input], (g) => {
    const dx = temp(input.shape);
    wasm().tread_nll_backward(outer, c, inner, target.ptr, ignore, code, count, g.ptr, dx.ptr);
    return [dx];
  });
}

const KIND = { MSELoss: 0, L1Loss: 1, SmoothL1Loss: 2, HuberLoss: 3, BCELoss: 4, BCEWithLogitsLoss: 5 } as const;
type PointwiseName = keyof typeof KIND;
/** Losses whose gradient with respect to the target is minus that to the input. */
const SYMMETRIC = new Set<PointwiseName>(['MSELoss', 'L1Loss', 'SmoothL1Loss', 'HuberLoss']);

function pointwise(name: PointwiseName, param: number, input: Tensor, target: Tensor, reduction: Reduction | undefined): Tensor {
  const code = reductionCode(reduction, name);
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${name}: input and target must be Tensors`);
  if (input.dtype !== 'float32' || target.dtype !== 'float32') {
    throw new Error(`${name}: input and target must be float32, got ${input.dtype} ${shapeStr(input.shape)} and ${target.dtype} ${shapeStr(target.shape)}`);
  }
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`${name}: input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} must have the same shape`);
  }
  const kind = KIND[name];
  const n = input.size;
  const out = temp(code === 0 ? input.shape : []);
  wasm().tread_pointwise_loss_forward(kind, param, input.ptr, target.ptr, n, code, out.ptr);
  const inputs = SYMMETRIC.has(name) ? [input, target] : [input];
  return record(out, name, inputs, (g) => {
    const dx = temp(input.shape);
    wasm().tread_pointwise_loss_backward(kind, param, input.ptr, target.ptr, n, code, g.ptr, dx.ptr);
    if (inputs.length === 1 || !target.requiresGrad) return inputs.length === 1 ? [dx] : [dx, null];
    const dt = temp(target.shape);
    const a = dx.f32;
    const b = dt.f32;
    for (let i = 0; i < n; i++) b[i] = -a[i];
    return [input.requiresGrad ? dx : null, dt];
  });
}

export const mseLoss = (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}) => pointwise('MSELoss', 0, input, target, options.reduction);
export const l1Loss = (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}) => pointwise('L1Loss', 0, input, target, options.reduction);
export function smoothL1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new Error(`SmoothL1Loss: beta must be non-negative, got ${beta}`);
  // beta = 0 is L1 exactly (PyTorch does the same).
  return beta === 0 ? pointwise('L1Loss', 0, input, target, options.reduction) : pointwise('SmoothL1Loss', beta, input, target, options.reduction);
}
export function huberLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; delta?: number } = {}): Tensor {
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new Error(`HuberLoss: delta must be positive, got ${delta}`);
  return pointwise('HuberLoss', delta, input, target, options.reduction);
}
export const binaryCrossEntropy = (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}) => pointwise('BCELoss', 0, input, target, options.reduction);
export const binaryCrossEntropyWithLogits = (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}) =>
  pointwise('BCEWithLogitsLoss', 0, input, target, options.reduction);

// ---- modules ----

abstract class Loss extends Module {
  readonly reduction: Reduction;
  constructor(options: { reduction?: Reduction; weight?: unknown; posWeight?: unknown }) {
    super();
    this.reduction = options.reduction ?? 'mean';
    reductionCode(this.reduction, this.constructor.name);
    if (options.weight != null) throw new Error(`${this.constructor.name}: class/element weights are not supported`);
    if (options.posWeight != null) throw new Error(`${this.constructor.name}: posWeight is not supported`);
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
  override extraRepr(): string {
    return `reduction='${this.reduction}'`;
  }
}

export class CrossEntropyLoss extends Loss {
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;
  constructor(options: CrossEntropyOptions & { weight?: unknown } = {}) {
    super(options);
    this.labelSmoothing = options.labelSmoothing ?? 0;
    this.ignoreIndex = options.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, { reduction: this.reduction, labelSmoothing: this.labelSmoothing, ignoreIndex: this.ignoreIndex });
  }
}

export class NLLLoss extends Loss {
  readonly ignoreIndex: number;
  constructor(options: ClassLossOptions & { weight?: unknown } = {}) {
    super(options);
    this.ignoreIndex = options.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { reduction: this.reduction, ignoreIndex: this.ignoreIndex });
  }
}

export class MSELoss extends Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

export class L1Loss extends Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(options: { reduction?: Reduction; beta?: number } = {}) {
    super(options);
    this.beta = options.beta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(options: { reduction?: Reduction; delta?: number } = {}) {
    super(options);
    this.delta = options.delta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

export class BCELoss extends Loss {
  constructor(options: { reduction?: Reduction; weight?: unknown } = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Loss {
  constructor(options: { reduction?: Reduction; weight?: unknown; posWeight?: unknown } = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { reduction: this.reduction });
  }
}
