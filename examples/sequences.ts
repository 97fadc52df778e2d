// Token sequences with PyTorch's vocabulary: a map-style Dataset, a WeightedRandomSampler for the
// rare class, Embedding + Conv1d + GroupNorm, and F1 / a confusion matrix from fit.
// `npx tsx examples/sequences.ts`; test/sequences-example.test.ts runs it.
import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
const { nn, optim, data, train } = tread;

await tread.init();
nn.manualSeed(0);

// Sequences of 12 tokens (vocabulary 20); class 1 = the motif "3, 7" occurs. About 1 in 5 has it.
const VOCAB = 20;
const LENGTH = 12;
class Motifs extends data.MapDataset {
  constructor(readonly length: number, readonly seed: number) {
    super({ dtypes: ['int32'] }); // token ids are indices, not features
  }
  getItem(i: number): [number[], number] {
    const rng = new data.Rng(this.seed, i);
    const tokens = Array.from({ length: LENGTH }, () => rng.int(VOCAB));
    if (rng.uniform() < 0.2) tokens.splice(rng.int(LENGTH - 1), 2, 3, 7);
    const label = tokens.some((t, k) => t === 3 && tokens[k + 1] === 7) ? 1 : 0;
    return [tokens, label];
  }
}
const trainSet = new Motifs(2000, 1);
const valSet = new Motifs(500, 2);

// Oversample the rare class: each sample weighs 1 / (its class's count).
const labels = Array.from({ length: trainSet.length }, (_, i) => trainSet.getItem(i)[1]);
const counts = [0, 1].map((c) => labels.filter((l) => l === c).length);
const sampler = new data.WeightedRandomSampler(labels.map((l) => 1 / counts[l]), trainSet.length, { seed: 3 });

class MotifNet extends nn.Module {
  embed = new nn.Embedding(VOCAB, 16);
  conv = new nn.Conv1d(16, 32, 3, { padding: 1 });
  norm = new nn.GroupNorm(4, 32);
  head = new nn.Linear(32, 2);
  forward(tokens: tread.Tensor): tread.Tensor {
    const h = this.embed.forward(tokens).permute([0, 2, 1]); // [B, L, 16] -> [B, 16, L]
    return this.head.forward(this.norm.forward(this.conv.forward(h)).relu().max(2)); // max over positions
  }
}
const model = new MotifNet();
const confusion = new train.ConfusionMatrix();
const result = await tread.fit(model, {
  train: new data.DataLoader(trainSet, { batchSize: 50, sampler }),
  val: new data.DataLoader(valSet, { batchSize: 250 }),
  optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }),
  lossFn: new nn.CrossEntropyLoss(),
  epochs: 6,
  metrics: ['accuracy', 'f1', new train.F1Score({ classIndex: 1 }), confusion],
});
const last = result.history.last!;
console.log(`train class counts ${counts.join(' / ')}`);
console.log(`val accuracy ${last.val_accuracy.toFixed(3)}, macro F1 ${last.val_f1.toFixed(3)}, F1 of the motif class ${last.val_f1_class1.toFixed(3)}`);
console.log(`last training epoch's confusion matrix (rows: true class): ${JSON.stringify(confusion.matrix)}`);
