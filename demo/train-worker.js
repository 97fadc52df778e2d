// The Worker of the live training page: tread trains here (with threads when the page is
// cross-origin isolated); the page talks to it through tread.worker.TrainingWorker.
import * as tread from '/dist/tread.js';

const { nn, optim, data } = tread;

// Kept between runs: the digits (parsed once) and the runtime.
let digits = null;

/**
 * A small CNN: two 3x3 conv blocks with BatchNorm and a linear classifier. With OneCycleLR it
 * reaches about 98% on the 2,000 validation digits in 3 epochs (97.9% with seed 1).
 */
function cnn(width) {
  return new nn.Sequential(
    new nn.Conv2d(1, width, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(width), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(width, 2 * width, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(2 * width), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(2 * width * 7 * 7, 10),
  );
}

/** Up to `max` validation digits the model gets wrong: pixels (bytes), label and prediction. */
function misclassified(model, val, max) {
  const found = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (const [x, y] of new data.DataLoader(val, { batchSize: 250 })) {
      const out = tread.tidy(() => tread.noGrad(() => model.forward(x).toArray()));
      const labels = y.toArray();
      const pixels = x.toArray();
      for (let i = 0; i < labels.length && found.length < max; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (out[i * 10 + c] > out[i * 10 + best]) best = c;
        if (best !== labels[i]) {
          const img = new Uint8ClampedArray(784);
          for (let p = 0; p < 784; p++) img[p] = Math.round(pixels[i * 784 + p] * 255);
          found.push({ pixels: img, label: labels[i], predicted: best });
        }
      }
      if (found.length >= max) break;
    }
  } finally {
    if (wasTraining) model.train(true);
  }
  return found;
}

/** The line from the initial weights and the plane of the path, on 500 validation digits (a few seconds). */
async function landscapeOf(model, recorder) {
  const batches = await tread.landscape.evaluationBatches(new data.DataLoader(digits.val, { batchSize: 250 }), 500);
  try {
    const f = await tread.landscape.runLandscape({ model, lossFn: new nn.CrossEntropyLoss(), batches, recorder, resolution: 11, linePoints: 21 });
    return { html: f.html, monotone: f.monotone };
  } finally {
    for (const [x, y] of batches) (x.dispose(), y.dispose());
  }
}

tread.worker.serveTraining(async (config) => {
  await tread.init({ threads: config.threads ?? 'auto' });
  digits ??= await data.fetchMnist(new URL('/mnist/', self.location.href));
  nn.manualSeed(config.seed ?? 1);
  const model = cnn(config.width ?? 16);
  const epochs = config.epochs ?? 3;
  const train = new data.DataLoader(digits.train, { batchSize: 64, shuffle: true, seed: config.seed ?? 1 });
  const val = new data.DataLoader(digits.val, { batchSize: 500 });
  const optimizer = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
  const scheduler = new optim.lrScheduler.OneCycleLR(optimizer, { maxLr: 1e-2, totalSteps: epochs * train.length });
  const recorder = new tread.landscape.PathRecorder(model, { everySteps: Math.max(1, Math.floor((epochs * train.length) / 30)) });
  return {
    model,
    fit: {
      train, val, optimizer, scheduler, epochs,
      lossFn: new nn.CrossEntropyLoss(),
      metrics: ['accuracy'],
      callbacks: [new tread.Monitor({ samplesPerEpoch: 10, probeSize: 128 }), recorder],
    },
    epochExtras: async (ctx) => ({
      misclassified: misclassified(ctx.model, digits.val, 8),
      // After the last epoch: the loss landscape of the model just trained (the line from its
      // initial weights, the plane of its path), as SVG made by tread (every text escaped).
      landscape: ctx.epoch === ctx.epochs - 1 ? await landscapeOf(model, recorder) : null,
    }),
  };
});
