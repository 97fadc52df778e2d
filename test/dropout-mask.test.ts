/**
 * Dropout's masks against the hash its kernel documents (crates/tread-core/src/kernels/dropout.rs),
 * written again here in JavaScript: the keys are SplitMix64 of the 64-bit seed (the layer's seed
 * in the low half, the call number in the high half), and element i is kept when
 * lowbias32(lowbias32(i ^ k0) + k1) >> 8, over 2^24, is at least p. Lengths that end inside a
 * vector of four, on 1 and 2 threads (the mask does not depend on the split), two calls in a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads } from '../ts/runtime/wasm.js';
import { ones, tensor } from '../ts/tensor/create.js';
import { Dropout } from '../ts/nn/layers/dropout.js';
import { POOL_THREADS, THREAD_COUNTS } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});
afterAll(() => setThreads(POOL_THREADS));

const M64 = (1n << 64n) - 1n;

function splitmix64(z: bigint): bigint {
  z = (z + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The mask (the factor per element) of one call. */
function expectedMask(seed: number, call: number, p: number, n: number): Float32Array {
  const k = splitmix64((BigInt(call) << 32n) | BigInt(seed >>> 0));
  const k0 = Number(k & 0xffffffffn);
  const k1 = Number(k >> 32n);
  const scale = Math.fround(1 / Math.fround(1 - p));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = lowbias32((lowbias32((i ^ k0) >>> 0) + k1) >>> 0);
    out[i] = (h >>> 8) / 2 ** 24 >= Math.fround(p) ? scale : 0;
  }
  return out;
}

describe('Dropout masks', () => {
  for (const [n, p] of [[10_007, 0.3], [40_003, 0.5], [3, 0.9]] as const) {
    it(`${n} elements, p = ${p}: the documented hash, on every thread count`, () => {
      const masks: Float32Array[] = [];
      for (const threads of THREAD_COUNTS) {
        setThreads(threads);
        const d = new Dropout(p, { seed: 1234 });
        const x = ones([n]);
        for (const call of [0, 1]) {
          const y = d.forward(x).f32.slice();
          const want = expectedMask(1234, call, p, n);
          let bad = -1;
          for (let i = 0; i < n && bad < 0; i++) if (y[i] !== want[i]) bad = i;
          expect(bad, bad < 0 ? '' : `call ${call}, element ${bad}: ${y[bad]} vs ${want[bad]}`).toBe(-1);
          masks.push(y);
        }
      }
      if (masks.length > 2) expect(masks.slice(2)).toEqual(masks.slice(0, 2));
    });
  }

  it('x times the mask, NaN and infinities as a product', () => {
    const d = new Dropout(0.5, { seed: 7 });
    const x = tensor(Float32Array.from({ length: 16 }, (_, i) => (i % 4 === 0 ? NaN : i % 4 === 1 ? -Infinity : i - 8)), [16]);
    const y = d.forward(x).f32;
    const m = expectedMask(7, 0, 0.5, 16);
    const xs = x.f32;
    for (let i = 0; i < 16; i++) expect(Object.is(y[i], Math.fround(xs[i] * m[i])), `element ${i}: ${y[i]}`).toBe(true);
  });
});
