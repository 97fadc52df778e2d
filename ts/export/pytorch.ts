/**
 * The hand-off to PyTorch: `exportToPyTorch` writes, into a folder,
 *
 *   train_torch.py       a program that needs only PyTorch: it rebuilds the model as torch.nn
 *                        modules with the same state-dict names, torch.optim's optimizer with
 *                        each parameter's state (by parameter name), the LR schedule at its
 *                        position, and continues training, in one process or under torchrun
 *                        (DistributedDataParallel);
 *   state.safetensors    the weights (PyTorch names; loadable with strict=True) and the
 *                        optimizer's state tensors as optimizer.state.<parameter name>.<key>;
 *   data.safetensors     the training data (x, y), when given.
 *
 * Files are written atomically; files already there are refused unless `overwrite`.
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { atomicWriteFile } from '../train/atomic.js';
import { serializeSafetensors, type SafeTensorInput } from '../train/safetensors.js';
import { checkBooleanOption, checkNumberOption, checkOptions } from '../util/options.js';
import { pyData } from './python.js';
import { lossPython, modulePython } from './torch_modules.js';
import { exportOptimizer, exportScheduler } from './torch_optim.js';
import { trainTorchPy } from './train_torch_template.js';

export const TREAD_VERSION = '0.1.0';

export interface ExportToPyTorchOptions {
  model: Module;
  optimizer: unknown;
  scheduler?: unknown;
  lossFn: unknown;
  /** The folder to write into (made if missing). */
  dir: string;
  /** Training data for the script: inputs and targets (class indices or values). */
  data?: { x: Tensor; y: Tensor } | null;
  /** The script's default batch size (default 64). */
  batchSize?: number;
  /** Replace files of an earlier export (default false). */
  overwrite?: boolean;
}

export interface ExportedFiles {
  script: string;
  state: string;
  data: string | null;
}

const KEYS = ['model', 'optimizer', 'scheduler', 'lossFn', 'dir', 'data', 'batchSize', 'overwrite'];
const ENCODE_KEYS = ['model', 'optimizer', 'scheduler', 'lossFn', 'data', 'batchSize'];

function input(t: Tensor, asInt64 = false): SafeTensorInput {
  return { shape: t.shape, data: t.toArray() as Float32Array | Int32Array, dtype: t.dtype === 'int32' ? (asInt64 ? 'I64' : 'I32') : 'F32' };
}

/** The three files' contents (bytes), without writing them. */
/** The script, state and data bytes of an export (exportToPyTorch without the files). */
export function encodePyTorchExport(o: Omit<ExportToPyTorchOptions, 'dir' | 'overwrite'>): { script: string; state: Uint8Array; data: Uint8Array | null } {
  checkOptions('encodePyTorchExport', o, ENCODE_KEYS);
  return encodeExport(o);
}

function encodeExport(o: Omit<ExportToPyTorchOptions, 'dir' | 'overwrite'>): { script: string; state: Uint8Array; data: Uint8Array | null } {
  const names = new Map<Tensor, string>(o.model.namedParameters().map(([n, p]) => [p, n] as [Tensor, string]));
  const optTensors: [string, Tensor][] = [];
  const optimizer = exportOptimizer(o.optimizer, names, optTensors);
  const scheduler = o.scheduler ? exportScheduler(o.scheduler) : null;
  const model = modulePython(o.model);
  const loss = lossPython(o.lossFn);
  const batchSize = checkNumberOption('exportToPyTorch', 'batchSize', o.batchSize ?? 64, { integer: true, min: 1 });
  const exportData = { format: 'tread.export/1', batch_size: batchSize, optimizer, scheduler: scheduler ? { type: scheduler.type, interval: scheduler.interval, restore: scheduler.restore } : null };
  const script = trainTorchPy({ version: TREAD_VERSION, model, loss, optimizerType: optimizer.type, scheduler: scheduler?.construct ?? null, exportData: pyData(exportData) });
  const tensors: [string, SafeTensorInput][] = [];
  for (const [n, t] of o.model.stateDict()) tensors.push([n, input(t, /num_batches_tracked$/.test(n))]);
  for (const [n, t] of optTensors) tensors.push([n, input(t)]);
  const state = serializeSafetensors(tensors, { format: 'pt', 'tread.kind': 'pytorch-export' });
  let data: Uint8Array | null = null;
  if (o.data) {
    const { x, y } = o.data;
    if (x.shape[0] !== y.shape[0]) throw new Error(`exportToPyTorch: data.x has ${x.shape[0]} rows [${x.shape.join(', ')}], data.y ${y.shape[0]} [${y.shape.join(', ')}]`);
    data = serializeSafetensors([['x', input(x)], ['y', input(y, true)]], { format: 'pt' });
  }
  return { script, state, data };
}

export async function exportToPyTorch(o: ExportToPyTorchOptions): Promise<ExportedFiles> {
  checkOptions('exportToPyTorch', o, KEYS);
  if (typeof o.dir !== 'string' || o.dir === '') throw new Error('exportToPyTorch: dir (the folder to write into) is required');
  const overwrite = o.overwrite === undefined ? false : checkBooleanOption('exportToPyTorch', 'overwrite', o.overwrite);
  const { script, state, data } = encodeExport(o);
  const { join } = await import('node:path');
  const { existsSync, lstatSync, mkdirSync } = await import('node:fs');
  if (existsSync(o.dir) && !lstatSync(o.dir).isDirectory()) throw new Error(`exportToPyTorch: '${o.dir}' exists and is not a folder`);
  const files: ExportedFiles = { script: join(o.dir, 'train_torch.py'), state: join(o.dir, 'state.safetensors'), data: data ? join(o.dir, 'data.safetensors') : null };
  const targets = [files.script, files.state, ...(files.data ? [files.data] : [])];
  const there = targets.filter((f) => existsSync(f));
  if (there.length && !overwrite) throw new Error(`exportToPyTorch: ${there.join(', ')} already exist(s); pass overwrite: true to replace them`);
  mkdirSync(o.dir, { recursive: true });
  await atomicWriteFile(files.state, state);
  if (data && files.data) await atomicWriteFile(files.data, data);
  await atomicWriteFile(files.script, new TextEncoder().encode(script));
  return files;
}
