/**
 * The PyTorch exporter writes the new layers (Conv1d, LayerNorm, GroupNorm, Embedding,
 * AdaptiveAvgPool2d, Dropout2d) as torch.nn constructors: real PyTorch 1.13 builds them, loads
 * tread's state dict with strict=True and gives tread's eval-mode outputs. Skipped, saying why,
 * where /usr/bin/python3 cannot import torch.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Module } from '../ts/nn/module.js';
import { Sequential } from '../ts/nn/module.js';
import { AdaptiveAvgPool2d, Conv1d, Dropout2d, Embedding, GroupNorm, LayerNorm, ReLU } from '../ts/nn/layers/index.js';
import { modulePython } from '../ts/export/torch_modules.js';
import { fillUniform } from './helpers/nn-gradcheck.js';
import { Tensor } from '../ts/tensor/tensor.js';

const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchOk = probe.status === 0;
if (!torchOk) console.warn(`export-vocab-layers tests skipped: ${PY} cannot import torch; scripts/setup.sh installs python3-torch`);

beforeAll(async () => {
  await init({ threads: 1 });
});

describe.skipIf(!torchOk)('exported new layers in real PyTorch', () => {
  it('build, load strict, and match tread in eval mode', () => {
    const cases: [Module, Tensor][] = [
      [new Sequential(new Conv1d(4, 6, 3, { stride: 2, padding: 1, groups: 2 }), new ReLU(), new Conv1d(6, 2, 3, { padding: 'same', paddingMode: 'reflect', bias: false })), fillUniform(Tensor.empty([2, 4, 9]), 1)],
      [new LayerNorm([3, 4], { eps: 1e-3 }), fillUniform(Tensor.empty([2, 3, 4]), 2)],
      [new GroupNorm(2, 4, { affine: false }), fillUniform(Tensor.empty([2, 4, 3, 3]), 3)],
      [new GroupNorm(3, 6), fillUniform(Tensor.empty([2, 6, 5]), 4)],
      [new Embedding(7, 3, { paddingIdx: 2, maxNorm: 1.5, normType: 1 }), tensor([0, 2, 6, 3, 3], [5], { dtype: 'int32' })],
      [new Sequential(new AdaptiveAvgPool2d([2, null]), new Dropout2d(0.3)), fillUniform(Tensor.empty([1, 2, 5, 4]), 5)],
    ];
    const script: string[] = ['import json, sys, torch', 'from torch import nn', 'out = []'];
    const expected: number[][] = [];
    for (const [m, x] of cases) {
      for (const p of m.parameters()) fillUniform(p, 7, -1, 1);
      m.eval();
      const sd = [...m.stateDict()].map(([k, t]) => `${JSON.stringify(k)}: torch.tensor(${JSON.stringify(Array.from(t.data))}, dtype=torch.${t.dtype}).reshape(${JSON.stringify(t.shape)})`);
      script.push(`m = ${modulePython(m)}`, `m.load_state_dict({${sd.join(', ')}}, strict=True)`, 'm.eval()');
      const dt = x.dtype === 'int32' ? 'torch.long' : 'torch.float32';
      script.push(`x = torch.tensor(${JSON.stringify(Array.from(x.data))}, dtype=${dt}).reshape(${JSON.stringify(x.shape)})`);
      script.push('with torch.no_grad(): out.append(m(x).flatten().tolist())');
      expected.push(Array.from(m.forward(x).f32));
    }
    script.push('print(json.dumps(out))');
    const run = spawnSync(PY, ['-c', script.join('\n')], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(run.stderr).toBe('');
    const got = JSON.parse(run.stdout) as number[][];
    expect(got.length).toBe(expected.length);
    got.forEach((g, i) => {
      expect(g.length).toBe(expected[i].length);
      g.forEach((v, j) => expect(Math.abs(v - expected[i][j]), `case ${i} element ${j}`).toBeLessThan(2e-5));
    });
  });
});
