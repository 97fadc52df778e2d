//! Portable f32 depthwise-convolution plane kernels, any stride and dilation.
//!
//! Native builds use them for everything (so `cargo test` checks this contract against the
//! direct loops), wasm builds for column strides > 2, which the SIMD kernels leave out. Plain loops over slices: the bounds checks are what keep a wrong
//! geometry from writing outside a plane.
//!
//! All three work on one *valid* (already padded) input plane with row stride `ldi` and
//! one output / gradient plane with row stride `ldo`; `k` is one output channel's
//! `kh·kw` weights, row-major.

use super::depthwise::Taps;

/// `out[oy·ldo + ox] += Σ_{ki,kj} k[ki·kw + kj] · inp[(oy·sh + ki·dh)·ldi + ox·sw + kj·dw]`
/// for `oy < oh`, `ox < ow` (forward; and the input gradient at stride 1, with `k` flipped).
#[allow(clippy::too_many_arguments)]
pub fn correlate(t: &Taps, inp: &[f32], ldi: usize, out: &mut [f32], ldo: usize, oh: usize, ow: usize, k: &[f32]) {
    for oy in 0..oh {
        let orow = &mut out[oy * ldo..oy * ldo + ow];
        for ki in 0..t.kh {
            let irow = &inp[(oy * t.sh + ki * t.dh) * ldi..];
            for kj in 0..t.kw {
                let wv = k[ki * t.kw + kj];
                let off = kj * t.dw;
                for (ox, o) in orow.iter_mut().enumerate() {
                    *o += wv * irow[ox * t.sw + off];
                }
            }
        }
    }
}

/// `acc[ki·kw + kj] += Σ_{oy,ox} g[oy·ldg + ox] · inp[(oy·sh + ki·dh)·ldi + ox·sw + kj·dw]`
/// (the weight gradient: `g` is one output channel's dy plane, `inp` its padded input).
#[allow(clippy::too_many_arguments)]
pub fn dot_taps(t: &Taps, inp: &[f32], ldi: usize, g: &[f32], ldg: usize, oh: usize, ow: usize, acc: &mut [f32]) {
    for ki in 0..t.kh {
        for kj in 0..t.kw {
            let off = ki * t.dh * ldi + kj * t.dw;
            let mut sum = 0.0f32;
            for oy in 0..oh {
                let grow = &g[oy * ldg..oy * ldg + ow];
                let irow = &inp[oy * t.sh * ldi + off..];
                for (ox, gv) in grow.iter().enumerate() {
                    sum += gv * irow[ox * t.sw];
                }
            }
            acc[ki * t.kw + kj] += sum;
        }
    }
}

/// `out[(oy·sh + ki·dh)·ldo + ox·sw + kj·dw] += k[ki·kw + kj] · g[oy·ldg + ox]`: the input
/// gradient as the adjoint of [`correlate`], scattered into a padded plane (strided
/// convolutions, where the gather form would have to skip the zeros between strides).
#[allow(clippy::too_many_arguments)]
pub fn scatter(t: &Taps, g: &[f32], ldg: usize, oh: usize, ow: usize, k: &[f32], out: &mut [f32], ldo: usize) {
    for oy in 0..oh {
        let grow = &g[oy * ldg..oy * ldg + ow];
        for ki in 0..t.kh {
            let orow = &mut out[(oy * t.sh + ki * t.dh) * ldo..];
            for kj in 0..t.kw {
                let wv = k[ki * t.kw + kj];
                let off = kj * t.dw;
                for (ox, gv) in grow.iter().enumerate() {
                    orow[ox * t.sw + off] += wv * gv;
                }
            }
        }
    }
}
