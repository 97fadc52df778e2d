/**
 * Fashion-MNIST (Zalando; 60,000 train + 10,000 test 28x28 greyscale images, 10 classes),
 * read from the official IDX files, gzipped or not. By default from Debian's
 * `dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist/), or from any folder
 * holding train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz]
 * and t10k-labels-idx1-ubyte[.gz].
 */
import type { ImageDataset } from './dataset.js';
import { loadIdxImages } from './idx.js';
import { nodeFs } from './util.js';
import { checkOneOf, checkOptions } from '../util/options.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

export interface FashionMnistOptions {
  /** Folder with the IDX files (default FASHION_MNIST_DIR, or $TREAD_FASHION_MNIST). */
  folder?: string;
  /** Multiplier from bytes to float32 (default 1/255). */
  scale?: number;
}

/** The 'train' (60,000) or 'test' (10,000) split as an ImageDataset [N, 1, 28, 28]. Node only. */
export async function loadFashionMnist(split: 'train' | 'test' = 'train', options: FashionMnistOptions = {}): Promise<ImageDataset> {
  checkOneOf('loadFashionMnist', 'split', split, ['train', 'test']);
  checkOptions('loadFashionMnist', options, ['folder', 'scale']);
  options ??= {};
  if (split !== 'train' && split !== 'test') throw new Error(`loadFashionMnist: split must be 'train' or 'test', got '${split}'`);
  const fs = await nodeFs('loadFashionMnist');
  const { join } = await import('node:path');
  const folder = options.folder ?? (typeof process !== 'undefined' ? process.env.TREAD_FASHION_MNIST : undefined) ?? FASHION_MNIST_DIR;
  const prefix = split === 'train' ? 'train' : 't10k';
  const find = (base: string): string => {
    for (const f of [`${base}.gz`, base]) {
      const p = join(folder, f);
      if (fs.existsSync(p)) return p;
    }
    throw new Error(
      `Fashion-MNIST not found: no ${base}[.gz] in ${folder}. Get the files with ` +
        `\`apt-get install dataset-fashion-mnist\` (Debian; installs them to ${FASHION_MNIST_DIR}), ` +
        `or download the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist ` +
        `and pass their folder: loadFashionMnist('${split}', { folder: '...' }).`,
    );
  };
  const images = find(`${prefix}-images-idx3-ubyte`);
  const labels = find(`${prefix}-labels-idx1-ubyte`);
  return loadIdxImages(images, labels, { classes: FASHION_MNIST_CLASSES, scale: options.scale });
}
