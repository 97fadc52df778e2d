/**
 * The kernel-level tests on each wasm variant (issue 13.1): `npm test` runs this config under
 * Node 24 and under Node 20 (scripts/test.sh); the plain `vitest run` (vitest.config.ts) is
 * the rest of the coverage: every file on Node 20, whose engine has no relaxed SIMD, so the
 * plain builds (mostly tread-simd-threads).
 *
 * Each project pins one variant with TREAD_TEST_VARIANT (test/helpers/variant-setup.ts loads
 * it before the file's own init). Which projects run depends on the engine running vitest:
 *   Node 22+ (relaxed SIMD on)  tread-relaxed-threads (THREADED files), tread-relaxed (SINGLE)
 *   Node 20                     tread-simd (SINGLE), and tread-relaxed-threads with
 *                               --experimental-wasm-relaxed-simd (FLAGGED): Node 20's V8 (11.3)
 *                               relaxed SIMD, which its users can turn on
 * `--project <name>` picks one. Every file compares the kernels with its references (naive
 * loops, finite differences, PyTorch numbers), so results that FMA's rounding moves past a
 * tolerance show up here, on the variant that moved them.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** Files that cover the wasm kernels (GEMM, convolutions, elementwise/activations/softmax/reductions, norms, losses, optimizer steps, autograd). */
const THREADED = [
  'gemm', 'kernels-ops', 'ops', 'autograd', 'gradcheck', 'layers', 'conv-depthwise', 'conv-pool-options',
  'loss-options', 'optim', 'optimizer-drift', 'clip', 'train-nn', 'vocab-ops', 'vocab-layers', 'reduce-ties',
  'tensor', 'pytorch-state', 'exp-lanes', 'relu-fusion', 'norm-groups', 'norm-batch', 'dropout-mask',
].map((f) => `test/${f}.test.ts`);
/**
 * A single-threaded build runs the same kernels without the pool: the files whose kernels have
 * threaded paths (GEMM, the elementwise/reduction kernels, convolutions, optimizer steps, layers)
 * and the memory rules of a non-shared memory (tensor).
 */
const SINGLE = ['gemm-single-thread', 'kernels-ops', 'conv-pool-options', 'conv-depthwise', 'layers', 'optim', 'gradcheck', 'tensor', 'exp-lanes', 'norm-groups', 'norm-batch', 'dropout-mask']
  .map((f) => `test/${f}.test.ts`);
/** Node 20 with the flag: the core of THREADED, on the older V8's relaxed SIMD. */
const FLAGGED = ['gemm', 'kernels-ops', 'conv-pool-options', 'layers', 'optim', 'gradcheck', 'pytorch-state', 'exp-lanes'].map((f) => `test/${f}.test.ts`);

const relaxedByDefault = Number(process.versions.node.split('.')[0]) >= 22;
const FLAG = '--experimental-wasm-relaxed-simd';

function project(name: string, variant: string, include: string[]) {
  return {
    extends: true as const,
    test: { name, include, env: { TREAD_TEST_VARIANT: variant }, setupFiles: ['test/helpers/variant-setup.ts'] },
  };
}

export default defineConfig({
  test: {
    ...base.test,
    include: [],
    // Node 20: the forks get the flag (vitest takes execArgv from the root config only, not per
    // project). The plain single-threaded build runs the same with or without it; the plain
    // builds without the flag are the default `vitest run`.
    poolOptions: relaxedByDefault ? {} : { forks: { execArgv: [FLAG] } },
    projects: relaxedByDefault
      ? [project('tread-relaxed-threads', 'tread-relaxed-threads', THREADED), project('tread-relaxed', 'tread-relaxed', SINGLE)]
      : [project('tread-simd', 'tread-simd', SINGLE), project('tread-relaxed-threads (flag)', 'tread-relaxed-threads', FLAGGED)],
  },
});
