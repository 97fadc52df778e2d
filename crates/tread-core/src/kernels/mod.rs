//! Compute kernels over plain slices. One module per kernel family.

pub mod gemm;
pub mod activation;
pub mod elementwise;
pub mod reduce;
pub mod softmax;
pub mod conv;
pub mod im2col;
pub mod dropout;
pub mod linear;
pub mod loss;
pub mod norm;
pub mod group_norm;
mod norm_rows;
mod norm_sums;
pub mod pool;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod pool_interior;
pub mod window;
