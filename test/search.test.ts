/**
 * Hyperparameter search: grids against the product enumerated by hand, seeded sampling,
 * the log-uniform distribution against its CDF (Kolmogorov-Smirnov, fixed seed, many
 * samples), minima of closed-form functions, failing trials, successive halving's rungs
 * against the recorded scores, and a real learning-rate search through fit() whose winner is
 * checked by evaluating every trained model again.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import * as nn from '../ts/nn/index.js';
import { manualSeed } from '../ts/nn/random.js';
import { Adam } from '../ts/optim/index.js';
import { DataLoader } from '../ts/data/loader.js';
import type { Dataset } from '../ts/data/dataset.js';
import { randomSplit } from '../ts/data/split.js';
import { twoSpirals } from '../ts/data/synthetic.js';
import { evaluate } from '../ts/train/fit.js';
import {
  choice, fitObjective, formatTrials, gridPoints, gridSearch, intUniform, logUniform, randomSearch, successiveHalving, uniform,
  type Trial,
} from '../ts/train/search.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

/** Trials back in the order they ran. */
function byIndex<P>(trials: Trial<P>[]): Trial<P>[] {
  return [...trials].sort((a, b) => a.index - b.index);
}

/** Kolmogorov-Smirnov distance between samples and a CDF. */
function ksDistance(samples: number[], cdf: (x: number) => number): number {
  const s = [...samples].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
  });
  return d;
}

describe('gridSearch', () => {
  it('runs every point of the product exactly once, first key slowest', async () => {
    const space = { a: choice([1, 2, 3]), b: choice(['x', 'y']), fixed: 7, u: uniform(0, 1), k: intUniform(2, 4) };
    const seen: string[] = [];
    const res = await gridSearch(space, (p) => {
      seen.push(JSON.stringify(p));
      return p.a;
    }, { steps: { u: 3 } });
    const want: string[] = [];
    for (const a of [1, 2, 3]) for (const b of ['x', 'y']) for (const u of [0, 0.5, 1]) for (const k of [2, 3, 4]) want.push(JSON.stringify({ a, b, fixed: 7, u, k }));
    expect(seen).toEqual(want);
    expect(res.trials).toHaveLength(54);
    expect(byIndex(res.trials).map((t) => JSON.stringify(t.params))).toEqual(want);
    expect(res.best!.params.a).toBe(1);
  });

  it('lays log ranges on geometric points and needs steps for continuous ranges', async () => {
    const pts = gridPoints({ lr: logUniform(1e-4, 1e-1) }, 4).map((p) => p.lr);
    expect(pts[0]).toBe(1e-4);
    expect(pts[3]).toBe(1e-1);
    for (let i = 1; i < 4; i++) expect(pts[i] / pts[i - 1]).toBeCloseTo(10, 10);
    expect(gridPoints({ n: intUniform(0, 10) }, 3).map((p) => p.n)).toEqual([0, 5, 10]);
    await expect(gridSearch({ lr: logUniform(1e-4, 1e-1) }, () => 0)).rejects.toThrow(/'lr' is a continuous range \(logUniform\(0.0001, 0.1\)\); give options.steps/);
  });

  it('finds the grid point at the minimum of a closed-form function, in either mode', async () => {
    const f = (p: { lr: number; m: number }) => (Math.log10(p.lr) + 2.5) ** 2 + (p.m - 0.3) ** 2;
    const space = { lr: logUniform(1e-5, 1), m: uniform(0, 1) };
    const res = await gridSearch(space, f, { steps: 11 });
    expect(res.trials).toHaveLength(121);
    expect(Math.log10(res.best!.params.lr)).toBeCloseTo(-2.5, 10);
    expect(res.best!.params.m).toBeCloseTo(0.3, 10);
    // Sorted ascending, best first.
    const scores = res.trials.map((t) => t.score);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    const max = await gridSearch(space, (p) => -f(p), { steps: 11, mode: 'max' });
    expect(max.best!.params).toEqual(res.best!.params);
  });
});

describe('randomSearch', () => {
  const space = { lr: logUniform(1e-5, 1e-1), drop: uniform(0, 0.5), layers: intUniform(1, 3), act: choice(['relu', 'gelu']), epochs: 5 };

  it('is reproducible with a seed, different with another, and stays in range', async () => {
    const run = async (seed: number) => byIndex((await randomSearch(space, () => 0, { trials: 200, seed })).trials).map((t) => t.params);
    const a = await run(1);
    expect(await run(1)).toEqual(a);
    const b = await run(2);
    expect(b).not.toEqual(a);
    for (const p of a) {
      expect(p.lr).toBeGreaterThanOrEqual(1e-5);
      expect(p.lr).toBeLessThan(1e-1);
      expect(p.drop).toBeGreaterThanOrEqual(0);
      expect(p.drop).toBeLessThan(0.5);
      expect(p.epochs).toBe(5);
    }
    // intUniform includes both ends; every choice appears.
    expect(new Set(a.map((p) => p.layers))).toEqual(new Set([1, 2, 3]));
    expect(new Set(a.map((p) => p.act))).toEqual(new Set(['relu', 'gelu']));
    // Trial seeds differ between trials and repeat with the search seed.
    const seeds = byIndex((await randomSearch(space, () => 0, { trials: 50, seed: 1 })).trials).map((t) => t.seed);
    expect(new Set(seeds).size).toBe(50);
  });

  it('samples logUniform with a uniform logarithm (and uniform does not)', async () => {
    const n = 20000;
    const lo = 1e-4;
    const hi = 1;
    const draw = async (p: ReturnType<typeof logUniform>) => (await randomSearch({ v: p }, () => 0, { trials: n, seed: 3 })).trials.map((t) => t.params.v);
    const logCdf = (x: number) => (Math.log(x) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
    const logs = await draw(logUniform(lo, hi));
    // KS critical value at alpha = 0.001 for n = 20000 is 1.95/sqrt(n) = 0.0138; the seed is fixed.
    expect(ksDistance(logs, logCdf)).toBeLessThan(0.0138);
    // Half the mass below the geometric midpoint 1e-2 (a linear uniform puts 1% there).
    expect(logs.filter((v) => v < 1e-2).length / n).toBeGreaterThan(0.48);
    expect(logs.filter((v) => v < 1e-2).length / n).toBeLessThan(0.52);
    const linear = await draw(uniform(lo, hi));
    expect(ksDistance(linear, logCdf)).toBeGreaterThan(0.5);
  });

  it('finds the minimum region of a closed-form function', async () => {
    const f = (p: { lr: number; m: number }) => (Math.log10(p.lr) + 2.5) ** 2 + (p.m - 0.3) ** 2;
    const res = await randomSearch({ lr: logUniform(1e-5, 1), m: uniform(0, 1) }, f, { trials: 400, seed: 5 });
    expect(Math.abs(Math.log10(res.best!.params.lr) + 2.5)).toBeLessThan(0.25);
    expect(Math.abs(res.best!.params.m - 0.3)).toBeLessThan(0.1);
    expect(res.best!.score).toBe(Math.min(...res.trials.map((t) => t.score)));
  });

  it('records throwing, NaN, infinite and non-numeric trials as failed and carries on', async () => {
    const res = await gridSearch({ x: choice([1, 2, 3, 4, 5, 6]) }, (p) => {
      if (p.x === 2) throw new Error('out of memory (simulated)');
      if (p.x === 3) return NaN;
      if (p.x === 4) return Infinity;
      if (p.x === 5) return 'oops' as unknown as number;
      return { score: 10 - p.x, note: `x was ${p.x}` };
    });
    expect(res.failed).toBe(4);
    expect(res.trials.map((t) => t.params.x)).toEqual([6, 1, 2, 3, 4, 5]); // ok ones sorted, failed in run order
    expect(res.best!.params.x).toBe(6);
    expect(res.best!.info).toEqual({ note: 'x was 6' });
    const failed = new Map(res.trials.filter((t) => !t.ok).map((t) => [t.params.x, t]));
    expect(failed.get(2)!.error).toBe('out of memory (simulated)');
    expect(failed.get(3)!.error).toMatch(/non-finite score \(NaN\)/);
    expect(failed.get(4)!.error).toMatch(/non-finite score \(Infinity\)/);
    expect(failed.get(5)!.error).toMatch(/returned "oops", not a number/);
    for (const t of failed.values()) expect(Number.isNaN(t.score)).toBe(true);
    const table = formatTrials(res);
    expect(table.split('\n')).toHaveLength(7);
    expect(table).toMatch(/failed: out of memory \(simulated\)/);
    const none = await randomSearch({ x: uniform(0, 1) }, () => NaN, { trials: 3 });
    expect(none.best).toBeNull();
    expect(none.failed).toBe(3);
  });

  it('rejects bad spaces and options with clear errors', async () => {
    expect(() => choice([])).toThrow(/choice: expects a non-empty array/);
    expect(() => uniform(1, 1)).toThrow(/uniform: lo \(1\) must be below hi \(1\)/);
    expect(() => logUniform(0, 1)).toThrow(/logUniform: lo must be positive/);
    expect(() => intUniform(1.5, 3)).toThrow(/intUniform: lo and hi must be integers/);
    await expect(randomSearch({ x: uniform(0, 1) }, () => 0, { trials: 0 })).rejects.toThrow(/trials must be a positive integer, got 0/);
    await expect(gridSearch({ x: uniform(0, 1) }, () => 0, { steps: 2, mode: 'up' as 'min' })).rejects.toThrow(/mode must be 'min' or 'max'/);
  });
});

describe('successiveHalving', () => {
  it('keeps the best 1/eta of each rung by recorded score and multiplies the budget', async () => {
    // A score that depends on the budget, so rung rankings differ: |x - 0.5| plus a bias that fades.
    const score = (x: number, budget: number) => Math.abs(x - 0.5) + Math.sin(40 * x) / budget;
    const res = await successiveHalving({ x: uniform(0, 1) }, (p, t) => score(p.x, t.budget!), { trials: 27, eta: 3, minBudget: 1, seed: 2 });
    expect(res.rungs.map((r) => r.length)).toEqual([27, 9, 3, 1]);
    expect(res.rungs.map((r) => r[0].budget)).toEqual([1, 3, 9, 27]);
    for (let r = 1; r < res.rungs.length; r++) {
      const prev = res.rungs[r - 1];
      const keep = res.rungs[r].length;
      // Survivors are exactly the best `keep` of the previous rung (configurations keep their seed).
      expect(new Set(res.rungs[r].map((t) => t.seed))).toEqual(new Set(prev.slice(0, keep).map((t) => t.seed)));
      for (const t of res.rungs[r]) expect(t.score).toBe(score(t.params.x, t.budget!));
    }
    expect(res.best).toBe(res.rungs[3][0]);
    expect(res.trials).toHaveLength(27 + 9 + 3 + 1);
    // maxBudget caps the growth and ends the search.
    const capped = await successiveHalving({ x: uniform(0, 1) }, (p, t) => score(p.x, t.budget!), { trials: 27, eta: 3, minBudget: 1, maxBudget: 5, seed: 2 });
    expect(capped.rungs.map((r) => r[0].budget)).toEqual([1, 3, 5]);
  });
});

describe('fitObjective', () => {
  let trainSet: Dataset;
  let valSet: Dataset;
  beforeAll(() => {
    [trainSet, valSet] = randomSplit(twoSpirals({ n: 400, noise: 0.05, seed: 4 }), [300, 100], { seed: 1 });
  });
  const makeRun = (lr: number, seed: number, epochs: number) => {
    manualSeed(seed);
    const model = new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 32), new nn.ReLU(), new nn.Linear(32, 2));
    return {
      model,
      train: new DataLoader(trainSet, { batchSize: 30, shuffle: true, seed }),
      val: new DataLoader(valSet, { batchSize: 100 }),
      optimizer: new Adam(model.parameters(), { lr }),
      lossFn: new nn.CrossEntropyLoss(),
      metrics: ['accuracy'],
      epochs,
    };
  };

  it('a learning-rate search picks the rate whose trained model has the lowest validation loss', async () => {
    const models = new Map<number, nn.Module>();
    const objective = fitObjective<{ lr: number }>((p, trial) => {
      const run = makeRun(p.lr, trial.seed, 15);
      models.set(trial.index, run.model);
      return run;
    }, { reduce: 'last' });
    const res = await gridSearch({ lr: choice([1e-4, 1e-3, 1e-2, 5e-2]) }, objective, { seed: 3 });
    expect(res.failed).toBe(0);
    // Evaluate every trained model again, independently of the search's bookkeeping.
    const val = new DataLoader(valSet, { batchSize: 100 });
    const loss = new Map<number, number>();
    for (const [i, m] of models) loss.set(i, (await evaluate(m, val, { lossFn: new nn.CrossEntropyLoss() })).loss);
    for (const t of res.trials) {
      expect(t.score).toBeCloseTo(loss.get(t.index)!, 5);
      expect(t.info!.epochs).toBe(15);
    }
    const bestIndex = [...loss.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0];
    expect(res.best!.index).toBe(bestIndex);
    // Too small a rate does not get far in 15 epochs.
    expect(res.best!.params.lr).not.toBe(1e-4);
    expect(res.trials[res.trials.length - 1].params.lr).toBe(1e-4);
  });

  it("scores 'best' over epochs, infers mode 'max' for accuracy, and takes epochs from a budget", async () => {
    const objective = fitObjective<{ lr: number }>((p, trial) => makeRun(p.lr, trial.seed, 99), { monitor: 'val_accuracy' });
    expect(objective.mode).toBe('max');
    const res = await successiveHalving({ lr: logUniform(1e-3, 3e-2) }, objective, { trials: 4, eta: 2, minBudget: 2, maxBudget: 4, seed: 1 });
    expect(res.mode).toBe('max');
    expect(res.rungs.map((r) => r.map((t) => t.info!.epochs))).toEqual([[2, 2, 2, 2], [4, 4]]);
    for (const r of res.rungs) {
      const scores = r.map((t) => t.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
    // A monitor that is never logged is a failed trial that says why.
    const bad = await gridSearch({ lr: choice([1e-2]) }, fitObjective<{ lr: number }>((p) => ({ ...makeRun(p.lr, 1, 1), val: null })));
    expect(bad.trials[0].ok).toBe(false);
    expect(bad.trials[0].error).toMatch(/'val_loss' is not in the epoch logs/);
  });
});

describe('examples/search_and_ensemble.ts', () => {
  it('runs: a 12-trial table, the best settings, and an ensemble below its mean member test loss', () => {
    const root = resolve(__dirname, '..');
    const out = execFileSync(resolve(root, 'node_modules/.bin/tsx'), [resolve(root, 'examples/search_and_ensemble.ts')], {
      encoding: 'utf8',
      env: { ...process.env, TREAD_THREADS: '2' },
    });
    const lines = out.split('\n');
    const head = lines.findIndex((l) => /^rank\s+trial\s+lr\s+weightDecay\s+hidden\s+val_loss/.test(l));
    expect(head).toBeGreaterThanOrEqual(0);
    const ranks = lines.slice(head + 1, head + 13).map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(ranks).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(out).toMatch(/^best: lr [\d.e+-]+, weight decay [\d.e+-]+, hidden \d+/m);
    const memberLoss = [...out.matchAll(/^member \d: test loss ([\d.]+)/gm)].map((m) => Number(m[1]));
    expect(memberLoss).toHaveLength(5);
    const ensembleLoss = Number(/^ensemble: test loss ([\d.]+)/m.exec(out)![1]);
    expect(ensembleLoss).toBeLessThan(memberLoss.reduce((a, b) => a + b, 0) / 5);
  });
});
