#!/usr/bin/env bash
# `npm test`: builds what changed, then runs every suite. Each step prints its own summary.
#   1. native Rust tests of the kernels (cargo test, with the thread pool on)
#   2. the wasm builds and the JS bundle (incremental: seconds when nothing changed)
#   3. vitest (kernels through wasm, autograd, layers, optimizers, data, training, and a
#      real Chromium page with threads), on Node 20: the plain SIMD128 builds
#   4. the kernel-level files again on the other wasm variants (vitest.variants.config.ts):
#      under Node 24 the relaxed-SIMD builds (threaded and single-threaded), under Node 20 the
#      plain single-threaded build and the relaxed threaded one (--experimental-wasm-relaxed-simd)
#   5. the PyTorch golden fixtures through the replay tool, then the second set (golden-variants),
#      on the plain builds (Node 20) and on the relaxed ones (Node 24)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo test (tread-core, native, threads)"
bash scripts/cargo.sh test -p tread-core --release --features threads
echo "== build"
bash scripts/build-wasm.sh
npm run --silent build:js
echo "== vitest"
npx vitest run
node24=build/node24/node_modules/.bin/node
echo "== vitest on the other wasm variants: Node 24 (relaxed SIMD)"
"$node24" node_modules/vitest/vitest.mjs run --config vitest.variants.config.ts
echo "== vitest on the other wasm variants: Node 20 (plain single-threaded; relaxed with the flag)"
npx vitest run --config vitest.variants.config.ts
echo "== golden fixtures"
npx tsx tools/golden.ts test/fixtures/golden
echo "== golden fixture variants (other hyperparameters; tools/fixtures/make_all.py)"
npx tsx tools/golden.ts test/fixtures/golden-variants
echo "== golden fixtures, both sets, on the relaxed-SIMD builds (Node 24)"
TREAD_RELAXED_SIMD=1 "$node24" node_modules/tsx/dist/cli.mjs tools/golden.ts test/fixtures/golden
TREAD_RELAXED_SIMD=1 "$node24" node_modules/tsx/dist/cli.mjs tools/golden.ts test/fixtures/golden-variants
