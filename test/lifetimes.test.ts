/**
 * The lifetime rule of ts/tensor/lifetime.ts beyond temporaries: owned tensors that a whole
 * step did not use are spilled out of wasm memory (and come back on use), liveStorage()
 * does not count what GC freed, and snapshots made with clone() survive training steps.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { liveStorage } from '../ts/tensor/storage.js';

const { nn, optim } = tread;

beforeAll(async () => {
  await tread.init({ threads: 2 });
});

/** Values in [-1, 1), deterministic. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

describe('owned tensors a step did not use are spilled, and come back on use', () => {
  it('moves an unused tensor out of wasm memory and back, with the same values', () => {
    const src = values(50_000, 1);
    const t = tread.tensor(src, [250, 200]);
    const view = t.reshapeView([50_000]);
    const before = liveStorage();
    endStep(); // the step that made it
    endStep(); // one step without a use (a DataLoader loop ends two steps an iteration)
    expect(liveStorage().bytes).toBe(before.bytes);
    expect(t.storage.isSpilled).toBe(false);
    endStep(); // two steps without a use: out
    expect(liveStorage().bytes).toBe(before.bytes - 200_000);
    expect(liveStorage().spills).toBe(before.spills + 1);
    expect(t.storage.isSpilled).toBe(true);
    // Any use brings it back, for every view of the storage.
    expect(Array.from(view.data.subarray(0, 5))).toEqual(Array.from(src.subarray(0, 5)));
    expect(t.storage.isSpilled).toBe(false);
    expect(liveStorage().bytes).toBe(before.bytes);
    expect(t.toArray()).toEqual(src);
    const s = tread.sum(t).item();
    expect(s).toBeCloseTo(src.reduce((a, b) => a + b, 0), 1);
    // Writes through a fresh view land in the tensor.
    t.f32[3] = 42;
    endStep();
    endStep();
    endStep();
    expect(t.storage.isSpilled).toBe(true);
    expect(t.f32[3]).toBe(42);
  });

  it('keeps tensors used every step, kept tensors, parameters and their gradients in place', () => {
    const data = tread.tensor(values(64, 2), [8, 8]);
    const kept = tread.tensor(values(64, 3), [8, 8]).keep();
    const layer = new nn.Linear(8, 4);
    const opt = new optim.SGD(layer.parameters(), { lr: 0.01 });
    for (let i = 0; i < 5; i++) {
      opt.zeroGrad();
      tread.sum(layer.forward(data)).backward();
      opt.step(); // ends the step
    }
    expect(data.storage.isSpilled).toBe(false);
    expect(kept.storage.isSpilled).toBe(false);
    for (const p of layer.parameters()) {
      expect(p.storage.isSpilled).toBe(false);
      expect(p.grad!.storage.isSpilled).toBe(false);
    }
  });

  it('does not spill a tensor used once per DataLoader iteration (two step ends an iteration)', () => {
    for (let i = 0; i < 3; i++) endStep(); // what earlier tests left idle goes now, not in the count below
    nn.manualSeed(2);
    const layer = new nn.Linear(4, 2);
    const opt = new optim.SGD(layer.parameters(), { lr: 0.01 });
    const scale = tread.tensor(values(2, 9), [2]); // a constant of the user's, used every iteration
    const set = new tread.data.TensorDataset(tread.tensor(values(64, 4), [16, 4]), tread.tensor(values(16, 5), [16, 1]));
    const loader = new tread.data.DataLoader(set, { batchSize: 4, shuffle: true, seed: 1 });
    const spills = liveStorage().spills;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const [x] of loader) {
        opt.zeroGrad();
        tread.sum(tread.mul(layer.forward(x), scale)).backward();
        opt.step();
      }
    }
    expect(scale.storage.isSpilled).toBe(false);
    expect(liveStorage().spills).toBe(spills); // nor the loader's own order tensor
  });

  it('keeps the loop that makes its inputs with tensor() every step flat in wasm memory', () => {
    const model = new nn.Sequential(new nn.Linear(16, 32), new nn.ReLU(), new nn.Linear(32, 4));
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const lossFn = new nn.CrossEntropyLoss();
    const step = (i: number) => {
      const x = tread.tensor(values(64 * 16, i), [64, 16]);
      const y = tread.tensor(new Int32Array(64).map((_, j) => (i + j) % 4), [64]);
      opt.zeroGrad();
      lossFn.forward(model.forward(x), y).backward();
      opt.step();
    };
    for (let i = 0; i < 20; i++) step(i);
    const live = liveStorage();
    const mem = tread.memoryBytes();
    for (let i = 0; i < 3000; i++) step(i); // 12 MiB of inputs in all: a leak would show
    expect(liveStorage().bytes).toBe(live.bytes);
    expect(liveStorage().count).toBe(live.count);
    expect(tread.memoryBytes()).toBe(mem);
  });
});

describe('liveStorage()', () => {
  it('does not count storages that the garbage collector freed', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = async () => {
      for (let round = 0; round < 5; round++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    endStep();
    endStep();
    await settle(); // what earlier tests dropped
    const base = liveStorage();
    (() => {
      // Kept results: neither the step scope nor spilling touches them, only dispose() or GC.
      for (let i = 0; i < 100; i++) tread.mul(tread.tensor(values(256, i)), 2).keep();
    })();
    endStep();
    endStep();
    endStep(); // the inputs made from data are spilled; the kept results stay
    expect(liveStorage().count).toBe(base.count + 100);
    // Finalizers run after a collection, on a later turn of the event loop.
    for (let round = 0; round < 10 && liveStorage().count > base.count; round++) await settle();
    expect(liveStorage().count).toBe(base.count);
    expect(liveStorage().bytes).toBe(base.bytes);
  });
});

describe('snapshots of a state dict', () => {
  function trainedModel() {
    nn.manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 2));
    const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
    const x = tread.tensor(values(40, 5), [10, 4]);
    const y = tread.tensor(new Int32Array(10).map((_, i) => i % 2), [10]);
    const lossFn = new nn.CrossEntropyLoss();
    const step = () => {
      opt.zeroGrad();
      lossFn.forward(model.forward(x), y).backward();
      opt.step();
    };
    return { model, step };
  }

  it('clone() of every entry survives later steps, and loadStateDict puts it back', () => {
    const { model, step } = trainedModel();
    step();
    const snapshot = new Map([...model.stateDict()].map(([k, t]) => [k, tread.clone(t)]));
    const expected = new Map([...model.stateDict()].map(([k, t]) => [k, Array.from(t.toArray())]));
    step();
    step();
    step();
    // The model moved on (so restoring is not trivially true) ...
    expect(Array.from(model.stateDict().get('0.weight')!.toArray())).not.toEqual(expected.get('0.weight'));
    model.loadStateDict(snapshot);
    // ... and comes back exactly, buffers (running statistics, num_batches_tracked) included.
    for (const [k, t] of model.stateDict()) expect(Array.from(t.toArray()), k).toEqual(expected.get(k));
  });

  it('a clone of a temporary is still a temporary', () => {
    const a = tread.tensor([1, 2, 3]);
    const tmp = tread.mul(a, 2);
    const c = tread.clone(tmp);
    expect(c.storage.temporary).toBe(true);
    expect(tread.clone(a).storage.temporary).toBe(false);
    expect(tread.clone(tmp.keep()).storage.temporary).toBe(false);
  });

  it('loadStateDict names the freed entry and keeps the hint to .keep() it', () => {
    const { model, step } = trainedModel();
    const sd = new Map([...model.stateDict()].map(([k, t]) => [k, t.dtype === 'float32' ? tread.mul(t, 1) : tread.clone(t)])); // temporaries
    step();
    step();
    expect(() => model.loadStateDict(sd)).toThrow(/0\.weight: the tensor given was already freed \(.*released.*Call \.keep\(\)/s);
  });
});
