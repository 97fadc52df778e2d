/**
 * NAdam: Adam with Nesterov momentum (PyTorch's `torch.optim.NAdam`).
 *
 * ```text
 * input: γ (lr), β1, β2 (betas), θ₀ (params), f(θ) (objective), λ (weightDecay),
 *        ψ (momentumDecay), ε (eps), maximize
 * init:  m₀ ← 0, v₀ ← 0, μ-product ← 1
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   μₜ ← β1(1 - ½·0.96^(tψ))
 *   μₜ₊₁ ← β1(1 - ½·0.96^((t+1)ψ))
 *   mₜ ← β1mₜ₋₁ + (1 - β1)gₜ
 *   vₜ ← β2vₜ₋₁ + (1 - β2)gₜ²
 *   m̂ₜ ← μₜ₊₁mₜ / (1 - μₜ·∏ᵢ₌₁ᵗ⁺¹μᵢ) + (1 - μₜ)gₜ / (1 - ∏ᵢ₌₁ᵗμᵢ)
 *   v̂ₜ ← vₜ / (1 - β2ᵗ)
 *   θₜ ← θₜ₋₁ - γm̂ₜ / (√v̂ₜ + ε)
 * ```
 * The extra μₜ in the first denominator is what PyTorch 1.13 (the build that made the golden
 * fixtures, test/fixtures/golden) computes: `mu_product_next = mu_product * mu * mu_next`;
 * the paper and later PyTorch use ∏ᵢ₌₁ᵗ⁺¹μᵢ. tread follows the fixtures.
 * State: `step`, `mu_product` (∏ᵢ₌₁ᵗμᵢ), `exp_avg`, `exp_avg_sq`. Kernel: crates/tread-core/src/optim/nadam.rs.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface NAdamOptions extends OptimizerBaseOptions {
  /** Learning rate (default 2e-3). */
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** ψ, the momentum decay (default 4e-3). */
  momentumDecay?: number;
  maximize?: boolean;
}

export class NAdam extends Optimizer<Hyper<NAdamOptions>> {
  constructor(params: ParamsArg, options: NAdamOptions = {}) {
    super('NAdam', params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, maximize: false, ...options }, {
      lr: checks.lr,
      betas: checks.betas,
      eps: checks.nonNegative,
      weightDecay: checks.nonNegative,
      momentumDecay: checks.nonNegative,
      maximize: checks.bool,
    });
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    const t = ((st.step as number | undefined) ?? 0) + 1;
    st.step = t;
    const m = this.buf(st, 'exp_avg', p, 0);
    const v = this.buf(st, 'exp_avg_sq', p, 0);
    const [b1, b2] = group.betas;
    const psi = group.momentumDecay;
    const mu = b1 * (1 - 0.5 * 0.96 ** (t * psi));
    const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
    // PyTorch 1.13 keeps Πₜ in a float32 tensor: every product is rounded to float32 (with μ
    // rounded first), so the constants below are too; in double they drift ~1e-6 in 50 steps.
    const f = Math.fround;
    const prod = f(((st.mu_product as number | undefined) ?? 1) * f(mu));
    st.mu_product = prod;
    // As the PyTorch 1.13 build of the golden fixtures: Πₜ·μₜ·μₜ₊₁ (μₜ counted twice).
    const prodNext = f(f(prod * f(mu)) * f(muNext));
    const cGrad = (-group.lr * (1 - mu)) / (1 - prod);
    const cAvg = (-group.lr * muNext) / (1 - prodNext);
    this.queue(KERNEL.nadam, p.ptr, g.ptr, m.ptr, v.ptr, p.size, b1, b2, group.eps, group.weightDecay, 1 - b2 ** t, cGrad, cAvg, maxFlag(group));
  }
}
