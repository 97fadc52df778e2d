/**
 * Arithmetic: add, sub, mul, div (tensor or number operands, NumPy broadcasting, gradients
 * summed back to each input's shape), neg, exp, log, sqrt, pow, abs, clamp, clone.
 * Forward and backward run in wasm kernels; outputs and gradients are temporaries.
 */
import { record } from '../autograd/engine.js';
import { BinaryOp, unary, unaryBackward, UnaryOp } from '../kernels/elementwise.js';
import { Tensor } from '../tensor/tensor.js';
import { bcastInto, broadcastShapes, checkFloat, out, sumTo } from './util.js';

type Operand = Tensor | number;

/** `f(x)` by a unary kernel, recorded with its kernel backward. */
function unaryOp(name: string, x: Tensor, op: number, p1 = 0, p2 = 0): Tensor {
  checkFloat(name, x);
  const y = out(x.shape);
  unary(op, x.ptr, y.ptr, x.size, p1, p2);
  return record(y, name, [x], (g) => {
    const dx = out(x.shape);
    unaryBackward(op, x.ptr, y.ptr, g.ptr, dx.ptr, x.size, p1, p2);
    return [dx];
  });
}

/** `p1·x + p2` (no saved tensors: the gradient is `p1·g`). */
function affine(name: string, x: Tensor, p1: number, p2: number): Tensor {
  checkFloat(name, x);
  const y = out(x.shape);
  unary(UnaryOp.affine, x.ptr, y.ptr, x.size, p1, p2);
  return record(y, name, [x], (g) => {
    if (p1 === 1) return [g];
    const dx = out(x.shape);
    unary(UnaryOp.affine, g.ptr, dx.ptr, g.size, p1, 0);
    return [dx];
  });
}

function bothNumbers(name: string): never {
  throw new Error(`${name}: at least one operand must be a Tensor`);
}

/** `a + b`, broadcasting. */
export function add(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') {
    if (typeof b === 'number') bothNumbers('add');
    return affine('add', b, 1, a);
  }
  if (typeof b === 'number') return affine('add', a, 1, b);
  checkFloat('add', a, b);
  const shape = broadcastShapes('add', a.shape, b.shape);
  const y = bcastInto(BinaryOp.add, shape, a, b);
  return record(y, 'add', [a, b], (g) => {
    const ga = a.requiresGrad ? sumTo(g, a.shape, false) : null;
    const gb = b.requiresGrad ? sumTo(g, b.shape, ga !== null) : null;
    return [ga, gb];
  });
}

/** `a - b`, broadcasting. */
export function sub(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') {
    if (typeof b === 'number') bothNumbers('sub');
    return affine('sub', b, -1, a);
  }
  if (typeof b === 'number') return affine('sub', a, 1, -b);
  checkFloat('sub', a, b);
  const shape = broadcastShapes('sub', a.shape, b.shape);
  const y = bcastInto(BinaryOp.sub, shape, a, b);
  return record(y, 'sub', [a, b], (g) => {
    const ga = a.requiresGrad ? sumTo(g, a.shape, false) : null;
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      const s = sumTo(g, b.shape, true);
      gb = out(b.shape);
      unary(UnaryOp.affine, s.ptr, gb.ptr, s.size, -1, 0);
    }
    return [ga, gb];
  });
}

/** `a * b`, broadcasting. */
export function mul(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') {
    if (typeof b === 'number') bothNumbers('mul');
    return affine('mul', b, a, 0);
  }
  if (typeof b === 'number') return affine('mul', a, b, 0);
  checkFloat('mul', a, b);
  const shape = broadcastShapes('mul', a.shape, b.shape);
  const y = bcastInto(BinaryOp.mul, shape, a, b);
  return record(y, 'mul', [a, b], (g) => {
    const ga = a.requiresGrad ? sumTo(bcastInto(BinaryOp.mul, shape, g, b), a.shape, false) : null;
    const gb = b.requiresGrad ? sumTo(bcastInto(BinaryOp.mul, shape, g, a), b.shape, false) : null;
    return [ga, gb];
  });
}

/** `a / b`, broadcasting. */
export function div(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') {
    if (typeof b === 'number') bothNumbers('div');
    return unaryOp('div', b, UnaryOp.rdiv, a);
  }
  if (typeof b === 'number') return affine('div', a, 1 / b, 0);
  checkFloat('div', a, b);
  const shape = broadcastShapes('div', a.shape, b.shape);
  const y = bcastInto(BinaryOp.div, shape, a, b);
  return record(y, 'div', [a, b], (g) => {
    // t = g / b; da = Σ t; db = Σ -(t · y)   (y = a / b)
    const t = bcastInto(BinaryOp.div, shape, g, b);
    const gb = b.requiresGrad ? sumTo(bcastInto(BinaryOp.mulNeg, shape, t, y), b.shape, false) : null;
    const ga = a.requiresGrad ? sumTo(t, a.shape, false) : null;
    return [ga, gb];
  });
}

export function neg(x: Tensor): Tensor {
  return affine('neg', x, -1, 0);
}

export function exp(x: Tensor): Tensor {
  return unaryOp('exp', x, UnaryOp.exp);
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unaryOp('log', x, UnaryOp.log);
}

export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', x, UnaryOp.sqrt);
}

export function abs(x: Tensor): Tensor {
  return unaryOp('abs', x, UnaryOp.abs);
}

/** `x ** exponent` for a number exponent. */
export function pow(x: Tensor, exponent: number): Tensor {
  if (typeof exponent !== 'number') throw new Error('pow: the exponent must be a number');
  return unaryOp('pow', x, UnaryOp.pow, exponent);
}

/** `x²`. */
export function square(x: Tensor): Tensor {
  return unaryOp('square', x, UnaryOp.pow, 2);
}

/** Clamps into `[min, max]` (either may be omitted / null); the gradient passes inside. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (min == null && max == null) throw new Error('clamp: at least one of min and max must be given');
  return unaryOp('clamp', x, UnaryOp.clamp, lo, hi);
}

/**
 * A copy with its own storage; gradients flow through. The copy of an owned tensor (a
 * parameter, buffer, gradient, data you made, anything kept) is owned too, so a snapshot
 * such as `clone(p)` outlives the training steps that follow (see ts/tensor/lifetime.ts);
 * the copy of a temporary is a temporary.
 */
export function clone(x: Tensor): Tensor {
  const owned = !x.storage.temporary || x.storage.kept;
  const y = Tensor.empty(x.shape, x.dtype, !owned);
  if (x.dtype !== 'float32') {
    y.data.set(x.data);
    return y;
  }
  unary(UnaryOp.copy, x.ptr, y.ptr, x.size);
  return record(y, 'clone', [x], (g) => [g]);
}
