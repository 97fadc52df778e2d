/**
 * The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural
 * Networks", 2017; the "lr finder" of fastai): train for `steps` batches while the lr grows
 * exponentially from `startLr` to `endLr`, record the (exponentially smoothed, bias-corrected)
 * loss, stop when it exceeds `divergeFactor` times its best, and put the model back as it was.
 *
 * `suggestion` is the lr where the smoothed loss falls fastest against log(lr) (the steepest
 * descent; fastai's "steep"), and `minLossLr / 10` the other classic rule; both are reported.
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { BatchSource, LossFn } from '../train/fit.js';
import type { OptimizerLike } from '../train/types.js';
import { checkNumberOption, checkOptions } from '../util/options.js';

export interface LrFinderOptions {
  /** Batches to draw from (cycled if it has fewer than `steps`). */
  train: BatchSource;
  /** Makes a fresh optimizer for the model's parameters (its lr is overwritten each step). */
  optimizer: (params: Tensor[]) => OptimizerLike;
  lossFn: LossFn;
  startLr?: number;
  endLr?: number;
  steps?: number;
  /** Weight of the past in the smoothed loss (default 0.98). */
  smoothing?: number;
  /** Stop when the smoothed loss exceeds this many times its minimum (default 4). */
  divergeFactor?: number;
}

export interface LrFinderResult {
  lrs: number[];
  /** Smoothed (bias-corrected) losses, one per lr. */
  losses: number[];
  raw: number[];
  /** The lr of steepest descent of the smoothed loss. */
  suggestion: number;
  /** The lr of the lowest smoothed loss. */
  minLossLr: number;
  /** The lr at which the run stopped as diverged, or null. */
  divergedAt: number | null;
}

const KEYS = ['train', 'optimizer', 'lossFn', 'startLr', 'endLr', 'steps', 'smoothing', 'divergeFactor'];

async function* cycle(source: BatchSource): AsyncGenerator<readonly Tensor[]> {
  for (;;) {
    let any = false;
    for await (const b of source as AsyncIterable<readonly Tensor[]>) {
      any = true;
      yield b;
    }
    if (!any) throw new Error('lrFinder: the training data gave no batches');
  }
}

export async function lrFinder(model: Module, options: LrFinderOptions): Promise<LrFinderResult> {
  const owner = 'lrFinder';
  checkOptions(owner, options, KEYS);
  const startLr = checkNumberOption(owner, 'startLr', options.startLr ?? 1e-7, { min: 0, minExclusive: true });
  const endLr = checkNumberOption(owner, 'endLr', options.endLr ?? 10, { min: startLr, minExclusive: true });
  const steps = checkNumberOption(owner, 'steps', options.steps ?? 100, { integer: true, min: 2 });
  const beta = checkNumberOption(owner, 'smoothing', options.smoothing ?? 0.98, { min: 0, max: 1, maxExclusive: true });
  const diverge = checkNumberOption(owner, 'divergeFactor', options.divergeFactor ?? 4, { min: 1, minExclusive: true });
  if (typeof options.optimizer !== 'function') throw new TypeError(`${owner}: optimizer must be a function (params) => optimizer, e.g. (p) => new optim.SGD(p, { lr: 1e-3 })`);
  const forward = typeof options.lossFn === 'function' ? options.lossFn : (o: Tensor, t: Tensor) => (options.lossFn as { forward(o: Tensor, t: Tensor): Tensor }).forward(o, t);
  const params = model.parameters();
  const saved = [...params, ...model.buffers()].map((t) => t.data.slice());
  const savedGrads = params.map((p) => p.grad);
  const wasTraining = model.training;
  const opt = options.optimizer(params);
  const out: LrFinderResult = { lrs: [], losses: [], raw: [], suggestion: NaN, minLossLr: NaN, divergedAt: null };
  let avg = 0;
  let best = Infinity;
  model.train(true);
  try {
    const it = cycle(options.train);
    for (let i = 0; i < steps; i++) {
      const lr = startLr * (endLr / startLr) ** (i / (steps - 1));
      for (const g of opt.paramGroups) g.lr = lr;
      const { value } = await it.next();
      const [x, y] = value as readonly Tensor[];
      opt.zeroGrad();
      let l: number;
      try {
        const loss = forward(model.forward(x!), y!);
        l = loss.item();
        if (!Number.isFinite(l)) throw new Error('non-finite loss');
        loss.backward();
        opt.step();
      } catch {
        out.divergedAt = lr;
        break;
      }
      avg = beta * avg + (1 - beta) * l;
      const smooth = avg / (1 - beta ** (i + 1));
      out.lrs.push(lr);
      out.raw.push(l);
      out.losses.push(smooth);
      best = Math.min(best, smooth);
      if (smooth > diverge * best) {
        out.divergedAt = lr;
        break;
      }
    }
  } finally {
    [...params, ...model.buffers()].forEach((t, i) => t.data.set(saved[i]!));
    params.forEach((p, i) => (p.grad = savedGrads[i]!));
    model.train(wasTraining);
  }
  if (out.losses.length < 2) throw new Error(`${owner}: the loss diverged within ${out.losses.length} step(s) at lr ${startLr}; lower startLr`);
  let iMin = 0;
  out.losses.forEach((v, i) => (v < out.losses[iMin]! ? (iMin = i) : 0));
  out.minLossLr = out.lrs[iMin]!;
  // Steepest descent: the most negative d(loss)/d(log lr) before the minimum, by central
  // differences over a window of ±n/25 points, skipping the first tenth of the range (as
  // fastai's skip_start): at tiny rates the loss does not move and its slope is batch noise.
  const n = out.losses.length;
  const k = Math.max(1, Math.round(n / 25));
  const first = Math.max(k, Math.floor(n / 10));
  let iSteep = Math.min(first, n - 1);
  let slope = Infinity;
  for (let i = first; i < Math.min(iMin, n - k); i++) {
    const s = (out.losses[i + k]! - out.losses[i - k]!) / Math.log(out.lrs[i + k]! / out.lrs[i - k]!);
    if (s < slope) {
      slope = s;
      iSteep = i;
    }
  }
  out.suggestion = out.lrs[iSteep]!;
  return out;
}
