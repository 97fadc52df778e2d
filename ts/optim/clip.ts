/**
 * Gradient clipping, as PyTorch's `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`.
 * The norms and the scaling run in WASM (SIMD reductions, threads for large tensors).
 */
import { wasm } from '../runtime/wasm.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBooleanOption, checkOptions } from '../util/options.js';

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or ±Inf (default false: scale anyway, as PyTorch). */
  errorIfNonfinite?: boolean;
}

function gradsOf(params: Iterable<Tensor> | Tensor, where: string): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  const out: Tensor[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`${where}: params[${i}] is not a Tensor`);
    if (p.grad === null) return;
    if (p.grad.dtype !== 'float32') throw new Error(`${where}: the gradient of params[${i}] is ${p.grad.dtype}`);
    out.push(p.grad);
  });
  return out;
}

/** The `normType`-norm of each gradient (p = Infinity: max |g|). */
function norms(grads: Tensor[], p: number): number[] {
  const w = wasm();
  return grads.map((g) => {
    const s = w.tread_optim_sum_pow(g.ptr, g.size, p);
    // Each tensor's norm is a float32 in PyTorch: round it so the total agrees.
    return Math.fround(p === Infinity ? s : p === 2 ? Math.sqrt(s) : p === 1 ? s : s ** (1 / p));
  });
}

/**
 * Scales the gradients of `params` in place so that their total norm (the norm of the
 * per-tensor norms, i.e. the norm of all gradients concatenated) is at most `maxNorm`.
 * Returns the total norm before clipping. Parameters without a gradient are skipped.
 * `normType`: 2 (default), 1, Infinity (max |g|), or any p > 0.
 *
 * As PyTorch: every gradient is multiplied by min(1, maxNorm / (total + 1e-6)).
 */
export function clipGradNorm_(params: Iterable<Tensor> | Tensor, maxNorm: number, normType: number | 'inf' = 2, options: ClipGradNormOptions = {}): number {
  const where = 'clipGradNorm_';
  const p = normType === 'inf' ? Infinity : normType;
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) throw new Error(`${where}: maxNorm must be a number >= 0, got ${String(maxNorm)}`);
  checkOptions(where, options, ['errorIfNonfinite']);
  if (options?.errorIfNonfinite !== undefined) checkBooleanOption(where, 'errorIfNonfinite', options.errorIfNonfinite);
  if (typeof p !== 'number' || !(p > 0)) throw new Error(`${where}: normType must be > 0 (2, 1, Infinity ...), got ${String(normType)}`);
  const grads = gradsOf(params, where);
  if (grads.length === 0) return 0;
  const each = norms(grads, p);
  let total: number;
  if (p === Infinity) total = each.reduce((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), 0);
  else if (p === 2) total = Math.sqrt(each.reduce((a, b) => a + b * b, 0));
  else if (p === 1) total = each.reduce((a, b) => a + b, 0);
  else total = each.reduce((a, b) => a + b ** p, 0) ** (1 / p);
  total = Math.fround(total);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `${where}: the total norm of order ${p} of the gradients is non-finite (${total}), so it cannot be clipped. ` +
        `Set errorIfNonfinite: false to scale anyway.`,
    );
  }
  const coef = Math.min(Math.fround(maxNorm / Math.fround(total + 1e-6)), 1);
  const w = wasm();
  for (const g of grads) w.tread_optim_scale(g.ptr, g.size, coef);
  return total;
}

/** Clamps every gradient of `params` to [-clipValue, clipValue] in place. */
export function clipGradValue_(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  const where = 'clipGradValue_';
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue) || clipValue < 0) throw new Error(`${where}: clipValue must be a number >= 0, got ${String(clipValue)}`);
  const w = wasm();
  for (const g of gradsOf(params, where)) w.tread_optim_clamp(g.ptr, g.size, -clipValue, clipValue);
}

/** The total gradient norm without clipping (for logging). */
export function gradNorm(params: Iterable<Tensor> | Tensor, normType: number = 2): number {
  const grads = gradsOf(params, 'gradNorm');
  if (grads.length === 0) return 0;
  const each = norms(grads, normType);
  if (normType === Infinity) return Math.max(...each);
  return each.reduce((a, b) => a + b ** normType, 0) ** (1 / normType);
}
