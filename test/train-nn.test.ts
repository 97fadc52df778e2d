/**
 * fit(), checkpoints and resuming on tread's own nn / optim / data (test/train.test.ts covers
 * the same loop on a plain-JS kit).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import * as nn from '../ts/nn/index.js';
import { manualSeed } from '../ts/nn/random.js';
import { Adam, SGD } from '../ts/optim/index.js';
import { add } from '../ts/ops/index.js';
import { OneCycleLR, ReduceLROnPlateau } from '../ts/optim/lr_scheduler/index.js';
import { DataLoader } from '../ts/data/loader.js';
import { TensorDataset } from '../ts/data/dataset.js';
import type { TrainContext } from '../ts/train/callbacks.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../ts/train/checkpoint.js';
import { EarlyStopping } from '../ts/train/early_stopping.js';
import { fit } from '../ts/train/fit.js';
import { ModelCheckpoint, resumeFrom } from '../ts/train/model_checkpoint.js';
import { Monitor } from '../ts/train/monitor.js';
import { parseSafetensors } from '../ts/train/safetensors.js';

let trainSet: TensorDataset;
let valSet: TensorDataset;
beforeAll(async () => {
  await init({ threads: 2 });
  trainSet = blobs(N, 1);
  valSet = blobs(120, 2);
});

const dir = mkdtempSync(join(tmpdir(), 'tread-train-nn-'));
const F = 10;
const N = 300;

function blobs(n: number, seed: number): TensorDataset {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = new Float32Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 4;
    for (let f = 0; f < F; f++) x[i * F + f] = (rnd() - 0.5) * 2 + (f % 4 === y[i] ? 1.5 : 0);
  }
  return new TensorDataset(tensor(x, [n, F]), tensor(y, [n]));
}


function makeModel(seed: number, hidden = 32): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(F, hidden), new nn.BatchNorm1d(hidden), new nn.ReLU(), new nn.Dropout(0.2), new nn.Linear(hidden, 4));
}

function values(m: nn.Module): Record<string, number[]> {
  return Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, [...t.data]]));
}

describe('fit on tread.nn', () => {
  it('trains an MLP with BatchNorm and Dropout to high accuracy, with a per-batch OneCycleLR', async () => {
    const model = makeModel(1);
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const train = new DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 3 });
    const scheduler = new OneCycleLR(optimizer, { maxLr: 0.02, epochs: 6, stepsPerEpoch: train.length });
    const r = await fit(model, { train, val: new DataLoader(valSet, { batchSize: 60 }), optimizer, scheduler, lossFn: new nn.CrossEntropyLoss(), epochs: 6, metrics: ['accuracy'], callbacks: [new Monitor()] });
    expect(r.history.last!.val_accuracy).toBeGreaterThan(0.9);
    const lrs = r.history.series('lr');
    expect(lrs[0]).toBeLessThan(lrs[2]); // warm-up, per batch
    expect(r.history.last!['dead_relu/2']).toBeGreaterThanOrEqual(0);
    expect(r.history.last!['grad_norm/0.weight']).toBeGreaterThan(0);
  });

  it('ReduceLROnPlateau gets the validation loss', async () => {
    const model = makeModel(2);
    const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5 });
    const seen: number[] = [];
    const orig = scheduler.step.bind(scheduler);
    scheduler.step = (m?: number) => {
      seen.push(m as number);
      orig(m as number);
    };
    const r = await fit(model, { train: new DataLoader(trainSet, { batchSize: 50 }), val: new DataLoader(valSet, { batchSize: 60 }), optimizer, scheduler, lossFn: new nn.CrossEntropyLoss(), epochs: 3 });
    expect(seen).toEqual(r.history.series('val_loss'));
  });

  it('resuming after a crash gives exactly the weights of an uninterrupted run (Adam, OneCycleLR, shuffle, Dropout, BatchNorm)', async () => {
    const E = 5;
    const setup = (seed: number) => {
      const model = makeModel(seed);
      const optimizer = new Adam(model.parameters(), { lr: 0.01 });
      const train = new DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 11 });
      const scheduler = new OneCycleLR(optimizer, { maxLr: 0.02, epochs: E, stepsPerEpoch: train.length });
      return { model, optimizer, train, scheduler };
    };
    const full = setup(5);
    const rFull = await fit(full.model, { ...full, lossFn: new nn.CrossEntropyLoss(), epochs: E });

    const file = join(dir, 'resume.safetensors');
    const a = setup(5);
    const crash = { onBatchBegin: (ctx: TrainContext) => { if (ctx.epoch === 3 && ctx.batch === 4) throw new Error('power cut'); } };
    await expect(fit(a.model, { ...a, lossFn: new nn.CrossEntropyLoss(), epochs: E, callbacks: [new ModelCheckpoint({ file }), crash] })).rejects.toThrow('power cut');

    // A fresh process: other initial weights, other global seed, a new loader at epoch 0.
    const b = setup(999);
    manualSeed(12345);
    const resume = await resumeFrom(file, { model: b.model, optimizer: b.optimizer, scheduler: b.scheduler });
    expect(resume.initialEpoch).toBe(3);
    const rB = await fit(b.model, { ...b, lossFn: new nn.CrossEntropyLoss(), epochs: E, ...resume });
    expect(values(b.model)).toEqual(values(full.model));
    expect(rB.history.series('loss')).toEqual(rFull.history.series('loss'));
    expect(b.optimizer.paramGroups[0].lr).toBe(full.optimizer.paramGroups[0].lr);
  });

  it('checkpoints BatchNorm buffers in PyTorch layout and refuse a model of another shape, changing nothing', async () => {
    const model = makeModel(6);
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    await fit(model, { train: new DataLoader(trainSet, { batchSize: 50 }), optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: 1 });
    const file = join(dir, 'bn.safetensors');
    await saveCheckpoint(file, { model, optimizer, training: { epoch: 1, globalStep: 6 } });
    const parsed = parseSafetensors(new Uint8Array(readFileSync(file)));
    expect(parsed.tensors.get('1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [], data: Int32Array.from([6]) });
    expect(parsed.tensors.get('optimizer.state.0.exp_avg')!.shape).toEqual([32, F]);

    const same = makeModel(7);
    const opt2 = new Adam(same.parameters(), { lr: 0.5 });
    await loadCheckpoint(file, { model: same, optimizer: opt2 });
    expect(values(same)).toEqual(values(model));
    expect(opt2.paramGroups[0].lr).toBe(0.01);

    const other = makeModel(8, 16);
    const before = values(other);
    const err = await loadCheckpoint(file, { model: other, optimizer: new Adam(other.parameters()) }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/'0\.weight': shape \[32, 10\] in the checkpoint .*, \[16, 10\] in the model/);
    expect(err.message).toMatch(/'1\.running_mean': shape \[32\]/);
    expect(values(other)).toEqual(before);
  });

  it('a NaN in a weight is caught, rolled back (model and Adam state) and named', async () => {
    const model = makeModel(9);
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    let afterEpoch0: Record<string, number[]> = {};
    let adamAfterEpoch0: number[] = [];
    const r = await fit(model, {
      train: new DataLoader(trainSet, { batchSize: 50 }),
      optimizer,
      lossFn: new nn.CrossEntropyLoss(),
      epochs: 4,
      callbacks: [
        {
          onEpochEnd: (ctx: TrainContext) => {
            if (ctx.epoch === 0) {
              afterEpoch0 = values(model);
              adamAfterEpoch0 = [...(optimizer.stateDict().state[0].exp_avg as any).data];
            }
          },
          onBatchBegin: (ctx: TrainContext) => {
            if (ctx.epoch === 1 && ctx.batch === 2) (model.at(4) as nn.Linear).weight.f32[3] = NaN;
          },
        },
      ],
    });
    expect(r.nonFinite).toMatchObject({ what: 'loss', epoch: 1, batch: 2, layer: '4.weight', restoredEpoch: 0 });
    expect(values(model)).toEqual(afterEpoch0);
    expect([...(optimizer.stateDict().state[0].exp_avg as any).data]).toEqual(adamAfterEpoch0);
    expect(r.history.epochs.length).toBe(1);
  });

  it('names the first layer whose output overflows inside a custom (non-Sequential) Module', async () => {
    manualSeed(11);
    class Net extends nn.Module {
      stem = new nn.Linear(F, 16);
      block = new nn.Sequential(new nn.ReLU(), new nn.Linear(16, 16), new nn.ReLU());
      head = new nn.Linear(16, 4);
      forward(x: any) {
        const h = this.stem.forward(x);
        return this.head.forward(add(this.block.forward(h), h));
      }
    }
    const model = new Net();
    const optimizer = new SGD(model.parameters(), { lr: 0.05 });
    const r = await fit(model, {
      train: new DataLoader(trainSet, { batchSize: 50 }),
      optimizer,
      lossFn: new nn.CrossEntropyLoss(),
      epochs: 2,
      callbacks: [{ onBatchBegin: (ctx: TrainContext) => void (ctx.epoch === 1 && ctx.batch === 0 && model.block.at(1)!.parameters()[0].f32.fill(3e38)) }],
    });
    // The stem's output is finite; the Linear inside the block overflows first.
    expect(r.nonFinite).toMatchObject({ epoch: 1, batch: 0, layer: 'block.1', restoredEpoch: 0 });
    expect(r.nonFinite!.where).toMatch(/output of layer 'block\.1' \(Linear\) is the first to go non-finite/);
    expect(Object.values(values(model)).flat().every(Number.isFinite)).toBe(true);
  });

  it('early stopping restores the best epoch on a real model', async () => {
    const model = makeModel(10);
    const optimizer = new Adam(model.parameters(), { lr: 0.02 });
    // Shifted validation labels: learning the training set makes val_loss worse.
    const badVal = new TensorDataset(valSet.tensors[0], tensor(Int32Array.from(valSet.tensors[1].data, (c) => (c + 1) % 4), [120]));
    const snaps: Record<string, number[]>[] = [];
    const es = new EarlyStopping({ patience: 2, restoreBestWeights: true });
    const r = await fit(model, {
      train: new DataLoader(trainSet, { batchSize: 50 }),
      val: new DataLoader(badVal, { batchSize: 60 }),
      optimizer,
      lossFn: new nn.CrossEntropyLoss(),
      epochs: 15,
      callbacks: [{ onEpochEnd: () => void snaps.push(values(model)) }, es],
    });
    const vl = r.history.series('val_loss');
    const best = vl.indexOf(Math.min(...vl));
    expect(r.history.epochs.length).toBeLessThan(15);
    expect(best).toBeLessThan(vl.length - 1);
    expect(values(model)).toEqual(snaps[best]);
  });
});
