/**
 * optimizers.json: each case names a PyTorch optimizer, its options (snake_case, mapped to
 * tread's camelCase), optional param `groups`, two or more parameter tensors (`shapes`,
 * `init`) and a loss. The checker computes the loss's gradient in JS from the current
 * parameters every step (float32 results), writes it into `p.grad`, calls `step()` and
 * compares the parameters with PyTorch's after every step.
 *
 * Tolerances (fixture README): the first step within 1e-5 relative (1e-6 absolute near
 * zero); the whole trajectory within 1e-3 relative (1e-5 absolute). Where the fixture lists
 * the gradients PyTorch saw (`grads`), the loss is checked against them: our gradient function
 * evaluated at PyTorch's own parameters before that step (init, then `params[s-1]`) must give
 * PyTorch's gradient within 1e-4 relative (1e-5 absolute: the terms of the gradient cancel near
 * the optimum, so float32 rounding is absolute there). Comparing the gradients at our own
 * parameters instead would measure trajectory drift, amplified by that cancellation (a
 * parameter 1e-5 off can move a near-zero gradient by 1%), which `params` already checks.
 *
 * Losses understood (whitespace and case ignored, numbers free):
 *   sum(c*p^2) + sum(d*p) + K*sum(p^3)/N  over all tensors (c, d given per tensor)
 *   (sum_over_rows(p0) . p1)^2 + sum(p0^2)   (optional numeric factors on both terms)
 * Another loss with recorded `grads` is replayed with PyTorch's gradients (noted in the
 * result); without them the case fails as unsupported.
 */
import * as optim from '../../ts/optim/index.js';
import type { Optimizer } from '../../ts/optim/optimizer.js';
import { tensor } from '../../ts/tensor/create.js';
import type { Tensor } from '../../ts/tensor/tensor.js';
import { compareArrays, describeMismatch, type CaseResult } from './types.js';

type GradFn = (params: Float32Array[]) => Float64Array[];

const NUM = '([-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[-+]?\\d+)?)';

/** Turns a fixture's loss text into a gradient function, or explains why not. */
export function lossGradient(text: string, c: any): GradFn | string {
  // A trailing 'over both tensors' / 'over all 3 tensors' says where the sums run: over every tensor.
  const s = String(text).toLowerCase().replace(/\s+/g, '').replace(/over[a-z0-9]*tensors?$/, '').replace(/\*\*/g, '^');
  let m = new RegExp(`^sum\\(c\\*p\\^2\\)\\+sum\\(d\\*p\\)\\+${NUM}\\*sum\\(p\\^3\\)\\/${NUM}$`).exec(s);
  if (m) {
    const k = Number(m[1]) / Number(m[2]);
    const cs: number[][] = c.c;
    const ds: number[][] = c.d;
    if (!Array.isArray(cs) || !Array.isArray(ds)) return 'loss uses c and d, which the case does not give';
    return (ps) =>
      ps.map((p, t) => {
        const g = new Float64Array(p.length);
        for (let i = 0; i < p.length; i++) g[i] = 2 * cs[t][i] * p[i] + ds[t][i] + 3 * k * p[i] * p[i];
        return g;
      });
  }
  m = new RegExp(`^(?:${NUM}\\*)?\\(sum_over_rows\\(p0\\)[.·]p1\\)\\^2\\+(?:${NUM}\\*)?sum\\(p0\\^2\\)$`).exec(s);
  if (m) {
    const a = m[1] === undefined ? 1 : Number(m[1]);
    const b = m[2] === undefined ? 1 : Number(m[2]);
    const shape0: number[] = c.shapes[0];
    if (shape0.length !== 2 || c.shapes[1].length !== 1 || c.shapes[1][0] !== shape0[1]) return `loss needs p0 [r, k] and p1 [k], got ${JSON.stringify(c.shapes)}`;
    const [rows, cols] = shape0;
    return ([p0, p1]) => {
      const sum = new Float64Array(cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sum[j] += p0[i * cols + j];
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += sum[j] * p1[j];
      const g0 = new Float64Array(p0.length);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) g0[i * cols + j] = 2 * a * dot * p1[j] + 2 * b * p0[i * cols + j];
      const g1 = new Float64Array(cols);
      for (let j = 0; j < cols; j++) g1[j] = 2 * a * dot * sum[j];
      return [g0, g1];
    };
  }
  return `unsupported loss '${text}'`;
}

/** snake_case option names to camelCase; drops PyTorch-only implementation switches. */
export function camelOptions(o: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o ?? {})) {
    if (['foreach', 'capturable', 'differentiable', 'fused'].includes(k)) continue;
    out[k.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase())] = v;
  }
  return out;
}

const CTORS: Record<string, new (params: any, options: any) => Optimizer<any>> = {
  SGD: optim.SGD,
  Adagrad: optim.Adagrad,
  RMSprop: optim.RMSprop,
  Adadelta: optim.Adadelta,
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  Adamax: optim.Adamax,
  NAdam: optim.NAdam,
  RAdam: optim.RAdam,
};

const STEP_RTOL = 1e-5;
const STEP_ATOL = 1e-6;
const RUN_RTOL = 1e-3;
const RUN_ATOL = 1e-5;
const GRAD_RTOL = 1e-4;
const GRAD_ATOL = 1e-5;

function flat(x: unknown): number[] {
  return Array.isArray(x) ? (x as unknown[]).flat(Infinity as 1) as number[] : [];
}

function runCase(c: any, name: string): CaseResult {
  const Ctor = CTORS[c.optimizer];
  if (!Ctor) return { name, ok: false, detail: `unknown optimizer '${c.optimizer}'` };
  const shapes: number[][] = c.shapes;
  const params: Tensor[] = shapes.map((sh, i) => {
    const t = tensor(flat(c.init[i]), sh).keep();
    t.name = `p${i}`;
    t.requiresGrad = true;
    t.grad = tensor(new Float32Array(t.size), sh).keep();
    return t;
  });
  let gradFn = lossGradient(c.loss ?? 'sum(c*p^2) + sum(d*p) + 0.1*sum(p^3)/3', c);
  let note = '';
  if (typeof gradFn === 'string') {
    if (!Array.isArray(c.grads)) return { name, ok: false, detail: gradFn };
    note = ` (${gradFn}: replayed PyTorch's gradients)`;
    gradFn = null as unknown as GradFn;
  }
  const options = camelOptions(c.options);
  let opt: Optimizer<any>;
  try {
    if (Array.isArray(c.groups)) {
      const specs = c.groups.map((g: any, i: number) => {
        const ids: number[] = Array.isArray(g.params) ? g.params : [i];
        const o = camelOptions({ ...g, params: undefined });
        delete o.params;
        return { params: ids.map((k) => params[k]), ...o };
      });
      opt = new Ctor(specs, options);
    } else opt = new Ctor(params, options);
  } catch (e) {
    return { name, ok: false, detail: `construction failed: ${(e as Error).message}` };
  }
  const steps: number = c.steps ?? c.params.length;
  let worstRun = 0;
  const problems: string[] = [];
  for (let s = 0; s < steps; s++) {
    const cur = params.map((p) => p.f32.slice());
    const grads: ArrayLike<number>[] = gradFn ? (gradFn as GradFn)(cur) : (c.grads[s] as number[][]).map(flat);
    params.forEach((p, i) => {
      const g = p.grad!.f32;
      for (let k = 0; k < g.length; k++) g[k] = Math.fround(grads[i][k]);
    });
    if (note === '' && Array.isArray(c.grads) && c.grads[s]) {
      const theirs = s === 0 ? c.init : c.params?.[s - 1];
      if (theirs) {
        const atTheirs = (gradFn as GradFn)(theirs.map((t: unknown) => Float32Array.from(flat(t))));
        atTheirs.forEach((g, i) => {
          const r = compareArrays(Float32Array.from(g), flat(c.grads[s][i]), GRAD_RTOL, GRAD_ATOL);
          if (!r.ok && problems.length < 3) problems.push(describeMismatch(`loss gradient of p${i} at PyTorch's parameters before step ${s + 1}`, r));
        });
      }
    }
    opt.step();
    if (!c.params?.[s]) continue;
    params.forEach((p, i) => {
      const want = flat(c.params[s][i]);
      const r = compareArrays(p.f32, want, s === 0 ? STEP_RTOL : RUN_RTOL, s === 0 ? STEP_ATOL : RUN_ATOL);
      worstRun = Math.max(worstRun, compareArrays(p.f32, want, Infinity, 1e-7).worst);
      if (!r.ok && problems.length < 3) problems.push(describeMismatch(`p${i} after step ${s + 1}${s === 0 ? ' (single step)' : ''}`, r));
    });
  }
  for (const p of params) {
    p.grad?.dispose();
    p.dispose();
  }
  opt.dispose();
  if (problems.length > 0) return { name, ok: false, detail: problems.join('; ') + note };
  return { name: name + note, ok: true, detail: `worst relative error over ${steps} steps ${worstRun.toExponential(2)} (elements beyond 1e-7 of zero)` };
}

export async function check(fixture: any, file: string): Promise<CaseResult[]> {
  const cases: any[] = Array.isArray(fixture) ? fixture : fixture.cases;
  if (!Array.isArray(cases)) return [{ name: file, ok: false, detail: 'no cases array' }];
  return cases.map((c, k) => {
    const name = `${file} #${k} ${c.optimizer}(${JSON.stringify(c.options ?? {})}${c.groups ? ` groups ${JSON.stringify(c.groups)}` : ''})`;
    try {
      return runCase(c, name);
    } catch (e) {
      return { name, ok: false, detail: `threw: ${(e as Error).message}` };
    }
  });
}
