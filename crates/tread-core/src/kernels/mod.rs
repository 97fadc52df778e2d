//! Compute kernels over plain slices. One module per kernel family.

pub mod gemm;
