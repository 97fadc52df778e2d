// worker.js: tread runs in a Worker, where its threads may block (a page's main thread may not).
import * as tread from 'tread'; // without a bundler: from './node_modules/tread/dist/tread.browser.js'
const { nn, optim, data } = tread;

try {
  const info = await tread.init({ threads: 2 }); // 1 thread, and info.note says why, if the page is not isolated
  nn.manualSeed(0);
  const train = new data.DataLoader(data.twoSpirals({ n: 256, seed: 1 }), { batchSize: 32, shuffle: true, seed: 2 });
  const model = new nn.Sequential(
    new nn.Linear(2, 64), new nn.ReLU(),
    new nn.Linear(64, 64), new nn.ReLU(),
    new nn.Linear(64, 2),
  );
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
  const lossFn = new nn.CrossEntropyLoss();
  const losses = [];
  for (let epoch = 0; epoch < 10; epoch++) {
    for (const [x, y] of train) {
      optimizer.zeroGrad();
      const loss = lossFn.forward(model.forward(x), y);
      loss.backward();
      optimizer.step();
      losses.push(loss.item());
    }
  }
  postMessage({ variant: info.variant, threads: info.threads, note: info.note, losses });
} catch (e) {
  postMessage({ error: String(e) });
}
