//! Parameter initialisation fills: uniform and normal, from the counter-based Philox stream
//! of `rng`. The value of element `i` depends only on (seed, i), so the fills are split over
//! threads in chunks without changing a single value.

use crate::parallel::{self, SharedMut};
use crate::rng;

/// Below this many elements one thread does the whole fill.
const PAR_MIN: usize = 64 * 1024;

fn par<F: Fn(usize, usize) + Sync + Send>(n: usize, f: F) {
    let t = parallel::threads();
    if t <= 1 || n < PAR_MIN {
        f(0, n);
        return;
    }
    // Chunks start on a block boundary (4 elements), so no block is computed twice.
    let r = parallel::split_range(n, t * 2, 64);
    parallel::for_each_task(r.len(), |i| f(r[i].0, r[i].1));
}

/// Calls `each(i, words_of_block(i / 4))` for `i` in `a..b`, one Philox block per 4 elements.
#[inline]
fn blocks<F: FnMut(usize, &[u32; 4])>(seed: u64, a: usize, b: usize, mut each: F) {
    let mut i = a;
    while i < b {
        let blk = i / 4;
        let w = rng::block(seed, blk as u64);
        let end = ((blk + 1) * 4).min(b);
        while i < end {
            each(i, &w);
            i += 1;
        }
    }
}

/// `out[i] ~ U[low, high)`.
pub fn uniform(seed: u64, out: &mut [f32], low: f64, high: f64) {
    let n = out.len();
    let p = SharedMut(out.as_mut_ptr());
    let span = high - low;
    par(n, |a, b| {
        // SAFETY: tasks own disjoint ranges.
        let o = unsafe { p.slice(a, b - a) };
        blocks(seed, a, b, |i, w| {
            let u = rng::unit_f32(w[i & 3]) as f64;
            let v = (low + span * u) as f32;
            // Rounding to f32 must not reach the open end.
            o[i - a] = if (v as f64) >= high && high > low { (high as f32).next_down_compat() } else { v };
        });
    });
}

/// `out[i] ~ N(mean, std²)` (Box-Muller).
pub fn normal(seed: u64, out: &mut [f32], mean: f64, std: f64) {
    let n = out.len();
    let p = SharedMut(out.as_mut_ptr());
    par(n, |a, b| {
        // SAFETY: tasks own disjoint ranges.
        let o = unsafe { p.slice(a, b - a) };
        let mut cached_blk = usize::MAX;
        let mut z = [0.0f64; 4];
        blocks(seed, a, b, |i, w| {
            if i / 4 != cached_blk {
                cached_blk = i / 4;
                z = rng::normals4(*w);
            }
            o[i - a] = (mean + std * z[i & 3]) as f32;
        });
    });
}

trait NextDown {
    fn next_down_compat(self) -> f32;
}
impl NextDown for f32 {
    /// The largest f32 below `self` (finite, non-zero inputs).
    fn next_down_compat(self) -> f32 {
        let bits = self.to_bits();
        if self > 0.0 { f32::from_bits(bits - 1) } else if self < 0.0 { f32::from_bits(bits + 1) } else { -f32::from_bits(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(v: &[f32]) -> (f64, f64, f32, f32) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        let mn = v.iter().cloned().fold(f32::INFINITY, f32::min);
        let mx = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        (mean, var.sqrt(), mn, mx)
    }

    #[test]
    fn uniform_moments_and_range() {
        let mut v = vec![0f32; 1 << 20];
        uniform(7, &mut v, -0.5, 1.5);
        let (m, s, mn, mx) = stats(&v);
        assert!((m - 0.5).abs() < 4.0 * (2.0 / 12f64.sqrt()) / 1024.0, "mean {m}");
        assert!((s - 2.0 / 12f64.sqrt()).abs() < 0.01 * s, "std {s}");
        assert!(mn >= -0.5 && mn < -0.499, "min {mn}");
        assert!(mx < 1.5 && mx > 1.499, "max {mx}");
    }

    #[test]
    fn normal_moments() {
        let mut v = vec![0f32; 1 << 20];
        normal(11, &mut v, 1.0, 2.0);
        let (m, s, mn, mx) = stats(&v);
        assert!((m - 1.0).abs() < 4.0 * 2.0 / 1024.0, "mean {m}");
        assert!((s - 2.0).abs() < 0.01 * 2.0, "std {s}");
        assert!(mn < 1.0 - 2.0 * 4.0 && mx > 1.0 + 2.0 * 4.0, "range {mn} {mx}");
    }

    #[test]
    fn same_seed_same_values_any_thread_count_and_offsets() {
        let _settings = crate::parallel::test_settings_lock();
        let mut a = vec![0f32; 300_001];
        let mut b = vec![0f32; 300_001];
        parallel::set_threads(1);
        normal(5, &mut a, 0.0, 1.0);
        parallel::set_threads(2);
        normal(5, &mut b, 0.0, 1.0);
        parallel::set_threads(1);
        assert_eq!(a, b);
        // A prefix is the same draw.
        let mut c = vec![0f32; 1001];
        normal(5, &mut c, 0.0, 1.0);
        assert_eq!(&a[..1001], &c[..]);
        uniform(6, &mut c, 0.0, 1.0);
        let mut d = vec![0f32; 1001];
        uniform(7, &mut d, 0.0, 1.0);
        assert_ne!(c, d);
    }
}
