/**
 * When tensor memory is given back, without dispose() in ordinary use.
 *
 * wasm memory is invisible to the JS garbage collector, and a synchronous training loop
 * never lets FinalizationRegistry callbacks run, so GC alone cannot keep memory flat.
 * tread therefore tells two kinds of tensors apart:
 *
 * - **Owned** tensors: made from data by the user (`tensor()`, `zeros()` ...), parameters,
 *   gradients, optimizer state, module buffers. Freed by `dispose()` or by GC.
 * - **Temporaries**: the results of operations. They belong to the training step that made
 *   them and are freed when the *next* step ends, so a result can still be read after
 *   `optimizer.step()` (e.g. `loss.item()`), but nothing piles up. A step ends at
 *   `optimizer.step()` and when a DataLoader hands out the next batch (`endStep()`).
 *   `t.keep()` turns a temporary into an owned tensor.
 *
 * `tidy(fn)` is the explicit form (as in tfjs): everything made inside that is not returned
 * or kept is freed when `fn` returns.
 */
import { Storage } from './storage.js';

let current: Storage[] = [];
let previous: Storage[] = [];
let stepCount = 0;
const scopes: Storage[][] = [];

/** Records a new temporary with the current step (and the innermost tidy scope). */
export function trackTemporary(s: Storage): void {
  if (scopes.length > 0) scopes[scopes.length - 1].push(s);
  else current.push(s);
}

/** Records a new owned tensor with the innermost tidy scope, if any. */
export function trackOwned(s: Storage): void {
  if (scopes.length > 0) scopes[scopes.length - 1].push(s);
}

/** Ends a training step: frees the temporaries of the step before this one. */
export function endStep(): void {
  for (const s of previous) if (!s.kept) s.free('step');
  previous = current;
  current = [];
  stepCount++;
}

/** How many steps have ended (for tests and monitors). */
export function stepsEnded(): number {
  return stepCount;
}

/**
 * Runs `fn`; frees every tensor made inside it except those returned (a tensor, or an array
 * or object of tensors, one level deep) and those kept.
 */
export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  let out: T;
  let made: Storage[];
  try {
    out = fn();
  } finally {
    made = scopes.pop()!;
  }
  const keepers = new Set<Storage>();
  collectStorages(out, keepers);
  for (const s of made) {
    if (keepers.has(s) || s.kept) {
      // What is returned moves to the enclosing scope (a temporary: or to its step).
      if (s.temporary && !s.kept) trackTemporary(s);
      else trackOwned(s);
    } else s.free('scope');
  }
  return out;
}

function collectStorages(v: unknown, into: Set<Storage>): void {
  const one = (x: any) => {
    if (x && typeof x === 'object' && x.storage instanceof Storage) into.add(x.storage);
  };
  if (Array.isArray(v)) v.forEach(one);
  else if (v && typeof v === 'object' && !(v as any).storage) Object.values(v).forEach(one);
  else one(v);
}
