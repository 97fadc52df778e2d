/**
 * Fine-tuning: load pretrained weights (strict or partial), freeze and unfreeze parameters
 * or whole submodules by name prefix, build per-group learning rates, and replace the last
 * layer of a Sequential (a new head for a new number of classes).
 *
 *   await loadPretrained(model, 'pretrained.safetensors', { strict: false });
 *   freeze(model, ['0.', '3.']);                     // the first two blocks
 *   freeze(model, '0', { batchNorm: 'eval' });       // ... and their BatchNorm statistics, Dropout off
 *   replaceLastLayer(model, new nn.Linear(128, 5));  // a new head
 *   const groups = paramGroupsByPrefix(model, [{ prefix: '6.', lr: 1e-2 }], { lr: 1e-4 });
 *   const opt = new optim.Adam(groups, { lr: 1e-4 });
 *
 * Names are state-dict names ('0.weight', '3.1.bias'); a prefix matches a name equal to it or
 * starting with it followed by a dot (so '1' matches '1.weight' but not '10.weight').
 */
import type { Tensor } from '../tensor/tensor.js';
import { checkOneOf, checkOptions } from '../util/options.js';
import { loadWeights, type LoadReport } from './checkpoint.js';
import { isSequential } from './layers.js';
import { entriesOf, type ModuleLike } from './types.js';

export type NameMatcher = string | string[] | RegExp | ((name: string) => boolean);

function matcher(m: NameMatcher): (name: string) => boolean {
  if (typeof m === 'function') return m;
  if (m instanceof RegExp) return (n) => m.test(n);
  const prefixes = (Array.isArray(m) ? m : [m]).map((p) => p.replace(/\.$/, ''));
  return (n) => prefixes.some((p) => p === '' || n === p || n.startsWith(`${p}.`));
}

function named(model: ModuleLike): [string, Tensor][] {
  return entriesOf(model.namedParameters() as any);
}

export interface FreezeOptions {
  /**
   * 'train' (default): frozen BatchNorm layers keep updating their running statistics in
   * training mode, as a bare requiresGrad=false does in PyTorch. 'eval': every layer under
   * the frozen names is pinned in eval mode (`Module.pinMode(false)`), so BatchNorm uses and
   * keeps its running statistics and Dropout passes its input through, even when fit()
   * calls model.train() (torchvision/timm's "freeze BN"). `unfreeze` unpins them.
   */
  batchNorm?: 'train' | 'eval';
}

/** Layers pinned in eval mode by freeze (so that unfreeze unpins those and no others). */
const pinnedByFreeze = new WeakSet<object>();

interface PinnableModule {
  namedModules(): [string, PinnableModule][];
  children(): PinnableModule[];
  namedChildren(): [string, PinnableModule][];
  ownParameters(): Iterable<[string, Tensor]>;
  ownBuffers(): Iterable<[string, Tensor]>;
  pinMode(training: boolean | null): unknown;
  pinnedMode: boolean | null;
  training: boolean;
}

function isPinnable(model: unknown): model is PinnableModule {
  const m = model as any;
  return !!m && typeof m.namedModules === 'function' && typeof m.pinMode === 'function' && typeof m.ownBuffers === 'function';
}

/**
 * The leaf layers under the matching names: a layer whose own name matches, or whose own
 * parameters and buffers all match (a BatchNorm without affine parameters has buffers only).
 */
function leavesUnder(model: PinnableModule, test: (name: string) => boolean): [string, PinnableModule][] {
  return model.namedModules().filter(([name, m]) => {
    if (m.children().length > 0) return false;
    if (name !== '' && test(name)) return true;
    const own = [...m.ownParameters(), ...m.ownBuffers()].map(([k]) => (name ? `${name}.${k}` : k));
    return own.length > 0 && own.every(test);
  });
}

/**
 * Stops gradients for the matching parameters (requiresGrad = false, gradient dropped so
 * that no optimizer moves them, momentum and weight decay included). Returns their names.
 * Throws if nothing matches (a typo would otherwise silently train everything).
 * `{ batchNorm: 'eval' }` also pins the layers under those names in eval mode (see
 * FreezeOptions): then neither the weights nor the running statistics of the frozen part
 * change, and its outputs on a given batch stay the same through training.
 */
export function freeze(model: ModuleLike, which: NameMatcher = '', options: FreezeOptions = {}): string[] {
  checkOptions('freeze', options, ['batchNorm']);
  const mode = checkOneOf('freeze', 'batchNorm', options?.batchNorm ?? 'train', ['train', 'eval'] as const);
  if (mode === 'eval' && !isPinnable(model)) {
    throw new Error(`freeze: batchNorm: 'eval' needs an nn.Module (with namedModules() and pinMode()), got a ${(model as any)?.constructor?.name ?? typeof model}`);
  }
  const test = matcher(which);
  const out = named(model)
    .map(([n]) => n)
    .filter(test);
  const leaves = mode === 'eval' ? leavesUnder(model as unknown as PinnableModule, test) : [];
  if (out.length === 0 && leaves.length === 0) throw new Error(`freeze: no parameter matches ${describe(which)}; parameters are: ${named(model).map((x) => x[0]).join(', ')}`);
  for (const [n, p] of named(model)) {
    if (!test(n)) continue;
    p.requiresGrad_(false);
    if (p.grad) {
      p.grad.dispose();
      p.grad = null;
    }
  }
  for (const [, m] of leaves) {
    if (m.pinnedMode !== null) continue; // pinned by the user: theirs to change
    m.pinMode(false);
    pinnedByFreeze.add(m);
  }
  return out;
}

/**
 * Lets the matching parameters train again, and unpins the layers that freeze pinned in
 * eval mode under those names (they take the model's current mode). Returns the names.
 */
export function unfreeze(model: ModuleLike, which: NameMatcher = ''): string[] {
  const test = matcher(which);
  const out: string[] = [];
  for (const [n, p] of named(model)) {
    if (!test(n)) continue;
    p.requiresGrad_(true);
    out.push(n);
  }
  const leaves = isPinnable(model) ? leavesUnder(model, test).filter(([, m]) => pinnedByFreeze.has(m)) : [];
  if (out.length === 0 && leaves.length === 0) throw new Error(`unfreeze: no parameter matches ${describe(which)}`);
  const mode = model.training ?? true;
  for (const [, m] of leaves) {
    pinnedByFreeze.delete(m);
    m.pinMode(null);
    m.training = mode;
  }
  return out;
}

/** Parameters that require gradients (what an optimizer for fine-tuning should get). */
export function trainableParameters(model: ModuleLike): Tensor[] {
  return named(model)
    .filter(([, p]) => p.requiresGrad)
    .map(([, p]) => p);
}

export interface TrainableSummary {
  trainable: string[];
  frozen: string[];
  trainableCount: number;
  frozenCount: number;
  /** Buffers (BatchNorm running statistics) of layers pinned in eval mode: they do not change in training. */
  frozenStatistics: string[];
  /** Layers pinned in eval mode (freeze's batchNorm: 'eval', or Module.pinMode(false)). */
  evalPinned: string[];
}

/** Names of frozen and trainable parameters, how many values each side holds, and frozen statistics. */
export function trainableSummary(model: ModuleLike): TrainableSummary {
  const r: TrainableSummary = { trainable: [], frozen: [], trainableCount: 0, frozenCount: 0, frozenStatistics: [], evalPinned: [] };
  for (const [n, p] of named(model)) {
    if (p.requiresGrad) {
      r.trainable.push(n);
      r.trainableCount += p.size;
    } else {
      r.frozen.push(n);
      r.frozenCount += p.size;
    }
  }
  if (isPinnable(model)) {
    // A layer is in eval mode for good when it or an ancestor is pinned to eval (and nothing nearer pins it to training).
    const walk = (name: string, m: PinnableModule, inherited: boolean | null) => {
      const pin = m.pinnedMode ?? inherited;
      if (m.pinnedMode === false) r.evalPinned.push(name);
      if (pin === false) for (const [k] of m.ownBuffers()) r.frozenStatistics.push(name ? `${name}.${k}` : k);
      for (const [k, c] of m.namedChildren()) walk(name ? `${name}.${k}` : k, c, pin);
    };
    walk('', model, null);
  }
  return r;
}

export interface GroupSpec {
  /** Which parameters (prefix, list of prefixes, RegExp or predicate). */
  match: NameMatcher;
  /** Any optimizer option for the group (lr, weightDecay, momentum ...). */
  [option: string]: unknown;
}

/**
 * Parameter groups for an optimizer: each spec takes the (trainable, not yet taken)
 * parameters it matches, in order; the rest form a last group with `defaults`. Empty groups
 * are dropped. Also accepts `{ prefix: '6.', lr }` as shorthand for `match`.
 */
export function paramGroupsByPrefix(
  model: ModuleLike,
  specs: (GroupSpec | ({ prefix: string } & Record<string, unknown>))[],
  defaults: Record<string, unknown> = {},
): ({ params: Tensor[]; names: string[] } & Record<string, unknown>)[] {
  const remaining = named(model).filter(([, p]) => p.requiresGrad);
  const taken = new Set<Tensor>();
  const groups: ({ params: Tensor[]; names: string[] } & Record<string, unknown>)[] = [];
  for (const spec of specs) {
    const { match, prefix, ...opts } = spec as any;
    const test = matcher(match ?? prefix);
    const mine = remaining.filter(([n, p]) => !taken.has(p) && test(n));
    if (mine.length === 0) throw new Error(`paramGroupsByPrefix: no trainable parameter matches ${describe(match ?? prefix)}`);
    mine.forEach(([, p]) => taken.add(p));
    groups.push({ ...opts, params: mine.map((x) => x[1]), names: mine.map((x) => x[0]) });
  }
  const rest = remaining.filter(([, p]) => !taken.has(p));
  if (rest.length > 0) groups.push({ ...defaults, params: rest.map((x) => x[1]), names: rest.map((x) => x[0]) });
  return groups;
}

/**
 * Loads pretrained weights (a tread checkpoint, a weights file or a PyTorch safetensors
 * file). `strict: false` loads what matches by name and shape-checks it; the report lists
 * what was missing and unexpected. Nothing changes if validation fails.
 */
export async function loadPretrained(model: ModuleLike, file: string, options: { strict?: boolean } = {}): Promise<LoadReport> {
  checkOptions('loadPretrained', options, ['strict']);
  return loadWeights(file, model, options);
}

/**
 * Replaces the last layer of a Sequential (searching nested Sequentials' ends) with
 * `layer`; returns the old layer. The new layer's parameters are fresh: build the optimizer
 * after this call.
 */
export function replaceLastLayer<M>(model: ModuleLike, layer: M): unknown {
  if (!isSequential(model)) throw new Error(`replaceLastLayer: the model is a ${(model as any).constructor?.name ?? typeof model}, not a Sequential`);
  let seq: any = model;
  for (;;) {
    const kids = childList(seq);
    if (kids.length === 0) throw new Error('replaceLastLayer: the Sequential is empty');
    const last = kids[kids.length - 1];
    if (isSequential(last)) seq = last;
    else break;
  }
  return setLastChild(seq, layer);
}

function childList(seq: any): unknown[] {
  if (typeof seq.children === 'function') return [...seq.children()];
  if (typeof seq.namedChildren === 'function') {
    const c = seq.namedChildren();
    return c instanceof Map ? [...c.values()] : [...c].map((x: any) => x[1]);
  }
  return [];
}

function setLastChild(seq: any, layer: unknown): unknown {
  const kids = childList(seq);
  const i = kids.length - 1;
  const old = kids[i];
  if (typeof seq.registerModule === 'function' && seq[String(i)] === old) seq.registerModule(String(i), layer);
  else if (typeof seq.setChild === 'function') seq.setChild(String(i), layer);
  else if (typeof seq.replace === 'function') seq.replace(i, layer);
  else if (typeof seq.set === 'function') seq.set(i, layer);
  else {
    // Look for the container that holds the children (an array or a Map of name -> module).
    let done = false;
    for (const v of Object.values(seq)) {
      if (Array.isArray(v) && v[i] === old) {
        v[i] = layer;
        done = true;
      } else if (v instanceof Map && v.get(String(i)) === old) {
        v.set(String(i), layer);
        done = true;
      }
    }
    if (!done) throw new Error('replaceLastLayer: cannot find where this Sequential keeps its layers');
  }
  if (childList(seq)[i] !== layer) throw new Error('replaceLastLayer: the layer was not replaced');
  return old;
}

function describe(m: NameMatcher): string {
  if (typeof m === 'function') return 'the predicate';
  if (m instanceof RegExp) return String(m);
  return JSON.stringify(m);
}
