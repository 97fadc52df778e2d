/**
 * torchvision's ColorJitter(brightness, contrast, saturation) for batches of images in
 * [0, bound] (default 1: apply it before Normalize). For each image a factor per enabled
 * adjustment is drawn uniformly from [max(0, 1-v), 1+v] (or the given [min, max]) and the
 * adjustments run in a random order, each clamped to [0, bound], as torchvision:
 *  - brightness: x·f;
 *  - contrast: f·x + (1-f)·m, m the mean of the image's grayscale (0.2989 R + 0.587 G + 0.114 B, torchvision's weights,
 *    for 3 channels, the channel itself for 1);
 *  - saturation (3 channels): f·x + (1-f)·gray per pixel.
 * (Hue is not offered.) Training only (eval returns the input); seeded per sample.
 */
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import { context, nchw, type BatchTransform, type TransformContext } from '../transforms.js';
import { rangeOf, sampleRng, uniformIn } from './sample_rng.js';

type Range = number | readonly [number, number];

export interface ColorJitterOptions {
  brightness?: Range;
  contrast?: Range;
  saturation?: Range;
  /** The largest pixel value (default 1); results are clamped to [0, bound]. */
  bound?: number;
}

type Adjust = 'brightness' | 'contrast' | 'saturation';

export class ColorJitter implements BatchTransform {
  readonly name = 'ColorJitter';
  /** Random augmentation: acts in training mode only (DataLoader warns when it would be off). */
  readonly random = true;
  readonly ranges: Partial<Record<Adjust, [number, number]>> = {};
  readonly bound: number;

  constructor(options: ColorJitterOptions = {}) {
    checkOptions('ColorJitter', options, ['brightness', 'contrast', 'saturation', 'bound']);
    for (const k of ['brightness', 'contrast', 'saturation'] as const) {
      const v = options[k];
      if (v === undefined) continue;
      const r = rangeOf(v, 'ColorJitter', k, true);
      if (!(r[0] === 1 && r[1] === 1)) this.ranges[k] = r;
    }
    this.bound = options.bound ?? 1;
    if (!(this.bound > 0 && Number.isFinite(this.bound))) throw new Error(`ColorJitter: bound must be a positive number, got ${options.bound}`);
  }

  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    const c = context(ctx);
    const [n, ch] = nchw(x, this.name);
    const kinds = (Object.keys(this.ranges) as Adjust[]).sort();
    if (!c.training || kinds.length === 0) return x;
    if (this.ranges.saturation && ch !== 3) throw new Error(`ColorJitter: saturation needs 3-channel images, got a batch of ${ch} channel(s) [${x.shape.join(', ')}]`);
    if (ch !== 1 && ch !== 3) throw new Error(`ColorJitter: expected 1- or 3-channel images, got ${ch} channels [${x.shape.join(', ')}]`);
    const plans = Array.from({ length: n }, (_, s) => {
      const rng = sampleRng(c, s);
      const order = rng.shuffle([...kinds]);
      return order.map((k) => [k, uniformIn(rng, this.ranges[k]![0], this.ranges[k]![1])] as [Adjust, number]);
    });
    return adjustColors(x, plans, this.bound);
  }
}

/** Image s of the batch with plans[s]'s adjustments applied in order (a new temporary). */
export function adjustColors(x: Tensor, plans: readonly (readonly [Adjust, number])[][], bound = 1): Tensor {
  const [n, ch, h, w] = nchw(x, 'adjustColors');
  const out = Tensor.empty(x.shape, 'float32', true);
  const d = out.f32;
  d.set(x.f32);
  const plane = h * w;
  const clamp = (v: number) => (v < 0 ? 0 : v > bound ? bound : v);
  // Math.fround keeps each step in float32, as torchvision computes on float32 tensors.
  const gray = (base: number, p: number) => (ch === 3 ? Math.fround(0.2989 * d[base + p] + 0.587 * d[base + plane + p] + 0.114 * d[base + 2 * plane + p]) : d[base + p]);
  for (let s = 0; s < n; s++) {
    const base = s * ch * plane;
    const img = d.subarray(base, base + ch * plane);
    for (const [kind, f] of plans[s]) {
      if (kind === 'brightness') {
        for (let i = 0; i < img.length; i++) img[i] = clamp(f * img[i]);
      } else if (kind === 'contrast') {
        let m = 0;
        for (let p = 0; p < plane; p++) m += gray(base, p);
        m /= plane;
        for (let i = 0; i < img.length; i++) img[i] = clamp(f * img[i] + (1 - f) * m);
      } else {
        const g = Float32Array.from({ length: plane }, (_, p) => gray(base, p));
        for (let k = 0; k < ch; k++) for (let p = 0; p < plane; p++) img[k * plane + p] = clamp(f * img[k * plane + p] + (1 - f) * g[p]);
      }
    }
  }
  return out;
}
