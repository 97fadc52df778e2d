/** Timing shared by the benchmarks. */

export interface Rate {
  /** `work` per second / 1e9 (GFLOP/s for flops, GB/s for bytes), best round. */
  best: number;
  median: number;
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
    fns.forEach((fn, i) => {
      let calls = 0;
      const t0 = performance.now();
      let t = t0;
      do {
        fn();
        calls++;
        t = performance.now();
      } while (t - t0 < roundMs);
      rates[i].push((work * calls) / ((t - t0) * 1e6));
    });
  }
  return rates.map((v) => {
    v.sort((x, y) => x - y);
    return { best: v[v.length - 1], median: v[Math.floor(v.length / 2)] };
  });
}
