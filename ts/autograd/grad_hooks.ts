/**
 * What backward() does with a tensor's gradient once it is complete, before passing it on:
 * the tensor's hooks (`registerHook`, as PyTorch's register_hook) see it and may replace it,
 * and `.grad` receives it for leaves and for results that `retainGrad()`.
 */
import { Shape, shapeStr, Tensor } from '../tensor/tensor.js';
import { addInto } from './accumulate.js';

/** Runs `t`'s hooks in registration order; each sees the gradient the previous one left. */
export function applyGradHooks(t: Tensor, g: Tensor): Tensor {
  if (t.gradHooks === null) return g;
  let current = g;
  for (const hook of [...t.gradHooks.values()]) {
    const r = hook(current);
    if (r === undefined || r === null) continue;
    if (!(r instanceof Tensor)) throw new Error(`registerHook: a hook must return a Tensor or nothing, got ${typeof r}`);
    if (!sameShape(r.shape, t.shape)) {
      throw new Error(`registerHook: a hook returned a gradient of shape ${shapeStr(r.shape)} for a tensor of shape ${shapeStr(t.shape)}`);
    }
    if (r.dtype !== 'float32') throw new Error(`registerHook: a hook returned a ${r.dtype} gradient; gradients are float32`);
    current = r;
  }
  return current;
}

/**
 * Adds `g` to `t.grad`, making an owned gradient tensor on first use. A leaf's is kept (the
 * optimizer reads it every step); a retained result's is owned only, so the gradients of a
 * study's activations go when the study drops them (see ts/tensor/lifetime.ts).
 */
export function accumulateGrad(t: Tensor, g: Tensor): void {
  const leaf = t.gradFn === null;
  const prev = t.grad;
  if (prev === null || prev.isFreed) {
    const owned = Tensor.empty(t.shape, 'float32');
    if (leaf) owned.keep();
    owned.f32.set(g.f32);
    t.grad = owned;
  } else {
    addInto(prev, g);
  }
}

/** True when a layer must hand `p`'s gradient to backward() instead of writing `p.grad` itself. */
export function hasGradHooks(p: Tensor): boolean {
  return p.gradHooks !== null;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
