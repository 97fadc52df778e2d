import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data } = tread;

await tread.init(); // loads the wasm core; threads: 'auto' (or { threads: 2 }, or TREAD_THREADS)
nn.manualSeed(0);

// Two interleaved spirals, split 80/20 with a seed; a loader that shuffles every epoch.
const all = data.twoSpirals({ n: 600, noise: 0.05, seed: 1 });
const [trainSet, valSet] = data.randomSplit(all, [480, 120], { seed: 7 });
const train = new data.DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 3 });
const val = new data.DataLoader(valSet, { batchSize: 120 });

const model = new nn.Sequential(
  new nn.Linear(2, 64), new nn.ReLU(),
  new nn.Linear(64, 64), new nn.ReLU(),
  new nn.Linear(64, 2),
);
const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 20, gamma: 0.5 });
const lossFn = new nn.CrossEntropyLoss();

// The plain PyTorch-style loop: no dispose() anywhere, memory stays flat.
for (let epoch = 0; epoch < 10; epoch++) {
  for (const [x, y] of train) {
    optimizer.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    optimizer.step();
  }
  scheduler.step();
}

// Or let fit() run it: validation, metrics, callbacks, early stopping that restores the best weights.
const result = await tread.fit(model, {
  train, val, optimizer, scheduler, lossFn, epochs: 60, metrics: ['accuracy'],
  callbacks: [new tread.EarlyStopping({ monitor: 'val_loss', patience: 10, restoreBestWeights: true })],
});
// result.best: the epoch whose weights the model now holds (restored by EarlyStopping) and its metrics.
const best = result.best!;
const valAccuracy = best.logs.val_accuracy ?? NaN;
console.log(`val accuracy ${(valAccuracy * 100).toFixed(1)}% (epoch ${best.epoch + 1} of ${result.epoch})`);

// Checkpoints: safetensors with PyTorch's state-dict names (0.weight, 0.bias, ...), written atomically.
await tread.saveCheckpoint('spirals.safetensors', { model, optimizer });
