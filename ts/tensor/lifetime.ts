/**
 * When tensor memory is given back, without dispose() in ordinary use.
 *
 * wasm memory is invisible to the JS garbage collector, and a synchronous training loop
 * never lets FinalizationRegistry callbacks run, so GC alone cannot keep memory flat.
 * tread therefore tells two kinds of tensors apart:
 *
 * - **Owned** tensors: made from data by the user (`tensor()`, `zeros()` ...), parameters,
 *   gradients, optimizer state, module buffers, and clones of owned tensors (`clone(p)` of a
 *   parameter is a snapshot). Freed by `dispose()` or by GC.
 * - **Temporaries**: the results of operations. They belong to the training step that made
 *   them and are freed when the *next* step ends, so a result can still be read after
 *   `optimizer.step()` (e.g. `loss.item()`), but nothing piles up. A step ends at
 *   `optimizer.step()` and when a DataLoader hands out the next batch (`endStep()`).
 *   `t.keep()` turns a temporary into an owned tensor.
 *
 * **Owned tensors a whole step did not use are spilled.** A loop that makes its inputs with
 * `tensor(batch)` every step would otherwise grow by a batch a step until the loop yields to
 * the event loop (and in a synchronous loop it never does). So when a step ends, an owned
 * tensor (not kept) that no operation read or wrote during the last two steps (a DataLoader
 * loop ends two per iteration) has its bytes moved out of wasm memory into an ordinary JS
 * array, which the garbage
 * collector reclaims as soon as the tensor is unreachable (the JS heap is collected during a
 * synchronous loop; only finalizers wait). Nothing the user holds is freed: the next use of a
 * spilled tensor (any op, `t.data`, `t.item()`) moves it back in, at a copy's cost. A
 * tensor used every step (full-batch data) stays in wasm memory; one used once an epoch (a
 * validation tensor of your own) moves out and back once an epoch. Parameters, their
 * gradients, optimizer state, module buffers, the tensors of a TensorDataset and tensors you
 * `keep()` are pinned: never spilled (`retainGrad()` gradients and clones are not). Spilling
 * is why such tensors are not freed at the step end instead, as temporaries are: tread cannot
 * see which of them you still hold (a data set made before the loop, a snapshot), and
 * freeing one of those would break a program that is correct in PyTorch. So: do not hold a `t.data`
 * view across steps (read `t.data` again, as after any allocation), and keep() a tensor
 * whose address you pass around yourself.
 *
 * `tidy(fn)` is the explicit form (as in tfjs): everything made inside that is not returned
 * or kept is freed when `fn` returns.
 */
import { setUnspillHook, Storage } from './storage.js';

let current: Storage[] = [];
let previous: Storage[] = [];
let stepCount = 0;
const scopes: Storage[][] = [];
/**
 * Owned storages that may be spilled at a step end. Strong references, so that no WeakRef
 * deref() pins them (and their spilled copies) for the rest of a synchronous loop. Pruned at
 * every step end; when no step ends (data preparation, inference) the list is capped, and
 * the oldest entries fall back to the garbage collector alone, as before this rule existed.
 */
let owned: Storage[] = [];
let ownedBytes = 0;
const OWNED_MAX_COUNT = 4096;
const OWNED_MAX_BYTES = 64 * 2 ** 20;
setUnspillHook(addOwned);

function addOwned(s: Storage): void {
  owned.push(s);
  ownedBytes += s.bytes;
  if (owned.length > OWNED_MAX_COUNT || ownedBytes > OWNED_MAX_BYTES) trimOwned();
}

/** Keeps the newest candidates, up to half of each cap. */
function trimOwned(): void {
  const kept: Storage[] = [];
  let bytes = 0;
  for (let i = owned.length - 1; i >= 0; i--) {
    const s = owned[i];
    if (!isCandidate(s)) continue;
    if (kept.length >= OWNED_MAX_COUNT / 2 || bytes + s.bytes > OWNED_MAX_BYTES / 2) break;
    kept.push(s);
    bytes += s.bytes;
  }
  owned = kept.reverse();
  ownedBytes = bytes;
}

/** Records a new temporary with the current step (and the innermost tidy scope). */
export function trackTemporary(s: Storage): void {
  if (scopes.length > 0) scopes[scopes.length - 1].push(s);
  else current.push(s);
}

/** Records a new owned tensor with the innermost tidy scope, if any. */
export function trackOwned(s: Storage): void {
  if (scopes.length > 0) scopes[scopes.length - 1].push(s);
  addOwned(s);
}

function isCandidate(s: Storage): boolean {
  return !s.freed && !s.kept && !s.temporary && !s.isSpilled;
}

/**
 * Two, not one: a DataLoader loop ends two steps per iteration (the loader's next batch and
 * optimizer.step()), so a tensor used once an iteration is idle across one of them.
 */
const SPILL_AFTER_IDLE_STEPS = 2;

/** Spills the owned storages that the last two step ends found unused (see the header). */
function spillUnused(): void {
  const next: Storage[] = [];
  let bytes = 0;
  for (const s of owned) {
    if (!isCandidate(s)) continue;
    if (s.used) {
      s.used = false;
      s.idleSteps = 0;
    } else if (++s.idleSteps >= SPILL_AFTER_IDLE_STEPS) {
      s.idleSteps = 0;
      s.spill(); // leaves the list; moving back in puts it back (setUnspillHook)
      continue;
    }
    next.push(s);
    bytes += s.bytes;
  }
  owned = next;
  ownedBytes = bytes;
}

/** Ends a training step: frees the temporaries of the step before this one. */
export function endStep(): void {
  for (const s of previous) if (!s.kept) s.free('step');
  spillUnused();
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
      else if (scopes.length > 0) scopes[scopes.length - 1].push(s); // already a spill candidate
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
