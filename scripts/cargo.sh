#!/usr/bin/env bash
# Debian's cargo/rustc 1.96 (scripts/setup.sh), not the rustup shims that may come first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC=/usr/bin/rustc
[ -x /usr/bin/rustdoc ] && export RUSTDOC=/usr/bin/rustdoc
exec /usr/bin/cargo "$@"
