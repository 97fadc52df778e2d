/**
 * ConfusionMatrix and F1Score against references computed with torch
 * (test/fixtures/vocab/metrics.json, tools/fixtures/vocab_metrics.py), fed batch by batch;
 * used through fit's `metrics`; errors leave the counts unchanged.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { ConfusionMatrix, F1Score } from '../ts/train/confusion.js';
import { resolveMetrics } from '../ts/train/metrics.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

interface Case {
  name: string;
  batches: { output: number[]; output_shape: number[]; target: number[] }[];
  matrix: number[][];
  per_class: (number | null)[];
  macro: number;
  micro: number;
  weighted: number;
}

const fixture = JSON.parse(readFileSync('test/fixtures/vocab/metrics.json', 'utf8')) as { cases: Case[] };

describe('golden vocab/metrics.json (torch by hand)', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const cm = new ConfusionMatrix();
      const f1 = { macro: new F1Score(), micro: new F1Score({ average: 'micro' }), weighted: new F1Score({ average: 'weighted' }) };
      const perClass = c.per_class.map((_, k) => new F1Score({ classIndex: k }));
      const all = [cm, ...Object.values(f1), ...perClass];
      for (const m of all) m.reset();
      for (const b of c.batches) {
        const out = tensor(b.output, b.output_shape);
        // Binary cases: float 0/1 targets, as BCE losses use them; int32 class indices otherwise.
        const target = tensor(b.target, [b.target.length], { dtype: b.output_shape.length === 1 ? 'float32' : 'int32' });
        for (const m of all) m.update(out, target);
      }
      expect(cm.matrix).toEqual(c.matrix);
      const total = c.matrix.flat().reduce((a, v) => a + v, 0);
      expect(cm.compute()).toBeCloseTo(c.matrix.reduce((a, r, i) => a + r[i], 0) / total, 12);
      expect(f1.macro.compute()).toBeCloseTo(c.macro, 12);
      expect(f1.micro.compute()).toBeCloseTo(c.micro, 12);
      expect(f1.weighted.compute()).toBeCloseTo(c.weighted, 12);
      expect(f1.macro.perClass().map((v) => (Number.isNaN(v) ? null : v))).toEqual(c.per_class.map((v) => (v === null ? null : expect.closeTo(v, 12))));
      perClass.forEach((m, k) => (c.per_class[k] === null ? expect(m.compute()).toBeNaN() : expect(m.compute()).toBeCloseTo(c.per_class[k]!, 12)));
      expect(f1.macro.name).toBe('f1');
      expect(perClass[1].name).toBe('f1_class1');
    });
  }
});

describe('ConfusionMatrix', () => {
  it('normalizes over rows, columns or all; refuses bad targets without counting anything', () => {
    const cm = new ConfusionMatrix({ numClasses: 3 });
    cm.update(tensor([3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 5], [4, 3]), tensor([0, 1, 2, 1], [4], { dtype: 'int32' }));
    expect(cm.matrix).toEqual([[1, 0, 0], [0, 1, 1], [0, 0, 1]]);
    expect(cm.normalized('true')).toEqual([[1, 0, 0], [0, 0.5, 0.5], [0, 0, 1]]);
    expect(cm.normalized('pred')).toEqual([[1, 0, 0], [0, 1, 0.5], [0, 0, 0.5]]);
    expect(cm.normalized('all')).toEqual([[0.25, 0, 0], [0, 0.25, 0.25], [0, 0, 0.25]]);
    const before = cm.matrix;
    expect(() => cm.update(tensor([1, 0, 0, 0, 1, 0], [2, 3]), tensor([0, 3], [2], { dtype: 'int32' }))).toThrow(/target 3 \(row 1\) is not a class index in 0..2/);
    expect(() => cm.update(tensor([1, 0], [1, 2]), tensor([0, 1], [2], { dtype: 'int32' }))).toThrow(/output has 1 rows \[1, 2\] but target has 2 elements/);
    expect(() => cm.update(tensor([1, 0, 0, 0], [1, 4]), tensor([0], [1], { dtype: 'int32' }))).toThrow(/4 classes \[1, 4\], more than numClasses 3/);
    expect(cm.matrix).toEqual(before);
    expect(() => new F1Score({ average: 'binary' } as any)).toThrow(/average must be 'macro', 'micro' or 'weighted'/);
    expect(() => new F1Score({ class_index: 1 } as any)).toThrow(/F1Score: unknown option 'class_index'.*classIndex/);
  });
});

describe('in fit', () => {
  it("'f1' / 'f1_micro' by name and a ConfusionMatrix object, for train and val", async () => {
    const { nn, optim, data } = tread;
    nn.manualSeed(3);
    const all = data.gaussianBlobs({ n: 300, centers: 3, dims: 2, std: 0.6, seed: 4 });
    const [tr, va] = data.randomSplit(all, [240, 60], { seed: 1 });
    const model = new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 3));
    const cm = new ConfusionMatrix();
    const result = await tread.fit(model, {
      train: new data.DataLoader(tr, { batchSize: 32, shuffle: true, seed: 2 }),
      val: new data.DataLoader(va, { batchSize: 60 }),
      optimizer: new optim.Adam(model.parameters(), { lr: 0.05 }),
      lossFn: new nn.CrossEntropyLoss(),
      epochs: 8,
      metrics: ['accuracy', 'f1', 'f1_micro', cm],
    });
    const last = result.history.last!;
    expect(last.val_f1).toBeGreaterThan(0.6);
    // Single-label data: micro F1 is the accuracy.
    expect(last.val_f1_micro).toBeCloseTo(last.val_accuracy, 12);
    expect(last.val_confusion_accuracy).toBeCloseTo(last.val_accuracy, 12);
    // The object passed in holds the last epoch's training counts (fit validates with a fresh copy).
    expect(cm.matrix.flat().reduce((a, b) => a + b, 0)).toBe(240);
    expect(cm.compute()).toBeCloseTo(last.accuracy, 12);
    expect(resolveMetrics(['f1_weighted'])[0].name).toBe('f1_weighted');
    expect(() => resolveMetrics(['f2'])).toThrow(/'f1' \(macro\), 'f1_micro', 'f1_weighted'/);
  });
});
