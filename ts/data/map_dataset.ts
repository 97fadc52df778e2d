/**
 * A map-style data set, as torch.utils.data.Dataset: subclass it with `getItem(i)` and
 * `length`, and a DataLoader batches it.
 *
 *   class Squares extends MapDataset {
 *     get length() { return 100; }
 *     getItem(i: number) { return [[i, i * i], i % 2]; }   // fields: inputs, label
 *   }
 *   for (const [x, y] of new DataLoader(new Squares(), { batchSize: 10, shuffle: true })) ...
 *
 * or, without a class: `mapDataset({ length: 100, getItem: (i) => [...] })`.
 *
 * An item is an array of fields (a single Tensor or number counts as one field). Collate, per
 * field: Tensors are stacked (same shape, dtype kept); plain number arrays become float32
 * rows; numbers become an int32 [B] tensor when every number of the batch is an integer (class
 * labels, as PyTorch's int -> int64) and float32 otherwise. `dtypes` fixes a field's dtype
 * instead (say 'float32' for a regression target that happens to be whole).
 *
 * This path calls JS per sample; TensorDataset/ImageDataset gather in the WASM core and stay
 * the fast path for data already in tensors.
 */
import { Tensor, shapeStr } from '../tensor/tensor.js';
import type { DType } from '../tensor/storage.js';
import { checkOptions } from '../util/options.js';
import type { Dataset } from './dataset.js';
import { i32View } from './util.js';

export type Field = Tensor | number | ArrayLike<number>;
export type Item = Field | Field[];

export interface MapDatasetOptions {
  /** dtype per field ('float32' | 'int32'); undefined entries follow the rule above. */
  dtypes?: (DType | undefined)[];
}

export abstract class MapDataset implements Dataset {
  abstract readonly length: number;
  private readonly dtypes: (DType | undefined)[];

  constructor(options: MapDatasetOptions = {}) {
    checkOptions('MapDataset', options, ['dtypes']);
    this.dtypes = options.dtypes ?? [];
    for (const d of this.dtypes) {
      if (d !== undefined && d !== 'float32' && d !== 'int32') throw new Error(`MapDataset: dtypes entries must be 'float32' or 'int32', got ${JSON.stringify(d)}`);
    }
  }

  /** Sample `i` (0 <= i < length): its fields. */
  abstract getItem(i: number): Item;

  gather(indexPtr: number, count: number): Tensor[] {
    const name = this.constructor.name;
    // Copied first: getItem may allocate, and a grown wasm memory detaches older views.
    const indices = Int32Array.from(i32View(indexPtr, count));
    const items: Field[][] = [];
    for (let pos = 0; pos < count; pos++) {
      const i = indices[pos];
      if (!(i >= 0 && i < this.length)) throw new RangeError(`${name}: index ${i} (batch position ${pos}) is outside 0..${this.length - 1}`);
      const item = this.getItem(i);
      items.push(Array.isArray(item) ? item : [item as Field]);
    }
    if (count === 0) return [];
    const fields = items[0].length;
    for (const [pos, it] of items.entries()) {
      if (it.length !== fields) throw new Error(`${name}: item ${indices[pos]} has ${it.length} fields, item ${indices[0]} has ${fields}`);
    }
    return Array.from({ length: fields }, (_, f) => collateField(name, f, items.map((it) => it[f]), indices, this.dtypes[f]));
  }
}

function describe(v: Field): string {
  return v instanceof Tensor ? `a Tensor ${shapeStr(v.shape)}` : typeof v === 'number' ? 'a number' : `an array of ${v.length}`;
}

function collateField(name: string, f: number, values: Field[], indices: Int32Array, dtype: DType | undefined): Tensor {
  const first = values[0];
  const mismatch = (pos: number) =>
    new Error(`${name}: field ${f} of item ${indices[pos]} is ${describe(values[pos])}, but of item ${indices[0]} ${describe(first)}; every item needs the same field shapes`);
  if (first instanceof Tensor) {
    const out = Tensor.empty([values.length, ...first.shape], dtype ?? first.dtype, true);
    const row = first.size;
    const dst = out.data;
    for (const [pos, v] of values.entries()) {
      if (!(v instanceof Tensor) || v.shape.length !== first.shape.length || v.shape.some((d, k) => d !== first.shape[k])) throw mismatch(pos);
      dst.set(v.data.subarray(0, row), pos * row);
    }
    return out;
  }
  if (typeof first === 'number') {
    if (values.some((v) => typeof v !== 'number')) throw mismatch(values.findIndex((v) => typeof v !== 'number'));
    const nums = values as number[];
    const dt = dtype ?? (nums.every((v) => Number.isInteger(v)) ? 'int32' : 'float32');
    const out = Tensor.empty([nums.length], dt, true);
    out.data.set(nums);
    return out;
  }
  const row = first.length;
  const out = Tensor.empty([values.length, row], dtype ?? 'float32', true);
  const dst = out.data;
  for (const [pos, v] of values.entries()) {
    if (v instanceof Tensor || typeof v === 'number' || v.length !== row) throw mismatch(pos);
    dst.set(v as ArrayLike<number>, pos * row);
  }
  return out;
}

/** A MapDataset from a length and a getItem function. */
export function mapDataset(source: { length: number; getItem(i: number): Item }, options: MapDatasetOptions = {}): MapDataset {
  if (!Number.isInteger(source?.length) || source.length < 0) throw new Error(`mapDataset: length must be a non-negative integer, got ${String(source?.length)}`);
  if (typeof source.getItem !== 'function') throw new Error('mapDataset: getItem must be a function (i) => fields');
  const n = source.length;
  return new (class extends MapDataset {
    readonly length = n;
    getItem(i: number): Item {
      return source.getItem(i);
    }
  })(options);
}
