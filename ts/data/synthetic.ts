/**
 * Small synthetic classification sets for demos and tests, seeded: two interleaved spirals,
 * Gaussian blobs and XOR. Each is a TensorDataset of float32 inputs [n, d] and int32 labels [n];
 * samples of different classes alternate (label = i mod classes), so even an unshuffled
 * loader sees every class in each batch.
 */
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { TensorDataset } from './dataset.js';
import { Rng, seedOf } from './random.js';
import { checkOptions } from '../util/options.js';

function checkN(n: number, where: string): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: n must be a positive integer, got ${n}`);
}

/**
 * Two spirals in 2-D, winding `turns` times around the origin (class 0 and its mirror image,
 * class 1), radius up to 1, Gaussian `noise` (std) added to each coordinate.
 */
export function twoSpirals(options: { n?: number; noise?: number; turns?: number; seed?: number } = {}): TensorDataset<[Tensor, Tensor]> {
  const n = options.n ?? 400;
  checkOptions('twoSpirals', options, ['n', 'noise', 'turns', 'seed']);
  checkN(n, 'twoSpirals');
  const noise = options.noise ?? 0.02;
  const turns = options.turns ?? 1.5;
  const rng = new Rng(seedOf(options.seed, 'twoSpirals'), 0x591);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const t = Math.sqrt(rng.uniform()); // more points further out, as the arc is longer there
    const angle = t * turns * 2 * Math.PI;
    const sign = cls === 0 ? 1 : -1;
    x[2 * i] = sign * t * Math.cos(angle) + noise * rng.normal();
    x[2 * i + 1] = sign * t * Math.sin(angle) + noise * rng.normal();
    y[i] = cls;
  }
  return new TensorDataset(tensor(x, [n, 2]), tensor(y, [n], { dtype: 'int32' }));
}

/**
 * Isotropic Gaussian blobs (as sklearn's make_blobs): `centers` a count (drawn uniformly in
 * `box` per dimension) or explicit points; every blob has standard deviation `std`.
 */
export function gaussianBlobs(
  options: { n?: number; centers?: number | number[][]; dims?: number; std?: number; box?: [number, number]; seed?: number } = {},
): TensorDataset<[Tensor, Tensor]> {
  const n = options.n ?? 300;
  checkOptions('gaussianBlobs', options, ['n', 'centers', 'dims', 'std', 'box', 'seed']);
  checkN(n, 'gaussianBlobs');
  const rng = new Rng(seedOf(options.seed, 'gaussianBlobs'), 0xb10b);
  const std = options.std ?? 1;
  let centers: number[][];
  if (Array.isArray(options.centers)) {
    centers = options.centers;
    if (centers.length === 0 || centers.some((c) => c.length !== centers[0].length)) throw new Error('gaussianBlobs: centers must be non-empty points of one dimension');
  } else {
    const k = options.centers ?? 3;
    const d = options.dims ?? 2;
    const [lo, hi] = options.box ?? [-10, 10];
    centers = Array.from({ length: k }, () => Array.from({ length: d }, () => lo + (hi - lo) * rng.uniform()));
  }
  const d = centers[0].length;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % centers.length;
    for (let j = 0; j < d; j++) x[i * d + j] = centers[k][j] + std * rng.normal();
    y[i] = k;
  }
  return new TensorDataset(tensor(x, [n, d]), tensor(y, [n], { dtype: 'int32' }));
}

/**
 * XOR: points uniform in [-1, 1]², label 1 when exactly one coordinate is positive; then
 * Gaussian `noise` (std) is added to the points (labels stay, so noise blurs the border).
 */
export function xor(options: { n?: number; noise?: number; seed?: number } = {}): TensorDataset<[Tensor, Tensor]> {
  const n = options.n ?? 200;
  checkOptions('xor', options, ['n', 'noise', 'seed']);
  checkN(n, 'xor');
  const noise = options.noise ?? 0;
  const rng = new Rng(seedOf(options.seed, 'xor'), 0x804);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const want = i % 2;
    let a: number, b: number;
    do {
      a = 2 * rng.uniform() - 1;
      b = 2 * rng.uniform() - 1;
    } while (Number(a > 0 !== b > 0) !== want);
    x[2 * i] = a + noise * rng.normal();
    x[2 * i + 1] = b + noise * rng.normal();
    y[i] = want;
  }
  return new TensorDataset(tensor(x, [n, 2]), tensor(y, [n], { dtype: 'int32' }));
}
