/**
 * PyTorch 1.13 optimizer and scheduler states loaded into tread (issue 16): states saved by
 * PyTorch after 5 steps (tools/fixtures/pytorch_state.py), loaded here; tread's steps 6-10
 * must equal PyTorch's. Also the name mapping and refusals of loadStateDict.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { Parameter } from '../ts/nn/module.js';
import * as optim from '../ts/optim/index.js';
import { Adagrad, Adam, AdamW, NAdam, SGD } from '../ts/optim/index.js';
import * as lrs from '../ts/optim/lr_scheduler/index.js';
import { CosineAnnealingWarmRestarts, MultiStepLR, OneCycleLR, ReduceLROnPlateau, StepLR } from '../ts/optim/lr_scheduler/index.js';
import type { LRScheduler } from '../ts/optim/lr_scheduler/base.js';
import type { Optimizer } from '../ts/optim/optimizer.js';
import { loadPyTorchOptimizerState } from '../ts/train/pytorch_optimizer.js';
import { serializeSafetensors } from '../ts/train/safetensors.js';

const DIR = join(__dirname, 'fixtures', 'pytorch-state');

beforeAll(async () => {
  await init({ threads: 1 });
});

interface Fixture {
  shapes: number[][];
  params: number[][];
  steps: { grads: number[][]; params: number[][]; lr: number[] }[];
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
}

/** Continues the run from PyTorch's step 5 and compares every step 6-10. */
async function continueRun(name: string, build: (w: Parameter, b: Parameter) => [Optimizer, LRScheduler]): Promise<Optimizer> {
  const fx = fixture(name);
  const [w, b] = fx.params.map((v, i) => new Parameter(tensor(v, fx.shapes[i])));
  const [opt, sched] = build(w, b);
  await loadPyTorchOptimizerState(opt, join(DIR, `${name}.optimizer.safetensors`));
  sched.loadStateDict(JSON.parse(readFileSync(join(DIR, `${name}.scheduler.json`), 'utf8')));
  fx.steps.forEach((s, k) => {
    [w, b].forEach((p, i) => (p.grad = tensor(s.grads[i], fx.shapes[i]).keep()));
    opt.step();
    sched.step();
    [w, b].forEach((p, i) => {
      const got = [...p.data];
      got.forEach((v, j) => expect(Math.abs(v - s.params[i][j]), `${name} step ${6 + k} param ${i}[${j}]`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(s.params[i][j]))));
    });
    sched.getLastLr().forEach((lr, i) => expect(lr).toBeCloseTo(s.lr[i], 12));
  });
  return opt;
}

describe('PyTorch 1.13 optimizer + scheduler state, continued in tread', () => {
  it('SGD (momentum, dampening, weight decay) + StepLR: steps 6-10 equal PyTorch', async () => {
    const opt = await continueRun('sgd_steplr', (w, b) => {
      // Built with other options: the loaded dict's (PyTorch's names) must win.
      const opt = new SGD([w, b], { lr: 1, momentum: 0.5 });
      return [opt, new StepLR(opt, { stepSize: 2, gamma: 0.5 })];
    });
    expect(opt.paramGroups[0]).toMatchObject({ momentum: 0.9, dampening: 0.1, weightDecay: 0.01, initialLr: 0.1 });
    expect(Object.keys(opt.paramGroups[0])).not.toContain('weight_decay');
    expect(Object.keys(opt.paramGroups[0])).not.toContain('foreach');
  });

  it('AdamW (two groups, weight decay) + OneCycleLR (beta1 cycling): steps 6-10 equal PyTorch', async () => {
    const opt = await continueRun('adamw_onecycle', (w, b) => {
      const opt = new AdamW([{ params: [w] }, { params: [b] }], { lr: 0.01, betas: [0.9, 0.99], eps: 1e-7 });
      return [opt, new OneCycleLR(opt, { maxLr: [0.05, 0.02], totalSteps: 12 })];
    });
    expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([0.05, 0]);
    expect(opt.paramGroups.some((g) => 'weight_decay' in g || 'capturable' in g || 'max_lr' in g)).toBe(false);
  });

  it('a scheduler made with other options refuses the state, naming both values', () => {
    const p = new Parameter(tensor([1, 2], [2]));
    const opt = new SGD([p], { lr: 0.1 });
    const sched = new StepLR(opt, { stepSize: 3 });
    const state = JSON.parse(readFileSync(join(DIR, 'sgd_steplr.scheduler.json'), 'utf8'));
    expect(() => sched.loadStateDict(state)).toThrow(/StepLR.loadStateDict: step_size is 2 in the PyTorch state, 3 in this scheduler/);
    expect(sched.lastEpoch).toBe(0);
  });
});

describe('Optimizer.loadStateDict with PyTorch names', () => {
  const params = () => [new Parameter(tensor([1, 2, 3], [3]))];

  it('maps snake_case options, drops PyTorch-only switches, converts a tensor step', () => {
    const opt = new Adam(params(), { lr: 0.1 });
    opt.loadStateDict({
      state: { 0: { step: new Float32Array([4]), exp_avg: [0.1, 0.2, 0.3], exp_avg_sq: [1, 1, 1] } },
      param_groups: [{ lr: 0.01, betas: [0.8, 0.9], eps: 1e-6, weight_decay: 0.5, amsgrad: false, maximize: false, foreach: null, capturable: false, differentiable: false, fused: false, params: [0] }],
    });
    const g = opt.paramGroups[0];
    expect([g.lr, g.weightDecay, g.eps, g.betas]).toEqual([0.01, 0.5, 1e-6, [0.8, 0.9]]);
    expect(Object.keys(g).sort()).toEqual(['amsgrad', 'betas', 'eps', 'lr', 'maximize', 'params', 'weightDecay']);
    expect(opt.state.get(g.params[0])!.step).toBe(4);
    const ada = new Adagrad(params(), { lr: 0.1 });
    ada.loadStateDict({ state: {}, param_groups: [{ lr: 0.1, lr_decay: 0.01, weight_decay: 0, initial_accumulator_value: 0.5, eps: 1e-10, maximize: false, foreach: null, params: [0] }] });
    expect([ada.paramGroups[0].lrDecay, ada.paramGroups[0].initialAccumulatorValue]).toEqual([0.01, 0.5]);
    const nadam = new NAdam(params(), {});
    nadam.loadStateDict({ state: { 0: { step: [2], mu_product: [0.9], exp_avg: [0, 0, 0], exp_avg_sq: [0, 0, 0] } }, param_groups: [{ lr: 0.002, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, momentum_decay: 0.005, foreach: null, params: [0] }] });
    expect(nadam.paramGroups[0].momentumDecay).toBe(0.005);
    expect(nadam.state.get(nadam.paramGroups[0].params[0])!.mu_product).toBeCloseTo(0.9, 6);
  });

  it('refuses unknown keys with a hint, and values the constructor would refuse; nothing changes', () => {
    const opt = new SGD(params(), { lr: 0.1, momentum: 0.9 });
    const before = JSON.stringify(opt.paramGroups.map((g) => ({ ...g, params: 0 })));
    expect(() => opt.loadStateDict({ state: {}, param_groups: [{ lr: 0.1, momentun: 0.9, params: [0] }] })).toThrow(/unknown option 'momentun' in paramGroups\[0\] of the loaded dict \(did you mean 'momentum'\?/);
    expect(() => opt.loadStateDict({ state: {}, param_groups: [{ lr: 0.1, weight_decay: -1, params: [0] }] })).toThrow(/invalid weightDecay in paramGroups\[0\] of the loaded dict: must be >= 0, got -1/);
    expect(() => opt.loadStateDict({ state: {}, param_groups: [{ lr: 0.1, weight_decay: 0.1, weightDecay: 0.2, params: [0] }] })).toThrow(/gives weightDecay twice/);
    expect(() => opt.loadStateDict({ state: { 0: { step: [1.5] } }, param_groups: [{ lr: 0.1, params: [0] }] })).toThrow(/state 0.step must be a step count/);
    expect(JSON.stringify(opt.paramGroups.map((g) => ({ ...g, params: 0 })))).toBe(before);
  });

  it("still loads tread's own dicts (scheduler keys and extra group keys included)", () => {
    const a = new SGD([{ params: params(), l2: 0.01, names: ['w'] }], { lr: 0.1, momentum: 0.9 });
    new StepLR(a, { stepSize: 2 });
    const b = new SGD([{ params: params(), l2: 0.01, names: ['w'] }], { lr: 0.5 });
    b.loadStateDict(a.stateDict());
    expect(b.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0.9, l2: 0.01, initialLr: 0.1 });
  });
});

describe('scheduler loadStateDict with PyTorch names', () => {
  const opt = () => new SGD([new Parameter(tensor([1, 2], [2]))], { lr: 0.1, momentum: 0.9 });

  it('MultiStepLR (milestones as a Counter), CosineAnnealingWarmRestarts (T_cur, T_i), ReduceLROnPlateau', () => {
    const m = new MultiStepLR(opt(), { milestones: [2, 4], gamma: 0.5 });
    m.loadStateDict({ milestones: { 2: 1, 4: 1 }, gamma: 0.5, base_lrs: [0.1], last_epoch: 3, verbose: false, _step_count: 4, _get_lr_called_within_step: false, _last_lr: [0.05] });
    expect([m.lastEpoch, m.getLastLr()]).toEqual([3, [0.05]]);
    const c = new CosineAnnealingWarmRestarts(opt(), warmRestarts({ T0: 3, tMult: 2 }));
    c.loadStateDict({ T_0: 3, T_i: 6, T_mult: 2, eta_min: 0, T_cur: 1, base_lrs: [0.1], last_epoch: 4, verbose: false, _step_count: 5, _get_lr_called_within_step: false, _last_lr: [0.09330127018922194] });
    expect([c.tI, c.tCur, c.lastEpoch]).toEqual([6, 1, 4]);
    const r = new ReduceLROnPlateau(opt(), { patience: 2 });
    r.loadStateDict({ factor: 0.1, min_lrs: [0], patience: 2, verbose: false, cooldown: 0, cooldown_counter: 0, mode: 'min', threshold: 1e-4, threshold_mode: 'rel', best: 0.5, num_bad_epochs: 1, mode_worse: 1e308, eps: 1e-8, last_epoch: 3, _last_lr: [0.1] });
    expect([r.best, r.numBadEpochs, r.lastEpoch]).toEqual([0.5, 1, 3]);
  });

  it('refuses unknown keys with a hint and bad values; nothing changes', () => {
    const s = new StepLR(opt(), { stepSize: 2 });
    expect(() => s.loadStateDict({ step_size: 2, gamma: 0.1, base_lrs: [0.1], last_epoch: 3, _step_count: 4, _last_lr: [0.01], gama: 0.1 })).toThrow(/unknown key 'gama' in the PyTorch state \(did you mean 'gamma'\?/);
    expect(() => s.loadStateDict({ step_size: 2, gamma: 0.1, base_lrs: [0.1, 0.2], last_epoch: 3, _step_count: 4, _last_lr: [0.01] })).toThrow(/base_lrs in the PyTorch state must be 1 finite number\(s\), one per param group/);
    expect(() => s.loadStateDict({ step_size: 2, gamma: 0.1, base_lrs: [0.1], last_epoch: 2.5, _step_count: 4, _last_lr: [0.01] })).toThrow(/last_epoch in the PyTorch state must be an integer >= -1/);
    expect(s.lastEpoch).toBe(0);
    expect(s.getLastLr()).toEqual([0.1]);
  });
});

/** The fixture's options use PyTorch's T0 key name as tread spells it before the casing rule; tread's is t0. */
function warmRestarts(o: Record<string, unknown>): any {
  const { T0, ...rest } = o;
  return { t0: T0, ...rest };
}

describe('every scheduler continues from its PyTorch 1.13 state_dict', () => {
  const fx: { cases: { name: string; options: Record<string, any>; state: Record<string, unknown>; param_group: Record<string, unknown>; next_lrs: number[]; metrics: number[] | null }[] } = JSON.parse(
    readFileSync(join(DIR, 'schedulers.json'), 'utf8'),
  );
  const build = (name: string, opt: SGD, o: Record<string, any>): any => {
    switch (name) {
      case 'LambdaLR':
        return new lrs.LambdaLR(opt, { lrLambda: (e: number) => 0.9 ** e });
      case 'MultiplicativeLR':
        return new lrs.MultiplicativeLR(opt, { lrLambda: () => 0.95 });
      case 'CosineAnnealingWarmRestarts':
        return new CosineAnnealingWarmRestarts(opt, warmRestarts(o));
      case 'SequentialLR':
        return new lrs.SequentialLR(opt, { schedulers: [new lrs.ConstantLR(opt, { factor: 0.5, totalIters: 2 }), new lrs.ExponentialLR(opt, { gamma: 0.9 })], milestones: o.milestones });
      case 'ChainedScheduler':
        return new lrs.ChainedScheduler([new lrs.ConstantLR(opt, { factor: 0.5, totalIters: 4 }), new lrs.ExponentialLR(opt, { gamma: 0.9 })]);
      default:
        return new (lrs as any)[name](opt, o);
    }
  };
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const opt = new SGD([new Parameter(tensor([0, 0], [2]))], { lr: 0.1, momentum: 0.9 });
    const sched = build(c.name, opt, c.options);
    opt.loadStateDict({ state: {}, param_groups: [c.param_group] }); // PyTorch's group: lr, initial_lr, ...
    sched.loadStateDict(c.state);
    c.next_lrs.forEach((want, k) => {
      opt.step();
      if (c.metrics) sched.step(c.metrics[3 + k]);
      else sched.step();
      expect(opt.paramGroups[0].lr, `${c.name} step ${4 + k}`).toBeCloseTo(want, 12);
    });
  });
});

describe('every optimizer continues from its PyTorch 1.13 state_dict', () => {
  const fx: { cases: { name: string; shapes: number[][]; params: number[][]; param_groups: Record<string, unknown>[]; state: Record<string, Record<string, number[]>>; steps: { grads: number[][]; params: number[][] }[] }[] } = JSON.parse(
    readFileSync(join(DIR, 'optimizers.json'), 'utf8'),
  );
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s: steps 4-6 equal PyTorch (options from the dict, not the constructor)', (_name, c) => {
    const ps = c.params.map((v, i) => new Parameter(tensor(v, c.shapes[i])));
    const opt: Optimizer = new (optim as any)[c.name](ps, { lr: 1 });
    opt.loadStateDict({ state: c.state, param_groups: c.param_groups });
    c.steps.forEach((s, k) => {
      ps.forEach((p, i) => (p.grad = tensor(s.grads[i], c.shapes[i]).keep()));
      opt.step();
      ps.forEach((p, i) => {
        const got = [...p.data];
        got.forEach((v, j) => expect(Math.abs(v - s.params[i][j]), `${c.name} step ${4 + k} param ${i}[${j}]: ${v} vs ${s.params[i][j]}`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(s.params[i][j]))));
      });
    });
  });
});

describe('loadPyTorchOptimizerState refuses malformed files and leaves the optimizer alone', () => {
  it('names what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tread-pt-state-'));
    const p = new Parameter(tensor([1, 2, 3], [3]));
    const opt = new Adam([p], { lr: 0.1 });
    const groups = JSON.stringify([{ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.1, amsgrad: false, maximize: false, params: [0] }]);
    const file = (name: string, tensors: Record<string, number[]>, metadata?: Record<string, string>) => {
      const f = join(dir, name);
      writeFileSync(f, serializeSafetensors(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, { shape: [v.length], data: Float32Array.from(v) }])), metadata));
      return f;
    };
    await expect(loadPyTorchOptimizerState(opt, file('a.safetensors', { 'state.0.exp_avg': [0, 0, 0] }))).rejects.toThrow(/no 'param_groups' in __metadata__/);
    await expect(loadPyTorchOptimizerState(opt, file('b.safetensors', { 'exp_avg.0': [0, 0, 0] }, { param_groups: groups }))).rejects.toThrow(/tensor 'exp_avg.0' is not named 'state.<param index>.<key>'/);
    await expect(loadPyTorchOptimizerState(opt, file('c.safetensors', { 'state.0.exp_avg': [0, 0] }, { param_groups: groups }))).rejects.toThrow(/state 0.exp_avg has 2 elements/);
    await expect(loadPyTorchOptimizerState(opt, file('d.safetensors', {}, { param_groups: groups.replace('weight_decay', 'weight_dacay') }))).rejects.toThrow(/unknown option 'weight_dacay'.*did you mean 'weightDecay'/);
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.1, weightDecay: 0 });
    await loadPyTorchOptimizerState(opt, file('ok.safetensors', { 'state.0.step': [2], 'state.0.exp_avg': [1, 2, 3], 'state.0.exp_avg_sq': [1, 1, 1] }, { param_groups: groups }));
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.01, weightDecay: 0.1 });
    expect(opt.state.get(p)!.step).toBe(2);
  });
});
