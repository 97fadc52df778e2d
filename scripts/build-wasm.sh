#!/usr/bin/env bash
# Builds the two WebAssembly variants of tread-wasm into dist/wasm/:
#   tread-simd.wasm          one thread, SIMD128, its own (non-shared) memory
#   tread-simd-threads.wasm  SIMD128 + atomics, imports a shared memory, rayon on workers
# Needs Debian's rustc-web (scripts/setup.sh). std is rebuilt for wasm32 (build-std).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
CARGO=/usr/bin/cargo
mkdir -p dist/wasm
common="-C linker=/usr/bin/wasm-ld-22 -C link-arg=-zstack-size=1048576"

build() { # name features rustflags target-dir
  local name=$1 features=$2 flags=$3 dir=$4
  RUSTFLAGS="$common $flags" $CARGO build --release --quiet -p tread-wasm \
    --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort \
    ${features:+--features "$features"} --target-dir "$dir"
  cp "$dir/wasm32-unknown-unknown/release/tread_wasm.wasm" "dist/wasm/$name.wasm"
  echo "built dist/wasm/$name.wasm ($(stat -c %s "dist/wasm/$name.wasm") bytes)"
}

build tread-simd "" "-C target-feature=+simd128" target/wasm-st
# 4 GiB maximum (65536 pages); the JS side creates the shared memory with the same limits.
build tread-simd-threads threads \
  "-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals \
   -C link-arg=--import-memory -C link-arg=--shared-memory \
   -C link-arg=--initial-memory=33554432 -C link-arg=--max-memory=4294967296 \
   -C link-arg=--export=__stack_pointer -C link-arg=--export=__tls_size \
   -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base \
   -C link-arg=--export=__wasm_init_tls" target/wasm-mt
