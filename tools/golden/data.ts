/**
 * data.json: standardisation, min-max scaling, PCA and ZCA whitening, all fitted on `train`
 * and applied to `test` (or `train` for the PCA output covariance). Reads any fixture in the
 * format described in test/fixtures/golden/README.md: `train`/`test` as lists of rows (or
 * flat with `train_shape`/`test_shape`), `eps`, and the sections present.
 *
 * Tolerances: scalers rtol 1e-5 / atol 1e-6 plus the float32 rounding bound of the affine map
 * itself, 4·2⁻²⁴·(|x| + |shift|)·|scale| per element: an output (x - mean)/std near zero from
 * x ≈ 50 is a cancellation, and even PyTorch in float32 is 1e-4 off the float64 reference
 * there (the data-variant fixture has such columns); whitening rtol 1e-4 /
 * atol 1e-5 (an eigendecomposition: error grows with 1/sqrt(smallest eigenvalue)); the PCA
 * output covariance is compared entry-wise with atol 1e-4 (its off-diagonal entries are ~0,
 * where float32 noise is absolute, not relative).
 */
import { tensor } from '../../ts/tensor/create.js';
import { wasm } from '../../ts/runtime/wasm.js';
import { Tensor } from '../../ts/tensor/tensor.js';
import { MinMaxScaler, StandardScaler } from '../../ts/data/scalers.js';
import { PCAWhitening, ZCAWhitening } from '../../ts/data/whitening.js';
import { f64View, withScratch } from '../../ts/data/util.js';
import { compareArrays, describeMismatch, type CaseResult } from './types.js';

function matrix(rows: any, shape: number[] | undefined, what: string): Tensor {
  if (Array.isArray(rows) && Array.isArray(rows[0])) {
    const n = rows.length;
    const d = rows[0].length;
    const flat = new Float32Array(n * d);
    rows.forEach((r: number[], i: number) => {
      if (r.length !== d) throw new Error(`${what}: ragged row ${i}`);
      flat.set(r, i * d);
    });
    return tensor(flat, [n, d]);
  }
  if (Array.isArray(rows) && shape) return tensor(Float32Array.from(rows), shape);
  throw new Error(`${what}: expected a list of rows (or a flat list with ${what}_shape)`);
}

const flat = (v: any): number[] => (Array.isArray(v) ? v.flat(Infinity) : [v]);

const F32_EPS = 2 ** -24;

/**
 * Compares y = (x - shift)·scale, per column, with the float32 rounding bound of that map as
 * the absolute tolerance of each element (on top of `atol`). Returns a problem or null.
 */
export function compareAffine(what: string, got: ArrayLike<number>, want: number[], x: number[], shift: number[], scale: number[], rtol: number, atol: number): string | null {
  const d = shift.length;
  if (got.length !== want.length || x.length !== want.length) return `${what}: length differs (got ${got.length}, want ${want.length})`;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const j = i % d;
    const bound = atol + 4 * F32_EPS * (Math.abs(x[i]) + Math.abs(shift[j])) * Math.abs(scale[j]);
    const diff = Math.abs(got[i] - want[i]);
    if (!(diff <= bound) && !(diff <= rtol * Math.abs(want[i]))) {
      const excess = diff / Math.max(bound, rtol * Math.abs(want[i]));
      if (excess > worst) [worst, at] = [excess, i];
    }
  }
  return at < 0 ? null : `${what}: [${at}] got ${got[at]}, want ${want[at]} (${worst.toFixed(1)}x the float32 bound of the affine map)`;
}

function populationCov(x: Tensor): Float64Array {
  const [n, d] = x.shape;
  return withScratch(8 * (d + d * d), (p) => {
    wasm().tread_data_covariance(x.ptr, n, d, p, p + 8 * d);
    return f64View(p + 8 * d, d * d).slice();
  });
}

export async function check(fixture: any, file: string): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  const train = matrix(fixture.train, fixture.train_shape, 'train');
  const test = matrix(fixture.test, fixture.test_shape, 'test');
  const eps = fixture.eps ?? 1e-5;
  const testFlat = Array.from(test.toArray() as ArrayLike<number>);
  let extra: string[] = [];
  const push = (name: string, parts: [string, ArrayLike<number>, ArrayLike<number>, number, number][]) => {
    const bad: string[] = extra;
    extra = [];
    for (const [what, got, want, rtol, atol] of parts) {
      const r = compareArrays(got, want, rtol, atol);
      if (!r.ok) bad.push(describeMismatch(what, r));
    }
    out.push({ name: `${file} ${name}`, ok: bad.length === 0, detail: bad.join('; ') || undefined });
  };
  const guard = (name: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      out.push({ name: `${file} ${name}`, ok: false, detail: `threw: ${(e as Error).message}` });
    }
  };

  if (fixture.standardize) {
    guard('standardize', () => {
      const s = new StandardScaler().fit(train);
      const sd = s.stateDict();
      const parts: [string, ArrayLike<number>, ArrayLike<number>, number, number][] = [];
      if (fixture.standardize.mean) parts.push(['mean', sd.mean, flat(fixture.standardize.mean), 1e-5, 1e-6]);
      if (fixture.standardize.std) parts.push(['std', sd.std, flat(fixture.standardize.std), 1e-5, 1e-6]);
      const mean: number[] = fixture.standardize.mean ? flat(fixture.standardize.mean) : Array.from(sd.mean);
      const std: number[] = fixture.standardize.std ? flat(fixture.standardize.std) : Array.from(sd.std);
      if (fixture.standardize.test_out) {
        const bad = compareAffine('test_out', s.transform(test).toArray(), flat(fixture.standardize.test_out), testFlat, mean, std.map((v) => 1 / v), 1e-5, 1e-6);
        if (bad) extra.push(bad);
      }
      // state round trip
      const s2 = new StandardScaler().loadStateDict(JSON.parse(JSON.stringify(sd)));
      parts.push(['test_out after loadStateDict', s2.transform(test).toArray(), s.transform(test).toArray(), 0, 0]);
      push('standardize', parts);
    });
  }
  if (fixture.minmax) {
    guard('minmax', () => {
      const s = new MinMaxScaler().fit(train);
      const sd = s.stateDict();
      const parts: [string, ArrayLike<number>, ArrayLike<number>, number, number][] = [];
      if (fixture.minmax.min) parts.push(['min', sd.min, flat(fixture.minmax.min), 1e-6, 1e-6]);
      if (fixture.minmax.max) parts.push(['max', sd.max, flat(fixture.minmax.max), 1e-6, 1e-6]);
      const lo: number[] = fixture.minmax.min ? flat(fixture.minmax.min) : Array.from(sd.min);
      const hi: number[] = fixture.minmax.max ? flat(fixture.minmax.max) : Array.from(sd.max);
      if (fixture.minmax.test_out) {
        const bad = compareAffine('test_out', s.transform(test).toArray(), flat(fixture.minmax.test_out), testFlat, lo, lo.map((v, j) => 1 / (hi[j] - v)), 1e-5, 1e-6);
        if (bad) extra.push(bad);
      }
      const s2 = new MinMaxScaler().loadStateDict(JSON.parse(JSON.stringify(sd)));
      parts.push(['test_out after loadStateDict', s2.transform(test).toArray(), s.transform(test).toArray(), 0, 0]);
      push('minmax', parts);
    });
  }
  if (fixture.pca) {
    guard('pca', () => {
      const p = new PCAWhitening({ eps }).fit(train);
      const parts: [string, ArrayLike<number>, ArrayLike<number>, number, number][] = [];
      if (fixture.pca.eigenvalues) parts.push(['eigenvalues', p.eigenvalues!, flat(fixture.pca.eigenvalues), 1e-4, 1e-6]);
      if (fixture.pca.train_out_cov) parts.push(['train_out_cov', populationCov(p.transform(train)), flat(fixture.pca.train_out_cov), 1e-4, 1e-4]);
      p.dispose();
      push('pca', parts);
    });
  }
  if (fixture.zca) {
    guard('zca', () => {
      const z = new ZCAWhitening({ eps }).fit(train);
      const parts: [string, ArrayLike<number>, ArrayLike<number>, number, number][] = [];
      if (fixture.zca.test_out) parts.push(['test_out', z.transform(test).toArray(), flat(fixture.zca.test_out), 1e-4, 1e-5]);
      if (fixture.zca.train_out_cov) parts.push(['train_out_cov', populationCov(z.transform(train)), flat(fixture.zca.train_out_cov), 1e-4, 1e-4]);
      const z2 = new ZCAWhitening({ eps }).loadStateDict(JSON.parse(JSON.stringify(z.stateDict())));
      parts.push(['test_out after loadStateDict', z2.transform(test).toArray(), z.transform(test).toArray(), 0, 0]);
      z.dispose();
      z2.dispose();
      push('zca', parts);
    });
  }
  train.dispose();
  test.dispose();
  return out;
}
