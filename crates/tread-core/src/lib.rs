//! tread-core: the numbers behind tread.
//!
//! Everything here works on plain slices, so it runs and is tested natively
//! (`cargo test`) and is exported to WebAssembly by the thin `tread-wasm` crate.
//! Dependencies point one way: (`parallel`, `lanes`) <- `kernels` <- (`optim`, `data`).

// The pool parks workers with `memory.atomic.wait32` (parallel/futex.rs); its intrinsic is
// still unstable in std::arch (the wasm build runs with RUSTC_BOOTSTRAP=1 for build-std).
#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]

pub mod data;
pub mod kernels;
pub mod parallel;
pub mod rng;
pub mod init;
pub mod lanes;
pub mod optim;
