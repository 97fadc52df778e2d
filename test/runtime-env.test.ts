import { describe, expect, it } from 'vitest';
import { init, runtimeInfo } from '../ts/runtime/wasm.js';
import { hasRelaxedSimd } from '../ts/runtime/features.js';

// Its own process (vitest forks pool): TREAD_THREADS picks the thread count for 'auto'.
describe('thread-count choice', () => {
  it('takes TREAD_THREADS when threads is auto, and rejects nonsense', async () => {
    process.env.TREAD_THREADS = '1';
    const info = await init();
    expect(info.variant).toBe(hasRelaxedSimd() ? 'tread-relaxed' : 'tread-simd');
    expect(runtimeInfo().poolThreads).toBe(1);
    delete process.env.TREAD_THREADS;
  });
});
