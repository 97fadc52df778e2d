/**
 * Stochastic gradient descent, optionally with momentum (PyTorch's `torch.optim.SGD`).
 *
 * ```text
 * input: γ (lr), θ₀ (params), f(θ) (objective), λ (weightDecay), μ (momentum),
 *        τ (dampening), nesterov, maximize
 * for t = 1, 2, ...:
 *   gₜ ← ∇θ fₜ(θₜ₋₁)
 *   if λ ≠ 0:  gₜ ← gₜ + λθₜ₋₁
 *   if μ ≠ 0:
 *     if t > 1:  bₜ ← μbₜ₋₁ + (1 - τ)gₜ
 *     else:      bₜ ← gₜ
 *     if nesterov:  gₜ ← gₜ + μbₜ
 *     else:         gₜ ← bₜ
 *   if maximize:  θₜ ← θₜ₋₁ + γgₜ
 *   else:         θₜ ← θₜ₋₁ - γgₜ
 * ```
 * (maximize negates the gradient first, which is the same.) State: `momentum_buffer`.
 * One fused kernel per parameter (crates/tread-core/src/optim/sgd.rs), queued and run for the
 * whole group in one wasm call (multi.ts).
 */
import type { Tensor } from '../tensor/tensor.js';
import { checks, FLAG, maxFlag, Optimizer, type OptimizerBaseOptions, type Hyper, type ParamGroup, type ParamsArg, type ParamState } from './optimizer.js';
import { KERNEL } from './multi.js';

export interface SGDOptions extends OptimizerBaseOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize?: boolean;
}

export class SGD extends Optimizer<Hyper<SGDOptions>> {
  constructor(params: ParamsArg, options: SGDOptions) {
    if (!options || options.lr === undefined) throw new Error('SGD: lr is required (e.g. new SGD(params, { lr: 0.01 }))');
    super('SGD', params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options }, {
      lr: checks.lr,
      momentum: checks.nonNegative,
      dampening: checks.number,
      weightDecay: checks.nonNegative,
      nesterov: checks.bool,
      maximize: checks.bool,
    });
  }

  protected override extraChecks(o: Record<string, any>, where: string): void {
    if (o.nesterov && (!(o.momentum > 0) || o.dampening !== 0)) {
      throw new Error(`SGD: invalid nesterov in ${where}: Nesterov momentum needs momentum > 0 and dampening = 0 (got momentum ${o.momentum}, dampening ${o.dampening})`);
    }
  }

  protected update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup): void {
    let flags = maxFlag(group) | (group.nesterov ? FLAG.nesterov : 0);
    let buf = 0;
    if (group.momentum !== 0) {
      let b = st.momentum_buffer;
      if (b === undefined) {
        b = this.stateTensor(p, null);
        st.momentum_buffer = b;
        flags |= FLAG.first;
      }
      buf = (b as Tensor).ptr;
    }
    this.queue(KERNEL.sgd, p.ptr, g.ptr, buf, p.size, group.lr, group.momentum, group.dampening, group.weightDecay, flags);
  }
}
