import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data } = tread;

await tread.init();
nn.manualSeed(0);
const spirals = data.twoSpirals({ n: 400, noise: 0.05, seed: 1 });
const model = new nn.Sequential(new nn.Linear(2, 32), new nn.BatchNorm1d(32), new nn.ReLU(), new nn.Linear(32, 2));
const optimizer = new optim.AdamW(model.parameters(), { lr: 0.01, weightDecay: 0.01 });
const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 5, gamma: 0.5 });
const lossFn = new nn.CrossEntropyLoss();
await tread.fit(model, { train: new data.DataLoader(spirals, { batchSize: 32, shuffle: true, seed: 2 }), optimizer, scheduler, lossFn, epochs: 5 });

// Hand the running training over to PyTorch: train_torch.py needs only PyTorch; it continues
// with the same weights (PyTorch's state-dict names), optimizer state and schedule position.
const dir = process.argv[2] ?? 'to-pytorch';
const [x, y] = spirals.tensors;
const files = await tread.exportToPyTorch({ model, optimizer, scheduler, lossFn, dir, data: { x, y }, batchSize: 32, overwrite: true });
console.log(`wrote ${files.script}; continue with: python3 ${files.script} --epochs 5, or torchrun --nproc_per_node=2 ${files.script}`);
