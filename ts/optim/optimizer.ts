/**
 * The optimizer base, following PyTorch's `torch.optim.Optimizer`.
 *
 * - **Param groups.** An optimizer takes a list of parameters, or a list of groups
 *   `{ params, ...options }`; each group's options override the defaults
 *   (`new Adam([{ params: backbone, lr: 1e-5 }, { params: head }], { lr: 1e-3 })`).
 *   `optimizer.paramGroups[i].lr` (and any other option) may be read and written at any
 *   time: schedulers do exactly that. Extra keys in a group (`l1`, `l2`, a `name` ...) are
 *   kept and ignored by the update.
 * - **step()** updates every parameter whose `.grad` is set with fused in-place WASM
 *   kernels (SIMD, no temporaries), ONE call per parameter group (PyTorch's foreach: the
 *   group's tensors are cut into chunks that the threads share, see multi.ts). Before anything is modified it checks every gradient for NaN/±Inf and
 *   throws an error naming the parameter: parameters and optimizer state stay untouched.
 *   The constructor option `checkFinite: false` skips that pass and steps on, as PyTorch
 *   does (a learning-rate sweep whose large rates diverge then runs to the end). It ends
 *   the training step (`endStep()`), which frees the temporaries of the step before (see
 *   tensor/lifetime.ts).
 * - **Options** are checked at run time: an unknown key, in the options or in a parameter
 *   group, is an error with a "did you mean" hint (PyTorch's `weight_decay` names
 *   `weightDecay`). Groups may also carry the keys in `GROUP_EXTRA_KEYS`.
 * - **State** is made on a parameter's first step (owned, kept tensors with PyTorch's
 *   names: `exp_avg`, `momentum_buffer` ...), plus the step count `step`.
 * - **stateDict() / loadStateDict()** as PyTorch: `{ state: {index: {...}}, paramGroups:
 *   [{...options, params: [index...]}] }`, parameters numbered in group order. The dict
 *   holds the live state tensors (not copies, as PyTorch); loading copies the values, so a
 *   run resumed from a saved dict continues exactly as the uninterrupted one.
 */
import { wasm } from '../runtime/wasm.js';
import { checkBooleanOption, checkNumberOption, didYouMean } from '../util/options.js';
import { endStep } from '../tensor/lifetime.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { firstNonfiniteMulti, stepMulti, zeroMulti } from './multi.js';
import { SCHEDULER_GROUP_KEYS, translateGroupOptions, translateParamState } from './pytorch_state.js';

/** Group keys of tread's own beyond the options: penalties (optim/penalty.ts), names (paramGroupsByPrefix). */
const TREAD_GROUP_KEYS = ['l1', 'l2', 'name', 'names'];

/** Flag bits of the step kernels (crates/tread-core/src/optim/mod.rs). */
export const FLAG = { maximize: 1, amsgrad: 2, nesterov: 4, centered: 8, first: 16 } as const;

/** Options of every optimizer, besides its algorithm's hyper-parameters (not kept per group). */
export interface OptimizerBaseOptions {
  /**
   * Check every gradient for NaN/±Inf before a step and throw, leaving parameters and state
   * untouched (default true). `false` steps on as PyTorch does (the non-finite values then
   * reach the parameters).
   */
  checkFinite?: boolean;
}

/** An optimizer's hyper-parameters as every group holds them (all set, no base options). */
export type Hyper<T> = Required<Omit<T, keyof OptimizerBaseOptions>>;

/**
 * Keys a parameter group may carry besides the optimizer's options: L1/L2 penalties
 * (optim/penalty.ts, fit), names (paramGroupsByPrefix), and what schedulers set.
 */
export const GROUP_EXTRA_KEYS: readonly string[] = ['params', 'l1', 'l2', 'name', 'names', 'initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum'];

/** A parameter group as the optimizer holds it: the tensors and every option. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [option: string]: any;
}

/** A group as given by the user: parameters and any options to override. */
export interface ParamGroupSpec {
  params: Iterable<Tensor> | Tensor;
  [option: string]: any;
}

export type ParamsArg = Iterable<Tensor> | Iterable<ParamGroupSpec>;

/** Per-parameter state: the step count and the state tensors. */
export type ParamState = Record<string, Tensor | number | undefined>;

export interface OptimizerStateDict {
  state: Record<string, Record<string, Tensor | number>>;
  paramGroups: Record<string, any>[];
}

/** How an option is checked. */
export type OptionCheck =
  | { kind: 'number'; min?: number; max?: number; maxExclusive?: boolean; minExclusive?: boolean }
  | { kind: 'boolean' }
  | { kind: 'betas' };

function isSpec(x: unknown): x is ParamGroupSpec {
  return !!x && typeof x === 'object' && !(x instanceof Tensor) && 'params' in (x as object);
}

export abstract class Optimizer<O extends { lr: number } = { lr: number; [k: string]: any }> {
  /** The algorithm's name, for messages ('Adam', 'SGD' ...). */
  readonly name: string;
  /** The options every group starts from. */
  readonly defaults: Readonly<O>;
  paramGroups: ParamGroup[] = [];
  /** State per parameter (made on its first step). */
  readonly state = new Map<Tensor, ParamState>();
  /** Check gradients for NaN/Inf before each step (one fast read of every gradient); the constructor option. */
  checkFinite = true;

  protected constructor(name: string, params: ParamsArg, defaults: O & OptimizerBaseOptions, checks: Record<keyof O & string, OptionCheck>) {
    this.name = name;
    this.checks = checks;
    if (defaults === null || typeof defaults !== 'object' || Array.isArray(defaults)) throw new TypeError(`${name}: options must be an object`);
    const { checkFinite, ...hyper } = defaults as Record<string, unknown>;
    if (checkFinite !== undefined) this.checkFinite = checkBooleanOption(name, 'checkFinite', checkFinite);
    defaults = hyper as O;
    for (const k of Object.keys(defaults)) {
      if (!(k in checks)) throw this.unknownOption(k, 'options');
    }
    this.validate(defaults as Record<string, unknown>, 'options');
    this.defaults = Object.freeze({ ...defaults });
    if (params === null || params === undefined || typeof (params as any)[Symbol.iterator] !== 'function') {
      throw new TypeError(`${name}: params must be an iterable of Tensors or of param groups, got ${params === null ? 'null' : typeof params}`);
    }
    const list = [...(params as Iterable<Tensor | ParamGroupSpec>)];
    if (list.length === 0) throw new Error(`${name}: got an empty parameter list`);
    if (list.every(isSpec)) for (const g of list as ParamGroupSpec[]) this.addParamGroup(g);
    else if (list.every((x) => x instanceof Tensor)) this.addParamGroup({ params: list as Tensor[] });
    else throw new TypeError(`${name}: params must be all Tensors or all param groups ({ params, ...options })`);
  }

  private readonly checks: Record<string, OptionCheck>;

  /**
   * The per-parameter update. Built-in optimizers queue their kernel's arguments with
   * `queue()` (one wasm call per group, see multi.ts); an update may also run a kernel itself.
   */
  protected abstract update(p: Tensor, g: Tensor, state: ParamState, group: ParamGroup): void;

  /** Rows queued by update() for one multi-tensor call, and their kernel. */
  private queued: number[] = [];
  private queuedKernel = -1;

  /**
   * Queues one tensor's step: `args` are the per-tensor export's arguments without
   * `use_ref`. step() runs the queue in one call per group (and when the kernel changes).
   */
  protected queue(kernel: number, ...args: number[]): void {
    if (this.queuedKernel !== kernel) this.flush();
    this.queuedKernel = kernel;
    for (let i = 0; i < args.length; i++) this.queued.push(args[i]);
  }

  private flush(): void {
    if (this.queued.length === 0) return;
    const rows = this.queued;
    this.queued = [];
    stepMulti(this.queuedKernel, rows);
  }

  /** Algorithm-specific checks beyond ranges (e.g. Nesterov needs momentum). */
  protected extraChecks(_o: Record<string, any>, _where: string): void {}

  private unknownOption(k: string, where: string): Error {
    const known = where === 'options' ? [...Object.keys(this.checks), 'checkFinite'] : [...Object.keys(this.checks), ...GROUP_EXTRA_KEYS];
    return new Error(`${this.name}: unknown option '${k}' in ${where}${didYouMean(k, known)}; known: ${known.join(', ')}`);
  }

  private validate(o: Record<string, unknown>, where: string): void {
    for (const [k, c] of Object.entries(this.checks)) {
      const v = o[k];
      if (v === undefined) continue;
      const bad = (want: string) => new Error(`${this.name}: invalid ${k} in ${where}: ${want}, got ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`);
      if (c.kind === 'boolean') {
        if (typeof v !== 'boolean') throw bad('expected true or false');
      } else if (c.kind === 'betas') {
        if (!Array.isArray(v) || v.length !== 2 || v.some((b) => typeof b !== 'number' || !(b >= 0 && b < 1))) throw bad('betas must be two numbers in [0, 1)');
      } else {
        if (typeof v !== 'number' || Number.isNaN(v)) throw bad('expected a number');
        if (c.min !== undefined && (c.minExclusive ? !(v > c.min) : !(v >= c.min))) throw bad(`must be ${c.minExclusive ? '>' : '>='} ${c.min}`);
        if (c.max !== undefined && (c.maxExclusive ? !(v < c.max) : !(v <= c.max))) throw bad(`must be ${c.maxExclusive ? '<' : '<='} ${c.max}`);
      }
    }
    this.extraChecks(o as Record<string, any>, where);
  }

  /** Adds a group (PyTorch's add_param_group): missing options come from the defaults. */
  addParamGroup(spec: ParamGroupSpec): void {
    if (!isSpec(spec)) throw new TypeError(`${this.name}: addParamGroup expects { params, ...options }`);
    const where = `paramGroups[${this.paramGroups.length}]`;
    const raw = spec.params;
    const params = raw instanceof Tensor ? [raw] : [...raw];
    if (params.length === 0) throw new Error(`${this.name}: ${where} has no parameters`);
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.name}: ${where}.params[${i}] is not a Tensor`);
      if (p.dtype !== 'float32') throw new Error(`${this.name}: ${where}.params[${i}] is ${p.dtype}; only float32 tensors can be optimized`);
      if (seen.has(p)) throw new Error(`${this.name}: parameter ${p.name ? `'${p.name}' ` : ''}${where}.params[${i}] appears in more than one parameter group (or twice in one)`);
      seen.add(p);
    });
    const group: ParamGroup = { ...(this.defaults as any) };
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'params') continue;
      // Groups may carry the extra keys (l1, l2, name ...); anything else, a misspelled or
      // snake_case option included, would be silently ignored: refuse it.
      if (!(k in this.checks) && !GROUP_EXTRA_KEYS.includes(k)) throw this.unknownOption(k, where);
      group[k] = Array.isArray(v) ? [...v] : v;
    }
    group.params = params;
    for (const k of ['l1', 'l2']) if (group[k] !== undefined) checkNumberOption(this.name, `${where}.${k}`, group[k], { min: 0 });
    this.validate(group, where);
    this.paramGroups.push(group);
  }

  /**
   * Clears the gradients of every parameter: fills them with zeros in place (default, as
   * PyTorch 1.13; no reallocation in a training loop), or sets them to null.
   */
  zeroGrad(setToNone = false): void {
    const pairs: number[] = [];
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        const grad = p.grad;
        if (grad === null) continue;
        if (setToNone || grad.isFreed) p.grad = null;
        else if (grad.dtype !== 'float32') grad.f32.fill(0); // throws, as before: gradients are float32
        else pairs.push(grad.ptr, grad.size);
      }
    }
    // Every gradient in one wasm call (a JS fill of a view on shared memory is slow).
    zeroMulti(pairs);
  }

  /** A parameter's name for messages. */
  protected paramName(p: Tensor, gi: number, pi: number): string {
    return p.name ? `'${p.name}' (paramGroups[${gi}].params[${pi}])` : `paramGroups[${gi}].params[${pi}]`;
  }

  /**
   * One optimization step over every parameter with a gradient. `closure` (optional)
   * re-evaluates the model and returns the loss, which step() returns.
   */
  step(closure?: () => number | Tensor): number | undefined {
    let loss: number | undefined;
    if (closure) {
      const l = closure();
      loss = l instanceof Tensor ? l.item() : l;
    }
    const work: [Tensor, Tensor, ParamGroup][] = [];
    const groups = this.paramGroups;
    for (let gi = 0; gi < groups.length; gi++) {
      const group = groups[gi];
      if (typeof group.lr !== 'number' || !(group.lr >= 0)) {
        throw new Error(`${this.name}: invalid lr in paramGroups[${gi}]: must be >= 0, got ${String(group.lr)}`);
      }
      const params = group.params;
      for (let pi = 0; pi < params.length; pi++) {
        const p = params[pi];
        const g = p.grad;
        if (g === null) continue;
        if (g.isFreed) throw new Error(`${this.name}: the gradient of parameter ${this.paramName(p, gi, pi)} was freed`);
        if (g.size !== p.size || g.dtype !== 'float32') {
          throw new Error(`${this.name}: the gradient of parameter ${this.paramName(p, gi, pi)} is ${g.dtype} ${shapeStr(g.shape)}, the parameter float32 ${shapeStr(p.shape)}`);
        }
        work.push([p, g, group]);
      }
    }
    if (this.checkFinite && work.length > 0) {
      // Every gradient in one call (split over the threads); the element only for a bad one.
      const pairs: number[] = [];
      for (const [, g] of work) pairs.push(g.ptr, g.size);
      const bad = firstNonfiniteMulti(pairs);
      if (bad >= 0) {
        const [p, g, group] = work[bad];
        const gi = groups.indexOf(group);
        const pi = group.params.indexOf(p);
        const at = wasm().tread_optim_first_nonfinite(g.ptr, g.size);
        const v = g.f32[at];
        throw new Error(
          `${this.name}: non-finite gradient (${v}) in parameter ${this.paramName(p, gi, pi)} at element ${at}; ` +
            `the step was not applied (parameters and optimizer state are unchanged); ` +
            `to step on anyway, as PyTorch does, construct the optimizer with { checkFinite: false }`,
        );
      }
    }
    let last: ParamGroup | null = null;
    try {
      for (const [p, g, group] of work) {
        if (group !== last) this.flush();
        last = group;
        let st = this.state.get(p);
        if (st === undefined) {
          st = {};
          this.state.set(p, st);
        }
        this.update(p, g, st, group);
      }
      this.flush();
    } finally {
      this.queued = [];
    }
    endStep();
    return loss;
  }

  /** A state tensor of `p`'s shape filled with `value` (owned, kept). */
  protected stateTensor(p: Tensor, value: number | null): Tensor {
    const t = Tensor.empty(p.shape, 'float32').keep();
    if (value !== null) t.f32.fill(value);
    return t;
  }

  /** The state tensor `key` of `p`, made filled with `value` if missing. */
  protected buf(st: ParamState, key: string, p: Tensor, value: number): Tensor {
    let t = st[key];
    if (!(t instanceof Tensor)) {
      t = this.stateTensor(p, value);
      st[key] = t;
    }
    return t;
  }

  /** Every parameter, in group order (the numbering of stateDict). */
  protected allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** PyTorch's state_dict: live state tensors, group options with parameter indices. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    this.allParams().forEach((p, i) => index.set(p, i));
    const state: OptimizerStateDict['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const o: Record<string, Tensor | number> = {};
      for (const [k, v] of Object.entries(st)) if (v !== undefined) o[k] = v;
      state[String(i)] = o;
    }
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const o: Record<string, any> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') o[k] = Array.isArray(v) ? [...v] : v;
      o.params = g.params.map(() => next++);
      return o;
    });
    return { state, paramGroups };
  }

  /**
   * Loads a state dict made by stateDict() of an optimizer of the same kind over parameters
   * of the same shapes, in the same groups, or by PyTorch's `state_dict()` (snake_case
   * options renamed, `foreach`/`capturable`/`differentiable`/`fused` dropped, any other
   * unknown key refused: see pytorch_state.ts). All or nothing: everything is checked
   * before anything changes. State values may be Tensors, typed arrays or number arrays.
   */
  loadStateDict(sd: OptimizerStateDict | any): void {
    const what = `${this.name}.loadStateDict`;
    if (!sd || typeof sd !== 'object') throw new Error(`${what}: expected { state, paramGroups }, got ${typeof sd}`);
    const groups = sd.paramGroups ?? sd.param_groups;
    if (!Array.isArray(groups) || typeof sd.state !== 'object' || sd.state === null) throw new Error(`${what}: expected { state, paramGroups }`);
    if (groups.length !== this.paramGroups.length) {
      throw new Error(`${what}: the dict has ${groups.length} parameter groups, the optimizer ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    const options: Record<string, unknown>[] = [];
    groups.forEach((g: any, gi: number) => {
      const ids = g?.params;
      if (!Array.isArray(ids) || ids.length !== this.paramGroups[gi].params.length) {
        throw new Error(`${what}: paramGroups[${gi}] has ${Array.isArray(ids) ? ids.length : 'no'} parameters, the optimizer's ${this.paramGroups[gi].params.length}`);
      }
      ids.forEach((id: number, k: number) => byIndex.set(Number(id), this.paramGroups[gi].params[k]));
      // PyTorch's names (weight_decay ...) become tread's; unknown keys are refused.
      const where = `paramGroups[${gi}] of the loaded dict`;
      const known = [...new Set([...Object.keys(this.checks), ...Object.keys(this.paramGroups[gi]).filter((k) => k !== 'params'), ...SCHEDULER_GROUP_KEYS, ...TREAD_GROUP_KEYS])];
      const opts = translateGroupOptions(`${what}`, where, g ?? {}, known);
      this.validate(opts, where);
      options.push(opts);
    });
    // Check every state entry first.
    const loaded: [Tensor, Record<string, unknown>][] = [];
    for (const [key, raw] of Object.entries(sd.state as Record<string, any>)) {
      const p = byIndex.get(Number(key));
      if (p === undefined) throw new Error(`${what}: state for parameter ${key}, which is in no group`);
      if (!raw || typeof raw !== 'object') throw new Error(`${what}: state ${key} is not an object`);
      const st = translateParamState(what, key, raw);
      for (const [k, v] of Object.entries(st)) {
        if (typeof v === 'number') continue;
        const n = v instanceof Tensor ? v.size : ArrayBuffer.isView(v) || Array.isArray(v) ? (v as ArrayLike<number>).length : -1;
        if (n === -1) throw new Error(`${what}: state ${key}.${k} is neither a number nor a tensor`);
        if (n !== p.size) throw new Error(`${what}: state ${key}.${k} has ${n} elements, the parameter ${p.name ? `'${p.name}' ` : ''}${shapeStr(p.shape)} ${p.size}`);
        if (v instanceof Tensor && v.isFreed) throw new Error(`${what}: state ${key}.${k} was freed`);
      }
      loaded.push([p, st]);
    }
    // Apply: options, then state (values copied into this optimizer's own tensors).
    options.forEach((g, gi) => {
      const mine = this.paramGroups[gi];
      for (const [k, v] of Object.entries(g)) mine[k] = Array.isArray(v) ? [...v] : v;
    });
    // New tensors (a dict taken earlier by reference keeps its values; the old state
    // tensors are left to the garbage collector, or to dispose()).
    const fresh = new Map<Tensor, ParamState>();
    for (const [p, st] of loaded) {
      const ns: ParamState = {};
      for (const [k, v] of Object.entries(st)) {
        if (typeof v === 'number') {
          ns[k] = v;
          continue;
        }
        const t = this.stateTensor(p, null);
        t.f32.set(v instanceof Tensor ? v.f32 : (v as ArrayLike<number>));
        ns[k] = t;
      }
      fresh.set(p, ns);
    }
    this.state.clear();
    for (const [p, st] of fresh) this.state.set(p, st);
  }

  /** Frees the state tensors (the optimizer can still step: state is made again). */
  dispose(): void {
    for (const st of this.state.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }
}

/** The common option checks. */
export const checks = {
  lr: { kind: 'number', min: 0 } as OptionCheck,
  nonNegative: { kind: 'number', min: 0 } as OptionCheck,
  number: { kind: 'number' } as OptionCheck,
  bool: { kind: 'boolean' } as OptionCheck,
  betas: { kind: 'betas' } as OptionCheck,
};

/** maximize flag bit. */
export function maxFlag(group: ParamGroup): number {
  return group.maximize ? FLAG.maximize : 0;
}
