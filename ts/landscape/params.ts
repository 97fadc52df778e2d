/**
 * A model's parameters as one flat float64 vector, in `namedParameters()` order: the space
 * in which landscapes, directions and optimizer paths live. Values are read from and written
 * to the parameters' wasm memory directly (zero-copy views), so setting a point costs one
 * copy of the weights and no allocation in wasm.
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ParamSlice {
  readonly name: string;
  readonly tensor: Tensor;
  /** Offset of this parameter in the flat vector. */
  readonly offset: number;
}

/** The layout of a model's flat parameter vector. */
export class ParamSpace {
  readonly slices: readonly ParamSlice[];
  readonly size: number;

  constructor(model: Module) {
    const slices: ParamSlice[] = [];
    let offset = 0;
    for (const [name, t] of model.namedParameters()) {
      slices.push({ name, tensor: t, offset });
      offset += t.size;
    }
    if (slices.length === 0) throw new Error('landscape: the model has no parameters');
    this.slices = slices;
    this.size = offset;
  }

  /** The current parameters, copied into a new float64 vector. */
  read(): Float64Array {
    const out = new Float64Array(this.size);
    for (const s of this.slices) {
      const v = s.tensor.f32;
      for (let i = 0; i < v.length; i++) out[s.offset + i] = v[i]!;
    }
    return out;
  }

  /** Writes `theta` into the parameters (rounded to float32). */
  write(theta: ArrayLike<number>): void {
    this.checkLength(theta, 'write');
    for (const s of this.slices) {
      const v = s.tensor.f32;
      for (let i = 0; i < v.length; i++) v[i] = theta[s.offset + i]!;
    }
  }

  /** Writes `center + a·u (+ b·v)` into the parameters without a temporary vector. */
  writeCombination(center: ArrayLike<number>, a: number, u: ArrayLike<number>, b = 0, v?: ArrayLike<number>): void {
    for (const s of this.slices) {
      const w = s.tensor.f32;
      const o = s.offset;
      if (v === undefined || b === 0) for (let i = 0; i < w.length; i++) w[i] = center[o + i]! + a * u[o + i]!;
      else for (let i = 0; i < w.length; i++) w[i] = center[o + i]! + a * u[o + i]! + b * v[o + i]!;
    }
  }

  /** The gradients of the parameters as one vector (zeros where a gradient is null). */
  readGrad(): Float64Array {
    const out = new Float64Array(this.size);
    for (const s of this.slices) {
      const g = s.tensor.grad;
      if (g === null) continue;
      const v = g.f32;
      for (let i = 0; i < v.length; i++) out[s.offset + i] = v[i]!;
    }
    return out;
  }

  checkLength(theta: ArrayLike<number>, where: string): void {
    if (theta.length !== this.size) {
      throw new Error(`landscape.${where}: a parameter vector of length ${theta.length} given, the model has ${this.size} parameters`);
    }
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** `a - b` as a new vector. */
export function sub(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}
