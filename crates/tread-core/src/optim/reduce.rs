//! Small kernels that go with optimizer steps: finiteness checks (a step refuses a NaN/Inf
//! gradient before touching anything), norms for gradient clipping, in-place scaling and
//! clamping, and the gradients of L1/L2 penalties.
//!
//! Sums are taken in f32 over blocks of 256 elements (64 per lane) and the block sums in
//! f64, so long tensors lose no accuracy; the result does not depend on the thread count
//! beyond the last f64 bit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{lanes, par_chunks, Lane, Simd, P};

const BLOCK: usize = 256;

/// Runs `part(s, e) -> f64` over chunks and combines the results with `join`.
fn par_reduce(n: usize, init: f64, part: impl Fn(usize, usize) -> f64 + Sync + Send, join: impl Fn(f64, f64) -> f64 + Sync + Send) -> f64 {
    let acc = Mutex::new(Vec::<(usize, f64)>::new());
    par_chunks(n, |s, e| {
        let r = part(s, e);
        acc.lock().unwrap().push((s, r));
    });
    let mut parts = acc.into_inner().unwrap();
    parts.sort_by_key(|x| x.0);
    parts.into_iter().fold(init, |a, (_, r)| join(a, r))
}

/// Index of the first NaN or ±Inf in `x`, if any.
pub fn first_nonfinite(x: &[f32]) -> Option<usize> {
    let n = x.len();
    let first = AtomicUsize::new(usize::MAX);
    let xp = P::of(x);
    par_chunks(n, |s, e| {
        // x·0 is NaN exactly for NaN and ±Inf; the sum of those stays NaN. Four independent
        // accumulators keep the loop bound by memory, not by the latency of the adds.
        let zero = Simd::splat(0.0);
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        let mut acc1 = 0.0f32;
        let mut i = s;
        unsafe {
            while i + 16 <= e {
                let q = xp.f().add(i);
                a0 = a0.add(Simd::load(q).mul(zero));
                a1 = a1.add(Simd::load(q.add(4)).mul(zero));
                a2 = a2.add(Simd::load(q.add(8)).mul(zero));
                a3 = a3.add(Simd::load(q.add(12)).mul(zero));
                i += 16;
            }
            while i < e {
                acc1 += *xp.f().add(i) * 0.0;
                i += 1;
            }
        }
        let acc = a0.add(a1).add(a2.add(a3));
        let mut lanes_out = [0f32; 4];
        unsafe { acc.store(lanes_out.as_mut_ptr()) };
        if lanes_out.iter().any(|v| v.is_nan()) || acc1.is_nan() {
            let sl = unsafe { std::slice::from_raw_parts(xp.f().add(s), e - s) };
            if let Some(k) = sl.iter().position(|v| !v.is_finite()) {
                first.fetch_min(s + k, Ordering::Relaxed);
            }
        }
    });
    let f = first.load(Ordering::Relaxed);
    (f != usize::MAX).then_some(f)
}

#[inline(always)]
fn hsum<V: Lane>(v: V) -> f64 {
    let mut a = [0f32; 4];
    unsafe { v.store(a.as_mut_ptr()) };
    a[..V::W].iter().map(|&x| x as f64).sum()
}

/// Σ over blocks of at most `BLOCK` elements of `block(start, end)`, each block summed in
/// f32 by the caller and the blocks in f64 here, chunks in parallel.
fn blocked_sum(n: usize, block: impl Fn(usize, usize) -> f64 + Sync + Send) -> f64 {
    par_reduce(
        n,
        0.0,
        |s, e| {
            let mut total = 0.0f64;
            let mut b = s;
            while b < e {
                let be = (b + BLOCK).min(e);
                total += block(b, be);
                b = be;
            }
            total
        },
        |a, b| a + b,
    )
}

/// Σ f(x) over a block, `fv` on SIMD lanes and `fs` on the scalar tail.
#[inline(always)]
unsafe fn block_map_sum(xp: P, b: usize, e: usize, fv: impl Fn(Simd) -> Simd, fs: impl Fn(f32) -> f32) -> f64 {
    let mut acc = Simd::splat(0.0);
    let mut acc1 = 0.0f32;
    lanes(b, e, |i| acc = acc.add(fv(Simd::load(xp.f().add(i)))), |i| acc1 += fs(*xp.f().add(i)));
    hsum(acc) + acc1 as f64
}

/// Σ x² (f64). A block is squared and summed in f32 (SIMD) while that is exact enough; a
/// block whose f32 sum leaves the normal range (elements above ~1.8e19 overflow to Inf,
/// below ~1e-19 underflow towards 0) is summed again in f64, so a finite gradient of norm
/// 5.6e23 reports 5.6e23, not Inf, and a vanishing one of 1e-30 is not rounded to 0.
pub fn sum_sq(x: &[f32]) -> f64 {
    let xp = P::of(x);
    blocked_sum(x.len(), |b, e| {
        let s = unsafe { block_map_sum(xp, b, e, |v| v.mul(v), |v| v * v) };
        if (F32_SAFE_LO..=F32_SAFE_HI).contains(&s) {
            return s;
        }
        (b..e).map(|i| (unsafe { *xp.f().add(i) } as f64).powi(2)).sum()
    })
}

/// The range in which an f32 block sum of squares is trusted (far from Inf and subnormals;
/// also NaN and an all-zero block take the f64 path, which keeps them NaN and 0).
const F32_SAFE_LO: f64 = 1e-30;
const F32_SAFE_HI: f64 = 1e30;

/// Σ |x| (f64).
pub fn sum_abs(x: &[f32]) -> f64 {
    let xp = P::of(x);
    blocked_sum(x.len(), |b, e| unsafe { block_map_sum(xp, b, e, |v| v.abs(), f32::abs) })
}

/// max |x| (NaN if any element is NaN; 0 for an empty slice).
pub fn max_abs(x: &[f32]) -> f64 {
    let xp = P::of(x);
    par_reduce(
        x.len(),
        0.0,
        |s, e| {
            let mut acc = Simd::splat(0.0);
            let mut acc1 = 0.0f32;
            unsafe {
                lanes(s, e, |i| acc = acc.max(Simd::load(xp.f().add(i)).abs()), |i| acc1 = Lane::max(acc1, (*xp.f().add(i)).abs()));
            }
            let mut a = [0f32; 4];
            unsafe { acc.store(a.as_mut_ptr()) };
            a.iter().fold(acc1, |m, &v| Lane::max(m, v)) as f64
        },
        |a, b| if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) },
    )
}

/// Σ |x|^p (f64) for any p > 0 (p = 1 and 2 take the fast paths).
pub fn sum_pow(x: &[f32], p: f64) -> f64 {
    if p == 2.0 {
        return sum_sq(x);
    }
    if p == 1.0 {
        return sum_abs(x);
    }
    let xp = P::of(x);
    par_reduce(
        x.len(),
        0.0,
        |s, e| (s..e).map(|i| (unsafe { *xp.f().add(i) } as f64).abs().powf(p)).sum::<f64>(),
        |a, b| a + b,
    )
}

/// x ← x·s
pub fn scale(x: &mut [f32], s: f32) {
    let xp = P::of_mut(x);
    par_chunks(x.len(), |a, b| unsafe {
        lanes(a, b, |i| Simd::load(xp.f().add(i)).mul(Simd::splat(s)).store(xp.f().add(i)), |i| *xp.f().add(i) *= s);
    });
}

/// x ← min(max(x, lo), hi); NaN stays NaN (as torch.clamp).
pub fn clamp(x: &mut [f32], lo: f32, hi: f32) {
    let xp = P::of_mut(x);
    par_chunks(x.len(), |a, b| unsafe {
        lanes(
            a,
            b,
            |i| Simd::load(xp.f().add(i)).max(Simd::splat(lo)).min(Simd::splat(hi)).store(xp.f().add(i)),
            |i| *xp.f().add(i) = Lane::min(Lane::max(*xp.f().add(i), lo), hi),
        );
    });
}

/// The L2 penalty λ·Σw²: adds its gradient 2λ·w to `g` and returns Σw² (f64).
pub fn l2_penalty(w: &[f32], g: &mut [f32], lambda: f32) -> f64 {
    assert_eq!(w.len(), g.len(), "l2_penalty: lengths differ");
    let (wp, gp) = (P::of(w), P::of_mut(g));
    let c = 2.0 * lambda;
    blocked_sum(w.len(), |b, e| {
        let mut acc = 0.0f32;
        for i in b..e {
            unsafe {
                let v = *wp.f().add(i);
                acc += v * v;
                *gp.f().add(i) += c * v;
            }
        }
        acc as f64
    })
}

/// The L1 penalty λ·Σ|w|: adds its (sub)gradient λ·sign(w) (0 at w = 0) to `g` and returns
/// Σ|w| (f64).
pub fn l1_penalty(w: &[f32], g: &mut [f32], lambda: f32) -> f64 {
    assert_eq!(w.len(), g.len(), "l1_penalty: lengths differ");
    let (wp, gp) = (P::of(w), P::of_mut(g));
    blocked_sum(w.len(), |b, e| {
        let mut acc = 0.0f32;
        for i in b..e {
            unsafe {
                let v = *wp.f().add(i);
                acc += v.abs();
                let sign = if v > 0.0 { 1.0 } else if v < 0.0 { -1.0 } else { 0.0 };
                *gp.f().add(i) += lambda * sign;
            }
        }
        acc as f64
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn sum_sq_is_f64_for_huge_and_tiny_finite_values() {
        // 5.6e23² = 3.1e47 overflows f32 (max 3.4e38): the sum must stay finite and right.
        for &n in &[1usize, 7, 300, 5000] {
            for &v in &[5.6e23f32, -3e30, 1e-25, 3e-39] {
                let x = vec![v; n];
                let want = (v as f64) * (v as f64) * n as f64;
                let got = sum_sq(&x);
                assert!(got.is_finite() && (got - want).abs() <= 1e-9 * want, "n={n} v={v}: {got} vs {want}");
                assert!((sum_pow(&x, 2.0) - want).abs() <= 1e-9 * want);
            }
        }
        let mut x = vec![1e20f32; 600];
        x[17] = f32::NAN;
        assert!(sum_sq(&x).is_nan());
        x[17] = f32::INFINITY;
        assert_eq!(sum_sq(&x), f64::INFINITY);
        assert_eq!(sum_sq(&vec![0f32; 600]), 0.0);
    }

    #[test]
    fn reductions_match_plain_loops() {
        for &n in &LENS {
            let x = data(n, 7);
            let ss: f64 = x.iter().map(|&v| (v as f64) * (v as f64)).sum();
            let sa: f64 = x.iter().map(|&v| (v as f64).abs()).sum();
            let ma = x.iter().fold(0f64, |m, &v| m.max((v as f64).abs()));
            let s3: f64 = x.iter().map(|&v| (v as f64).abs().powi(3)).sum();
            assert!((sum_sq(&x) - ss).abs() <= 1e-6 * ss.max(1e-12), "{n}");
            assert!((sum_abs(&x) - sa).abs() <= 1e-6 * sa.max(1e-12));
            assert_eq!(max_abs(&x), ma);
            assert!((sum_pow(&x, 3.0) - s3).abs() <= 1e-9 * s3.max(1e-12));
            assert_eq!(first_nonfinite(&x), None);
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut y = x.clone();
                let k = n / 2;
                y[k] = bad;
                if k + 1 < n {
                    y[n - 1] = bad;
                }
                assert_eq!(first_nonfinite(&y), Some(k));
            }
            let mut y = x.clone();
            scale(&mut y, 0.5);
            assert!(y.iter().zip(&x).all(|(a, b)| *a == b * 0.5));
            clamp(&mut y, -0.1, 0.2);
            assert!(y.iter().zip(&x).all(|(a, b)| *a == (b * 0.5).clamp(-0.1, 0.2)));
            let mut g = vec![1.0f32; n];
            let s = l2_penalty(&x, &mut g, 0.25);
            assert!((s - ss).abs() <= 1e-6 * ss.max(1e-12));
            assert!(g.iter().zip(&x).all(|(a, b)| *a == 1.0 + 0.5 * b));
            let mut g = vec![0.0f32; n];
            let s = l1_penalty(&x, &mut g, 0.25);
            assert!((s - sa).abs() <= 1e-6 * sa.max(1e-12));
            assert!(g.iter().zip(&x).all(|(a, b)| *a == 0.25 * b.signum() || (*b == 0.0 && *a == 0.0)));
        }
        let mut z = vec![f32::NAN, 2.0];
        clamp(&mut z, -1.0, 1.0);
        assert!(z[0].is_nan() && z[1] == 1.0);
    }
}
