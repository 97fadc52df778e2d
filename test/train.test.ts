/**
 * fit() and its callbacks, on a small kit of plain-JS layers (test/helpers/toy.ts) so that
 * these tests depend only on tensors and autograd. test/train-nn.test.ts runs the same loop
 * on tread's own nn/optim/data.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import { History, type TrainContext } from '../ts/train/callbacks.js';
import { EarlyStopping } from '../ts/train/early_stopping.js';
import { fit } from '../ts/train/fit.js';
import { ModelCheckpoint, resumeFrom } from '../ts/train/model_checkpoint.js';
import { diagnose, Monitor } from '../ts/train/monitor.js';
import { renderReport } from '../ts/train/report.js';
import { setDefaultRng } from '../ts/train/rng.js';
import { blobs, crossEntropy, Dropout, Linear, Loader, ReLU, Rng, Sequential, SGD, StepLR, Counter } from './helpers/toy.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

afterEach(() => setDefaultRng(null));

const dir = mkdtempSync(join(tmpdir(), 'tread-train-'));
const F = 6;

function setup(seed: number, opts: { dropout?: boolean; lr?: number } = {}) {
  const rng = new Rng(seed);
  const layers = [new Linear(F, 16, rng), new Counter(), new ReLU()];
  if (opts.dropout) layers.push(new Dropout(0.2, rng));
  layers.push(new Linear(16, 3, rng));
  const model = new Sequential(...layers);
  const optimizer = new SGD(model.parameters(), { lr: opts.lr ?? 0.1, momentum: 0.9 });
  return { model, optimizer, rng };
}

function weights(model: { stateDict(): Map<string, Tensor> }): Record<string, number[]> {
  return Object.fromEntries([...model.stateDict()].map(([n, t]) => [n, [...t.data]]));
}

const data = blobs(240, F, new Rng(99));
const valData = blobs(90, F, new Rng(100));

describe('fit', () => {
  it('trains, validates, logs metrics and lr, steps an epoch scheduler', async () => {
    const { model, optimizer } = setup(1);
    const scheduler = new StepLR(optimizer, 2, 0.5);
    const r = await fit(model, {
      train: new Loader(data.x, data.y, F, 24, new Rng(5)),
      val: new Loader(valData.x, valData.y, F, 30, null),
      optimizer,
      lossFn: crossEntropy,
      epochs: 5,
      scheduler,
      metrics: ['accuracy', 'top2'],
    });
    expect(r.history.epochs.length).toBe(5);
    expect(r.epoch).toBe(5);
    expect(r.globalStep).toBe(50);
    expect(r.history.series('lr')).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    const last = r.history.last!;
    expect(last.accuracy).toBeGreaterThan(0.9);
    expect(last.val_accuracy).toBeGreaterThan(0.9);
    expect(last.top2_accuracy).toBeGreaterThanOrEqual(last.accuracy);
    expect(last.val_loss).toBeLessThan(r.history.epochs[0].val_loss);
    expect(r.nonFinite).toBeNull();
  });

  it('a callback can stop training', async () => {
    const { model, optimizer } = setup(2);
    const r = await fit(model, {
      train: new Loader(data.x, data.y, F, 24, null),
      optimizer,
      lossFn: crossEntropy,
      epochs: 10,
      callbacks: [{ onBatchEnd: (ctx: TrainContext) => (ctx.epoch === 1 && ctx.batch === 2 ? ctx.stop('enough') : undefined) }],
    });
    expect(r.stopReason).toBe('enough');
    expect(r.globalStep).toBe(13);
    expect(r.history.epochs.length).toBe(2);
  });

  it('early stopping stops on a worsening metric and restores the best epoch', async () => {
    const { model, optimizer } = setup(3, { lr: 0.05 });
    // Validation labels are shifted, so learning the training set makes val_loss worse.
    const badVal = { x: valData.x, y: valData.y.map((c) => (c + 1) % 3) };
    const perEpoch: Record<string, number[]>[] = [];
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
    const r = await fit(model, {
      train: new Loader(data.x, data.y, F, 24, null),
      val: new Loader(badVal.x, Int32Array.from(badVal.y), F, 30, null),
      optimizer,
      lossFn: crossEntropy,
      epochs: 20,
      callbacks: [{ onEpochEnd: (ctx: TrainContext) => void perEpoch.push(weights(ctx.model as any)) }, es],
    });
    const vl = r.history.series('val_loss');
    const best = vl.indexOf(Math.min(...vl));
    expect(r.history.epochs.length).toBeLessThan(20);
    expect(r.stopReason).toMatch(/early stopping: val_loss did not improve for 2 epoch/);
    expect(es.bestEpoch).toBe(best);
    expect(best).toBeLessThan(r.history.epochs.length - 1);
    expect(weights(model)).toEqual(perEpoch[best]);
    expect(weights(model)).not.toEqual(perEpoch[perEpoch.length - 1]);
  });

  it('min_delta and mode: small improvements do not count', () => {
    const es = new EarlyStopping({ monitor: 'val_accuracy', minDelta: 0.01 });
    expect(es.mode).toBe('max');
    es.best = 0.9;
    expect(es.isImprovement(0.905)).toBe(false);
    expect(es.isImprovement(0.911)).toBe(true);
    expect(es.isImprovement(NaN)).toBe(false);
  });

  it('a forced NaN is caught: training stops, the last good state is restored, the culprit is named', async () => {
    const { model, optimizer } = setup(4);
    const perEpoch: Record<string, number[]>[] = [];
    let momentumAfterEpoch1: number[] = [];
    const r = await fit(model, {
      train: new Loader(data.x, data.y, F, 24, null),
      optimizer,
      lossFn: crossEntropy,
      epochs: 5,
      checkFinite: true,
      callbacks: [
        {
          onEpochEnd: (ctx: TrainContext) => {
            perEpoch.push(weights(ctx.model as any));
            if (ctx.epoch === 1) momentumAfterEpoch1 = [...(optimizer.state.get(model.parameters()[0])!.momentum_buffer.data)];
          },
          onBatchBegin: (ctx: TrainContext) => {
            if (ctx.epoch === 2 && ctx.batch === 3) (ctx.model as any).layers[3].weight.f32[4] = NaN;
          },
        },
      ],
    });
    expect(r.nonFinite).not.toBeNull();
    expect(r.nonFinite!.what).toBe('loss');
    expect(r.nonFinite!.epoch).toBe(2);
    expect(r.nonFinite!.batch).toBe(3);
    expect(r.nonFinite!.layer).toBe('3.weight');
    expect(r.nonFinite!.where).toMatch(/parameter '3\.weight' holds NaN/);
    expect(r.nonFinite!.restoredEpoch).toBe(1);
    expect(r.epoch).toBe(2);
    expect(r.stopReason).toMatch(/non-finite loss/);
    expect(r.warnings.join('\n')).toMatch(/Restored the state after epoch 2/);
    expect(weights(model)).toEqual(perEpoch[1]);
    expect([...optimizer.state.get(model.parameters()[0])!.momentum_buffer.data]).toEqual(momentumAfterEpoch1);
    expect(r.history.epochs.length).toBe(2);
  });

  it('names the first layer whose output overflows, or a NaN input', async () => {
    const { model, optimizer } = setup(5);
    const r = await fit(model, {
      train: new Loader(data.x, data.y, F, 24, null),
      optimizer,
      lossFn: crossEntropy,
      epochs: 2,
      callbacks: [{ onBatchBegin: (ctx: TrainContext) => (ctx.epoch === 1 && ctx.batch === 0 ? (model as any).layers[0].weight.f32.fill(3e38) : undefined) }],
    });
    expect(r.nonFinite!.where).toMatch(/output of layer '0' \(Linear\)/);
    expect(r.nonFinite!.restoredEpoch).toBe(0);
    expect(Object.values(weights(model)).flat().every(Number.isFinite)).toBe(true);

    const s2 = setup(6);
    const nanX = data.x.slice();
    nanX[7] = NaN;
    const r2 = await fit(s2.model, { train: new Loader(nanX, data.y, F, 24, null), optimizer: s2.optimizer, lossFn: crossEntropy, epochs: 1 });
    expect(r2.nonFinite!.where).toMatch(/input batch/);
    expect(r2.nonFinite!.restoredEpoch).toBe(-1);
  });

  it('resuming from the last checkpoint after a crash gives the same weights as an uninterrupted run', async () => {
    const E = 6;
    const run = async (crashAt: number | null, file: string) => {
      const { model, optimizer, rng } = setup(7, { dropout: true });
      const scheduler = new StepLR(optimizer, 2, 0.5);
      setDefaultRng({ getState: () => rng.s, setState: (s) => (rng.s = s as number) });
      const loader = new Loader(data.x, data.y, F, 24, rng);
      const es = new EarlyStopping({ monitor: 'loss', patience: 100 });
      const ckpt = new ModelCheckpoint({ file, earlyStopping: es });
      const crash = { onBatchBegin: (ctx: TrainContext) => { if (ctx.epoch === crashAt && ctx.batch === 4) throw new Error('crash'); } };
      const err = await fit(model, { train: loader, optimizer, lossFn: crossEntropy, epochs: E, scheduler, callbacks: [es, ckpt, crash] }).catch((e) => e);
      return { model, err };
    };
    const full = await run(null, join(dir, 'full.safetensors'));
    expect(full.err.history.epochs.length).toBe(E);

    const file = join(dir, 'crash.safetensors');
    const crashed = await run(3, file);
    expect(crashed.err.message).toBe('crash');

    // A new "process": fresh objects with other initial values and another RNG seed.
    const { model, optimizer, rng } = setup(1234, { dropout: true });
    const scheduler = new StepLR(optimizer, 2, 0.5);
    setDefaultRng({ getState: () => rng.s, setState: (s) => (rng.s = s as number) });
    const es = new EarlyStopping({ monitor: 'loss', patience: 100 });
    const resume = await resumeFrom(file, { model, optimizer, scheduler, earlyStopping: es });
    expect(resume.initialEpoch).toBe(3);
    expect(resume.history.epochs.length).toBe(3);
    expect(scheduler.lastEpoch).toBe(3);
    const r = await fit(model, { train: new Loader(data.x, data.y, F, 24, rng), optimizer, lossFn: crossEntropy, epochs: E, scheduler, callbacks: [es], ...resume });
    expect(r.history.epochs.length).toBe(E);
    expect(r.globalStep).toBe(E * 10);
    expect(weights(model)).toEqual(weights(full.model));
    expect(r.history.series('loss')).toEqual(full.err.history.series('loss'));
  });
});

describe('monitor and report', () => {
  it('logs gradient norms, update ratios, activation statistics and dead ReLUs; warns; renders a self-contained report', async () => {
    const { model, optimizer } = setup(8, { lr: 0.05 });
    const mon = new Monitor({ samplesPerEpoch: 3 });
    const r = await fit(model, {
      train: new Loader(data.x, data.y, F, 24, null),
      val: new Loader(valData.x, valData.y, F, 30, null),
      optimizer,
      lossFn: crossEntropy,
      epochs: 3,
      metrics: ['accuracy'],
      callbacks: [mon],
    });
    const last = r.history.last!;
    for (const k of ['grad_norm/0.weight', 'grad_norm/3.bias', 'update_ratio/0.weight', 'act_std/0', 'act_mean/2', 'dead_relu/2']) expect(last[k]).toBeTypeOf('number');
    expect(last['grad_norm/0.weight']).toBeGreaterThan(0);
    expect(last['dead_relu/2']).toBeGreaterThanOrEqual(0);
    expect(last['dead_relu/2']).toBeLessThanOrEqual(1);

    // A huge learning rate: update ratios far above 1e-3 are flagged.
    const s2 = setup(9, { lr: 50 });
    const r2 = await fit(s2.model, { train: new Loader(data.x, data.y, F, 24, null), optimizer: s2.optimizer, lossFn: crossEntropy, epochs: 1, callbacks: [new Monitor()] });
    expect(r2.warnings.join('\n')).toMatch(/learning rate is probably too high|non-finite/);

    const html = renderReport({ title: 'test <run>', history: r.history, summary: { accuracy: last.val_accuracy }, warnings: ['w1'], diagnosis: diagnose(r.history).lines, config: { a: 1 } });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('test &lt;run&gt;');
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/);
  });

  it('diagnoses high bias and high variance from curves', () => {
    const h = (rows: [number, number, number, number][]) =>
      History.fromJSON(rows.map(([loss, acc, vl, va], i) => ({ epoch: i, loss, accuracy: acc, val_loss: vl, val_accuracy: va })));
    const bias = diagnose(h([[1.2, 0.6, 1.2, 0.6], [1.1, 0.62, 1.1, 0.61], [1.09, 0.63, 1.1, 0.62]]));
    expect(bias.highBias).toBe(true);
    expect(bias.highVariance).toBe(false);
    expect(bias.lines.join('\n')).toMatch(/bigger model/);
    const variance = diagnose(h([[0.5, 0.9, 0.5, 0.88], [0.2, 0.97, 0.45, 0.9], [0.1, 0.99, 0.5, 0.9], [0.05, 0.995, 0.6, 0.89]]));
    expect(variance.highVariance).toBe(true);
    expect(variance.highBias).toBe(false);
    expect(variance.lines.join('\n')).toMatch(/more data|regularization/);
    const good = diagnose(h([[0.2, 0.97, 0.2, 0.965], [0.1, 0.98, 0.11, 0.975]]));
    expect(good.highBias || good.highVariance).toBe(false);
  });
});

describe('callback order', () => {
  it('runs each callback after its runsAfter, keeps the listed order otherwise, refuses cycles', async () => {
    const { orderCallbacks } = await import('../ts/train/callbacks.js');
    const a: any = { name: 'a' }, b: any = { name: 'b' };
    const c: any = { name: 'c', runsAfter: [b] };
    const d: any = { name: 'd', runsAfter: [{ name: 'not listed' }] };
    expect(orderCallbacks([a, c, d, b]).map((x: any) => x.name)).toEqual(['a', 'b', 'c', 'd']);
    const x: any = { name: 'x' }, y: any = { name: 'y', runsAfter: [x] };
    x.runsAfter = [y];
    expect(() => orderCallbacks([x, y])).toThrow(/cycle in runsAfter/);
  });
});
