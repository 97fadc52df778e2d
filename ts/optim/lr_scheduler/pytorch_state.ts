/**
 * PyTorch's scheduler state_dict, translated for the schedulers' `loadStateDict`.
 *
 * PyTorch saves a scheduler's whole `__dict__` but the optimizer: the state (`last_epoch`,
 * `base_lrs`, `_step_count`, `_last_lr`, and e.g. CosineAnnealingWarmRestarts' `T_cur`),
 * the hyperparameters (`step_size`, `gamma`, `total_steps` ...) and bookkeeping
 * (`verbose`, `_get_lr_called_within_step`, functions such as OneCycleLR's `anneal_func`,
 * which a JSON export leaves out). Here each key is matched to tread's field by its
 * camelCase name (`T_0` -> `T0`/`t0`):
 *   - state fields are checked (numbers, integers, one value per group) and returned to load;
 *   - hyperparameters must equal the scheduler's own: a tread scheduler is constructed with
 *     its options, and a PyTorch dict made with other ones is an error that names both
 *     values (PyTorch would overwrite them; here the constructor's checks stay the truth);
 *   - bookkeeping is dropped by name; any other key is an error with a did-you-mean hint.
 */
import { camelCase, didYouMean, show } from '../../util/options.js';

/** PyTorch's bookkeeping keys: nothing tread needs (or can use: functions). */
const DROPPED = [
  'verbose', '_get_lr_called_within_step', 'anneal_func', '_anneal_func_type', 'lr_lambdas', 'use_beta1',
  'scale_fn', '_scale_fn_ref', '_scale_fn_custom', 'mode_worse', '_initial_step', '_is_initial',
];

/** PyTorch names whose tread name is not their camelCase. */
const ALIASES: Record<string, string> = {
  _step_count: 'stepCount',
  _last_lr: 'lastLr',
  _schedule_phases: 'phases',
  _milestones: 'milestones',
  _schedulers: 'schedulers',
};

/** Whether a loaded state is PyTorch's (tread's own says `lastEpoch`). */
export function isPyTorchSchedulerState(state: Record<string, unknown>): boolean {
  return 'last_epoch' in state || '_step_count' in state || '_last_lr' in state;
}

/**
 * The tread-named state to load from PyTorch's `state`. `stateKeys` are the fields the
 * scheduler restores (the rest of its non-function own fields are hyperparameters).
 * `groups` is the number of param groups (for the per-group lists).
 */
export function fromPyTorchState(owner: string, target: object, state: Record<string, unknown>, stateKeys: readonly string[], groups: number): Record<string, unknown> {
  const self = target as Record<string, unknown>;
  const fields = Object.keys(self).filter((k) => typeof self[k] !== 'function' && k !== 'optimizer' && k !== 'name');
  const known = [...new Set([...stateKeys, ...fields])];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    if (DROPPED.includes(k)) continue;
    const camel = ALIASES[k] ?? camelCase(k.replace(/^_+/, ''));
    const name = known.find((f) => f === camel) ?? known.find((f) => f.toLowerCase() === camel.toLowerCase());
    if (name === undefined) {
      throw new Error(`${owner}.loadStateDict: unknown key '${k}' in the PyTorch state${didYouMean(camel, known)}; tread's ${owner} has ${known.join(', ')} (and drops ${DROPPED.join(', ')})`);
    }
    const value = convert(name, v, self[name]);
    if (stateKeys.includes(name)) {
      check(owner, k, name, value, self[name], groups);
      out[name] = value;
    } else if (!sameValue(value, self[name])) {
      throw new Error(`${owner}.loadStateDict: ${k} is ${show(v)} in the PyTorch state, ${show(self[name])} in this scheduler (${name}); construct the scheduler with the options the state was made with`);
    }
  }
  return out;
}

/** PyTorch's value in tread's form: a Counter of milestones as a sorted list, phase dicts camelCased. */
function convert(name: string, v: unknown, mine: unknown): unknown {
  if (Array.isArray(mine) && v && typeof v === 'object' && !Array.isArray(v)) {
    // collections.Counter({2: 1, 4: 1}) as JSON: {"2": 1, "4": 1}
    const list: number[] = [];
    for (const [m, count] of Object.entries(v as Record<string, unknown>)) for (let i = 0; i < Number(count); i++) list.push(Number(m));
    return list.sort((a, b) => a - b);
  }
  if (name === 'phases' && Array.isArray(v)) {
    return v.map((p) => Object.fromEntries(Object.entries(p as Record<string, unknown>).map(([pk, pv]) => [camelCase(pk), typeof pv === 'string' ? camelCase(pv) : pv])));
  }
  return v;
}

function check(owner: string, key: string, name: string, v: unknown, mine: unknown, groups: number): void {
  const bad = (want: string) => new Error(`${owner}.loadStateDict: ${key} in the PyTorch state must be ${want}, got ${show(v)}`);
  if (name === 'lastEpoch' && !(Number.isInteger(v) && (v as number) >= -1)) throw bad('an integer >= -1');
  if (name === 'stepCount' && !(Number.isInteger(v) && (v as number) >= 0)) throw bad('an integer >= 0');
  if (name === 'baseLrs' || name === 'lastLr' || name === 'minLrs') {
    if (!Array.isArray(v) || v.length !== groups || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw bad(`${groups} finite number(s), one per param group`);
    return;
  }
  if (typeof mine === 'number' && typeof v !== 'number' && v !== null) throw bad('a number');
  if (typeof mine === 'boolean' && typeof v !== 'boolean') throw bad('true or false');
  if (typeof mine === 'string' && typeof v !== 'string') throw bad('a string');
  if (Array.isArray(mine) && !Array.isArray(v)) throw bad('a list');
  if (Array.isArray(mine) && name !== 'milestones' && name !== 'schedulers' && (v as unknown[]).length !== mine.length) throw bad(`a list of ${mine.length}`);
  if (name === 'phases') {
    const ok = (v as Record<string, unknown>[]).every((p, i) => {
      const m = (mine as Record<string, unknown>[])[i];
      return p && typeof p === 'object' && sameValue(Object.keys(p).sort(), Object.keys(m).sort()) && Object.entries(p).every(([pk, pv]) => typeof pv === typeof m[pk] && (typeof pv !== 'string' || Object.values(m).includes(pv) || ['initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum'].includes(pv)));
    });
    if (!ok) throw bad(`${(mine as unknown[]).length} phases like this scheduler's`);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => sameValue((a as any)[k], (b as any)[k]));
  }
  return a === b;
}
