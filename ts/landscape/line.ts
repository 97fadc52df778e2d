/**
 * The loss along the straight line between two parameter sets (Goodfellow, Vinyals & Saxe,
 * "Qualitatively characterizing neural network optimization problems", ICLR 2015):
 *
 *   θ(α) = (1 - α)·θ_from + α·θ_to,   α over [-0.5, 1.5] by default
 *
 * θ_from / θ_to are flat vectors (ParamSpace.read()), e.g. the initial and the trained
 * weights, two checkpoints or two solutions. The model's parameters are restored afterwards.
 */
import type { Module } from '../nn/module.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import type { Evaluator, PointValue } from './evaluate.js';
import { ParamSpace, sub } from './params.js';

export interface LinePathOptions {
  from: ArrayLike<number>;
  to: ArrayLike<number>;
  evaluate: Evaluator;
  /** The α values (default 41 points over [-0.5, 1.5]). */
  alphas?: readonly number[];
}

export interface LinePath {
  alphas: number[];
  values: PointValue[];
}

export function evenly(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [lo];
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

export function linePath(model: Module, options: LinePathOptions): LinePath {
  checkOptions('landscape.linePath', options, ['from', 'to', 'evaluate', 'alphas']);
  const space = new ParamSpace(model);
  space.checkLength(options.from, 'linePath (from)');
  space.checkLength(options.to, 'linePath (to)');
  if (typeof options.evaluate !== 'function') throw new TypeError('landscape.linePath: evaluate must be a function (see landscape.lossEvaluator)');
  const alphas = [...(options.alphas ?? evenly(-0.5, 1.5, 41))];
  alphas.forEach((a, i) => checkNumberOption('landscape.linePath', `alphas[${i}]`, a));
  const saved = space.read();
  const delta = sub(options.to, options.from);
  const values: PointValue[] = [];
  try {
    for (const a of alphas) {
      space.writeCombination(options.from, a, delta);
      values.push(options.evaluate());
    }
  } finally {
    space.write(saved);
  }
  return { alphas, values };
}
