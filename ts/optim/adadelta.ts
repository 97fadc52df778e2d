/**
 * Adadelta (PyTorch's `torch.optim.Adadelta`).
 *
 * ```text
 * input: γ (lr), θ₀ (params), f(θ) (objective), ρ (rho), λ (weightDecay), ε (eps), maximize
 * init:  v₀ ← 0 (square average), u₀ ← 0 (accumulated update)
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   vₜ ← vₜ₋₁ρ + gₜ²(1 - ρ)
 *   Δxₜ ← √(uₜ₋₁ + ε) / √(vₜ + ε) · gₜ
 *   uₜ ← uₜ₋₁ρ + Δxₜ²(1 - ρ)
 *   θₜ ← θₜ₋₁ - γΔxₜ
 * ```
 * State: `step`, `square_avg`, `acc_delta`. Kernel: crates/tread-core/src/optim/adadelta.rs.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface AdadeltaOptions extends OptimizerBaseOptions {
  /** Scale of the delta (default 1.0). */
  lr?: number;
  /** Decay of the running averages (default 0.9), in [0, 1]. */
  rho?: number;
  /** Added inside the square roots (default 1e-6). */
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}

export class Adadelta extends Optimizer<Hyper<AdadeltaOptions>> {
  constructor(params: ParamsArg, options: AdadeltaOptions = {}) {
    super('Adadelta', params, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, ...options }, {
      lr: checks.lr,
      rho: { kind: 'number', min: 0, max: 1 },
      eps: checks.nonNegative,
      weightDecay: checks.nonNegative,
      maximize: checks.bool,
    });
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    st.step = ((st.step as number | undefined) ?? 0) + 1;
    const sq = this.buf(st, 'square_avg', p, 0);
    const acc = this.buf(st, 'acc_delta', p, 0);
    this.queue(KERNEL.adadelta, p.ptr, g.ptr, sq.ptr, acc.ptr, p.size, group.lr, group.rho, group.eps, group.weightDecay, maxFlag(group));
  }
}
