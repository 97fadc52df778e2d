/**
 * `Linear(in, out, {bias})`: `y = x·Wᵀ + b` over the last dimension, W `[out, in]`.
 * Forward is one wasm call (a GEMM that adds the bias as it stores y); backward is one wasm
 * call for dX = dY·W, dW = dYᵀ·X (accumulated straight into `weight.grad`) and db = column sums.
 *
 * In a Sequential, a Linear followed by a plain ReLU runs fused (`fusedForward`): the GEMM's
 * epilogue clamps too, and the backward masks dY by `y > 0` in the pass that sums db. The
 * values are bit for bit those of the two modules; the output's grad_fn is the ReLU's. A
 * forward hook on either module, or a subclass's own forward, turns the fusion off (the hook
 * must see the pre-activation).
 */
import { record } from '../../autograd/engine.js';
import { wasm } from '../../runtime/wasm.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, Parameter } from '../module.js';
import { isPlainRelu } from './activation.js';
import { checkFloat, defaultInit, gradTarget, shapeStr, temp } from './util.js';
import { checkBooleanOption, checkOptions } from '../../util/options.js';

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [k, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`Linear: ${k} must be a non-negative integer, got ${v}`);
    }
    this.weight = new Parameter([outFeatures, inFeatures]);
    checkOptions('Linear', options, ['bias']);
    this.bias = checkBooleanOption('Linear', 'bias', options?.bias ?? true) ? new Parameter([outFeatures]) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    defaultInit(this.weight, this.bias, this.inFeatures);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }

  private get label(): string {
    return `Linear(${this.inFeatures} -> ${this.outFeatures})`;
  }

  forward(x: Tensor): Tensor {
    return this.run(x, false);
  }

  override mayFuse(): boolean {
    return this.forward === Linear.prototype.forward;
  }

  override fusedForward(next: Module, x: Tensor): Tensor | null {
    return isPlainRelu(next) ? this.run(x, true) : null;
  }

  /** The forward, with `relu`: the ReLU after it fused in (its backward from the output y). */
  private run(x: Tensor, relu: boolean): Tensor {
    checkFloat(x, this.label);
    const fin = this.inFeatures;
    const fout = this.outFeatures;
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== fin) {
      throw new Error(`${this.label}: expected input [*, ${fin}], got ${shapeStr(x.shape)}`);
    }
    const m = fin === 0 ? x.size : x.size / fin;
    const w = this.weight;
    const b = this.bias;
    const y = temp([...x.shape.slice(0, -1), fout]);
    if (relu) wasm().tread_linear_forward_relu(m, fin, fout, x.ptr, w.ptr, b ? b.ptr : 0, y.ptr);
    else wasm().tread_linear_forward(m, fin, fout, x.ptr, w.ptr, b ? b.ptr : 0, y.ptr);
    const inputs = b ? [x, w, b] : [x, w];
    return record(y, relu ? 'relu' : 'Linear', inputs, (g) => {
      const dx = x.requiresGrad ? temp(x.shape) : null;
      const dw = gradTarget(w);
      const db = gradTarget(b);
      const [dxp, dwp, dwb, dbp, dbb] = [dx ? dx.ptr : 0, dw ? dw.ptr : 0, dw ? dw.beta : 0, db ? db.ptr : 0, db ? db.beta : 0];
      if (relu) {
        const dz = temp(y.shape);
        wasm().tread_linear_relu_backward(m, fin, fout, x.ptr, w.ptr, y.ptr, g.ptr, dz.ptr, dxp, dwp, dwb, dbp, dbb);
      } else {
        wasm().tread_linear_backward(m, fin, fout, x.ptr, w.ptr, g.ptr, dxp, dwp, dwb, dbp, dbb);
      }
      return b ? [dx, dw?.ret ?? null, db?.ret ?? null] : [dx, dw?.ret ?? null];
    });
  }
}
