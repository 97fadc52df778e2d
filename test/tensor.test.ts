import { beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '../ts/tensor/tensor.js';
import { endStep, tidy } from '../ts/tensor/lifetime.js';
import { tensor, zeros } from '../ts/tensor/create.js';
import { init, memoryBuffer, runtimeInfo, setThreads, wasm } from '../ts/runtime/wasm.js';
import { hasRelaxedSimd } from '../ts/runtime/features.js';
import { pinnedVariant, SINGLE_BUILD } from './helpers/variant.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

describe('runtime', () => {
  it.skipIf(SINGLE_BUILD)('loads the threaded build with a pool of 2 and uses both threads', () => {
    const info = runtimeInfo();
    // The relaxed build where the engine has relaxed SIMD, unless a variant run pinned one.
    expect(info.variant).toBe(pinnedVariant() ?? (hasRelaxedSimd() ? 'tread-relaxed-threads' : 'tread-simd-threads'));
    expect(info.poolThreads).toBe(2);
    expect(wasm().tread_probe_threads(32)).toBe(2);
  });

  it.skipIf(SINGLE_BUILD)('lets the thread count be lowered and raised within the pool', () => {
    setThreads(1);
    expect(runtimeInfo().threads).toBe(1);
    expect(wasm().tread_threads()).toBe(1);
    expect(wasm().tread_probe_threads(32)).toBe(1);
    setThreads(2);
    expect(wasm().tread_threads()).toBe(2);
    expect(() => setThreads(3)).toThrow(/pool has 2/);
    expect(() => setThreads(0)).toThrow(/positive integer/);
  });

  it.skipIf(SINGLE_BUILD)('runs back-to-back tiny parallel regions, every task exactly once', () => {
    // Workers still claiming in one region while the caller opens the next, in the wasm
    // build (shared memory, 64-bit claim words, JS workers). This is a check of the protocol
    // end to end, not a detector of the old race (a claim checked against the next region's
    // task count: a native SIGSEGV in CI): its window is a few instructions wide and is hit
    // only under preemption, which claims_survive_a_preempted_worker (pool.rs) forces natively.
    expect(wasm().tread_threads()).toBe(2);
    for (const tasks of [1, 2, 3, 7, 16]) expect(wasm().tread_pool_check_regions(5000, tasks)).toBe(0);
  });
});

describe('tensors', () => {
  it('copies data in once and reads it through a zero-copy view', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    // The view aliases wasm memory at t.ptr.
    const raw = new Float32Array(memoryBuffer(), t.ptr, 6);
    raw[4] = 50;
    expect(t.data[4]).toBe(50);
    expect(t.tolist()).toEqual([[1, 2, 3], [4, 50, 6]]);
  });

  it('rejects data that does not fill the shape, naming both', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
  });

  it('keeps views valid across memory growth', () => {
    const t = tensor([1, 2, 3, 4]);
    const before = memoryBuffer().byteLength;
    const oldView = t.data;
    const big: Tensor[] = [];
    while (memoryBuffer().byteLength === before) big.push(zeros([4 << 20])); // 16 MiB each
    expect(memoryBuffer().byteLength).toBeGreaterThan(before);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]); // fresh view after growth
    if (SINGLE_BUILD) {
      // A single-threaded build's own memory detaches its old buffer when it grows.
      expect(oldView.length).toBe(0);
    } else {
      // Shared memory (threaded build) never detaches: the old view still aliases the tensor.
      oldView[0] = 9;
      expect(t.data[0]).toBe(9);
    }
    big.forEach((b) => b.dispose());
  });

  it('throws a clear error when a disposed tensor is used', () => {
    const t = tensor([1, 2]);
    t.dispose();
    expect(() => t.data).toThrow(/used after dispose/);
    expect(() => t.ptr).toThrow(/used after dispose/);
    expect(() => t.item()).toThrow(/used after dispose/);
  });

  it('frees temporaries one step after the step that made them, unless kept', () => {
    const a = Tensor.empty([3], 'float32', true);
    const b = Tensor.empty([3], 'float32', true).keep();
    const owned = tensor([1, 2, 3]);
    endStep(); // the step that made them ends: still readable (e.g. loss.item() after step())
    expect(() => a.data).not.toThrow();
    endStep(); // the next step ends: released
    expect(() => a.data).toThrow(/released.*\.keep\(\)/s);
    expect(() => b.data).not.toThrow();
    expect(owned.data[2]).toBe(3);
  });

  it('tidy frees what it made except what it returns', () => {
    let inner!: Tensor;
    const out = tidy(() => {
      inner = zeros([4]);
      return Tensor.empty([2], 'float32', true);
    });
    expect(() => inner.data).toThrow(/tidy\(\) scope/);
    expect(() => out.data).not.toThrow();
  });

  it('reuses memory: allocating and releasing in a loop keeps memory flat', () => {
    for (let i = 0; i < 50; i++) {
      Tensor.empty([1 << 18], 'float32', true);
      endStep();
    }
    const size = memoryBuffer().byteLength;
    for (let i = 0; i < 2000; i++) {
      Tensor.empty([1 << 18], 'float32', true);
      Tensor.empty([1 << 16], 'float32', true);
      endStep();
    }
    expect(memoryBuffer().byteLength).toBe(size);
  });
});
