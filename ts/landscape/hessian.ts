/**
 * Sharpness: the largest eigenvalues of the Hessian of the loss, by power iteration on
 * Hessian-vector products. A product is a central difference of gradients,
 *
 *   H·v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / (2ε),   ‖v‖ = 1,
 *
 * exact for a quadratic up to rounding and O(ε²) otherwise, two backward passes over the
 * fixed batches per iteration. The k-th eigenvalue is found with the iterate kept orthogonal
 * to the ones found before (deflation); power iteration finds the eigenvalues largest in
 * magnitude. The model is evaluated in eval mode (dropout off, BatchNorm running statistics)
 * and its parameters, mode and gradients are restored afterwards.
 */
import type { Module } from '../nn/module.js';
import { mul } from '../ops/arith.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/lifetime.js';
import type { Callback, TrainContext } from '../train/callbacks.js';
import { Rng } from '../data/random.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import type { LossFunction } from './evaluate.js';
import { dot, norm, ParamSpace } from './params.js';

export interface HessianOptions {
  /** How many eigenvalues (default 1). */
  k?: number;
  /** Power iterations at most, per eigenvalue (default 50). */
  iterations?: number;
  /** Stop when the Rayleigh quotient changes by less than this, relatively (default 1e-4). */
  tolerance?: number;
  /** Step of the finite difference (default 1e-3). */
  eps?: number;
  /** Seed of the starting vector (default 0). */
  seed?: number;
}

export interface HessianEigen {
  values: number[];
  vectors: Float64Array[];
  /** Iterations used per eigenvalue. */
  iterations: number[];
}

const KEYS = ['k', 'iterations', 'tolerance', 'eps', 'seed'];

/** ∇L(θ) over the batches (mean over all rows), as a flat vector. */
function gradientAt(model: Module, space: ParamSpace, lossFn: LossFunction, batches: readonly (readonly [Tensor, Tensor])[], theta: ArrayLike<number>): Float64Array {
  const forward = typeof lossFn === 'function' ? lossFn : (o: Tensor, t: Tensor) => lossFn.forward(o, t);
  space.write(theta);
  for (const s of space.slices) s.tensor.grad?.f32.fill(0);
  const rows = batches.reduce((n, [x]) => n + (x.shape[0] ?? 1), 0);
  for (const [x, y] of batches) {
    tidy(() => {
      const loss = forward(model.forward(x), y);
      mul(loss, (x.shape[0] ?? 1) / rows).backward();
    });
  }
  return space.readGrad();
}

export function hessianEigenvalues(
  model: Module,
  lossFn: LossFunction,
  batches: readonly (readonly [Tensor, Tensor])[],
  options: HessianOptions = {},
): HessianEigen {
  const owner = 'landscape.hessianEigenvalues';
  checkOptions(owner, options, KEYS);
  const k = checkNumberOption(owner, 'k', options.k ?? 1, { integer: true, min: 1, max: 16 });
  const maxIter = checkNumberOption(owner, 'iterations', options.iterations ?? 50, { integer: true, min: 1 });
  const tol = checkNumberOption(owner, 'tolerance', options.tolerance ?? 1e-4, { min: 0 });
  const eps = checkNumberOption(owner, 'eps', options.eps ?? 1e-3, { min: 0, minExclusive: true });
  if (batches.length === 0) throw new Error(`${owner}: no batches given`);
  const space = new ParamSpace(model);
  const theta = space.read();
  const savedGrads = space.slices.map((s) => (s.tensor.grad ? s.tensor.grad.f32.slice() : null));
  const wasTraining = model.training;
  const rng = new Rng(options.seed ?? 0, 0x68657373);
  const plus = new Float64Array(theta.length);
  const minus = new Float64Array(theta.length);
  const hvp = (v: Float64Array): Float64Array => {
    for (let i = 0; i < theta.length; i++) {
      plus[i] = theta[i]! + eps * v[i]!;
      minus[i] = theta[i]! - eps * v[i]!;
    }
    const gp = gradientAt(model, space, lossFn, batches, plus);
    const gm = gradientAt(model, space, lossFn, batches, minus);
    for (let i = 0; i < gp.length; i++) gp[i] = (gp[i]! - gm[i]!) / (2 * eps);
    return gp;
  };
  const deflate = (v: Float64Array, found: Float64Array[]) => {
    for (const u of found) {
      const c = dot(v, u);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! - c * u[i]!;
    }
    const n = norm(v);
    if (n > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  };
  const out: HessianEigen = { values: [], vectors: [], iterations: [] };
  model.eval();
  try {
    for (let e = 0; e < k; e++) {
      let v: Float64Array = new Float64Array(theta.length);
      for (let i = 0; i < v.length; i++) v[i] = rng.normal();
      deflate(v, out.vectors);
      let lambda = NaN;
      let it = 0;
      for (; it < maxIter; it++) {
        const hv = hvp(v);
        const next = dot(v, hv);
        deflate(hv, out.vectors);
        if (norm(hv) === 0) {
          lambda = next;
          break;
        }
        v = hv;
        const converged = Math.abs(next - lambda) <= tol * Math.abs(next);
        lambda = next;
        if (converged) break;
      }
      out.values.push(lambda);
      out.vectors.push(v);
      out.iterations.push(Math.min(it + 1, maxIter));
    }
  } finally {
    space.write(theta);
    space.slices.forEach((s, i) => {
      const g = savedGrads[i];
      if (g === null) s.tensor.grad = null; // made by this function: gone again
      else s.tensor.grad?.f32.set(g);
    });
    model.train(wasTraining);
  }
  return out;
}

/** A fit() callback that logs the top Hessian eigenvalue as `sharpness` at the end of each epoch. */
export class SharpnessCallback implements Callback {
  constructor(
    readonly lossFn: LossFunction,
    readonly batches: readonly (readonly [Tensor, Tensor])[],
    readonly options: HessianOptions = {},
  ) {
    checkOptions('SharpnessCallback', options, KEYS);
  }

  onEpochEnd = (ctx: TrainContext) => {
    const { values } = hessianEigenvalues(ctx.model as unknown as Module, this.lossFn, this.batches, { ...this.options, k: 1 });
    ctx.logs.sharpness = values[0]!;
  };
}
