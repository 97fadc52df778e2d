/**
 * `npm run bench:kernels`: the layers, losses, element-wise ops, reductions and optimizer steps
 * of a training step, each on a large input, at 1 and 2 threads in the same run. The baseline
 * is tread's own one-thread path: the table shows which kernels gain from the second thread
 * and flags any that lose to it (a threaded path slower than the plain one is a defect: the
 * dropout draws once ran 3x slower on 2 threads than on 1, because the copy of the loop in
 * the threads' tasks was not vectorized while the one-thread copy was).
 *
 * Each row times forward + backward (or the op alone), median of `--rounds` rounds of at least
 * 60 ms, 1T and 2T alternating round by round.
 *
 *   npm run bench:kernels [-- --rounds 7 --only dropout,bn --fail-on-loss --wasm-dir folder]
 *     --fail-on-loss: exit 1 when a kernel is slower on 2 threads than on 1 by more than 15%
 *     --wasm-dir: the tread-*.wasm files of another build (to compare two builds run by run)
 *
 * Writes bench/results/kernels.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tread from '../ts/index.js';
import { busyWarning, median, roundRate } from './harness.js';
import { cpuLine } from './cpu.js';

const { nn, optim } = tread;
const args = process.argv.slice(2);
const known = ['--rounds', '--only', '--fail-on-loss', '--wasm-dir'];
for (const a of args) if (a.startsWith('--') && !known.includes(a)) throw new Error(`bench:kernels: unknown option ${a} (known: ${known.join(', ')})`);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROUNDS = Number(arg('--rounds') ?? 7);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 50) throw new Error('bench:kernels: --rounds must be an integer in 1..50');
const ONLY = arg('--only')?.split(',');
const WASM_DIR = arg('--wasm-dir');
const ROUND_MS = 60;
/** A 2T time above 1T time × this is reported as a loss (and fails the run with --fail-on-loss). */
const LOSS = 1.15;

interface Case {
  name: string;
  /** What one call does, for the table. */
  what: string;
  /** Builds the inputs; returns the timed call. */
  setup: () => () => void;
}

/**
 * forward + backward of `f` on a fresh graph each call: `y.backward(ones)` with the ones made
 * once, and x's gradient accumulated in place (as a leaf's is over a training step), so the
 * call is the layer's two kernels plus one axpy; temporaries are freed by endStep.
 */
function fb(x: tread.Tensor, f: (x: tread.Tensor) => tread.Tensor): () => void {
  const ones = tread.ones(tread.noGrad(() => f(x)).shape);
  return () => {
    f(x).backward(ones);
    tread.endStep();
  };
}

const randn = (shape: number[], requiresGrad = true) => tread.randn(shape, { requiresGrad });

/** The Fashion-MNIST MLP's parameters (tread train --model mlp), with gradients. */
function mlpParams(): tread.Tensor[] {
  const model = new nn.Sequential(new nn.Linear(784, 256, { bias: false }), new nn.BatchNorm1d(256), new nn.ReLU(), new nn.Linear(256, 256, { bias: false }), new nn.BatchNorm1d(256), new nn.ReLU(), new nn.Linear(256, 10));
  tread.sum(model.forward(tread.randn([128, 784]))).backward();
  return [...model.parameters()];
}

const CASES: Case[] = [
  { name: 'dropout', what: 'Dropout(0.2) [128, 2048]', setup: () => { const d = new nn.Dropout(0.2); d.train(); return fb(randn([128, 2048]), (x) => d.forward(x)); } },
  { name: 'bn1d', what: 'BatchNorm1d [512, 512]', setup: () => { const b = new nn.BatchNorm1d(512); b.train(); return fb(randn([512, 512]), (x) => b.forward(x)); } },
  { name: 'bn1d-mlp', what: 'BatchNorm1d [128, 256] (Fashion MLP)', setup: () => { const b = new nn.BatchNorm1d(256); b.train(); return fb(randn([128, 256]), (x) => b.forward(x)); } },
  { name: 'bn2d', what: 'BatchNorm2d [64, 32, 28, 28]', setup: () => { const b = new nn.BatchNorm2d(32); b.train(); return fb(randn([64, 32, 28, 28]), (x) => b.forward(x)); } },
  { name: 'relu', what: 'ReLU [256, 4096]', setup: () => fb(randn([256, 4096]), (x) => tread.relu(x)) },
  { name: 'gelu', what: 'GELU [256, 4096]', setup: () => fb(randn([256, 4096]), (x) => tread.gelu(x)) },
  { name: 'sigmoid', what: 'sigmoid [256, 4096]', setup: () => fb(randn([256, 4096]), (x) => tread.sigmoid(x)) },
  { name: 'tanh', what: 'tanh [256, 4096]', setup: () => fb(randn([256, 4096]), (x) => tread.tanh(x)) },
  { name: 'softmax', what: 'softmax(dim 1) [1024, 1000]', setup: () => fb(randn([1024, 1000]), (x) => tread.softmax(x, 1)) },
  { name: 'crossentropy', what: 'CrossEntropyLoss [4096, 1000]', setup: () => { const t = tread.randint(0, 1000, [4096]); const l = new nn.CrossEntropyLoss(); return fb(randn([4096, 1000]), (x) => l.forward(x, t)); } },
  { name: 'mse', what: 'MSELoss [256, 4096]', setup: () => { const t = tread.randn([256, 4096]); const l = new nn.MSELoss(); return fb(randn([256, 4096]), (x) => l.forward(x, t)); } },
  { name: 'add-mul', what: '(x + y) * y [256, 4096]', setup: () => { const y = tread.randn([256, 4096]); return fb(randn([256, 4096]), (x) => tread.mul(tread.add(x, y), y)); } },
  { name: 'exp', what: 'exp [256, 4096]', setup: () => fb(randn([256, 4096]), (x) => tread.exp(x)) },
  { name: 'sum-dim', what: 'sum(dim 0) [4096, 256]', setup: () => fb(randn([4096, 256]), (x) => tread.sum(x, 0)) },
  { name: 'maxpool', what: 'MaxPool2d(2) [64, 32, 28, 28]', setup: () => { const p = new nn.MaxPool2d(2); return fb(randn([64, 32, 28, 28]), (x) => p.forward(x)); } },
  { name: 'maxpool-3s2', what: 'MaxPool2d(3, stride 2, padding 1) [64, 32, 28, 28]', setup: () => { const p = new nn.MaxPool2d(3, { stride: 2, padding: 1 }); return fb(randn([64, 32, 28, 28]), (x) => p.forward(x)); } },
  { name: 'avgpool', what: 'AvgPool2d(2) [64, 32, 28, 28]', setup: () => { const p = new nn.AvgPool2d(2); return fb(randn([64, 32, 28, 28]), (x) => p.forward(x)); } },
  { name: 'layernorm', what: 'LayerNorm(1024) [512, 1024]', setup: () => { const l = new nn.LayerNorm(1024); return fb(randn([512, 1024]), (x) => l.forward(x)); } },
  { name: 'groupnorm', what: 'GroupNorm(8, 32) [64, 32, 28, 28]', setup: () => { const g = new nn.GroupNorm(8, 32); return fb(randn([64, 32, 28, 28]), (x) => g.forward(x)); } },
  { name: 'adam', what: 'Adam step, Fashion MLP (270k)', setup: () => { const o = new optim.Adam(mlpParams(), { lr: 1e-3 }); return () => o.step(); } },
  { name: 'adam-1m', what: 'Adam step, 1M parameters', setup: () => { const p = tread.randn([1024, 1024], { requiresGrad: true }); tread.sum(tread.mul(p, p)).backward(); const o = new optim.Adam([p], { lr: 1e-3 }); return () => o.step(); } },
  { name: 'sgd-1m', what: 'SGD momentum step, 1M parameters', setup: () => { const p = tread.randn([1024, 1024], { requiresGrad: true }); tread.sum(tread.mul(p, p)).backward(); const o = new optim.SGD([p], { lr: 1e-3, momentum: 0.9 }); return () => o.step(); } },
  { name: 'clip', what: 'clipGradNorm_, Fashion MLP', setup: () => { const ps = mlpParams(); return () => optim.clipGradNorm_(ps, 1.0); } },
];

/** Median µs per call over the rounds, 1T and 2T alternating. */
function time(fn: () => void): { t1: number; t2: number } {
  const per: Record<number, number[]> = { 1: [], 2: [] };
  for (const t of [1, 2]) {
    tread.setThreads(t);
    for (let i = 0; i < 5; i++) fn();
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of [1, 2]) {
      tread.setThreads(t);
      // With work 1e6 per call, roundRate gives calls per millisecond.
      per[t]!.push(1000 / roundRate(1e6, fn, ROUND_MS));
    }
  }
  return { t1: median(per[1]!), t2: median(per[2]!) };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  await tread.init(WASM_DIR ? { threads: 2, wasmDir: resolve(WASM_DIR) } : { threads: 2 });
  const info = tread.runtimeInfo();
  const head = `tread ${info.variant}${WASM_DIR ? ` from ${WASM_DIR}` : ''} (pool ${info.poolThreads}), node ${process.version}; load avg ${loadBefore.toFixed(2)}`;
  console.log(head);
  const busy = busyWarning(loadBefore, availableParallelism());
  if (busy) console.log(busy);
  const rows: { name: string; what: string; us1: number; us2: number; speedup: number; loses: boolean }[] = [];
  for (const c of CASES) {
    if (ONLY && !ONLY.includes(c.name)) continue;
    const { t1, t2 } = time(c.setup());
    rows.push({ name: c.name, what: c.what, us1: t1, us2: t2, speedup: t1 / t2, loses: t2 > t1 * LOSS });
    console.log(`  ${c.name}: 1T ${t1.toFixed(1)} µs, 2T ${t2.toFixed(1)} µs`);
  }
  const lines = [
    `Kernels at 1 and 2 threads (forward + backward unless said), µs per call, median of ${ROUNDS} rounds, alternating`,
    `${head}, load avg ${loadavg()[0]!.toFixed(2)} after; ${((performance.now() - started) / 1000).toFixed(0)} s`,
    `cpu: ${cpuLine()}`,
    '',
    '| kernel | input | 1T µs | 2T µs | 2T speed-up |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.what} | ${r.us1.toFixed(1)} | ${r.us2.toFixed(1)} | ${r.speedup.toFixed(2)}x${r.loses ? ' (slower on 2 threads)' : ''} |`),
  ];
  console.log(`\n${lines.join('\n')}`);
  const here = dirname(fileURLToPath(import.meta.url));
  const out = resolve(here, 'results/kernels.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpuLine(), variant: info.variant, wasmDir: WASM_DIR ?? null, loadBefore, rounds: ROUNDS, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
  const losers = rows.filter((r) => r.loses);
  if (losers.length && args.includes('--fail-on-loss')) {
    console.error(`bench:kernels: slower on 2 threads than on 1: ${losers.map((r) => r.name).join(', ')}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
