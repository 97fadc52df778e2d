/**
 * Adamax: Adam with the infinity norm (PyTorch's `torch.optim.Adamax`).
 *
 * ```text
 * input: γ (lr), β1, β2 (betas), θ₀ (params), f(θ) (objective), λ (weightDecay),
 *        ε (eps), maximize
 * init:  m₀ ← 0 (first moment), u₀ ← 0 (infinity norm)
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   mₜ ← β1mₜ₋₁ + (1 - β1)gₜ
 *   uₜ ← max(β2uₜ₋₁, |gₜ| + ε)
 *   θₜ ← θₜ₋₁ - γmₜ / ((1 - β1ᵗ)uₜ)
 * ```
 * State: `step`, `exp_avg`, `exp_inf`. Kernel: crates/tread-core/src/optim/adamax.rs.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface AdamaxOptions extends OptimizerBaseOptions {
  /** Learning rate (default 2e-3). */
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}

export class Adamax extends Optimizer<Hyper<AdamaxOptions>> {
  constructor(params: ParamsArg, options: AdamaxOptions = {}) {
    super('Adamax', params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...options }, {
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
    const u = this.buf(st, 'exp_inf', p, 0);
    const [b1, b2] = group.betas;
    const clr = group.lr / (1 - b1 ** t);
    this.queue(KERNEL.adamax, p.ptr, g.ptr, m.ptr, u.ptr, p.size, b1, b2, group.eps, group.weightDecay, clr, maxFlag(group));
  }
}
