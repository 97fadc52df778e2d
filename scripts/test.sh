#!/usr/bin/env bash
# `npm test`: builds what changed, then runs every suite. Each step prints its own summary.
#   1. native Rust tests of the kernels (cargo test, with the thread pool on)
#   2. the wasm builds and the JS bundle (incremental: seconds when nothing changed)
#   3. vitest (kernels through wasm, autograd, layers, optimizers, data, training, and a
#      real Chromium page with threads)
#   4. the PyTorch golden fixtures through the replay tool, then the second set (golden-variants)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo test (tread-core, native, threads)"
bash scripts/cargo.sh test -p tread-core --release --features threads
echo "== build"
bash scripts/build-wasm.sh
npm run --silent build:js
echo "== vitest"
npx vitest run
echo "== golden fixtures"
npx tsx tools/golden.ts test/fixtures/golden
echo "== golden fixture variants (other hyperparameters; tools/fixtures/make_all.py)"
npx tsx tools/golden.ts test/fixtures/golden-variants
