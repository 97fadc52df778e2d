/**
 * torchvision's RandomResizedCrop(size, {scale, ratio}): for each image, a window covering a
 * fraction of its area drawn from `scale` (default [0.08, 1]) with an aspect ratio (w/h) drawn
 * log-uniformly from `ratio` (default [3/4, 4/3]), at a uniform position (up to 10 tries, then
 * the central crop of the whole image clamped to the ratio range, as torchvision), resized to
 * `size` bilinearly (torch's interpolate, align_corners=False, no antialias). In eval mode every
 * image takes that central fallback crop, so validation sees the same framing every time.
 * Seeded per sample.
 */
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import type { Rng } from '../random.js';
import { context, nchw, type BatchTransform, type TransformContext } from '../transforms.js';
import { sampleRng, uniformIn } from './sample_rng.js';

export interface RandomResizedCropOptions {
  /** Range of the crop's fraction of the image area (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width/height (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
}

/** [top, left, height, width] of a crop. */
export type CropBox = [number, number, number, number];

export class RandomResizedCrop implements BatchTransform {
  readonly name = 'RandomResizedCrop';
  /** Random augmentation: acts in training mode only (DataLoader warns when it would be off). */
  readonly random = true;
  readonly size: [number, number];
  readonly scale: [number, number];
  readonly ratio: [number, number];

  constructor(size: number | readonly [number, number], options: RandomResizedCropOptions = {}) {
    checkOptions('RandomResizedCrop', options, ['scale', 'ratio']);
    const [oh, ow] = typeof size === 'number' ? [size, size] : size;
    if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh < 1 || ow < 1) throw new Error(`RandomResizedCrop: size must be a positive integer or a pair of them, got ${JSON.stringify(size)}`);
    this.size = [oh, ow];
    const range = (v: readonly [number, number] | undefined, dflt: [number, number], what: string): [number, number] => {
      if (v === undefined) return dflt;
      if (!Array.isArray(v) || v.length !== 2 || !(v[0] > 0 && v[0] <= v[1] && Number.isFinite(v[1]))) {
        throw new Error(`RandomResizedCrop: ${what} must be a [min, max] pair with 0 < min <= max, got ${JSON.stringify(v)}`);
      }
      return [v[0], v[1]];
    };
    this.scale = range(options.scale, [0.08, 1], 'scale');
    this.ratio = range(options.ratio, [3 / 4, 4 / 3], 'ratio');
  }

  /** torchvision's get_params: the crop of an h × w image (the central fallback when rng is null). */
  cropBox(h: number, w: number, rng: Rng | null): CropBox {
    const area = h * w;
    const [lr0, lr1] = [Math.log(this.ratio[0]), Math.log(this.ratio[1])];
    for (let attempt = 0; rng && attempt < 10; attempt++) {
      const target = area * uniformIn(rng, this.scale[0], this.scale[1]);
      const aspect = Math.exp(uniformIn(rng, lr0, lr1));
      const cw = Math.round(Math.sqrt(target * aspect));
      const ch = Math.round(Math.sqrt(target / aspect));
      if (cw > 0 && cw <= w && ch > 0 && ch <= h) return [rng.int(h - ch + 1), rng.int(w - cw + 1), ch, cw];
    }
    const inRatio = w / h;
    let [ch, cw] = [h, w];
    if (inRatio < this.ratio[0]) ch = Math.round(w / this.ratio[0]);
    else if (inRatio > this.ratio[1]) cw = Math.round(h * this.ratio[1]);
    return [Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), ch, cw];
  }

  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    const c = context(ctx);
    const [n, , h, w] = nchw(x, this.name);
    const boxes = Array.from({ length: n }, (_, s) => this.cropBox(h, w, c.training ? sampleRng(c, s) : null));
    return resizedCrops(x, boxes, this.size);
  }
}

/** Image s cropped to boxes[s] and resized bilinearly to `size` (align_corners=False), a new temporary. */
export function resizedCrops(x: Tensor, boxes: readonly CropBox[], size: readonly [number, number]): Tensor {
  const [n, ch, h, w] = nchw(x, 'resizedCrops');
  const [oh, ow] = size;
  if (boxes.length !== n) throw new Error(`resizedCrops: ${boxes.length} boxes for a batch of ${n}`);
  const out = Tensor.empty(x.ndim === 4 ? [n, ch, oh, ow] : [n, oh, ow], 'float32', true);
  const src = x.f32;
  const dst = out.f32;
  // Source coordinate of output index i for a length `len` resized to `o`: torch's area_pixel
  // mapping (i + 0.5)·len/o - 0.5, clamped at 0; neighbours i0 and min(i0 + 1, len - 1).
  const taps = (len: number, o: number) =>
    Array.from({ length: o }, (_, i) => {
      const s = Math.max(0, (i + 0.5) * (len / o) - 0.5);
      const i0 = Math.min(Math.floor(s), len - 1);
      return [i0, Math.min(i0 + 1, len - 1), s - i0] as const;
    });
  for (let s = 0; s < n; s++) {
    const [top, left, bh, bw] = boxes[s];
    if (top < 0 || left < 0 || bh < 1 || bw < 1 || top + bh > h || left + bw > w) throw new Error(`resizedCrops: box ${JSON.stringify(boxes[s])} is outside the ${h}x${w} image`);
    const ys = taps(bh, oh);
    const xs = taps(bw, ow);
    for (let k = 0; k < ch; k++) {
      const base = (s * ch + k) * h * w;
      const obase = (s * ch + k) * oh * ow;
      for (let i = 0; i < oh; i++) {
        const [y0, y1, fy] = ys[i];
        const r0 = base + (top + y0) * w + left;
        const r1 = base + (top + y1) * w + left;
        for (let j = 0; j < ow; j++) {
          const [x0, x1, fx] = xs[j];
          dst[obase + i * ow + j] = (1 - fy) * ((1 - fx) * src[r0 + x0] + fx * src[r0 + x1]) + fy * ((1 - fx) * src[r1 + x0] + fx * src[r1 + x1]);
        }
      }
    }
  }
  return out;
}
