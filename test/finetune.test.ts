import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { saveWeights } from '../ts/train/checkpoint.js';
import { fit } from '../ts/train/fit.js';
import { freeze, loadPretrained, paramGroupsByPrefix, replaceLastLayer, trainableParameters, trainableSummary, unfreeze } from '../ts/train/finetune.js';
import * as nn from '../ts/nn/index.js';
import { blobs, crossEntropy, Linear, Loader, ReLU, Rng, Sequential, SGD } from './helpers/toy.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

const dir = mkdtempSync(join(tmpdir(), 'tread-ft-'));
const F = 6;
const data = blobs(120, F, new Rng(3));
const make = (seed: number, classes = 3) => {
  const rng = new Rng(seed);
  return new Sequential(new Linear(F, 8, rng), new ReLU(), new Sequential(new Linear(8, 8, rng), new ReLU()), new Linear(8, classes, rng));
};

describe('fine-tuning', () => {
  it('freezes by prefix: frozen parameters do not move, the rest train', async () => {
    const m = make(1);
    expect(freeze(m, ['0', '2.0'])).toEqual(['0.weight', '0.bias', '2.0.weight', '2.0.bias']);
    expect(() => freeze(m, '7')).toThrow(/no parameter matches "7"/);
    const before = m.stateDict().get('0.weight')!.toArray();
    const headBefore = m.stateDict().get('3.weight')!.toArray();
    const opt = new SGD(trainableParameters(m), { lr: 0.1 });
    expect(opt.paramGroups[0].params.length).toBe(2);
    await fit(m, { train: new Loader(data.x, data.y, F, 20, null), optimizer: opt, lossFn: crossEntropy, epochs: 1 });
    expect(m.stateDict().get('0.weight')!.toArray()).toEqual(before);
    expect(m.stateDict().get('3.weight')!.toArray()).not.toEqual(headBefore);
    const s = trainableSummary(m);
    expect(s.trainable).toEqual(['3.weight', '3.bias']);
    expect(unfreeze(m, '2')).toEqual(['2.0.weight', '2.0.bias']);
    expect(trainableSummary(m).trainable.length).toBe(4);
  });

  it('builds per-group learning rates by prefix', () => {
    const m = make(2);
    const groups = paramGroupsByPrefix(m, [{ prefix: '3', lr: 0.1 }, { match: /^2\./, lr: 0.01 }], { lr: 0.001 });
    expect(groups.map((g) => [g.lr, g.names])).toEqual([
      [0.1, ['3.weight', '3.bias']],
      [0.01, ['2.0.weight', '2.0.bias']],
      [0.001, ['0.weight', '0.bias']],
    ]);
    // '1' must not match '10.x' etc. and frozen parameters are left out.
    freeze(m, '0');
    expect(paramGroupsByPrefix(m, [], { lr: 1 })[0].names).toEqual(['2.0.weight', '2.0.bias', '3.weight', '3.bias']);
  });

  it('loads pretrained weights partially and replaces the head for a new number of classes', async () => {
    const src = make(3);
    const file = join(dir, 'pre.safetensors');
    await saveWeights(file, src);
    const m = make(4, 5); // 5 classes: the head does not fit
    await expect(loadPretrained(m, file)).rejects.toThrow(/'3\.weight': shape \[3, 8\] in the weights file .*, \[5, 8\] in the model/);
    const m2 = make(4, 3);
    const old = replaceLastLayer(m2, new Linear(8, 5, new Rng(9)));
    expect(old).toBeInstanceOf(Linear);
    expect(m2.stateDict().get('3.weight')!.shape).toEqual([5, 8]);
    // Load everything but the new head.
    await saveWeights(file, new Map([...src.stateDict()].filter(([n]) => !n.startsWith('3.'))));
    const r = await loadPretrained(m2, file, { strict: false });
    expect(r.missing).toEqual(['3.weight', '3.bias']);
    expect(m2.stateDict().get('0.weight')!.toArray()).toEqual(src.stateDict().get('0.weight')!.toArray());
  });

  it('works on nn.Sequential: replace the head, freeze a submodule, per-group learning rates', () => {
    const m = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Sequential(new nn.Linear(8, 8), new nn.ReLU()), new nn.Linear(8, 3));
    const old = replaceLastLayer(m, new nn.Linear(8, 6));
    expect(old).toBeInstanceOf(nn.Linear);
    expect(m.stateDict().get('3.weight')!.shape).toEqual([6, 8]);
    expect(m.at(-1)).toBeInstanceOf(nn.Linear);
    expect(freeze(m, '2')).toEqual(['2.0.weight', '2.0.bias']);
    const groups = paramGroupsByPrefix(m, [{ prefix: '3', lr: 0.1 }], { lr: 0.001 });
    expect(groups.map((g) => g.names)).toEqual([['3.weight', '3.bias'], ['0.weight', '0.bias']]);
  });
});
