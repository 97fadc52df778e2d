/**
 * The learning-rate scheduler base, following PyTorch 1.13's `_LRScheduler`.
 *
 * A scheduler only reads and writes numbers on the optimizer's `paramGroups` (`lr`, and for
 * momentum cycling `momentum` or `betas[0]`), so it works with any object of that shape:
 * tread's optimizers, or a hand-made `{ paramGroups: [{ lr: 0.1 }] }`.
 *
 * Construction performs PyTorch's initial step: it sets `initialLr` on each group (when
 * `lastEpoch` is -1), then sets the rate for epoch 0. Call `step()` once per epoch (or per
 * batch for OneCycleLR / CyclicLR) after `optimizer.step()`.
 */

import { checkOptions } from '../../util/options.js';

/** The part of a param group that schedulers use. */
export interface SchedulerParamGroup {
  lr: number;
  momentum?: number;
  betas?: [number, number] | number[];
  initialLr?: number;
  [k: string]: unknown;
}

/** The part of an optimizer that schedulers use. */
export interface SchedulerOptimizer {
  paramGroups: SchedulerParamGroup[];
  /** Optional: the optimizer's default options (used to see whether it has momentum/betas). */
  defaults?: Record<string, unknown>;
}

/** A plain, JSON-serialisable snapshot of a scheduler. */
export type SchedulerState = Record<string, unknown>;

import { fromPyTorchState, isPyTorchSchedulerState } from './pytorch_state.js';

// ---- option checking ----

/**
 * Throws when `options` holds a key the scheduler does not know, with a "did you mean" hint
 * that names the camelCase option for PyTorch's spelling (`step_size` -> `stepSize`, `T_0` -> `t0`).
 */
export function checkKeys(name: string, options: object | undefined, allowed: readonly string[]): void {
  checkOptions(name, options, allowed);
}

export function checkNumber(name: string, option: string, v: unknown, { min, max, minExclusive, maxExclusive }: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {}): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`${name}: ${option} must be a number, got ${String(v)}`);
  if (min !== undefined && (minExclusive ? !(v > min) : !(v >= min))) {
    throw new Error(`${name}: ${option} must be ${minExclusive ? '>' : '>='} ${min}, got ${v}`);
  }
  if (max !== undefined && (maxExclusive ? !(v < max) : !(v <= max))) {
    throw new Error(`${name}: ${option} must be ${maxExclusive ? '<' : '<='} ${max}, got ${v}`);
  }
  return v;
}

export function checkInt(name: string, option: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${name}: ${option} must be an integer, got ${String(v)}`);
  if (v < min) throw new Error(`${name}: ${option} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** A scalar for every group, or one value per group (PyTorch's `_format_param`). */
export function perGroup(name: string, option: string, optimizer: SchedulerOptimizer, v: number | readonly number[]): number[] {
  const n = optimizer.paramGroups.length;
  if (Array.isArray(v)) {
    if (v.length !== n) throw new Error(`${name}: expected ${n} values for ${option} (one per param group), got ${v.length}`);
    return v.map((x, i) => checkNumber(name, `${option}[${i}]`, x));
  }
  return new Array(n).fill(checkNumber(name, option, v));
}

export function checkOptimizer(name: string, optimizer: SchedulerOptimizer): void {
  if (!optimizer || !Array.isArray((optimizer as SchedulerOptimizer).paramGroups)) {
    throw new TypeError(`${name}: expected an optimizer with paramGroups, got ${optimizer === null ? 'null' : typeof optimizer}`);
  }
  optimizer.paramGroups.forEach((g, i) => {
    if (typeof g.lr !== 'number') throw new Error(`${name}: paramGroups[${i}].lr must be a number, got ${String(g.lr)}`);
  });
}

/** Python's `%` (result has the sign of the divisor). */
export function pymod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Copies plain data (numbers, arrays, objects) so that state dicts do not alias. */
export function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = clone(x);
    return o as T;
  }
  return v;
}

/** Whether the optimizer can cycle momentum: 'momentum', 'beta1' or null. */
export function momentumKind(optimizer: SchedulerOptimizer): 'momentum' | 'beta1' | null {
  const d = optimizer.defaults;
  if (d && 'betas' in d) return 'beta1';
  if (d && 'momentum' in d) return 'momentum';
  const g = optimizer.paramGroups[0];
  if (g && Array.isArray(g.betas)) return 'beta1';
  if (g && typeof g.momentum === 'number') return 'momentum';
  return null;
}

export function setMomentum(group: SchedulerParamGroup, kind: 'momentum' | 'beta1', m: number): void {
  if (kind === 'beta1') {
    const b = (group.betas ?? [m, 0.999]) as number[];
    group.betas = [m, ...b.slice(1)] as [number, number];
  } else group.momentum = m;
}

export function getMomentum(group: SchedulerParamGroup, kind: 'momentum' | 'beta1'): number {
  return kind === 'beta1' ? ((group.betas as number[] | undefined)?.[0] ?? NaN) : (group.momentum ?? NaN);
}

// ---- the base class ----

export abstract class LRScheduler {
  readonly optimizer: SchedulerOptimizer;
  /** The index of the current epoch (-1 before the initial step). */
  lastEpoch: number;
  /** Each group's `initialLr` (the rates schedules are computed from). */
  baseLrs: number[];
  protected stepCount = 0;
  protected lastLr: number[] = [];
  /** Fields (besides the common ones) saved by stateDict(). */
  protected stateKeys: string[] = [];

  /** Checks the optimizer and sets `initialLr` on its groups; subclasses call `initialStep()` last. */
  constructor(optimizer: SchedulerOptimizer, lastEpoch = -1, readonly name: string = new.target.name) {
    checkOptimizer(name, optimizer);
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new Error(`${name}: lastEpoch must be an integer >= -1, got ${lastEpoch}`);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new Error(`${name}: paramGroups[${i}].initialLr is not set, which resuming with lastEpoch=${lastEpoch} needs`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** The rates for `lastEpoch`, computed from the groups' current rates (PyTorch's get_lr). */
  protected abstract getLr(): number[];

  /** The rates for `lastEpoch` straight from the base rates, where the schedule has a closed form. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** PyTorch's `_initial_step`: the step the constructor makes to epoch 0. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The rates set by the last step, one per param group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /**
   * Advances one epoch (or, like PyTorch's deprecated form, jumps to `epoch`: the closed
   * form is used where the schedule has one).
   */
  step(epoch?: number): void {
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      if (!Number.isInteger(epoch)) throw new Error(`${this.name}: step(epoch) needs an integer epoch, got ${epoch}`);
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The scheduler's state as plain JSON-able data (not the optimizer, nor functions). */
  stateDict(): SchedulerState {
    const s: SchedulerState = {
      scheduler: this.name,
      lastEpoch: this.lastEpoch,
      baseLrs: this.baseLrs.slice(),
      stepCount: this.stepCount,
      lastLr: this.lastLr.slice(),
    };
    for (const k of this.stateKeys) s[k] = clone((this as unknown as Record<string, unknown>)[k]);
    return s;
  }

  /** Restores a state from stateDict() (or PyTorch's state_dict()); the schedule then continues exactly. */
  loadStateDict(state: SchedulerState): void {
    if (!state || typeof state !== 'object') throw new Error(`${this.name}: loadStateDict expects an object`);
    if (state.scheduler !== undefined && state.scheduler !== this.name) {
      throw new Error(`${this.name}: loadStateDict got the state of a ${String(state.scheduler)}`);
    }
    const keys = ['lastEpoch', 'baseLrs', 'stepCount', 'lastLr', ...this.stateKeys];
    // PyTorch's state_dict (snake_case, hyperparameters included): checked and renamed first.
    if (isPyTorchSchedulerState(state)) state = fromPyTorchState(this.name, this, state, keys, this.optimizer.paramGroups.length);
    const self = this as unknown as Record<string, unknown>;
    for (const k of keys) {
      if (k in state) self[k] = clone(state[k]);
    }
  }
}
