/**
 * RAdam: Adam with a rectified adaptive rate (PyTorch's `torch.optim.RAdam`).
 *
 * ```text
 * input: γ (lr), β1, β2 (betas), θ₀ (params), f(θ) (objective), λ (weightDecay), ε (eps),
 *        maximize
 * init:  m₀ ← 0, v₀ ← 0, ρ∞ ← 2/(1 - β2) - 1
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   mₜ ← β1mₜ₋₁ + (1 - β1)gₜ
 *   vₜ ← β2vₜ₋₁ + (1 - β2)gₜ²
 *   m̂ₜ ← mₜ / (1 - β1ᵗ)
 *   ρₜ ← ρ∞ - 2tβ2ᵗ / (1 - β2ᵗ)
 *   if ρₜ > 5:
 *     lₜ ← √(1 - β2ᵗ) / (√vₜ + ε)
 *     rₜ ← √((ρₜ - 4)(ρₜ - 2)ρ∞ / ((ρ∞ - 4)(ρ∞ - 2)ρₜ))
 *     θₜ ← θₜ₋₁ - γm̂ₜlₜrₜ
 *   else:
 *     θₜ ← θₜ₋₁ - γm̂ₜ
 * ```
 * State: `step`, `exp_avg`, `exp_avg_sq`. Kernel: crates/tread-core/src/optim/radam.rs.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface RAdamOptions extends OptimizerBaseOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}

export class RAdam extends Optimizer<Hyper<RAdamOptions>> {
  constructor(params: ParamsArg, options: RAdamOptions = {}) {
    super('RAdam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...options }, {
      lr: checks.lr,
      betas: checks.betas,
      eps: checks.nonNegative,
      weightDecay: checks.nonNegative,
      maximize: checks.bool,
    });
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    const t = ((st.step as number | undefined) ?? 0) + 1;
    st.step = t;
    const m = this.buf(st, 'exp_avg', p, 0);
    const v = this.buf(st, 'exp_avg_sq', p, 0);
    const [b1, b2] = group.betas;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const rhoInf = 2 / (1 - b2) - 1;
    const rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
    const rect = rhoT > 5 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
    this.queue(KERNEL.radam, p.ptr, g.ptr, m.ptr, v.ptr, p.size, group.lr, b1, b2, group.eps, group.weightDecay, bc1, Math.sqrt(bc2), rect, maxFlag(group));
  }
}
