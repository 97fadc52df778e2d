import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { check } from '../tools/golden/optimizers.js';
import * as optim from '../ts/optim/index.js';
import type { Optimizer } from '../ts/optim/optimizer.js';
import { getThreads, init, setThreads, wasm } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { liveStorage } from '../ts/tensor/storage.js';
import { Tensor } from '../ts/tensor/tensor.js';
import type { OptimizerLike } from '../ts/train/types.js';
import { SINGLE_BUILD } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

/** Deterministic numbers in about [-1, 1]. */
function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

function param(shape: number[], seed: number, name?: string): Tensor {
  const t = tensor(data(shape.reduce((a, b) => a * b, 1), seed), shape).keep();
  t.requiresGrad = true;
  if (name) t.name = name;
  return t;
}

/** Gradient of sum(a·p²/2 + b·p + p³/30) with fixed per-element a, b: changes every step. */
function setGrads(params: Tensor[]): void {
  params.forEach((p, k) => {
    const x = p.f32;
    if (p.grad === null) p.grad = tensor(new Float32Array(p.size), p.shape).keep();
    const g = p.grad.f32;
    for (let i = 0; i < x.length; i++) g[i] = Math.fround((1 + ((i * 7 + k) % 5) * 0.3) * x[i] + ((i % 3) - 1) * 0.5 + (x[i] * x[i]) / 10);
  });
}

type Factory = (params: any) => Optimizer<any>;
const ALL: [string, Factory][] = [
  ['SGD', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['SGD(dampening)', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.2 })],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 })],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true })],
  ['Adadelta', (p) => new optim.Adadelta(p, { weightDecay: 0.01 })],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.01 })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01 })],
  ['Adamax', (p) => new optim.Adamax(p, { lr: 0.02, maximize: true })],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.01 })],
  ['RAdam', (p) => new optim.RAdam(p, { lr: 0.01 })],
];

describe('optimizers: golden replay', () => {
  it('replays every case of test/fixtures/golden/optimizers.json', async () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/golden/optimizers.json', 'utf8'));
    const results = await check(fixture, 'optimizers.json');
    expect(results.length).toBe(fixture.cases.length);
    for (const r of results) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
  });
});

describe('optimizers: SIMD kernels against the scalar reference, through wasm', () => {
  // n exercises the 8-lane body, the 4-lane body, the scalar tail and the thread split.
  const n = 70_003;
  const alloc = (seed: number, pos = false) => {
    const t = tensor(data(n, seed));
    if (pos) {
      const d = t.f32;
      for (let i = 0; i < n; i++) d[i] = Math.abs(d[i]) * 0.1 + 1e-3;
    }
    return t;
  };
  const kernels: [string, (ts: Tensor[], ref: number) => void, boolean[]][] = [
    ['sgd', ([p, g, b], r) => wasm().tread_optim_sgd(p.ptr, g.ptr, b.ptr, n, 0.05, 0.9, 0.1, 0.01, 4, r), [false, false, false]],
    ['adam', ([p, g, m, v, x], r) => wasm().tread_optim_adam(p.ptr, g.ptr, m.ptr, v.ptr, x.ptr, n, 0.9, 0.999, 1e-8, 0.01, 0.05, 0.04, 2, r), [false, false, false, true, true]],
    ['adamw', ([p, g, m, v], r) => wasm().tread_optim_adamw(p.ptr, g.ptr, m.ptr, v.ptr, 0, n, 0.01, 0.1, 0.9, 0.999, 1e-8, 0.05, 0.04, 1, r), [false, false, false, true]],
    ['adagrad', ([p, g, s], r) => wasm().tread_optim_adagrad(p.ptr, g.ptr, s.ptr, n, 0.1, 1e-10, 0.01, 0, r), [false, false, true]],
    // grad_avg (buffer 3) scaled down so that v - grad_avg² stays positive.
    ['rmsprop', ([p, g, v, a, b], r) => (wasm().tread_optim_scale(a.ptr, n, 0.001), wasm().tread_optim_rmsprop(p.ptr, g.ptr, v.ptr, a.ptr, b.ptr, n, 0.01, 0.9, 1e-8, 0, 0.5, 8, r)), [false, false, true, false, false]],
    ['adadelta', ([p, g, v, u], r) => wasm().tread_optim_adadelta(p.ptr, g.ptr, v.ptr, u.ptr, n, 1, 0.9, 1e-6, 0.01, 0, r), [false, false, true, true]],
    ['adamax', ([p, g, m, u], r) => wasm().tread_optim_adamax(p.ptr, g.ptr, m.ptr, u.ptr, n, 0.9, 0.999, 1e-8, 0, 0.2, 0, r), [false, false, false, true]],
    ['nadam', ([p, g, m, v], r) => wasm().tread_optim_nadam(p.ptr, g.ptr, m.ptr, v.ptr, n, 0.9, 0.999, 1e-8, 0.01, 0.002, -0.01, -0.05, 1, r), [false, false, false, true]],
    ['radam', ([p, g, m, v], r) => wasm().tread_optim_radam(p.ptr, g.ptr, m.ptr, v.ptr, n, 0.01, 0.9, 0.999, 1e-8, 0, 0.2, 0.05, 0.3, 0, r), [false, false, false, true]],
  ];
  for (const [name, run, pos] of kernels) {
    it(`${name}: identical results on 2 threads`, () => {
      const fast = pos.map((p, i) => alloc(i + 1, p));
      const ref = pos.map((p, i) => alloc(i + 1, p));
      run(fast, 0);
      run(ref, 1);
      fast.forEach((t, i) => {
        const a = t.f32;
        const b = ref[i].f32;
        let worst = 0;
        let nan = 0;
        for (let k = 0; k < n; k++) {
          if (Number.isNaN(a[k]) || Number.isNaN(b[k])) nan++;
          else worst = Math.max(worst, Math.abs(a[k] - b[k]) / Math.max(Math.abs(b[k]), 1e-6));
        }
        expect(nan, `${name} buffer ${i}: NaN`).toBe(0);
        expect(worst, `${name} buffer ${i}`).toBeLessThanOrEqual(1e-6);
      });
      [...fast, ...ref].forEach((t) => t.dispose());
    });
  }
});

describe('optimizers: state dicts', () => {
  for (const [name, make] of ALL) {
    it(`${name}: 5 steps + save/load + 5 steps equals 10 steps`, () => {
      const a = [param([33, 31], 1, 'w'), param([37], 2, 'b')];
      const b = [param([33, 31], 1, 'w'), param([37], 2, 'b')];
      const optA = make(a);
      for (let s = 0; s < 10; s++) {
        setGrads(a);
        optA.step();
      }
      let optB = make(b);
      for (let s = 0; s < 5; s++) {
        setGrads(b);
        optB.step();
      }
      // Through plain data (as a checkpoint file would): tensors become arrays.
      const sd = optB.stateDict();
      const plain = JSON.parse(JSON.stringify(sd, (_k, v) => (v instanceof Tensor ? Array.from(v.f32) : v)));
      optB = make(b);
      optB.loadStateDict(plain);
      for (let s = 0; s < 5; s++) {
        setGrads(b);
        optB.step();
      }
      a.forEach((p, i) => expect(Array.from(b[i].f32)).toEqual(Array.from(p.f32)));
      expect(optB.stateDict().paramGroups).toEqual(optA.stateDict().paramGroups);
    });
  }

  it('stateDict numbers parameters in group order and keeps group options', () => {
    const w = param([4, 3], 1);
    const bias = param([3], 2);
    const opt = new optim.Adam([{ params: [w], lr: 1e-4 }, { params: [bias], weightDecay: 0 }], { lr: 1e-3, weightDecay: 0.1 });
    setGrads([w, bias]);
    opt.step();
    const sd = opt.stateDict();
    expect(sd.paramGroups.map((g) => [g.lr, g.weightDecay, g.params])).toEqual([
      [1e-4, 0.1, [0]],
      [1e-3, 0, [1]],
    ]);
    expect(Object.keys(sd.state)).toEqual(['0', '1']);
    expect(Object.keys(sd.state['0']).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'step']);
    expect(sd.state['0'].step).toBe(1);
  });

  it('loadStateDict refuses a dict of another shape and changes nothing', () => {
    const w = param([4, 3], 1);
    const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    setGrads([w]);
    opt.step();
    const before = (opt.state.get(w)!.momentum_buffer as Tensor).f32.slice();
    const bad = { state: { 0: { momentum_buffer: new Array(5).fill(1) } }, paramGroups: [{ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, params: [0] }] };
    expect(() => opt.loadStateDict(bad)).toThrow(/momentum_buffer has 5 elements/);
    expect(() => opt.loadStateDict({ state: {}, paramGroups: [] })).toThrow(/1 parameter groups|0 parameter groups/);
    expect((opt.state.get(w)!.momentum_buffer as Tensor).f32).toEqual(before);
  });
});

describe('optimizers: options', () => {
  const p = () => [param([3], 1)];
  it('bad options throw errors naming the optimizer and the option', () => {
    expect(() => new optim.SGD(p(), { lr: -0.1 })).toThrow(/SGD: invalid lr/);
    expect(() => new optim.SGD(p(), {} as any)).toThrow(/SGD: lr is required/);
    expect(() => new optim.SGD(p(), { lr: 0.1, nesterov: true })).toThrow(/SGD: invalid nesterov.*momentum > 0/);
    expect(() => new optim.SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/nesterov.*dampening = 0/);
    expect(() => new optim.SGD(p(), { lr: 0.1, momentum: -1 })).toThrow(/SGD: invalid momentum/);
    expect(() => new optim.Adam(p(), { betas: [1, 0.999] })).toThrow(/Adam: invalid betas.*\[0, 1\)/);
    expect(() => new optim.Adam(p(), { betas: [0.9, -0.1] })).toThrow(/Adam: invalid betas/);
    expect(() => new optim.AdamW(p(), { eps: -1 })).toThrow(/AdamW: invalid eps/);
    expect(() => new optim.Adam(p(), { weightDecay: -1 })).toThrow(/Adam: invalid weightDecay/);
    expect(() => new optim.Adagrad(p(), { lrDecay: -1 })).toThrow(/Adagrad: invalid lrDecay/);
    expect(() => new optim.Adagrad(p(), { initialAccumulatorValue: -1 })).toThrow(/Adagrad: invalid initialAccumulatorValue/);
    expect(() => new optim.RMSprop(p(), { alpha: -0.5 })).toThrow(/RMSprop: invalid alpha/);
    expect(() => new optim.Adadelta(p(), { rho: 1.5 })).toThrow(/Adadelta: invalid rho/);
    expect(() => new optim.NAdam(p(), { momentumDecay: -1 })).toThrow(/NAdam: invalid momentumDecay/);
    expect(() => new optim.Adam(p(), { amsgrad: 1 as any })).toThrow(/Adam: invalid amsgrad/);
    expect(() => new optim.Adam(p(), { weight_decay: 0.1 } as any)).toThrow(/unknown option 'weight_decay'.*did you mean 'weightDecay'/);
    expect(() => new optim.Adam([{ params: p(), lr: -1 }])).toThrow(/Adam: invalid lr in paramGroups\[0\]/);
    expect(() => new optim.Adam([{ params: p(), weight_decay: 1 }])).toThrow(/weight_decay.*paramGroups\[0\]/);
    expect(() => new optim.Adam([])).toThrow(/empty parameter list/);
    const w = param([2], 3);
    expect(() => new optim.Adam([{ params: [w] }, { params: [w] }])).toThrow(/more than one parameter group/);
    const opt = new optim.SGD(p(), { lr: 0.1 });
    opt.paramGroups[0].lr = -1;
    expect(() => opt.step()).toThrow(/SGD: invalid lr in paramGroups\[0\]/);
  });

  it('groups override defaults, lr is writable, extra keys are kept', () => {
    const a = param([5], 1);
    const b = param([5], 2);
    const opt = new optim.SGD([{ params: [a], lr: 0.5, l2: 0.01 }, { params: [b] }], { lr: 0.1 });
    expect(opt.paramGroups[0].lr).toBe(0.5);
    expect(opt.paramGroups[0].l2).toBe(0.01);
    expect(opt.paramGroups[1].lr).toBe(0.1);
    const a0 = a.f32.slice();
    a.grad = tensor(new Float32Array(5).fill(1)).keep();
    opt.paramGroups[0].lr = 0.25;
    opt.step();
    expect(Array.from(a.f32)).toEqual(Array.from(a0, (x) => Math.fround(x - 0.25)));
    const c = param([2], 3);
    opt.addParamGroup({ params: [c], momentum: 0.9 });
    expect(opt.paramGroups[2].momentum).toBe(0.9);
    expect(opt.paramGroups[2].lr).toBe(0.1);
    opt.zeroGrad();
    expect(Array.from(a.grad!.f32)).toEqual([0, 0, 0, 0, 0]);
    opt.zeroGrad(true);
    expect(a.grad).toBe(null);
  });
});

describe('optimizers: one multi-tensor call per group (foreach)', () => {
  // Tensors of the MLP benchmark's sizes (the 784x256 weight is cut into chunks over the
  // threads) and odd ones, in two groups.
  const shapes = [[256, 784], [256], [128, 256], [128], [10, 128], [10], [3, 7], [70_003]];
  const groupsOf = (ps: Tensor[]) => [{ params: ps.slice(0, 6) }, { params: ps.slice(6), lr: 0.003 }];
  /** Bit-identical (toEqual on 200k-element arrays is slow). */
  const expectSame = (x: Float32Array, y: Float32Array, what: string) => {
    const a = new Int32Array(x.buffer, x.byteOffset, x.length);
    const b = new Int32Array(y.buffer, y.byteOffset, y.length);
    let diff = a.length === b.length ? 0 : -1;
    for (let i = 0; i < a.length && diff >= 0; i++) if (a[i] !== b[i]) diff++;
    expect(diff, `${what}: elements that differ`).toBe(0);
  };
  const names: Record<string, string> = { SGD: 'sgd', Adagrad: 'adagrad', RMSprop: 'rmsprop', Adadelta: 'adadelta', Adam: 'adam', AdamW: 'adamw', Adamax: 'adamax', NAdam: 'nadam', RAdam: 'radam' };
  for (const threads of [2, 1]) {
    for (const [name, make] of ALL) {
      // A single-threaded build has a pool of one: only the 1-thread case runs there.
      it.skipIf(SINGLE_BUILD && threads > 1)(`${name}, ${threads} thread(s): bit-identical to one per-tensor kernel call each`, () => {
        const before = getThreads();
        setThreads(threads);
        try {
          const a = shapes.map((s, i) => param(s, 10 + i));
          const b = shapes.map((s, i) => param(s, 10 + i));
          const optA = make(groupsOf(a));
          const optB = make(groupsOf(b));
          // The reference: each queued tensor runs at once through its per-tensor export.
          const exportName = `tread_optim_${names[name.replace(/\(.*/, '')]}`;
          (optB as any).queue = (_kernel: number, ...args: number[]) => wasm()[exportName](...args, 0);
          for (let step = 0; step < 4; step++) {
            setGrads(a);
            setGrads(b);
            // Step counts differ per tensor: one parameter skips steps 1 and 2.
            if (step === 1 || step === 2) a[3].grad = b[3].grad = null;
            optA.step();
            optB.step();
          }
          a.forEach((p, i) => expectSame(p.f32, b[i].f32, `parameter ${i}`));
          a.forEach((p, i) => {
            const sa = optA.state.get(p)!;
            const sb = optB.state.get(b[i])!;
            expect(Object.keys(sa)).toEqual(Object.keys(sb));
            for (const k of Object.keys(sa)) {
              const x = sa[k];
              const y = sb[k];
              if (x instanceof Tensor) expectSame(x.f32, (y as Tensor).f32, `state ${i}.${k}`);
              else expect(x).toBe(y);
            }
          });
          [...a, ...b].forEach((t) => t.dispose());
          optA.dispose();
          optB.dispose();
        } finally {
          setThreads(before);
        }
      });
    }
  }

  it('the finite check names the first bad tensor of many, in a chunk of a large one', () => {
    const ps = shapes.map((s, i) => param(s, 30 + i, `p${i}`));
    const opt = new optim.Adam(ps);
    setGrads(ps);
    ps[7].grad!.f32[69_000] = NaN;
    ps[0].grad!.f32[150_000] = -Infinity;
    const before = ps.map((q) => q.f32.slice());
    expect(() => opt.step()).toThrow(/non-finite gradient \(-Infinity\) in parameter 'p0'.*element 150000/);
    ps[0].grad!.f32[150_000] = 0;
    expect(() => opt.step()).toThrow(/non-finite gradient \(NaN\) in parameter 'p7'.*element 69000/);
    ps.forEach((q, i) => expect(q.f32.every((x, k) => x === before[i][k]), `parameter ${i} changed`).toBe(true));
    ps[7].grad!.f32[69_000] = 0;
    opt.step();
    expect(ps[0].f32.some((x, k) => x !== before[0][k])).toBe(true);
    opt.zeroGrad();
    for (const p of ps) expect(p.grad!.f32.every((x) => x === 0)).toBe(true);
    ps.forEach((t) => t.dispose());
  });
});

describe('optimizers: non-finite gradients', () => {
  for (const [name, make] of ALL) {
    it(`${name}: a NaN/Inf gradient throws, naming the parameter, and changes nothing`, () => {
      const ps = [param([6, 5], 1, 'fc.weight'), param([5], 2, 'fc.bias')];
      const opt = make(ps);
      setGrads(ps);
      opt.step();
      setGrads(ps);
      const before = ps.map((q) => q.f32.slice());
      const snap = () => [...opt.state.values()].flatMap((st) => Object.entries(st).map(([k, v]) => [k, v instanceof Tensor ? Array.from(v.f32) : v]));
      const stateBefore = JSON.stringify(snap());
      for (const bad of [NaN, Infinity]) {
        ps[1].grad!.f32[3] = bad;
        expect(() => opt.step()).toThrow(new RegExp(`${name.replace(/\(.*/, '')}: non-finite gradient \\(${bad}\\) in parameter 'fc.bias'.*element 3.*unchanged`));
        ps.forEach((q, i) => expect(q.f32).toEqual(before[i]));
        expect(JSON.stringify(snap())).toBe(stateBefore);
      }
    });
  }
});

describe('optimizers: memory and threads', () => {
  it('steps allocate nothing after the first', () => {
    const ps = [param([300, 200], 1), param([200], 2)];
    const opt = new optim.Adam(ps, { amsgrad: true });
    setGrads(ps);
    opt.step();
    const before = liveStorage();
    for (let s = 0; s < 50; s++) opt.step();
    expect(liveStorage()).toEqual(before);
  });

  it.skipIf(SINGLE_BUILD)('a large tensor gives the same result on 1 and 2 threads', () => {
    const run = (threads: number) => {
      setThreads(threads);
      const ps = [param([1 << 18], 5)];
      const opt = new optim.Adam(ps, { lr: 0.01 });
      for (let s = 0; s < 3; s++) {
        setGrads(ps);
        opt.step();
      }
      return ps[0].f32.slice();
    };
    const one = run(1);
    const two = run(2);
    setThreads(2);
    expect(two).toEqual(one);
  });
});

describe('optimizers: with LR schedulers and fit()', () => {
  it('OneCycleLR writes lr and beta1 into Adam groups, and the step uses them', () => {
    const w = param([8], 1);
    const opt = new optim.Adam([w], { lr: 0.1 });
    const sched = new optim.lrScheduler.OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.04, 12);
    expect(opt.paramGroups[0].betas[0]).toBeCloseTo(0.95, 12);
    // A twin Adam with the same lr/betas set by hand takes the same first step.
    const twin = param([8], 1);
    const ref = new optim.Adam([twin], { lr: opt.paramGroups[0].lr, betas: [...opt.paramGroups[0].betas] as [number, number] });
    setGrads([w]);
    setGrads([twin]);
    opt.step();
    ref.step();
    expect(Array.from(w.f32)).toEqual(Array.from(twin.f32));
    sched.step();
    expect(opt.paramGroups[0].lr).toBeGreaterThan(0.04);
    expect(opt.paramGroups[0].betas[0]).toBeLessThan(0.95);
  });

  it('CyclicLR cycles SGD momentum', () => {
    const opt = new optim.SGD([param([4], 2)], { lr: 0.1, momentum: 0.9 });
    const sched = new optim.lrScheduler.CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2 });
    const seen: [number, number][] = [];
    for (let i = 0; i < 4; i++) {
      seen.push([opt.paramGroups[0].lr, opt.paramGroups[0].momentum]);
      sched.step();
    }
    expect(seen.map(([lr]) => +lr.toFixed(6))).toEqual([0.01, 0.055, 0.1, 0.055]);
    expect(seen.map(([, m]) => +m.toFixed(6))).toEqual([0.9, 0.85, 0.8, 0.85]);
  });
});

describe('optimizers: fit() compatibility', () => {
  it('an optimizer is an OptimizerLike (ts/train/types)', () => {
    const o: OptimizerLike = new optim.RMSprop([param([2], 1)]);
    expect(o.paramGroups[0].lr).toBe(0.01);
  });
});
