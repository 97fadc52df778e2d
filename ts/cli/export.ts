/**
 * `tread export <checkpoint> --to pytorch`: hands a `tread train` run over to PyTorch. The
 * run's options are read from the checkpoint, the model, optimizer and schedule are rebuilt
 * and loaded from it, and exportToPyTorch (ts/export) writes train_torch.py, state.safetensors
 * and data.safetensors (the run's training images, normalized as the run normalized them) to
 * --out. The script continues the training in PyTorch, also under torchrun.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { init } from '../runtime/wasm.js';
import { DataLoader } from '../data/loader.js';
import { exportToPyTorch } from '../export/pytorch.js';
import type { Module } from '../nn/module.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { resumeFrom } from '../train/model_checkpoint.js';
import { walkFlags } from './flags.js';
import { ArgError, type TrainArgs } from './args.js';
import { buildRun, readRunCheckpoint, resolveDefaults } from './setup.js';

const HELP = `Usage: tread export <checkpoint.safetensors> --to pytorch [options]

Writes a PyTorch program that continues a 'tread train' run: train_torch.py, state.safetensors
(weights, optimizer and schedule state) and data.safetensors (the training images).

Options:
  --to pytorch     the target (the only one)
  --out DIR        output folder (default: <checkpoint's folder>/pytorch)
  --no-data        do not write data.safetensors (the script then needs your data)
  --overwrite      replace the files of an earlier export
Then:  python3 DIR/train_torch.py --epochs 3     or     torchrun --nproc_per_node=2 DIR/train_torch.py
`;

export async function exportCommand(argv: string[]): Promise<number> {
  const fail = (m: string) => (process.stderr.write(`tread export: ${m}\n`), 2);
  let to: string | null = null;
  let out: string | null = null;
  let withData = true;
  let overwrite = false;
  const positional: string[] = [];
  try {
    const go = walkFlags(argv, {
      command: 'export',
      values: ['to', 'out'],
      switches: ['no-data', 'overwrite'],
      positional: (arg) => positional.push(arg),
      flip: (flag) => (flag === 'no-data' ? (withData = false) : (overwrite = true)),
      value: (flag, v) => (flag === 'to' ? (to = v) : (out = v)),
    });
    if (!go) {
      process.stdout.write(HELP);
      return 0;
    }
  } catch (e) {
    if (e instanceof ArgError) return fail(e.message);
    throw e;
  }
  if (to !== 'pytorch') return fail(to === null ? 'give the target: --to pytorch' : `--to: the only target is pytorch, got ${JSON.stringify(to)}`);
  if (positional.length !== 1) return fail(`expected one checkpoint file, got ${positional.length ? positional.join(' ') : 'none'}; see tread export --help`);
  const ckpt = resolve(positional[0]!);
  if (!existsSync(ckpt)) return fail(`no such checkpoint: ${positional[0]}`);
  const dir = resolve(out ?? join(dirname(ckpt), 'pytorch'));
  await init();
  let runArgs: TrainArgs | null;
  try {
    runArgs = (await readRunCheckpoint(ckpt)).args;
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!runArgs) return fail(`${positional[0]} has no 'tread train' options in its metadata; for your own models call tread.exportToPyTorch({ model, optimizer, scheduler, lossFn, dir })`);
  const run = await buildRun(resolveDefaults({ ...runArgs }));
  const resumed = await resumeFrom(ckpt, { model: run.model, optimizer: run.optimizer, scheduler: run.scheduler });
  let data: { x: Tensor; y: Tensor } | null = null;
  if (withData) {
    const xs: Float32Array[] = [];
    const ys: Int32Array[] = [];
    for (const [x, y] of new DataLoader(run.trainSet, { batchSize: 1000, transform: [run.normalize] })) {
      xs.push(x!.f32.slice());
      ys.push((y!.data as Int32Array).slice());
    }
    const n = ys.reduce((s, a) => s + a.length, 0);
    const flat = new Float32Array(xs.reduce((s, a) => s + a.length, 0));
    let o = 0;
    for (const a of xs) (flat.set(a, o), (o += a.length));
    const labels = new Int32Array(n);
    o = 0;
    for (const a of ys) (labels.set(a, o), (o += a.length));
    data = { x: tensor(flat, [n, 1, 28, 28]), y: tensor(labels, [n], { dtype: 'int32' }) };
  }
  try {
    const files = await exportToPyTorch({ model: run.model as unknown as Module, optimizer: run.optimizer, scheduler: run.scheduler, lossFn: run.lossFn, dir, data, batchSize: Number(runArgs.batchSize) || 64, overwrite });
    process.stdout.write(`exported ${positional[0]} (${resumed.initialEpoch} epoch(s) done) to ${dir}:\n  ${files.script}\n  ${files.state}\n${files.data ? `  ${files.data}\n` : ''}`);
    if (runArgs.augment && runArgs.augment !== 'none') process.stdout.write(`note: the run used augmentation '${runArgs.augment}'; train_torch.py trains on the images as they are\n`);
    process.stdout.write(`continue with: python3 ${files.script} --epochs 1   (or torchrun --nproc_per_node=N ${files.script})\n`);
  } catch (e) {
    return fail((e as Error).message);
  }
  return 0;
}
