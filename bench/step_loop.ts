/**
 * A focused loop over the MLP training step of bench:train (784-256-128-10 ReLU, softmax
 * cross-entropy, batch 128, Adam), for profiling (`node --cpu-prof --import tsx
 * bench/step_loop.ts`) and for before/after comparisons of the step's overheads:
 *
 * - the MLP step at 2 and 1 threads, alternating rounds (median and best ms/step);
 * - a parallel region's hand-off: an Adam step on 65,536 elements (the smallest tensor that
 *   is split over threads) at 1 and 2 threads, and, where the build has it,
 *   `tread_pool_probe_regions` (regions whose second task must be taken by a worker: the
 *   hand-off alone) with the workers spinning before they park and parking at once.
 *
 * Usage: npm run bench:step [-- --secs 6]
 */
import { loadavg } from 'node:os';
import { init, runtimeInfo, setThreads, wasm } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { treadMlpStep } from './models.js';

const args = process.argv.slice(2);
const secs = Number(args[args.indexOf('--secs') + 1] || 6);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const best = (a: number[]) => Math.min(...a);
const load0 = loadavg()[0];
await init({ threads: 2 });
console.log(`${runtimeInfo().variant}, pool ${runtimeInfo().poolThreads}, node ${process.version}, load ${load0.toFixed(2)}`);
const w = wasm();

/** Times `fn` per call (ms), `reps` calls per round. */
function time(fn: () => void, reps: number): number {
  const t = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t) / reps;
}

// The MLP step, 2T and 1T alternating.
const s = treadMlpStep(128);
for (let i = 0; i < 30; i++) s.step();
const r2: number[] = [];
const r1: number[] = [];
const until = performance.now() + secs * 1000;
while (performance.now() < until) {
  setThreads(2);
  r2.push(time(s.step, 20));
  setThreads(1);
  r1.push(time(s.step, 20));
}
setThreads(2);
console.log(`MLP step 2T: median ${med(r2).toFixed(3)} best ${best(r2).toFixed(3)} ms; 1T: median ${med(r1).toFixed(3)} best ${best(r1).toFixed(3)} ms (${r2.length} rounds)`);

// A region's hand-off: Adam on 65,536 elements.
const n = 65_536;
const [p, g, m, v] = [0, 1, 2, 3].map(() => tensor(new Float32Array(n).fill(0.5)).keep());
const adam = () => w.tread_optim_adam(p.ptr, g.ptr, m.ptr, v.ptr, 0, n, 0.9, 0.999, 1e-8, 0, 1e-3, 0.5, 0, 0);
const a1: number[] = [];
const a2: number[] = [];
for (let r = 0; r < 15; r++) {
  setThreads(1);
  a1.push(time(adam, 400) * 1000);
  setThreads(2);
  a2.push(time(adam, 400) * 1000);
}
console.log(`Adam 65,536 elements: 1T ${med(a1).toFixed(1)} us, 2T ${med(a2).toFixed(1)} us (best ${best(a1).toFixed(1)} / ${best(a2).toFixed(1)})`);

if (typeof w.tread_pool_probe_regions === 'function') {
  for (const spin of [1 << 17, 0]) {
    w.tread_pool_set_spin(spin);
    const e: number[] = [];
    for (let r = 0; r < 9; r++) e.push((time(() => w.tread_pool_probe_regions(100), 5) / 100) * 1000);
    console.log(`a region reaching a worker, ${spin ? `workers spinning (${spin} loads)` : 'workers parked'}: median ${med(e).toFixed(2)} us, best ${best(e).toFixed(2)} us`);
  }
  // The MLP step with workers that park at once vs spinning, alternating.
  const sp: number[] = [];
  const pk: number[] = [];
  const until2 = performance.now() + (secs / 2) * 1000;
  while (performance.now() < until2) {
    w.tread_pool_set_spin(1 << 17);
    sp.push(time(s.step, 20));
    w.tread_pool_set_spin(0);
    pk.push(time(s.step, 20));
  }
  w.tread_pool_set_spin(1 << 17);
  console.log(`MLP step 2T, workers spin then park: ${med(sp).toFixed(3)} ms; park at once: ${med(pk).toFixed(3)} ms (${sp.length} rounds)`);
}
console.log(`load after ${loadavg()[0].toFixed(2)}`);
