/**
 * Adam (PyTorch's `torch.optim.Adam`), with the AMSGrad variant.
 *
 * ```text
 * input: γ (lr), β1, β2 (betas), θ₀ (params), f(θ) (objective), λ (weightDecay),
 *        amsgrad, maximize, ε (eps)
 * init:  m₀ ← 0 (first moment), v₀ ← 0 (second moment), v̂₀^max ← 0
 * for t = 1, 2, ...:
 *   gₜ ← -∇θ fₜ(θₜ₋₁) if maximize, else ∇θ fₜ(θₜ₋₁)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   mₜ ← β1·mₜ₋₁ + (1 - β1)·gₜ
 *   vₜ ← β2·vₜ₋₁ + (1 - β2)·gₜ²
 *   m̂ₜ ← mₜ / (1 - β1ᵗ)
 *   if amsgrad:  v̂ₜ^max ← max(v̂ₜ₋₁^max, vₜ);  v̂ₜ ← v̂ₜ^max / (1 - β2ᵗ)
 *   else:        v̂ₜ ← vₜ / (1 - β2ᵗ)
 *   θₜ ← θₜ₋₁ - γ·m̂ₜ / (√v̂ₜ + ε)
 * ```
 * State: `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` (amsgrad). One fused kernel per
 * parameter (crates/tread-core/src/optim/adam.rs), queued and run for the whole group in one
 * wasm call (multi.ts).
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, FLAG, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type OptionCheck, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface AdamOptions extends OptimizerBaseOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the moment averages (default [0.9, 0.999]), each in [0, 1). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0); see AdamW for decoupled decay. */
  weightDecay?: number;
  /** AMSGrad: use the maximum of past second moments (default false). */
  amsgrad?: boolean;
  /** Maximize the objective (default false). */
  maximize?: boolean;
}

export const adamChecks: Record<keyof Hyper<AdamOptions>, OptionCheck> = {
  lr: checks.lr,
  betas: checks.betas,
  eps: checks.nonNegative,
  weightDecay: checks.nonNegative,
  amsgrad: checks.bool,
  maximize: checks.bool,
};

/** Adam's moments for `p`, made on the first step. */
export function adamState(opt: { buf(st: ParamState, key: string, p: Tensor, value: number): Tensor }, st: ParamState, p: Tensor, amsgrad: boolean): [Tensor, Tensor, number] {
  const m = opt.buf(st, 'exp_avg', p, 0);
  const v = opt.buf(st, 'exp_avg_sq', p, 0);
  const x = amsgrad ? opt.buf(st, 'max_exp_avg_sq', p, 0).ptr : 0;
  return [m, v, x];
}

export class Adam extends Optimizer<Hyper<AdamOptions>> {
  constructor(params: ParamsArg, options: AdamOptions = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...options }, adamChecks);
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    const t = ((st.step as number | undefined) ?? 0) + 1;
    st.step = t;
    const [m, v, x] = adamState(this as any, st, p, group.amsgrad);
    const [b1, b2] = group.betas;
    const stepSize = group.lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const flags = maxFlag(group) | (group.amsgrad ? FLAG.amsgrad : 0);
    this.queue(KERNEL.adam, p.ptr, g.ptr, m.ptr, v.ptr, x, p.size, b1, b2, group.eps, group.weightDecay, stepSize, bc2Sqrt, flags);
  }
}
