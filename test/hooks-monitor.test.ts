/**
 * Module.registerForwardHook (PyTorch's fn(module, inputs, output), a handle with remove())
 * and the Monitor's activation statistics for models that are not a Sequential: a custom
 * Module with its own forward (a residual block inside), whose statistics are checked
 * against the same layers run by hand on the probe batch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../ts/autograd/engine.js';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import * as nn from '../ts/nn/index.js';
import { add, mul } from '../ts/ops/arith.js';
import { manualSeed } from '../ts/nn/random.js';
import { SGD } from '../ts/optim/index.js';
import { DataLoader } from '../ts/data/loader.js';
import { TensorDataset } from '../ts/data/dataset.js';
import type { TrainContext } from '../ts/train/callbacks.js';
import { fit } from '../ts/train/fit.js';
import { Monitor } from '../ts/train/monitor.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const F = 6;

class Residual extends nn.Module {
  fc = new nn.Linear(8, 8);
  act = new nn.ReLU();
  forward(x: Tensor): Tensor {
    return add(x, this.act.forward(this.fc.forward(x)));
  }
}

/** Not a Sequential: named children and a forward that is not a chain. */
class Net extends nn.Module {
  stem = new nn.Linear(F, 8);
  stemAct = new nn.ReLU();
  block = new Residual();
  head = new nn.Linear(8, 3);
  forward(x: Tensor): Tensor {
    return this.head.forward(this.block.forward(this.stemAct.forward(this.stem.forward(x))));
  }
}

describe('registerForwardHook', () => {
  it('sees (module, inputs, output) after each forward, in registration order, through Sequential and custom forwards', () => {
    manualSeed(1);
    const lin = new nn.Linear(3, 2);
    const seq = new nn.Sequential(lin, new nn.ReLU());
    const calls: string[] = [];
    let seen: { m: nn.Module; inputs: any[]; out: Tensor } | null = null;
    const h1 = lin.registerForwardHook((m, inputs, out) => {
      calls.push('h1');
      seen = { m, inputs, out };
    });
    const h2 = lin.registerForwardHook(() => void calls.push('h2'));
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const y = noGrad(() => lin.forward(x));
    expect(calls).toEqual(['h1', 'h2']);
    expect(seen!.m).toBe(lin);
    expect(seen!.inputs).toEqual([x]);
    expect(seen!.out).toBe(y);
    noGrad(() => seq.forward(x));
    noGrad(() => seq.call(x));
    expect(calls).toEqual(['h1', 'h2', 'h1', 'h2', 'h1', 'h2']);
    h1.remove();
    h1.remove(); // idempotent
    noGrad(() => seq.forward(x));
    expect(calls.slice(6)).toEqual(['h2']);
    h2.remove();
    // With no hook left, the class's own forward is back (no wrapper).
    expect(Object.prototype.hasOwnProperty.call(lin, 'forward')).toBe(false);
    noGrad(() => seq.forward(x));
    expect(calls.length).toBe(7);
    // Hooks never enter the state dict or the parameter walk.
    lin.registerForwardHook(() => undefined);
    expect([...seq.stateDict().keys()]).toEqual(['0.weight', '0.bias']);
    expect(Object.keys(lin)).not.toContain('forward');
  });

  it('a hook that returns a tensor replaces the output (for later hooks, the caller and autograd)', () => {
    manualSeed(2);
    const lin = new nn.Linear(2, 2);
    const seq = new nn.Sequential(lin);
    const x = tensor([[1, -1]]);
    const plain = Array.from(noGrad(() => lin.forward(x)).toArray());
    const h = lin.registerForwardHook((_m, _i, out) => mul(out, 2));
    let later: number[] = [];
    lin.registerForwardHook((_m, _i, out) => void (later = Array.from(out.toArray())));
    const y = seq.forward(x);
    expect(Array.from(y.toArray())).toEqual(plain.map((v) => v * 2));
    expect(later).toEqual(plain.map((v) => v * 2));
    y.backward(tensor([[1, 1]]));
    // d(2·(xWᵀ + b))/db = 2 per output.
    expect(Array.from(lin.bias!.grad!.toArray())).toEqual([2, 2]);
    h.remove();
    expect(Array.from(noGrad(() => seq.forward(x)).toArray())).toEqual(plain);
  });

  it('refuses a non-function', () => {
    expect(() => new nn.ReLU().registerForwardHook(3 as any)).toThrow(/ReLU.registerForwardHook: expected a function/);
  });
});

describe('Monitor on any Module tree', () => {
  it('logs mean/std of every leaf output and dead ReLUs by dotted name, equal to a hand-run of the layers', async () => {
    manualSeed(3);
    const model = new Net();
    const n = 64;
    const xs = new Float32Array(n * F).map((_, i) => Math.sin(i * 1.7) * 2);
    const ys = new Int32Array(n).map((_, i) => i % 3);
    const loader = new DataLoader(new TensorDataset(tensor(xs, [n, F]), tensor(ys, [n])), { batchSize: 16 });
    const optimizer = new SGD(model.parameters(), { lr: 0.05 });
    // The probe is the first 256 training samples across batches: here all 64 rows (no shuffling); recompute by hand after the Monitor.
    const expected: Record<string, number>[] = [];
    const byHand = {
      onEpochEnd: (ctx: TrainContext) => {
        const e: Record<string, number> = {};
        noGrad(() => {
          model.eval();
          const x = tensor(xs, [n, F]);
          const stem = model.stem.forward(x);
          const stemAct = model.stemAct.forward(stem);
          const fc = model.block.fc.forward(stemAct);
          const act = model.block.act.forward(fc);
          const head = model.head.forward(add(stemAct, act));
          for (const [k, t] of Object.entries({ stem, stemAct, 'block.fc': fc, 'block.act': act, head })) {
            const d = Array.from(t.f32);
            const mean = d.reduce((a, b) => a + b, 0) / d.length;
            e[`act_mean/${k}`] = mean;
            e[`act_std/${k}`] = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
          }
          for (const [k, t] of Object.entries({ stemAct, 'block.act': act })) {
            let dead = 0;
            for (let u = 0; u < 8; u++) if (Array.from({ length: n }, (_, r) => t.f32[r * 8 + u]).every((v) => v <= 0)) dead++;
            e[`dead_relu/${k}`] = dead / 8;
          }
          model.train();
        });
        expected.push(e);
        for (const k of Object.keys(e)) expect(ctx.logs[k], k).toBeCloseTo(e[k], 5);
      },
    };
    const r = await fit(model, { train: loader, optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: 2, callbacks: [new Monitor(), byHand] });
    expect(expected.length).toBe(2);
    const last = r.history.last!;
    expect(Object.keys(last).filter((k) => k.startsWith('act_mean/')).sort()).toEqual(['act_mean/block.act', 'act_mean/block.fc', 'act_mean/head', 'act_mean/stem', 'act_mean/stemAct']);
    expect(Object.keys(last).filter((k) => k.startsWith('dead_relu/')).sort()).toEqual(['dead_relu/block.act', 'dead_relu/stemAct']);
    expect(last['grad_norm/block.fc.weight']).toBeGreaterThan(0);
    // The hooks are gone afterwards.
    for (const m of model.modules()) expect(Object.prototype.hasOwnProperty.call(m, 'forward')).toBe(false);
    expect(r.warnings.join('\n')).not.toMatch(/activation statistics unavailable/);
  });
});
