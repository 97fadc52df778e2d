import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtimeInfo } from '../ts/runtime/wasm.js';
import { hasRelaxedSimd } from '../ts/runtime/features.js';
import { FORMS, runCase } from './gemm-helpers.js';

// Its own process: the single-threaded relaxed-SIMD build (FMA microkernel), where the engine
// has relaxed SIMD (Node 22+; Node 20 with --experimental-wasm-relaxed-simd); skipped elsewhere.
const relaxed = hasRelaxedSimd();

beforeAll(async () => {
  if (relaxed) await init({ threads: 1, relaxedSimd: true });
});

describe.skipIf(!relaxed)('sgemm on the single-threaded relaxed-SIMD build', () => {
  it('is the tread-relaxed variant', () => {
    expect(runtimeInfo().variant).toBe('tread-relaxed');
  });

  it.each(FORMS)('transA=%s transB=%s', (transA, transB) => {
    for (const [m, n, k] of [[1, 1, 1], [7, 63, 129], [64, 64, 64], [129, 7, 63], [300, 260, 530]]) {
      runCase({ transA, transB, m, n, k });
    }
    runCase({ transA, transB, m: 130, n: 70, k: 300, alpha: 2, beta: -1, pad: 3 });
    runCase({ transA, transB, m: 33, n: 17, k: 40, pad: 1, nanC: true });
  });
});
