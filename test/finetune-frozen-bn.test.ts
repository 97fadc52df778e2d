/**
 * Frozen BatchNorm / Dropout (issue 16): freeze(..., { batchNorm: 'eval' }) pins the frozen
 * layers in eval mode through fit()'s model.train(); Module.pinMode is the mechanism.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import * as nn from '../ts/nn/index.js';
import { manualSeed } from '../ts/nn/random.js';
import { SGD } from '../ts/optim/index.js';
import { DataLoader } from '../ts/data/loader.js';
import { TensorDataset } from '../ts/data/dataset.js';
import { fit } from '../ts/train/fit.js';
import { freeze, trainableSummary, unfreeze } from '../ts/train/finetune.js';
import { noGrad } from '../ts/autograd/engine.js';
import { Linear, Rng, Sequential } from './helpers/toy.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

const F = 4;

function dataset(n: number, seed: number): TensorDataset {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = new Float32Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    // Features with a mean far from 0 and a spread far from 1, so running statistics must move.
    for (let f = 0; f < F; f++) x[i * F + f] = 3 * rnd() + 2 + (f % 3 === y[i] ? 1.5 : 0);
  }
  return new TensorDataset(tensor(x, [n, F]), tensor(y, [n]));
}

/** backbone '0' = Linear, BatchNorm, ReLU, Dropout; head '1' = Linear. */
function makeModel(): nn.Sequential {
  manualSeed(5);
  const backbone = new nn.Sequential(new nn.Linear(F, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Dropout(0.5));
  return new nn.Sequential(backbone, new nn.Linear(8, 3));
}

function snapshot(m: nn.Module, prefix: string): Map<string, number[]> {
  return new Map([...m.stateDict()].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k, [...t.data]]));
}

const probe = () => tensor(Array.from({ length: 6 * F }, (_, i) => ((i * 7) % 11) / 3), [6, F]);
/** The backbone's output on a fixed batch, in whatever mode the model is in. */
function backboneOut(m: nn.Sequential): number[] {
  return noGrad(() => [...(m.at(0).forward(probe()) as Tensor).data]);
}

async function train(m: nn.Sequential, epochs: number): Promise<void> {
  const optimizer = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  const loader = new DataLoader(dataset(90, 1), { batchSize: 15, shuffle: true, seed: 2 });
  await fit(m, { train: loader, optimizer, lossFn: new nn.CrossEntropyLoss(), epochs });
}

describe('freeze with batchNorm: eval', () => {
  it('keeps every frozen parameter, buffer and the frozen outputs bit-identical through fit(); unfreeze lets them move', async () => {
    const m = makeModel();
    expect(freeze(m, '0', { batchNorm: 'eval' })).toEqual(['0.0.weight', '0.0.bias', '0.1.weight', '0.1.bias']);
    m.train();
    const before = snapshot(m, '0.');
    expect(before.has('0.1.running_mean')).toBe(true);
    const outBefore = backboneOut(m);
    const headBefore = snapshot(m, '1.');
    await train(m, 2);
    expect(m.training).toBe(true);
    expect(snapshot(m, '0.')).toEqual(before); // running_mean, running_var, num_batches_tracked included
    expect(backboneOut(m)).toEqual(outBefore); // Dropout is off and BatchNorm uses its statistics
    expect(snapshot(m, '1.')).not.toEqual(headBefore);

    const s = trainableSummary(m);
    expect(s.frozen).toEqual(['0.0.weight', '0.0.bias', '0.1.weight', '0.1.bias']);
    expect(s.frozenStatistics).toEqual(['0.1.running_mean', '0.1.running_var', '0.1.num_batches_tracked']);
    expect(s.evalPinned).toEqual(['0.0', '0.1', '0.2', '0.3']);

    expect(unfreeze(m, '0')).toEqual(['0.0.weight', '0.0.bias', '0.1.weight', '0.1.bias']);
    expect(trainableSummary(m).frozenStatistics).toEqual([]);
    await train(m, 1);
    const after = snapshot(m, '0.');
    for (const k of ['0.0.weight', '0.1.weight', '0.1.running_mean', '0.1.running_var']) expect(after.get(k)).not.toEqual(before.get(k));
    expect(after.get('0.1.num_batches_tracked')).toEqual([6]);
  });

  it("without the option (or with 'train'), frozen BatchNorm statistics move in fit() as in PyTorch", async () => {
    const m = makeModel();
    freeze(m, '0', { batchNorm: 'train' });
    const before = snapshot(m, '0.1.running');
    await train(m, 1);
    expect(snapshot(m, '0.1.running')).not.toEqual(before);
    expect(trainableSummary(m).frozenStatistics).toEqual([]);
  });

  it('matches a BatchNorm without parameters by its buffers, and a RegExp by full names', () => {
    manualSeed(1);
    const m = new nn.Sequential(new nn.Linear(F, 8), new nn.BatchNorm1d(8, { affine: false }), new nn.Linear(8, 2));
    expect(freeze(m, /^[01]\./, { batchNorm: 'eval' })).toEqual(['0.weight', '0.bias']);
    m.train();
    expect([m.at(0).training, m.at(1).training, m.at(2).training]).toEqual([false, false, true]);
    expect(trainableSummary(m).frozenStatistics).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']);
  });

  it('checks its options', () => {
    const m = makeModel();
    expect(() => freeze(m, '0', { batch_norm: 'eval' } as any)).toThrow(/freeze: unknown option 'batch_norm' \(did you mean 'batchNorm'\?/);
    expect(() => freeze(m, '0', { batchNorm: 'frozen' } as any)).toThrow(/freeze: batchNorm must be one of 'train', 'eval', got "frozen"/);
    // Nothing was frozen by the refused calls.
    expect(trainableSummary(m).frozen).toEqual([]);
    const toy = new Sequential(new Linear(F, 3, new Rng(1)));
    expect(() => freeze(toy, '0', { batchNorm: 'eval' })).toThrow(/batchNorm: 'eval' needs an nn.Module/);
  });
});

describe('Module.pinMode', () => {
  it("keeps a pinned module's subtree in its mode through train() and eval() of its ancestors", () => {
    const m = makeModel();
    const bn = m.at(0) as nn.Sequential;
    bn.pinMode(false);
    m.train();
    expect([m.training, bn.training, bn.at(1).training, bn.at(3).training, m.at(1).training]).toEqual([true, false, false, false, true]);
    // MC dropout: a Dropout pinned in training mode stays active under eval().
    const drop = bn.at(3);
    drop.pinMode(true);
    m.eval();
    expect([m.training, bn.at(1).training, drop.training]).toEqual([false, false, true]);
    drop.pinMode(null);
    bn.pinMode(null);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    expect(() => bn.pinMode('eval' as any)).toThrow(/Sequential.pinMode: expected true, false or null, got eval/);
  });
});
