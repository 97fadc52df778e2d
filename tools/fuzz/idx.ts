/**
 * Fuzz target: IDX files, plain and gzipped (decodeIdx). Cases: valid files of every type,
 * byte damage, dimensions that lie (0, 65535, 2^32 - 1), unknown types and ranks, gzip bombs
 * (a header that claims up to 4 GiB over a few MB of zeros), gzip streams truncated or
 * followed by junk. A loaded result must hold exactly the values its dimensions declare.
 */
import { gzipSync } from 'node:zlib';
import { decodeIdx } from '../../ts/data/idx.js';
import { ContractViolation, type FuzzTarget } from './harness.js';
import { concat, mutateBytes } from './mutate.js';
import type { FuzzRandom } from './random.js';

const TYPES = [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e];
const SIZE: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
/** Values a fuzzed file may make decodeIdx keep (the limit is what bounds memory). */
const MAX_BYTES = 1 << 24;
const bombs: Uint8Array[] = [];

function header(type: number, dims: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length);
  b[2] = type;
  b[3] = dims.length;
  dims.forEach((d, i) => new DataView(b.buffer).setUint32(4 + 4 * i, d >>> 0, false));
  return b;
}

function validFile(rng: FuzzRandom): { type: number; dims: number[]; bytes: Uint8Array } {
  const type = rng.pick(TYPES);
  const dims = Array.from({ length: 1 + rng.int(3) }, () => rng.int(6));
  const n = dims.reduce((a, d) => a * d, 1);
  return { type, dims, bytes: concat(header(type, dims), rng.bytes(n * SIZE[type])) };
}

export const idxTarget: FuzzTarget = {
  name: 'idx',
  async prepare() {
    if (bombs.length > 0) return;
    // Made once (compressing 160 MiB takes a moment): 4 GiB, 16 MiB + 1 and 1,000 bytes claimed.
    const zeros = new Uint8Array(160 << 20);
    for (const dims of [[65536, 65536], [1 << 24], [10, 10, 10]]) bombs.push(new Uint8Array(gzipSync(concat(header(0x08, dims), zeros))));
  },
  generate(rng) {
    const f = validFile(rng);
    let plain = f.bytes;
    switch (rng.int(6)) {
      case 0:
        break;
      case 1: // dimensions that lie
        plain = concat(header(f.type, f.dims.map((d) => (rng.chance(0.4) ? rng.pick([0, 1, 65535, 65536, 0xffffffff, d + 1]) : d))), plain.subarray(4 + 4 * f.dims.length));
        break;
      case 2: // type code or rank
        plain = plain.slice();
        if (rng.chance(0.5)) plain[2] = rng.int(256);
        else plain[3] = rng.pick([0, 1, 2, 3, 4, 200, 255]);
        break;
      case 3: { // a gzip bomb: the header claims a lot (or little), up to 160 MiB of zeros follow
        if (rng.chance(0.5)) return rng.pick(bombs);
        const dims = rng.pick([[65536, 65536], [60000, 28, 28], [0xffffffff], [1 << 20, 1 << 4], [1000]]);
        const zeros = new Uint8Array(rng.int(1 << 20));
        return new Uint8Array(gzipSync(concat(header(0x08, dims), zeros), { level: 1 }));
      }
      default:
        plain = mutateBytes(rng, plain);
    }
    if (!rng.chance(0.5)) return plain;
    let gz: Uint8Array = new Uint8Array(gzipSync(plain, { level: 1 }));
    if (rng.chance(0.3)) gz = rng.chance(0.5) ? gz.subarray(0, rng.int(gz.length)) : concat(gz, rng.bytes(1 + rng.int(8)));
    else if (rng.chance(0.3)) gz = mutateBytes(rng, gz);
    return gz;
  },
  async run(input) {
    const a = await decodeIdx(input, 'fuzz.idx', { maxBytes: MAX_BYTES });
    const n = a.dims.reduce((x, d) => x * d, 1);
    if (a.data.length !== n) throw new ContractViolation(`loaded ${a.data.length} values for dims ${a.dims.join('x')}`);
  },
};
