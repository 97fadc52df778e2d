/**
 * fit()'s `result.best`: the epoch whose weights the model holds when fit returns, with its
 * logs; checked against an evaluation of the returned model. The report marks that epoch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { renderReport } from '../ts/train/report.js';

const { nn, optim, data } = tread;

beforeAll(async () => {
  await tread.init({ threads: 2 });
});

function setup() {
  nn.manualSeed(0);
  const all = data.twoSpirals({ n: 600, noise: 0.05, seed: 1 });
  const [trainSet, valSet] = data.randomSplit(all, [480, 120], { seed: 7 });
  const train = new data.DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 3 });
  const val = new data.DataLoader(valSet, { batchSize: 120 });
  const model = new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 2));
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
  const lossFn = new nn.CrossEntropyLoss();
  return { train, val, model, optimizer, lossFn };
}

describe('fit() result.best', () => {
  it('after EarlyStopping restores the best weights: that epoch and its logs, which the model reproduces', async () => {
    const { train, val, model, optimizer, lossFn } = setup();
    const result = await tread.fit(model, {
      train, val, optimizer, lossFn, epochs: 60, metrics: ['accuracy'],
      callbacks: [new tread.EarlyStopping({ monitor: 'val_loss', patience: 5, restoreBestWeights: true })],
    });
    const best = result.best!;
    const losses = result.history.series('val_loss');
    // The best epoch is the one with the lowest val_loss, and it is not the last one (a restore happened).
    expect(best.epoch).toBe(losses.indexOf(Math.min(...losses)));
    expect(best.epoch).toBeLessThan(result.epoch - 1);
    expect(best.restored).toBe(true);
    expect(best.logs).toBe(result.history.epochs[best.epoch]);
    // The returned model is that epoch's: evaluating it gives its logged val_loss and accuracy, not the last epoch's.
    const now = await tread.train.evaluate(model, val, { lossFn, metrics: ['accuracy'] });
    expect(now.loss).toBeCloseTo(best.logs.val_loss, 5);
    expect(now.accuracy).toBeCloseTo(best.logs.val_accuracy, 6);
    expect(Math.abs(now.loss - result.history.last!.val_loss)).toBeGreaterThan(1e-4);
  });

  it('without a restore: the last epoch, not marked as restored', async () => {
    const { train, val, model, optimizer, lossFn } = setup();
    const result = await tread.fit(model, { train, val, optimizer, lossFn, epochs: 3 });
    expect(result.best).toEqual({ epoch: 2, logs: result.history.last, restored: false });
    const none = await tread.fit(model, { train, optimizer, lossFn, epochs: 0 });
    expect(none.best).toBeNull();
  });

  it('the report marks that epoch', () => {
    const history = new tread.train.History();
    for (let e = 0; e < 4; e++) history.push({ epoch: e, loss: 1 / (e + 1), val_loss: [0.9, 0.5, 0.7, 0.8][e] });
    const html = renderReport({ history, best: { epoch: 1, restored: true } });
    const rows = [...html.matchAll(/<tr( class="best")?><td>(\d+)( ★)?<\/td>/g)];
    expect(rows.map((r) => [r[2], Boolean(r[1]), Boolean(r[3])])).toEqual([
      ['1', false, false],
      ['2', true, true],
      ['3', false, false],
      ['4', false, false],
    ]);
    expect(html).toMatch(/★ epoch 2: the weights the model ended with \(restored/);
    expect(renderReport({ history })).not.toMatch(/class="best"|★/);
  });
});
