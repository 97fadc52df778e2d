/**
 * Cosine schedules: CosineAnnealingLR (PyTorch 1.13's recursive form, which past tMax
 * keeps oscillating with period 2·tMax) and CosineAnnealingWarmRestarts (SGDR).
 */
import { LRScheduler, checkInt, checkKeys, checkNumber, pymod, type SchedulerOptimizer } from './base.js';

export interface CosineAnnealingLROptions {
  /** Half period, in epochs. */
  tMax: number;
  /** Lowest rate; default 0. */
  etaMin?: number;
  lastEpoch?: number;
}

export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;
  constructor(optimizer: SchedulerOptimizer, options: CosineAnnealingLROptions) {
    checkKeys('CosineAnnealingLR', options, ['tMax', 'etaMin', 'lastEpoch']);
    super(optimizer, options?.lastEpoch ?? -1, 'CosineAnnealingLR');
    this.tMax = checkNumber('CosineAnnealingLR', 'tMax', options?.tMax, { min: 0, minExclusive: true });
    this.etaMin = checkNumber('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0);
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { tMax: T, etaMin: m, lastEpoch: e } = this;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => m + ((b - m) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if (pymod(e - 1 - T, 2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - m) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - m) + m);
  }
  protected override closedFormLr(): number[] {
    const { tMax: T, etaMin: m, lastEpoch: e } = this;
    return this.baseLrs.map((b) => m + ((b - m) * (1 + Math.cos((Math.PI * e) / T))) / 2);
  }
}

export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs until the first restart (PyTorch's `T_0`; tread's rule: PyTorch's names in camelCase). */
  t0: number;
  /** Each period is tMult times the previous one (integer >= 1); default 1. */
  tMult?: number;
  /** Lowest rate; default 0. */
  etaMin?: number;
  lastEpoch?: number;
}

export class CosineAnnealingWarmRestarts extends LRScheduler {
  t0: number;
  tMult: number;
  etaMin: number;
  /** Length of the current period. */
  tI: number;
  /** Epochs since the last restart. */
  tCur: number;
  constructor(optimizer: SchedulerOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    const name = 'CosineAnnealingWarmRestarts';
    checkKeys(name, options, ['t0', 'tMult', 'etaMin', 'lastEpoch']);
    super(optimizer, options?.lastEpoch ?? -1, name);
    this.t0 = checkInt(name, 't0', options?.t0, 1);
    this.tMult = checkInt(name, 'tMult', options.tMult ?? 1, 1);
    this.etaMin = checkNumber(name, 'etaMin', options.etaMin ?? 0);
    this.tI = this.t0;
    this.tCur = this.lastEpoch;
    this.stateKeys = ['tI', 'tCur'];
    this.initialStep();
  }
  protected getLr(): number[] {
    const { etaMin: m, tCur, tI } = this;
    return this.baseLrs.map((b) => m + ((b - m) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2);
  }
  /** One epoch on (or, with `epoch`, to that epoch; fractional epochs are allowed here). */
  override step(epoch?: number): void {
    this.stepCount++;
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (!(epoch >= 0)) throw new Error(`CosineAnnealingWarmRestarts: expected a non-negative epoch, got ${epoch}`);
      if (epoch >= this.t0) {
        if (this.tMult === 1) this.tCur = epoch % this.t0;
        else {
          const n = Math.floor(Math.log((epoch / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = epoch - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
          this.tI = this.t0 * this.tMult ** n;
        }
      } else {
        this.tI = this.t0;
        this.tCur = epoch;
      }
    }
    this.lastEpoch = Math.floor(epoch);
    const values = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
}
