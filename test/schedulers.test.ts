import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import * as S from '../ts/optim/lr_scheduler/index.js';
import { buildScheduler, caseOptimizer, check, parseFormula, replay } from '../tools/golden/schedulers.js';

const fixture = JSON.parse(readFileSync('test/fixtures/golden/schedulers.json', 'utf8'));

beforeAll(async () => {
  await init({ threads: 2 });
});

const sgd = (lr = 0.1, momentum = 0.9) => ({ paramGroups: [{ lr, momentum }], defaults: { lr, momentum } });

describe('golden schedulers.json', () => {
  it('every case replays PyTorch within 1e-6', () => {
    const results = check(fixture);
    expect(results.length).toBe(fixture.cases.length);
    for (const r of results) expect(r, `${r.name}: ${r.detail}`).toMatchObject({ ok: true });
  });

  it('a state dict saved mid-way (through JSON) continues identically, for every case', () => {
    for (const c of fixture.cases) {
      const full = replay(c);
      const half = Math.floor(c.epochs / 2);
      const opt = caseOptimizer(c);
      const s = buildScheduler(c.scheduler, c.options, opt, c.formula);
      for (let e = 0; e < half; e++) (c.scheduler === 'ReduceLROnPlateau' ? s.step(c.metrics[e]) : s.step());
      const saved = JSON.parse(JSON.stringify({ sched: s.stateDict(), groups: opt.paramGroups }));
      // A fresh optimizer and scheduler, as a resumed run builds them; then the states.
      const opt2 = caseOptimizer(c);
      const s2 = buildScheduler(c.scheduler, c.options, opt2, c.formula);
      s2.loadStateDict(saved.sched);
      opt2.paramGroups.forEach((g, i) => Object.assign(g, saved.groups[i]));
      const rest = replay(c, s2, opt2, half);
      expect(rest.lrs, c.scheduler).toEqual(full.lrs.slice(half));
      if (c.momentums) expect(rest.momentums, c.scheduler).toEqual(full.momentums.slice(half));
      expect(s2.getLastLr()).toEqual(s.getLastLr().length ? s2.getLastLr() : []);
    }
  });
});

describe('schedulers', () => {
  it('construction sets initialLr on each group and the epoch-0 rate', () => {
    const opt = { paramGroups: [{ lr: 0.1 }, { lr: 0.01 }] } as any;
    const s = new S.LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    expect(opt.paramGroups.map((g: any) => g.initialLr)).toEqual([0.1, 0.01]);
    expect(s.getLastLr()).toEqual([0.05, 0.005]);
    s.step();
    s.step();
    expect(s.getLastLr()[0]).toBeCloseTo(0.1, 12);
    s.step();
    expect(s.getLastLr()[1]).toBeCloseTo(0.01, 12);
  });

  it('StepLR closed form via step(epoch) agrees with stepping', () => {
    const a = new S.StepLR(sgd(), { stepSize: 3, gamma: 0.5 });
    for (let i = 0; i < 7; i++) a.step();
    const b = new S.StepLR(sgd(), { stepSize: 3, gamma: 0.5 });
    b.step(7);
    expect(b.getLastLr()[0]).toBeCloseTo(a.getLastLr()[0], 14);
  });

  it('OneCycleLR cycles beta1 on Adam-style optimizers and refuses to step past totalSteps', () => {
    const opt = { paramGroups: [{ lr: 1e-3, betas: [0.9, 0.999] as [number, number] }], defaults: { betas: [0.9, 0.999] } };
    const s = new S.OneCycleLR(opt, { maxLr: 0.01, totalSteps: 10 });
    expect(opt.paramGroups[0].betas[0]).toBeCloseTo(0.95, 12);
    expect(opt.paramGroups[0].betas[1]).toBe(0.999);
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.01 / 25, 12);
    for (let i = 0; i < 2; i++) s.step();
    expect(opt.paramGroups[0].betas[0]).toBeCloseTo(0.85, 12); // the peak: step 0.3 * 10 - 1
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.01, 12);
    for (let i = 0; i < 8; i++) s.step();
    expect(() => s.step()).toThrow(/OneCycleLR: tried to step 11 times; totalSteps is 10/);
  });

  it('ChainedScheduler composes the factors of its schedulers', () => {
    const opt = sgd(1);
    const a = new S.ExponentialLR(opt, { gamma: 0.9 });
    const b = new S.StepLR(opt, { stepSize: 2, gamma: 0.1 });
    const c = new S.ChainedScheduler([a, b]);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      seen.push(opt.paramGroups[0].lr);
      c.step();
    }
    [1, 0.9, 0.81 * 0.1, 0.729 * 0.1].forEach((v, i) => expect(seen[i]).toBeCloseTo(v, 12));
  });

  it('ReduceLROnPlateau waits patience epochs, then reduces, respecting minLr', () => {
    const opt = sgd(1);
    const s = new S.ReduceLROnPlateau(opt, { patience: 1, factor: 0.5, minLr: 0.3 });
    for (const m of [1, 1, 1]) s.step(m);
    expect(opt.paramGroups[0].lr).toBe(0.5);
    for (const m of [1, 1]) s.step(m);
    expect(opt.paramGroups[0].lr).toBe(0.3);
    expect(() => s.step(undefined as any)).toThrow(/metric/);
  });

  it('parses Python lambda formulas', () => {
    expect(parseFormula('lr_lambda(epoch) = 0.65 ** floor(epoch / 10)')(25)).toBeCloseTo(0.65 ** 2, 14);
    expect(parseFormula('lambda e: e // 3 + -2 ** 2 if e > 1 else 7 % 3')(7)).toBe(-2);
    expect(parseFormula('lambda e: e // 3 + -2 ** 2 if e > 1 else -7 % 3')(0)).toBe(2);
    expect(parseFormula('min(1.0, (epoch + 1) / 5) * math.cos(pi * 0)')(1)).toBeCloseTo(0.4, 14);
  });

  it("PyTorch's None defaults (scale_fn, step_size_down, total_steps) act as omitted", () => {
    // Naive triangular2 with step sizes 2 up / 3 down: amplitude halves every cycle; scaleMode
    // is ignored without a scaleFn, as in PyTorch.
    const naive = (it: number) => {
      const cycle = Math.floor(1 + it / 5);
      const x = 1 + it / 5 - cycle;
      const scale = x <= 0.4 ? x / 0.4 : (x - 1) / (0.4 - 1);
      return 0.01 + (0.1 - 0.01) * scale * 0.5 ** (cycle - 1);
    };
    const opt = sgd();
    const c = new S.CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2, stepSizeDown: 3, mode: 'triangular2', scaleFn: null, scaleMode: 'iterations' });
    for (let it = 0; it < 17; it++) {
      expect(opt.paramGroups[0].lr).toBeCloseTo(naive(it), 12);
      c.step();
    }
    const o1 = sgd();
    const o2 = sgd();
    const a = new S.CyclicLR(o1, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, stepSizeDown: null });
    const b = new S.CyclicLR(o2, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3 });
    const p1 = sgd();
    const p2 = sgd();
    const d = new S.OneCycleLR(p1, { maxLr: 1, totalSteps: null, epochs: 3, stepsPerEpoch: 4 });
    const e = new S.OneCycleLR(p2, { maxLr: 1, totalSteps: 12 });
    for (let it = 0; it < 12; it++) {
      expect(o1.paramGroups[0].lr).toBe(o2.paramGroups[0].lr);
      expect(p1.paramGroups[0].lr).toBe(p2.paramGroups[0].lr);
      a.step();
      b.step();
      d.step();
      e.step();
    }
  });

  it('bad options throw naming the scheduler and the option', () => {
    const o = () => sgd();
    expect(() => new S.StepLR(o(), { stepSize: 0 })).toThrow(/StepLR: stepSize/);
    expect(() => new S.StepLR(o(), { stepSize: 2, gama: 0.1 } as any)).toThrow(/StepLR: unknown option 'gama'/);
    expect(() => new S.MultiStepLR(o(), { milestones: [1.5] })).toThrow(/MultiStepLR: milestones\[0\]/);
    expect(() => new S.ExponentialLR(o(), {} as any)).toThrow(/ExponentialLR: gamma/);
    expect(() => new S.CosineAnnealingLR(o(), { tMax: 0 })).toThrow(/CosineAnnealingLR: tMax/);
    expect(() => new S.CosineAnnealingWarmRestarts(o(), { t0: 10, tMult: 0.5 })).toThrow(/CosineAnnealingWarmRestarts: tMult/);
    expect(() => new S.LinearLR(o(), { startFactor: 0 })).toThrow(/LinearLR: startFactor/);
    expect(() => new S.ConstantLR(o(), { factor: 2 })).toThrow(/ConstantLR: factor/);
    expect(() => new S.PolynomialLR(o(), { totalIters: -1 })).toThrow(/PolynomialLR: totalIters/);
    expect(() => new S.OneCycleLR(o(), { maxLr: 1 })).toThrow(/OneCycleLR: give either totalSteps/);
    expect(() => new S.OneCycleLR(o(), { maxLr: 1, totalSteps: 10, pctStart: 1.5 })).toThrow(/OneCycleLR: pctStart/);
    expect(() => new S.OneCycleLR(o(), { maxLr: 1, totalSteps: 10, annealStrategy: 'exp' as any })).toThrow(/OneCycleLR: annealStrategy/);
    expect(() => new S.OneCycleLR({ paramGroups: [{ lr: 1 }] }, { maxLr: 1, totalSteps: 10 })).toThrow(/OneCycleLR: cycleMomentum/);
    // A phase of zero length anneals by 0/0 (PyTorch: ZeroDivisionError); refused before the optimizer is touched.
    const zero = o();
    expect(() => new S.OneCycleLR(zero, { maxLr: 1, totalSteps: 4, pctStart: 0.25 })).toThrow(/OneCycleLR: phase 1 of 2 has zero length \(pctStart 0.25 x totalSteps 4/);
    expect(zero.paramGroups[0]).toEqual({ lr: 0.1, momentum: 0.9 });
    expect(() => new S.OneCycleLR(o(), { maxLr: 1, epochs: 1, stepsPerEpoch: 5, pctStart: 0.2, threePhase: true })).toThrow(/OneCycleLR: phase 1 of 3 has zero length/);
    expect(() => new S.OneCycleLR(o(), { maxLr: 1, totalSteps: 10, pctStart: 1 })).toThrow(/OneCycleLR: phase 2 of 2 has zero length/);
    // Next to them, short cycles whose phases all have a length keep finite rates to the end.
    for (const [totalSteps, pctStart] of [[1, 0.25], [2, 0.25], [3, 0.25], [5, 0.25], [4, 0.3]]) {
      const opt = o();
      const s = new S.OneCycleLR(opt, { maxLr: 1, totalSteps, pctStart });
      for (let i = 0; i < totalSteps; i++) {
        expect(Number.isFinite(opt.paramGroups[0].lr), `totalSteps ${totalSteps} step ${i}`).toBe(true);
        s.step();
      }
    }
    expect(() => new S.CyclicLR(o(), { baseLr: 0.1, maxLr: 1, mode: 'sawtooth' as any })).toThrow(/CyclicLR: mode/);
    expect(() => new S.CyclicLR(o(), { baseLr: [0.1, 0.2], maxLr: 1 })).toThrow(/CyclicLR: expected 1 values for baseLr/);
    expect(() => new S.ReduceLROnPlateau(o(), { factor: 1 })).toThrow(/ReduceLROnPlateau: factor/);
    expect(() => new S.ReduceLROnPlateau(o(), { mode: 'up' as any })).toThrow(/ReduceLROnPlateau: mode/);
    expect(() => new S.ReduceLROnPlateau(o(), { thresholdMode: 'pct' as any })).toThrow(/ReduceLROnPlateau: thresholdMode/);
    expect(() => new S.LambdaLR(o(), { lrLambda: 3 as any })).toThrow(/LambdaLR: lrLambda/);
    const opt = o();
    const a = new S.LinearLR(opt);
    expect(() => new S.SequentialLR(opt, { schedulers: [a], milestones: [3] })).toThrow(/SequentialLR: milestones/);
    expect(() => new S.SequentialLR(sgd(), { schedulers: [a], milestones: [] })).toThrow(/SequentialLR: schedulers\[0\] belongs/);
    expect(() => new S.StepLR(o(), { stepSize: 2, lastEpoch: 3 })).toThrow(/StepLR: paramGroups\[0\]\.initialLr/);
  });
});
