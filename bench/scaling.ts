/**
 * Thread scaling: SGEMM GFLOP/s and training-step times of tread at 1, 2, 4, ... threads, to
 * show how the pool (crates/tread-core/src/parallel.rs) scales past the 2 cores of the dev
 * machines. Speed-up and parallel efficiency are against 1 thread in the same run.
 *
 * - SGEMM A·B and A·Bᵀ, n = 1024 (square float32);
 * - the MLP (batch 128, Adam) and CNN (batch 64 and 256, SGD momentum) steps of bench/models.ts.
 *
 *   npm run bench:scaling [-- --threads 1,2,4,8,16] [--rounds 7] [--out file.json]
 *
 * Default thread counts: powers of two up to the hardware threads, and that number itself.
 * Writes bench/results/scaling.json unless --out says otherwise.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureRates } from './harness.js';
import { treadCnnStep, treadMlpStep, rng, type TreadStep } from './models.js';
import { init, memoryBuffer, runtimeInfo, setThreads, wasm } from '../ts/runtime/wasm.js';
import { sgemmRaw } from '../ts/kernels/gemm.js';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const hw = availableParallelism();
const THREADS = arg('--threads')?.split(',').map(Number) ?? defaultThreads(hw);
const ROUNDS = Number(arg('--rounds') ?? 7);
const OUT = resolve(arg('--out') ?? resolve(dirname(fileURLToPath(import.meta.url)), 'results/scaling.json'));

function defaultThreads(n: number): number[] {
  const out: number[] = [];
  for (let t = 1; t < n; t *= 2) out.push(t);
  out.push(n);
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms per step over `rounds` rounds of at least `roundMs`, after a warm-up. */
function stepMs(s: TreadStep, rounds: number, roundMs: number): number {
  for (let i = 0; i < 3; i++) s.step();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      s.step();
      n++;
      t = performance.now();
    } while (t - t0 < roundMs);
    times.push((t - t0) / n);
  }
  return median(times);
}

interface Row {
  threads: number;
  gemmAB: number;
  gemmABt: number;
  mlp128: number;
  cnn64: number;
  cnn256: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  const maxT = Math.max(...THREADS);
  await init({ threads: maxT });
  const info = runtimeInfo();
  if (info.poolThreads < maxT) throw new Error(`scaling: asked for ${maxT} threads, the pool has ${info.poolThreads}: ${info.note}`);
  const w = wasm();
  const n = 1024;
  const bytes = n * n * 4;
  const [pa, pb, pc] = [w.tread_alloc(bytes), w.tread_alloc(bytes), w.tread_alloc(bytes)];
  for (const p of [pa, pb]) {
    const r = rng(p);
    new Float32Array(memoryBuffer(), p, n * n).forEach((_, i, a) => (a[i] = r() * 2 - 1));
  }
  const mlp = treadMlpStep(128);
  const cnn64 = treadCnnStep(64);
  const cnn256 = treadCnnStep(256);

  const rows: Row[] = [];
  for (const t of THREADS) {
    setThreads(t);
    const gemm = (tb: boolean) => () => sgemmRaw(false, tb, n, n, n, 1, pa, n, pb, n, 0, pc, n);
    const [ab, abt] = measureRates(2 * n * n * n, [gemm(false), gemm(true)], ROUNDS, 150);
    const row: Row = {
      threads: t,
      gemmAB: ab.best,
      gemmABt: abt.best,
      mlp128: stepMs(mlp, ROUNDS, 100),
      cnn64: stepMs(cnn64, ROUNDS, 200),
      cnn256: stepMs(cnn256, ROUNDS, 300),
    };
    rows.push(row);
    console.log(`threads ${t}: ${JSON.stringify(row)}`);
  }
  setThreads(Math.min(2, maxT));

  const base = rows.find((r) => r.threads === 1) ?? rows[0];
  const sp = (x: number, b: number, higherIsBetter: boolean) => (higherIsBetter ? x / b : b / x);
  const cell = (x: number, b: number, t: number, hi: boolean, digits: number) =>
    `${x.toFixed(digits)} (${sp(x, b, hi).toFixed(2)}x, ${Math.round((100 * sp(x, b, hi)) / (t / base.threads))}%)`;
  const lines = [
    `tread thread scaling: ${info.variant}, pool ${info.poolThreads}, node ${process.version}, ${hw} hardware threads (${cpus()[0]?.model ?? '?'}); load avg ${loadavg()[0].toFixed(2)}`,
    `cells: value (speed-up over ${base.threads} thread, parallel efficiency); SGEMM best of ${ROUNDS} rounds, steps median of ${ROUNDS}`,
    '',
    '| threads | SGEMM A·B n=1024 GFLOP/s | SGEMM A·Bᵀ n=1024 GFLOP/s | MLP b128 ms/step | CNN b64 ms/step | CNN b256 ms/step |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) =>
      `| ${r.threads} | ${cell(r.gemmAB, base.gemmAB, r.threads, true, 1)} | ${cell(r.gemmABt, base.gemmABt, r.threads, true, 1)} | ` +
      `${cell(r.mlp128, base.mlp128, r.threads, false, 2)} | ${cell(r.cnn64, base.cnn64, r.threads, false, 1)} | ${cell(r.cnn256, base.cnn256, r.threads, false, 1)} |`),
  ];
  console.log('\n' + lines.join('\n'));
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify({
    bench: 'scaling', date: new Date().toISOString(), node: process.version, variant: info.variant,
    hardwareThreads: hw, cpu: cpus()[0]?.model, rounds: ROUNDS, seconds: (performance.now() - started) / 1000,
    units: { gemm: 'GFLOP/s (best round)', steps: 'ms/step (median round)' }, rows, table: lines,
  }, null, 2) + '\n');
  console.log(`\nwrote ${OUT}`);
  process.exit(0);
}

await main();
