/**
 * The probe: a fixed set of up to 256 training samples (the first rows the loader yields,
 * gathered across as many batches as it takes, not one batch of 32), copied out of wasm
 * memory so it outlives the step. Activation statistics and input statistics are measured
 * on it, so they do not depend on the batch size.
 */
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';

export const PROBE_SIZE = 256;

export class ProbeSampler {
  private chunks: Float32Array[] = [];
  private rows = 0;
  private rowShape: number[] | null = null;
  private dtype: 'float32' | 'int32' = 'float32';

  constructor(readonly size: number = PROBE_SIZE) {}

  get full(): boolean {
    return this.rows >= this.size;
  }

  /** Float inputs (integer inputs are ids: token or category indices, whose scale means nothing). */
  get isFloat(): boolean {
    return this.dtype === 'float32';
  }

  get count(): number {
    return this.rows;
  }

  /** Copies rows of this batch's input until the probe holds `size` rows. */
  add(x: Tensor): void {
    if (this.full || x.ndim === 0 || x.shape[0] === 0) return;
    const shape = x.shape.slice(1);
    if (this.rowShape && shape.join(',') !== this.rowShape.join(',')) return; // a ragged loader: keep the first shape
    this.rowShape ??= shape;
    this.dtype = x.dtype === 'int32' ? 'int32' : 'float32';
    const per = x.size / x.shape[0];
    const take = Math.min(this.size - this.rows, x.shape[0]);
    this.chunks.push(Float32Array.from(x.data.subarray(0, take * per)));
    this.rows += take;
  }

  /** The probe rows as one flat Float32Array [rows, ...rowShape]. */
  flat(): { data: Float32Array; rows: number; perRow: number } | null {
    if (!this.rowShape || this.rows === 0) return null;
    const per = this.rowShape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(this.rows * per);
    let o = 0;
    for (const c of this.chunks) {
      data.set(c, o);
      o += c.length;
    }
    return { data, rows: this.rows, perRow: per };
  }

  /** A fresh tensor of the probe (the caller disposes it), or null when empty. */
  tensor(): Tensor | null {
    const f = this.flat();
    if (!f || !this.rowShape) return null;
    const shape = [f.rows, ...this.rowShape];
    return this.dtype === 'int32' ? tensor(Int32Array.from(f.data), shape, { dtype: 'int32' }) : tensor(f.data, shape);
  }
}
