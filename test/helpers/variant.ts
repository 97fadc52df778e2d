/**
 * The wasm variant a test process runs on. Plain `vitest run` lets each file's init() choose
 * (on Node 20: the plain builds). The variant runs (vitest.variants.config.ts) set
 * TREAD_TEST_VARIANT, and test/helpers/variant-setup.ts loads that variant before the file's own
 * init(), which then returns the loaded runtime (init runs once per process). Files that set
 * thread counts take them from here, so that they also run on a single-threaded build.
 */
import type { WasmVariant } from '../../ts/runtime/wasm.js';

export const VARIANTS: readonly WasmVariant[] = ['tread-simd', 'tread-simd-threads', 'tread-relaxed', 'tread-relaxed-threads'];

/** The variant TREAD_TEST_VARIANT pins, or null. */
export function pinnedVariant(): WasmVariant | null {
  const v = process.env.TREAD_TEST_VARIANT;
  if (v === undefined || v === '') return null;
  if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`TREAD_TEST_VARIANT must be one of ${VARIANTS.join(', ')}, got "${v}"`);
  return v as WasmVariant;
}

/** True when a single-threaded build is pinned (then the pool has one thread). */
export const SINGLE_BUILD: boolean = (() => {
  const v = pinnedVariant();
  return v !== null && !v.endsWith('-threads');
})();

/** The thread counts a file that inits with threads: 2 may set: [1, 2], or [1] on a single build. */
export const THREAD_COUNTS: readonly number[] = SINGLE_BUILD ? [1] : [1, 2];
/** The pool size of such a file: 2, or 1 on a single build. */
export const POOL_THREADS: number = SINGLE_BUILD ? 1 : 2;
