/**
 * Batch transforms in the style of torchvision.transforms, run by the WASM core on a whole
 * NCHW batch at once (`[N, C, H, W]`, or `[N, H, W]` read as one channel).
 *
 * Training only: random transforms act only when `ctx.training` is true. A DataLoader
 * passes `training` from its own mode (`loader.train()` / `loader.eval()`; by default a
 * loader that shuffles is a training loader), so one pipeline serves both: in eval mode the
 * flips and translations are the identity and RandomCrop takes the centre crop (the identity
 * when the crop is the image size, the usual padded-crop case). Normalize and ToTensor act
 * in both modes.
 *
 * Reproducible: a random transform's choices for sample s of a batch are a hash of
 * (seed, epoch, batch index, the transform's position in its Compose, s), computed in the
 * core, so they do not depend on thread count, batch order or what ran before.
 *
 * Every transform returns a new temporary tensor (or its input unchanged when it does
 * nothing) and never writes to its input.
 */
import { wasm } from '../runtime/wasm.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { DEFAULT_SEED } from './random.js';
import { f32View, withScratch } from './util.js';
import { checkNumberOption, checkOptions } from '../util/options.js';

export interface TransformContext {
  /** Random transforms act only in training. Default true when called directly. */
  training: boolean;
  seed: number;
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  /** Distinguishes transforms of one pipeline (Compose sets it). */
  salt: number;
}

export interface BatchTransform {
  readonly name: string;
  /** True for random augmentation, which acts only in training mode (see DataLoader). */
  readonly random?: boolean;
  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor;
}

export function context(ctx: Partial<TransformContext> | undefined): TransformContext {
  return {
    training: ctx?.training ?? true,
    seed: (ctx?.seed ?? DEFAULT_SEED) >>> 0,
    epoch: (ctx?.epoch ?? 0) >>> 0,
    batch: (ctx?.batch ?? 0) >>> 0,
    salt: (ctx?.salt ?? 0) >>> 0,
  };
}

/** [N, C, H, W] of an image batch; [N, H, W] counts as one channel. */
export function nchw(x: Tensor, where: string): [number, number, number, number] {
  if (x.dtype !== 'float32') throw new Error(`${where}: expected a float32 image batch, got ${x.dtype}`);
  if (x.ndim === 4) return [x.shape[0], x.shape[1], x.shape[2], x.shape[3]];
  if (x.ndim === 3) return [x.shape[0], 1, x.shape[1], x.shape[2]];
  throw new Error(`${where}: expected an image batch [N, C, H, W] or [N, H, W], got ${shapeStr(x.shape)}`);
}

function checkProb(p: number, where: string): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`${where}: p must be in [0, 1], got ${p}`);
  return p;
}

function pair(v: number | readonly [number, number], where: string, what: string): [number, number] {
  const [a, b] = typeof v === 'number' ? [v, v] : v;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0) throw new Error(`${where}: ${what} must be non-negative integers, got ${v}`);
  return [a, b];
}

/** Names of the random transforms in `t` (Compose looked into), for messages. */
export function randomTransformNames(t: BatchTransform | null): string[] {
  if (!t) return [];
  if (t instanceof Compose) return t.transforms.flatMap(randomTransformNames);
  return t.random === true ? [t.name] : [];
}

/** Applies transforms in order (torchvision's Compose); each gets its own random stream. */
export class Compose implements BatchTransform {
  readonly name = 'Compose';
  readonly transforms: BatchTransform[];
  constructor(transforms: BatchTransform[]) {
    if (!Array.isArray(transforms)) throw new TypeError(`Compose: expected an array of transforms, got ${typeof transforms}`);
    transforms.forEach((t, i) => {
      if (!t || typeof (t as BatchTransform).apply !== 'function') throw new TypeError(`Compose: transforms[${i}] is not a transform (no apply method)`);
    });
    this.transforms = [...transforms];
  }
  get random(): boolean {
    return this.transforms.some((t) => t.random === true);
  }
  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    const c = context(ctx);
    let y = x;
    this.transforms.forEach((t, i) => {
      y = t.apply(y, { ...c, salt: (Math.imul(c.salt, 131) + i + 1) >>> 0 });
    });
    return y;
  }
}

/**
 * torchvision's RandomCrop(size, padding): zero-pads (or `fill`s) each side by `padding`,
 * then cuts a `size` window at a uniformly random position. In eval mode: the centre crop of
 * the unpadded image (the identity when size equals the image size).
 */
export class RandomCrop implements BatchTransform {
  readonly name = 'RandomCrop';
  readonly random = true;
  readonly size: [number, number];
  readonly padding: number;
  readonly fill: number;
  constructor(size: number | readonly [number, number], padding = 0, options: { fill?: number } = {}) {
    this.size = pair(size, 'RandomCrop', 'size');
    if (!Number.isInteger(padding) || padding < 0) throw new Error(`RandomCrop: padding must be a non-negative integer, got ${padding}`);
    this.padding = padding;
    checkOptions('RandomCrop', options, ['fill']);
    this.fill = checkNumberOption('RandomCrop', 'fill', options?.fill ?? 0);
  }
  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    const c = context(ctx);
    const [n, ch, h, w] = nchw(x, 'RandomCrop');
    const [oh, ow] = this.size;
    const p = this.padding;
    if (oh > h + 2 * p || ow > w + 2 * p) {
      throw new Error(`RandomCrop: crop ${oh}x${ow} is larger than the padded image ${h + 2 * p}x${w + 2 * p}`);
    }
    const shape = x.ndim === 4 ? [n, ch, oh, ow] : [n, oh, ow];
    if (!c.training) {
      if (oh === h && ow === w) return x;
      if (oh > h || ow > w) throw new Error(`RandomCrop (eval): crop ${oh}x${ow} is larger than the image ${h}x${w}`);
      return CenterCrop.crop(x, [n, ch, h, w], shape, oh, ow);
    }
    const out = Tensor.empty(shape, 'float32', true);
    wasm().tread_data_random_crop(x.ptr, n, ch, h, w, out.ptr, oh, ow, p, this.fill, c.seed, c.epoch, c.batch, c.salt);
    return out;
  }
}

/** The central `size` window (both modes). */
export class CenterCrop implements BatchTransform {
  readonly name = 'CenterCrop';
  readonly size: [number, number];
  constructor(size: number | readonly [number, number]) {
    this.size = pair(size, 'CenterCrop', 'size');
  }
  apply(x: Tensor): Tensor {
    const [n, ch, h, w] = nchw(x, 'CenterCrop');
    const [oh, ow] = this.size;
    if (oh > h || ow > w) throw new Error(`CenterCrop: crop ${oh}x${ow} is larger than the image ${h}x${w}`);
    if (oh === h && ow === w) return x;
    return CenterCrop.crop(x, [n, ch, h, w], x.ndim === 4 ? [n, ch, oh, ow] : [n, oh, ow], oh, ow);
  }
  /** The window at the centre (torchvision's rounding of the offsets). */
  static crop(x: Tensor, [n, ch, h, w]: number[], shape: number[], oh: number, ow: number): Tensor {
    // torchvision rounds the centre offset: top = round((h - oh) / 2).
    const top = Math.round((h - oh) / 2);
    const left = Math.round((w - ow) / 2);
    // A fixed window: row copies between views of wasm memory (eval-time only, cheap).
    const out = Tensor.empty(shape, 'float32', true);
    const src = x.f32;
    const dst = out.f32;
    for (let i = 0; i < n * ch; i++) {
      for (let y = 0; y < oh; y++) {
        const s = i * h * w + (top + y) * w + left;
        dst.set(src.subarray(s, s + ow), i * oh * ow + y * ow);
      }
    }
    return out;
  }
}

/** Mirrors each image left-right with probability p (training only). */
export class RandomHorizontalFlip implements BatchTransform {
  readonly random = true;
  readonly name = 'RandomHorizontalFlip';
  readonly p: number;
  constructor(p = 0.5) {
    this.p = checkProb(p, 'RandomHorizontalFlip');
  }
  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    return flip(x, ctx, this.p, true, this.name);
  }
}

/** Mirrors each image top-bottom with probability p (training only). */
export class RandomVerticalFlip implements BatchTransform {
  readonly random = true;
  readonly name = 'RandomVerticalFlip';
  readonly p: number;
  constructor(p = 0.5) {
    this.p = checkProb(p, 'RandomVerticalFlip');
  }
  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    return flip(x, ctx, this.p, false, this.name);
  }
}

function flip(x: Tensor, ctx: Partial<TransformContext> | undefined, p: number, horizontal: boolean, where: string): Tensor {
  const c = context(ctx);
  const [n, ch, h, w] = nchw(x, where);
  if (!c.training || p === 0) return x;
  const out = Tensor.empty(x.shape, 'float32', true);
  wasm().tread_data_random_flip(x.ptr, n, ch, h, w, out.ptr, p, horizontal ? 1 : 0, c.seed, c.epoch, c.batch, c.salt);
  return out;
}

/**
 * Small random translation: each image moves by a uniform whole number of pixels,
 * |dy| <= maxShift[0], |dx| <= maxShift[1] (one number: both), `fill` shifted in. The
 * whole-pixel form of torchvision's RandomAffine(degrees=0, translate=...). Training only.
 */
export class RandomTranslate implements BatchTransform {
  readonly name = 'RandomTranslate';
  readonly maxShift: [number, number];
  readonly fill: number;
  readonly random = true;
  constructor(maxShift: number | readonly [number, number], options: { fill?: number } = {}) {
    checkOptions('RandomTranslate', options, ['fill']);
    this.maxShift = pair(maxShift, 'RandomTranslate', 'maxShift');
    this.fill = checkNumberOption('RandomTranslate', 'fill', options?.fill ?? 0);
  }
  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    const c = context(ctx);
    const [n, ch, h, w] = nchw(x, this.name);
    if (!c.training || (this.maxShift[0] === 0 && this.maxShift[1] === 0)) return x;
    const out = Tensor.empty(x.shape, 'float32', true);
    wasm().tread_data_random_translate(x.ptr, n, ch, h, w, out.ptr, this.maxShift[0], this.maxShift[1], this.fill, c.seed, c.epoch, c.batch, c.salt);
    return out;
  }
}

/** Per-channel affine map `(x - sub[c]) * mul[c]` over [outer, C, inner] (a new temporary). */
export function channelAffine(x: Tensor, outer: number, c: number, inner: number, sub: ArrayLike<number>, mul: ArrayLike<number>): Tensor {
  const out = Tensor.empty(x.shape, 'float32', true);
  withScratch(8 * c, (p) => {
    const s = f32View(p, c);
    const m = f32View(p + 4 * c, c);
    for (let i = 0; i < c; i++) {
      s[i] = sub[i];
      m[i] = mul[i];
    }
    wasm().tread_data_channel_affine(x.ptr, outer, c, inner, p, p + 4 * c, out.ptr);
  });
  return out;
}

/** torchvision's Normalize(mean, std): `(x - mean[c]) / std[c]` per channel (both modes). */
export class Normalize implements BatchTransform {
  readonly name = 'Normalize';
  readonly mean: number[];
  readonly std: number[];
  constructor(mean: number | readonly number[], std: number | readonly number[]) {
    this.mean = typeof mean === 'number' ? [mean] : [...mean];
    this.std = typeof std === 'number' ? [std] : [...std];
    if (this.mean.length !== this.std.length) throw new Error(`Normalize: ${this.mean.length} means but ${this.std.length} stds`);
    for (const s of this.std) if (!(s > 0)) throw new Error(`Normalize: std must be positive, got ${s}`);
  }
  apply(x: Tensor): Tensor {
    const k = this.mean.length;
    if (x.dtype !== 'float32') throw new Error(`Normalize: expected float32, got ${x.dtype}`);
    // One mean/std: any shape. Otherwise channels are dim 1 of [N, C], [N, C, H, W] (or the single channel of [N, H, W]).
    if (k === 1) return channelAffine(x, 1, 1, x.size, this.mean, [1 / this.std[0]]);
    const [n, ch, h, w] = x.ndim === 2 ? [x.shape[0], x.shape[1], 1, 1] : nchw(x, this.name);
    if (k !== ch) throw new Error(`Normalize: ${k} channel means for a batch of ${ch} channels ${shapeStr(x.shape)}`);
    return channelAffine(x, n, ch, h * w, this.mean, this.std.map((s) => 1 / s));
  }
}

/**
 * ToTensor-style scaling of byte values: `x * scale` (default 1/255, so 0..255 -> 0..1),
 * for data held as 0..255 floats. (ImageDataset already applies its scale when gathering,
 * so a pipeline over an ImageDataset does not need it.)
 */
export class ToTensor implements BatchTransform {
  readonly name = 'ToTensor';
  readonly scale: number;
  constructor(scale = 1 / 255) {
    this.scale = scale;
  }
  apply(x: Tensor): Tensor {
    if (x.dtype !== 'float32') throw new Error(`ToTensor: expected float32, got ${x.dtype}`);
    return channelAffine(x, 1, 1, x.size, [0], [this.scale]);
  }
}

/** A plain function as a transform (e.g. a fitted scaler: `Lambda((x) => scaler.transform(x))`). */
export class Lambda implements BatchTransform {
  readonly name = 'Lambda';
  constructor(private readonly fn: (x: Tensor, ctx: TransformContext) => Tensor) {}
  apply(x: Tensor, ctx?: Partial<TransformContext>): Tensor {
    return this.fn(x, context(ctx));
  }
}
