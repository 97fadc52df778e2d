/**
 * tread.landscape against closed forms: a quadratic model's surface and Hessian, the
 * per-filter norms of Li et al.'s directions, an exactly planar path, the test functions'
 * gradients (finite differences), and the textbook behaviour of gradient descent on a
 * quadratic (stable below lr = 2/λmax, divergent above; heavy ball faster when ill-conditioned).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { symmetricEigen } from '../ts/landscape/eigen.js';
import { Rng } from '../ts/data/random.js';

const { nn, landscape } = tread;

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

/** Q·diag(λ)·Qᵀ with a fixed rotation Q (3x3), as nested arrays. */
function spd(lambdas: [number, number, number]): number[][] {
  const a = 0.3, b = -0.7;
  const rx = [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]];
  const rz = [[Math.cos(b), -Math.sin(b), 0], [Math.sin(b), Math.cos(b), 0], [0, 0, 1]];
  const q = rx.map((row) => [0, 1, 2].map((j) => row.reduce((s, v, k) => s + v * rz[k]![j]!, 0)));
  return [0, 1, 2].map((i) => [0, 1, 2].map((j) => lambdas.reduce((s, l, k) => s + q[i]![k]! * l * q[j]![k]!, 0)));
}

/** f(w) = ½ wᵀAw as a Module whose forward takes A and returns the scalar. */
class Quadratic extends nn.Module {
  w = new nn.Parameter([3]);
  forward(a: tread.Tensor): tread.Tensor {
    const aw = tread.reshape(tread.matmul(a, tread.reshape(this.w, [3, 1])), [3]);
    return tread.mul(tread.sum(tread.mul(this.w, aw)), 0.5);
  }
}

describe('landscape on a quadratic (closed form)', () => {
  const A = spd([6, 2, 0.5]);
  const quad = (w: ArrayLike<number>) => 0.5 * [0, 1, 2].reduce((s, i) => s + w[i]! * [0, 1, 2].reduce((t, j) => t + A[i]![j]! * w[j]!, 0), 0);

  it('the 2-D surface equals ½θᵀAθ at every grid point, and the parameters are restored', async () => {
    const model = new Quadratic();
    model.w.f32.set([0.4, -0.2, 0.9]);
    const batches = [[tread.tensor(A).keep(), tread.tensor([0]).keep()] as const];
    const evaluate = landscape.lossEvaluator(model, (out) => out, batches);
    const d1 = new Float64Array([1, 0.5, -0.25]);
    const d2 = new Float64Array([-0.3, 1, 0.2]);
    const s = await landscape.lossSurface(model, { evaluate, directions: [d1, d2], resolution: 9, coarse: 3, xRange: [-2, 2], yRange: [-1, 1] });
    const c = [0.4, -0.2, 0.9].map((v) => Math.fround(v));
    let worst = 0;
    s.ys.forEach((b, j) => s.xs.forEach((a, i) => {
      const w = c.map((ci, k) => Math.fround(ci + a * d1[k]! + b * d2[k]!));
      worst = Math.max(worst, Math.abs(s.loss[j]![i]! - quad(w)) / (1 + quad(w)));
    }));
    expect(worst).toBeLessThan(2e-6);
    expect(s.done).toBe(81);
    expect([...model.w.f32]).toEqual(c);
  });

  it('finds the top Hessian eigenvalues (6 and 2) by power iteration on gradient differences', () => {
    const model = new Quadratic();
    model.w.f32.set([0.1, 0.3, -0.2]);
    const batches = [[tread.tensor(A).keep(), tread.tensor([0]).keep()] as const];
    const before = [...model.w.f32];
    const r = landscape.hessianEigenvalues(model, (out) => out, batches, { k: 2, iterations: 200, tolerance: 1e-9, eps: 0.1 });
    expect(r.values[0]).toBeCloseTo(6, 3);
    expect(r.values[1]).toBeCloseTo(2, 3);
    // The eigenvector satisfies A v = λ v.
    const v = r.vectors[0]!;
    const av = [0, 1, 2].map((i) => [0, 1, 2].reduce((t, j) => t + A[i]![j]! * v[j]!, 0));
    for (let i = 0; i < 3; i++) expect(av[i]).toBeCloseTo(6 * v[i]!, 3);
    expect([...model.w.f32]).toEqual(before);
    expect(model.w.grad).toBeNull();
  });

  it('the Jacobi eigen-solver recovers a known spectrum', () => {
    const { values } = symmetricEigen(spd([6, 2, 0.5]));
    expect(values[0]).toBeCloseTo(6, 12);
    expect(values[1]).toBeCloseTo(2, 12);
    expect(values[2]).toBeCloseTo(0.5, 12);
  });

  it('linear regression: the sharpness equals the top eigenvalue of (2/N)[X 1]ᵀ[X 1]', () => {
    tread.nn.manualSeed(3);
    const rng = new Rng(5);
    const n = 64;
    const xs = Array.from({ length: n * 3 }, () => rng.normal() * (1 + rng.uniform()));
    const ys = Array.from({ length: n }, () => rng.normal());
    const model = new nn.Sequential(new nn.Linear(3, 1));
    const batches = [[tread.tensor(xs, [n, 3]).keep(), tread.tensor(ys, [n, 1]).keep()] as const];
    const mse = new nn.MSELoss();
    const h = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => {
      let s = 0;
      for (let r = 0; r < n; r++) s += (i < 3 ? xs[r * 3 + i]! : 1) * (j < 3 ? xs[r * 3 + j]! : 1);
      return (2 / n) * s;
    }));
    const top = symmetricEigen(h).values[0]!;
    const r = landscape.hessianEigenvalues(model, mse, batches, { iterations: 300, tolerance: 1e-10, eps: 0.05 });
    expect(Math.abs(r.values[0]! - top) / top).toBeLessThan(1e-3);
  });
});

describe('filter-normalized directions (Li et al. 2018)', () => {
  it('each filter of a direction has the norm of the weight filter; biases and BatchNorm are zero', () => {
    nn.manualSeed(1);
    const model = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.Flatten(), new nn.Linear(16, 5));
    const d = landscape.randomDirection(model, { seed: 7 });
    const space = new landscape.ParamSpace(model);
    for (const s of space.slices) {
      const w = s.tensor.f32;
      if (s.tensor.ndim <= 1) {
        for (let i = 0; i < w.length; i++) expect(d[s.offset + i]).toBe(0);
        continue;
      }
      const rows = s.tensor.shape[0]!;
      const len = w.length / rows;
      for (let r = 0; r < rows; r++) {
        let nw = 0, nd = 0;
        for (let i = 0; i < len; i++) {
          nw += w[r * len + i]! ** 2;
          nd += d[s.offset + r * len + i]! ** 2;
        }
        expect(Math.sqrt(nd)).toBeCloseTo(Math.sqrt(nw), 8);
      }
    }
    expect([...landscape.randomDirection(model, { seed: 7 })]).toEqual([...d]);
    expect([...landscape.randomDirection(model, { seed: 8 })]).not.toEqual([...d]);
    expect(() => landscape.randomDirection(model, { normalise: 'filter' } as any)).toThrow(/did you mean 'normalize'/);
  });
});

describe('optimizer paths on the PCA plane', () => {
  it('a path that lies in a plane is projected exactly', () => {
    const rng = new Rng(11);
    const D = 40;
    const final = Float64Array.from({ length: D }, () => rng.normal());
    const u = Float64Array.from({ length: D }, () => rng.normal());
    const v = Float64Array.from({ length: D }, () => rng.normal());
    const coef = Array.from({ length: 12 }, (_, i) => [Math.cos(i) * (12 - i), Math.sin(2 * i) * 0.5 * (12 - i)] as const);
    const snaps = coef.map(([a, b]) => final.map((f, k) => f + a * u[k]! + b * v[k]!));
    const p = landscape.projectPath(snaps, final);
    expect(p.explained[0] + p.explained[1]).toBeCloseTo(1, 10);
    const [d1, d2] = p.directions;
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);
    expect(dot(d1, d1)).toBeCloseTo(1, 10);
    expect(dot(d2, d2)).toBeCloseTo(1, 10);
    expect(dot(d1, d2)).toBeCloseTo(0, 10);
    snaps.forEach((s, i) => {
      const [x, y] = p.coords[i]!;
      for (let k = 0; k < D; k++) expect(final[k]! + x * d1[k]! + y * d2[k]!).toBeCloseTo(s[k]!, 9);
    });
  });

  it('PathRecorder records fit()\'s path; the line from init to the end passes through both losses', async () => {
    nn.manualSeed(2);
    const data = tread.data.twoSpirals({ n: 128, noise: 0.05, seed: 1 });
    const train = new tread.data.DataLoader(data, { batchSize: 32, shuffle: true, seed: 3 });
    const model = new nn.Sequential(new nn.Linear(2, 16), new nn.Tanh(), new nn.Linear(16, 2));
    const lossFn = new nn.CrossEntropyLoss();
    const space = new landscape.ParamSpace(model);
    const init = space.read();
    const recorder = new landscape.PathRecorder(model);
    await tread.fit(model, { train, optimizer: new tread.optim.Adam(model.parameters(), { lr: 0.02 }), lossFn, epochs: 4, callbacks: [recorder] });
    expect(recorder.snapshots.length).toBe(5);
    expect([...recorder.snapshots[0]!]).toEqual([...init]);
    const trained = space.read();
    const [[x, y]] = [...new tread.data.DataLoader(data, { batchSize: 128 })];
    const batches = [[x!.keep(), y!.keep()] as const];
    const evaluate = landscape.lossEvaluator(model, lossFn, batches, { accuracy: true });
    const atTrained = evaluate();
    space.write(init);
    const atInit = evaluate();
    space.write(trained);
    const line = landscape.linePath(model, { from: init, to: trained, evaluate, alphas: [0, 0.5, 1] });
    expect(line.values[0]!.loss).toBeCloseTo(atInit.loss, 6);
    expect(line.values[2]!.loss).toBeCloseTo(atTrained.loss, 6);
    expect(line.values[2]!.accuracy).toBe(atTrained.accuracy);
    expect([...space.read()]).toEqual([...trained]);
    const proj = recorder.project();
    expect(proj.coords.at(-1)).toEqual([0, 0]);
    expect(proj.explained[0]).toBeGreaterThan(0.5);
  });

  it('the surface streams a coarse pass first and can be cancelled, restoring the parameters', async () => {
    const model = new Quadratic();
    model.w.f32.set([1, 2, 3]);
    const batches = [[tread.tensor(spd([1, 1, 1])).keep(), tread.tensor([0]).keep()] as const];
    const evaluate = landscape.lossEvaluator(model, (out) => out, batches);
    const seen: number[] = [];
    const ctl = new AbortController();
    const run = landscape.lossSurface(model, {
      evaluate, resolution: 21, coarse: 5, directions: [[1, 0, 0], [0, 1, 0]],
      onProgress: (s) => {
        seen.push(s.done);
        if (seen.length === 2) ctl.abort();
      },
      signal: ctl.signal,
    });
    await expect(run).rejects.toThrow(/cancelled after \d+ of 441 points/);
    expect(seen[0]).toBe(25);
    expect([...model.w.f32]).toEqual([1, 2, 3]);
  });
});

describe('optimizers on test functions', () => {
  it('every test function\'s gradient matches central finite differences', () => {
    const rng = new Rng(3);
    for (const fn of landscape.standardTestFunctions().filter((f) => !f.noisy)) {
      for (let t = 0; t < 5; t++) {
        const x = fn.xRange[0] + rng.uniform() * (fn.xRange[1] - fn.xRange[0]);
        const y = fn.yRange[0] + rng.uniform() * (fn.yRange[1] - fn.yRange[0]);
        const h = 1e-6;
        const [gx, gy] = fn.grad(x, y, rng);
        const fx = (fn.f(x + h, y) - fn.f(x - h, y)) / (2 * h);
        const fy = (fn.f(x, y + h) - fn.f(x, y - h)) / (2 * h);
        expect(Math.abs(gx - fx)).toBeLessThan(1e-4 * (1 + Math.abs(fx)));
        expect(Math.abs(gy - fy)).toBeLessThan(1e-4 * (1 + Math.abs(fy)));
      }
    }
  });

  it('gradient descent on a quadratic converges below lr = 2/λmax and diverges above it', () => {
    const q = landscape.quadratic([25, 1]);
    const below = landscape.optimizerPath(q, { optimizer: 'SGD', options: { lr: 0.95 * (2 / 25) }, steps: 1000 });
    const above = landscape.optimizerPath(q, { optimizer: 'SGD', options: { lr: 1.05 * (2 / 25) }, steps: 1000 });
    expect(below.diverged).toBe(false);
    expect(below.values.at(-1)!).toBeLessThan(1e-8);
    expect(above.diverged || above.values.at(-1)! > above.values[0]!).toBe(true);
  });

  it('heavy ball beats plain SGD on an ill-conditioned quadratic at the same lr and budget', () => {
    const q = landscape.quadratic([100, 1]);
    const plain = landscape.optimizerPath(q, { optimizer: 'SGD', options: { lr: 0.01 }, steps: 200 });
    const heavy = landscape.optimizerPath(q, { optimizer: 'SGD', options: { lr: 0.01, momentum: 0.9 }, steps: 200 });
    expect(heavy.values.at(-1)!).toBeLessThan(plain.values.at(-1)! * 1e-3);
  });

  it('every optimizer runs on every function; a tuned lr brings SGD to Booth\'s minimum', async () => {
    for (const fn of landscape.standardTestFunctions()) {
      for (const name of landscape.OPTIMIZER_NAMES) {
        const r = landscape.optimizerPath(fn, { optimizer: name, options: { lr: 0.01 }, steps: 50 });
        expect(r.path.length).toBeGreaterThan(1);
      }
    }
    const best = await landscape.tuneLearningRate(landscape.booth, 'SGD', { steps: 300 });
    expect(best.diverged).toBe(false);
    const [x, y] = best.path.at(-1)!;
    expect(Math.hypot(x - 1, y - 3)).toBeLessThan(1e-3);
  });
});

describe('pictures and the optimizers page', () => {
  it('a saddle run stops when it escapes the window; the page escapes names and forbids script', async () => {
    const esc = landscape.optimizerPath(landscape.saddle, { optimizer: 'SGD', options: { lr: 0.1 }, steps: 500 });
    expect(esc.escaped).toBe(true);
    expect(esc.diverged).toBe(false);
    const [, y] = esc.path.at(-1)!;
    expect(Math.abs(y)).toBeGreaterThan(2);
    const results = await landscape.compareOptimizers({ functions: [landscape.booth], entries: [{ label: '<img src=x onerror=alert(1)>', optimizer: 'Adam' }], steps: 40, points: 3, resolution: 11 });
    const html = landscape.optimizersPageHtml(results, { steps: 40, points: 3, lrRange: [1e-4, 1] });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x');
    expect(html).toContain("Content-Security-Policy");
    expect(html.match(/<svg /g)?.length).toBe(1);
  });

  it('the contour plot draws a level line where the function crosses it (marching squares)', () => {
    const xs = [-1, 0, 1];
    const ys = [-1, 0, 1];
    const z = ys.map((y) => xs.map((x) => x * x + y * y));
    const svg = landscape.contourSvg({ xs, ys, z, log: false, levels: 1 });
    // One level at 1 (of [0, 2]): it crosses the 4 cells around the origin, one segment each.
    const d = /<path d="([^"]+)" stroke="#fff"/.exec(svg)![1]!;
    expect(d.match(/M/g)?.length).toBe(4);
  });
});

describe('sharpness during training', () => {
  it('SharpnessCallback logs the top Hessian eigenvalue each epoch, equal to a direct computation at the end', async () => {
    nn.manualSeed(6);
    const data = tread.data.twoSpirals({ n: 96, noise: 0.05, seed: 2 });
    const train = new tread.data.DataLoader(data, { batchSize: 32, shuffle: true, seed: 1 });
    const [[x, y]] = [...new tread.data.DataLoader(data, { batchSize: 96 })];
    const batches = [[x!.keep(), y!.keep()] as const];
    const model = new nn.Sequential(new nn.Linear(2, 12), new nn.Tanh(), new nn.Linear(12, 2));
    const lossFn = new nn.CrossEntropyLoss();
    const cb = new landscape.SharpnessCallback(lossFn, batches, { iterations: 100, tolerance: 1e-7, eps: 1e-2 });
    const r = await tread.fit(model, { train, optimizer: new tread.optim.SGD(model.parameters(), { lr: 0.1 }), lossFn, epochs: 3, callbacks: [cb] });
    const logged = r.history.series('sharpness');
    expect(logged).toHaveLength(3);
    logged.forEach((v) => expect(v).toBeGreaterThan(0));
    const direct = landscape.hessianEigenvalues(model, lossFn, batches, { iterations: 100, tolerance: 1e-7, eps: 1e-2 }).values[0]!;
    expect(Math.abs(logged[2]! - direct) / direct).toBeLessThan(1e-3);
    expect(() => new landscape.SharpnessCallback(lossFn, batches, { iters: 3 } as any)).toThrow(/did you mean 'iterations'/);
  });
});

describe('the figures of a run (tread train --landscape)', () => {
  it('line from init, plane of the path around the end: consistent at the shared point, path ends at the center', async () => {
    nn.manualSeed(8);
    const data = tread.data.twoSpirals({ n: 128, noise: 0.05, seed: 4 });
    const train = new tread.data.DataLoader(data, { batchSize: 32, shuffle: true, seed: 2 });
    const [[x, y]] = [...new tread.data.DataLoader(data, { batchSize: 128 })];
    const batches = [[x!.keep(), y!.keep()] as const];
    const model = new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 2));
    const lossFn = new nn.CrossEntropyLoss();
    const recorder = new landscape.PathRecorder(model, { everySteps: 2 });
    await tread.fit(model, { train, optimizer: new tread.optim.Adam(model.parameters(), { lr: 0.02 }), lossFn, epochs: 3, callbacks: [recorder] });
    const before = new landscape.ParamSpace(model).read();
    const f = await landscape.runLandscape({ model, lossFn, batches, recorder, resolution: 5, linePoints: 5 });
    const atOne = f.line.values[f.line.alphas.indexOf(1)]!.loss;
    expect(f.surface.loss[2]![2]).toBeCloseTo(atOne, 6);
    expect(f.path.coords.at(-1)).toEqual([0, 0]);
    expect(f.html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(3);
    expect([...new landscape.ParamSpace(model).read()]).toEqual([...before]);
  });
});

describe('BatchNorm statistics at landscape points', () => {
  it("'recompute' re-estimates them at each point (as a cumulative average over the batches) and restore() puts the model's back", () => {
    nn.manualSeed(9);
    const bn = new nn.BatchNorm1d(4);
    const model = new nn.Sequential(new nn.Linear(3, 4), bn, new nn.ReLU(), new nn.Linear(4, 2));
    const rng = new Rng(2);
    const mk = (n: number) => [tread.tensor(Array.from({ length: n * 3 }, () => rng.normal() * 2 + 1), [n, 3]).keep(), tread.tensor(Array.from({ length: n }, () => rng.int(2)), [n], { dtype: 'int32' }).keep()] as const;
    const batches = [mk(16), mk(16)];
    const lossFn = new nn.CrossEntropyLoss();
    const saved = bn.namedBuffers().map(([, t]) => [...t.data]);
    const keep = landscape.lossEvaluator(model, lossFn, batches, { batchNorm: 'keep' });
    const recompute = landscape.lossEvaluator(model, lossFn, batches, { batchNorm: 'recompute' });
    const valueKeep = keep().loss;
    const valueRecompute = recompute().loss;
    recompute.restore();
    expect(bn.namedBuffers().map(([, t]) => [...t.data])).toEqual(saved);
    // By hand: statistics from the two batches (cumulative average), then the eval loss.
    const byHand = new nn.BatchNorm1d(4, { momentum: null });
    byHand.weight!.f32.set(bn.weight!.f32);
    byHand.bias!.f32.set(bn.bias!.f32);
    const first = model.at(0) as tread.nn.Linear;
    for (const [x] of batches) tread.noGrad(() => byHand.forward(first.forward(x)));
    byHand.eval();
    let total = 0;
    for (const [x, y] of batches) {
      const h = tread.noGrad(() => (model.at(3) as tread.nn.Linear).forward(tread.relu(byHand.forward(first.forward(x)))));
      total += lossFn.forward(h, y).item() * 16;
    }
    expect(valueRecompute).toBeCloseTo(total / 32, 5);
    // Fresh running statistics (0 mean, 1 variance) are far from these inputs' (mean about 1 + ...): 'keep' differs.
    expect(Math.abs(valueKeep - valueRecompute)).toBeGreaterThan(1e-3);
  });
});
