//! Compute kernels over plain slices. One module per kernel family.

pub mod gemm;
pub mod conv;
pub mod dropout;
pub mod linear;
pub mod loss;
pub mod norm;
pub mod pool;
