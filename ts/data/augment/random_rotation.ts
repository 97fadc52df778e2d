/**
 * torchvision's RandomRotation(degrees): each image of an [N, C, H, W] (or [N, H, W]) batch
 * turns by an angle drawn uniformly from [-degrees, degrees] (or the given [min, max]),
 * counter-clockwise for positive angles, about the image centre, keeping its size; pixels
 * that come from outside the image take `fill`. `interpolation` 'nearest' (torchvision's
 * default) or 'bilinear' (torch's grid_sample with align_corners=False, as torchvision uses
 * for tensors). Training only (eval returns the input); seeded per sample (sample_rng.ts).
 */
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../util/options.js';
import { context, nchw, type BatchTransform, type TransformContext } from '../transforms.js';
import { rangeOf, sampleRng, uniformIn } from './sample_rng.js';

export interface RandomRotationOptions {
  /** 'nearest' (default) or 'bilinear'. */
  interpolation?: 'nearest' | 'bilinear';
  /** Value of pixels rotated in from outside (default 0). */
  fill?: number;
}

export class RandomRotation implements BatchTransform {
  readonly name = 'RandomRotation';
  /** Random augmentation: acts in training mode only (DataLoader warns when it would be off). */
  readonly random = true;
  readonly degrees: [number, number];
  readonly interpolation: 'nearest' | 'bilinear';
  readonly fill: number;

  constructor(degrees: number | readonly [number, number], options: RandomRotationOptions = {}) {
    checkOptions('RandomRotation', options, ['interpolation', 'fill']);
    this.degrees = rangeOf(degrees, 'RandomRotation', 'degrees', false);
    this.interpolation = options.interpolation ?? 'nearest';
    if (this.interpolation !== 'nearest' && this.interpolation !== 'bilinear') {
      throw new Error(`RandomRotation: interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(options.interpolation)}`);
    }
    this.fill = options.fill ?? 0;
    if (!Number.isFinite(this.fill)) throw new Error(`RandomRotation: fill must be a finite number, got ${options.fill}`);
  }

  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    const c = context(ctx);
    const [n] = nchw(x, this.name);
    if (!c.training) return x;
    const angles = Array.from({ length: n }, (_, s) => uniformIn(sampleRng(c, s), this.degrees[0], this.degrees[1]));
    return rotate(x, angles, this.interpolation, this.fill);
  }
}

/** Each image s of the batch rotated by angles[s] degrees (counter-clockwise), as a new temporary. */
export function rotate(x: Tensor, angles: readonly number[], interpolation: 'nearest' | 'bilinear' = 'nearest', fill = 0): Tensor {
  const [n, ch, h, w] = nchw(x, 'rotate');
  if (angles.length !== n) throw new Error(`rotate: ${angles.length} angles for a batch of ${n}`);
  const out = Tensor.empty(x.shape, 'float32', true);
  const src = x.f32;
  const dst = out.f32;
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const plane = h * w;
  for (let s = 0; s < n; s++) {
    const t = (angles[s] * Math.PI) / 180;
    const cos = Math.cos(t);
    const sin = Math.sin(t);
    for (let k = 0; k < ch; k++) {
      const base = (s * ch + k) * plane;
      const at = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[base + yy * w + xx] : fill);
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          // The source of output pixel (i, j): the inverse rotation about the centre (y down).
          const dx = j - cx;
          const dy = i - cy;
          const sx = cos * dx - sin * dy + cx;
          const sy = sin * dx + cos * dy + cy;
          let v: number;
          if (interpolation === 'nearest') {
            v = at(Math.round(sy), Math.round(sx));
          } else {
            const x0 = Math.floor(sx);
            const y0 = Math.floor(sy);
            const fx = sx - x0;
            const fy = sy - y0;
            v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
          }
          dst[base + i * w + j] = v;
        }
      }
    }
  }
  return out;
}
