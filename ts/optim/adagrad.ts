/**
 * Adagrad (PyTorch's `torch.optim.Adagrad`).
 *
 * ```text
 * input: γ (lr), θ₀ (params), f(θ) (objective), λ (weightDecay),
 *        τ (initialAccumulatorValue), η (lrDecay), ε (eps), maximize
 * init:  state_sum₀ ← τ
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   γ̃ ← γ / (1 + (t - 1)η)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   state_sumₜ ← state_sumₜ₋₁ + gₜ²
 *   θₜ ← θₜ₋₁ - γ̃·gₜ / (√state_sumₜ + ε)
 * ```
 * State: `step`, `sum`. Kernel: crates/tread-core/src/optim/adagrad.rs.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface AdagradOptions extends OptimizerBaseOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Decay of the rate per step (default 0). */
  lrDecay?: number;
  /** L2 penalty (default 0). */
  weightDecay?: number;
  /** Starting value of the sum of squares (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the denominator (default 1e-10). */
  eps?: number;
  maximize?: boolean;
}

export class Adagrad extends Optimizer<Hyper<AdagradOptions>> {
  constructor(params: ParamsArg, options: AdagradOptions = {}) {
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...options }, {
      lr: checks.lr,
      lrDecay: checks.nonNegative,
      weightDecay: checks.nonNegative,
      initialAccumulatorValue: checks.nonNegative,
      eps: checks.nonNegative,
      maximize: checks.bool,
    });
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    const t = ((st.step as number | undefined) ?? 0) + 1;
    st.step = t;
    const sum = this.buf(st, 'sum', p, group.initialAccumulatorValue);
    const clr = group.lr / (1 + (t - 1) * group.lrDecay);
    this.queue(KERNEL.adagrad, p.ptr, g.ptr, sum.ptr, p.size, clr, group.eps, group.weightDecay, maxFlag(group));
  }
}
