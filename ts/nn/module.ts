/**
 * `Module`, `Parameter` and `Sequential`, with PyTorch's vocabulary and state-dict names.
 *
 * ## Registration rule
 * A module's parameters and submodules are found by walking its **own enumerable properties
 * in insertion order** (as JavaScript orders them: integer-like keys first, ascending, then
 * the others in the order they were assigned):
 *
 * - a property holding a `Parameter` is a parameter, named by the property (`this.weight`);
 * - a property holding a `Module` is a submodule (`this.fc1 = new Linear(...)` gives
 *   `fc1.weight`, `fc1.bias`);
 * - `null` / `undefined` (e.g. `bias: false`) and everything else are ignored.
 *
 * Buffers (state that is not trained: BatchNorm's running statistics) are registered
 * explicitly with `registerBuffer('running_mean', t)`, under their PyTorch names; plain
 * tensors held in properties are never part of the state. `registerParameter(name, p)` and
 * `registerModule(name, m)` are the explicit forms of the property rule (they assign the
 * property), useful for names that are not identifiers.
 *
 * State-dict order matches PyTorch: a module's own parameters, then its buffers, then each
 * child's entries under `child.` prefixes.
 *
 * ## Forward hooks
 * `registerForwardHook(fn)` calls `fn(module, inputs, output)` after every forward of that
 * module (a non-undefined return value replaces the output, as in PyTorch) and returns a
 * handle whose `remove()` unregisters it. Layers here call each other's `forward` directly
 * (Sequential does), so the hook wraps this instance's `forward` (a non-enumerable own
 * property, removed again with the last hook) rather than living in `call()` only.
 */
import { noGrad } from '../autograd/engine.js';
import { Shape, shapeStr, Tensor } from '../tensor/tensor.js';

/** A trainable tensor: float32, owned (kept beyond steps), `requiresGrad` set. */
export class Parameter extends Tensor {
  /**
   * `new Parameter(t)` shares `t`'s storage (as `torch.nn.Parameter(t)`) and keeps it;
   * `new Parameter([2, 3])` allocates a new uninitialised one (fill it with ts/nn/init).
   */
  constructor(data: Tensor | Shape, requiresGrad = true) {
    const src = data instanceof Tensor ? data : Tensor.empty(data, 'float32');
    if (src.dtype !== 'float32') throw new Error(`Parameter: only float32 tensors can be parameters, got ${src.dtype}`);
    super(src.shape, 'float32', src.storage, src.offset);
    this.keep();
    this.requiresGrad = requiresGrad;
  }
}

export type StateDict = Map<string, Tensor>;

export interface LoadStateDictOptions {
  /** Every key must match exactly (default true). Shapes must always match. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

type StateSource = Map<string, Tensor | ArrayLike<number>> | Record<string, Tensor | ArrayLike<number>> | Iterable<[string, Tensor | ArrayLike<number>]>;

const BUFFERS = Symbol('buffers');
const HOOKS = Symbol('forwardHooks');
const UNWRAP = Symbol('unwrapForward');

/** `fn(module, inputs, output)`; returning a Tensor replaces the output. */
export type ForwardHook<M extends Module = Module> = (module: M, inputs: any[], output: Tensor) => Tensor | void;

/** What registerForwardHook returns: `remove()` unregisters the hook (idempotent). */
export interface RemovableHandle {
  readonly id: number;
  remove(): void;
}

let nextHookId = 0;

export abstract class Module {
  /** Training mode (dropout active, batch statistics); `eval()` clears it. */
  training = true;
  /** The mode set by `pinMode` (null: follows train()/eval() of its ancestors). */
  pinnedMode: boolean | null = null;
  /** Registered buffers, by PyTorch name (not an enumerable property: see the rule above). */
  private readonly [BUFFERS] = new Map<string, Tensor | null>();
  /** Forward hooks by id, in registration order (not enumerable: see the rule above). */
  private readonly [HOOKS] = new Map<number, ForwardHook<any>>();
  /** Puts back the forward that the hooks wrapped (set while any hook is registered). */
  private [UNWRAP]: (() => void) | null = null;

  /** The computation. Subclasses implement it. */
  abstract forward(...inputs: any[]): Tensor;

  /** Calls `forward` (PyTorch's `module(x)`). */
  call(...inputs: any[]): Tensor {
    return this.forward(...inputs);
  }

  /**
   * Sequential's fusion of neighbours (Linear then ReLU: one GEMM with the bias and clamp in
   * its epilogue, one fused backward): whether this module may run together with the next one
   * (then Sequential holds its forward until it sees that one).
   * @internal
   */
  mayFuse(): boolean {
    return false;
  }

  /**
   * This module and `next` on `x` in one go, or null where they do not fuse (then Sequential
   * runs the two forwards). Only called when `mayFuse()`.
   * @internal
   */
  fusedForward(_next: Module, _x: Tensor): Tensor | null {
    return null;
  }

  // ---- hooks ----

  /**
   * Calls `hook(this, inputs, output)` after each forward of this module, in registration
   * order; a hook that returns a Tensor replaces the output for the later hooks and the
   * caller. Returns a handle: `handle.remove()`.
   */
  registerForwardHook(hook: ForwardHook<this>): RemovableHandle {
    if (typeof hook !== 'function') throw new Error(`${this.constructor.name}.registerForwardHook: expected a function (module, inputs, output), got ${typeof hook}`);
    const hooks = this[HOOKS];
    if (hooks.size === 0) this.wrapForward();
    const id = nextHookId++;
    hooks.set(id, hook);
    return {
      id,
      remove: () => {
        if (!hooks.delete(id) || hooks.size > 0) return;
        this[UNWRAP]?.();
        this[UNWRAP] = null;
      },
    };
  }

  /** Shadows `forward` with one that runs the hooks after it (an own `forward` is kept to put back). */
  private wrapForward(): void {
    const hooks = this[HOOKS];
    const inner = this.forward;
    const own = Object.getOwnPropertyDescriptor(this, 'forward');
    this[UNWRAP] = () => {
      if (own) Object.defineProperty(this, 'forward', own);
      else delete (this as any).forward;
    };
    const self = this;
    Object.defineProperty(this, 'forward', {
      configurable: true,
      enumerable: false,
      writable: true,
      value: function forwardWithHooks(...inputs: any[]): Tensor {
        let output = inner.apply(self, inputs);
        for (const hook of [...hooks.values()]) {
          const r = hook(self, inputs, output);
          if (r !== undefined) output = r;
        }
        return output;
      },
    });
  }

  // ---- registration ----

  registerParameter(name: string, p: Parameter | null): void {
    checkName(name, this);
    if (p !== null && !(p instanceof Parameter)) throw new Error(`registerParameter('${name}'): expected a Parameter or null`);
    (this as any)[name] = p;
  }

  registerModule(name: string, m: Module | null): void {
    checkName(name, this);
    if (m !== null && !(m instanceof Module)) throw new Error(`registerModule('${name}'): expected a Module or null`);
    (this as any)[name] = m;
  }

  /** A buffer: state saved in stateDict but not trained. Kept (owned) by the module. */
  registerBuffer(name: string, t: Tensor | null): void {
    checkName(name, this);
    if (t !== null) t.keep();
    this[BUFFERS].set(name, t);
  }

  /** The registered buffer `name` (throws if there is none). */
  getBuffer(name: string): Tensor {
    const t = this[BUFFERS].get(name);
    if (!t) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    return t;
  }

  // ---- walking ----

  /** Own parameters, in registration order. */
  *ownParameters(): IterableIterator<[string, Parameter]> {
    for (const k of Object.keys(this)) {
      const v = (this as any)[k];
      if (v instanceof Parameter) yield [k, v];
    }
  }

  *ownBuffers(): IterableIterator<[string, Tensor]> {
    for (const [k, v] of this[BUFFERS]) if (v) yield [k, v];
  }

  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const k of Object.keys(this)) {
      const v = (this as any)[k];
      if (v instanceof Module) out.push([k, v]);
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map((e) => e[1]);
  }

  /** This module and every descendant, depth first, each once, with dotted names ('' = this). */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, c] of this.namedChildren()) out.push(...c.namedModules(prefix ? `${prefix}.${k}` : k, seen));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map((e) => e[1]);
  }

  /** Every parameter with its dotted name (`0.weight`, `fc1.bias`), each tensor once. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        const name = mp ? `${mp}.${k}` : k;
        if (p.name === null) p.name = name;
        out.push([name, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map((e) => e[1]);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, b] of m.ownBuffers()) out.push([mp ? `${mp}.${k}` : k, b]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map((e) => e[1]);
  }

  // ---- modes and gradients ----

  /**
   * Sets training mode on this module and all descendants; returns this. A module pinned
   * with `pinMode` keeps its pinned mode, and so does its subtree (unless pinned otherwise):
   * that is how a frozen BatchNorm stays in eval mode through fit()'s `model.train()`.
   */
  train(mode = true): this {
    const seen = new Set<Module>();
    const walk = (m: Module, want: boolean) => {
      if (seen.has(m)) return;
      seen.add(m);
      const own = m.pinnedMode ?? want;
      m.training = own;
      for (const c of m.children()) walk(c, own);
    };
    walk(this, mode);
    return this;
  }

  /**
   * Pins this module's mode (true: training, false: eval) so that `train()`/`eval()` of it or
   * of any ancestor leave it, and its subtree, in that mode; `pinMode(null)` unpins (the mode
   * then follows the next train()/eval()). Returns this.
   */
  pinMode(training: boolean | null): this {
    if (training !== null && typeof training !== 'boolean') throw new Error(`${this.constructor.name}.pinMode: expected true, false or null, got ${String(training)}`);
    this.pinnedMode = training;
    this.train(training ?? this.training);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears parameter gradients: zero-filled in place (default), or set to null. */
  zeroGrad(setToNone = false): void {
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (setToNone || p.grad.isFreed) p.grad = null;
      else p.grad.f32.fill(0);
    }
  }

  /** Sets requiresGrad on every parameter (false freezes the module); returns this. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Calls `fn` on every submodule and then on this one (as PyTorch); returns this. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  // ---- state ----

  /**
   * name -> tensor with PyTorch's key names, in PyTorch's order. The tensors are the
   * module's own (no copy): read them, or copy them out, but don't dispose them.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = new Map();
    const walk = (m: Module, pre: string, seen: Set<Module>) => {
      if (seen.has(m)) return;
      seen.add(m);
      for (const [k, p] of m.ownParameters()) out.set(pre + k, p);
      for (const [k, b] of m.ownBuffers()) out.set(pre + k, b);
      for (const [k, c] of m.namedChildren()) walk(c, `${pre}${k}.`, seen);
    };
    walk(this, prefix ? `${prefix}.` : '', new Set());
    return out;
  }

  /**
   * Copies values from `sd` (a Map, a plain object or [name, value] pairs; values are tensors
   * or arrays) into this module's parameters and buffers. Every problem (missing or unexpected
   * keys when strict, any shape mismatch) is reported in one error, and on error nothing is
   * modified. Returns the missing and unexpected keys (empty when strict).
   */
  loadStateDict(sd: StateSource, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const mine = this.stateDict();
    const given = toEntries(sd);
    const missingKeys = [...mine.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !mine.has(k));
    const problems: string[] = [];
    if (strict && unexpectedKeys.length > 0) problems.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && missingKeys.length > 0) problems.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    for (const [k, v] of given) {
      const dst = mine.get(k);
      if (!dst) continue;
      if (v instanceof Tensor) {
        if (v.isFreed) problems.push(`${k}: the tensor given was already freed (${v.freedMessage()!.replace(/^tread: /, '')})`);
        else if (!sameShape(v.shape, dst.shape)) {
          problems.push(`size mismatch for ${k}: copying a param with shape ${shapeStr(v.shape)} from checkpoint, the shape in current model is ${shapeStr(dst.shape)}.`);
        }
      } else if (!v || typeof (v as ArrayLike<number>).length !== 'number') {
        problems.push(`${k}: expected a Tensor or an array of numbers.`);
      } else if ((v as ArrayLike<number>).length !== dst.size) {
        problems.push(`size mismatch for ${k}: ${(v as ArrayLike<number>).length} values given, the shape in current model is ${shapeStr(dst.shape)} (${dst.size} values).`);
      }
    }
    if (problems.length > 0) {
      throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join('\n\t')}`);
    }
    noGrad(() => {
      for (const [k, v] of given) {
        const dst = mine.get(k);
        if (!dst) continue;
        const src = v instanceof Tensor ? v.data : (v as ArrayLike<number>);
        if (v instanceof Tensor && v.storage === dst.storage && v.offset === dst.offset) continue;
        dst.data.set(src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing ----

  /** Extra text inside the parentheses of this module's line in `toString()`. */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (kids.length === 0) return `${head})`;
    const lines = kids.map(([k, c]) => `  (${k}): ${c.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

function checkName(name: string, m: Module): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new Error(`${m.constructor.name}: invalid name '${name}': names must be non-empty and contain no '.'`);
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function toEntries(sd: StateSource): Map<string, Tensor | ArrayLike<number>> {
  if (sd instanceof Map) return sd as Map<string, Tensor | ArrayLike<number>>;
  if (sd && typeof (sd as any)[Symbol.iterator] === 'function') return new Map(sd as Iterable<[string, Tensor | ArrayLike<number>]>);
  return new Map(Object.entries(sd as Record<string, Tensor | ArrayLike<number>>));
}

/**
 * A chain of modules: `forward(x)` runs them in order. Children are named "0", "1", ...;
 * `seq.at(i)` (negative counts from the end) or `seq[i]` gets one, `append` adds one.
 */
export class Sequential extends Module {
  [index: number]: Module;

  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  get length(): number {
    return this.namedChildren().length;
  }

  append(m: Module): this {
    if (!(m instanceof Module)) throw new Error(`Sequential.append: expected a Module, got ${m}`);
    (this as any)[String(this.length)] = m;
    return this;
  }

  at(i: number): Module {
    const n = this.length;
    const j = i < 0 ? n + i : i;
    if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`Sequential: index ${i} is out of range for ${n} modules`);
    return (this as any)[String(j)];
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    // children() without its two arrays (this runs every step): the same modules, in order.
    // A module that may fuse with its successor (mayFuse) is held until that one is seen.
    let h = x;
    let held: Module | null = null;
    for (const k of Object.keys(this)) {
      const m = (this as any)[k];
      if (!(m instanceof Module)) continue;
      if (held !== null) {
        const first: Module = held;
        held = null;
        const fused = first.fusedForward(m, h);
        if (fused !== null) {
          h = fused;
          continue;
        }
        h = first.forward(h);
      }
      if (m.mayFuse()) held = m;
      else h = m.forward(h);
    }
    return held !== null ? held.forward(h) : h;
  }
}

/** A list of modules, registered as children "0", "1", ... (no forward of its own). */
export class ModuleList extends Module {
  [index: number]: Module;

  constructor(modules: Module[] = []) {
    super();
    for (const m of modules) this.append(m);
  }

  get length(): number {
    return this.namedChildren().length;
  }

  append(m: Module): this {
    (this as any)[String(this.length)] = m;
    return this;
  }

  at(i: number): Module {
    const n = this.length;
    const j = i < 0 ? n + i : i;
    if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`ModuleList: index ${i} is out of range for ${n} modules`);
    return (this as any)[String(j)];
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  forward(): Tensor {
    throw new Error('ModuleList has no forward(): iterate over it in your module');
  }
}
