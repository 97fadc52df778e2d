/**
 * Hostile files (issue 19 items 4-5, issue 11 item 5): decompression and header bombs are
 * refused quickly and with bounded memory; files that could be read two ways (duplicate keys,
 * wrapping labels, values float32 cannot hold, a numeric CSV header) are refused with where.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { csvToDataset, parseCsv } from '../ts/data/csv.js';
import { decodeIdx, gunzipIdxStream, parseIdx } from '../ts/data/idx.js';
import { DataFormatError } from '../ts/data/util.js';
import { parseSafetensors, SafetensorsError } from '../ts/train/safetensors.js';
import { DEFAULT_FILE_LIMITS, setFileLimits } from '../ts/util/limits.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

afterEach(() => {
  setFileLimits({ ...DEFAULT_FILE_LIMITS });
});

/** A safetensors file from raw header text (as a hostile writer would make it) and data bytes. */
function rawSafetensors(header: string | Uint8Array, data = new Uint8Array(0)): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function idxHeader(type: number, dims: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length);
  b[2] = type;
  b[3] = dims.length;
  const dv = new DataView(b.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs fn, returning its error, the seconds it took and the RSS growth in MB. */
async function measure(fn: () => unknown): Promise<{ error: unknown; seconds: number; rssMB: number }> {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  let error: unknown = null;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { error, seconds, rssMB: (peak - rss0) / 2 ** 20 };
}

describe('decompression and header bombs', () => {
  it('refuses a gzipped IDX file whose header claims 4 GiB, fast and without inflating it', async () => {
    // 65536 x 65536 u8 = 4 GiB declared; 160 MiB of zeros actually follow (a 160 KB gzip).
    const body = Buffer.alloc(160 * 2 ** 20);
    const gz = new Uint8Array(gzipSync(concat(idxHeader(0x08, [65536, 65536]), body)));
    expect(gz.length).toBeLessThan(2 ** 20);
    const r = await measure(() => decodeIdx(gz, 'bomb.idx.gz'));
    expect(r.error).toBeInstanceOf(DataFormatError);
    expect(String((r.error as Error).message)).toMatch(/bomb\.idx\.gz at byte offset 4: the header declares 65536x65536 uint8 \(4294967296 bytes of values\), more than the limit of 1073741824 bytes; .*setFileLimits\(\{ idxBytes/);
    expect(r.seconds).toBeLessThan(1);
    expect(r.rssMB).toBeLessThan(100);
  });

  it('inflates a gzipped IDX file no further than its header says (plus one byte)', async () => {
    // The header declares 1000 bytes; 160 MiB follow. Refused as excess after 1001 bytes.
    const gz = new Uint8Array(gzipSync(concat(idxHeader(0x08, [10, 10, 10]), Buffer.alloc(160 * 2 ** 20))));
    const r = await measure(() => decodeIdx(gz, 'long.idx.gz'));
    expect(String((r.error as Error)?.message)).toMatch(/long\.idx\.gz at byte offset 1016: size mismatch: the header declares 10x10x10 uint8 \(1000 bytes from offset 16\), but the gzip data inflates to more/);
    expect(r.seconds).toBeLessThan(1);
    expect(r.rssMB).toBeLessThan(100);
  });

  it('the browser path (DecompressionStream) is bounded the same way', async () => {
    const bomb = new Uint8Array(gzipSync(concat(idxHeader(0x08, [65536, 65536]), Buffer.alloc(64 * 2 ** 20))));
    const r = await measure(() => gunzipIdxStream(bomb, 'b.gz', 2 ** 30));
    expect(String((r.error as Error)?.message)).toMatch(/b\.gz at byte offset 4: the header declares 65536x65536 uint8 \(4294967296 bytes of values\), more than the limit/);
    expect(r.seconds).toBeLessThan(1);
    const long = new Uint8Array(gzipSync(concat(idxHeader(0x08, [10, 10]), Buffer.alloc(64 * 2 ** 20))));
    const out = await gunzipIdxStream(long, 'l.gz', 2 ** 30);
    expect(out.length).toBe(12 + 100 + 1); // the declared size and one byte to see the excess
    expect(() => parseIdx(out, 'l.gz')).toThrow(/l\.gz at byte offset 112: size mismatch/);
    const good = concat(idxHeader(0x0c, [3]), Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff]));
    expect([...parseIdx(await gunzipIdxStream(new Uint8Array(gzipSync(good)), 'g', 100), 'g').data]).toEqual([1, 2, -1]);
    await expect(gunzipIdxStream(new Uint8Array(gzipSync(good)).subarray(0, 15), 't.gz', 100)).rejects.toThrow(/t\.gz: corrupted or truncated gzip data/);
    const notIdx = await gunzipIdxStream(new Uint8Array(gzipSync(Uint8Array.from([1, 2, 3, 4, 5]))), 'm', 100);
    expect(() => parseIdx(notIdx, 'm')).toThrow(/not an IDX file/);
  });

  it('the IDX limit is raisable (setFileLimits or maxBytes) and applies to plain files too', async () => {
    const good = concat(idxHeader(0x08, [4, 5]), Uint8Array.from({ length: 20 }, (_, i) => i));
    const gz = new Uint8Array(gzipSync(good));
    expect([...(await decodeIdx(gz)).data]).toEqual([...good.subarray(12)]);
    await expect(decodeIdx(gz, 'g.idx.gz', { maxBytes: 19 })).rejects.toThrow(/more than the limit of 19 bytes/);
    await expect(decodeIdx(good, 'p.idx', { maxBytes: 19 })).rejects.toThrow(/p\.idx at byte offset 4: the header declares 4x5 uint8 \(20 bytes of values\), more than the limit of 19/);
    setFileLimits({ idxBytes: 10 });
    await expect(decodeIdx(gz, 'g.idx.gz')).rejects.toThrow(/limit of 10 bytes/);
    expect((await decodeIdx(gz, 'g.idx.gz', { maxBytes: 20 })).dims).toEqual([4, 5]);
    expect(() => setFileLimits({ idx_bytes: 5 } as any)).toThrow(/unknown limit 'idx_bytes' \(did you mean 'idxBytes'/);
    await expect(decodeIdx(gz, 'g', { maxBytes: -1 })).rejects.toThrow(/decodeIdx: maxBytes must be >= 1, got -1/);
    await expect(decodeIdx(gz, 'g', { maxbytes: 5 } as any)).rejects.toThrow(/decodeIdx: unknown option 'maxbytes' \(did you mean 'maxBytes'/);
  });

  it('refuses a safetensors header of 10^6 entries in under a second with bounded memory', async () => {
    const parts: string[] = [];
    for (let i = 0; i < 1_000_000; i++) parts.push(`"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    const file = rawSafetensors(`{${parts.join(',')}}`);
    parts.length = 0;
    expect(file.length).toBeGreaterThan(50e6);
    const r = await measure(() => parseSafetensors(file, 'bomb.safetensors'));
    expect(r.error).toBeInstanceOf(SafetensorsError);
    expect((r.error as SafetensorsError).kind).toBe('limit');
    expect((r.error as Error).message).toMatch(/bomb\.safetensors: header holds more than 100001 members in the outermost object \(more tensors than the limit; the limit is safetensorsTensors = 100000; if the file is genuine, raise it with tread\.setFileLimits/);
    expect(r.seconds).toBeLessThan(1);
    expect(r.rssMB).toBeLessThan(100);
  });

  it('caps the safetensors header in bytes, raisably', () => {
    const file = rawSafetensors('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4));
    expect(parseSafetensors(file).tensors.get('a')!.shape).toEqual([1]);
    expect(() => parseSafetensors(file, 'f', { safetensorsHeaderBytes: 20 })).toThrow(/f: header length 54 is larger than the limit of 20 bytes; the limit is safetensorsHeaderBytes = 20; .*raise it/);
    setFileLimits({ safetensorsTensors: 0 + 1, safetensorsHeaderBytes: 30 });
    expect(() => parseSafetensors(file)).toThrow(/limit of 30 bytes/);
    setFileLimits({ safetensorsHeaderBytes: 1000 });
    expect(parseSafetensors(file).tensors.size).toBe(1);
  });
});

describe('safetensors headers that mean two things or break the parser', () => {
  const entry = (dtype: string, off: [number, number]) => `{"dtype":"${dtype}","shape":[1],"data_offsets":[${off[0]},${off[1]}]}`;

  it('refuses a key named twice (JSON.parse would keep the last)', () => {
    const twice = rawSafetensors(`{"w":${entry('F32', [0, 4])},"w":${entry('I32', [0, 4])}}`, new Uint8Array(4));
    expect(() => parseSafetensors(twice, 'dup.safetensors')).toThrow(/dup\.safetensors: header is not valid JSON: duplicate key "w" \(a file that names a key twice means two things\) at byte 54 of the header/);
    const meta = rawSafetensors(`{"__metadata__":{"format":"pt"},"w":${entry('F32', [0, 4])},"__metadata__":{"format":"np"}}`, new Uint8Array(4));
    expect(() => parseSafetensors(meta)).toThrow(/duplicate key "__metadata__"/);
    const inner = rawSafetensors(`{"w":{"dtype":"F32","shape":[1],"dtype":"I32","data_offsets":[0,4]}}`, new Uint8Array(4));
    expect(() => parseSafetensors(inner)).toThrow(/duplicate key "dtype"/);
    // Keys that differ only by escapes are the same key.
    const escaped = rawSafetensors(`{"w":${entry('F32', [0, 4])},"\\u0077":${entry('F32', [0, 4])}}`, new Uint8Array(4));
    expect(() => parseSafetensors(escaped)).toThrow(/duplicate key "w"/);
  });

  it('refuses deep nesting with a SafetensorsError, not a stack overflow', () => {
    const deep = rawSafetensors(`{"w":{"dtype":"F32","shape":${'['.repeat(200_000)}${']'.repeat(200_000)},"data_offsets":[0,0]}}`);
    let err: unknown;
    try {
      parseSafetensors(deep, 'deep');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toMatch(/deep: header is not valid JSON: nesting deeper than 16 levels at byte/);
  });

  it('refuses invalid UTF-8 in the header', () => {
    const good = new TextEncoder().encode(`{"w\u00e9":${entry('F32', [0, 4])}}`);
    expect([...parseSafetensors(rawSafetensors(good, new Uint8Array(4))).tensors.keys()]).toEqual(['w\u00e9']);
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const h = concat(new TextEncoder().encode('{"w'), Uint8Array.from(bad), new TextEncoder().encode(`":${entry('F32', [0, 4])}}`));
      expect(() => parseSafetensors(rawSafetensors(h, new Uint8Array(4)), 'u')).toThrow(/u: header is not valid JSON: invalid UTF-8 in a string at byte 1/);
    }
    const outside = concat(new TextEncoder().encode('{"w":'), Uint8Array.from([0xc3, 0xa9]), new TextEncoder().encode('}'));
    expect(() => parseSafetensors(rawSafetensors(outside))).toThrow(/unexpected byte 0xc3, expected a value/);
  });

  it('says unsupported (not corrupt) for legal dtypes it does not read', () => {
    const f8 = rawSafetensors(`{"w":${entry('F8_E4M3', [0, 1])}}`, new Uint8Array(1));
    let err: SafetensorsError | undefined;
    try {
      parseSafetensors(f8, 'f8');
    } catch (e) {
      err = e as SafetensorsError;
    }
    expect(err?.kind).toBe('unsupported');
    expect(err?.message).toMatch(/f8: tensor 'w' has dtype F8_E4M3, a legal safetensors dtype that tread does not read/);
    expect(() => parseSafetensors(rawSafetensors(`{"w":${entry('F9', [0, 1])}}`, new Uint8Array(1)))).toThrow(/unknown dtype "F9"/);
  });

  it('refuses shapes and offsets that are not safe integers', () => {
    expect(() => parseSafetensors(rawSafetensors('{"w":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}', new Uint8Array(4)))).toThrow(/invalid shape/);
    expect(() => parseSafetensors(rawSafetensors('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,1e400]}}', new Uint8Array(4)))).toThrow(/invalid data_offsets/);
  });
});

describe('CSV values that would change meaning', () => {
  const table = (text: string) => parseCsv(text, { name: 'c.csv' });

  it('refuses class labels that would wrap or are not class indices, naming row and column', () => {
    for (const [label, why] of [
      ['4294967297', /outside 0\.\.2147483647/],
      ['2147483648', /outside 0\.\.2147483647/],
      ['1e10', /outside 0\.\.2147483647/],
      ['-1', /outside 0\.\.2147483647/],
      ['1.5', /expected an integer class label/],
    ] as const) {
      expect(() => csvToDataset(table(`x,y\n1,0\n2,${label}\n`), { target: 'y', name: 'c.csv' })).toThrow(new RegExp(`c\\.csv:3, column 2: .*${why.source}`));
    }
    const ok = csvToDataset(table('x,y\n1,0\n2,2147483647\n'), { target: 'y' });
    expect([...ok.tensors[1].data]).toEqual([0, 2147483647]);
  });

  it('refuses finite values float32 cannot hold (features and float targets), and literals beyond double', () => {
    expect(() => csvToDataset(table('a,b\n1,2\n3,1e39\n'), { name: 'c.csv' })).toThrow(/c\.csv:3, column 2: 1e\+39 is beyond the range of float32/);
    expect(() => csvToDataset(table('a,y\n-4e38,0\n'), { target: 'y', name: 'c.csv' })).toThrow(/c\.csv:2, column 1: -4e\+38 is beyond the range of float32/);
    expect(() => csvToDataset(table('a,y\n1,5e38\n'), { target: 'y', targetDtype: 'float32', name: 'c.csv' })).toThrow(/c\.csv:2, column 2: 5e\+38/);
    expect(() => table('a,b\n1,1e400\n')).toThrow(/c\.csv:2, column 2: "1e400" is beyond the range of a double/);
    const edge = csvToDataset(table('a,b\n3.4028234e38,inf\n-1e-50,nan\n'));
    expect([...edge.tensors[0].data].map(String)).toEqual([String(Math.fround(3.4028234e38)), 'Infinity', '0', 'NaN']);
  });

  it('does not read a pandas header of column numbers as data without a word', () => {
    expect(() => table('0,1,2,3\n5,6,7,8\n')).toThrow(/c\.csv:1: the first line \("0,1,2,3"\) is the column numbers that pandas writes as a header, or a row of data: say which with \{ header: true \} or \{ header: false \}/);
    expect(() => table('0,1\n5,6\n')).toThrow(/column numbers/);
    expect(table('1,2,3\n5,6,7\n').rows).toBe(2);
    const h = parseCsv('0,1,2,3\n5,6,7,8\n', { header: true });
    expect(h.columns).toEqual(['0', '1', '2', '3']);
    expect(h.rows).toBe(1);
    expect(parseCsv('0,1,2,3\n5,6,7,8\n', { header: false }).rows).toBe(2);
    // Other numeric first lines are data, as before; a line with names and numbers gets a hint.
    expect(table('0,2,1\n5,6,7\n').rows).toBe(2);
    expect(() => table(',0,1\n0,5,6\n')).toThrow(/c\.csv:1, column 1: expected a number, got an empty field \(if this line names the columns, pass \{ header: true \}\)/);
    expect(() => parseCsv('a\n1\n', { header: 'yes' } as any)).toThrow(/parseCsv: header must be true, false or 'auto'/);
    expect(() => parseCsv('a\n1\n', { delimeter: ';' } as any)).toThrow(/parseCsv: unknown option 'delimeter' \(did you mean 'delimiter'/);
  });
});
