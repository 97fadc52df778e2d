/**
 * ReduceLROnPlateau (PyTorch 1.13): multiplies the rate by `factor` when a monitored metric
 * has not improved for more than `patience` epochs. Call `step(metric)` once per epoch.
 */
import { checkInt, checkKeys, checkNumber, checkOptimizer, perGroup, type SchedulerOptimizer, type SchedulerState } from './base.js';
import { fromPyTorchState, isPyTorchSchedulerState } from './pytorch_state.js';

export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** New rate = rate * factor, factor < 1; default 0.1. */
  factor?: number;
  /** Epochs without improvement tolerated before reducing; default 10. */
  patience?: number;
  /** Smallest change that counts as an improvement; default 1e-4. */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again; default 0. */
  cooldown?: number;
  /** Lower bound on the rate (or one per group); default 0. */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped; default 1e-8. */
  eps?: number;
}

export class ReduceLROnPlateau {
  readonly optimizer: SchedulerOptimizer;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLrs: number[];
  eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: SchedulerOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const name = 'ReduceLROnPlateau';
    checkKeys(name, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    checkOptimizer(name, optimizer);
    this.optimizer = optimizer;
    this.factor = checkNumber(name, 'factor', options.factor ?? 0.1, { min: 0, max: 1, maxExclusive: true });
    this.minLrs = perGroup(name, 'minLr', optimizer, options.minLr ?? 0);
    this.patience = checkInt(name, 'patience', options.patience ?? 10, 0);
    this.cooldown = checkInt(name, 'cooldown', options.cooldown ?? 0, 0);
    this.threshold = checkNumber(name, 'threshold', options.threshold ?? 1e-4, { min: 0 });
    this.eps = checkNumber(name, 'eps', options.eps ?? 1e-8, { min: 0 });
    const mode = options.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max') throw new Error(`${name}: mode must be 'min' or 'max', got '${String(mode)}'`);
    const tm = options.thresholdMode ?? 'rel';
    if (tm !== 'rel' && tm !== 'abs') throw new Error(`${name}: thresholdMode must be 'rel' or 'abs', got '${String(tm)}'`);
    this.mode = mode;
    this.thresholdMode = tm;
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `a` improves on `best` by more than the threshold. */
  isBetter(a: number, best: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (t + 1) : a > best + t;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Records this epoch's metric (a NaN metric counts as no improvement). */
  step(metric?: number): void {
    if (typeof metric !== 'number') throw new Error(`ReduceLROnPlateau: step(metric) needs the monitored metric as a number, got ${String(metric)}`);
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const old = g.lr;
      const next = Math.max(old * this.factor, this.minLrs[i]);
      if (old - next > this.eps) g.lr = next;
    });
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerState {
    return {
      scheduler: 'ReduceLROnPlateau',
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      minLrs: this.minLrs.slice(),
      eps: this.eps,
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLr.slice(),
    };
  }

  loadStateDict(state: SchedulerState): void {
    if (state.scheduler !== undefined && state.scheduler !== 'ReduceLROnPlateau') throw new Error(`ReduceLROnPlateau: loadStateDict got the state of a ${String(state.scheduler)}`);
    const keys = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLrs', 'eps', 'best', 'numBadEpochs', 'cooldownCounter', 'lastEpoch', 'lastLr'];
    if (isPyTorchSchedulerState(state)) state = fromPyTorchState('ReduceLROnPlateau', this, state, keys, this.optimizer.paramGroups.length);
    const self = this as unknown as Record<string, unknown>;
    for (const k of keys) {
      if (k in state) self[k] = Array.isArray(state[k]) ? (state[k] as number[]).slice() : state[k];
    }
    // JSON turns ±Infinity into null: a missing best means "nothing seen yet".
    if (typeof this.best !== 'number') this.best = this.modeWorse;
  }
}
