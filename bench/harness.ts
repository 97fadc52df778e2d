/**
 * Timing shared by the benchmarks, in Node and in the browser bench's Worker (so nothing here
 * imports Node's modules: bench/cpu.ts has what reads the machine).
 */

export interface Rate {
  /** `work` per second / 1e9 (GFLOP/s for flops, GB/s for bytes), best round. */
  best: number;
  median: number;
}

/** One round: calls `fn` for at least `roundMs` (and at least once); `work` per call, in 1e9 per second. */
export function roundRate(work: number, fn: () => void, roundMs: number): number {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    fn();
    calls++;
    t = performance.now();
  } while (t - t0 < roundMs);
  return (work * calls) / ((t - t0) * 1e6);
}

/** roundRate for a contender whose calls return a promise (jax-js): each call is awaited before the clock is read. */
export async function roundRateAsync(work: number, fn: () => unknown, roundMs: number): Promise<number> {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    await fn();
    calls++;
    t = performance.now();
  } while (t - t0 < roundMs);
  return (work * calls) / ((t - t0) * 1e6);
}

/**
 * Times each of `fns` in `rounds` rounds of at least `roundMs` (and at least one call),
 * alternating between them round by round so that they all see the same machine load.
 * Returns `work` per second in units of 1e9 (GFLOP/s for flops, GB/s for bytes).
 */
export function measureRates(work: number, fns: (() => void)[], rounds: number, roundMs: number): Rate[] {
  const rates: number[][] = fns.map(() => []);
  for (const fn of fns) fn(); // warm-up: allocation, wasm tier-up
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => rates[i].push(roundRate(work, fn, roundMs)));
  }
  return rates.map((v) => {
    v.sort((x, y) => x - y);
    return { best: v[v.length - 1], median: v[Math.floor(v.length / 2)] };
  });
}

/** One contender of alternateRounds: a round returns its number (ms/step, GFLOP/s ...). */
export interface RoundContender {
  name: string;
  /** Runs one timed round (a child process's round included) and returns what it measured. */
  round: (round: number) => Promise<number> | number;
  /** At most this many rounds (slow baselines). */
  maxRounds?: number;
  /** No further round once its rounds took this long in all (ms); it always gets one. */
  budgetMs?: number;
}

export interface RoundStat {
  median: number;
  best: number;
  rounds: number[];
}

export function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * `rounds` rounds, each running every contender's round once, in order: rounds of tread and of
 * the baselines in child processes interleave, so that all see the same machine load. `best`
 * is the smallest value (ms/step; for rates use the median or take the largest from `rounds`).
 */
export async function alternateRounds(contenders: RoundContender[], rounds: number): Promise<RoundStat[]> {
  const values: number[][] = contenders.map(() => []);
  const spent = contenders.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[k]!;
      if (r > 0 && ((c.maxRounds !== undefined && r >= c.maxRounds) || (c.budgetMs !== undefined && spent[k]! >= c.budgetMs))) continue;
      const t0 = performance.now();
      values[k]!.push(await c.round(r));
      spent[k]! += performance.now() - t0;
    }
  }
  return values.map((v) => ({ median: median(v), best: Math.min(...v), rounds: v }));
}

/**
 * A line for the report when the 1-minute load average says the machine is busy (null when
 * quiet): the ratios of alternating rounds still hold roughly, except that PyTorch at 2 threads
 * (OpenMP threads that spin at every barrier) loses far more than the others when the cores are
 * oversubscribed.
 */
export function busyWarning(load: number, cores: number): string | null {
  if (load < 0.75 * cores) return null;
  return `WARNING: the machine is busy (load average ${load.toFixed(2)} on ${cores} CPUs): rerun on a quiet machine; PyTorch at 2 threads (OpenMP, spin-waiting threads) is hurt far more than the others by a busy machine`;
}

