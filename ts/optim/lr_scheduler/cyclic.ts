/**
 * Per-batch cyclical schedules that also cycle momentum (SGD's `momentum`, or `betas[0]` for
 * Adam-style optimizers) inversely to the rate: OneCycleLR and CyclicLR (PyTorch 1.13).
 * Step them once per batch.
 */
import {
  LRScheduler,
  checkInt,
  checkKeys,
  checkNumber,
  getMomentum,
  momentumKind,
  perGroup,
  setMomentum,
  type SchedulerOptimizer,
} from './base.js';

export interface OneCycleLROptions {
  /** Peak rate (or one per param group). */
  maxLr: number | number[];
  /** Total number of steps; or give epochs and stepsPerEpoch. */
  totalSteps?: number | null;
  epochs?: number | null;
  stepsPerEpoch?: number | null;
  /** Fraction of the cycle spent increasing the rate; default 0.3. */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum / beta1 inversely to the rate; default true. */
  cycleMomentum?: boolean;
  /** Default 0.85. */
  baseMomentum?: number | number[];
  /** Default 0.95. */
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor; default 25. */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor; default 1e4. */
  finalDivFactor?: number;
  /** Use a third phase that annihilates the rate (fast.ai style); default false. */
  threePhase?: boolean;
  lastEpoch?: number;
}

type Key = 'initialLr' | 'maxLr' | 'minLr' | 'maxMomentum' | 'baseMomentum';
interface Phase {
  endStep: number;
  startLr: Key;
  endLr: Key;
  startMomentum: Key;
  endMomentum: Key;
}

const annealCos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
const annealLinear = (start: number, end: number, pct: number) => (end - start) * pct + start;

/** The cycle's phases: each anneals from its start to its end over (previous endStep, endStep]. */
function planPhases(pct: number, totalSteps: number, threePhase: boolean): Phase[] {
  return threePhase
    ? [
        { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
        { endStep: 2 * pct * totalSteps - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        { endStep: totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
      ]
    : [
        { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
        { endStep: totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
      ];
}

/**
 * A phase that ends where it starts would anneal by 0/0 (NaN learning rate); PyTorch raises a
 * ZeroDivisionError there. Refused up front, before the optimizer is touched.
 */
function checkPhaseLengths(phases: Phase[], pct: number, totalSteps: number): void {
  let start = 0;
  phases.forEach((p, i) => {
    if (p.endStep - start === 0) {
      throw new Error(
        `OneCycleLR: phase ${i + 1} of ${phases.length} has zero length (pctStart ${pct} x totalSteps ${totalSteps}: it would start and end at step ${start}, ` +
          'and its learning rate would be 0/0 = NaN; PyTorch raises ZeroDivisionError here). Use another pctStart or more steps.',
      );
    }
    start = p.endStep;
  });
}

export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  phases: Phase[];
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  /** Per group: initialLr, maxLr, minLr (and maxMomentum, baseMomentum when cycling). */
  groupValues: Record<Key, number>[];
  private momentum: 'momentum' | 'beta1' | null;

  constructor(optimizer: SchedulerOptimizer, options: OneCycleLROptions) {
    const name = 'OneCycleLR';
    checkKeys(name, options, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase', 'lastEpoch']);
    if (!options) throw new Error(`${name}: options with maxLr are required`);
    const lastEpoch = options.lastEpoch ?? -1;
    let totalSteps: number;
    if (options.totalSteps != null) totalSteps = checkInt(name, 'totalSteps', options.totalSteps, 1);
    else if (options.epochs != null && options.stepsPerEpoch != null) {
      totalSteps = checkInt(name, 'epochs', options.epochs, 1) * checkInt(name, 'stepsPerEpoch', options.stepsPerEpoch, 1);
    } else throw new Error(`${name}: give either totalSteps or (epochs and stepsPerEpoch)`);
    const pct = checkNumber(name, 'pctStart', options.pctStart ?? 0.3, { min: 0, max: 1 });
    const phases = planPhases(pct, totalSteps, options.threePhase ?? false);
    checkPhaseLengths(phases, pct, totalSteps);
    const strategy = options.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear') throw new Error(`${name}: annealStrategy must be 'cos' or 'linear', got '${String(strategy)}'`);
    const divFactor = checkNumber(name, 'divFactor', options.divFactor ?? 25, { min: 0, minExclusive: true });
    const finalDivFactor = checkNumber(name, 'finalDivFactor', options.finalDivFactor ?? 1e4, { min: 0, minExclusive: true });
    if (options.maxLr === undefined) throw new Error(`${name}: maxLr is required`);
    const maxLrs = perGroup(name, 'maxLr', optimizer, options.maxLr);
    const cycle = options.cycleMomentum ?? true;
    const kind = cycle ? momentumKind(optimizer) : null;
    if (cycle && kind === null) throw new Error(`${name}: cycleMomentum needs an optimizer with momentum or betas (or pass cycleMomentum: false)`);
    const maxMs = perGroup(name, 'maxMomentum', optimizer, options.maxMomentum ?? 0.95);
    const baseMs = perGroup(name, 'baseMomentum', optimizer, options.baseMomentum ?? 0.85);
    if (lastEpoch === -1) {
      optimizer.paramGroups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / divFactor;
        if (kind) setMomentum(g, kind, maxMs[i]);
      });
    }
    super(optimizer, lastEpoch, name);
    this.totalSteps = totalSteps;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycle;
    this.momentum = kind;
    this.groupValues = optimizer.paramGroups.map((g, i) => ({
      initialLr: g.initialLr as number,
      maxLr: maxLrs[i],
      minLr: (g.initialLr as number) / finalDivFactor,
      maxMomentum: maxMs[i],
      baseMomentum: baseMs[i],
    }));
    this.phases = phases;
    this.stateKeys = ['totalSteps', 'phases', 'annealStrategy', 'cycleMomentum', 'groupValues'];
    this.initialStep();
  }

  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) {
      throw new Error(`OneCycleLR: tried to step ${step} times; totalSteps is ${this.totalSteps}`);
    }
    const anneal = this.annealStrategy === 'cos' ? annealCos : annealLinear;
    return this.optimizer.paramGroups.map((g, gi) => {
      const v = this.groupValues[gi];
      let start = 0;
      let lr = NaN;
      for (let i = 0; i < this.phases.length; i++) {
        const p = this.phases[i];
        if (step <= p.endStep || i === this.phases.length - 1) {
          const pct = (step - start) / (p.endStep - start);
          lr = anneal(v[p.startLr], v[p.endLr], pct);
          if (this.cycleMomentum && this.momentum) setMomentum(g, this.momentum, anneal(v[p.startMomentum], v[p.endMomentum], pct));
          break;
        }
        start = p.endStep;
      }
      return lr;
    });
  }
}

export interface CyclicLROptions {
  /** Lower bound of the cycle (or one per group); also the rate set at construction. */
  baseLr: number | number[];
  /** Upper bound of the cycle (or one per group). */
  maxLr: number | number[];
  /** Steps in the increasing half; default 2000. */
  stepSizeUp?: number;
  /** Steps in the decreasing half; default stepSizeUp. */
  stepSizeDown?: number | null;
  /** 'triangular' (default), 'triangular2' (halve the amplitude each cycle), 'exp_range' (gamma^iterations). */
  mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** For exp_range; default 1. */
  gamma?: number;
  /** A custom amplitude scale (overrides mode). */
  scaleFn?: ((x: number) => number) | null;
  /** What scaleFn gets: the cycle number ('cycle', default) or the step count ('iterations'). */
  scaleMode?: 'cycle' | 'iterations';
  /** Default true. */
  cycleMomentum?: boolean;
  /** Default 0.8. */
  baseMomentum?: number | number[];
  /** Default 0.9. */
  maxMomentum?: number | number[];
  lastEpoch?: number;
}

export class CyclicLR extends LRScheduler {
  maxLrs: number[];
  totalSize: number;
  stepRatio: number;
  mode: string;
  gamma: number;
  scaleMode: 'cycle' | 'iterations';
  cycleMomentum: boolean;
  baseMomentums: number[];
  maxMomentums: number[];
  private readonly scaleFn: (x: number) => number;
  private momentum: 'momentum' | 'beta1' | null;

  constructor(optimizer: SchedulerOptimizer, options: CyclicLROptions) {
    const name = 'CyclicLR';
    checkKeys(name, options, ['baseLr', 'maxLr', 'stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'scaleFn', 'scaleMode', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'lastEpoch']);
    if (!options) throw new Error(`${name}: options with baseLr and maxLr are required`);
    const lastEpoch = options.lastEpoch ?? -1;
    if (options.baseLr === undefined) throw new Error(`${name}: baseLr is required`);
    if (options.maxLr === undefined) throw new Error(`${name}: maxLr is required`);
    const baseLrs = perGroup(name, 'baseLr', optimizer, options.baseLr);
    const maxLrs = perGroup(name, 'maxLr', optimizer, options.maxLr);
    const up = checkNumber(name, 'stepSizeUp', options.stepSizeUp ?? 2000, { min: 0, minExclusive: true });
    const down = checkNumber(name, 'stepSizeDown', options.stepSizeDown ?? up, { min: 0, minExclusive: true });
    const mode = options.mode ?? 'triangular';
    if (!['triangular', 'triangular2', 'exp_range'].includes(mode) && options.scaleFn == null) {
      throw new Error(`${name}: mode must be 'triangular', 'triangular2' or 'exp_range' (or give scaleFn), got '${String(mode)}'`);
    }
    const gamma = checkNumber(name, 'gamma', options.gamma ?? 1, { min: 0 });
    const cycle = options.cycleMomentum ?? true;
    const kind = cycle ? momentumKind(optimizer) : null;
    if (cycle && kind === null) throw new Error(`${name}: cycleMomentum needs an optimizer with momentum or betas (or pass cycleMomentum: false)`);
    const baseMs = cycle ? perGroup(name, 'baseMomentum', optimizer, options.baseMomentum ?? 0.8) : [];
    const maxMs = cycle ? perGroup(name, 'maxMomentum', optimizer, options.maxMomentum ?? 0.9) : [];
    if (lastEpoch === -1) {
      optimizer.paramGroups.forEach((g, i) => {
        g.lr = baseLrs[i];
        if (kind) setMomentum(g, kind, baseMs[i]);
      });
    }
    super(optimizer, lastEpoch, name);
    this.baseLrs = baseLrs;
    this.maxLrs = maxLrs;
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.mode = mode;
    this.gamma = gamma;
    this.cycleMomentum = cycle;
    this.momentum = kind;
    this.baseMomentums = kind ? optimizer.paramGroups.map((g) => getMomentum(g, kind)) : [];
    this.maxMomentums = maxMs;
    // scaleFn null is PyTorch's default (None): then mode decides, and scaleMode is ignored as in PyTorch.
    if (options.scaleFn != null) {
      if (typeof options.scaleFn !== 'function') throw new Error(`${name}: scaleFn must be a function`);
      this.scaleFn = options.scaleFn;
      this.scaleMode = options.scaleMode ?? 'cycle';
      if (this.scaleMode !== 'cycle' && this.scaleMode !== 'iterations') throw new Error(`${name}: scaleMode must be 'cycle' or 'iterations', got '${String(this.scaleMode)}'`);
    } else if (mode === 'triangular') {
      this.scaleFn = () => 1;
      this.scaleMode = 'cycle';
    } else if (mode === 'triangular2') {
      this.scaleFn = (x) => 1 / 2 ** (x - 1);
      this.scaleMode = 'cycle';
    } else {
      this.scaleFn = (x) => this.gamma ** x;
      this.scaleMode = 'iterations';
    }
    this.stateKeys = ['maxLrs', 'totalSize', 'stepRatio', 'mode', 'gamma', 'scaleMode', 'cycleMomentum', 'baseMomentums', 'maxMomentums'];
    this.initialStep();
  }

  protected getLr(): number[] {
    const e = this.lastEpoch;
    const cycle = Math.floor(1 + e / this.totalSize);
    const x = 1 + e / this.totalSize - cycle;
    const scale = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const s = this.scaleFn(this.scaleMode === 'cycle' ? cycle : e);
    const lrs = this.baseLrs.map((b, i) => b + (this.maxLrs[i] - b) * scale * s);
    if (this.cycleMomentum && this.momentum) {
      const kind = this.momentum;
      this.optimizer.paramGroups.forEach((g, i) => {
        const base = this.baseMomentums[i];
        const max = this.maxMomentums[i];
        setMomentum(g, kind, max - (max - base) * scale * s);
      });
    }
    return lrs;
  }
}
