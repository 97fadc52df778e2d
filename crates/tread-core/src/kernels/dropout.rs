//! Dropout with inverted scaling: each element is kept with probability `1-p` and scaled by
//! `1/(1-p)`. The draw for element `i` is a hash of `(seed, i)` (SplitMix64), so a seed gives
//! the same mask on any number of threads. The mask is written as the factor itself
//! (`0` or `1/(1-p)`), which makes the backward `dx = dy · mask`.

use crate::parallel::{self, SharedMut};

#[inline]
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1) for element `i` of a draw seeded by `seed` (24-bit resolution).
#[inline]
pub fn uniform(seed: u64, i: u64) -> f32 {
    let h = splitmix(seed ^ splitmix(i));
    (h >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
}

fn par<F: Fn(usize, usize) + Sync + Send>(n: usize, f: F) {
    let t = parallel::threads();
    if t <= 1 || n < 64 * 1024 {
        f(0, n);
        return;
    }
    let r = parallel::split_range(n, t * 2, 16);
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
        for i in a..b {
            let k = if uniform(seed, i as u64) >= p { scale } else { 0.0 };
            mo[i - a] = k;
            yo[i - a] = x[i] * k;
        }
    });
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
}
