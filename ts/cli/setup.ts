/**
 * Builds what `tread train` trains: data loaders, model, optimizer, schedule.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { BatchSource, LossFn } from '../train/fit.js';
import type { ModuleLike, OptimizerLike, SchedulerLike } from '../train/types.js';
import type { TrainArgs } from './args.js';

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
  desiredError: number;
  description: { data: string; model: string; optimizer: string; schedule: string };
}

/** Fills the defaults that depend on other options (epochs, lr, width ...). */
export function resolveDefaults(a: TrainArgs): TrainArgs {
  const args = { ...a };
  const fashion = args.data === 'fashion-mnist';
  if (!args.epochs) args.epochs = fashion ? 15 : 4;
  if (!args.lr) args.lr = args.optimizer === 'sgd' ? 0.05 : args.optimizer === 'rmsprop' ? 1e-3 : 3e-3;
  if (!args.width) args.width = args.model === 'cnn' ? 16 : 256;
  if (!args.depth) args.depth = 2;
  if (Number(args.dropout) < 0) args.dropout = args.model === 'cnn' ? 0.25 : 0.2;
  return args;
}

export async function buildRun(_args: TrainArgs): Promise<Run> {
  void (null as unknown as Tensor);
  throw new Error('tread train: nn/optim/data are not available yet in this build');
}
