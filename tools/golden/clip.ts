/**
 * clip.json: `kind: "norm"` cases (max_norm, norm_type 2, 1 or "inf"; the gradients of one
 * or more tensors; PyTorch's returned `total_norm` and the `clipped` gradients) and
 * `kind: "value"` cases (clip_value, `clipped`). Replayed through clipGradNorm_ /
 * clipGradValue_ within 1e-5 relative; the absolute floor near zero is 1e-6 of the case's
 * largest clipped value (not 1e-6 flat: with max_norm 1e-6 every clipped value is below 1e-6,
 * and a flat floor would accept any answer, zeros included).
 */
import { clipGradNorm_, clipGradValue_ } from '../../ts/optim/clip.js';
import { tensor } from '../../ts/tensor/create.js';
import { compareArrays, describeMismatch, type CaseResult } from './types.js';

const RTOL = 1e-5;
const ATOL = 1e-6;

function normType(v: unknown): number {
  if (v === 'inf' || v === 'Infinity' || v === Infinity) return Infinity;
  return Number(v);
}

export async function check(fixture: any, file: string): Promise<CaseResult[]> {
  const cases: any[] = Array.isArray(fixture) ? fixture : fixture.cases;
  if (!Array.isArray(cases)) return [{ name: file, ok: false, detail: 'no cases array' }];
  return cases.map((c, k) => {
    const name = `${file} #${k} ${c.kind === 'value' ? `clip_grad_value_(${c.clip_value})` : `clip_grad_norm_(max_norm=${c.max_norm}, norm_type=${c.norm_type})`}`;
    try {
      const grads: number[][] = c.grads.map((g: unknown) => (Array.isArray(g) ? (g as unknown[]).flat(Infinity as 1) : [g]));
      const params = grads.map((g) => {
        const p = tensor(new Float32Array(g.length)).keep();
        p.grad = tensor(g).keep();
        return p;
      });
      const problems: string[] = [];
      if (c.kind === 'value') {
        clipGradValue_(params, c.clip_value);
      } else if (c.kind === 'norm') {
        const total = clipGradNorm_(params, c.max_norm, normType(c.norm_type));
        const r = compareArrays([total], [c.total_norm], RTOL, ATOL);
        if (!r.ok) problems.push(describeMismatch('total norm', r));
      } else {
        return { name, ok: false, detail: `unknown kind '${c.kind}'` };
      }
      const wants: number[][] = c.clipped.map((w: unknown) => (Array.isArray(w) ? (w as unknown[]).flat(Infinity as 1) as number[] : [w as number]));
      const scale = Math.max(...wants.map((w) => Math.max(...w.map(Math.abs))));
      const atol = ATOL * (scale > 0 ? scale : 1);
      params.forEach((p, i) => {
        const want = Array.isArray(c.clipped[i]) ? (c.clipped[i] as unknown[]).flat(Infinity as 1) as number[] : [c.clipped[i]];
        const r = compareArrays(p.grad!.f32, want, RTOL, atol);
        if (!r.ok) problems.push(describeMismatch(`clipped gradient ${i}`, r));
        p.grad!.dispose();
        p.dispose();
      });
      return problems.length ? { name, ok: false, detail: problems.join('; ') } : { name, ok: true };
    } catch (e) {
      return { name, ok: false, detail: `threw: ${(e as Error).message}` };
    }
  });
}
