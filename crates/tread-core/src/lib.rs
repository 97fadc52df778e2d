//! tread-core: the numbers behind tread.
//!
//! Everything here works on plain slices, so it runs and is tested natively
//! (`cargo test`) and is exported to WebAssembly by the thin `tread-wasm` crate.
//! Dependencies point one way: `parallel` <- `kernels` <- (`optim`, `data`).

pub mod data;
pub mod kernels;
pub mod parallel;
pub mod rng;
pub mod init;
pub mod optim;
