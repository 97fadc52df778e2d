/**
 * PyTorch's optimizer state_dict spellings, translated for `Optimizer.loadStateDict`.
 *
 * PyTorch writes a group's options in snake_case (`weight_decay`, `lr_decay`,
 * `momentum_decay`, `initial_accumulator_value`, and the schedulers' `initial_lr`, `max_lr`
 * ...); tread's are the same names in camelCase. A loaded group key is, in this order:
 *   - a key tread knows (an option, a key the group already holds, a scheduler's key): kept;
 *   - one of PyTorch's implementation switches (`foreach`, `capturable`, `differentiable`,
 *     `fused`), which change how PyTorch computes, not what: dropped;
 *   - the snake_case spelling of a known key: renamed;
 *   - anything else: an error naming the key, with a did-you-mean hint. (A silently kept
 *     `weight_decay: 0.5` beside tread's `weightDecay: 0` would train another objective.)
 * State entries: PyTorch 1.13 keeps `step` (and NAdam's `mu_product`) as one-element
 * tensors; tread keeps numbers. `None` entries (SGD's momentum_buffer without momentum) are
 * dropped.
 */
import { Tensor } from '../tensor/tensor.js';
import { camelCase, didYouMean } from '../util/options.js';

/** PyTorch-only switches: accepted in a loaded dict and dropped, by name. */
export const PYTORCH_ONLY_GROUP_KEYS: readonly string[] = ['foreach', 'capturable', 'differentiable', 'fused'];

/** Keys that schedulers keep on param groups (OneCycleLR, CyclicLR, every scheduler's initialLr). */
export const SCHEDULER_GROUP_KEYS: readonly string[] = ['initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum'];

/** State entries that are numbers in tread (one-element tensors in PyTorch 1.13). */
const NUMBER_STATE_KEYS: readonly string[] = ['step', 'mu_product'];

/**
 * A loaded group's options (without `params`) in tread's names. `known` lists the keys the
 * optimizer accepts; `where` and `owner` name the group in errors.
 */
export function translateGroupOptions(owner: string, where: string, group: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  for (const [k, v] of Object.entries(group)) {
    if (k === 'params') continue;
    let name: string;
    if (known.includes(k)) name = k;
    else if (PYTORCH_ONLY_GROUP_KEYS.includes(k)) continue;
    else if (known.includes(camelCase(k))) name = camelCase(k);
    else throw new Error(`${owner}: unknown option '${k}' in ${where}${didYouMean(k, known)}; known: ${known.join(', ')} (and PyTorch's snake_case spellings of them; ${PYTORCH_ONLY_GROUP_KEYS.join(', ')} are dropped)`);
    if (name in out && !sameValue(out[name], v)) {
      throw new Error(`${owner}: ${where} gives ${name} twice, as '${from[name]}' (${String(out[name])}) and '${k}' (${String(v)})`);
    }
    out[name] = v;
    from[name] = k;
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/**
 * One parameter's loaded state with tread's value kinds: one-element `step`/`mu_product`
 * tensors or arrays become numbers, null entries are dropped.
 */
export function translateParamState(owner: string, key: string, st: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(st)) {
    if (v === null || v === undefined) continue;
    if (NUMBER_STATE_KEYS.includes(k) && typeof v !== 'number') {
      const values = v instanceof Tensor ? (v.isFreed ? null : v.data) : ArrayBuffer.isView(v) || Array.isArray(v) ? (v as ArrayLike<number>) : null;
      if (values === null || values.length !== 1) throw new Error(`${owner}: state ${key}.${k} must be a number (or a one-element tensor, as PyTorch saves it)`);
      const n = Number(values[0]);
      if (!Number.isFinite(n) || (k === 'step' && (!Number.isInteger(n) || n < 0))) throw new Error(`${owner}: state ${key}.${k} must be a ${k === 'step' ? 'step count (an integer >= 0)' : 'finite number'}, got ${n}`);
      out[k] = n;
      continue;
    }
    out[k] = v;
  }
  return out;
}
