/**
 * The hand-off to PyTorch, checked with real PyTorch (Debian's python3-torch 1.13, which
 * scripts/setup.sh installs; without it these tests are skipped and say why): the exported
 * program's next step equals tread's next step (loss, every weight and buffer, lr), for an
 * MLP with BatchNorm + Adam + StepLR and a CNN + SGD (Nesterov) + OneCycleLR; and a
 * 2-process torchrun (gloo on loopback) continues the training with a falling loss.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { Rng } from '../ts/data/random.js';
import { parseSafetensors, serializeSafetensors } from '../ts/train/safetensors.js';

const { nn, optim } = tread;
const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchOk = probe.status === 0;
if (!torchOk) console.warn(`export-pytorch tests skipped: ${PY} cannot import torch (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}); scripts/setup.sh installs python3-torch`);

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

function randomData(n: number, shape: number[], classes: number, seed: number) {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = tread.tensor(Array.from({ length: n * size }, () => rng.normal()), [n, ...shape]).keep();
  const y = tread.tensor(Array.from({ length: n }, () => rng.int(classes)), [n], { dtype: 'int32' }).keep();
  return { x, y };
}

/** Trains `steps` steps in tread, exports, then compares one more step in tread and in PyTorch. */
async function compareNextStep(model: tread.nn.Module, optimizer: any, scheduler: any, perBatch: boolean, data: { x: tread.Tensor; y: tread.Tensor }, steps: number) {
  const lossFn = new nn.CrossEntropyLoss();
  const n = data.x.shape[0]!;
  const row = data.x.size / n;
  const batch = (i: number) => {
    const b = 16;
    const lo = (i * b) % n;
    const x = tread.tensor(data.x.f32.slice(lo * row, (lo + b) * row), [b, ...data.x.shape.slice(1)]);
    const y = tread.tensor((data.y.data as Int32Array).slice(lo, lo + b), [b], { dtype: 'int32' });
    return [x, y] as const;
  };
  const stepOnce = (i: number) => {
    const [x, y] = batch(i);
    optimizer.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    const v = loss.item();
    loss.backward();
    optimizer.step();
    if (scheduler && perBatch) scheduler.step();
    return v;
  };
  for (let i = 0; i < steps; i++) stepOnce(i);
  if (scheduler && !perBatch) scheduler.step();
  const dir = mkdtempSync(join(tmpdir(), 'tread-export-'));
  await tread.exportToPyTorch({ model, optimizer, scheduler, lossFn, dir, data });
  const [bx, by] = batch(steps);
  writeFileSync(join(dir, 'batch.safetensors'), serializeSafetensors([['x', { shape: bx.shape, data: bx.toArray() as Float32Array }], ['y', { shape: by.shape, data: by.toArray() as Int32Array, dtype: 'I64' }]]));
  const lossTread = stepOnce(steps);
  const py = spawnSync(PY, [join(dir, 'train_torch.py'), '--check-step', join(dir, 'batch.safetensors'), '--check-out', join(dir, 'out.safetensors')], { encoding: 'utf8' });
  expect(py.stderr).toBe('');
  expect(py.status).toBe(0);
  const out = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'out.safetensors'))), 'out').tensors;
  expect(Math.abs(out.get('loss')!.data[0]! - lossTread)).toBeLessThan(1e-5 * Math.max(1, Math.abs(lossTread)));
  let worst = 0;
  for (const [name, t] of model.stateDict()) {
    const theirs = out.get(name)!;
    expect(theirs.shape).toEqual([...t.shape]);
    const mine = t.toArray();
    for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(Number(theirs.data[i]) - mine[i]!) / Math.max(1e-3, Math.abs(mine[i]!)));
  }
  expect(worst).toBeLessThan(1e-4);
  const lrs = [...out.get('lr')!.data];
  // (tread's reader holds F64 as float32: equal to float32 rounding)
  optimizer.paramGroups.forEach((g: any, i: number) => expect(Math.abs(lrs[i]! - g.lr) / g.lr).toBeLessThan(1e-7));
  return { dir, worst };
}

describe.skipIf(!torchOk)('export to PyTorch (real PyTorch)', () => {
  it('MLP + BatchNorm, Adam with weight decay, StepLR: PyTorch\'s next step equals tread\'s', async () => {
    nn.manualSeed(11);
    const model = new nn.Sequential(new nn.Linear(6, 16, { bias: false }), new nn.BatchNorm1d(16), new nn.ReLU(), new nn.Linear(16, 3));
    const optimizer = new optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 1e-3, amsgrad: true });
    const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    await compareNextStep(model, optimizer, scheduler, false, randomData(96, [6], 3, 1), 5);
  });

  it('CNN, SGD with Nesterov momentum, OneCycleLR per batch: the same, lr and momentum included', async () => {
    nn.manualSeed(12);
    const model = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(4 * 4 * 4, 5));
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
    const scheduler = new optim.lrScheduler.OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 40 });
    await compareNextStep(model, optimizer, scheduler, true, randomData(64, [1, 8, 8], 5, 2), 7);
  });

  // Debian's torch 1.13 under Python 3.11: torchrun's default '--redirects 0' fails (its Std.from_str
  // finds no flag for 0), so the test passes '--redirects 1 --tee 1', as README says.
  it('a 2-process torchrun (DDP, gloo on loopback) continues the training and its loss keeps falling', async () => {
    nn.manualSeed(13);
    const { x, y } = randomData(256, [6], 3, 3);
    // A learnable rule: the class is the argmax of three fixed projections.
    const xs = x.f32;
    const ys = y.data as Int32Array;
    for (let i = 0; i < 256; i++) {
      const s = [xs[i * 6]! + xs[i * 6 + 1]!, xs[i * 6 + 2]! - xs[i * 6 + 3]!, xs[i * 6 + 4]! * 0.5 + xs[i * 6 + 5]!];
      ys[i] = s.indexOf(Math.max(...s));
    }
    const model = new nn.Sequential(new nn.Linear(6, 32), new nn.Tanh(), new nn.Linear(32, 3));
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const lossFn = new nn.CrossEntropyLoss();
    const loader = new tread.data.DataLoader(new tread.data.TensorDataset(x, y), { batchSize: 32, shuffle: true, seed: 1 });
    const r = await tread.fit(model, { train: loader, optimizer, lossFn, epochs: 2 });
    const treadLoss = r.history.series('loss').at(-1)!;
    const dir = mkdtempSync(join(tmpdir(), 'tread-ddp-'));
    await tread.exportToPyTorch({ model, optimizer, lossFn, dir, data: { x, y }, batchSize: 32 });
    const port = 29500 + Math.floor(Math.random() * 400);
    const run = spawnSync(PY, ['-m', 'torch.distributed.run', '--nnodes=1', '--nproc_per_node=2', '--master_addr=127.0.0.1', `--master_port=${port}`, '--redirects', '1', '--tee', '1', join(dir, 'train_torch.py'), '--epochs', '6', '--log-every', '0'], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1', GLOO_SOCKET_IFNAME: 'lo' },
    });
    expect(run.status, run.stderr).toBe(0);
    // --tee prefixes each line with its rank ('[default0]:').
    const epochs = run.stdout.split('\n').filter((l) => l.includes('{')).map((l) => JSON.parse(l.slice(l.indexOf('{')))).filter((e) => 'epoch' in e);
    expect(epochs).toHaveLength(6);
    expect(epochs.every((e) => e.world_size === 2)).toBe(true);
    // It continues where tread stopped (no jump back to the untrained loss of ~ln 3) and keeps falling.
    expect(epochs[0].train_loss).toBeLessThan(treadLoss * 1.3);
    expect(epochs[5].train_loss).toBeLessThan(epochs[0].train_loss * 0.9);
    expect(readFileSync(join(dir, 'continued.pt')).length).toBeGreaterThan(0);
  });
});

describe('export to PyTorch (no PyTorch needed)', () => {
  it('refuses layers, optimizers and options it cannot carry, naming them', async () => {
    class Custom extends nn.Module {
      fc = new nn.Linear(2, 2);
      forward(x: tread.Tensor) {
        return this.fc.forward(x);
      }
    }
    const lossFn = new nn.MSELoss();
    const m = new Custom();
    const dir = mkdtempSync(join(tmpdir(), 'tread-export-'));
    await expect(tread.exportToPyTorch({ model: m, optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }), lossFn, dir })).rejects.toThrow(/custom module \(Custom\) with submodules/);
    const s = new nn.Sequential(new nn.Linear(2, 2));
    await expect(tread.exportToPyTorch({ model: s, optimizer: new optim.SGD(s.parameters(), { lr: 0.1 }), lossFn, dir, dir2: 1 } as any)).rejects.toThrow(/unknown option 'dir2'/);
    const opt = new optim.SGD(s.parameters(), { lr: 0.1 });
    await tread.exportToPyTorch({ model: s, optimizer: opt, lossFn, dir });
    await expect(tread.exportToPyTorch({ model: s, optimizer: opt, lossFn, dir })).rejects.toThrow(/already exist.*overwrite: true/);
    const script = readFileSync(join(dir, 'train_torch.py'), 'utf8');
    expect(script).toContain('nn.Sequential(');
    expect(script).toContain('nn.Linear(2, 2, bias=True)');
    expect(script).toContain('torch.optim.SGD(groups)');
  });
});

describe.skipIf(!torchOk)('tread export <checkpoint> --to pytorch', () => {
  it('rebuilds a tread train run, exports it with its data, and the script continues it in PyTorch', async () => {
    const { trainCommand } = await import('../ts/cli/train.js');
    const { exportCommand } = await import('../ts/cli/export.js');
    const { vi } = await import('vitest');
    const dir = mkdtempSync(join(tmpdir(), 'tread-export-cli-'));
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: any) => (out.push(String(s)), true));
    try {
      expect(await trainCommand(['--model', 'mlp', '--width', '32', '--limit', '512', '--epochs', '2', '--schedule', 'cosine', '--no-progress', '--no-monitor', '--out', dir])).toBe(0);
      expect(await exportCommand([join(dir, 'checkpoint.safetensors'), '--to', 'pytorch'])).toBe(0);
      expect(await exportCommand([join(dir, 'checkpoint.safetensors'), '--to', 'tensorflow'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    const hist = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
    const lastLoss: number = hist.history.at(-1).loss;
    const py = spawnSync(PY, [join(dir, 'pytorch', 'train_torch.py'), '--epochs', '1', '--log-every', '0'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(py.status, py.stderr).toBe(0);
    const epoch = JSON.parse(py.stdout.trim().split('\n').pop()!);
    expect(epoch.epoch).toBe(1);
    // The script trained on the run's 512 images, going on from tread's last epoch (training loss
    // below it) rather than from scratch (about ln 10 = 2.3).
    expect(epoch.train_loss).toBeLessThan(lastLoss);
  });
});
