/**
 * The two training steps the benchmarks time (bench/train.ts against tfjs, bench/scaling.ts
 * over thread counts), built once here so both time the same thing:
 *
 * - MLP 784-256-128-10 ReLU, softmax cross-entropy, Adam (lr 1e-3);
 * - CNN conv3x3x32-relu-maxpool2-conv3x3x64-relu-maxpool2-dense10 on 28x28x1, SGD with
 *   momentum 0.9 (lr 0.01).
 *
 * A step is zero-grad + forward + loss + backward + optimizer update on a fixed random batch.
 */
import { tensor } from '../ts/tensor/create.js';
import { Sequential } from '../ts/nn/module.js';
import { Linear } from '../ts/nn/layers/linear.js';
import { Conv2d } from '../ts/nn/layers/conv.js';
import { MaxPool2d } from '../ts/nn/layers/pool.js';
import { Flatten } from '../ts/nn/layers/flatten.js';
import { ReLU } from '../ts/nn/layers/activation.js';
import { CrossEntropyLoss } from '../ts/nn/losses.js';
import { Adam } from '../ts/optim/adam.js';
import { SGD } from '../ts/optim/sgd.js';

/** A seeded xorshift stream in [0, 1): the same batch on every run and for every library. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** `n` random 28x28 images (flat) with random labels of `classes` classes. */
export function batch(n: number, features: number, classes: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = rng(seed);
  const x = Float32Array.from({ length: n * features }, () => r());
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * classes));
  return { x, y };
}

export interface TreadStep {
  /** Runs one training step; returns the loss. */
  step: () => number;
  /** What the optimizer is, for the report. */
  optimizer: string;
}

/** `init`: initial weights by state-dict name (bench/browser/init.ts); default: tread's own init. */
export function treadMlpStep(batchSize: number, seed = 1, init?: Record<string, Float32Array>): TreadStep {
  const data = batch(batchSize, 784, 10, seed);
  const model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(), new Linear(128, 10));
  if (init) model.loadStateDict(init);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  return { step: stepOf(model, opt, tensor(data.x, [batchSize, 784]), tensor(data.y, [batchSize])), optimizer: 'optim.Adam' };
}

export function treadCnnStep(batchSize: number, seed = 2, init?: Record<string, Float32Array>): TreadStep {
  const data = batch(batchSize, 784, 10, seed);
  const model = new Sequential(
    new Conv2d(1, 32, 3), new ReLU(), new MaxPool2d(2),
    new Conv2d(32, 64, 3), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(64 * 5 * 5, 10),
  );
  if (init) model.loadStateDict(init);
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  return { step: stepOf(model, opt, tensor(data.x, [batchSize, 1, 28, 28]), tensor(data.y, [batchSize])), optimizer: 'optim.SGD' };
}

function stepOf(model: Sequential, opt: Adam | SGD, x: ReturnType<typeof tensor>, y: ReturnType<typeof tensor>): () => number {
  const loss = new CrossEntropyLoss();
  return () => {
    opt.zeroGrad();
    const l = loss.forward(model.forward(x), y);
    l.backward();
    opt.step();
    return l.item();
  };
}
