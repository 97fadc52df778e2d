//! Dropout with inverted scaling: each element is kept with probability `1-p` and scaled by
//! `1/(1-p)`. The draw for element `i` is a keyed hash of `i` (two rounds of a 32-bit
//! integer mixer, keys from the seed by SplitMix64), so a seed gives the same mask on any
//! number of threads. The mask is written as the factor itself (`0` or `1/(1-p)`), which
//! makes the backward `dx = dy · mask`.
//!
//! Why 32-bit rounds: they vectorize (four lanes of `i32x4.mul`); the SplitMix64 of `(seed,
//! i)` used before needed two 64-bit hashes per element, scalar, ~5 ns each, a fifth of a
//! BatchNorm MLP's non-GEMM time.

use crate::parallel::{self, SharedMut};

/// SplitMix64's finalizer: a bijective 64-bit mix, here only to turn a seed into keys.
#[inline]
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A bijective 32-bit mix with low bias (constants from Chris Wellons' hash-prospector,
/// "lowbias32").
#[inline(always)]
fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

/// The keys of a draw: element indices above 2³² (never in wasm32) fold into the first key.
#[inline]
fn keys(seed: u64, i: u64) -> (u32, u32) {
    let k = splitmix(seed);
    let hi = (i >> 32) as u32;
    ((k as u32) ^ hi.wrapping_mul(0x9E37_79B9), (k >> 32) as u32)
}

#[inline(always)]
fn draw(k0: u32, k1: u32, i: u32) -> f32 {
    let h = mix32(mix32(i ^ k0).wrapping_add(k1));
    (h >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Uniform in [0, 1) for element `i` of a draw seeded by `seed` (24-bit resolution).
#[inline]
pub fn uniform(seed: u64, i: u64) -> f32 {
    let (k0, k1) = keys(seed, i);
    draw(k0, k1, i as u32)
}

/// Fewest elements a task of `par` takes: a draw costs a few nanoseconds, so 8192 of them
/// outweigh a hand-off to an awake worker many times over (a [128, 256] batch, 32768 values,
/// ran on one thread below the old 65536 threshold, ~0.07 ms a call at 2 threads).
const MIN_TASK: usize = 8 * 1024;

fn par<F: Fn(usize, usize) + Sync + Send>(n: usize, f: F) {
    let t = parallel::threads();
    if t <= 1 || n < 2 * MIN_TASK {
        f(0, n);
        return;
    }
    let r = parallel::split_guided(n, t, 16, MIN_TASK);
    parallel::for_each_task(r.len(), |i| f(r[i].0, r[i].1));
}

/// `mask[i] = u_i >= p ? 1/(1-p) : 0`, `y = x · mask`.
pub fn dropout_forward(seed: u64, p: f32, x: &[f32], y: &mut [f32], mask: &mut [f32]) {
    let n = x.len();
    assert!(y.len() >= n && mask.len() >= n, "dropout: buffers too short");
    let scale = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
    let (yp, mp) = (SharedMut(y.as_mut_ptr()), SharedMut(mask.as_mut_ptr()));
    par(n, |a, b| {
        // SAFETY: tasks own disjoint ranges.
        let (yo, mo) = unsafe { (yp.slice(a, b - a), mp.slice(a, b - a)) };
        let xs = &x[a..b];
        // Runs that share the high half of the index share the keys; the inner loop is then
        // straight 32-bit lane work.
        let mut start = a;
        while start < b {
            let next = ((start as u64 >> 32) + 1) << 32;
            let end = if next >= b as u64 { b } else { next as usize };
            let (k0, k1) = keys(seed, start as u64);
            let (s, e) = (start - a, end - a);
            mask_run(k0, k1, start as u32, p, scale, &xs[s..e], &mut mo[s..e], &mut yo[s..e]);
            start = end;
        }
    });
}

/// One run of draws: element `j` of the slices is global index `first + j` (low 32 bits).
///
/// A function of its own, over slices zipped together, so that it vectorizes wherever it is
/// called: written inline in the task closure with global indices, LLVM vectorized only the
/// copy inlined into the one-thread path (where the range starts at 0), and the tasks of the
/// threaded path ran scalar, 3x slower on 2 threads than on 1 (measured on 262144 values).
/// The portable build's loop; in wasm the reference of the vector loop and its tail.
#[inline]
#[allow(clippy::too_many_arguments)]
fn mask_run_scalar(k0: u32, k1: u32, first: u32, p: f32, scale: f32, x: &[f32], mask: &mut [f32], y: &mut [f32]) {
    for (j, ((m, y), x)) in mask.iter_mut().zip(y.iter_mut()).zip(x).enumerate() {
        let k = if draw(k0, k1, first.wrapping_add(j as u32)) >= p { scale } else { 0.0 };
        *m = k;
        *y = *x * k;
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use self::mask_run_scalar as mask_run;

/// [`mask_run`]'s vectors and constants. The constants are made opaque before the loop: V8
/// rebuilds a vector constant at each use inside a loop (three instructions each; the
/// vectorized loop above rebuilt its seven every four elements), see `activation::ExpK`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Clone, Copy)]
struct DrawK {
    m1: core::arch::wasm32::v128,
    m2: core::arch::wasm32::v128,
    k0: core::arch::wasm32::v128,
    k1: core::arch::wasm32::v128,
    p: core::arch::wasm32::v128,
    scale: core::arch::wasm32::v128,
    unit: core::arch::wasm32::v128,
    four: core::arch::wasm32::v128,
}

/// Four lanes of [`mix32`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn mix32_v(x: core::arch::wasm32::v128, k: &DrawK) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    let x = v128_xor(x, u32x4_shr(x, 16));
    let x = i32x4_mul(x, k.m1);
    let x = v128_xor(x, u32x4_shr(x, 15));
    let x = i32x4_mul(x, k.m2);
    v128_xor(x, u32x4_shr(x, 16))
}

/// The same draws four lanes at a time (bit for bit: `h >> 8` is below 2²⁴, exact in f32 by
/// either conversion, and the mask is `scale` or +0 as in the scalar select).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
#[allow(clippy::too_many_arguments)]
fn mask_run(k0: u32, k1: u32, first: u32, p: f32, scale: f32, x: &[f32], mask: &mut [f32], y: &mut [f32]) {
    use core::arch::wasm32::*;
    let n = x.len().min(mask.len()).min(y.len());
    let k = core::hint::black_box(DrawK {
        m1: u32x4_splat(0x7FEB_352D),
        m2: u32x4_splat(0x846C_A68B),
        k0: u32x4_splat(k0),
        k1: u32x4_splat(k1),
        p: f32x4_splat(p),
        scale: f32x4_splat(scale),
        unit: f32x4_splat(1.0 / (1u32 << 24) as f32),
        four: u32x4_splat(4),
    });
    let mut idx = u32x4_add(u32x4_splat(first), u32x4(0, 1, 2, 3));
    let mut j = 0;
    while j + 4 <= n {
        let h = mix32_v(u32x4_add(mix32_v(v128_xor(idx, k.k0), &k), k.k1), &k);
        let u = f32x4_mul(f32x4_convert_i32x4(u32x4_shr(h, 8)), k.unit);
        let m = v128_and(f32x4_ge(u, k.p), k.scale);
        // SAFETY: j + 4 <= n, the length of all three slices.
        unsafe {
            v128_store(mask.as_mut_ptr().add(j) as *mut v128, m);
            v128_store(y.as_mut_ptr().add(j) as *mut v128, f32x4_mul(v128_load(x.as_ptr().add(j) as *const v128), m));
        }
        idx = u32x4_add(idx, k.four);
        j += 4;
    }
    mask_run_scalar(k0, k1, first.wrapping_add(j as u32), p, scale, &x[j..n], &mut mask[j..n], &mut y[j..n]);
}

/// `dx = dy · mask`.
pub fn dropout_backward(dy: &[f32], mask: &[f32], dx: &mut [f32]) {
    let n = dy.len();
    assert!(mask.len() >= n && dx.len() >= n, "dropout backward: buffers too short");
    let xp = SharedMut(dx.as_mut_ptr());
    par(n, |a, b| {
        // SAFETY: tasks own disjoint ranges.
        let d = unsafe { xp.slice(a, b - a) };
        for ((d, g), m) in d.iter_mut().zip(&dy[a..b]).zip(&mask[a..b]) {
            *d = *g * *m;
        }
    });
}

/// Reference: the same draws, one at a time.
pub fn dropout_forward_ref(seed: u64, p: f32, x: &[f32], y: &mut [f32], mask: &mut [f32]) {
    let scale = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
    for i in 0..x.len() {
        mask[i] = if uniform(seed, i as u64) >= p { scale } else { 0.0 };
        y[i] = x[i] * mask[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_rate_and_reproducible() {
        let n = 200_000;
        let x = vec![1.0f32; n];
        let (mut y, mut m) = (vec![0.0; n], vec![0.0; n]);
        let (mut y2, mut m2) = (vec![0.0; n], vec![0.0; n]);
        dropout_forward(42, 0.3, &x, &mut y, &mut m);
        dropout_forward_ref(42, 0.3, &x, &mut y2, &mut m2);
        assert_eq!(y, y2);
        let kept = m.iter().filter(|v| **v > 0.0).count() as f64 / n as f64;
        assert!((kept - 0.7).abs() < 0.005, "{kept}");
        let mean: f64 = y.iter().map(|v| *v as f64).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        dropout_forward(43, 0.3, &x, &mut y2, &mut m2);
        assert_ne!(y, y2);
        let mut dx = vec![0.0; n];
        dropout_backward(&x, &m, &mut dx);
        assert_eq!(dx, m);
    }

    #[test]
    fn draws_look_independent() {
        // Neighbouring elements, and the same element under neighbouring seeds, are kept
        // together as often as independent draws would be: (1-p)^2, within 4 standard errors.
        let (n, p) = (400_000usize, 0.5f32);
        let kept = |seed: u64, i: usize| uniform(seed, i as u64) >= p;
        let both = |f: &dyn Fn(usize) -> bool| (0..n).filter(|&i| f(i)).count() as f64 / n as f64;
        let want = (1.0 - p as f64).powi(2);
        let tol = 4.0 * (want * (1.0 - want) / n as f64).sqrt();
        for (what, got) in [
            ("neighbours", both(&|i| kept(7, i) && kept(7, i + 1))),
            ("stride 64", both(&|i| kept(7, i) && kept(7, i + 64))),
            ("seeds 7 and 8", both(&|i| kept(7, i) && kept(8, i))),
            ("seeds 0 and 1 << 32", both(&|i| kept(0, i) && kept(1 << 32, i))),
        ] {
            assert!((got - want).abs() < tol, "{what}: kept together {got}, independent {want}");
        }
        // Uniform over [0, 1): the 16 bins of the first 160,000 draws each hold ~1/16.
        let mut bins = [0usize; 16];
        for i in 0..160_000u64 {
            bins[(uniform(3, i) * 16.0) as usize] += 1;
        }
        for b in bins {
            assert!((b as f64 - 10_000.0).abs() < 400.0, "{bins:?}");
        }
        // Indices past 2^32 (native only) draw other values than their low halves.
        assert_ne!((0..64).map(|i| uniform(9, i)).collect::<Vec<_>>(), (0..64).map(|i| uniform(9, (1 << 32) + i)).collect::<Vec<_>>());
    }
}
