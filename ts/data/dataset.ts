/**
 * Data sets: a number of samples, each one or more fields (inputs, targets), that can be
 * gathered by index straight into a batch in wasm memory.
 *
 * Collate happens in the WASM core: the loader writes the batch's indices into wasm memory
 * and the data set copies the named rows of each field into fresh batch tensors (widening
 * and scaling bytes to float32 for images) without any intermediate JS arrays.
 *
 * Batches are temporaries (freed one training step later, see ts/tensor/lifetime.ts); the
 * whole data held by a data set is owned (kept) and lives until dispose() or GC.
 */
import { wasm } from '../runtime/wasm.js';
import { Tensor, shapeSize, shapeStr, type Shape } from '../tensor/tensor.js';
import { ByteBuffer, i32View, withScratch } from './util.js';
import { checkNumberOption, checkOptions } from '../util/options.js';

/** A batch: one tensor per field, first dimension = batch size (e.g. [x, y]). */
export type Batch = Tensor[];

export interface Dataset<B extends Batch = Batch> {
  /** Number of samples. */
  readonly length: number;
  /**
   * Collate: the samples at the `count` int32 indices stored at byte address `indexPtr` in
   * wasm memory, as one batch of new temporaries. Throws a RangeError for an index outside
   * 0..length-1.
   */
  gather(indexPtr: number, count: number): B;
  /** Integer class labels of every sample, where the data set has them (stratified splits). */
  labels?(): Int32Array;
}

/** The samples at `indices` (any JS array of integers) as one batch. */
export function getBatch<B extends Batch>(ds: Dataset<B>, indices: ArrayLike<number>): B {
  const n = indices.length;
  return withScratch(n * 4, (ptr) => {
    const v = i32View(ptr, n);
    for (let i = 0; i < n; i++) v[i] = indices[i];
    return ds.gather(ptr, n);
  });
}

/** Sample `i` as its fields without the batch dimension (temporaries). */
export function getItem(ds: Dataset, i: number): Tensor[] {
  return getBatch(ds, [i]).map((t) => t.reshapeView(t.shape.slice(1)));
}

function gatherError(where: string, idx: number, pos: number, length: number): RangeError {
  return new RangeError(`${where}: index ${idx} (batch position ${pos}) is outside 0..${length - 1}`);
}

/** Gathers rows of a 4-byte tensor (float32 or int32) into a new temporary. */
export function gatherRows(t: Tensor, indexPtr: number, count: number, where = 'gather'): Tensor {
  const rows = t.shape[0];
  const rowLen = rows === 0 ? 0 : t.size / rows;
  const out = Tensor.empty([count, ...t.shape.slice(1)], t.dtype, true);
  const r = wasm().tread_data_gather_u32(t.ptr, rows, rowLen, indexPtr, count, out.ptr);
  if (r >= 0) {
    out.dispose();
    throw gatherError(where, i32View(indexPtr, count)[r], r, rows);
  }
  return out;
}

/**
 * Tensors sharing their first dimension, as in PyTorch: `new TensorDataset(x, y)`. The
 * tensors are kept (owned by the data set; dispose() frees them).
 */
export class TensorDataset<B extends Batch = Batch> implements Dataset<B> {
  /** One tensor per field; `new TensorDataset(x, y)` is a `TensorDataset<[Tensor, Tensor]>`. */
  readonly tensors: B;
  readonly length: number;

  constructor(...tensors: B) {
    if (tensors.length === 0) throw new Error('TensorDataset: give at least one tensor');
    const n = tensors[0].shape[0];
    for (const [i, t] of tensors.entries()) {
      if (t.ndim === 0) throw new Error(`TensorDataset: tensor ${i} is a scalar; every tensor needs a first (sample) dimension`);
      if (t.shape[0] !== n) {
        throw new Error(`TensorDataset: size mismatch: tensor 0 has ${n} samples ${shapeStr(tensors[0].shape)}, tensor ${i} has ${t.shape[0]} ${shapeStr(t.shape)}`);
      }
      t.keep();
    }
    this.tensors = tensors;
    this.length = n;
  }

  gather(indexPtr: number, count: number): B {
    const out: Tensor[] = [];
    try {
      for (const t of this.tensors) out.push(gatherRows(t, indexPtr, count, 'TensorDataset'));
    } catch (e) {
      for (const t of out) t.dispose();
      throw e;
    }
    return out as B; // one batch tensor per field, in order: the shape of B
  }

  /** The last tensor's values, when it is int32 and 1-D (class labels). */
  labels(): Int32Array {
    const y = this.tensors[this.tensors.length - 1];
    if (y.dtype !== 'int32' || y.ndim !== 1) throw new Error('TensorDataset.labels(): the last tensor is not a 1-D int32 label tensor');
    return y.data.slice() as Int32Array;
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
  }
}

export interface ImageDatasetOptions {
  /** Multiplier applied when bytes become float32 (ToTensor-style); default 1/255. */
  scale?: number;
  /** Class names, index = label. */
  classes?: readonly string[];
}

/**
 * Images kept as bytes (u8, NCHW) with int32 labels; batches come out as float32
 * `[B, C, H, W]` times `scale` (default 1/255, like torchvision's ToTensor) and int32 `[B]`.
 * Holding bytes takes a quarter of the memory of floats; widening happens in the gather.
 */
export class ImageDataset implements Dataset<[Tensor, Tensor]> {
  readonly images: ByteBuffer;
  readonly targets: Tensor;
  /** [N, C, H, W] */
  readonly shape: Shape;
  readonly length: number;
  readonly scale: number;
  readonly classes: readonly string[] | null;

  /** `pixels` (N·C·H·W bytes) are copied into wasm memory; `labels` has N entries. */
  constructor(pixels: Uint8Array | ByteBuffer, shape: Shape, labels: ArrayLike<number> | Tensor, options: ImageDatasetOptions = {}) {
    if (shape.length !== 4) throw new Error(`ImageDataset: shape must be [N, C, H, W], got ${shapeStr(shape)}`);
    const n = shape[0];
    if (pixels.length !== shapeSize(shape)) throw new Error(`ImageDataset: ${pixels.length} bytes do not fill ${shapeStr(shape)} (${shapeSize(shape)})`);
    const nl = labels instanceof Tensor ? labels.size : labels.length;
    if (nl !== n) throw new Error(`ImageDataset: ${nl} labels for ${n} images`);
    this.shape = Object.freeze([...shape]);
    this.length = n;
    checkOptions('ImageDataset', options, ['scale', 'classes']);
    options ??= {};
    this.scale = checkNumberOption('ImageDataset', 'scale', options.scale ?? 1 / 255);
    this.classes = options.classes ?? null;
    this.images = pixels instanceof ByteBuffer ? pixels : ByteBuffer.from(pixels);
    if (labels instanceof Tensor) {
      if (labels.dtype !== 'int32') throw new Error('ImageDataset: labels must be int32');
      this.targets = labels.keep();
    } else {
      this.targets = Tensor.empty([n], 'int32');
      this.targets.keep();
      (this.targets.data as Int32Array).set(labels);
    }
  }

  get sampleShape(): Shape {
    return this.shape.slice(1);
  }

  gather(indexPtr: number, count: number): [Tensor, Tensor] {
    const [n, c, h, w] = this.shape;
    const rowLen = c * h * w;
    const x = Tensor.empty([count, c, h, w], 'float32', true);
    const r = wasm().tread_data_gather_u8_f32(this.images.ptr, n, rowLen, indexPtr, count, this.scale, x.ptr);
    if (r >= 0) {
      x.dispose();
      throw gatherError('ImageDataset', i32View(indexPtr, count)[r], r, n);
    }
    return [x, gatherRows(this.targets, indexPtr, count, 'ImageDataset')];
  }

  labels(): Int32Array {
    return this.targets.data.slice() as Int32Array;
  }

  /** Number of classes (1 + the largest label). */
  get numClasses(): number {
    const y = this.targets.data;
    let m = -1;
    for (let i = 0; i < y.length; i++) if (y[i] > m) m = y[i];
    return m + 1;
  }

  /** All images as one owned float32 tensor [N, C, H, W] (times scale). */
  toTensor(): Tensor {
    const t = Tensor.empty(this.shape, 'float32');
    wasm().tread_data_u8_to_f32(this.images.ptr, this.images.length, this.scale, t.ptr);
    return t;
  }

  /** A new data set of the images at `indices`, in that order (copies the bytes). */
  select(indices: ArrayLike<number>): ImageDataset {
    const [, c, h, w] = this.shape;
    const row = c * h * w;
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.length) throw new RangeError(`ImageDataset.select: index ${k} is outside 0..${this.length - 1}`);
    }
    const out = new ByteBuffer(indices.length * row);
    const dst = out.bytes(); // views made after the allocation (memory may have grown)
    const src = this.images.bytes();
    const y = this.targets.data;
    const labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      dst.set(src.subarray(k * row, (k + 1) * row), i * row);
      labels[i] = y[k];
    }
    return new ImageDataset(out, [indices.length, c, h, w], labels, { scale: this.scale, classes: this.classes ?? undefined });
  }

  dispose(): void {
    this.images.dispose();
    this.targets.dispose();
  }
}

/** A view of some samples of another data set (as torch.utils.data.Subset). */
export class Subset<B extends Batch = Batch> implements Dataset<B> {
  readonly dataset: Dataset<B>;
  /** The parent's indices, kept in wasm memory (int32). */
  readonly indices: Tensor;
  readonly length: number;

  constructor(dataset: Dataset<B>, indices: ArrayLike<number>) {
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (!Number.isInteger(k) || k < 0 || k >= dataset.length) throw new RangeError(`Subset: index ${k} is outside 0..${dataset.length - 1}`);
    }
    this.dataset = dataset;
    this.indices = Tensor.empty([indices.length], 'int32').keep();
    (this.indices.data as Int32Array).set(indices);
    this.length = indices.length;
  }

  gather(indexPtr: number, count: number): B {
    return withScratch(count * 4, (ptr) => {
      const r = wasm().tread_data_gather_u32(this.indices.ptr, this.length, 1, indexPtr, count, ptr);
      if (r >= 0) throw gatherError('Subset', i32View(indexPtr, count)[r], r, this.length);
      return this.dataset.gather(ptr, count);
    });
  }

  labels(): Int32Array {
    if (!this.dataset.labels) throw new Error('Subset.labels(): the parent data set has no labels');
    const all = this.dataset.labels();
    const idx = this.indices.data;
    const out = new Int32Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = all[idx[i]];
    return out;
  }
}
