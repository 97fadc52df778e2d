//! The C ABI of tread for WebAssembly. No wasm-bindgen: every export is a plain
//! `extern "C"` function over pointers into linear memory, and the TypeScript side
//! (ts/runtime) wraps them. One file per area, mirroring tread-core.

mod data;
mod gemm;
mod memory;
#[cfg(feature = "threads")]
mod pool;
mod nn;
mod losses;
mod ops;
mod init;
mod optim;
