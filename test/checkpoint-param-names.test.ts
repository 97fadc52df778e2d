/**
 * A checkpoint names the parameter behind each optimizer index (tread.optimizer_param_names),
 * so its optimizer state can be mapped without the model (e.g. onto torch.optim by name).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { parseSafetensors } from '../ts/train/safetensors.js';

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

describe('checkpoint: optimizer parameter names', () => {
  it('lists the model name of every optimizer index, in the optimizer\'s own order', async () => {
    const { nn, optim } = tread;
    nn.manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.Linear(4, 2));
    const [w0, b0, g1, be1, w2, b2] = model.parameters();
    // Groups in another order than the model's: the names must follow the optimizer.
    const optimizer = new optim.Adam([{ params: [w2!, b2!] }, { params: [w0!, b0!, g1!, be1!], lr: 1e-4 }], { lr: 1e-3 });
    const x = tread.tensor(Array.from({ length: 18 }, (_, i) => Math.sin(i)), [6, 3]);
    optimizer.zeroGrad();
    tread.sum(model.forward(x)).backward();
    optimizer.step();
    const file = join(mkdtempSync(join(tmpdir(), 'tread-names-')), 'c.safetensors');
    await tread.saveCheckpoint(file, { model, optimizer });
    const f = parseSafetensors(new Uint8Array(readFileSync(file)), 'c');
    const names: string[] = JSON.parse(f.metadata['tread.optimizer_param_names']!);
    expect(names).toEqual(['2.weight', '2.bias', '0.weight', '0.bias', '1.weight', '1.bias']);
    // Index i's state has the shape of the parameter named names[i].
    const sd = model.stateDict();
    names.forEach((n, i) => expect(f.tensors.get(`optimizer.state.${i}.exp_avg`)!.shape).toEqual([...sd.get(n)!.shape]));
  });
});
