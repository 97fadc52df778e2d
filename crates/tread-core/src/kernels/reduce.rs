//! Reductions: sum / mean / max / argmax along an axis and over everything, the scatter
//! that is max's backward, and `reduce_to` (the sum of a broadcast gradient back to an
//! input's shape).
//!
//! An axis reduction sees its input as `[outer, n, inner]` (the reduced axis in the middle)
//! and writes `[outer, inner]`. `inner == 1` (the last axis) sums contiguous rows with
//! SIMD accumulators; `inner > 1` adds whole rows of `inner` values (SIMD), which keeps the
//! reads contiguous. Big inputs split over threads by `outer`, or by columns of `inner`
//! when `outer` is too small to share out (a bias gradient: `[1, batch, features]`).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

use super::elementwise::PAR_MIN;
use crate::parallel::{self, SharedMut};

/// Runs `f(o0, o1, c0, c1)` over a split of `[0, outer) × [0, inner)`: by outer rows, or by
/// column ranges when there are too few rows. Tasks write disjoint parts of `[outer, *, inner]`.
pub(crate) fn par_outer_inner<F>(outer: usize, inner: usize, work: usize, f: F)
where
    F: Fn(usize, usize, usize, usize) + Sync + Send,
{
    let t = parallel::threads();
    if t <= 1 || work < PAR_MIN || outer * inner < 2 {
        f(0, outer, 0, inner);
        return;
    }
    let parts = t.min(work / (PAR_MIN / 2)).max(2);
    if outer >= parts || inner < 32 {
        let r = parallel::split_range(outer, parts, 1);
        parallel::for_each_task(r.len(), |i| f(r[i].0, r[i].1, 0, inner));
    } else {
        let r = parallel::split_range(inner, parts, 16);
        parallel::for_each_task(r.len(), |i| f(0, outer, r[i].0, r[i].1));
    }
}

/// Σ x (f32 SIMD accumulators; callers keep runs short or add block sums in f64).
#[inline]
pub(crate) fn sum_slice(x: &[f32]) -> f32 {
    let n = x.len();
    #[allow(unused_mut)]
    let mut i = 0;
    let mut s: f32;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let z = f32x4_splat(0.0);
        let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
        while i + 16 <= n {
            let p = x.as_ptr().add(i);
            a0 = f32x4_add(a0, v128_load(p as *const v128));
            a1 = f32x4_add(a1, v128_load(p.add(4) as *const v128));
            a2 = f32x4_add(a2, v128_load(p.add(8) as *const v128));
            a3 = f32x4_add(a3, v128_load(p.add(12) as *const v128));
            i += 16;
        }
        while i + 4 <= n {
            a0 = f32x4_add(a0, v128_load(x.as_ptr().add(i) as *const v128));
            i += 4;
        }
        let v = f32x4_add(f32x4_add(a0, a1), f32x4_add(a2, a3));
        s = (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v));
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut acc = [0.0f32; 8];
        while i + 8 <= n {
            for l in 0..8 {
                acc[l] += x[i + l];
            }
            i += 8;
        }
        s = acc.iter().sum();
    }
    while i < n {
        s += x[i];
        i += 1;
    }
    s
}

/// `acc[i] += x[i]`.
#[inline]
pub(crate) fn acc_slice(acc: &mut [f32], x: &[f32]) {
    let n = acc.len();
    let x = &x[..n];
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        while i + 4 <= n {
            let p = acc.as_mut_ptr().add(i) as *mut v128;
            v128_store(p, f32x4_add(v128_load(p), v128_load(x.as_ptr().add(i) as *const v128)));
            i += 4;
        }
    }
    while i < n {
        acc[i] += x[i];
        i += 1;
    }
}

/// Σ of a long run: 4096-element blocks in f32 SIMD, blocks added in f64.
pub(crate) fn sum_long(x: &[f32]) -> f64 {
    x.chunks(4096).map(|c| sum_slice(c) as f64).sum()
}

fn check_axis(len: usize, outer: usize, n: usize, inner: usize, out_len: usize, what: &str) {
    assert_eq!(len, outer * n * inner, "{what}: input has {len} elements, not {outer}·{n}·{inner}");
    assert_eq!(out_len, outer * inner, "{what}: output has {out_len} elements, not {outer}·{inner}");
}

/// `out[o, i] = scale · Σ_k x[o, k, i]` (`scale = 1/n` gives the mean).
pub fn sum_axis(x: &[f32], outer: usize, n: usize, inner: usize, scale: f32, out: &mut [f32]) {
    check_axis(x.len(), outer, n, inner, out.len(), "sum");
    if out.is_empty() {
        return;
    }
    if n == 0 {
        out.fill(0.0);
        return;
    }
    if inner == 1 && outer == 1 {
        out[0] = (sum_all_f64(x) * scale as f64) as f32;
        return;
    }
    let outp = SharedMut(out.as_mut_ptr());
    let total = out.len();
    par_outer_inner(outer, inner, x.len(), |o0, o1, c0, c1| {
        // SAFETY: tasks write disjoint (row, column) parts of out; see par_outer_inner.
        let out = unsafe { outp.slice(0, total) };
        for o in o0..o1 {
            let base = o * n * inner;
            if inner == 1 {
                out[o] = scale * sum_long(&x[base..base + n]) as f32;
                continue;
            }
            let acc = &mut out[o * inner + c0..o * inner + c1];
            acc.copy_from_slice(&x[base + c0..base + c1]);
            for k in 1..n {
                let r = base + k * inner;
                acc_slice(acc, &x[r + c0..r + c1]);
            }
            if scale != 1.0 {
                acc.iter_mut().for_each(|v| *v *= scale);
            }
        }
    });
}

/// Reference for [`sum_axis`] (f64 accumulation).
pub fn sum_axis_ref(x: &[f32], outer: usize, n: usize, inner: usize, scale: f32, out: &mut [f32]) {
    check_axis(x.len(), outer, n, inner, out.len(), "sum");
    for o in 0..outer {
        for i in 0..inner {
            let mut s = 0.0f64;
            for k in 0..n {
                s += x[(o * n + k) * inner + i] as f64;
            }
            out[o * inner + i] = (s * scale as f64) as f32;
        }
    }
}

fn sum_all_f64(x: &[f32]) -> f64 {
    let t = parallel::threads();
    if t <= 1 || x.len() < PAR_MIN {
        return sum_long(x);
    }
    let ranges = parallel::split_range(x.len(), t, 4096);
    let mut parts = vec![0.0f64; ranges.len()];
    let pp = SharedMut(parts.as_mut_ptr());
    parallel::for_each_task(ranges.len(), |i| {
        let (s, e) = ranges[i];
        // SAFETY: one slot per task.
        unsafe { pp.slice(i, 1)[0] = sum_long(&x[s..e]) };
    });
    parts.iter().sum()
}

/// Σ x over everything.
pub fn sum_all(x: &[f32]) -> f32 {
    sum_all_f64(x) as f32
}

/// Reference for [`sum_all`].
pub fn sum_all_ref(x: &[f32]) -> f32 {
    x.iter().map(|&v| v as f64).sum::<f64>() as f32
}

/// `v` beats `best` (NaN beats everything, as in torch.max; ties keep the first).
#[inline(always)]
fn beats(v: f32, best: f32) -> bool {
    v > best || (v.is_nan() && !best.is_nan())
}

/// `out[o, i] = max_k x[o, k, i]` and `idx[o, i]` = the first k that attains it.
pub fn max_axis(x: &[f32], outer: usize, n: usize, inner: usize, out: &mut [f32], idx: &mut [i32]) {
    check_axis(x.len(), outer, n, inner, out.len(), "max");
    assert_eq!(idx.len(), out.len(), "max: index output has the wrong length");
    assert!(n > 0 || out.is_empty(), "max: cannot reduce an empty axis");
    if out.is_empty() {
        return;
    }
    let outp = SharedMut(out.as_mut_ptr());
    let idxp = SharedMut(idx.as_mut_ptr());
    let total = out.len();
    par_outer_inner(outer, inner, x.len(), |o0, o1, c0, c1| {
        // SAFETY: disjoint parts, as in sum_axis.
        let (out, idx) = unsafe { (outp.slice(0, total), idxp.slice(0, total)) };
        for o in o0..o1 {
            let base = o * n * inner;
            if inner == 1 {
                let row = &x[base..base + n];
                let (mut best, mut bi) = (row[0], 0usize);
                for (k, &v) in row.iter().enumerate().skip(1) {
                    if beats(v, best) {
                        best = v;
                        bi = k;
                    }
                }
                out[o] = best;
                idx[o] = bi as i32;
                continue;
            }
            let (ob, ib) = (&mut out[o * inner + c0..o * inner + c1], &mut idx[o * inner + c0..o * inner + c1]);
            ob.copy_from_slice(&x[base + c0..base + c1]);
            ib.fill(0);
            for k in 1..n {
                let r = &x[base + k * inner + c0..base + k * inner + c1];
                for j in 0..r.len() {
                    if beats(r[j], ob[j]) {
                        ob[j] = r[j];
                        ib[j] = k as i32;
                    }
                }
            }
        }
    });
}

/// Reference for [`max_axis`].
pub fn max_axis_ref(x: &[f32], outer: usize, n: usize, inner: usize, out: &mut [f32], idx: &mut [i32]) {
    check_axis(x.len(), outer, n, inner, out.len(), "max");
    for o in 0..outer {
        for i in 0..inner {
            let mut best = x[o * n * inner + i];
            let mut bi = 0;
            for k in 1..n {
                let v = x[(o * n + k) * inner + i];
                if beats(v, best) {
                    best = v;
                    bi = k;
                }
            }
            out[o * inner + i] = best;
            idx[o * inner + i] = bi as i32;
        }
    }
}

/// Backward of [`max_axis`]: `dx = 0` except `dx[o, idx[o,i], i] = g[o, i]`.
pub fn max_axis_backward(g: &[f32], idx: &[i32], outer: usize, n: usize, inner: usize, dx: &mut [f32]) {
    check_axis(dx.len(), outer, n, inner, g.len(), "max backward");
    assert_eq!(idx.len(), g.len(), "max backward: index has the wrong length");
    dx.fill(0.0);
    for o in 0..outer {
        for i in 0..inner {
            let k = idx[o * inner + i];
            assert!(k >= 0 && (k as usize) < n, "max backward: index {k} out of range 0..{n}");
            dx[(o * n + k as usize) * inner + i] = g[o * inner + i];
        }
    }
}

fn check_reduce_to(shape: &[usize], g: &[f32], st: &[usize], out: &[f32]) {
    assert_eq!(st.len(), shape.len(), "reduce_to: strides and shape differ in length");
    let n: usize = shape.iter().product();
    assert_eq!(g.len(), n, "reduce_to: gradient has {} elements, shape needs {n}", g.len());
    if n > 0 {
        let reach = shape.iter().zip(st).map(|(&d, &s)| (d - 1) * s).sum::<usize>() + 1;
        assert!(out.len() >= reach, "reduce_to: output too short for its strides");
    }
}

/// The adjoint of a broadcast: `out[Σ_d I_d·st_d] += g[I]` for every index `I` of `shape`
/// (out zeroed first). `st` are the target's strides over `g`'s shape (0 where broadcast).
pub fn reduce_to(shape: &[usize], g: &[f32], st: &[usize], out: &mut [f32]) {
    check_reduce_to(shape, g, st, out);
    if g.is_empty() {
        out.fill(0.0);
        return;
    }
    let nd = shape.len();
    let mut gs = vec![0usize; nd];
    let mut s = 1;
    for d in (0..nd).rev() {
        gs[d] = s;
        s *= shape[d];
    }
    let c = super::elementwise::collapse(shape, st, &gs);
    let reduced = |d: usize| c.sa[d] == 0;
    match c.shape.len() {
        1 if reduced(0) => return sum_axis(g, 1, c.shape[0], 1, 1.0, &mut out[..1]),
        1 if c.sa[0] == 1 => return out[..g.len()].copy_from_slice(g),
        2 if reduced(0) && c.sa[1] == 1 => {
            let k = c.shape[1];
            return sum_axis(g, 1, c.shape[0], k, 1.0, &mut out[..k]);
        }
        2 if c.sa[0] == 1 && reduced(1) => {
            let k = c.shape[0];
            return sum_axis(g, k, c.shape[1], 1, 1.0, &mut out[..k]);
        }
        3 if reduced(1) && c.sa[2] == 1 && c.sa[0] == c.shape[2] => {
            let k = c.shape[0] * c.shape[2];
            return sum_axis(g, c.shape[0], c.shape[1], c.shape[2], 1.0, &mut out[..k]);
        }
        _ => {}
    }
    reduce_to_ref(shape, g, st, out);
}

/// Reference for [`reduce_to`] (f64 accumulation).
pub fn reduce_to_ref(shape: &[usize], g: &[f32], st: &[usize], out: &mut [f32]) {
    check_reduce_to(shape, g, st, out);
    let mut acc = vec![0.0f64; out.len()];
    for (i, &v) in g.iter().enumerate() {
        let (mut rest, mut o) = (i, 0);
        for d in (0..shape.len()).rev() {
            o += (rest % shape[d]) * st[d];
            rest /= shape[d];
        }
        acc[o] += v as f64;
    }
    for (o, a) in out.iter_mut().zip(acc) {
        *o = a as f32;
    }
}
