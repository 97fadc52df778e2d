#!/usr/bin/env bash
# Builds the four WebAssembly variants of tread-wasm into dist/wasm/:
#   tread-simd.wasm             one thread, SIMD128, its own (non-shared) memory
#   tread-simd-threads.wasm     SIMD128 + atomics, imports a shared memory, rayon on workers
#   tread-relaxed.wasm          as tread-simd, plus relaxed SIMD (f32x4_relaxed_madd: FMA where
#   tread-relaxed-threads.wasm  the CPU has it); init() picks these when the engine validates
#                               relaxed SIMD (Node 22+, Chromium 114+), see ts/runtime/features.ts
# Needs Debian's rustc-web (scripts/setup.sh). std is rebuilt for wasm32 (build-std).
#   bash scripts/build-wasm.sh                        all four
#   bash scripts/build-wasm.sh tread-relaxed-threads  only the ones named (quicker while iterating)
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

# 4 GiB maximum (65536 pages); the JS side creates the shared memory with the same limits.
threads_flags="-C target-feature=+atomics,+bulk-memory,+mutable-globals \
   -C link-arg=--import-memory -C link-arg=--shared-memory \
   -C link-arg=--initial-memory=33554432 -C link-arg=--max-memory=4294967296 \
   -C link-arg=--export=__stack_pointer -C link-arg=--export=__tls_size \
   -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base \
   -C link-arg=--export=__wasm_init_tls"
wanted() { [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; }
for name in tread-simd tread-simd-threads tread-relaxed tread-relaxed-threads; do
  wanted "$@" || continue
  case $name in
    tread-simd) build $name "" "-C target-feature=+simd128" target/wasm-st ;;
    tread-simd-threads) build $name threads "-C target-feature=+simd128 $threads_flags" target/wasm-mt ;;
    tread-relaxed) build $name "" "-C target-feature=+simd128,+relaxed-simd" target/wasm-rst ;;
    tread-relaxed-threads) build $name threads "-C target-feature=+simd128,+relaxed-simd $threads_flags" target/wasm-rmt ;;
  esac
done
