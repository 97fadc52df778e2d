import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtimeInfo, setThreads } from '../ts/runtime/wasm.js';
import { sgemm } from '../ts/kernels/gemm.js';
import { FORMS, runCase } from './gemm-helpers.js';
import { POOL_THREADS, THREAD_COUNTS } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const ODD = [1, 7, 63, 129];
const ROUND = [8, 64, 128];

describe.each([...THREAD_COUNTS].reverse())('sgemm through wasm, %i thread(s)', (threads) => {
  beforeAll(() => {
    expect(runtimeInfo().poolThreads).toBe(POOL_THREADS);
    setThreads(threads);
  });

  it.each(FORMS)('transA=%s transB=%s: odd and round sizes vs ref and naive JS', (transA, transB) => {
    for (const m of [...ODD, ...ROUND]) {
      for (const n of [1, 7, 64, 129]) {
        for (const k of [1, 63, 128]) runCase({ transA, transB, m, n, k });
      }
    }
  });

  it.each(FORMS)('transA=%s transB=%s: non-square, strided, alpha/beta, NaN in C with beta=0', (transA, transB) => {
    for (const [m, n, k] of [[5, 300, 17], [300, 5, 17], [37, 53, 300], [130, 70, 513], [200, 260, 150]]) {
      runCase({ transA, transB, m, n, k, pad: 3 });
      runCase({ transA, transB, m, n, k, alpha: -0.5, beta: 2, pad: 1 });
      runCase({ transA, transB, m, n, k, alpha: 1.5, beta: 0, pad: 2, nanC: true });
    }
  });

  it('big enough to be split over threads and cache blocks', () => {
    runCase({ transA: false, transB: false, m: 300, n: 520, k: 530, alpha: 0.5, beta: 1, pad: 1 });
    runCase({ transA: true, transB: true, m: 257, n: 255, k: 300, nanC: true });
  });
});

describe('argument checks', () => {
  it('rejects bad strides and shapes in JS, before wasm', () => {
    expect(() => sgemm({ m: 2, n: 2, k: 3, a: 0, b: 0, c: 0, lda: 2 })).toThrow(/lda/);
    expect(() => sgemm({ m: 2, n: 2, k: 3, a: 0, b: 0, c: 0, ldc: 1 })).toThrow(/ldc/);
    expect(() => sgemm({ m: -1, n: 2, k: 3, a: 0, b: 0, c: 0 })).toThrow(/m must/);
    expect(() => sgemm({ m: 1, n: 2, k: 3, a: 2, b: 0, c: 0 })).toThrow(/aligned/);
  });
});
