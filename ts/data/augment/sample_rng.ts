/**
 * The random stream of one sample of one batch for the JS batch transforms (augment/*): a
 * hash of (seed, epoch, batch, the transform's salt, sample), as the WASM transforms do, so a
 * sample's choices do not depend on thread count, batch order or what ran before.
 */
import { hash32, Rng } from '../random.js';
import type { TransformContext } from '../transforms.js';

export function sampleRng(c: TransformContext, sample: number): Rng {
  return new Rng(hash32(c.seed, c.epoch, c.batch, c.salt), sample);
}

/** A uniform number in [lo, hi). */
export function uniformIn(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** A [lo, hi] range from one number v (as [-v, v], or [max(0, 1-v), 1+v] for factors) or a pair. */
export function rangeOf(v: number | readonly [number, number], where: string, what: string, factor: boolean): [number, number] {
  if (typeof v === 'number') {
    if (!(v >= 0 && Number.isFinite(v))) throw new Error(`${where}: ${what} must be a non-negative number or a [min, max] pair, got ${v}`);
    return factor ? [Math.max(0, 1 - v), 1 + v] : [-v, v];
  }
  if (!Array.isArray(v) || v.length !== 2 || !(v[0] <= v[1]) || !v.every(Number.isFinite) || (factor && v[0] < 0)) {
    throw new Error(`${where}: ${what} must be a number or a [min, max] pair with min <= max${factor ? ' and min >= 0' : ''}, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}
