/**
 * Ensembles: the combination rules against the same arithmetic done by hand in float64 JS,
 * gradients against finite differences, state-dict names and round trip, and a statistical
 * check on held-out data that an ensemble of independently seeded members beats its average
 * member (accuracy) and, by convexity of -log, strictly lowers the negative log-likelihood.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import * as nn from '../ts/nn/index.js';
import { manualSeed } from '../ts/nn/random.js';
import { Adam } from '../ts/optim/index.js';
import { DataLoader } from '../ts/data/loader.js';
import { randomSplit } from '../ts/data/split.js';
import { twoSpirals } from '../ts/data/synthetic.js';
import { noGrad } from '../ts/autograd/engine.js';
import { encodeCheckpoint, applyCheckpoint } from '../ts/train/checkpoint.js';
import { parseSafetensors } from '../ts/train/safetensors.js';
import { evaluate } from '../ts/train/fit.js';
import { bootstrapIndices, Ensemble, trainEnsemble } from '../ts/train/ensemble.js';
import { SnapshotEnsemble } from '../ts/train/snapshot_ensemble.js';
import { fit } from '../ts/train/fit.js';
import { CosineAnnealingWarmRestarts } from '../ts/optim/lr_scheduler/index.js';
import type { TrainContext } from '../ts/train/callbacks.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

/** A member whose output is fixed logits (ignores its input), to test combination rules exactly. */
class FixedLogits extends nn.Module {
  constructor(private readonly values: number[][]) {
    super();
  }
  forward(): Tensor {
    return tensor(this.values.flat(), [this.values.length, this.values[0].length]);
  }
}

function mlp(hidden = 8, out = 3): nn.Sequential {
  return new nn.Sequential(new nn.Linear(2, hidden), new nn.Tanh(), new nn.Linear(hidden, out));
}

function softmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function rows(t: Tensor): number[][] {
  const [n, c] = t.shape;
  const d = Array.from(t.f32);
  return Array.from({ length: n }, (_, i) => d.slice(i * c, (i + 1) * c));
}

const X = [
  [0.3, -1.2],
  [1.5, 0.4],
  [-0.7, 0.9],
  [2.0, -2.0],
];

describe('Ensemble combination rules', () => {
  it("'probs' is the mean of the members' softmax, 'logProbs' its log, 'mean' the mean of raw outputs", () => {
    manualSeed(11);
    const members = [mlp(), mlp(), mlp()];
    const x = tensor(X.flat(), [4, 2]);
    const memberLogits = noGrad(() => members.map((m) => rows(m.forward(x))));
    // By hand, in float64.
    const wantProbs = X.map((_, i) => [0, 1, 2].map((j) => memberLogits.reduce((s, l) => s + softmaxRow(l[i])[j], 0) / 3));
    const wantMean = X.map((_, i) => [0, 1, 2].map((j) => memberLogits.reduce((s, l) => s + l[i][j], 0) / 3));

    const probs = noGrad(() => rows(new Ensemble(members).forward(x)));
    const logProbs = noGrad(() => rows(new Ensemble(members, { logProbs: true }).forward(x)));
    const meanOut = noGrad(() => rows(new Ensemble(members, { combine: 'mean' }).forward(x)));
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 3; j++) {
        expect(probs[i][j]).toBeCloseTo(wantProbs[i][j], 6);
        expect(logProbs[i][j]).toBeCloseTo(Math.log(wantProbs[i][j]), 5);
        expect(meanOut[i][j]).toBeCloseTo(wantMean[i][j], 5);
      }
      expect(probs[i].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
  });

  it("'logProbs' stays finite where a confident member's probability underflows to 0", () => {
    // Member 0 puts ~e^-200 on class 1 (0 in float32); member 1 is unsure: log mean = log(0.25).
    const e = new Ensemble([new FixedLogits([[100, -100]]), new FixedLogits([[0, 0]])], { logProbs: true });
    const out = noGrad(() => rows(e.forward(tensor([0], [1, 1]))));
    expect(out[0][1]).toBeCloseTo(Math.log(0.25), 5);
    expect(out[0][0]).toBeCloseTo(Math.log((1 + 0.5) / 2), 5);
  });

  it('the log-probability output backpropagates: NLL gradient matches finite differences', () => {
    manualSeed(5);
    const e = new Ensemble([mlp(4), mlp(4)], { logProbs: true });
    const x = tensor(X.flat(), [4, 2]);
    const y = tensor([0, 2, 1, 2], [4], { dtype: 'int32' });
    const lossFn = new nn.NLLLoss();
    const loss = () => noGrad(() => lossFn.forward(e.forward(x), y).item());
    lossFn.forward(e.forward(x), y).backward();
    const w = e.stateDict().get('members.1.0.weight')!;
    const grad = Array.from(w.grad!.f32);
    const h = 1e-2;
    for (let i = 0; i < w.size; i++) {
      const v = w.f32[i];
      w.f32[i] = v + h;
      const up = loss();
      w.f32[i] = v - h;
      const down = loss();
      w.f32[i] = v;
      expect(grad[i]).toBeCloseTo((up - down) / (2 * h), 3);
    }
  });

  it("'vote' gives each class's fraction of member argmaxes; predict() breaks ties by mean probability", () => {
    const logits = [
      [[3, 0, 0], [0, 2, 0], [0, 0, 1], [1, 0, 0]],
      [[2, 1, 0], [0, 0, 5], [0, 4, 0], [0, 1, 0]],
      [[0, 0, 1], [0, 3, 0], [0, 0, 2], [0.5, 0, 0]],
      [[1, 0, 0], [0, 1, 0], [2, 0, 0], [0, 9, 0]],
    ];
    const e = new Ensemble(logits.map((l) => new FixedLogits(l)), { combine: 'vote' });
    const x = tensor([0, 0, 0, 0], [4, 1]);
    const votes = noGrad(() => rows(e.forward(x)));
    // Naive count.
    for (let i = 0; i < 4; i++) {
      const count = [0, 0, 0];
      for (const l of logits) count[l[i].indexOf(Math.max(...l[i]))]++;
      for (let j = 0; j < 3; j++) expect(votes[i][j]).toBeCloseTo(count[j] / 4, 7);
    }
    const pred = Array.from(e.predict(x).data);
    expect(pred.slice(0, 3)).toEqual([0, 1, 2]); // majorities of 3, 3 and 2 votes of 4
    // Row 3: classes 0 and 1 tie with 2 votes each; the mean probability decides.
    const meanP = [0, 1, 2].map((j) => logits.reduce((s, l) => s + softmaxRow(l[3])[j], 0) / 4);
    const tied = [0, 1, 2].filter((j) => votes[3][j] === Math.max(...votes[3]));
    const want = tied.reduce((b, j) => (meanP[j] > meanP[b] ? j : b), tied[0]);
    expect(tied.length).toBeGreaterThan(1);
    expect(pred[3]).toBe(want);
    expect(want).toBe(1); // member 3's 9-logit dominates the mean
  });

  it('rejects bad members and mismatched outputs with errors naming them', () => {
    expect(() => new Ensemble([])).toThrow(/non-empty/);
    expect(() => new Ensemble([mlp(), {} as nn.Module])).toThrow(/member 1 is not an nn.Module/);
    manualSeed(1);
    const e = new Ensemble([mlp(8, 3), mlp(8, 4)]);
    expect(() => e.forward(tensor(X.flat(), [4, 2]))).toThrow(/member 1 returned shape \[4, 4\] but member 0 returned \[4, 3\]/);
    const single = new Ensemble([mlp(8, 1), mlp(8, 1)]);
    expect(() => single.forward(tensor(X.flat(), [4, 2]))).toThrow(/at least 2 classes.*combine 'mean'/);
  });
});

describe('Ensemble state dict', () => {
  it("uses ModuleList names (members.i.*) and round-trips through checkpoint bytes", () => {
    manualSeed(3);
    const a = new Ensemble([mlp(), mlp(), mlp()]);
    const keys = [...a.stateDict().keys()];
    expect(keys).toEqual([0, 1, 2].flatMap((i) => ['0.weight', '0.bias', '2.weight', '2.bias'].map((k) => `members.${i}.${k}`)));
    manualSeed(4);
    const b = new Ensemble([mlp(), mlp(), mlp()]);
    const x = tensor(X.flat(), [4, 2]);
    const before = noGrad(() => Array.from(b.forward(x).f32));
    const want = noGrad(() => Array.from(a.forward(x).f32));
    expect(before).not.toEqual(want);
    applyCheckpoint(parseSafetensors(encodeCheckpoint({ model: a })), { model: b });
    expect(noGrad(() => Array.from(b.forward(x).f32))).toEqual(want);
    // A member-count mismatch is refused by name.
    expect(() => new Ensemble([mlp(), mlp()]).loadStateDict(a.stateDict())).toThrow(/members\.2\.0\.weight/);
  });
});

describe('bootstrapIndices', () => {
  it('draws with replacement: about 1 - 1/e distinct, every index in range, seeded', () => {
    const n = 20000;
    const idx = bootstrapIndices(n, 9);
    expect(idx.every((i) => i >= 0 && i < n)).toBe(true);
    // Expected distinct fraction 1-(1-1/n)^n ≈ 0.6321, sd ≈ 0.0034 at n=20000: 0.02 is > 5 sd.
    expect(new Set(idx).size / n).toBeGreaterThan(0.6121);
    expect(new Set(idx).size / n).toBeLessThan(0.6521);
    expect(Array.from(bootstrapIndices(n, 9))).toEqual(Array.from(idx));
    expect(Array.from(bootstrapIndices(n, 10))).not.toEqual(Array.from(idx));
  });
});

describe('trainEnsemble', () => {
  // Spirals with few training points: members overfit differently, so averaging helps. The
  // claims are checked for two data seeds and with and without bootstrap resampling.
  const cases = [
    { dataSeed: 2, bootstrap: false },
    { dataSeed: 3, bootstrap: true },
  ];
  for (const { dataSeed, bootstrap } of cases) {
    it(`beats the mean member on held-out data (spirals seed ${dataSeed}, bootstrap ${bootstrap})`, async () => {
      const all = twoSpirals({ n: 800, noise: 0.08, seed: dataSeed });
      const [train, held] = randomSplit(all, [200, 600], { seed: 7 });
      const { ensemble, results, seeds } = await trainEnsemble({
        members: 5,
        seed: dataSeed,
        bootstrap,
        data: train,
        val: held,
        batchSize: 20,
        epochs: 40,
        lossFn: new nn.CrossEntropyLoss(),
        metrics: ['accuracy'],
        ensemble: { logProbs: true },
        makeModel: () => new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 2)),
        makeOptimizer: (m) => new Adam(m.parameters(), { lr: 0.01 }),
      });
      expect(results).toHaveLength(5);
      expect(new Set(seeds).size).toBe(5);
      expect(results.every((r) => r.history.epochs.length === 40)).toBe(true);
      // Members differ (own init and order).
      const w0 = Array.from(ensemble.stateDict().get('members.0.0.weight')!.f32);
      const w1 = Array.from(ensemble.stateDict().get('members.1.0.weight')!.f32);
      expect(w0).not.toEqual(w1);

      const heldLoader = new DataLoader(held, { batchSize: 600 });
      const members = [];
      for (const m of ensemble.memberList()) members.push(await evaluate(m, heldLoader, { lossFn: new nn.CrossEntropyLoss(), metrics: ['accuracy'] }));
      // Each member's held-out numbers are what fit logged for its last epoch.
      members.forEach((m, i) => expect(m.loss).toBeCloseTo(results[i].history.last!.val_loss, 5));
      const meanAcc = members.reduce((s, m) => s + m.accuracy, 0) / 5;
      const meanNll = members.reduce((s, m) => s + m.loss, 0) / 5;
      const ens = await evaluate(ensemble, heldLoader, { lossFn: new nn.NLLLoss(), metrics: ['accuracy'] });
      // CrossEntropyLoss on the log of mean probabilities is the same NLL.
      const ensCe = await evaluate(ensemble, heldLoader, { lossFn: new nn.CrossEntropyLoss() });
      expect(ensCe.loss).toBeCloseTo(ens.loss, 5);
      expect(ens.accuracy).toBeGreaterThanOrEqual(meanAcc);
      // Jensen: -log(mean p) <= mean(-log p) per sample, strictly where members disagree.
      expect(ens.loss).toBeLessThan(meanNll);
      ensemble.combine = 'vote';
      const vote = await evaluate(ensemble, heldLoader, { metrics: ['accuracy'] });
      expect(vote.accuracy).toBeGreaterThanOrEqual(meanAcc);
    });
  }

  it('is reproducible with a seed and different with another', async () => {
    const all = twoSpirals({ n: 100, seed: 1 });
    const run = async (seed: number) => {
      const { ensemble } = await trainEnsemble({
        members: 2, seed, data: all, epochs: 2, batchSize: 25, lossFn: new nn.CrossEntropyLoss(),
        makeModel: () => mlp(8, 2),
        makeOptimizer: (m) => new Adam(m.parameters(), { lr: 0.01 }),
      });
      return [...ensemble.stateDict().values()].flatMap((t) => Array.from(t.f32));
    };
    const a = await run(1);
    expect(await run(1)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
  });

  it('rejects bad options clearly', async () => {
    const all = twoSpirals({ n: 20, seed: 1 });
    const base = { data: all, epochs: 1, lossFn: new nn.CrossEntropyLoss(), makeModel: () => mlp(4, 2), makeOptimizer: (m: nn.Module) => new Adam(m.parameters()) };
    await expect(trainEnsemble({ ...base, members: 0 })).rejects.toThrow(/members must be a positive integer, got 0/);
    await expect(trainEnsemble({ ...base, members: 2, data: [] as any })).rejects.toThrow(/data must be a Dataset/);
  });
});

describe('SnapshotEnsemble', () => {
  it('copies the weights at the chosen epochs of one run (cosine restarts) and ensembles them', async () => {
    const all = twoSpirals({ n: 600, noise: 0.08, seed: 5 });
    const [train, held] = randomSplit(all, [200, 400], { seed: 2 });
    const makeModel = () => new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 32), new nn.ReLU(), new nn.Linear(32, 2));
    manualSeed(8);
    const model = makeModel();
    const optimizer = new Adam(model.parameters(), { lr: 0.02 });
    const scheduler = new CosineAnnealingWarmRestarts(optimizer, { t0: 5 });
    const every = new SnapshotEnsemble({ makeModel, every: 5 });
    const listed = new SnapshotEnsemble({ makeModel, epochs: [3, 15], keep: 1 });
    // Records the live weights after each epoch, independently of the snapshot code.
    const seen = new Map<number, number[]>();
    const recorder = { onEpochEnd: (ctx: TrainContext) => void seen.set(ctx.epoch + 1, [...model.stateDict().values()].flatMap((t) => Array.from(t.f32))) };
    await fit(model, {
      train: new DataLoader(train, { batchSize: 20, shuffle: true, seed: 1 }),
      optimizer, scheduler, lossFn: new nn.CrossEntropyLoss(), epochs: 15,
      callbacks: [every, listed, recorder],
    });
    const flat = (m: nn.Module) => [...m.stateDict().values()].flatMap((t) => Array.from(t.f32));
    expect(every.snapshotEpochs).toEqual([5, 10, 15]);
    every.snapshots.forEach((s, i) => expect(flat(s)).toEqual(seen.get(5 * (i + 1))));
    expect(flat(every.snapshots[0])).not.toEqual(flat(every.snapshots[1]));
    expect(listed.snapshotEpochs).toEqual([15]);
    // Snapshots are copies: changing the live model leaves them alone.
    const before = flat(every.snapshots[2]);
    noGrad(() => model.parameters()[0].f32.fill(0));
    expect(flat(every.snapshots[2])).toEqual(before);

    const ensemble = every.ensemble({ logProbs: true });
    expect(ensemble.size).toBe(3);
    const heldLoader = new DataLoader(held, { batchSize: 400 });
    const members = [];
    for (const m of every.snapshots) members.push(await evaluate(m, heldLoader, { lossFn: new nn.CrossEntropyLoss() }));
    const ens = await evaluate(ensemble, heldLoader, { lossFn: new nn.NLLLoss() });
    expect(ens.loss).toBeLessThan(members.reduce((s, m) => s + m.loss, 0) / 3);
  });

  it('rejects bad options and a model of another architecture', async () => {
    const makeModel = () => mlp(8, 2);
    expect(() => new SnapshotEnsemble({ makeModel })).toThrow(/exactly one of every or epochs/);
    expect(() => new SnapshotEnsemble({ makeModel, every: 0 })).toThrow(/every must be a positive integer, got 0/);
    expect(() => new SnapshotEnsemble({ makeModel, every: 2 }).ensemble()).toThrow(/no snapshot was taken/);
    manualSeed(1);
    const model = mlp(16, 2);
    const wrong = new SnapshotEnsemble({ makeModel, every: 1 });
    const train = new DataLoader(twoSpirals({ n: 20, seed: 1 }), { batchSize: 10 });
    await expect(fit(model, { train, optimizer: new Adam(model.parameters()), lossFn: new nn.CrossEntropyLoss(), epochs: 1, callbacks: [wrong] })).rejects.toThrow(/does not build the trained model's architecture.*size mismatch/s);
  });
});
