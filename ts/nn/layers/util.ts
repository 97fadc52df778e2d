/**
 * Helpers shared by the layers: reusable saved-for-backward buffers, gradient targets that
 * accumulate straight into a parameter's `.grad`, and argument checks.
 */
import { Shape, shapeStr, Tensor } from '../../tensor/tensor.js';
import { hasGradHooks } from '../../autograd/grad_hooks.js';
import { stepsEnded } from '../../tensor/lifetime.js';
import { DType } from '../../tensor/storage.js';
import { defaultLayerInit_ } from '../init.js';
import { manualSeed } from '../random.js';

/** A new temporary (freed with its training step), as every layer output and gradient is. */
export function temp(shape: Shape, dtype: DType = 'float32'): Tensor {
  return Tensor.empty(shape, dtype, true);
}

/**
 * A buffer a layer keeps across steps for what its backward needs (im2col columns, argmax
 * indices, masks, batch statistics), so a warm step allocates nothing. It grows to the
 * largest size seen and hands out views of the size asked for.
 *
 * A buffer claimed by a recorded forward stays busy until its backward releases it (or until
 * the training step ends); a forward that finds it busy (the same layer used twice in one
 * graph, or a forward whose graph was never run backward in this step) gets a temporary
 * instead, so no saved state is ever overwritten.
 */
export class ReusableBuffer {
  private store: Tensor | null = null;
  private busyStep = -1;

  constructor(private readonly dtype: DType = 'float32') {}

  /** A tensor of `shape`; `claim` marks it busy until `release` (for a recorded forward). */
  acquire(shape: Shape, claim: boolean): Tensor {
    let size = 1;
    for (const d of shape) size *= d;
    const busy = this.busyStep >= 0 && this.busyStep === stepsEnded();
    if (busy) return temp(shape, this.dtype);
    if (this.store === null || this.store.isFreed || this.store.size < size) {
      if (this.store !== null && !this.store.isFreed) this.store.dispose();
      this.store = Tensor.empty([Math.max(size, 1)], this.dtype).keep();
    }
    this.busyStep = claim ? stepsEnded() : -1;
    return new Tensor(shape, this.dtype, this.store.storage, 0);
  }

  /** Ends the claim of `t` (a no-op for a temporary handed out while busy). */
  release(t: Tensor): void {
    if (this.store !== null && t.storage === this.store.storage) this.busyStep = -1;
  }

  /** Frees the memory (the layer can still run: it is allocated again when needed). */
  dispose(): void {
    if (this.store !== null && !this.store.isFreed) this.store.dispose();
    this.store = null;
    this.busyStep = -1;
  }
}

/**
 * Where the gradient of parameter `p` goes: for a leaf that requires grad, straight into its
 * `.grad` (made on first use; `beta` 0 then, 1 to accumulate), and the backward returns null
 * for it; for a non-leaf (or a leaf with gradient hooks, which backward() must see), a new
 * temporary that the backward returns.
 */
export interface GradTarget {
  ptr: number;
  beta: number;
  /** What the backward function returns for this input. */
  ret: Tensor | null;
}

export function gradTarget(p: Tensor | null | undefined): GradTarget | null {
  if (!p || !p.requiresGrad) return null;
  if (p.gradFn === null && !hasGradHooks(p)) {
    const g = p.grad;
    if (g !== null && !g.isFreed && sameShape(g.shape, p.shape) && g.dtype === 'float32') return { ptr: g.ptr, beta: 1, ret: null };
    const fresh = Tensor.empty(p.shape, 'float32').keep();
    p.grad = fresh;
    return { ptr: fresh.ptr, beta: 0, ret: null };
  }
  const t = temp(p.shape);
  return { ptr: t.ptr, beta: 0, ret: t };
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** An int or a pair of non-negative ints (`what` names the argument in errors). */
export function pair(v: number | readonly [number, number], what: string, layer: string, min = 0): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number') throw new Error(`${layer}: ${what} must be an int or a pair of ints`);
  for (const x of p) {
    if (!Number.isInteger(x) || x < min) throw new Error(`${layer}: ${what} must be ${min > 0 ? 'positive' : 'non-negative'} integers, got ${JSON.stringify(v)}`);
  }
  return p;
}

export function checkFloat(x: Tensor, layer: string): void {
  if (!(x instanceof Tensor)) throw new Error(`${layer}: expected a Tensor input, got ${typeof x}`);
  if (x.dtype !== 'float32') throw new Error(`${layer}: expected a float32 input, got ${x.dtype} ${shapeStr(x.shape)}`);
}

export { shapeStr };

// ---- default initialisation (PyTorch's reset_parameters for Linear / Conv2d) ----

/**
 * PyTorch's default for Linear/Conv2d: weight kaiming_uniform_(a=√5), i.e. U(±1/√fan_in),
 * bias U(±1/√fan_in), drawn from the global generator (`manualSeed`, ts/nn/random).
 */
export function defaultInit(weight: Tensor, bias: Tensor | null, _fanIn?: number): void {
  defaultLayerInit_(weight, bias);
}

/**
 * Seeds layer initialisation (kept for callers written before ts/nn/random existed): the same
 * as `manualSeed(seed)`, which also seeds Dropout layers made afterwards.
 */
export function seedFallbackInit(seed: number): void {
  manualSeed(Math.abs(Math.trunc(seed)) % 2 ** 53);
}
