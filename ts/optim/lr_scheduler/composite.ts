/**
 * Schedulers made of other schedulers: SequentialLR (one after another, switching at
 * milestones) and ChainedScheduler (all at once, their factors multiplying).
 */
import { LRScheduler, checkInt, checkKeys, type SchedulerOptimizer, type SchedulerState } from './base.js';
import { fromPyTorchState, isPyTorchSchedulerState } from './pytorch_state.js';

export interface SequentialLROptions {
  /** The schedulers, built on the same optimizer, in the order they run. */
  schedulers: LRScheduler[];
  /** Epochs at which the next scheduler takes over (schedulers.length - 1 of them). */
  milestones: number[];
  lastEpoch?: number;
}

export class SequentialLR {
  readonly optimizer: SchedulerOptimizer;
  readonly schedulers: LRScheduler[];
  milestones: number[];
  lastEpoch: number;
  private lastLr: number[];

  constructor(optimizer: SchedulerOptimizer, options: SequentialLROptions) {
    const name = 'SequentialLR';
    checkKeys(name, options, ['schedulers', 'milestones', 'lastEpoch']);
    const scheds = options?.schedulers;
    if (!Array.isArray(scheds) || scheds.length < 1) throw new Error(`${name}: schedulers must be a non-empty array of schedulers`);
    scheds.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw new Error(`${name}: schedulers[${i}] is not an LR scheduler (ReduceLROnPlateau and composites cannot be nested)`);
      if (s.optimizer !== optimizer) throw new Error(`${name}: schedulers[${i}] belongs to a different optimizer than the one given`);
    });
    const ms = options.milestones;
    if (!Array.isArray(ms) || ms.length !== scheds.length - 1) {
      throw new Error(`${name}: milestones must hold schedulers.length - 1 = ${scheds.length - 1} epochs, got ${Array.isArray(ms) ? ms.length : String(ms)}`);
    }
    ms.forEach((m, i) => {
      checkInt(name, `milestones[${i}]`, m, 0);
      if (i > 0 && m < ms[i - 1]) throw new Error(`${name}: milestones must be increasing, got ${ms.join(', ')}`);
    });
    this.optimizer = optimizer;
    this.schedulers = scheds.slice();
    this.milestones = ms.slice();
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    // Back to the initial rates, undo the children's initial steps, redo the first one's.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  step(): void {
    this.lastEpoch++;
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx] <= this.lastEpoch) idx++;
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerState {
    return {
      scheduler: 'SequentialLR',
      lastEpoch: this.lastEpoch,
      milestones: this.milestones.slice(),
      lastLr: this.lastLr.slice(),
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(state: SchedulerState): void {
    if (state.scheduler !== undefined && state.scheduler !== 'SequentialLR') throw new Error(`SequentialLR: loadStateDict got the state of a ${String(state.scheduler)}`);
    if (isPyTorchSchedulerState(state)) state = fromPyTorchState('SequentialLR', this, state, ['lastEpoch', 'milestones', 'lastLr', 'schedulers'], this.optimizer.paramGroups.length);
    const children = state.schedulers as SchedulerState[] | undefined;
    if (children && children.length !== this.schedulers.length) {
      throw new Error(`SequentialLR: loadStateDict got ${children.length} child states for ${this.schedulers.length} schedulers`);
    }
    if (typeof state.lastEpoch === 'number') this.lastEpoch = state.lastEpoch;
    if (Array.isArray(state.milestones)) this.milestones = (state.milestones as number[]).slice();
    if (Array.isArray(state.lastLr)) this.lastLr = (state.lastLr as number[]).slice();
    children?.forEach((c, i) => this.schedulers[i].loadStateDict(c));
  }
}

/** Steps every scheduler in the list on each step(), so that their effects compose. */
export class ChainedScheduler {
  readonly optimizer: SchedulerOptimizer;
  readonly schedulers: LRScheduler[];
  private lastLr: number[];

  constructor(schedulers: LRScheduler[]) {
    const name = 'ChainedScheduler';
    if (!Array.isArray(schedulers) || schedulers.length < 1) throw new Error(`${name}: schedulers must be a non-empty array of schedulers`);
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw new Error(`${name}: schedulers[${i}] is not an LR scheduler`);
      if (s.optimizer !== schedulers[0].optimizer) throw new Error(`${name}: schedulers[${i}] belongs to a different optimizer than schedulers[0]`);
    });
    this.schedulers = schedulers.slice();
    this.optimizer = schedulers[0].optimizer;
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerState {
    return { scheduler: 'ChainedScheduler', lastLr: this.lastLr.slice(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(state: SchedulerState): void {
    if (state.scheduler !== undefined && state.scheduler !== 'ChainedScheduler') throw new Error(`ChainedScheduler: loadStateDict got the state of a ${String(state.scheduler)}`);
    if (isPyTorchSchedulerState(state)) state = fromPyTorchState('ChainedScheduler', this, state, ['lastLr', 'schedulers'], this.optimizer.paramGroups.length);
    const children = state.schedulers as SchedulerState[] | undefined;
    if (children && children.length !== this.schedulers.length) {
      throw new Error(`ChainedScheduler: loadStateDict got ${children.length} child states for ${this.schedulers.length} schedulers`);
    }
    if (Array.isArray(state.lastLr)) this.lastLr = (state.lastLr as number[]).slice();
    children?.forEach((c, i) => this.schedulers[i].loadStateDict(c));
  }
}
