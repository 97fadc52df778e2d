/**
 * Finite-difference check of a layer's backward: compares the gradients that backward()
 * gives for `sum(f(inputs) * u)` (u a fixed random upstream) with central differences,
 * computed in float32 through the same forward. Used by test/layers.test.ts.
 */
import { noGrad } from '../../ts/autograd/engine.js';
import { endStep } from '../../ts/tensor/lifetime.js';
import { Tensor } from '../../ts/tensor/tensor.js';

export interface FdResult {
  ok: boolean;
  worst: number;
  where: string;
}

function seeded(seed: number): () => number {
  let s = seed | 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills a float32 tensor with U(lo, hi) from a seed. */
export function fillUniform(t: Tensor, seed: number, lo = -1, hi = 1): Tensor {
  const r = seeded(seed);
  const d = t.f32;
  for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * r();
  return t;
}

/**
 * `f` runs the forward (it may close over a module); `inputs` are the tensors to check
 * (input and/or parameters, all requiring grad). Checks at most `maxPerInput` elements each.
 */
export function fdCheck(
  f: () => Tensor,
  inputs: Tensor[],
  options: { eps?: number; rtol?: number; atol?: number; maxPerInput?: number; seed?: number } = {},
): FdResult {
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? 2e-2;
  const atol = options.atol ?? 2e-3;
  const maxPer = options.maxPerInput ?? 40;
  for (const t of inputs) t.grad = null;
  const out = f();
  const u = fillUniform(Tensor.empty(out.shape, 'float32').keep(), options.seed ?? 99);
  out.backward(u);
  const analytic = inputs.map((t) => (t.grad ? t.grad.toArray() : new Float32Array(t.size)));
  const objective = (): number =>
    noGrad(() => {
      const y = f().f32;
      const w = u.f32;
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i] * w[i];
      return s;
    });
  let worst = 0;
  let where = '';
  let ok = true;
  inputs.forEach((t, k) => {
    const step = Math.max(1, Math.floor(t.size / maxPer));
    for (let i = 0; i < t.size; i += step) {
      const d = t.f32;
      const old = d[i];
      d[i] = old + eps;
      const plus = objective();
      t.f32[i] = old - eps;
      const minus = objective();
      t.f32[i] = old;
      const num = (plus - minus) / (2 * eps);
      const got = analytic[k][i];
      const err = Math.abs(num - got);
      const rel = err / Math.max(Math.abs(num), 1e-12);
      if (err > atol && rel > rtol) {
        ok = false;
        if (rel > worst) {
          worst = rel;
          where = `input ${k} [${i}]: analytic ${got}, numeric ${num}`;
        }
      }
    }
  });
  u.dispose();
  endStep();
  return { ok, worst, where };
}
