/**
 * sgemm with a fused epilogue (bias per column / per row, ReLU) and the fused Linear+ReLU
 * forward, through the wasm build that init() picks here (plain SIMD128, or relaxed SIMD with
 * TREAD_RELAXED_SIMD=1 / on Node 22+): each case against the f64 reference export and a
 * naive JS loop.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, memoryBuffer, runtimeInfo, setThreads, wasm } from '../ts/runtime/wasm.js';
import { FORMS, naiveSgemm } from './gemm-helpers.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  };
}

/** Copies `data` into fresh wasm memory; returns the pointer. */
function put(data: Float32Array): number {
  const p = wasm().tread_alloc(Math.max(4, data.length * 4));
  new Float32Array(memoryBuffer(), p, data.length).set(data);
  return p;
}

function get(p: number, len: number): Float32Array {
  return new Float32Array(memoryBuffer(), p, len).slice();
}

interface EpCase {
  ta: boolean; tb: boolean; m: number; n: number; k: number;
  alpha?: number; beta?: number; pad?: number;
  colBias?: boolean; rowBias?: boolean; relu?: boolean;
}

function runEp(cs: EpCase): void {
  const { ta, tb, m, n, k } = cs;
  const alpha = cs.alpha ?? 1, beta = cs.beta ?? 0, pad = cs.pad ?? 0;
  const [ar, ac] = ta ? [k, m] : [m, k];
  const [br, bc] = tb ? [n, k] : [k, n];
  const lda = Math.max(1, ac) + pad, ldb = Math.max(1, bc) + 2 * pad, ldc = Math.max(1, n) + 3 * pad;
  const r = rng(m * 7919 + n * 131 + k * 17 + (cs.colBias ? 1 : 0) + (cs.rowBias ? 2 : 0));
  const a = Float32Array.from({ length: Math.max(1, ar * lda) }, r);
  const b = Float32Array.from({ length: Math.max(1, br * ldb) }, r);
  const c0 = Float32Array.from({ length: Math.max(1, m * ldc) }, r);
  const cb = Float32Array.from({ length: Math.max(1, n) }, r);
  const rb = Float32Array.from({ length: Math.max(1, m) }, r);
  const pa = put(a), pb = put(b), pc = put(c0), pr = put(c0), pcb = put(cb), prb = put(rb);
  try {
    const args = [ta ? 1 : 0, tb ? 1 : 0, m, n, k, alpha, pa, lda, pb, ldb, beta] as const;
    const ep = [cs.colBias ? pcb : 0, cs.rowBias ? prb : 0, cs.relu ? 1 : 0] as const;
    wasm().tread_sgemm_ep(...args, pc, ldc, ...ep);
    wasm().tread_sgemm_ep_ref(...args, pr, ldc, ...ep);
    const got = get(pc, c0.length), ref = get(pr, c0.length);
    const js = Float32Array.from(c0);
    naiveSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, js, ldc);
    const tol = 1e-5 * (k + 1) * (Math.abs(alpha) + 1) + 1e-6;
    let clamped = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        const x = i * ldc + j;
        if (j >= n) {
          if (!Object.is(got[x], c0[x])) expect.fail(`${JSON.stringify(cs)}: padding C[${i}][${j}] changed`);
          continue;
        }
        let want = js[x] + (cs.colBias ? cb[j] : 0) + (cs.rowBias ? rb[i] : 0);
        if (cs.relu && want < 0) { want = 0; clamped++; }
        if (!(Math.abs(got[x] - want) <= tol * (1 + Math.abs(want)))) {
          expect.fail(`${JSON.stringify(cs)}: C[${i}][${j}] = ${got[x]}, JS says ${want}`);
        }
        if (!(Math.abs(ref[x] - want) <= 1e-5 * (1 + Math.abs(want)))) {
          expect.fail(`${JSON.stringify(cs)}: ref C[${i}][${j}] = ${ref[x]}, JS says ${want}`);
        }
      }
    }
    if (cs.relu && m * n >= 16) expect(clamped).toBeGreaterThan(0);
  } finally {
    const w = wasm();
    w.tread_free(pa, Math.max(4, a.length * 4)); w.tread_free(pb, Math.max(4, b.length * 4));
    w.tread_free(pc, Math.max(4, c0.length * 4)); w.tread_free(pr, Math.max(4, c0.length * 4));
    w.tread_free(pcb, Math.max(4, cb.length * 4)); w.tread_free(prb, Math.max(4, rb.length * 4));
  }
}

const variantWanted = process.env.TREAD_RELAXED_SIMD === '1' ? /relaxed/ : process.env.TREAD_RELAXED_SIMD === '0' ? /^tread-simd/ : /./;

describe.each([2, 1])('sgemm_ep through wasm, %i thread(s)', (threads) => {
  beforeAll(() => {
    expect(runtimeInfo().poolThreads).toBe(2);
    expect(runtimeInfo().variant).toMatch(variantWanted);
    setThreads(threads);
  });

  it.each(FORMS)('transA=%s transB=%s: bias per column / row / both, ReLU, odd shapes, alpha/beta, ld > cols', (ta, tb) => {
    for (const [m, n, k] of [[1, 1, 1], [3, 7, 5], [7, 9, 63], [33, 17, 40], [130, 70, 300], [5, 300, 17], [200, 260, 150]]) {
      runEp({ ta, tb, m, n, k, colBias: true, relu: true });
      runEp({ ta, tb, m, n, k, rowBias: true, relu: true, pad: 1 });
      runEp({ ta, tb, m, n, k, colBias: true, rowBias: true, alpha: -0.5, beta: 2, pad: 2 });
      runEp({ ta, tb, m, n, k, relu: true, alpha: 1.5, beta: 1, pad: 3 });
    }
  });

  it('k = 0: C = relu(beta·C + bias)', () => {
    runEp({ ta: false, tb: false, m: 9, n: 13, k: 0, beta: 0.5, colBias: true, rowBias: true, relu: true });
  });

  it('tread_linear_forward_relu: relu(x·Wᵀ + b) against JS, with and without bias', () => {
    for (const [m, fin, fout] of [[1, 1, 1], [5, 7, 3], [128, 300, 70], [64, 784, 256]]) {
      const r = rng(m + fin * 3 + fout * 7);
      const x = Float32Array.from({ length: m * fin }, r);
      const w = Float32Array.from({ length: fout * fin }, () => r() * 0.1);
      const b = Float32Array.from({ length: fout }, r);
      for (const bias of [true, false]) {
        const px = put(x), pw = put(w), pb = put(b), py = put(new Float32Array(m * fout).fill(NaN));
        try {
          wasm().tread_linear_forward_relu(m, fin, fout, px, pw, bias ? pb : 0, py);
          const y = get(py, m * fout);
          let clamped = 0;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < fout; j++) {
              let s = bias ? b[j] : 0;
              for (let p = 0; p < fin; p++) s += x[i * fin + p] * w[j * fin + p];
              if (s < 0) { s = 0; clamped++; }
              if (!(Math.abs(y[i * fout + j] - s) <= 1e-5 * (fin + 1) * (1 + Math.abs(s)))) {
                expect.fail(`linear relu m=${m} fin=${fin} fout=${fout} bias=${bias}: y[${i}][${j}] = ${y[i * fout + j]}, JS says ${s}`);
              }
            }
          }
          if (m * fout >= 16) expect(clamped).toBeGreaterThan(0);
        } finally {
          const ww = wasm();
          ww.tread_free(px, x.length * 4); ww.tread_free(pw, w.length * 4);
          ww.tread_free(pb, b.length * 4); ww.tread_free(py, m * fout * 4);
        }
      }
    }
  });
});
