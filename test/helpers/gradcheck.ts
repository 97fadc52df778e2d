/**
 * gradcheck(fn, inputs): compares the gradients that backward() gives with central finite
 * differences.
 *
 * The output is projected to a scalar with a fixed random weight `u` (L = Σ u·fn(inputs)),
 * backward runs once with `u` as the output gradient, and every checked element x_i of
 * every input that requires grad is nudged by ±eps: (L(x+eps) − L(x−eps)) / 2eps, with L
 * summed in float64 from the float32 forward. float32 makes differences noisy, so eps is
 * ~1e-2..1e-3 and the comparison is relative: |a − n| ≤ atol + rtol·max(|a|, |n|).
 * Forward passes for the differences run under noGrad inside tidy() (nothing piles up).
 *
 * Throws an Error naming the input, the element, both values, and the op (`name`).
 */
import { noGrad } from '../../ts/autograd/engine.js';
import { tidy } from '../../ts/tensor/lifetime.js';
import { Tensor } from '../../ts/tensor/tensor.js';

export interface GradcheckOptions {
  /** Step (default 1e-2). */
  eps?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Check at most this many elements of each input, spread evenly (default 64). */
  maxPerInput?: number;
  /** Seed of the projection weights. */
  seed?: number;
  /** For messages. */
  name?: string;
}

export interface GradcheckResult {
  /** Largest |a − n| / (atol + rtol·max(|a|, |n|)) seen (≤ 1 passes). */
  worst: number;
  checked: number;
}

export function mulberry(seed: number): () => number {
  let s = seed | 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? 1e-2;
  const atol = options.atol ?? 1e-3;
  const maxPer = options.maxPerInput ?? 64;
  const name = options.name ?? 'fn';
  const rnd = mulberry(options.seed ?? 1234);

  for (const t of inputs) t.grad = null;
  const out0 = fn(...inputs);
  const u = Tensor.empty(out0.shape, 'float32').keep();
  const ud = u.f32;
  for (let i = 0; i < ud.length; i++) ud[i] = rnd() * 2 - 1;
  const uw = Float64Array.from(ud);
  if (!out0.requiresGrad) throw new Error(`gradcheck(${name}): the output does not require grad`);
  out0.backward(u);
  const analytic = inputs.map((t) => (t.requiresGrad ? (t.grad ? t.grad.toArray() : new Float32Array(t.size)) : null));

  const objective = (): number =>
    tidy(() =>
      noGrad(() => {
        const y = fn(...inputs).f32;
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i] * uw[i];
        return s;
      }),
    );

  let worst = 0;
  let checked = 0;
  inputs.forEach((t, k) => {
    const a = analytic[k];
    if (a === null) return;
    const step = Math.max(1, Math.floor(t.size / maxPer));
    for (let i = 0; i < t.size; i += step) {
      const orig = t.f32[i];
      t.f32[i] = orig + eps;
      const lp = objective();
      t.f32[i] = orig - eps;
      const lm = objective();
      t.f32[i] = orig;
      const num = (lp - lm) / (2 * eps);
      const ana = a[i];
      const bound = atol + rtol * Math.max(Math.abs(ana), Math.abs(num));
      const ratio = Math.abs(ana - num) / bound;
      worst = Math.max(worst, ratio);
      checked++;
      if (!(ratio <= 1)) {
        throw new Error(
          `gradcheck(${name}): input ${k} ${JSON.stringify(t.shape)} element ${i}: backward gives ${ana}, ` +
            `finite differences ${num} (eps ${eps}, rtol ${rtol}, atol ${atol})`,
        );
      }
    }
  });
  u.dispose();
  return { worst, checked };
}
