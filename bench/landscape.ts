/**
 * The 2-D loss landscape benchmark: the default `tread train` CNN (MNIST digits) on 1,000
 * validation images, a 41x41 grid along two filter-normalized directions (Li et al. 2018), in
 * tread (landscape.lossSurface: no autograd, fixed batches, the parameters set in place) and in
 * PyTorch + OpenBLAS (Debian python3-torch, bench/landscape_torch.py) doing the same grid, the
 * same weights and images, in the same run. Also checks that both grids agree.
 *
 *   npm run bench:landscape -- [--resolution 41] [--samples 1000] [--threads 1,2]
 *
 * Needs /usr/bin/python3 with torch for the baseline (run as bench/torch_child.ts says: OpenMP
 * OpenBLAS); says so and runs tread alone without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tread from '../ts/index.js';
import { buildModel, resolveDefaults } from '../ts/cli/setup.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import { PYTHON, torchEnv } from './torch_child.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const resolution = Number(flag('resolution', '41'));
const samples = Number(flag('samples', '1000'));
const threadList = flag('threads', '2').split(',').map(Number);
const batch = 500;

const load = loadavg()[0]!;
await tread.init({ threads: Math.max(...threadList) });
const args = resolveDefaults({ model: 'cnn', data: 'mnist', width: 0, depth: 0, dropout: -1, batchnorm: true, seed: 1 } as any);
tread.nn.manualSeed(1);
const model = buildModel(args);
// Weights a little away from init, so that the grid is not symmetric by accident.
const { val } = await tread.data.loadMnist();
const norm = new tread.data.Normalize(0.1307, 0.3081);
const loader = new tread.data.DataLoader(val, { batchSize: batch, transform: [norm] });
const batches: (readonly [Tensor, Tensor])[] = [];
let n = 0;
for (const [x, y] of loader) {
  batches.push([x!.keep(), y!.keep()]);
  n += x!.shape[0]!;
  if (n >= samples) break;
}
const d1 = tread.landscape.randomDirection(model, { seed: 0 });
const d2 = tread.landscape.randomDirection(model, { seed: 1 });
const evaluate = tread.landscape.lossEvaluator(model, new tread.nn.CrossEntropyLoss(), batches);

// The files PyTorch reads: parameters, buffers, directions, images, labels.
const dir = mkdtempSync(join(tmpdir(), 'tread-bench-landscape-'));
const f32 = (name: string, a: ArrayLike<number>) => writeFileSync(join(dir, `${name}.f32`), Buffer.from(Float32Array.from(a).buffer));
const space = new tread.landscape.ParamSpace(model);
const params = space.slices.map((s, i) => {
  f32(`p${i}`, s.tensor.f32);
  f32(`d1_${i}`, d1.subarray(s.offset, s.offset + s.tensor.size));
  f32(`d2_${i}`, d2.subarray(s.offset, s.offset + s.tensor.size));
  return [s.name, s.tensor.shape];
});
const buffers = model.namedBuffers().map(([k, t], i) => {
  if (t.dtype === 'float32') f32(`b${i}`, t.f32);
  return [k, t.shape];
});
const xs = Float32Array.from(batches.flatMap(([x]) => [...x.f32]));
f32('x', xs.subarray(0, n * 784));
writeFileSync(join(dir, 'y.i32'), Buffer.from(Int32Array.from(batches.flatMap(([, y]) => [...(y.data as Int32Array)])).buffer));
writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ width: args.width, depth: args.depth, dropout: args.dropout, params, buffers, n, batch, resolution }));

interface Row { impl: string; threads: number; seconds: number; perPoint: number }
const rows: Row[] = [];
let treadGrid: number[][] = [];
let torchGrid: number[][] | null = null;
let torchNote = '';
for (const t of threadList) {
  tread.setThreads(t);
  evaluate(); // warm-up
  const t0 = performance.now();
  const s = await tread.landscape.lossSurface(model, { evaluate, directions: [d1, d2], resolution, coarse: 0 });
  const secs = (performance.now() - t0) / 1000;
  treadGrid = s.loss;
  rows.push({ impl: `tread ${t}T`, threads: t, seconds: secs, perPoint: (secs * 1000) / (resolution * resolution) });
  const py = spawnSync(PYTHON, [join(root, 'bench/landscape_torch.py'), dir, String(t)], { encoding: 'utf8', env: torchEnv(t) });
  if (py.status === 0) {
    const r = JSON.parse(py.stdout.trim().split('\n').pop()!);
    torchGrid = r.loss;
    torchNote = `torch ${r.torch}`;
    rows.push({ impl: `PyTorch ${t}T`, threads: t, seconds: r.seconds, perPoint: (r.seconds * 1000) / (resolution * resolution) });
  } else {
    torchNote = `PyTorch baseline not run: ${(py.stderr || py.error?.message || 'python3 failed').trim().split('\n').pop()}`;
  }
}
rmSync(dir, { recursive: true, force: true });
let worst = NaN;
if (torchGrid) {
  worst = 0;
  treadGrid.forEach((row, j) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - torchGrid![j]![i]!) / Math.max(1, Math.abs(torchGrid![j]![i]!))))));
}
console.log(`landscape benchmark: ${resolution}x${resolution} grid, ${n} MNIST images, default CNN (${space.size} parameters); load average before: ${load.toFixed(2)}; ${torchNote}`);
console.log('| implementation | seconds | ms / point | tread speed-up |');
console.log('|---|---|---|---|');
for (const r of rows) {
  const torch = rows.find((q) => q.impl === `PyTorch ${r.threads}T`);
  const ratio = r.impl.startsWith('tread') && torch ? `${(torch.seconds / r.seconds).toFixed(2)}x` : '';
  console.log(`| ${r.impl} | ${r.seconds.toFixed(1)} | ${r.perPoint.toFixed(1)} | ${ratio} |`);
}
if (torchGrid) console.log(`largest relative difference between the two grids: ${worst.toExponential(2)}`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/landscape.json'), JSON.stringify({ resolution, samples: n, load, rows, worstRelativeDifference: worst, torchNote }, null, 2));
