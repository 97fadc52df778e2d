/**
 * Random directions in parameter space for 2-D loss surfaces, after Li, Xu, Taylor, Studer &
 * Goldstein, "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018):
 *
 *   d ~ N(0, I);  for every filter i of every weight W (a slice along dim 0: a conv filter,
 *   a row of a Linear weight):  d_i <- d_i / ||d_i|| * ||W_i||
 *
 * so that a step of 1 along d changes each filter by its own scale, which makes surfaces of
 * networks with different weight scales (and scale-invariant nets with BatchNorm) comparable.
 * Biases and other 1-D parameters (BatchNorm's weight and bias) are left out (zero), as the
 * paper's `ignore='biasbn'`; `ignore: 'none'` sets them to the parameter itself, as its code.
 */
import type { Module } from '../nn/module.js';
import { Rng } from '../data/random.js';
import { checkOneOf, checkOptions } from '../util/options.js';
import { ParamSpace } from './params.js';

export interface DirectionOptions {
  /** Seed of the Gaussian draw (default 0). */
  seed?: number;
  /** 'filter' (default, Li et al.), 'layer' (one scale per parameter tensor) or 'none'. */
  normalize?: 'filter' | 'layer' | 'none';
  /** 'biasbn' (default): 1-D parameters get zero; 'none': they get their own values. */
  ignore?: 'biasbn' | 'none';
}

const KEYS = ['seed', 'normalize', 'ignore'] as const;

/** A random direction for `model`'s parameters (a flat vector, see ParamSpace). */
export function randomDirection(model: Module, options: DirectionOptions = {}): Float64Array {
  checkOptions('landscape.randomDirection', options, KEYS);
  const space = new ParamSpace(model);
  const rng = new Rng(options.seed ?? 0, 0x6c616e64);
  const d = new Float64Array(space.size);
  for (let i = 0; i < d.length; i++) d[i] = rng.normal();
  return normalizeDirection(model, d, options);
}

/** Scales `d` (in place) per filter, per layer or not at all; returns it. */
export function normalizeDirection(model: Module, d: Float64Array, options: DirectionOptions = {}): Float64Array {
  checkOptions('landscape.normalizeDirection', options, KEYS);
  const mode = checkOneOf('landscape: normalize', 'normalize', options.normalize ?? 'filter', ['filter', 'layer', 'none'] as const);
  const ignore = checkOneOf('landscape: ignore', 'ignore', options.ignore ?? 'biasbn', ['biasbn', 'none'] as const);
  const space = new ParamSpace(model);
  space.checkLength(d, 'normalizeDirection');
  for (const s of space.slices) {
    const w = s.tensor.f32;
    if (s.tensor.ndim <= 1) {
      for (let i = 0; i < w.length; i++) d[s.offset + i] = ignore === 'biasbn' ? 0 : w[i]!;
      continue;
    }
    if (mode === 'none') continue;
    const rows = mode === 'filter' ? s.tensor.shape[0]! : 1;
    const len = w.length / rows;
    for (let r = 0; r < rows; r++) {
      const o = s.offset + r * len;
      let nw = 0;
      let nd = 0;
      for (let i = 0; i < len; i++) {
        nw += w[r * len + i]! * w[r * len + i]!;
        nd += d[o + i]! * d[o + i]!;
      }
      const scale = Math.sqrt(nw) / (Math.sqrt(nd) + 1e-10);
      for (let i = 0; i < len; i++) d[o + i] = d[o + i]! * scale;
    }
  }
  return d;
}
