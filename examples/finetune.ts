// Fine-tuning: a frozen backbone that stays frozen, and a PyTorch optimizer state carried over.
// `npx tsx examples/finetune.ts`; test/finetune-example.test.ts runs it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data, train } = tread;

await tread.init();
nn.manualSeed(0);

// 1. Freeze a backbone with BatchNorm and Dropout: weights, running statistics and outputs stay put.
const backbone = new nn.Sequential(new nn.Linear(2, 32), new nn.BatchNorm1d(32), new nn.ReLU(), new nn.Dropout(0.2));
const model = new nn.Sequential(backbone, new nn.Linear(32, 2));
train.freeze(model, '0', { batchNorm: 'eval' }); // '0' = the backbone; BatchNorm and Dropout pinned in eval mode
console.log(train.trainableSummary(model).frozenStatistics.join(', ')); // 0.1.running_mean, 0.1.running_var, 0.1.num_batches_tracked

const probe = tread.tensor([[0.5, -1], [2, 0.25]]).keep();
const before = [...tread.noGrad(() => backbone.forward(probe)).data];
const loader = new data.DataLoader(data.twoSpirals({ n: 200, seed: 1 }), { batchSize: 20, shuffle: true, seed: 2 });
const optimizer = new optim.SGD(train.trainableParameters(model), { lr: 0.05, momentum: 0.9 });
await tread.fit(model, { train: loader, optimizer, lossFn: new nn.CrossEntropyLoss(), epochs: 2 }); // calls model.train() each epoch
const after = [...tread.noGrad(() => backbone.forward(probe)).data];
console.log(`backbone outputs unchanged: ${after.every((v, i) => v === before[i])}`);
train.unfreeze(model, '0'); // trains (and updates its statistics) again

// 2. Continue a PyTorch run: AdamW + OneCycleLR saved after 5 steps (see README for the Python side).
const dir = new URL('../test/fixtures/pytorch-state/', import.meta.url);
const saved = JSON.parse(readFileSync(new URL('adamw_onecycle.json', dir), 'utf8')); // the weights at step 5
const layer = new nn.Linear(4, 3);
layer.loadStateDict({ weight: saved.params[0], bias: saved.params[1] });
const adamw = new optim.AdamW([{ params: [layer.weight] }, { params: [layer.bias!] }], { lr: 0.01 });
const scheduler = new optim.lrScheduler.OneCycleLR(adamw, { maxLr: [0.05, 0.02], totalSteps: 12 }); // PyTorch's options
await train.loadPyTorchOptimizerState(adamw, fileURLToPath(new URL('adamw_onecycle.optimizer.safetensors', dir))); // after the scheduler, as in PyTorch
scheduler.loadStateDict(JSON.parse(readFileSync(new URL('adamw_onecycle.scheduler.json', dir), 'utf8')));
const g = adamw.paramGroups[0];
console.log(`step ${scheduler.lastEpoch}: lr ${g.lr.toFixed(5)}, weightDecay ${g.weightDecay}, beta1 ${g.betas[0].toFixed(4)}`);
