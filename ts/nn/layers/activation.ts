/**
 * Activation modules: thin wrappers over the functional ops of ts/ops/activation (which do the
 * work in wasm and record their backward).
 */
import * as F from '../../ops/activation.js';
import { add, mul } from '../../ops/arith.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { checkNumberOption, checkOneOf, checkOptions } from '../../util/options.js';

/**
 * A layer's hyper-parameter given positionally, as PyTorch's (`new LeakyReLU(0.2)`), or in an
 * options object (`new LeakyReLU({ negativeSlope: 0.2 })`, keys checked by name): the value
 * of `key`, or `fallback` when absent.
 */
function arg<T>(layer: string, key: string, v: unknown, fallback: T, known: readonly string[] = [key]): T {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    checkOptions(layer, v, known);
    return ((v as Record<string, unknown>)[key] ?? fallback) as T;
  }
  return (v ?? fallback) as T;
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

/**
 * A ReLU itself (not a subclass) whose forward no hook has replaced: what a Linear or Conv2d
 * before it in a Sequential may fuse with.
 * @internal
 */
export function isPlainRelu(m: Module): boolean {
  return m instanceof ReLU && Object.getPrototypeOf(m) === ReLU.prototype && m.forward === ReLU.prototype.forward;
}

export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope: number | { negativeSlope?: number; inplace?: boolean } = 0.01) {
    super();
    this.negativeSlope = checkNumberOption('LeakyReLU', 'negativeSlope', arg('LeakyReLU', 'negativeSlope', negativeSlope, 0.01, ['negativeSlope', 'inplace']));
    if (!Number.isFinite(this.negativeSlope)) throw new Error(`LeakyReLU: negativeSlope must be finite, got ${this.negativeSlope}`);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
}

export class ELU extends Module {
  readonly alpha: number;
  constructor(alpha: number | { alpha?: number; inplace?: boolean } = 1.0) {
    super();
    this.alpha = checkNumberOption('ELU', 'alpha', arg('ELU', 'alpha', alpha, 1.0, ['alpha', 'inplace']));
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
}

export class GELU extends Module {
  /** 'none': the exact erf form (one wasm kernel); 'tanh': PyTorch's tanh approximation. */
  readonly approximate: 'none' | 'tanh';
  constructor(approximate: 'none' | 'tanh' | { approximate?: 'none' | 'tanh' } = 'none') {
    super();
    this.approximate = checkOneOf('GELU', 'approximate', arg('GELU', 'approximate', approximate, 'none'), ['none', 'tanh'] as const);
  }
  override extraRepr(): string {
    return this.approximate === 'none' ? '' : `approximate='${this.approximate}'`;
  }
  forward(x: Tensor): Tensor {
    if (this.approximate === 'none') return F.gelu(x);
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), composed from ops (autograd follows).
    const k = Math.sqrt(2 / Math.PI);
    const x3 = mul(mul(x, x), x);
    const inner = mul(add(x, mul(x3, 0.044715)), k);
    return mul(mul(x, 0.5), add(F.tanh(inner), 1));
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return F.silu(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;
  constructor(beta: number | { beta?: number; threshold?: number } = 1, threshold = 20) {
    super();
    const o = beta !== null && typeof beta === 'object' ? beta : { beta, threshold };
    checkOptions('Softplus', o, ['beta', 'threshold']);
    this.beta = checkNumberOption('Softplus', 'beta', o.beta ?? 1);
    this.threshold = checkNumberOption('Softplus', 'threshold', o.threshold ?? 20);
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
  forward(x: Tensor): Tensor {
    return F.softplus(x, this.beta, this.threshold);
  }
}

export class Softmax extends Module {
  readonly dim: number;
  constructor(dim: number | { dim?: number } = -1) {
    super();
    this.dim = checkNumberOption('Softmax', 'dim', arg('Softmax', 'dim', dim, -1), { integer: true });
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
  forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }
}

export class LogSoftmax extends Module {
  readonly dim: number;
  constructor(dim: number | { dim?: number } = -1) {
    super();
    this.dim = checkNumberOption('LogSoftmax', 'dim', arg('LogSoftmax', 'dim', dim, -1), { integer: true });
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
  forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }
}

/** The identity, as a placeholder layer. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
