import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, data } = tread;

await tread.init();

// Gradient flow through depth (Glorot & Bengio 2010, He et al. 2015): the mean |dL/da| of
// each layer's activations in a 10-layer net at initialisation, read with retainGrad().
const [x, y] = data.twoSpirals({ n: 256, seed: 1 }).tensors;
const nets = {
  sigmoid: { Act: nn.Sigmoid, init: (w: tread.Tensor) => tread.init.xavierNormal_(w) },
  relu: { Act: nn.ReLU, init: (w: tread.Tensor) => tread.init.kaimingNormal_(w, { nonlinearity: 'relu' }) },
};
for (const [name, { Act, init }] of Object.entries(nets)) {
  nn.manualSeed(0);
  const linears = Array.from({ length: 10 }, (_, i) => new nn.Linear(i === 0 ? 2 : 64, 64));
  linears.forEach((l) => init(l.weight));
  let h = x;
  const acts = linears.map((l) => (h = new Act().forward(l.forward(h))).retainGrad());
  new nn.CrossEntropyLoss().forward(new nn.Linear(64, 2).forward(h), y).backward();
  const flow = acts.map((a) => tread.mean(tread.abs(a.grad!)).item());
  console.log(`${name.padEnd(8)}dL/da per layer (1..10): ${flow.map((g) => g.toExponential(1)).join(' ')}`);
}
