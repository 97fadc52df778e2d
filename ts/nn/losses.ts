/**
 * Loss functions, as modules (`new CrossEntropyLoss().forward(logits, target)`) and as
 * functions (`crossEntropy(logits, target)`), with PyTorch 1.13's semantics and reductions
 * ('mean' default, 'sum', 'none'). Each is one wasm call forward and one backward, in stable
 * form: cross-entropy is a fused log-softmax + NLL (+ label smoothing) that keeps the
 * probabilities for its backward; BCE clamps its logs at -100 like PyTorch; BCEWithLogits
 * uses (1-t)·x + (1 + (posWeight-1)·t)·(max(-x,0) + log1p(exp(-|x|))).
 *
 * Class losses take int32 class indices: input [N, C] with target [N], [N, C, d1...] with
 * [N, d1...], or [C] with a scalar target; an optional per-class `weight` [C] scales each
 * sample's loss by the weight of its target, and 'mean' then divides by the summed weights
 * of the non-ignored targets (label smoothing's term is weighted too, as PyTorch 1.13).
 * CrossEntropy also takes class probabilities: a float32 target of the input's shape
 * (its 'mean' divides by the number of samples). Element-wise losses need input and target
 * of the same shape; BCE's `weight` and BCEWithLogits' `weight` / `posWeight` broadcast to
 * the input (posWeight [C] over the last dimension). Weights are constants (no gradient).
 * Errors name the loss and the shapes.
 */
import { record } from '../autograd/engine.js';
import { stridedCopy } from '../kernels/elementwise.js';
import { broadcastStrides } from '../ops/util.js';
import { wasm } from '../runtime/wasm.js';
import { tensor } from '../tensor/create.js';
import { Shape, shapeStr, Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { temp } from './layers/util.js';
import { checkNumberOption, checkOptions } from '../util/options.js';

const CROSS_ENTROPY_KEYS = ['reduction', 'ignoreIndex', 'weight', 'labelSmoothing'];
const CLASS_LOSS_KEYS = ['reduction', 'ignoreIndex', 'weight'];

export type Reduction = 'mean' | 'sum' | 'none';

/** A weight given as a tensor or as plain numbers (a 1-D list). */
export type WeightLike = Tensor | ArrayLike<number>;

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
  /** Per-class weight, C values (PyTorch's `weight`). */
  weight?: WeightLike | null;
}

export interface CrossEntropyOptions extends ClassLossOptions {
  /** Mixes the target with the uniform distribution (0 ≤ ε ≤ 1; default 0). */
  labelSmoothing?: number;
}

function shapeOfWeight(w: WeightLike): Shape {
  return w instanceof Tensor ? w.shape : [w.length];
}

/** A float32 tensor of `w`'s values (the tensor itself when it already is one). */
function weightTensor(loss: string, arg: string, w: WeightLike): Tensor {
  if (w instanceof Tensor) {
    if (w.dtype !== 'float32') throw new Error(`${loss}: ${arg} must be float32, got ${w.dtype} ${shapeStr(w.shape)}`);
    return w;
  }
  if (!w || typeof w.length !== 'number') throw new Error(`${loss}: ${arg} must be a Tensor or a list of numbers`);
  const t = temp([w.length]);
  t.f32.set(Array.from(w, Number));
  return t;
}

/** The class weight as a [C] float32 tensor, or null. */
function classWeight(loss: string, w: WeightLike | null | undefined, c: number, input: Tensor): Tensor | null {
  if (w == null) return null;
  const shape = shapeOfWeight(w);
  if (shape.length !== 1 || shape[0] !== c) {
    throw new Error(`${loss}: weight must hold one value per class, shape [${c}] for input ${shapeStr(input.shape)}, got ${shapeStr(shape)}`);
  }
  return weightTensor(loss, 'weight', w);
}

/** A weight broadcast to `input`'s shape (contiguous, input.size values), or null. */
function elementWeight(loss: string, arg: string, w: WeightLike | null | undefined, input: Tensor): Tensor | null {
  if (w == null) return null;
  const ws = shapeOfWeight(w);
  const off = input.ndim - ws.length;
  const fits = off >= 0 && ws.every((d, i) => d === 1 || d === input.shape[off + i]);
  if (!fits) throw new Error(`${loss}: ${arg} ${shapeStr(ws)} cannot be broadcast to the input ${shapeStr(input.shape)}`);
  const t = weightTensor(loss, arg, w);
  if (t.size === input.size) return t;
  const full = temp(input.shape);
  stridedCopy(input.shape, t.ptr, broadcastStrides(input.shape, ws), full.ptr);
  return full;
}

/** [outer, C, inner] of a class-loss input, after checking it against its index target. */
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

/** [outer, C, inner] of an input whose target holds class probabilities (same shape). */
function probLayout(loss: string, input: Tensor, target: Tensor): [number, number, number] {
  if (input.dtype !== 'float32') throw new Error(`${loss}: input must be float32, got ${input.dtype} ${shapeStr(input.shape)}`);
  if (input.ndim === 0 || input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`${loss}: a float32 target holds class probabilities and must have the input's shape; got input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} (or give int32 class indices)`);
  }
  if (input.ndim === 1) return [1, input.shape[0], 1];
  let inner = 1;
  for (let i = 2; i < input.ndim; i++) inner *= input.shape[i];
  return [input.shape[0], input.shape[1], inner];
}

/** Shape of the per-sample losses: the input without its class dimension. */
function sampleShape(input: Tensor): Shape {
  return input.ndim === 1 ? [] : input.shape.filter((_, i) => i !== 1);
}

function badTarget(loss: string, target: Tensor, r: number, c: number): Error {
  const i = -1 - r;
  return new Error(`${loss}: target ${target.data[i]} at index ${i} is out of bounds for ${c} classes (valid: 0..${c - 1})`);
}

/**
 * Cross-entropy of logits (log-softmax + NLL, fused) against int32 class indices, or
 * against class probabilities (a float32 target of the input's shape).
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}, name = 'CrossEntropyLoss'): Tensor {
  checkOptions(name === 'CrossEntropyLoss' ? 'crossEntropy' : name, options, CROSS_ENTROPY_KEYS);
  const code = reductionCode(options.reduction, name);
  const ls = options.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw new Error(`${name}: labelSmoothing must be in [0, 1], got ${ls}`);
  const ignore = options.ignoreIndex ?? -100;
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${name}: input and target must be Tensors`);
  if (target.dtype === 'float32') return crossEntropyProb(input, target, options, code, ls, ignore, name);
  const [outer, c, inner] = classLayout(name, input, target);
  const w = classWeight(name, options.weight, c, input);
  const wp = w ? w.ptr : 0;
  const probs = temp(input.shape);
  const out = temp(code === 0 ? target.shape : []);
  const status = wasm().tread_cross_entropy_forward(outer, c, inner, input.ptr, target.ptr, wp, ls, ignore, code, probs.ptr, out.ptr);
  if (status < 0) throw badTarget(name, target, status, c);
  return record(out, name, [input], (g) => {
    const dx = temp(input.shape);
    wasm().tread_cross_entropy_backward(outer, c, inner, probs.ptr, target.ptr, wp, ls, ignore, code, g.ptr, dx.ptr);
    return [dx];
  });
}

function crossEntropyProb(input: Tensor, target: Tensor, options: CrossEntropyOptions, code: number, ls: number, ignore: number, name: string): Tensor {
  const [outer, c, inner] = probLayout(name, input, target);
  // PyTorch refuses an ignore index with probability targets (only the default, negative, passes).
  if (ignore >= 0) throw new Error(`${name}: ignoreIndex (${ignore}) is not supported with class-probability targets (float32 target ${shapeStr(target.shape)})`);
  const w = classWeight(name, options.weight, c, input);
  const wp = w ? w.ptr : 0;
  const probs = temp(input.shape);
  const out = temp(code === 0 ? sampleShape(input) : []);
  wasm().tread_cross_entropy_prob_forward(outer, c, inner, input.ptr, target.ptr, wp, ls, code, probs.ptr, out.ptr);
  return record(out, name, [input], (g) => {
    const dx = temp(input.shape);
    wasm().tread_cross_entropy_prob_backward(outer, c, inner, probs.ptr, target.ptr, wp, ls, code, g.ptr, dx.ptr);
    return [dx];
  });
}

/** Negative log-likelihood of log-probabilities against class indices. */
export function nllLoss(input: Tensor, target: Tensor, options: ClassLossOptions = {}, name = 'NLLLoss'): Tensor {
  checkOptions(name === 'NLLLoss' ? 'nllLoss' : name, options, CLASS_LOSS_KEYS);
  const code = reductionCode(options.reduction, name);
  const ignore = options.ignoreIndex ?? -100;
  const [outer, c, inner] = classLayout(name, input, target);
  const w = classWeight(name, options.weight, c, input);
  const wp = w ? w.ptr : 0;
  const out = temp(code === 0 ? target.shape : []);
  const status = wasm().tread_nll_forward(outer, c, inner, input.ptr, target.ptr, wp, ignore, code, out.ptr);
  if (status < 0) throw badTarget(name, target, status, c);
  return record(out, name, [input], (g) => {
    const dx = temp(input.shape);
    wasm().tread_nll_backward(outer, c, inner, target.ptr, wp, ignore, code, g.ptr, dx.ptr);
    return [dx];
  });
}

const KIND = { MSELoss: 0, L1Loss: 1, SmoothL1Loss: 2, HuberLoss: 3, BCELoss: 4, BCEWithLogitsLoss: 5 } as const;
type PointwiseName = keyof typeof KIND;
/** Losses whose gradient with respect to the target is minus that to the input. */
const SYMMETRIC = new Set<PointwiseName>(['MSELoss', 'L1Loss', 'SmoothL1Loss', 'HuberLoss']);

interface PointwiseWeights {
  weight?: WeightLike | null;
  posWeight?: WeightLike | null;
}

function pointwise(name: PointwiseName, param: number, input: Tensor, target: Tensor, reduction: Reduction | undefined, weights: PointwiseWeights = {}): Tensor {
  const code = reductionCode(reduction, name);
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${name}: input and target must be Tensors`);
  if (input.dtype !== 'float32' || target.dtype !== 'float32') {
    throw new Error(`${name}: input and target must be float32, got ${input.dtype} ${shapeStr(input.shape)} and ${target.dtype} ${shapeStr(target.shape)}`);
  }
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`${name}: input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} must have the same shape`);
  }
  const w = elementWeight(name, 'weight', weights.weight, input);
  const pw = elementWeight(name, 'posWeight', weights.posWeight, input);
  const wp = w ? w.ptr : 0;
  const pwp = pw ? pw.ptr : 0;
  const kind = KIND[name];
  const n = input.size;
  const out = temp(code === 0 ? input.shape : []);
  wasm().tread_pointwise_loss_forward(kind, param, input.ptr, target.ptr, wp, pwp, n, code, out.ptr);
  const inputs = SYMMETRIC.has(name) ? [input, target] : [input];
  return record(out, name, inputs, (g) => {
    const dx = temp(input.shape);
    wasm().tread_pointwise_loss_backward(kind, param, input.ptr, target.ptr, wp, pwp, n, code, g.ptr, dx.ptr);
    if (inputs.length === 1 || !target.requiresGrad) return inputs.length === 1 ? [dx] : [dx, null];
    const dt = temp(target.shape);
    const a = dx.f32;
    const b = dt.f32;
    for (let i = 0; i < n; i++) b[i] = -a[i];
    return [input.requiresGrad ? dx : null, dt];
  });
}

export const mseLoss = (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}) => (
  checkOptions('mseLoss', options, ['reduction']), pointwise('MSELoss', 0, input, target, options.reduction)
);
export const l1Loss = (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}) => (
  checkOptions('l1Loss', options, ['reduction']), pointwise('L1Loss', 0, input, target, options.reduction)
);
export function smoothL1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  checkOptions('smoothL1Loss', options, ['reduction', 'beta']);
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new Error(`SmoothL1Loss: beta must be non-negative, got ${beta}`);
  // beta = 0 is L1 exactly (PyTorch does the same).
  return beta === 0 ? pointwise('L1Loss', 0, input, target, options.reduction) : pointwise('SmoothL1Loss', beta, input, target, options.reduction);
}
export function huberLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; delta?: number } = {}): Tensor {
  checkOptions('huberLoss', options, ['reduction', 'delta']);
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new Error(`HuberLoss: delta must be positive, got ${delta}`);
  return pointwise('HuberLoss', delta, input, target, options.reduction);
}

export interface BCEOptions {
  reduction?: Reduction;
  /** Multiplies each element's loss; broadcast to the input. */
  weight?: WeightLike | null;
}

export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of the positive term, broadcast to the input (one per class: shape [C] over the last dimension). */
  posWeight?: WeightLike | null;
}

/** Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100, as PyTorch). */
export const binaryCrossEntropy = (input: Tensor, target: Tensor, options: BCEOptions = {}) => (
  checkOptions('binaryCrossEntropy', options, ['reduction', 'weight']), pointwise('BCELoss', 0, input, target, options.reduction, { weight: options.weight })
);
/** Binary cross-entropy of logits, in stable form. */
export const binaryCrossEntropyWithLogits = (input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}) => (
  checkOptions('binaryCrossEntropyWithLogits', options, ['reduction', 'weight', 'posWeight']),
  pointwise('BCEWithLogitsLoss', 0, input, target, options.reduction, { weight: options.weight, posWeight: options.posWeight })
);

// ---- modules ----

/** A weight option held by a loss module: an owned float32 tensor, registered as a buffer. */
function ownedWeight(loss: string, arg: string, w: WeightLike | null | undefined): Tensor | null {
  if (w == null) return null;
  if (w instanceof Tensor) {
    if (w.dtype !== 'float32') throw new Error(`${loss}: ${arg} must be float32, got ${w.dtype} ${shapeStr(w.shape)}`);
    return w;
  }
  if (typeof w.length !== 'number') throw new Error(`${loss}: ${arg} must be a Tensor or a list of numbers`);
  return tensor(Float32Array.from(w, Number), [w.length]);
}

abstract class Loss extends Module {
  readonly reduction: Reduction;
  /** `own`: the loss's options besides reduction, weight and posWeight (checked by name). */
  constructor(
    options: { reduction?: Reduction; weight?: unknown; posWeight?: unknown },
    accepts: { weight?: boolean; posWeight?: boolean } = {},
    own: readonly string[] = [],
  ) {
    super();
    const name = this.constructor.name;
    options ??= {};
    if (options.weight != null && !accepts.weight) throw new Error(`${name}: has no weight option (PyTorch's has none either)`);
    if (options.posWeight != null && !accepts.posWeight) throw new Error(`${name}: has no posWeight option (only BCEWithLogitsLoss does)`);
    checkOptions(name, options, ['reduction', ...(accepts.weight ? ['weight'] : []), ...(accepts.posWeight ? ['posWeight'] : []), ...own]);
    this.reduction = options.reduction ?? 'mean';
    reductionCode(this.reduction, name);
  }
  /** Registers `w` as the buffer `name` (PyTorch keeps loss weights in the state dict). */
  protected weightBuffer(name: string, arg: string, w: WeightLike | null | undefined): Tensor | null {
    const t = ownedWeight(this.constructor.name, arg, w);
    this.registerBuffer(name, t);
    return t;
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
  override extraRepr(): string {
    return `reduction='${this.reduction}'`;
  }
}

export class CrossEntropyLoss extends Loss {
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;
  /** Per-class weight (the 'weight' buffer), or null. */
  readonly weight: Tensor | null;
  constructor(options: CrossEntropyOptions = {}) {
    super(options, { weight: true }, ['ignoreIndex', 'labelSmoothing']);
    this.labelSmoothing = checkNumberOption('CrossEntropyLoss', 'labelSmoothing', options.labelSmoothing ?? 0, { min: 0, max: 1 });
    this.ignoreIndex = checkNumberOption('CrossEntropyLoss', 'ignoreIndex', options.ignoreIndex ?? -100, { integer: true });
    this.weight = this.weightBuffer('weight', 'weight', options.weight);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, { reduction: this.reduction, labelSmoothing: this.labelSmoothing, ignoreIndex: this.ignoreIndex, weight: this.weight });
  }
}

export class NLLLoss extends Loss {
  readonly ignoreIndex: number;
  readonly weight: Tensor | null;
  constructor(options: ClassLossOptions = {}) {
    super(options, { weight: true }, ['ignoreIndex']);
    this.ignoreIndex = checkNumberOption('NLLLoss', 'ignoreIndex', options.ignoreIndex ?? -100, { integer: true });
    this.weight = this.weightBuffer('weight', 'weight', options.weight);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { reduction: this.reduction, ignoreIndex: this.ignoreIndex, weight: this.weight });
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
    super(options, {}, ['beta']);
    this.beta = checkNumberOption('SmoothL1Loss', 'beta', options.beta ?? 1, { min: 0 });
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(options: { reduction?: Reduction; delta?: number } = {}) {
    super(options, {}, ['delta']);
    this.delta = checkNumberOption('HuberLoss', 'delta', options.delta ?? 1, { min: 0, minExclusive: true });
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

export class BCELoss extends Loss {
  readonly weight: Tensor | null;
  constructor(options: BCEOptions = {}) {
    super(options, { weight: true });
    this.weight = this.weightBuffer('weight', 'weight', options.weight);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { reduction: this.reduction, weight: this.weight });
  }
}

export class BCEWithLogitsLoss extends Loss {
  readonly weight: Tensor | null;
  readonly posWeight: Tensor | null;
  constructor(options: BCEWithLogitsOptions = {}) {
    super(options, { weight: true, posWeight: true });
    this.weight = this.weightBuffer('weight', 'weight', options.weight);
    this.posWeight = this.weightBuffer('pos_weight', 'posWeight', options.posWeight);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { reduction: this.reduction, weight: this.weight, posWeight: this.posWeight });
  }
}
