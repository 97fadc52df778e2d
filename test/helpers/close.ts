/**
 * `expectRelClose(actual, expected, what, rtol)`: every |actual - expected| / (1 + |expected|)
 * below `rtol` (a NaN anywhere fails), the worst element named in the failure. Used by the
 * norm tests against their float64 references.
 */
import { expect } from 'vitest';

export function expectRelClose(actual: Float32Array, expected: Float64Array, what: string, rtol = 2e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
    if (!(e <= worst)) [worst, at] = [Number.isNaN(e) ? Infinity : e, i];
  }
  expect(worst, `${what}: worst at ${at} (${actual[at]} vs ${expected[at]})`).toBeLessThan(rtol);
}
