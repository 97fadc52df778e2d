/**
 * L1 / L2 penalties as gradient contributions, per parameter group.
 *
 * Convention (PyTorch users' habit of writing the penalty into the loss):
 *
 *   l2Penalty(params, λ):  loss term λ·Σw²,  gradient added to `.grad`: 2λ·w
 *   l1Penalty(params, λ):  loss term λ·Σ|w|, gradient added to `.grad`: λ·sign(w) (0 at w = 0)
 *
 * Both return the value of the loss term, to add to the logged loss. Call them after
 * `backward()` and before `optimizer.step()` (a parameter without a gradient gets one).
 * Note the factor 2: `l2Penalty(params, λ)` equals SGD's `weightDecay: 2λ`. Weight decay
 * (an L2 term inside the optimizer) and decoupled weight decay (AdamW) are options of the
 * optimizers instead.
 *
 * `applyPenalties(optimizer, {l1, l2})` applies them per param group: a group's own `l1` /
 * `l2` keys override the given defaults (e.g. no penalty on biases: a group with `l2: 0`).
 */
import { wasm } from '../runtime/wasm.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../util/options.js';

function check(lambda: number, where: string): void {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) throw new Error(`${where}: lambda must be a finite number >= 0, got ${String(lambda)}`);
}

function gradOf(p: Tensor, i: number, where: string): Tensor {
  if (!(p instanceof Tensor) || p.dtype !== 'float32') throw new TypeError(`${where}: params[${i}] is not a float32 Tensor`);
  if (p.grad === null || p.grad.isFreed) {
    const g = Tensor.empty(p.shape, 'float32').keep();
    g.f32.fill(0);
    p.grad = g;
  }
  return p.grad;
}

/** Adds 2λ·w to each gradient; returns λ·Σw². */
export function l2Penalty(params: Iterable<Tensor>, lambda: number): number {
  check(lambda, 'l2Penalty');
  if (lambda === 0) return 0;
  const w = wasm();
  let s = 0;
  [...params].forEach((p, i) => {
    const g = gradOf(p, i, 'l2Penalty');
    s += w.tread_optim_l2_penalty(p.ptr, g.ptr, p.size, lambda);
  });
  return lambda * s;
}

/** Adds λ·sign(w) to each gradient; returns λ·Σ|w|. */
export function l1Penalty(params: Iterable<Tensor>, lambda: number): number {
  check(lambda, 'l1Penalty');
  if (lambda === 0) return 0;
  const w = wasm();
  let s = 0;
  [...params].forEach((p, i) => {
    const g = gradOf(p, i, 'l1Penalty');
    s += w.tread_optim_l1_penalty(p.ptr, g.ptr, p.size, lambda);
  });
  return lambda * s;
}

/** Applies l1/l2 per param group (a group's `l1` / `l2` override these); returns the total penalty. */
export function applyPenalties(optimizer: { paramGroups: { params: Tensor[]; [k: string]: any }[] }, defaults: { l1?: number; l2?: number } = {}): number {
  checkOptions('applyPenalties', defaults, ['l1', 'l2']);
  defaults ??= {};
  for (const k of ['l1', 'l2'] as const) if (defaults[k] !== undefined) check(defaults[k]!, `applyPenalties: ${k}`);
  let total = 0;
  for (const g of optimizer.paramGroups) {
    const l1 = typeof g.l1 === 'number' ? g.l1 : defaults.l1 ?? 0;
    const l2 = typeof g.l2 === 'number' ? g.l2 : defaults.l2 ?? 0;
    if (l1 !== 0) total += l1Penalty(g.params, l1);
    if (l2 !== 0) total += l2Penalty(g.params, l2);
  }
  return total;
}
