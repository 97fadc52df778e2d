import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data, landscape } = tread;

await tread.init();
nn.manualSeed(0);

// A small net on the spirals, its path recorded every 5 steps.
const spirals = data.twoSpirals({ n: 400, noise: 0.05, seed: 1 });
const train = new data.DataLoader(spirals, { batchSize: 32, shuffle: true, seed: 2 });
const model = new nn.Sequential(new nn.Linear(2, 32), new nn.Tanh(), new nn.Linear(32, 32), new nn.Tanh(), new nn.Linear(32, 2));
const lossFn = new nn.CrossEntropyLoss();
const recorder = new landscape.PathRecorder(model, { everySteps: 5 });
await tread.fit(model, { train, optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }), lossFn, epochs: 20, callbacks: [recorder] });

// Fixed evaluation batches; no autograd at the grid points.
const [[x, y]] = [...new data.DataLoader(spirals, { batchSize: 400 })];
const batches = [[x!.keep(), y!.keep()] as const];
const evaluate = landscape.lossEvaluator(model, lossFn, batches, { accuracy: true });

// 1-D: from the initial weights to the trained ones (Goodfellow, Vinyals & Saxe 2015).
const line = landscape.linePath(model, { from: recorder.snapshots[0]!, to: new landscape.ParamSpace(model).read(), evaluate });
console.log(`line: loss ${line.values[10]!.loss.toFixed(3)} at α=0 -> ${line.values[30]!.loss.toFixed(3)} at α=1`);

// 2-D: filter-normalized random directions around the trained weights (Li et al. 2018).
const plane = await landscape.lossSurface(model, { evaluate, resolution: 21 });
console.log(`plane: ${plane.done} points, loss ${Math.min(...plane.loss.flat()).toFixed(3)} .. ${Math.max(...plane.loss.flat()).toFixed(3)}`);

// The optimizer's path on its PCA plane, and the sharpness (top Hessian eigenvalue).
const figures = await landscape.runLandscape({ model, lossFn, batches, recorder });
console.log(`path: ${figures.path.coords.length} snapshots, PCA variance ${figures.path.explained.map((e) => e.toFixed(2)).join(' + ')}`);
const { values } = landscape.hessianEigenvalues(model, lossFn, batches, { k: 2 });
console.log(`sharpness: top Hessian eigenvalues ${values.map((v) => v.toFixed(2)).join(', ')}`);
