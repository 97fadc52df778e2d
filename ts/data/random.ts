/**
 * The data pipeline's own small, seeded random numbers (no dependency on ts/nn/random):
 * a 32-bit counter-based generator (splitmix32-style). Every API of tread.data takes an
 * explicit `seed`; without one it uses DEFAULT_SEED, never the clock, so runs repeat.
 *
 * Batch augmentation does not use this class: its random choices are made in the WASM core
 * by hashing (seed, epoch, batch, transform, sample), see crates/tread-core/src/data/rng.rs.
 */

/** The seed used when none is given. */
export const DEFAULT_SEED = 0x7472_6561; // 'trea'

/** murmur3's 32-bit finalizer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A hash of several 32-bit words, for deriving independent streams from one seed. */
export function hash32(...words: number[]): number {
  let h = 0x243f_6a88;
  for (const w of words) h = fmix32((h ^ fmix32((w >>> 0) + 0x9e37_79b9)) >>> 0);
  return h;
}

/** Checks and normalises a seed option to a u32. */
export function seedOf(seed: number | undefined, where: string): number {
  if (seed === undefined) return DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new Error(`${where}: seed must be an integer, got ${seed}`);
  return seed >>> 0;
}

export class Rng {
  private state: number;

  /** A generator for (seed, stream): different streams are independent sequences. */
  constructor(seed: number = DEFAULT_SEED, stream = 0) {
    this.state = hash32(seed, stream);
  }

  /** 32 random bits. */
  nextU32(): number {
    this.state = (this.state + 0x9e37_79b9) >>> 0;
    return fmix32(this.state);
  }

  /** A uniform number in [0, 1), 53 bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in 0..n-1. */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A standard normal number (Box-Muller). */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Shuffles `a` in place (Fisher-Yates). Works on views of wasm memory too. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
