//! Softmax and log-softmax along an axis, numerically stable (the maximum is subtracted
//! before `exp`), with their backward passes.
//!
//! As in `reduce`, the input is seen as `[outer, n, inner]` with the softmax axis in the
//! middle. The last axis (`inner == 1`) is the fast path: per row a SIMD max, a SIMD
//! `exp(x - max)` that also sums, and one scaling pass. Other axes work on whole rows of
//! `inner` values at a time. Rows split over threads when the input is big.
//!
//! Backward, with `y` the forward output and `g` its gradient:
//! softmax `dx = y·(g - Σ g·y)`; log-softmax `dx = g - exp(y)·Σ g`.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

use super::activation::exp_f32;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::activation::{exp_k, ExpK};
use super::reduce::{par_outer_inner, sum_slice};
use crate::parallel::SharedMut;

fn check(len: usize, outer: usize, n: usize, inner: usize, out_len: usize) {
    assert_eq!(len, outer * n * inner, "softmax: input has {len} elements, not {outer}·{n}·{inner}");
    assert_eq!(out_len, len, "softmax: output has {out_len} elements, input {len}");
}

pub(crate) fn max_slice(x: &[f32]) -> f32 {
    let n = x.len();
    let mut m = f32::NEG_INFINITY;
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        if n >= 4 {
            let mut v = v128_load(x.as_ptr() as *const v128);
            i = 4;
            while i + 4 <= n {
                v = f32x4_max(v, v128_load(x.as_ptr().add(i) as *const v128));
                i += 4;
            }
            m = f32x4_extract_lane::<0>(v)
                .max(f32x4_extract_lane::<1>(v))
                .max(f32x4_extract_lane::<2>(v))
                .max(f32x4_extract_lane::<3>(v));
            // f32::max drops NaN; f32x4_max keeps it: keep it here too.
            let any_nan = f32x4_extract_lane::<0>(v).is_nan()
                || f32x4_extract_lane::<1>(v).is_nan()
                || f32x4_extract_lane::<2>(v).is_nan()
                || f32x4_extract_lane::<3>(v).is_nan();
            if any_nan {
                m = f32::NAN;
            }
        }
    }
    while i < n {
        if x[i] > m || x[i].is_nan() {
            m = x[i];
        }
        i += 1;
    }
    m
}

/// `out[j] = exp(x[j] - m)`; returns Σ out.
fn exp_shift_sum(x: &[f32], m: f32, out: &mut [f32]) -> f32 {
    let n = out.len();
    let x = &x[..n];
    #[allow(unused_mut)]
    let mut i = 0;
    let mut s: f32;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        s = 0.0;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let (vm, k) = (f32x4_splat(m), ExpK::held());
        let mut acc = f32x4_splat(0.0);
        while i + 4 <= n {
            let e = exp_k(f32x4_sub(v128_load(x.as_ptr().add(i) as *const v128), vm), &k);
            v128_store(out.as_mut_ptr().add(i) as *mut v128, e);
            acc = f32x4_add(acc, e);
            i += 4;
        }
        s = (f32x4_extract_lane::<0>(acc) + f32x4_extract_lane::<1>(acc))
            + (f32x4_extract_lane::<2>(acc) + f32x4_extract_lane::<3>(acc));
    }
    while i < n {
        let e = exp_f32(x[i] - m);
        out[i] = e;
        s += e;
        i += 1;
    }
    s
}

/// `out[j] = exp(x[j] - m)`; returns Σ out, summed in f64 (cross-entropy's log-sum-exp).
pub(crate) fn exp_shift_sum_f64(x: &[f32], m: f32, out: &mut [f32]) -> f64 {
    let n = out.len();
    let x = &x[..n];
    #[allow(unused_mut)]
    let mut i = 0;
    let mut s: f64;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        s = 0.0;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let (vm, k) = (f32x4_splat(m), ExpK::held());
        let (mut lo, mut hi) = (f64x2_splat(0.0), f64x2_splat(0.0));
        while i + 4 <= n {
            let e = exp_k(f32x4_sub(v128_load(x.as_ptr().add(i) as *const v128), vm), &k);
            v128_store(out.as_mut_ptr().add(i) as *mut v128, e);
            lo = f64x2_add(lo, f64x2_promote_low_f32x4(e));
            hi = f64x2_add(hi, f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(e, e)));
            i += 4;
        }
        s = (f64x2_extract_lane::<0>(lo) + f64x2_extract_lane::<1>(lo)) + (f64x2_extract_lane::<0>(hi) + f64x2_extract_lane::<1>(hi));
    }
    while i < n {
        let e = exp_f32(x[i] - m);
        out[i] = e;
        s += e as f64;
        i += 1;
    }
    s
}

/// Softmax (or, with `log`, log-softmax) of `x` seen as `[outer, n, inner]` along `n`.
pub fn softmax(x: &[f32], outer: usize, n: usize, inner: usize, log: bool, out: &mut [f32]) {
    check(x.len(), outer, n, inner, out.len());
    if out.is_empty() {
        return;
    }
    let outp = SharedMut(out.as_mut_ptr());
    let total = out.len();
    par_outer_inner(outer, inner, x.len() * 4, |o0, o1, c0, c1| {
        // SAFETY: tasks write disjoint (row, column) parts of out.
        let out = unsafe { outp.slice(0, total) };
        if inner == 1 {
            for o in o0..o1 {
                let (xr, yr) = (&x[o * n..(o + 1) * n], &mut out[o * n..(o + 1) * n]);
                let m = max_slice(xr);
                if m == f32::NEG_INFINITY {
                    // Every entry is -inf: torch gives NaN (exp(-inf - -inf)).
                    yr.fill(f32::NAN);
                    continue;
                }
                let s = exp_shift_sum(xr, m, yr);
                if log {
                    let lse = m + s.ln();
                    yr.iter_mut().zip(xr).for_each(|(y, &v)| *y = v - lse);
                } else {
                    let r = 1.0 / s;
                    yr.iter_mut().for_each(|y| *y *= r);
                }
            }
            return;
        }
        let w = c1 - c0;
        let mut mx = vec![0.0f32; w];
        let mut sm = vec![0.0f32; w];
        for o in o0..o1 {
            let base = o * n * inner;
            let row = |k: usize| base + k * inner + c0;
            mx.copy_from_slice(&x[row(0)..row(0) + w]);
            for k in 1..n {
                let r = &x[row(k)..row(k) + w];
                for j in 0..w {
                    if r[j] > mx[j] || r[j].is_nan() {
                        mx[j] = r[j];
                    }
                }
            }
            sm.fill(0.0);
            for k in 0..n {
                let (r, y) = (&x[row(k)..row(k) + w], &mut out[row(k)..row(k) + w]);
                for j in 0..w {
                    let e = exp_f32(r[j] - mx[j]);
                    y[j] = e;
                    sm[j] += e;
                }
            }
            if log {
                for j in 0..w {
                    sm[j] = mx[j] + sm[j].ln();
                }
                for k in 0..n {
                    let (r, y) = (&x[row(k)..row(k) + w], &mut out[row(k)..row(k) + w]);
                    for j in 0..w {
                        y[j] = r[j] - sm[j];
                    }
                }
            } else {
                sm.iter_mut().for_each(|s| *s = 1.0 / *s);
                for k in 0..n {
                    let y = &mut out[row(k)..row(k) + w];
                    for j in 0..w {
                        y[j] *= sm[j];
                    }
                }
            }
        }
    });
}

/// Reference for [`softmax`] (f64).
pub fn softmax_ref(x: &[f32], outer: usize, n: usize, inner: usize, log: bool, out: &mut [f32]) {
    check(x.len(), outer, n, inner, out.len());
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * n + k) * inner + i;
            let m = (0..n).map(|k| x[at(k)] as f64).fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = (0..n).map(|k| (x[at(k)] as f64 - m).exp()).sum();
            for k in 0..n {
                let v = x[at(k)] as f64 - m;
                out[at(k)] = if log { v - s.ln() } else { v.exp() / s } as f32;
            }
        }
    }
}

/// Backward of [`softmax`]: `y` is its output, `g` the gradient of `y`.
#[allow(clippy::too_many_arguments)]
pub fn softmax_backward(y: &[f32], g: &[f32], outer: usize, n: usize, inner: usize, log: bool, dx: &mut [f32]) {
    check(y.len(), outer, n, inner, dx.len());
    assert_eq!(g.len(), y.len(), "softmax backward: gradient and output lengths differ");
    if dx.is_empty() {
        return;
    }
    let dxp = SharedMut(dx.as_mut_ptr());
    let total = dx.len();
    par_outer_inner(outer, inner, y.len() * 3, |o0, o1, c0, c1| {
        // SAFETY: tasks write disjoint (row, column) parts of dx.
        let dx = unsafe { dxp.slice(0, total) };
        if inner == 1 {
            for o in o0..o1 {
                let r = o * n..(o + 1) * n;
                let (yr, gr, dr) = (&y[r.clone()], &g[r.clone()], &mut dx[r]);
                if log {
                    let s = sum_slice(gr);
                    // exp(y) through dr, then dx = g - exp(y)·s.
                    exp_shift_sum(yr, 0.0, dr);
                    for j in 0..n {
                        dr[j] = gr[j] - dr[j] * s;
                    }
                } else {
                    let mut d = 0.0f32;
                    for j in 0..n {
                        d += gr[j] * yr[j];
                    }
                    for j in 0..n {
                        dr[j] = yr[j] * (gr[j] - d);
                    }
                }
            }
            return;
        }
        let w = c1 - c0;
        let mut acc = vec![0.0f32; w];
        for o in o0..o1 {
            let base = o * n * inner;
            let row = |k: usize| base + k * inner + c0;
            acc.fill(0.0);
            for k in 0..n {
                let (yr, gr) = (&y[row(k)..row(k) + w], &g[row(k)..row(k) + w]);
                for j in 0..w {
                    acc[j] += if log { gr[j] } else { gr[j] * yr[j] };
                }
            }
            for k in 0..n {
                let (yr, gr) = (&y[row(k)..row(k) + w], &g[row(k)..row(k) + w]);
                let dr = &mut dx[row(k)..row(k) + w];
                for j in 0..w {
                    dr[j] = if log { gr[j] - exp_f32(yr[j]) * acc[j] } else { yr[j] * (gr[j] - acc[j]) };
                }
            }
        }
    });
}

/// Reference for [`softmax_backward`] (f64).
#[allow(clippy::too_many_arguments)]
pub fn softmax_backward_ref(y: &[f32], g: &[f32], outer: usize, n: usize, inner: usize, log: bool, dx: &mut [f32]) {
    check(y.len(), outer, n, inner, dx.len());
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * n + k) * inner + i;
            let s: f64 = (0..n).map(|k| if log { g[at(k)] as f64 } else { g[at(k)] as f64 * y[at(k)] as f64 }).sum();
            for k in 0..n {
                let (yv, gv) = (y[at(k)] as f64, g[at(k)] as f64);
                dx[at(k)] = if log { gv - yv.exp() * s } else { yv * (gv - s) } as f32;
            }
        }
    }
}
