/**
 * Optimizers on the test functions: the real optimizers of tread.optim (their fused wasm
 * kernels) move a float32 parameter (x, y); the gradient comes from the function's closed
 * form in float64. Every optimizer gets the same step budget; `tuneLearningRate` picks each
 * one's lr by tread's own grid search (train/search.ts gridSearch over a log-spaced grid,
 * scored by the mean function value over the last quarter of the steps, a diverged run
 * scoring +Infinity).
 */
import { Rng } from '../data/random.js';
import { Parameter } from '../nn/module.js';
import * as optim from '../optim/index.js';
import { Tensor } from '../tensor/tensor.js';
import { gridSearch, logUniform } from '../train/search.js';
import { checkNumberOption, checkOneOf, checkOptions } from '../util/options.js';
import type { TestFunction } from './test_functions.js';

export const OPTIMIZER_NAMES = ['SGD', 'Adagrad', 'RMSprop', 'Adadelta', 'Adam', 'AdamW', 'Adamax', 'NAdam', 'RAdam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerPathOptions {
  optimizer: OptimizerName;
  /** The optimizer's options (lr required for SGD), as its constructor takes them. */
  options?: Record<string, unknown>;
  /** Steps (default 200). */
  steps?: number;
  /** Start point (default: the function's customary start). */
  start?: readonly [number, number];
  /** Seed of the gradient noise of noisy functions (default 0). */
  seed?: number;
  /** A run whose point leaves |x|, |y| <= this, or becomes non-finite, has diverged (default 1e6). */
  divergeAt?: number;
}

export interface OptimizerPath {
  optimizer: OptimizerName;
  options: Record<string, unknown>;
  /** The points, the start first (steps + 1 of them unless the run diverged). */
  path: [number, number][];
  values: number[];
  diverged: boolean;
  /**
   * On a function without a minimum (a saddle), the run stops when it leaves the plot window:
   * downhill of its start it escaped the saddle, at step `path.length - 1`; uphill it counts
   * as diverged (an overshoot along a stable direction).
   */
  escaped: boolean;
  /**
   * Lower is better. Mean f over the last quarter of the steps; +Infinity when diverged; on a
   * saddle, an escaped run scores -steps + (its escape step), below every run that stayed.
   */
  score: number;
}

const KEYS = ['optimizer', 'options', 'steps', 'start', 'seed', 'divergeAt'];

function makeOptimizer(name: OptimizerName, params: Parameter[], options: Record<string, unknown>): optim.Optimizer<any> {
  const C = (optim as unknown as Record<string, new (p: Parameter[], o: Record<string, unknown>) => optim.Optimizer<any>>)[name]!;
  return new C(params, options);
}

export function optimizerPath(fn: TestFunction, options: OptimizerPathOptions): OptimizerPath {
  const owner = 'landscape.optimizerPath';
  checkOptions(owner, options, KEYS);
  const name = checkOneOf(owner, 'optimizer', options.optimizer, OPTIMIZER_NAMES);
  const steps = checkNumberOption(owner, 'steps', options.steps ?? 200, { integer: true, min: 1 });
  const limit = checkNumberOption(owner, 'divergeAt', options.divergeAt ?? 1e6, { min: 0, minExclusive: true });
  const start = options.start ?? fn.start;
  const p = new Parameter([2]);
  p.f32[0] = start[0];
  p.f32[1] = start[1];
  const g = Tensor.empty([2]).keep();
  p.grad = g;
  const opts = { ...(options.options ?? {}) };
  const opt = makeOptimizer(name, [p], opts);
  const rng = new Rng(options.seed ?? 0, 0x70617468);
  const path: [number, number][] = [[p.f32[0]!, p.f32[1]!]];
  const values = [fn.f(path[0]![0], path[0]![1])];
  let diverged = false;
  let escaped = false;
  const outside = (q: readonly [number, number]) =>
    fn.minimum === null && (q[0] < fn.xRange[0] || q[0] > fn.xRange[1] || q[1] < fn.yRange[0] || q[1] > fn.yRange[1]);
  try {
    for (let t = 0; t < steps; t++) {
      const [x, y] = [p.f32[0]!, p.f32[1]!];
      const [gx, gy] = fn.grad(x, y, rng);
      if (!Number.isFinite(gx) || !Number.isFinite(gy) || Math.abs(gx) > 3e38 || Math.abs(gy) > 3e38) {
        diverged = true;
        break;
      }
      g.f32[0] = gx;
      g.f32[1] = gy;
      opt.step();
      const q: [number, number] = [p.f32[0]!, p.f32[1]!];
      if (!(Math.abs(q[0]) <= limit && Math.abs(q[1]) <= limit)) {
        diverged = true;
        break;
      }
      path.push(q);
      values.push(fn.f(q[0], q[1]));
      if (outside(q)) {
        // Left the window downhill: escaped the saddle. Uphill (an overshoot along a stable
        // direction): that is no escape, it is a step too large, scored as diverged.
        if (values[values.length - 1]! < values[0]!) escaped = true;
        else diverged = true;
        break;
      }
    }
  } finally {
    p.dispose();
    g.dispose();
  }
  const tail = values.slice(Math.floor((values.length * 3) / 4));
  const score = diverged ? Infinity : escaped ? -1e300 * (1 - (path.length - 1) / (steps + 1)) : tail.reduce((s, v) => s + v, 0) / tail.length;
  return { optimizer: name, options: opts, path, values, diverged, escaped, score };
}

export interface TuneOptions {
  steps?: number;
  /** lr range searched, log-spaced (default [1e-4, 1]). */
  lrRange?: readonly [number, number];
  /** Grid points (default 17: 4 per decade over [1e-4, 1]). */
  points?: number;
  /** Fixed options besides lr (e.g. { momentum: 0.9 }). */
  options?: Record<string, unknown>;
  seed?: number;
}

/** The lr (and its path) with the best score for `optimizer` on `fn`, by gridSearch. */
export async function tuneLearningRate(fn: TestFunction, optimizer: OptimizerName, options: TuneOptions = {}): Promise<OptimizerPath> {
  const owner = 'landscape.tuneLearningRate';
  checkOptions(owner, options, ['steps', 'lrRange', 'points', 'options', 'seed']);
  const [lo, hi] = options.lrRange ?? [1e-4, 1];
  const points = checkNumberOption(owner, 'points', options.points ?? 17, { integer: true, min: 2 });
  const run = (lr: number) => optimizerPath(fn, { optimizer, options: { ...options.options, lr }, steps: options.steps, seed: options.seed });
  const result = await gridSearch({ lr: logUniform(lo, hi) }, ({ lr }) => {
    const s = run(lr).score;
    return Number.isFinite(s) ? s : Number.MAX_VALUE; // diverged: worst, but not a failed trial
  }, { mode: 'min', steps: points });
  if (!result.best) throw new Error(`${owner}: every trial failed`);
  return run(result.best.params.lr);
}
