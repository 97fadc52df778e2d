/**
 * Memory soak: `npm run soak` (or `tsx tools/soak/run.ts --steps 100000 [--loop tensor|loader|fit]`).
 *
 * `--rss-limit-kib N` and `--heap-limit-kib N` set those limits, `--warmup F` the fraction of samples dropped
 * (default 0.2). Runs each loop of tools/soak/loops.ts in its own process (so one loop's RSS does not
 * colour the next), samples wasm memory, liveStorage(), RSS and the JS heap (after a full GC) 50 times, drops the first
 * samples as warm-up (JIT, the heap settling) and prints the least-squares slope of each per 1,000 steps. Exits non-zero
 * when a slope passes the limits below (wasm memory must not grow at all once warm).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tread from '../../ts/index.js';
import { LOOPS, runLoop, slope, type LoopName } from './loops.js';


function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * Per 1,000 steps, after warm-up. wasm memory and liveStorage() must not grow at all; the
 * JS heap (+ external buffers) after a full GC by at most 64 bytes a step (the history
 * grows by an epoch's logs, a few hundred bytes per 248 steps; JIT code settles late). RSS
 * has allocator, GC and JIT noise (about ±150 KiB per 1,000 steps over 100,000 steps here),
 * so its limit, 512 bytes a step, is loose: the leak this guards against (a 32-sample batch
 * made with tensor() every step) is 1.1 MiB per 1,000 steps in wasm memory alone.
 */
const LIMITS = { wasm: 0, live: 0, rss: Number(arg('rss-limit-kib') ?? 512) * 1024, heap: Number(arg('heap-limit-kib') ?? 64) * 1024 };
const steps = Number(arg('steps') ?? 100_000);
const only = arg('loop') as LoopName | undefined;

if (only === undefined) {
  let failed = false;
  for (const loop of LOOPS) {
    try {
      execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--loop', loop], { stdio: 'inherit' });
    } catch {
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
} else {
  if (!LOOPS.includes(only)) throw new Error(`soak: --loop must be one of ${LOOPS.join(', ')}, got ${only}`);
  await tread.init({ threads: 1 });
  setFlagsFromString('--expose-gc'); // also when run as `tsx tools/soak/run.ts --loop ...`
  const gc = runInNewContext('gc') as () => void;
  const rows: { step: number; wasm: number; live: number; rss: number; heap: number }[] = [];
  const t0 = performance.now();
  await runLoop(only, {
    steps,
    every: Math.max(1, Math.floor(steps / 50)),
    sample(step) {
      // A full collection first: what is sampled is what is still reachable, not the GC's sawtooth.
      gc();
      const m = process.memoryUsage();
      rows.push({ step, wasm: tread.memoryBytes(), live: tread.liveStorage().bytes, rss: m.rss, heap: m.heapUsed + m.external });
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const warm = rows.slice(Math.floor(rows.length * Number(arg('warmup') ?? 0.2)));
  const xs = warm.map((r) => r.step);
  const per1k = (key: 'wasm' | 'live' | 'rss' | 'heap') => slope(xs, warm.map((r) => r[key])) * 1000;
  const s = { wasm: per1k('wasm'), live: per1k('live'), rss: per1k('rss'), heap: per1k('heap') };
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const first = warm[0];
  const last = rows[rows.length - 1];
  console.log(
    `${only.padEnd(6)} ${rows[rows.length - 1]?.step ?? 0} steps in ${seconds.toFixed(1)} s | slope per 1,000 steps: ` +
      `wasm ${kib(s.wasm)}, liveStorage ${kib(s.live)}, RSS ${kib(s.rss)}, JS heap + external after GC ${kib(s.heap)} | wasm ${mib(first.wasm)} -> ${mib(last.wasm)}, ` +
      `live ${kib(first.live)} -> ${kib(last.live)}, RSS ${mib(first.rss)} -> ${mib(last.rss)}`,
  );
  const over = (Object.keys(LIMITS) as (keyof typeof LIMITS)[]).filter((k) => s[k] > LIMITS[k]);
  if (over.length > 0) {
    console.error(`${only}: memory grows (${over.join(', ')})`);
    process.exit(1);
  }
}
