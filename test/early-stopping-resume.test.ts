/**
 * EarlyStopping's copy of the best weights travels with checkpoints: a run that crashes after
 * its best epoch, resumed from the last checkpoint in a fresh "process", stops at the same
 * epoch and restores the same best weights as an uninterrupted run. The monitored value is
 * scripted (a callback writes it into the epoch logs) so the best epoch is known.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import * as nn from '../ts/nn/index.js';
import { manualSeed } from '../ts/nn/random.js';
import { Adam } from '../ts/optim/index.js';
import { DataLoader } from '../ts/data/loader.js';
import { TensorDataset } from '../ts/data/dataset.js';
import type { TrainContext } from '../ts/train/callbacks.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../ts/train/checkpoint.js';
import { EarlyStopping } from '../ts/train/early_stopping.js';
import { fit } from '../ts/train/fit.js';
import { ModelCheckpoint, resumeFrom } from '../ts/train/model_checkpoint.js';
import { parseSafetensors } from '../ts/train/safetensors.js';

const F = 5;
const dir = mkdtempSync(join(tmpdir(), 'tread-es-resume-'));
let data: TensorDataset;

beforeAll(async () => {
  await init({ threads: 2 });
  const n = 96;
  const x = new Float32Array(n * F).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 1.3));
  const y = new Int32Array(n).map((_, i) => (x[i * F] + x[i * F + 1] > 0 ? 1 : 0));
  data = new TensorDataset(tensor(x, [n, F]), tensor(y, [n]));
});

// Best (lowest) at epoch index 2; patience 3 stops training after epoch index 5 of 8.
const SCORES = [5, 3, 2, 4, 4.5, 6, 7, 8];
const EPOCHS = SCORES.length;

function makeRun(seed: number) {
  manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(F, 12), new nn.BatchNorm1d(12), new nn.ReLU(), new nn.Linear(12, 2));
  const optimizer = new Adam(model.parameters(), { lr: 0.05 });
  const train = new DataLoader(data, { batchSize: 16, shuffle: true, seed: 11 });
  const earlyStopping = new EarlyStopping({ monitor: 'score', mode: 'min', patience: 3, restoreBestWeights: true });
  return { model, optimizer, train, earlyStopping };
}

const values = (m: nn.Module) => Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, Array.from(t.data)]));
const scorer = { onEpochEnd: (ctx: TrainContext) => void (ctx.logs.score = SCORES[ctx.epoch]) };

describe('early stopping best weights in checkpoints', () => {
  it('a run that crashes after its best epoch resumes, stops and restores the best weights', async () => {
    // Uninterrupted: remember the weights after every epoch.
    const full = makeRun(1);
    const perEpoch: Record<string, number[]>[] = [];
    const keep = { onEpochEnd: () => void perEpoch.push(values(full.model)) };
    const rFull = await fit(full.model, { train: full.train, optimizer: full.optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: EPOCHS, callbacks: [scorer, full.earlyStopping, keep] });
    expect(rFull.history.epochs.length).toBe(6);
    expect(full.earlyStopping.bestEpoch).toBe(2);
    expect(values(full.model)).toEqual(perEpoch[2]);
    expect(perEpoch[5]).not.toEqual(perEpoch[2]);

    // Interrupted: checkpoint every epoch, crash at the end of epoch 3 (after its checkpoint).
    const file = join(dir, 'last.safetensors');
    const a = makeRun(1);
    const ckpt = new ModelCheckpoint({ file, earlyStopping: a.earlyStopping });
    const crash = { onEpochEnd: (ctx: TrainContext) => { if (ctx.epoch === 3) throw new Error('crash'); } };
    const err = await fit(a.model, { train: a.train, optimizer: a.optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: EPOCHS, callbacks: [scorer, a.earlyStopping, ckpt, crash] }).catch((e) => e);
    expect(err.message).toBe('crash');
    const parsed = parseSafetensors(new Uint8Array(readFileSync(file)));
    expect(parsed.tensors.get('early_stopping.best.0.weight')!.data).toEqual(Float32Array.from(perEpoch[2]['0.weight']));
    expect(parsed.tensors.get('early_stopping.best.1.num_batches_tracked')!.dtype).toBe('I64');

    // A fresh "process": other initial weights; only the checkpoint knows epoch 2's weights.
    const b = makeRun(999);
    const resume = await resumeFrom(file, { model: b.model, optimizer: b.optimizer, earlyStopping: b.earlyStopping });
    expect(resume.initialEpoch).toBe(4);
    expect(b.earlyStopping.bestEpoch).toBe(2);
    expect(b.earlyStopping.wait).toBe(1);
    expect(b.earlyStopping.bestWeights!.get('0.weight')!.data).toEqual(Float32Array.from(perEpoch[2]['0.weight']));
    const rB = await fit(b.model, { train: b.train, optimizer: b.optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: EPOCHS, callbacks: [scorer, b.earlyStopping], ...resume });
    expect(rB.history.epochs.length).toBe(6);
    expect(rB.stopReason).toMatch(/early stopping: score did not improve for 3 epoch\(s\) \(best 2.0000 at epoch 3\)/);
    expect(values(b.model)).toEqual(perEpoch[2]);
    expect(values(b.model)).toEqual(values(full.model));
  });

  it('a ModelCheckpoint listed before its EarlyStopping still saves this epoch\'s counters', async () => {
    const a = makeRun(3);
    const file = join(dir, 'order.safetensors');
    const ckpt = new ModelCheckpoint({ file, earlyStopping: a.earlyStopping });
    const seen: unknown[] = [];
    // Reads the file each epoch, after both callbacks ran (listed last; depends on nothing).
    const read = { onEpochEnd: async () => void seen.push({ saved: (await loadCheckpoint(file, { model: a.model })).training?.earlyStopping, live: a.earlyStopping.state() }) };
    await fit(a.model, { train: a.train, optimizer: a.optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: 4, callbacks: [scorer, ckpt, a.earlyStopping, read] });
    expect(seen.length).toBe(4);
    for (const s of seen as { saved: unknown; live: unknown }[]) expect(s.saved).toEqual(s.live);
    expect((seen[3] as any).live).toMatchObject({ bestEpoch: 2, wait: 1 });
  });

  it('writes no best-weights section without restoreBestWeights, and refuses a copy that does not fit the model', async () => {
    const a = makeRun(2);
    const es = new EarlyStopping({ monitor: 'score', patience: 3 });
    const file = join(dir, 'plain.safetensors');
    await fit(a.model, { train: a.train, optimizer: a.optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: 2, callbacks: [scorer, es, new ModelCheckpoint({ file, earlyStopping: es })] });
    const names = [...parseSafetensors(new Uint8Array(readFileSync(file))).tensors.keys()];
    expect(names.some((n) => n.startsWith('early_stopping.'))).toBe(false);
    const loaded = await loadCheckpoint(file, { model: a.model });
    expect(loaded.bestWeights).toBeNull();

    // A best-weights copy with a wrong shape: the load fails and changes nothing.
    const bad = join(dir, 'bad.safetensors');
    const snap = new Map([['0.weight', { shape: [3], dtype: 'float32' as const, data: new Float32Array(3) }]]);
    await saveCheckpoint(bad, { model: a.model, bestWeights: snap });
    const before = values(a.model);
    await expect(loadCheckpoint(bad, { model: a.model })).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(bad, { model: a.model })).rejects.toThrow(/early-stopping best weights .*'early_stopping.best.0.weight': F32 \[3\] in the checkpoint .*float32 \[12, 5\] in the model/s);
    expect(values(a.model)).toEqual(before);
  });
});
