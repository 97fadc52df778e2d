/**
 * AdamW: Adam with decoupled weight decay (PyTorch's `torch.optim.AdamW`).
 *
 * ```text
 * input: γ (lr), β1, β2 (betas), θ₀ (params), f(θ) (objective), ε (eps),
 *        λ (weightDecay), amsgrad, maximize
 * init:  m₀ ← 0, v₀ ← 0, v̂₀^max ← 0
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   θₜ ← θₜ₋₁ - γλθₜ₋₁
 *   mₜ ← β1·mₜ₋₁ + (1 - β1)·gₜ
 *   vₜ ← β2·vₜ₋₁ + (1 - β2)·gₜ²
 *   m̂ₜ ← mₜ / (1 - β1ᵗ)
 *   if amsgrad:  v̂ₜ^max ← max(v̂ₜ₋₁^max, vₜ);  v̂ₜ ← v̂ₜ^max / (1 - β2ᵗ)
 *   else:        v̂ₜ ← vₜ / (1 - β2ᵗ)
 *   θₜ ← θₜ - γ·m̂ₜ / (√v̂ₜ + ε)
 * ```
 * The decay does not go through the moment estimates (unlike Adam's weightDecay, an L2
 * term on the gradient). State as Adam. Kernel: crates/tread-core/src/optim/adamw.rs.
 */
import type { Tensor } from '../tensor/tensor.js';
import { adamChecks, adamState, type AdamOptions } from './adam.js';
import { FLAG, maxFlag, Optimizer, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay λ (default 1e-2). */
  weightDecay?: number;
}

export class AdamW extends Optimizer<Hyper<AdamWOptions>> {
  constructor(params: ParamsArg, options: AdamWOptions = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...options }, adamChecks);
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    const t = ((st.step as number | undefined) ?? 0) + 1;
    st.step = t;
    const [m, v, x] = adamState(this as any, st, p, group.amsgrad);
    const [b1, b2] = group.betas;
    const stepSize = group.lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const flags = maxFlag(group) | (group.amsgrad ? FLAG.amsgrad : 0);
    // The kernel takes 1 - lr·λ as f32: compute it here in double, as PyTorch does.
    this.queue(KERNEL.adamw, p.ptr, g.ptr, m.ptr, v.ptr, x, p.size, group.lr, group.weightDecay, b1, b2, group.eps, stepSize, bc2Sqrt, flags);
  }
}
