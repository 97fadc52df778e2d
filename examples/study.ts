import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data, search } = tread;

await tread.init();
const spirals = data.twoSpirals({ n: 400, noise: 0.05, seed: 1 });
const [trainSet, valSet] = data.randomSplit(spirals, [320, 80], { seed: 7 });
const makeModel = () => new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 2));

// The learning-rate range test (Smith 2017): where does the loss fall fastest?
nn.manualSeed(0);
const finder = await search.lrFinder(makeModel(), {
  train: new data.DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 1 }),
  optimizer: (params) => new optim.SGD(params, { lr: 1e-3, momentum: 0.9 }),
  lossFn: new nn.CrossEntropyLoss(),
});
console.log(`lr finder: steepest descent at lr ${finder.suggestion.toExponential(1)}`);

// A study: Goodfellow's narrowing random search, a median pruner fed by trial.report(),
// kept in a file so that an interrupted study resumes where it stopped.
const file = `${await import('node:os').then((os) => os.tmpdir())}/tread-study-${process.pid}.json`;
const study = await search.Study.open(file, { sampler: new search.NarrowingSampler({ perRound: 6 }), pruner: new search.MedianPruner({ startupTrials: 4 }) });
await study.optimize({ lr: search.logUniform(1e-3, 1), width: search.intUniform(8, 64) }, async (p, trial) => {
  nn.manualSeed(trial.seed);
  const model = new nn.Sequential(new nn.Linear(2, p.width), new nn.ReLU(), new nn.Linear(p.width, 2));
  const result = await tread.fit(model, {
    train: new data.DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: trial.seed }),
    val: new data.DataLoader(valSet, { batchSize: 80 }),
    optimizer: new optim.SGD(model.parameters(), { lr: p.lr, momentum: 0.9 }),
    lossFn: new nn.CrossEntropyLoss(),
    epochs: 12,
    callbacks: [{ onEpochEnd: (ctx) => { trial.report(ctx.logs.val_loss!, ctx.epoch + 1); if (trial.shouldPrune()) ctx.stop('pruned'); } }],
  });
  if (result.stopReason === 'pruned') trial.prune();
  return result.history.last!.val_loss!;
}, { trials: 18 });
console.log(study.summary());
