/**
 * Checks of the JSON structures a checkpoint keeps in `__metadata__` (training state,
 * optimizer state, scheduler state), made before anything is loaded: a checkpoint is applied
 * all or nothing, so a malformed one must be refused while the model, optimizer and scheduler
 * are still untouched. Each check throws a CheckpointError naming the checkpoint and the path
 * of the bad value (`training.history[3].loss`, `optimizer.paramGroups[0].lr`).
 *
 * The optimizer's and scheduler's own loadStateDict() check their options again; these checks
 * add what they do not (values that are legal numbers but not legal states: `lr: Infinity`,
 * `step: -1`, `epoch: "2"`) and keep the refusal ahead of any change.
 */
import { CheckpointError } from './checkpoint_error.js';

type Json = unknown;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Map);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

class Checker {
  constructor(readonly what: string) {}

  fail(path: string, want: string, got: unknown): never {
    throw new CheckpointError(`${this.what}: ${path} must be ${want}, got ${describe(got)}; nothing was loaded`);
  }

  object(v: Json, path: string): Record<string, unknown> {
    if (!isPlainObject(v)) this.fail(path, 'an object', v);
    return v;
  }

  list(v: Json, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'a list', v);
    return v;
  }

  /** An integer >= min (a count, an index, an epoch). */
  integer(v: Json, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(path, `an integer in ${min}..${max}`, v);
    return v;
  }

  /** A finite number >= 0 (an option value: lr, momentum, weight decay ...). */
  nonNegative(v: Json, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(path, 'a finite number >= 0', v);
    return v;
  }

  finite(v: Json, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, 'a finite number', v);
    return v;
  }

  /** A number, non-finite ones included (a metric, a best value). */
  number(v: Json, path: string): number {
    if (typeof v !== 'number') this.fail(path, 'a number', v);
    return v;
  }
}

/**
 * The training state: epoch and globalStep non-negative integers; history a list of
 * {name: number} rows (non-finite numbers as History.toJSON writes them: 'NaN', 'Infinity');
 * RNG state (global generator {seed, counter}, layer streams {seed, calls}); early-stopping
 * counters. `scheduler` is checked by checkSchedulerState, `extra` is the caller's.
 */
export function checkTrainingState(raw: Json, what: string): void {
  const c = new Checker(what);
  const t = c.object(raw, 'the training state');
  if (t.epoch !== undefined) c.integer(t.epoch, 'training.epoch');
  if (t.globalStep !== undefined) c.integer(t.globalStep, 'training.globalStep');
  if (t.history !== undefined) {
    c.list(t.history, 'training.history').forEach((row, i) => {
      for (const [k, v] of Object.entries(c.object(row, `training.history[${i}]`))) {
        const ok = typeof v === 'number' || (typeof v === 'string' && (v === 'NaN' || v === 'Infinity' || v === '-Infinity'));
        if (!ok) c.fail(`training.history[${i}].${k}`, "a number (or 'NaN', 'Infinity', '-Infinity')", v);
      }
    });
  }
  if (t.rng !== undefined) {
    const rng = c.object(t.rng, 'training.rng');
    if (rng.global !== undefined) {
      // tread's generator keeps {seed, counter}; another source (the rng option of ModelCheckpoint /
      // resumeFrom) may keep any JSON value but null, which no source's getState() gives.
      if (rng.global === null) c.fail('training.rng.global', 'a generator state', null);
      const g = rng.global as Record<string, unknown>;
      if (isPlainObject(g) && ('seed' in g || 'counter' in g)) {
        c.integer(g.seed, 'training.rng.global.seed', 0, 0xffffffff);
        c.integer(g.counter, 'training.rng.global.counter');
      }
    }
    if (rng.modules !== undefined) {
      for (const [name, s] of Object.entries(c.object(rng.modules, 'training.rng.modules'))) {
        const m = c.object(s, `training.rng.modules['${name}']`);
        c.integer(m.seed, `training.rng.modules['${name}'].seed`, 0, 0xffffffff);
        c.integer(m.calls, `training.rng.modules['${name}'].calls`);
      }
    }
  }
  if (t.earlyStopping !== undefined && t.earlyStopping !== null) {
    const e = c.object(t.earlyStopping, 'training.earlyStopping');
    c.number(e.best, 'training.earlyStopping.best');
    c.integer(e.bestEpoch, 'training.earlyStopping.bestEpoch', -1);
    c.integer(e.wait, 'training.earlyStopping.wait');
    c.integer(e.stoppedEpoch, 'training.earlyStopping.stoppedEpoch', -1);
  }
}

/** Options of a parameter group: numbers finite and >= 0, lists of such numbers, booleans, strings, null. */
function checkGroupOptions(c: Checker, g: Record<string, unknown>, path: string): void {
  for (const [k, v] of Object.entries(g)) {
    if (k === 'params') continue;
    const p = `${path}.${k}`;
    if (typeof v === 'number') c.nonNegative(v, p);
    else if (Array.isArray(v)) v.forEach((x, i) => c.nonNegative(x, `${p}[${i}]`));
    else if (!(v === null || typeof v === 'boolean' || typeof v === 'string')) c.fail(p, 'a number, a list of numbers or true/false', v);
  }
}

/**
 * The optimizer state (after its tensors were joined back): { state, paramGroups } with
 * group options finite and >= 0, parameter indices non-negative integers, and per-parameter
 * state whose `step` is a non-negative integer and whose other numbers are finite.
 */
export function checkOptimizerState(sd: Json, what: string): void {
  const c = new Checker(what);
  const o = c.object(sd, 'the optimizer state');
  const groups = c.list(o.paramGroups ?? o.param_groups, 'optimizer.paramGroups');
  groups.forEach((g, gi) => {
    const group = c.object(g, `optimizer.paramGroups[${gi}]`);
    c.list(group.params, `optimizer.paramGroups[${gi}].params`).forEach((id, k) => c.integer(id, `optimizer.paramGroups[${gi}].params[${k}]`));
    checkGroupOptions(c, group, `optimizer.paramGroups[${gi}]`);
  });
  for (const [key, st] of Object.entries(c.object(o.state, 'optimizer.state'))) {
    if (!/^(0|[1-9][0-9]*)$/.test(key)) c.fail(`optimizer.state key '${key}'`, 'a parameter index', key);
    for (const [k, v] of Object.entries(c.object(st, `optimizer.state[${key}]`))) {
      if (k === 'step') c.integer(v, `optimizer.state[${key}].step`);
      else if (typeof v === 'number') c.finite(v, `optimizer.state[${key}].${k}`);
    }
  }
}

/**
 * A scheduler state from stateDict(): an object; when it names its class, the same class as
 * the live scheduler's; lastEpoch an integer >= -1, stepCount >= 0; baseLrs and lastLr lists
 * of finite numbers >= 0, one per parameter group. Children (SequentialLR, ChainedScheduler)
 * are checked the same way.
 */
export function checkSchedulerState(state: Json, live: Json, groups: number | null, what: string, path = 'training.scheduler'): void {
  const c = new Checker(what);
  const s = c.object(state, path);
  const mine = isPlainObject(live) ? live : {};
  if (s.scheduler !== undefined && mine.scheduler !== undefined && s.scheduler !== mine.scheduler) {
    c.fail(`${path}.scheduler`, `the state of a ${String(mine.scheduler)} (the scheduler given)`, s.scheduler);
  }
  if (s.lastEpoch !== undefined) c.integer(s.lastEpoch, `${path}.lastEpoch`, -1);
  if (s.stepCount !== undefined) c.integer(s.stepCount, `${path}.stepCount`);
  for (const k of ['baseLrs', 'lastLr', 'minLrs']) {
    if (s[k] === undefined) continue;
    const l = c.list(s[k], `${path}.${k}`);
    if (groups !== null && l.length !== groups) c.fail(`${path}.${k}`, `a list of ${groups} (one per parameter group)`, s[k]);
    l.forEach((x, i) => c.nonNegative(x, `${path}.${k}[${i}]`));
  }
  if (s.schedulers !== undefined) {
    const kids = c.list(s.schedulers, `${path}.schedulers`);
    const liveKids = Array.isArray(mine.schedulers) ? mine.schedulers : [];
    if (liveKids.length > 0 && kids.length !== liveKids.length) c.fail(`${path}.schedulers`, `a list of ${liveKids.length} states`, kids);
    kids.forEach((k, i) => checkSchedulerState(k, liveKids[i], groups, what, `${path}.schedulers[${i}]`));
  }
}
