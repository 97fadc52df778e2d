/**
 * Memory soak: `npm run soak` (or `tsx tools/soak/run.ts --steps 100000 [--loop tensor|loader|fit]`).
 *
 * Runs each loop of tools/soak/loops.ts in its own process (so one loop's RSS does not
 * colour the next), samples wasm memory, liveStorage() and RSS 50 times, drops the first
 * 20% as warm-up and prints the least-squares slope of each per 1,000 steps. Exits non-zero
 * when a slope passes the limits below (wasm memory must not grow at all once warm).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tread from '../../ts/index.js';
import { LOOPS, runLoop, slope, type LoopName } from './loops.js';

/** Per 1,000 steps, after warm-up. RSS has allocator and JIT noise: 64 KiB per 1,000 steps is a leak of 64 bytes a step. */
const LIMITS = { wasm: 0, live: 0, rss: 64 * 1024 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const steps = Number(arg('steps') ?? 100_000);
const only = arg('loop') as LoopName | undefined;

if (only === undefined) {
  let failed = false;
  for (const loop of LOOPS) {
    try {
      execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--steps', String(steps), '--loop', loop], { stdio: 'inherit' });
    } catch {
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
} else {
  if (!LOOPS.includes(only)) throw new Error(`soak: --loop must be one of ${LOOPS.join(', ')}, got ${only}`);
  await tread.init({ threads: 1 });
  const rows: { step: number; wasm: number; live: number; rss: number; heap: number }[] = [];
  const t0 = performance.now();
  await runLoop(only, {
    steps,
    every: Math.max(1, Math.floor(steps / 50)),
    sample(step) {
      const m = process.memoryUsage();
      rows.push({ step, wasm: tread.memoryBytes(), live: tread.liveStorage().bytes, rss: m.rss, heap: m.heapUsed });
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const warm = rows.slice(Math.floor(rows.length / 5));
  const xs = warm.map((r) => r.step);
  const per1k = (key: 'wasm' | 'live' | 'rss' | 'heap') => slope(xs, warm.map((r) => r[key])) * 1000;
  const s = { wasm: per1k('wasm'), live: per1k('live'), rss: per1k('rss'), heap: per1k('heap') };
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const first = warm[0];
  const last = rows[rows.length - 1];
  console.log(
    `${only.padEnd(6)} ${rows[rows.length - 1]?.step ?? 0} steps in ${seconds.toFixed(1)} s | slope per 1,000 steps: ` +
      `wasm ${kib(s.wasm)}, liveStorage ${kib(s.live)}, RSS ${kib(s.rss)} (JS heap ${kib(s.heap)}) | wasm ${mib(first.wasm)} -> ${mib(last.wasm)}, ` +
      `live ${kib(first.live)} -> ${kib(last.live)}, RSS ${mib(first.rss)} -> ${mib(last.rss)}`,
  );
  const over = (Object.keys(LIMITS) as (keyof typeof LIMITS)[]).filter((k) => s[k] > LIMITS[k]);
  if (over.length > 0) {
    console.error(`${only}: memory grows (${over.join(', ')})`);
    process.exit(1);
  }
}
