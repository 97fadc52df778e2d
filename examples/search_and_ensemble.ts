// Hyperparameter search, then an ensemble of the winner: `npx tsx examples/search_and_ensemble.ts`.
import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data, train } = tread;

await tread.init();

// Two spirals with few training points, so the settings (and averaging) matter.
const all = data.twoSpirals({ n: 800, noise: 0.08, seed: 2 });
const [trainSet, valSet, testSet] = data.randomSplit(all, [200, 200, 400], { seed: 7 });
const makeModel = (hidden: number) =>
  new nn.Sequential(new nn.Linear(2, hidden), new nn.ReLU(), new nn.Linear(hidden, hidden), new nn.ReLU(), new nn.Linear(hidden, 2));

// 1. Random search over learning rate, weight decay and width, scored by the best validation loss.
const space = {
  lr: train.logUniform(1e-4, 1e-1),
  weightDecay: train.choice([0, 1e-4, 1e-3, 1e-2]),
  hidden: train.choice([16, 32, 64]),
};
const objective = train.fitObjective<tread.train.ParamsOf<typeof space>>((p, trial) => {
  nn.manualSeed(trial.seed); // each trial its own, reproducible initialisation
  const model = makeModel(p.hidden);
  return {
    model,
    train: new data.DataLoader(trainSet, { batchSize: 20, shuffle: true, seed: trial.seed }),
    val: new data.DataLoader(valSet, { batchSize: 200 }),
    optimizer: new optim.AdamW(model.parameters(), { lr: p.lr, weightDecay: p.weightDecay }),
    lossFn: new nn.CrossEntropyLoss(),
    metrics: ['accuracy'],
    epochs: 30,
  };
}); // monitor 'val_loss', best epoch
const search = await train.randomSearch(space, objective, { trials: 12, seed: 1 });
console.log(train.formatTrials(search, { scoreName: 'val_loss' }));
const best = search.best!.params;
console.log(`best: lr ${best.lr.toExponential(2)}, weight decay ${best.weightDecay}, hidden ${best.hidden} (${search.seconds.toFixed(1)} s)`);

// 2. Five members with the winning settings, each with its own seed; evaluated on unseen data.
const { ensemble } = await train.trainEnsemble({
  members: 5,
  seed: 1,
  data: trainSet,
  batchSize: 20,
  epochs: 30,
  lossFn: new nn.CrossEntropyLoss(),
  makeModel: () => makeModel(best.hidden),
  makeOptimizer: (m) => new optim.AdamW(m.parameters(), { lr: best.lr, weightDecay: best.weightDecay }),
  ensemble: { logProbs: true }, // log of the mean probability: NLL/CrossEntropy evaluate it directly
});
const test = new data.DataLoader(testSet, { batchSize: 400 });
const lossFn = new nn.CrossEntropyLoss();
for (const [i, m] of ensemble.memberList().entries()) {
  const r = await train.evaluate(m, test, { lossFn, metrics: ['accuracy'] });
  console.log(`member ${i}: test loss ${r.loss.toFixed(4)}, accuracy ${(r.accuracy * 100).toFixed(1)}%`);
}
const r = await train.evaluate(ensemble, test, { lossFn, metrics: ['accuracy'] });
console.log(`ensemble: test loss ${r.loss.toFixed(4)}, accuracy ${(r.accuracy * 100).toFixed(1)}%`);
