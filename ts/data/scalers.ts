/**
 * Normalisation fitted on training data only, then applied to any split (as sklearn's
 * scalers): StandardScaler (population std, ddof = 0) and MinMaxScaler, per feature or,
 * for image batches [N, C, H, W], per channel (`perChannel: true`). Statistics are
 * accumulated in f64 by the WASM core; fitting on a Dataset streams it in chunks.
 *
 * `transform` returns a new temporary (like any operation; a Dataset made from it keeps
 * it). State is plain JSON: `stateDict()` / `loadStateDict()`. A scaler is also a batch
 * transform (apply = transform), so it can sit in a DataLoader's pipeline.
 */
import { wasm } from '../runtime/wasm.js';
import { Tensor, shapeSize, shapeStr } from '../tensor/tensor.js';
import type { Dataset } from './dataset.js';
import { channelAffine, type BatchTransform } from './transforms.js';
import { f64View, i32View, withScratch } from './util.js';
import { checkBooleanOption, checkOptions } from '../util/options.js';

/** count, mean, M2, min, max per channel. */
export interface ChannelMoments {
  count: Float64Array;
  mean: Float64Array;
  m2: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

/** [outer, channels, inner] of x: per feature (inner 1) or per channel (dim 1). */
export function scalerLayout(shape: readonly number[], perChannel: boolean, where: string): [number, number, number] {
  if (shape.length === 0) throw new Error(`${where}: expected a tensor with a sample dimension, got a scalar`);
  if (shape.length === 1) return [shape[0], 1, 1];
  if (perChannel) {
    if (shape.length < 3) throw new Error(`${where}: perChannel needs [N, C, ...spatial], got ${shapeStr(shape)}`);
    return [shape[0], shape[1], shapeSize(shape.slice(2))];
  }
  return [shape[0], shapeSize(shape.slice(1)), 1];
}

function momentsOf(x: Tensor, outer: number, c: number, inner: number): ChannelMoments {
  if (x.dtype !== 'float32') throw new Error(`scaler: expected float32 data, got ${x.dtype}`);
  return withScratch(40 * c, (p) => {
    wasm().tread_data_moments(x.ptr, outer, c, inner, p);
    const v = f64View(p, 5 * c);
    const m: ChannelMoments = { count: new Float64Array(c), mean: new Float64Array(c), m2: new Float64Array(c), min: new Float64Array(c), max: new Float64Array(c) };
    for (let i = 0; i < c; i++) {
      m.count[i] = v[5 * i];
      m.mean[i] = v[5 * i + 1];
      m.m2[i] = v[5 * i + 2];
      m.min[i] = v[5 * i + 3];
      m.max[i] = v[5 * i + 4];
    }
    return m;
  });
}

function merge(a: ChannelMoments | null, b: ChannelMoments): ChannelMoments {
  if (a === null) return b;
  for (let i = 0; i < a.mean.length; i++) {
    const n = a.count[i] + b.count[i];
    if (b.count[i] === 0) continue;
    const delta = b.mean[i] - a.mean[i];
    a.m2[i] += b.m2[i] + (delta * delta * a.count[i] * b.count[i]) / n;
    a.mean[i] += (delta * b.count[i]) / n;
    a.count[i] = n;
    a.min[i] = Math.min(a.min[i], b.min[i]);
    a.max[i] = Math.max(a.max[i], b.max[i]);
  }
  return a;
}

/** Per-channel moments of a tensor, or of field 0 of a whole Dataset (streamed in chunks). */
export function channelMoments(x: Tensor | Dataset, perChannel: boolean, where = 'fit'): { moments: ChannelMoments; sampleShape: number[] } {
  if (x instanceof Tensor) {
    const [o, c, i] = scalerLayout(x.shape, perChannel, where);
    return { moments: momentsOf(x, o, c, i), sampleShape: x.shape.slice(1) };
  }
  const n = x.length;
  if (n === 0) throw new Error(`${where}: the data set is empty`);
  const chunk = 2048;
  let acc: ChannelMoments | null = null;
  let sampleShape: number[] = [];
  withScratch(chunk * 4, (p) => {
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const idx = i32View(p, count);
      for (let i = 0; i < count; i++) idx[i] = start + i;
      const batch = x.gather(p, count);
      try {
        const t = batch[0];
        sampleShape = t.shape.slice(1);
        const [o, c, i] = scalerLayout(t.shape, perChannel, where);
        acc = merge(acc, momentsOf(t, o, c, i));
      } finally {
        for (const t of batch) t.dispose();
      }
    }
  });
  return { moments: acc!, sampleShape };
}

abstract class Scaler implements BatchTransform {
  abstract readonly name: string;
  readonly perChannel: boolean;
  protected sub: number[] | null = null;
  protected mul: number[] | null = null;

  constructor(perChannel: boolean) {
    this.perChannel = perChannel;
  }

  get fitted(): boolean {
    return this.sub !== null;
  }

  protected abstract setFrom(m: ChannelMoments): void;

  /** Fits on training data: a tensor [N, ...] or a Dataset (its inputs, field 0). */
  fit(x: Tensor | Dataset): this {
    const { moments } = channelMoments(x, this.perChannel, `${this.name}.fit`);
    if (moments.count.some((c) => c === 0)) throw new Error(`${this.name}.fit: no samples`);
    this.setFrom(moments);
    return this;
  }

  protected layout(x: Tensor, where: string): [number, number, number] {
    if (!this.sub) throw new Error(`${this.name}.${where}: not fitted: call fit(trainData) first (or loadStateDict)`);
    const l = scalerLayout(x.shape, this.perChannel, `${this.name}.${where}`);
    if (l[1] !== this.sub.length) {
      throw new Error(`${this.name}.${where}: fitted on ${this.sub.length} ${this.perChannel ? 'channels' : 'features'}, got ${l[1]} in ${shapeStr(x.shape)}`);
    }
    if (x.dtype !== 'float32') throw new Error(`${this.name}.${where}: expected float32, got ${x.dtype}`);
    return l;
  }

  /** The scaled data (a new temporary). */
  transform(x: Tensor): Tensor {
    const [o, c, i] = this.layout(x, 'transform');
    return channelAffine(x, o, c, i, this.sub!, this.mul!);
  }

  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  /** Undoes transform (a new temporary). */
  inverseTransform(x: Tensor): Tensor {
    const [o, c, i] = this.layout(x, 'inverseTransform');
    // y = (x - s)·m  =>  x = (y + s·m) / m = (y - (-s·m)) · (1/m)
    return channelAffine(x, o, c, i, this.sub!.map((s, k) => -s * this.mul![k]), this.mul!.map((m) => 1 / m));
  }

  apply(x: Tensor): Tensor {
    return this.transform(x);
  }
}

export interface StandardScalerState {
  type: 'StandardScaler';
  perChannel: boolean;
  mean: number[];
  /** Population std (ddof 0); 1 where a feature is constant. */
  std: number[];
}

/** `(x - mean) / std`, statistics of the training data (population std; constant features get std 1). */
export class StandardScaler extends Scaler {
  readonly name = 'StandardScaler';
  mean: number[] | null = null;
  std: number[] | null = null;

  constructor(options: { perChannel?: boolean } = {}) {
    checkOptions('StandardScaler', options, ['perChannel']);
    super(checkBooleanOption('StandardScaler', 'perChannel', options?.perChannel ?? false));
  }

  protected setFrom(m: ChannelMoments): void {
    this.mean = Array.from(m.mean);
    this.std = Array.from(m.m2, (v, i) => {
      const s = Math.sqrt(v / m.count[i]);
      return s > 0 && Number.isFinite(s) ? s : 1;
    });
    this.sub = this.mean;
    this.mul = this.std.map((s) => 1 / s);
  }

  stateDict(): StandardScalerState {
    if (!this.mean || !this.std) throw new Error('StandardScaler.stateDict: not fitted');
    return { type: 'StandardScaler', perChannel: this.perChannel, mean: [...this.mean], std: [...this.std] };
  }

  loadStateDict(sd: StandardScalerState): this {
    if (sd?.type !== 'StandardScaler' || !Array.isArray(sd.mean) || !Array.isArray(sd.std) || sd.mean.length !== sd.std.length) {
      throw new Error('StandardScaler.loadStateDict: expected { type: "StandardScaler", mean: number[], std: number[] } of equal lengths');
    }
    if (!!sd.perChannel !== this.perChannel) throw new Error(`StandardScaler.loadStateDict: state is perChannel=${!!sd.perChannel}, this scaler perChannel=${this.perChannel}`);
    this.mean = [...sd.mean];
    this.std = [...sd.std];
    this.sub = this.mean;
    this.mul = this.std.map((s) => 1 / s);
    return this;
  }
}

export interface MinMaxScalerState {
  type: 'MinMaxScaler';
  perChannel: boolean;
  featureRange: [number, number];
  min: number[];
  max: number[];
}

/** Maps each feature's training [min, max] to `featureRange` (default [0, 1]); constant features get range 1. */
export class MinMaxScaler extends Scaler {
  readonly name = 'MinMaxScaler';
  readonly featureRange: [number, number];
  min: number[] | null = null;
  max: number[] | null = null;

  constructor(options: { perChannel?: boolean; featureRange?: [number, number] } = {}) {
    checkOptions('MinMaxScaler', options, ['perChannel', 'featureRange']);
    super(checkBooleanOption('MinMaxScaler', 'perChannel', options?.perChannel ?? false));
    this.featureRange = options.featureRange ?? [0, 1];
    if (!(this.featureRange[0] < this.featureRange[1])) throw new Error(`MinMaxScaler: featureRange must be [lo, hi] with lo < hi, got [${this.featureRange}]`);
  }

  protected setFrom(m: ChannelMoments): void {
    this.min = Array.from(m.min);
    this.max = Array.from(m.max);
    this.derive();
  }

  private derive(): void {
    const [lo, hi] = this.featureRange;
    this.mul = this.min!.map((mn, i) => {
      const r = this.max![i] - mn;
      return (hi - lo) / (r > 0 ? r : 1);
    });
    this.sub = this.min!.map((mn, i) => (lo === 0 ? mn : mn - lo / this.mul![i]));
  }

  stateDict(): MinMaxScalerState {
    if (!this.min || !this.max) throw new Error('MinMaxScaler.stateDict: not fitted');
    return { type: 'MinMaxScaler', perChannel: this.perChannel, featureRange: [...this.featureRange], min: [...this.min], max: [...this.max] };
  }

  loadStateDict(sd: MinMaxScalerState): this {
    if (sd?.type !== 'MinMaxScaler' || !Array.isArray(sd.min) || !Array.isArray(sd.max) || sd.min.length !== sd.max.length) {
      throw new Error('MinMaxScaler.loadStateDict: expected { type: "MinMaxScaler", min: number[], max: number[] } of equal lengths');
    }
    if (!!sd.perChannel !== this.perChannel) throw new Error(`MinMaxScaler.loadStateDict: state is perChannel=${!!sd.perChannel}, this scaler perChannel=${this.perChannel}`);
    if (sd.featureRange && (sd.featureRange[0] !== this.featureRange[0] || sd.featureRange[1] !== this.featureRange[1])) {
      throw new Error(`MinMaxScaler.loadStateDict: state has featureRange [${sd.featureRange}], this scaler [${this.featureRange}]`);
    }
    this.min = [...sd.min];
    this.max = [...sd.max];
    this.derive();
    return this;
  }
}
