/**
 * Schedules that multiply the rate by a factor at given epochs: LambdaLR, MultiplicativeLR,
 * StepLR, MultiStepLR, ExponentialLR, LinearLR, ConstantLR, PolynomialLR (PyTorch 1.13's
 * recursive `get_lr`, plus their closed forms for `step(epoch)`).
 */
import { LRScheduler, checkInt, checkKeys, checkNumber, type SchedulerOptimizer } from './base.js';

export type LrLambda = (epoch: number) => number;

function lambdas(name: string, optimizer: SchedulerOptimizer, f: LrLambda | LrLambda[] | undefined): LrLambda[] {
  const n = optimizer.paramGroups.length;
  if (Array.isArray(f)) {
    if (f.length !== n) throw new Error(`${name}: expected ${n} lrLambda functions (one per param group), got ${f.length}`);
    f.forEach((x, i) => {
      if (typeof x !== 'function') throw new Error(`${name}: lrLambda[${i}] must be a function, got ${typeof x}`);
    });
    return f.slice();
  }
  if (typeof f !== 'function') throw new Error(`${name}: lrLambda must be a function (or one per param group), got ${typeof f}`);
  return new Array(n).fill(f);
}

export interface LambdaLROptions {
  /** epoch -> factor of the initial rate; or one function per param group. */
  lrLambda: LrLambda | LrLambda[];
  lastEpoch?: number;
}

/** lr = initialLr * lrLambda(epoch). */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];
  constructor(optimizer: SchedulerOptimizer, options: LambdaLROptions) {
    checkKeys('LambdaLR', options, ['lrLambda', 'lastEpoch']);
    super(optimizer, options?.lastEpoch ?? -1, 'LambdaLR');
    this.lrLambdas = lambdas('LambdaLR', optimizer, options?.lrLambda);
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i](this.lastEpoch));
  }
}

export interface MultiplicativeLROptions {
  /** epoch -> factor applied to the current rate at each step after the first. */
  lrLambda: LrLambda | LrLambda[];
  lastEpoch?: number;
}

/** lr *= lrLambda(epoch) on each step. */
export class MultiplicativeLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];
  constructor(optimizer: SchedulerOptimizer, options: MultiplicativeLROptions) {
    checkKeys('MultiplicativeLR', options, ['lrLambda', 'lastEpoch']);
    super(optimizer, options?.lastEpoch ?? -1, 'MultiplicativeLR');
    this.lrLambdas = lambdas('MultiplicativeLR', optimizer, options?.lrLambda);
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch > 0) return groups.map((g, i) => g.lr * this.lrLambdas[i](this.lastEpoch));
    return groups.map((g) => g.lr);
  }
}

export interface StepLROptions {
  stepSize: number;
  /** Default 0.1. */
  gamma?: number;
  lastEpoch?: number;
}

/** lr = initialLr * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: SchedulerOptimizer, options: StepLROptions) {
    checkKeys('StepLR', options, ['stepSize', 'gamma', 'lastEpoch']);
    super(optimizer, options?.lastEpoch ?? -1, 'StepLR');
    this.stepSize = checkInt('StepLR', 'stepSize', options?.stepSize, 1);
    this.gamma = checkNumber('StepLR', 'gamma', options.gamma ?? 0.1, { min: 0 });
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

export interface MultiStepLROptions {
  /** Epoch indices (increasing) at which the rate is multiplied by gamma. */
  milestones: number[];
  /** Default 0.1. */
  gamma?: number;
  lastEpoch?: number;
}

/** lr = initialLr * gamma^(number of milestones reached). */
export class MultiStepLR extends LRScheduler {
  milestones: number[];
  gamma: number;
  constructor(optimizer: SchedulerOptimizer, options: MultiStepLROptions) {
    checkKeys('MultiStepLR', options, ['milestones', 'gamma', 'lastEpoch']);
    super(optimizer, options?.lastEpoch ?? -1, 'MultiStepLR');
    if (!Array.isArray(options?.milestones)) throw new Error(`MultiStepLR: milestones must be an array of epochs, got ${String(options?.milestones)}`);
    options.milestones.forEach((m, i) => checkInt('MultiStepLR', `milestones[${i}]`, m, 0));
    this.milestones = options.milestones.slice().sort((a, b) => a - b);
    this.gamma = checkNumber('MultiStepLR', 'gamma', options.gamma ?? 0.1, { min: 0 });
    this.stateKeys = ['milestones'];
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (count === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** count);
  }
  protected override closedFormLr(): number[] {
    const reached = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((b) => b * this.gamma ** reached);
  }
}

export interface ExponentialLROptions {
  gamma: number;
  lastEpoch?: number;
}

/** lr = initialLr * gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  gamma: number;
  constructor(optimizer: SchedulerOptimizer, options: ExponentialLROptions) {
    checkKeys('ExponentialLR', options, ['gamma', 'lastEpoch']);
    super(optimizer, options?.lastEpoch ?? -1, 'ExponentialLR');
    this.gamma = checkNumber('ExponentialLR', 'gamma', options?.gamma, { min: 0 });
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

export interface LinearLROptions {
  /** Factor at epoch 0, in (0, 1]; default 1/3. */
  startFactor?: number;
  /** Factor from totalIters on, in [0, 1]; default 1. */
  endFactor?: number;
  /** Default 5. */
  totalIters?: number;
  lastEpoch?: number;
}

/** The factor goes linearly from startFactor to endFactor over totalIters epochs. */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;
  constructor(optimizer: SchedulerOptimizer, options: LinearLROptions = {}) {
    checkKeys('LinearLR', options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    super(optimizer, options.lastEpoch ?? -1, 'LinearLR');
    this.startFactor = checkNumber('LinearLR', 'startFactor', options.startFactor ?? 1 / 3, { min: 0, max: 1, minExclusive: true });
    this.endFactor = checkNumber('LinearLR', 'endFactor', options.endFactor ?? 1, { min: 0, max: 1 });
    this.totalIters = checkInt('LinearLR', 'totalIters', options.totalIters ?? 5, 1);
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr * s);
    if (this.lastEpoch > n) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 + (e - s) / (n * s + (this.lastEpoch - 1) * (e - s))));
  }
  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    return this.baseLrs.map((b) => b * (s + ((e - s) * Math.min(n, this.lastEpoch)) / n));
  }
}

export interface ConstantLROptions {
  /** Factor until totalIters, in [0, 1]; default 1/3. */
  factor?: number;
  /** Default 5. */
  totalIters?: number;
  lastEpoch?: number;
}

/** lr = initialLr * factor for the first totalIters epochs, then initialLr. */
export class ConstantLR extends LRScheduler {
  factor: number;
  totalIters: number;
  constructor(optimizer: SchedulerOptimizer, options: ConstantLROptions = {}) {
    checkKeys('ConstantLR', options, ['factor', 'totalIters', 'lastEpoch']);
    super(optimizer, options.lastEpoch ?? -1, 'ConstantLR');
    this.factor = checkNumber('ConstantLR', 'factor', options.factor ?? 1 / 3, { min: 0, max: 1 });
    this.totalIters = checkInt('ConstantLR', 'totalIters', options.totalIters ?? 5, 0);
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 / this.factor));
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (this.factor + (this.lastEpoch >= this.totalIters ? 1 - this.factor : 0)));
  }
}

export interface PolynomialLROptions {
  /** Default 5. */
  totalIters?: number;
  /** Default 1. */
  power?: number;
  lastEpoch?: number;
}

/** lr = initialLr * (1 - min(epoch, totalIters)/totalIters)^power. */
export class PolynomialLR extends LRScheduler {
  totalIters: number;
  power: number;
  constructor(optimizer: SchedulerOptimizer, options: PolynomialLROptions = {}) {
    checkKeys('PolynomialLR', options, ['totalIters', 'power', 'lastEpoch']);
    super(optimizer, options.lastEpoch ?? -1, 'PolynomialLR');
    this.totalIters = checkInt('PolynomialLR', 'totalIters', options.totalIters ?? 5, 1);
    this.power = checkNumber('PolynomialLR', 'power', options.power ?? 1);
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const n = this.totalIters;
    if (this.lastEpoch === 0 || this.lastEpoch > n) return groups.map((g) => g.lr);
    const decay = ((1 - this.lastEpoch / n) / (1 - (this.lastEpoch - 1) / n)) ** this.power;
    return groups.map((g) => g.lr * decay);
  }
  protected override closedFormLr(): number[] {
    const n = this.totalIters;
    return this.baseLrs.map((b) => b * (1 - Math.min(n, this.lastEpoch) / n) ** this.power);
  }
}
