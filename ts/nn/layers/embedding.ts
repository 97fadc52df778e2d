/**
 * `Embedding(numEmbeddings, embeddingDim, {paddingIdx, maxNorm, normType, scaleGradByFreq})`,
 * as PyTorch's nn.Embedding: an int32 index tensor of any shape picks rows of `weight`
 * ([numEmbeddings, embeddingDim], initialised N(0, 1) with the `paddingIdx` row zero), giving
 * [...indices.shape, embeddingDim]. The backward adds each upstream row into the weight
 * gradient of its index (never into `paddingIdx`'s row; divided by the index's count in the
 * batch with `scaleGradByFreq`). `maxNorm` renormalizes the looked-up rows in place (no
 * gradient), as PyTorch does, before they are read.
 */
import { isGradEnabled, record } from '../../autograd/engine.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import { normal_ } from '../init.js';
import { Module, Parameter } from '../module.js';
import { gradTarget, shapeStr, temp } from './util.js';

export interface EmbeddingOptions {
  /** Index whose row stays zero-initialised and gets no gradient (negative counts from the end). */
  paddingIdx?: number | null;
  /** Rows looked up with a larger `normType`-norm are rescaled to this norm in place. */
  maxNorm?: number | null;
  /** The p of the norm for `maxNorm` (default 2). */
  normType?: number;
  /** Divide each row's gradient by how often its index occurs in the batch (default false). */
  scaleGradByFreq?: boolean;
}

export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    checkOptions('Embedding', options, ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq']);
    for (const [k, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Embedding: ${k} must be a positive integer, got ${v}`);
    }
    const pad = options.paddingIdx ?? null;
    if (pad !== null && !(Number.isInteger(pad) && pad >= -numEmbeddings && pad < numEmbeddings)) {
      throw new Error(`Embedding(${numEmbeddings}, ${embeddingDim}): paddingIdx must be an integer in ${-numEmbeddings}..${numEmbeddings - 1}, got ${pad}`);
    }
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + numEmbeddings : pad;
    this.maxNorm = options.maxNorm ?? null;
    if (this.maxNorm !== null && !(this.maxNorm > 0)) throw new Error(`Embedding: maxNorm must be a positive number, got ${this.maxNorm}`);
    this.normType = options.normType ?? 2;
    if (!(this.normType > 0)) throw new Error(`Embedding: normType must be a positive number, got ${this.normType}`);
    this.scaleGradByFreq = options.scaleGradByFreq ?? false;
    this.weight = new Parameter([numEmbeddings, embeddingDim]);
    this.resetParameters();
  }

  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) this.weight.f32.fill(0, this.paddingIdx * this.embeddingDim, (this.paddingIdx + 1) * this.embeddingDim);
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${this.maxNorm}`;
    if (this.normType !== 2) s += `, norm_type=${this.normType}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    return s;
  }

  /** The indices as numbers, after checking dtype and range. */
  private indicesOf(input: Tensor): Int32Array {
    const name = `Embedding(${this.numEmbeddings}, ${this.embeddingDim})`;
    if (!(input instanceof Tensor)) throw new Error(`${name}: expected an int32 index Tensor, got ${typeof input}`);
    if (input.dtype !== 'int32') throw new Error(`${name}: expected int32 indices, got ${input.dtype} ${shapeStr(input.shape)}`);
    const idx = input.data as Int32Array;
    for (let i = 0; i < idx.length; i++) {
      if (idx[i] < 0 || idx[i] >= this.numEmbeddings) {
        throw new Error(`${name}: index ${idx[i]} (element ${i} of input ${shapeStr(input.shape)}) is outside 0..${this.numEmbeddings - 1}`);
      }
    }
    return idx;
  }

  /** PyTorch's embedding_renorm_: rows with norm > maxNorm scaled by maxNorm / (norm + 1e-7). */
  private renorm(idx: Int32Array): void {
    const w = this.weight.f32;
    const d = this.embeddingDim;
    const p = this.normType;
    for (const row of new Set(idx)) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Math.abs(w[row * d + j]) ** p;
      const norm = s ** (1 / p);
      if (norm > this.maxNorm!) {
        const scale = this.maxNorm! / (norm + 1e-7);
        for (let j = 0; j < d; j++) w[row * d + j] *= scale;
      }
    }
  }

  forward(input: Tensor): Tensor {
    const idx = this.indicesOf(input);
    if (this.maxNorm !== null) this.renorm(idx);
    const d = this.embeddingDim;
    const weight = this.weight;
    const y = temp([...input.shape, d]);
    const w = weight.f32;
    const out = y.f32;
    for (let i = 0; i < idx.length; i++) out.set(w.subarray(idx[i] * d, idx[i] * d + d), i * d);
    if (!(isGradEnabled() && weight.requiresGrad)) return y;
    // Copied now: the caller may reuse the index tensor before backward runs.
    const saved = Int32Array.from(idx);
    return record(y, 'Embedding', [weight], (g) => {
      const target = gradTarget(weight)!;
      const dst = (target.ret ?? weight.grad!).f32;
      if (target.beta === 0) dst.fill(0);
      let counts: Map<number, number> | null = null;
      if (this.scaleGradByFreq) {
        counts = new Map();
        for (const r of saved) counts.set(r, (counts.get(r) ?? 0) + 1);
      }
      const gs = g.f32;
      for (let i = 0; i < saved.length; i++) {
        const r = saved[i];
        if (r === this.paddingIdx) continue;
        const scale = counts ? 1 / counts.get(r)! : 1;
        for (let j = 0; j < d; j++) dst[r * d + j] += gs[i * d + j] * scale;
      }
      return [target.ret];
    });
  }
}
