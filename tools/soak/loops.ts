/**
 * Three training loops that never call dispose(), for the memory soak (tools/soak/run.ts,
 * `npm run soak`) and its shorter twin in test/soak.test.ts:
 *
 * - 'tensor': the loop without a DataLoader: input and target tensors are made from data
 *   with `tensor()` every step (the PyTorch habit `torch.tensor(batch)`);
 * - 'loader': the README loop (examples/quickstart.ts): a shuffling DataLoader, zeroGrad,
 *   forward, loss, backward, step, a scheduler per epoch;
 * - 'fit': `fit()` with validation, a metric, a scheduler and EarlyStopping restoring the
 *   best weights.
 *
 * Each runs a tiny model (so 100,000 steps take a minute or two on 2 cores) and calls
 * `sample(step)` every `every` steps, where the caller reads wasm memory, liveStorage() and RSS.
 */
import * as tread from '../../ts/index.js';

const { nn, optim, data } = tread;

export type LoopName = 'tensor' | 'loader' | 'fit';
export const LOOPS: LoopName[] = ['tensor', 'loader', 'fit'];

export interface LoopRun {
  steps: number;
  every: number;
  sample(step: number): void;
}

function tinyModel(): tread.nn.Sequential {
  return new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Linear(16, 3));
}

/** A fixed pseudo-random batch source in plain JS (as a user's own data would be). */
function jsBatch(step: number, n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 8);
  const y = new Int32Array(n);
  let s = (step * 2654435761) >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  for (let i = 0; i < n; i++) y[i] = (x[i * 8] > 0 ? 1 : 0) + (x[i * 8 + 1] > 0 ? 1 : 0);
  return { x, y };
}

export async function runLoop(name: LoopName, run: LoopRun): Promise<void> {
  nn.manualSeed(0);
  const model = tinyModel();
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const lossFn = new nn.CrossEntropyLoss();
  const batch = 32;
  if (name === 'tensor') {
    for (let step = 1; step <= run.steps; step++) {
      const { x: xs, y: ys } = jsBatch(step % 997, batch);
      const x = tread.tensor(xs, [batch, 8]);
      const y = tread.tensor(ys, [batch]);
      optimizer.zeroGrad();
      const loss = lossFn.forward(model.forward(x), y);
      loss.backward();
      optimizer.step();
      if (step % run.every === 0) run.sample(step);
    }
    return;
  }
  const n = 32 * 250; // 248 training batches an epoch (the history grows per epoch, by design)
  const { x: xs, y: ys } = jsBatch(1, n);
  const set = new data.TensorDataset(tread.tensor(xs, [n, 8]), tread.tensor(ys, [n]));
  const [trainSet, valSet] = data.randomSplit(set, [n - 64, 64], { seed: 7 });
  const train = new data.DataLoader(trainSet, { batchSize: batch, shuffle: true, seed: 3 });
  const val = new data.DataLoader(valSet, { batchSize: 64 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 20, gamma: 0.9 });
  const perEpoch = Math.ceil((n - 64) / batch);
  const epochs = Math.ceil(run.steps / perEpoch);
  if (name === 'loader') {
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const [x, y] of train) {
        optimizer.zeroGrad();
        const loss = lossFn.forward(model.forward(x), y);
        loss.backward();
        optimizer.step();
        if (++step % run.every === 0) run.sample(step);
      }
      scheduler.step();
    }
    return;
  }
  let step = 0;
  const sampler: tread.train.Callback = {
    onBatchEnd() {
      if (++step % run.every === 0) run.sample(step);
    },
  };
  await tread.fit(model, {
    train, val, optimizer, scheduler, lossFn, epochs, metrics: ['accuracy'],
    callbacks: [new tread.EarlyStopping({ monitor: 'val_loss', patience: epochs, restoreBestWeights: true }), sampler],
  });
}

/** Least-squares slope of ys over xs. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
