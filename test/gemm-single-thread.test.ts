import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtimeInfo } from '../ts/runtime/wasm.js';
import { FORMS, runCase } from './gemm-helpers.js';
import { pinnedVariant } from './helpers/variant.js';

// Its own process (vitest forks pool): the single-threaded, non-shared-memory build (the plain
// one; the variant runs of vitest.variants.config.ts load tread-relaxed here instead, on Node 24:
// the FMA microkernel without the pool).
beforeAll(async () => {
  await init({ threads: 1, relaxedSimd: false });
});

describe('sgemm on the single-threaded build', () => {
  it('is the single-threaded variant', () => {
    expect(runtimeInfo().variant).toBe(pinnedVariant() ?? 'tread-simd');
  });

  it.each(FORMS)('transA=%s transB=%s', (transA, transB) => {
    // 300 x 260 x 530: several row blocks, column groups and depth blocks, with edges in each.
    for (const [m, n, k] of [[1, 1, 1], [7, 63, 129], [64, 64, 64], [129, 7, 63], [300, 260, 530]]) {
      runCase({ transA, transB, m, n, k });
    }
    runCase({ transA, transB, m: 130, n: 70, k: 300, alpha: 2, beta: -1, pad: 3 });
    runCase({ transA, transB, m: 33, n: 17, k: 40, pad: 1, nanC: true });
  });
});
