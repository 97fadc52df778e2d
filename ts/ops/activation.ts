/**
 * Activation functions (functional form; the nn activation modules call these). Forward
 * and backward are wasm kernels (crates/tread-core/src/kernels/activation.rs and softmax.rs).
 */
import { record } from '../autograd/engine.js';
import { act, actBackward, ActOp } from '../kernels/activation.js';
import { softmaxBackwardKernel, softmaxKernel } from '../kernels/softmax.js';
import { Tensor } from '../tensor/tensor.js';
import { axisSplit, checkFloat, normDim, out } from './util.js';

function activation(name: string, x: Tensor, op: number, p1 = 0, p2 = 0): Tensor {
  checkFloat(name, x);
  const y = out(x.shape);
  act(op, x.ptr, y.ptr, x.size, p1, p2);
  return record(y, name, [x], (g) => {
    const dx = out(x.shape);
    actBackward(op, x.ptr, y.ptr, g.ptr, dx.ptr, x.size, p1, p2);
    return [dx];
  });
}

/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  return activation('relu', x, ActOp.relu);
}

/** x for x > 0, negativeSlope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return activation('leakyRelu', x, ActOp.leakyRelu, negativeSlope);
}

/** x for x > 0, alpha·(exp(x) − 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return activation('elu', x, ActOp.elu, alpha);
}

/** x·Φ(x), the exact (erf) form, as PyTorch's default. */
export function gelu(x: Tensor): Tensor {
  return activation('gelu', x, ActOp.gelu);
}

/** x·sigmoid(x) (swish). */
export function silu(x: Tensor): Tensor {
  return activation('silu', x, ActOp.silu);
}

/** 1 / (1 + exp(−x)). */
export function sigmoid(x: Tensor): Tensor {
  return activation('sigmoid', x, ActOp.sigmoid);
}

export function tanh(x: Tensor): Tensor {
  return activation('tanh', x, ActOp.tanh);
}

/** log(1 + exp(beta·x)) / beta, and x where beta·x > threshold. */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  return activation('softplus', x, ActOp.softplus, beta, threshold);
}

function softmaxImpl(name: string, x: Tensor, dim: number, log: boolean): Tensor {
  checkFloat(name, x);
  if (dim === undefined) throw new Error(`${name}: dim must be given`);
  const d = normDim(name, dim, x.ndim);
  const [outer, n, inner] = x.ndim === 0 ? [1, 1, 1] : axisSplit(x.shape, d);
  const y = out(x.shape);
  softmaxKernel(x.ptr, outer, n, inner, log, y.ptr);
  return record(y, name, [x], (g) => {
    const dx = out(x.shape);
    softmaxBackwardKernel(y.ptr, g.ptr, outer, n, inner, log, dx.ptr);
    return [dx];
  });
}

/** exp(x) / Σ exp(x) along `dim`, numerically stable. */
export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl('softmax', x, dim, false);
}

/** log(softmax(x)) along `dim`, computed directly (stable). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl('logSoftmax', x, dim, true);
}
