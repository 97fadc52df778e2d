// A run that does not learn, and a sentence that says why: `npx tsx examples/diagnose_broken_run.ts`.
import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data, train } = tread;

await tread.init();

const all = data.gaussianBlobs({ n: 600, centers: [[2, 0], [-2, 0], [0, 2], [0, -2]], std: 0.4, seed: 1 });
const [trainSet, valSet] = data.randomSplit(all, [400, 200], { seed: 1 });

// Ten sigmoid layers: the gradient reaching the first layers is a tiny fraction of the last one's.
function deepNet(act: () => tread.nn.Module, depth = 10): tread.nn.Sequential {
  const layers: tread.nn.Module[] = [new nn.Linear(2, 32), act()];
  for (let i = 1; i < depth; i++) layers.push(new nn.Linear(32, 32), act());
  return new nn.Sequential(...layers, new nn.Linear(32, 4));
}

async function run(model: tread.nn.Sequential) {
  return tread.fit(model, {
    train: new data.DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 1 }),
    val: new data.DataLoader(valSet, { batchSize: 200 }),
    optimizer: new optim.Adam(model.parameters(), { lr: 1e-3 }),
    lossFn: new nn.CrossEntropyLoss(),
    metrics: ['accuracy'],
    epochs: 8,
    diagnosis: { desiredError: 0.05 }, // the training error we would accept
  });
}

nn.manualSeed(1);
const broken = await run(deepNet(() => new nn.Sigmoid()));
console.log(train.primaryCauseLine(broken.primaryCause));
console.log(JSON.stringify(broken.primaryCause, null, 2)); // plain data: history.json, a Worker message
for (const f of broken.findings.slice(1)) console.log(`  ${train.formatFinding(f)}`);

// Karpathy's first sanity check fails too: the net cannot even memorize 32 samples.
nn.manualSeed(1);
const check = await train.overfitOneBatch(deepNet(() => new nn.Sigmoid()), { data: new data.DataLoader(trainSet, { batchSize: 32 }), lossFn: new nn.CrossEntropyLoss(), steps: 200 });
console.log(`overfit one batch: ${check.verdict}`);

// The advice: ReLU with He init.
nn.manualSeed(1);
const fixedNet = deepNet(() => new nn.ReLU());
for (const m of fixedNet.children()) if (m instanceof nn.Linear) nn.init.kaimingNormal_(m.weight, { nonlinearity: 'relu' });
const fixed = await run(fixedNet);
console.log(`after the fix: ${train.primaryCauseLine(fixed.primaryCause)}; val accuracy ${(fixed.history.last!.val_accuracy * 100).toFixed(1)}%`);
