/**
 * Activation modules: thin wrappers over the functional ops of ts/ops/activation (which do the
 * work in wasm and record their backward).
 */
import * as F from '../../ops/activation.js';
import { add, mul } from '../../ops/arith.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
}

export class ELU extends Module {
  constructor(readonly alpha = 1.0) {
    super();
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
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`GELU: approximate must be 'none' or 'tanh', got '${approximate}'`);
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
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
  forward(x: Tensor): Tensor {
    return F.softplus(x, this.beta, this.threshold);
  }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
  forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }
}

export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
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
