/**
 * The loss on a plane through a point θ* of parameter space (Li et al. 2018):
 *
 *   f(a, b) = L(θ* + a·d₁ + b·d₂)
 *
 * along two directions, by default filter-normalized random ones (directions.ts), or given
 * ones (e.g. the PCA directions of an optimizer's path, path.ts). Computed coarse to fine: the
 * points of a coarse grid (every k-th point of the fine grid) come first and are reported
 * through `onProgress`, then the rest; `signal` (an AbortSignal) cancels between rows, and
 * the loop yields to the event loop between rows so a Worker can receive a stop message.
 * The model's parameters are restored afterwards, also on cancel or error.
 */
import type { Module } from '../nn/module.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { randomDirection } from './directions.js';
import type { Evaluator } from './evaluate.js';
import { evenly } from './line.js';
import { ParamSpace } from './params.js';

export interface SurfaceOptions {
  evaluate: Evaluator;
  /** The center θ* (default: the model's current parameters). */
  center?: ArrayLike<number>;
  /** Two directions (default: filter-normalized random directions with seeds `seed`, `seed + 1`). */
  directions?: readonly [ArrayLike<number>, ArrayLike<number>];
  seed?: number;
  /** Range of a and b (default [-1, 1] both). */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
  /** Points per axis of the fine grid (default 41). */
  resolution?: number;
  /** Points per axis of the first, coarse pass (default 11, at most resolution; 0 or 1 = no coarse pass). */
  coarse?: number;
  /** Called after the coarse pass and after each row of the fine pass. */
  onProgress?: (surface: Surface) => void;
  signal?: AbortSignal;
}

export interface Surface {
  xs: number[];
  ys: number[];
  /** loss[j][i] at (xs[i], ys[j]); NaN where not computed yet. */
  loss: number[][];
  /** Same layout, when the evaluator measures accuracy. */
  accuracy: number[][] | null;
  /** Points computed so far, and in all. */
  done: number;
  total: number;
  directions: readonly [ArrayLike<number>, ArrayLike<number>];
}

const KEYS = ['evaluate', 'center', 'directions', 'seed', 'xRange', 'yRange', 'resolution', 'coarse', 'onProgress', 'signal'];

const nextTick = () => new Promise<void>((r) => setTimeout(r, 0));

function range(owner: string, name: string, r: readonly [number, number] | undefined): [number, number] {
  if (r === undefined) return [-1, 1];
  if (!Array.isArray(r) || r.length !== 2) throw new Error(`${owner}: ${name} must be [min, max]`);
  const [lo, hi] = [checkNumberOption(owner, `${name}[0]`, r[0]), checkNumberOption(owner, `${name}[1]`, r[1])];
  if (!(hi > lo)) throw new Error(`${owner}: ${name} must have min < max, got [${lo}, ${hi}]`);
  return [lo, hi];
}

export async function lossSurface(model: Module, options: SurfaceOptions): Promise<Surface> {
  const owner = 'landscape.lossSurface';
  checkOptions(owner, options, KEYS);
  if (typeof options.evaluate !== 'function') throw new TypeError(`${owner}: evaluate must be a function (see landscape.lossEvaluator)`);
  const space = new ParamSpace(model);
  const n = checkNumberOption(owner, 'resolution', options.resolution ?? 41, { integer: true, min: 2, max: 1001 });
  const coarse = checkNumberOption(owner, 'coarse', options.coarse ?? Math.min(11, n), { integer: true, min: 0, max: n });
  const seed = options.seed ?? 0;
  const saved = space.read();
  const center = options.center ?? saved;
  space.checkLength(center, 'lossSurface (center)');
  const dirs = options.directions ?? [randomDirection(model, { seed }), randomDirection(model, { seed: seed + 1 })];
  if (!Array.isArray(dirs) || dirs.length !== 2) throw new Error(`${owner}: directions must be two vectors`);
  space.checkLength(dirs[0], 'lossSurface (directions[0])');
  space.checkLength(dirs[1], 'lossSurface (directions[1])');
  const xs = evenly(...range(owner, 'xRange', options.xRange), n);
  const ys = evenly(...range(owner, 'yRange', options.yRange), n);
  const surface: Surface = {
    xs,
    ys,
    loss: ys.map(() => xs.map(() => NaN)),
    accuracy: null,
    done: 0,
    total: n * n,
    directions: dirs,
  };
  const at = (i: number, j: number) => {
    space.writeCombination(center, xs[i]!, dirs[0], ys[j]!, dirs[1]);
    const v = options.evaluate();
    surface.loss[j]![i] = v.loss;
    if (v.accuracy !== undefined) {
      surface.accuracy ??= ys.map(() => xs.map(() => NaN));
      surface.accuracy[j]![i] = v.accuracy;
    }
    surface.done++;
  };
  const cancelled = () => {
    if (options.signal?.aborted) throw new Error(`${owner}: cancelled after ${surface.done} of ${surface.total} points`);
  };
  try {
    // Coarse pass: the fine grid's points nearest to an evenly spaced coarse grid.
    const stride = coarse > 1 ? (n - 1) / (coarse - 1) : 0;
    const coarseIdx = coarse > 1 ? [...new Set(evenly(0, n - 1, coarse).map((v) => Math.round(v)))] : [];
    const isCoarse = new Set(coarseIdx);
    if (stride > 0) {
      for (const j of coarseIdx) {
        cancelled();
        for (const i of coarseIdx) at(i, j);
        await nextTick();
      }
      options.onProgress?.(surface);
    }
    for (let j = 0; j < n; j++) {
      cancelled();
      for (let i = 0; i < n; i++) if (!(isCoarse.has(i) && isCoarse.has(j))) at(i, j);
      options.onProgress?.(surface);
      await nextTick();
    }
  } finally {
    space.write(saved);
  }
  return surface;
}
