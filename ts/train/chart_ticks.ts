/**
 * Axis ticks a reader can read: round numbers (1, 2 or 5 times a power of ten) on a linear
 * axis, powers of ten on a log axis, and labels short enough not to run into each other.
 */

/** Round ticks covering [lo, hi]: about `count` of them at a step of 1, 2 or 5 x 10^k. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; lo: number; hi: number } {
  if (!(hi > lo)) {
    // A flat series: a band around it (0 -> [-0.5, 0.5]), not ticks at 1e-6.
    const pad = hi !== 0 ? Math.abs(hi) * 0.05 : 0.5;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step) * step;
  const last = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = first; v <= last + step * 1e-9; v += step) ticks.push(roundTo(v, step));
  return { ticks, lo: first, hi: last };
}

/** Ticks at whole powers of ten for a log axis (values are log10); every other one when crowded. */
export function logTicks(lo: number, hi: number, maxTicks = 7): { ticks: number[]; lo: number; hi: number } {
  let a = Math.floor(lo);
  let b = Math.ceil(hi);
  if (a === b) [a, b] = [a - 1, b + 1];
  const every = Math.max(1, Math.ceil((b - a) / maxTicks));
  const ticks: number[] = [];
  for (let e = a; e <= b; e += every) ticks.push(e);
  return { ticks, lo: a, hi: b };
}

/** Removes the float noise of v = k * step (0.30000000000000004 -> 0.3). */
function roundTo(v: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(20, digits)));
}

/** A tick label: plain for round numbers, 1e-4 style for powers of ten far from 1. */
export function tickLabel(v: number, log = false): string {
  if (log) {
    const e = Math.round(v);
    return e >= -2 && e <= 3 ? String(10 ** e) : `1e${e}`;
  }
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0);
  return String(v);
}
