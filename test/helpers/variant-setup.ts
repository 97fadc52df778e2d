/**
 * Setup file of the variant runs (vitest.variants.config.ts): loads the variant named by
 * TREAD_TEST_VARIANT before the test file runs; the file's own `init({ threads: 2 })` then
 * returns this runtime. A variant that cannot load here (relaxed SIMD missing from the engine,
 * a file not built) fails the file rather than testing another variant by mistake.
 */
import { afterAll, expect } from 'vitest';
import { init, runtimeInfo } from '../../ts/runtime/wasm.js';
import { pinnedVariant } from './variant.js';

const variant = pinnedVariant();
if (variant === null) throw new Error('test/helpers/variant-setup.ts needs TREAD_TEST_VARIANT (see vitest.variants.config.ts)');
const info = await init({ threads: variant.endsWith('-threads') ? 2 : 1, relaxedSimd: variant.startsWith('tread-relaxed') });
if (info.variant !== variant) throw new Error(`asked for ${variant}, init loaded ${info.variant} (${info.note ?? 'no note'})`);

afterAll(() => {
  // Still the pinned variant after the file ran (nothing loaded another runtime in this module graph).
  expect(runtimeInfo().variant).toBe(variant);
});
