/**
 * An optimizer's path through parameter space, and the plane that shows it best (Li et al.
 * 2018, section 7): with snapshots θ₀ … θₙ and the final point θ*, the directions are the
 * top two principal components of the differences Δᵢ = θᵢ − θ*, and each snapshot is drawn
 * at (⟨Δᵢ, d₁⟩, ⟨Δᵢ, d₂⟩). The PCA is done on the n×n Gram matrix ΔΔᵀ (n snapshots, far fewer
 * than parameters), so it costs n² dot products and no D×D matrix.
 *
 * `PathRecorder` is a fit() callback that takes the snapshots (every epoch, or every k steps).
 */
import type { Module } from '../nn/module.js';
import type { Callback, TrainContext } from '../train/callbacks.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { symmetricEigen } from './eigen.js';
import { dot, ParamSpace, sub } from './params.js';

export interface PathProjection {
  /** Unit directions d₁, d₂ in parameter space (orthogonal). */
  directions: [Float64Array, Float64Array];
  /** (x, y) of every snapshot relative to the final point. */
  coords: [number, number][];
  /** Fraction of the path's variance along d₁ and d₂. */
  explained: [number, number];
}

/** Projects `snapshots` (flat vectors) onto the top two PCA directions of their differences to `final`. */
export function projectPath(snapshots: readonly ArrayLike<number>[], final: ArrayLike<number>): PathProjection {
  if (snapshots.length < 2) throw new Error(`landscape.projectPath: needs at least 2 snapshots, got ${snapshots.length}`);
  for (const [i, s] of snapshots.entries()) {
    if (s.length !== final.length) throw new Error(`landscape.projectPath: snapshot ${i} has ${s.length} values, the final point ${final.length}`);
  }
  const deltas = snapshots.map((s) => sub(s, final));
  const n = deltas.length;
  const gram = deltas.map((a, i) => deltas.map((b, j) => (j < i ? 0 : dot(a, b))));
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) gram[i]![j] = gram[j]![i]!;
  const { values, vectors } = symmetricEigen(gram);
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
  const dirs = [0, 1].map((k) => {
    const d = new Float64Array(final.length);
    const lambda = values[k]!;
    if (!(lambda > 1e-12 * (total || 1))) return d; // a path on a line: the second direction is zero
    const u = vectors[k]!;
    for (let i = 0; i < n; i++) {
      const w = u[i]! / Math.sqrt(lambda);
      const di = deltas[i]!;
      for (let p = 0; p < d.length; p++) d[p] = d[p]! + w * di[p]!;
    }
    return d;
  }) as [Float64Array, Float64Array];
  return {
    directions: dirs,
    coords: deltas.map((d) => [dot(d, dirs[0]), dot(d, dirs[1])]),
    explained: [total > 0 ? Math.max(values[0]!, 0) / total : 0, total > 0 ? Math.max(values[1] ?? 0, 0) / total : 0],
  };
}

export interface PathRecorderOptions {
  /** Take a snapshot every `everySteps` optimizer steps (default: once per epoch, at its end). */
  everySteps?: number;
}

/** A fit() callback that records the parameters (at the start, then per epoch or per k steps). */
export class PathRecorder implements Callback {
  readonly snapshots: Float64Array[] = [];
  /** The global step of each snapshot. */
  readonly steps: number[] = [];
  private space: ParamSpace | null = null;
  private readonly every: number | null;

  constructor(readonly model: Module, options: PathRecorderOptions = {}) {
    checkOptions('PathRecorder', options, ['everySteps']);
    this.every = options.everySteps === undefined ? null : checkNumberOption('PathRecorder', 'everySteps', options.everySteps, { integer: true, min: 1 });
  }

  private take(step: number): void {
    this.space ??= new ParamSpace(this.model);
    this.snapshots.push(this.space.read());
    this.steps.push(step);
  }

  onTrainBegin = (ctx: TrainContext) => this.take(ctx.globalStep);
  onBatchEnd = (ctx: TrainContext) => {
    if (this.every !== null && ctx.globalStep % this.every === 0) this.take(ctx.globalStep);
  };
  onEpochEnd = (ctx: TrainContext) => {
    if (this.every === null) this.take(ctx.globalStep);
  };

  /** The projection of the recorded path onto its PCA plane around the last snapshot. */
  project(): PathProjection {
    return projectPath(this.snapshots, this.snapshots[this.snapshots.length - 1]!);
  }
}
