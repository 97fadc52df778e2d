/** Shared by the SGEMM tests: one case run through tread_sgemm, tread_sgemm_ref and plain JS. */
import { expect } from 'vitest';
import { memoryBuffer, wasm } from '../ts/runtime/wasm.js';
import { sgemm, sgemmRef } from '../ts/kernels/gemm.js';

export interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha?: number;
  beta?: number;
  /** Extra elements on each row stride (lda += pad, ldb += 2·pad, ldc += 3·pad). */
  pad?: number;
  /** Fill C with NaN first (beta must be 0 then). */
  nanC?: boolean;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  };
}

/** Naive JS: C = alpha·op(A)·op(B) + beta·C over strided row-major arrays, in f64. */
export function naiveSgemm(
  ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      }
      c[i * ldc + j] = beta === 0 ? alpha * s : alpha * s + beta * c[i * ldc + j];
    }
  }
}

/** Runs one case three ways and compares; returns the max abs error of tread vs JS. */
export function runCase(cs: Case, seed = 1): number {
  const { transA: ta, transB: tb, m, n, k } = cs;
  const alpha = cs.alpha ?? 1;
  const beta = cs.beta ?? 0;
  const pad = cs.pad ?? 0;
  const [ar, ac] = ta ? [k, m] : [m, k];
  const [br, bc] = tb ? [n, k] : [k, n];
  const lda = ac + pad, ldb = bc + 2 * pad, ldc = n + 3 * pad;
  const alen = Math.max(1, ar * lda), blen = Math.max(1, br * ldb), clen = Math.max(1, m * ldc);
  const w = wasm();
  const pa = w.tread_alloc(alen * 4), pb = w.tread_alloc(blen * 4);
  const pc = w.tread_alloc(clen * 4), pr = w.tread_alloc(clen * 4);
  try {
    const r = rng(seed * 7919 + m * 131 + n * 17 + k);
    const a = Float32Array.from({ length: alen }, r);
    const b = Float32Array.from({ length: blen }, r);
    const c0 = Float32Array.from({ length: clen }, cs.nanC ? () => NaN : r);
    new Float32Array(memoryBuffer(), pa, alen).set(a);
    new Float32Array(memoryBuffer(), pb, blen).set(b);
    new Float32Array(memoryBuffer(), pc, clen).set(c0);
    new Float32Array(memoryBuffer(), pr, clen).set(c0);
    const args = { transA: ta, transB: tb, m, n, k, alpha, lda, ldb, beta, ldc };
    sgemm({ ...args, a: pa, b: pb, c: pc });
    sgemmRef({ ...args, a: pa, b: pb, c: pr });
    const got = new Float32Array(memoryBuffer(), pc, clen).slice();
    const ref = new Float32Array(memoryBuffer(), pr, clen).slice();
    const js = Float32Array.from(c0);
    naiveSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, js, ldc);
    const tol = 1e-5 * (k + 1) * (Math.abs(alpha) + 1) + 1e-6;
    let maxErr = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        const x = i * ldc + j;
        if (j >= n) {
          // Padding past n must be left alone (NaN stays NaN).
          if (!Object.is(got[x], c0[x])) throw new Error(`padding C[${i}][${j}] changed`);
          continue;
        }
        const e = Math.abs(got[x] - js[x]);
        maxErr = Math.max(maxErr, e);
        if (!(e <= tol * (1 + Math.abs(js[x])))) {
          expect.fail(`${JSON.stringify(cs)}: C[${i}][${j}] = ${got[x]}, JS says ${js[x]}`);
        }
        if (!(Math.abs(ref[x] - js[x]) <= 1e-6 * (1 + Math.abs(js[x])))) {
          expect.fail(`${JSON.stringify(cs)}: ref C[${i}][${j}] = ${ref[x]}, JS says ${js[x]}`);
        }
      }
    }
    return maxErr;
  } finally {
    w.tread_free(pa, alen * 4); w.tread_free(pb, blen * 4);
    w.tread_free(pc, clen * 4); w.tread_free(pr, clen * 4);
  }
}

export const FORMS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
