/**
 * `npm run bench:fashion`: one epoch of the Fashion-MNIST MLP that `tread train --data
 * fashion-mnist --model mlp` builds (ts/cli/setup.ts buildRun with its defaults: Flatten,
 * 2 x [Linear(256, no bias) BatchNorm1d ReLU], Dropout(0.2), Linear(10); batch 128, shuffled;
 * Adam lr 3e-3 under OneCycleLR stepped per batch; cross-entropy; inputs normalized by the
 * training set's mean and std), against PyTorch 1.13 + OpenBLAS (OpenMP build) doing the same
 * epoch in bench/torch_child.py (same model, batch, optimizer, schedule and loss; the 60,000
 * images in memory, a randperm-shuffled loader), at 1 and 2 threads.
 *
 * The epoch is the plain loop (zero-grad, forward, loss, backward, optimizer step, scheduler
 * step) on both sides, timed from the first batch to the last loss; the data loading before it
 * is not timed. After the epoch each side reports its accuracy on the 10,000 official test
 * images (a sanity check: both should reach ~0.83-0.86 after one epoch). Every round trains a
 * fresh model (seed = round number) with each contender, the contenders alternating.
 *
 *   npm run bench:fashion [-- --rounds 2 --quick --threads 2,1 --node 24 --no-torch]
 *     --quick: 60 batches instead of the full 469, one round; --threads: the thread counts
 *
 * Needs Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, or
 * $TREAD_FASHION_MNIST). Writes bench/results/fashion.json (fashion-node24.json under Node 24).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, runtimeInfo, setThreads } from '../ts/runtime/wasm.js';
import { buildRun, resolveDefaults } from '../ts/cli/setup.js';
import { TRAIN_OPTIONS, camel, type TrainArgs } from '../ts/cli/args.js';
import { evaluate } from '../ts/train/fit.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import { alternateRounds, busyWarning, median, type RoundContender } from './harness.js';
import { cpuLine } from './cpu.js';
import { reexecForNode } from './node24.js';
import { startTorch } from './torch_child.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = reexecForNode();
const known = ['--rounds', '--quick', '--no-torch', '--threads'];
for (const a of args) if (a.startsWith('--') && !known.includes(a)) throw new Error(`bench:fashion: unknown option ${a} (known: --node, ${known.join(', ')})`);
const QUICK = args.includes('--quick');
const ri = args.indexOf('--rounds');
const ROUNDS = ri >= 0 ? Number(args[ri + 1]) : QUICK ? 1 : 2;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error('bench:fashion: --rounds must be an integer in 1..20');
const ti = args.indexOf('--threads');
const THREADS = (ti >= 0 ? String(args[ti + 1]) : '2,1').split(',').map(Number);
if (!THREADS.every((t) => t === 1 || t === 2)) throw new Error('bench:fashion: --threads must be 1, 2 or 1,2');
/** Batches per epoch: all 469 (60,000 / 128, the last one short), or 60 with --quick. */
const MAX_BATCHES = QUICK ? 60 : 0;

/** tread train's arguments for `--data fashion-mnist --model mlp --epochs 1` (+ --limit for --quick). */
function trainArgs(seed: number, batches: number): TrainArgs {
  const a: TrainArgs = {};
  for (const o of TRAIN_OPTIONS) a[camel(o.flag)] = o.default;
  Object.assign(a, { data: 'fashion-mnist', model: 'mlp', epochs: 1, seed, progress: false, monitor: false });
  if (batches) a.limit = batches * 128;
  return resolveDefaults(a);
}

interface Epoch {
  seconds: number;
  accuracy: number;
  loss: number;
  batches: number;
}

/** One epoch of what tread train builds, on `threads` threads; the data loading is not timed. */
async function treadEpoch(threads: number, seed: number, maxBatches = MAX_BATCHES): Promise<Epoch> {
  setThreads(threads);
  const run = await buildRun(trainArgs(seed, maxBatches));
  const { model, optimizer, scheduler } = run;
  const lossFn = run.lossFn as { forward(output: Tensor, target: Tensor): Tensor }; // a CrossEntropyLoss
  model.train?.();
  let total = 0;
  let batches = 0;
  const t0 = performance.now();
  for (const [x, y] of run.train as Iterable<readonly [Tensor, Tensor]>) {
    optimizer.zeroGrad();
    const l = lossFn.forward(model.forward(x) as Tensor, y);
    l.backward();
    optimizer.step();
    scheduler?.step();
    total += l.item();
    batches++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const logs = await evaluate(model, run.val, { metrics: ['accuracy'] });
  return { seconds, accuracy: Number(logs.accuracy), loss: total / batches, batches };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  await init({ threads: 2 });
  const info = runtimeInfo();
  const { torch, note } = args.includes('--no-torch') ? { torch: null, note: 'PyTorch not run (--no-torch)' } : await startTorch();
  console.log(`tread ${info.variant} (pool ${info.poolThreads}), node ${process.version}; ${note}; load avg ${loadBefore.toFixed(2)}`);

  const busy = busyWarning(loadBefore, availableParallelism());
  if (busy) console.log(busy);
  const epochs = new Map<string, Epoch[]>();
  const record = (name: string, e: Epoch) => {
    epochs.set(name, [...(epochs.get(name) ?? []), e]);
    console.log(`  ${name}: ${e.seconds.toFixed(2)} s, ${e.batches} batches, test accuracy ${e.accuracy.toFixed(4)}, mean loss ${e.loss.toFixed(4)}`);
    return e.seconds;
  };
  const contenders: RoundContender[] = [];
  for (const t of THREADS) {
    contenders.push({ name: `tread ${t}T`, round: async (r) => record(`tread ${t}T`, await treadEpoch(t, r + 1)) });
    if (torch) contenders.push({ name: `PyTorch ${t}T`, round: async (r) => record(`PyTorch ${t}T`, (await torch.child.ask(`fashion ${t} ${MAX_BATCHES} ${r + 1}`)) as unknown as Epoch) });
  }
  // Warm-up (20 batches each): wasm tier-up, the data files in the page cache, torch's first epoch.
  await treadEpoch(THREADS[0]!, 99, 20).catch((e: Error) => {
    throw new Error(`bench:fashion: ${e.message}`);
  });
  if (torch) await torch.child.ask(`fashion ${THREADS[0]} 20 99`);
  console.log(`${ROUNDS} round(s) of one epoch each:`);
  const stats = await alternateRounds(contenders, ROUNDS);
  await torch?.child.close();

  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  const loadAfter = loadavg()[0]!;
  const seconds = (performance.now() - started) / 1000;
  say('');
  say(`Fashion-MNIST MLP (tread train --data fashion-mnist --model mlp), one epoch of ${[...epochs.values()][0]![0]!.batches} batches of 128: seconds per epoch, median of ${ROUNDS} round(s); test accuracy after the epoch (mean)`);
  say(`node ${process.version}; ${note}; load avg ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after; ${seconds.toFixed(0)} s`);
  say(`cpu: ${cpuLine()}`);
  say('');
  say('| implementation | s/epoch | ms/batch | test accuracy | tread / x (same threads) |');
  say('|---|---|---|---|---|');
  const byName = new Map(contenders.map((c, i) => [c.name, stats[i]!]));
  for (const [name, s] of byName) {
    const e = epochs.get(name)!;
    const acc = e.reduce((a, b) => a + b.accuracy, 0) / e.length;
    const tread = byName.get(`tread ${name.slice(-2)}`)!;
    say(`| ${name} | ${s.median.toFixed(2)} | ${((s.median * 1000) / e[0]!.batches).toFixed(2)} | ${acc.toFixed(4)} | ${name.startsWith('tread') ? '' : (tread.median / s.median).toFixed(2)} |`);
  }
  const file = `results/fashion${process.versions.node.startsWith('24.') ? '-node24' : ''}.json`;
  mkdirSync(resolve(here, 'results'), { recursive: true });
  writeFileSync(resolve(here, file), JSON.stringify({
    bench: 'fashion', unit: 's/epoch', date: new Date().toISOString(), node: process.version, cpu: cpuLine(),
    variant: info.variant, poolThreads: info.poolThreads, torch: torch?.info ?? null, note, busy,
    rounds: ROUNDS, quick: QUICK, seconds, loadAvg: { before: loadBefore, after: loadAfter },
    ratioIs: 'tread at the same thread count / PyTorch, medians (below 1: tread faster)',
    results: Object.fromEntries([...byName].map(([n, s]) => [n, { ...s, medianAccuracy: median(epochs.get(n)!.map((e) => e.accuracy)), epochs: epochs.get(n) }])),
    table: lines,
  }, null, 2) + '\n');
  console.log(`\nwrote bench/${file}`);
  process.exit(0);
}

await main();
