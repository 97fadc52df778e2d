/**
 * RMSprop (PyTorch's `torch.optim.RMSprop`).
 *
 * ```text
 * input: α (alpha), γ (lr), θ₀ (params), f(θ) (objective), λ (weightDecay),
 *        μ (momentum), centered, ε (eps), maximize
 * init:  v₀ ← 0 (square average), b₀ ← 0 (buffer), g₀^ave ← 0
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   vₜ ← αvₜ₋₁ + (1 - α)gₜ²
 *   ṽₜ ← vₜ
 *   if centered:  gₜ^ave ← gₜ₋₁^ave·α + (1 - α)gₜ;   ṽₜ ← ṽₜ - (gₜ^ave)²
 *   if μ > 0:  bₜ ← μbₜ₋₁ + gₜ / (√ṽₜ + ε);   θₜ ← θₜ₋₁ - γbₜ
 *   else:      θₜ ← θₜ₋₁ - γ·gₜ / (√ṽₜ + ε)
 * ```
 * State: `step`, `square_avg`, `momentum_buffer` (momentum > 0), `grad_avg` (centered).
 * Kernel: crates/tread-core/src/optim/rmsprop.rs.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, FLAG, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface RMSpropOptions extends OptimizerBaseOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Smoothing constant (default 0.99). */
  alpha?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  /** Normalize by an estimate of the gradient's variance (default false). */
  centered?: boolean;
  maximize?: boolean;
}

export class RMSprop extends Optimizer<Hyper<RMSpropOptions>> {
  constructor(params: ParamsArg, options: RMSpropOptions = {}) {
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...options }, {
      lr: checks.lr,
      alpha: { kind: 'number', min: 0, max: 1 },
      eps: checks.nonNegative,
      weightDecay: checks.nonNegative,
      momentum: checks.nonNegative,
      centered: checks.bool,
      maximize: checks.bool,
    });
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    st.step = ((st.step as number | undefined) ?? 0) + 1;
    const sq = this.buf(st, 'square_avg', p, 0);
    const buf = group.momentum > 0 ? this.buf(st, 'momentum_buffer', p, 0).ptr : 0;
    const avg = group.centered ? this.buf(st, 'grad_avg', p, 0).ptr : 0;
    const flags = maxFlag(group) | (group.centered ? FLAG.centered : 0);
    this.queue(KERNEL.rmsprop, p.ptr, g.ptr, sq.ptr, avg, buf, p.size, group.lr, group.alpha, group.eps, group.weightDecay, group.momentum, flags);
  }
}
