/**
 * Format-blind mutations of bytes: bit flips, byte insertions and deletions, truncation,
 * duplicated spans and "interesting" integers written over the data (0, -1, 2^31, 2^32 - 1,
 * huge little- and big-endian values), as a file damaged on disk or crafted by hand would be.
 */
import type { FuzzRandom } from './random.js';

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000];

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** 1 to 4 random damages of `input` (a new array; the input is not changed). */
export function mutateBytes(rng: FuzzRandom, input: Uint8Array): Uint8Array {
  let b: Uint8Array = input.slice();
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(7)) {
      case 0: // bit flips
        for (let k = 0; k < 1 + rng.int(8) && b.length > 0; k++) b[rng.int(b.length)] ^= 1 << rng.int(8);
        break;
      case 1: // insert random bytes
        b = concat(b.subarray(0, at), rng.bytes(1 + rng.int(16)), b.subarray(at));
        break;
      case 2: // delete a span
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(32))));
        break;
      case 3: // truncate
        b = b.slice(0, at);
        break;
      case 4: // duplicate a span
        b = concat(b.subarray(0, at), b.subarray(at, at + 1 + rng.int(64)), b.subarray(at));
        break;
      case 5: { // an interesting u32 (either endianness)
        if (b.length < 4) break;
        const o = rng.int(b.length - 3);
        new DataView(b.buffer, b.byteOffset).setUint32(o, rng.pick(INTERESTING_U32), rng.chance(0.5));
        break;
      }
      default: // a byte set to an edge value
        if (b.length > 0) b[at] = rng.pick([0, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x5b, 0x2c, 0x30]);
    }
  }
  return b;
}
