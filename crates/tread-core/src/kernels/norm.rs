//! Batch normalization over `[N, C, L]` (L = H·W for BatchNorm2d, 1 or L for BatchNorm1d),
//! statistics per channel, as PyTorch: biased variance to normalize, unbiased variance
//! (`M/(M-1)`, M = N·L) into the running estimate, `running = (1-m)·running + m·batch`.
//! Parallel over channels; sums in f64 (runs of 16 values or more: f32 lanes within blocks,
//! the blocks in f64).

use super::norm_rows;
use super::norm_sums::{dev2, grad_terms, lane_sums};
use crate::lanes::{Lane, Simd};
use crate::parallel::{self, SharedMut};

#[derive(Clone, Copy, Debug)]
pub struct BnShape {
    pub n: usize,
    pub c: usize,
    pub l: usize,
}

impl BnShape {
    pub fn len(&self) -> usize {
        self.n * self.c * self.l
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `[N, C]` batches (L = 1) run down the rows, a block of channels at a time (`norm_rows.rs`).
fn rows_layout(s: &BnShape) -> bool {
    #[cfg(test)]
    if tests::FORCE_CHANNELS.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    s.l == 1
}

fn par_channels<F: Fn(usize) + Sync + Send>(s: &BnShape, f: F) {
    let t = parallel::threads();
    if t <= 1 || s.c < 2 || s.len() < 16 * 1024 {
        (0..s.c).for_each(f);
        return;
    }
    let r = parallel::split_range(s.c, (t * 4).min(s.c), 1);
    parallel::for_each_task(r.len(), |i| (r[i].0..r[i].1).for_each(&f));
}

/// Runs at least this long sum in f32 lanes (`norm_sums`, blocks added in f64); shorter ones
/// add each value in f64 (as `norm_rows`, which the L = 1 results match bit for bit). The f64
/// add per value is a dependency chain: ~4 cycles a value, most of BatchNorm2d's time.
const LANE_RUN: usize = 16;

/// Runs of channel `c`: `n` slices of `l` values.
#[inline]
fn runs(s: &BnShape, c: usize) -> impl Iterator<Item = usize> + '_ {
    (0..s.n).map(move |i| (i * s.c + c) * s.l)
}

/// Training forward. Writes `y`, the batch mean and `1/sqrt(var+eps)` per channel
/// (`mean`, `invstd`, saved for backward), and updates the running statistics when given.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_forward_train(
    s: &BnShape,
    x: &[f32],
    weight: Option<&[f32]>,
    bias: Option<&[f32]>,
    eps: f32,
    momentum: f32,
    y: &mut [f32],
    mean: &mut [f32],
    invstd: &mut [f32],
    running: Option<(&mut [f32], &mut [f32])>,
) {
    assert!(x.len() >= s.len() && y.len() >= s.len() && mean.len() >= s.c && invstd.len() >= s.c, "batchnorm: buffers too short");
    let m = s.n * s.l;
    let yp = SharedMut(y.as_mut_ptr());
    let mp = SharedMut(mean.as_mut_ptr());
    let ip = SharedMut(invstd.as_mut_ptr());
    let (rm, rv) = match running {
        Some((a, b)) => (Some(SharedMut(a.as_mut_ptr())), Some(SharedMut(b.as_mut_ptr()))),
        None => (None, None),
    };
    if rows_layout(s) {
        let running = rm.zip(rv);
        return norm_rows::forward_train(s, x, weight, bias, eps, momentum, yp, mp, ip, running);
    }
    par_channels(s, |c| {
        let mut sum = 0.0f64;
        for o in runs(s, c) {
            let r = &x[o..o + s.l];
            sum += if s.l >= LANE_RUN { crate::kernels::reduce::sum_long(r) } else { crate::kernels::conv::sum_f64(r) };
        }
        let mu = if m > 0 { sum / m as f64 } else { 0.0 };
        let mut sq = 0.0f64;
        let mu32 = mu as f32;
        for o in runs(s, c) {
            let r = &x[o..o + s.l];
            if s.l >= LANE_RUN {
                // Deviations from the f32 mean: Σ(x - μ₃₂)² exceeds Σ(x - μ)² by m·(μ - μ₃₂)²,
                // ~(2⁻²⁴·μ)² per value, nothing next to any variance f32 data can show.
                sq += lane_sums(r, r, r, |v, _, _| dev2(v, mu32), |v, _, _| dev2(v, mu32)).0;
            } else {
                for v in r {
                    let d = *v as f64 - mu;
                    sq += d * d;
                }
            }
        }
        let var = if m > 0 { sq / m as f64 } else { 0.0 };
        let is = 1.0 / (var + eps as f64).sqrt();
        let g = weight.map_or(1.0, |w| w[c] as f64);
        let b = bias.map_or(0.0, |b| b[c] as f64);
        let scale = (g * is) as f32;
        let shift = (b - mu * g * is) as f32;
        // SAFETY: channel c's elements and statistics belong to this task.
        unsafe {
            for o in runs(s, c) {
                let yo = yp.slice(o, s.l);
                for (d, v) in yo.iter_mut().zip(&x[o..o + s.l]) {
                    *d = *v * scale + shift;
                }
            }
            mp.slice(c, 1)[0] = mu as f32;
            ip.slice(c, 1)[0] = is as f32;
            if let (Some(rm), Some(rv)) = (rm, rv) {
                let unbiased = if m > 1 { sq / (m - 1) as f64 } else { f64::NAN };
                let mo = momentum as f64;
                let a = rm.slice(c, 1);
                a[0] = ((1.0 - mo) * a[0] as f64 + mo * mu) as f32;
                let v = rv.slice(c, 1);
                v[0] = ((1.0 - mo) * v[0] as f64 + mo * unbiased) as f32;
            }
        }
    });
}

/// Evaluation forward with the running statistics.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_forward_eval(
    s: &BnShape,
    x: &[f32],
    weight: Option<&[f32]>,
    bias: Option<&[f32]>,
    running_mean: &[f32],
    running_var: &[f32],
    eps: f32,
    y: &mut [f32],
) {
    assert!(x.len() >= s.len() && y.len() >= s.len(), "batchnorm: buffers too short");
    let yp = SharedMut(y.as_mut_ptr());
    let scale_shift = |c: usize| {
        let is = 1.0 / (running_var[c] as f64 + eps as f64).sqrt();
        let g = weight.map_or(1.0, |w| w[c] as f64);
        let b = bias.map_or(0.0, |b| b[c] as f64);
        ((g * is) as f32, (b - running_mean[c] as f64 * g * is) as f32)
    };
    if rows_layout(s) {
        return norm_rows::forward_eval(s, x, scale_shift, yp);
    }
    par_channels(s, |c| {
        let (scale, shift) = scale_shift(c);
        for o in runs(s, c) {
            // SAFETY: channel c's elements belong to this task.
            let yo = unsafe { yp.slice(o, s.l) };
            for (d, v) in yo.iter_mut().zip(&x[o..o + s.l]) {
                *d = *v * scale + shift;
            }
        }
    });
}

/// Backward. `mean`/`invstd` are the forward's statistics: the batch's (`train`) or the
/// running ones turned into `invstd` (eval, where the statistics are constants).
/// Writes `dx` (overwritten), `dw`/`db` as `beta·old + new`.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_backward(
    s: &BnShape,
    train: bool,
    x: &[f32],
    dy: &[f32],
    weight: Option<&[f32]>,
    mean: &[f32],
    invstd: &[f32],
    dx: Option<&mut [f32]>,
    dw: Option<(&mut [f32], f32)>,
    db: Option<(&mut [f32], f32)>,
) {
    let m = (s.n * s.l) as f64;
    let xp = dx.map(|d| SharedMut(d.as_mut_ptr()));
    let (wp, wbeta) = match dw {
        Some((d, b)) => (Some(SharedMut(d.as_mut_ptr())), b),
        None => (None, 0.0),
    };
    let (bp, bbeta) = match db {
        Some((d, b)) => (Some(SharedMut(d.as_mut_ptr())), b),
        None => (None, 0.0),
    };
    if rows_layout(s) {
        return norm_rows::backward(s, train, x, dy, weight, mean, invstd, xp, wp.map(|p| (p, wbeta)), bp.map(|p| (p, bbeta)));
    }
    par_channels(s, |c| {
        let mu = mean[c];
        let is = invstd[c];
        let mut sdy = 0.0f64;
        let mut sdyx = 0.0f64;
        let one = Simd::splat(1.0);
        for o in runs(s, c) {
            let (gr, xr) = (&dy[o..o + s.l], &x[o..o + s.l]);
            if s.l >= LANE_RUN {
                let (u, v) = lane_sums(gr, xr, xr, |g, v, _| grad_terms(g, v, one, mu, is), |g, v, _| grad_terms(g, v, 1.0, mu, is));
                sdy += u;
                sdyx += v;
            } else {
                for (g, v) in gr.iter().zip(xr) {
                    sdy += *g as f64;
                    sdyx += *g as f64 * ((*v - mu) * is) as f64;
                }
            }
        }
        let g = weight.map_or(1.0, |w| w[c]);
        // SAFETY: channel c's elements and gradients belong to this task.
        unsafe {
            if let Some(p) = wp {
                let d = p.slice(c, 1);
                d[0] = if wbeta == 0.0 { sdyx as f32 } else { wbeta * d[0] + sdyx as f32 };
            }
            if let Some(p) = bp {
                let d = p.slice(c, 1);
                d[0] = if bbeta == 0.0 { sdy as f32 } else { bbeta * d[0] + sdy as f32 };
            }
            if let Some(p) = xp {
                let k = g * is;
                if train && m > 0.0 {
                    let a = (sdy / m) as f32;
                    let b = (sdyx / m) as f32;
                    for o in runs(s, c) {
                        let d = p.slice(o, s.l);
                        for ((d, gy), v) in d.iter_mut().zip(&dy[o..o + s.l]).zip(&x[o..o + s.l]) {
                            let xh = (*v - mu) * is;
                            *d = k * (*gy - a - xh * b);
                        }
                    }
                } else {
                    for o in runs(s, c) {
                        let d = p.slice(o, s.l);
                        for (d, gy) in d.iter_mut().zip(&dy[o..o + s.l]) {
                            *d = k * *gy;
                        }
                    }
                }
            }
        }
    });
}

/// Reference training forward + backward in f64 (plain formulas), for tests:
/// returns (y, dx, dw, db, mean, biased var).
#[allow(clippy::type_complexity)]
pub fn batchnorm_train_ref(s: &BnShape, x: &[f32], w: &[f32], b: &[f32], eps: f64, dy: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f64>, Vec<f64>) {
    let m = (s.n * s.l) as f64;
    let (mut y, mut dx) = (vec![0.0; s.len()], vec![0.0; s.len()]);
    let (mut dw, mut db) = (vec![0.0; s.c], vec![0.0; s.c]);
    let (mut means, mut vars) = (vec![0.0; s.c], vec![0.0; s.c]);
    for c in 0..s.c {
        let idx: Vec<usize> = (0..s.n).flat_map(|i| (0..s.l).map(move |j| (i * s.c + c) * s.l + j)).collect();
        let mu = idx.iter().map(|&i| x[i] as f64).sum::<f64>() / m;
        let var = idx.iter().map(|&i| (x[i] as f64 - mu).powi(2)).sum::<f64>() / m;
        let is = 1.0 / (var + eps).sqrt();
        let xh: Vec<f64> = idx.iter().map(|&i| (x[i] as f64 - mu) * is).collect();
        let sdy: f64 = idx.iter().map(|&i| dy[i] as f64).sum();
        let sdyx: f64 = idx.iter().zip(&xh).map(|(&i, h)| dy[i] as f64 * h).sum();
        for (k, &i) in idx.iter().enumerate() {
            y[i] = (xh[k] * w[c] as f64 + b[c] as f64) as f32;
            dx[i] = (w[c] as f64 * is / m * (m * dy[i] as f64 - sdy - xh[k] * sdyx)) as f32;
        }
        dw[c] = sdyx as f32;
        db[c] = sdy as f32;
        means[c] = mu;
        vars[c] = var;
    }
    (y, dx, dw, db, means, vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Set by `rows_match_channels` only: `[N, C]` batches take the channel-major loops.
    pub(super) static FORCE_CHANNELS: AtomicBool = AtomicBool::new(false);

    fn rand_vec(n: usize, seed: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn train_matches_reference() {
        let mut seed = 11;
        for s in [BnShape { n: 8, c: 5, l: 1 }, BnShape { n: 4, c: 3, l: 25 }, BnShape { n: 16, c: 32, l: 169 }] {
            let x = rand_vec(s.len(), &mut seed);
            let w = rand_vec(s.c, &mut seed);
            let b = rand_vec(s.c, &mut seed);
            let dy = rand_vec(s.len(), &mut seed);
            let (mut y, mut mean, mut invstd) = (vec![0.0; s.len()], vec![0.0; s.c], vec![0.0; s.c]);
            let (mut rm, mut rv) = (vec![0.0; s.c], vec![1.0; s.c]);
            batchnorm_forward_train(&s, &x, Some(&w), Some(&b), 1e-5, 0.1, &mut y, &mut mean, &mut invstd, Some((&mut rm, &mut rv)));
            let (yr, dxr, dwr, dbr, mr, vr) = batchnorm_train_ref(&s, &x, &w, &b, 1e-5, &dy);
            for (a, b) in y.iter().zip(&yr) {
                assert!((a - b).abs() < 1e-4, "{a} {b}");
            }
            let m = (s.n * s.l) as f64;
            for c in 0..s.c {
                assert!((rm[c] as f64 - 0.1 * mr[c]).abs() < 1e-5);
                assert!((rv[c] as f64 - (0.9 + 0.1 * vr[c] * m / (m - 1.0))).abs() < 1e-4);
            }
            let (mut dx, mut dw, mut db) = (vec![0.0; s.len()], vec![0.0; s.c], vec![0.0; s.c]);
            batchnorm_backward(&s, true, &x, &dy, Some(&w), &mean, &invstd, Some(&mut dx), Some((&mut dw, 0.0)), Some((&mut db, 0.0)));
            for (a, b) in dx.iter().zip(&dxr) {
                assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "{a} {b}");
            }
            for (a, b) in dw.iter().zip(&dwr).chain(db.iter().zip(&dbr)) {
                assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "{a} {b}");
            }
        }
    }

    /// Everything the kernels write for one `[N, C]` batch: y, mean, invstd, running stats,
    /// the eval forward, and dx, dw, db of a train and an eval backward.
    fn all_outputs(s: &BnShape, seed: u64, affine: bool) -> Vec<Vec<f32>> {
        let mut seed = seed;
        let x = rand_vec(s.len(), &mut seed);
        let dy = rand_vec(s.len(), &mut seed);
        let (w, b) = (rand_vec(s.c, &mut seed), rand_vec(s.c, &mut seed));
        let (w, b) = if affine { (Some(&w[..]), Some(&b[..])) } else { (None, None) };
        let (mut y, mut mean, mut invstd) = (vec![0.0; s.len()], vec![0.0; s.c], vec![0.0; s.c]);
        let (mut rm, mut rv) = (rand_vec(s.c, &mut seed), vec![1.5; s.c]);
        batchnorm_forward_train(s, &x, w, b, 1e-5, 0.1, &mut y, &mut mean, &mut invstd, Some((&mut rm, &mut rv)));
        let mut ye = vec![0.0; s.len()];
        batchnorm_forward_eval(s, &x, w, b, &rm, &rv, 1e-5, &mut ye);
        let mut out = vec![y, mean.clone(), invstd.clone(), rm, rv, ye];
        for train in [true, false] {
            let (mut dx, mut dw, mut db) = (vec![0.0; s.len()], vec![0.5; s.c], vec![0.25; s.c]);
            batchnorm_backward(s, train, &x, &dy, w, &mean, &invstd, Some(&mut dx), Some((&mut dw, 1.0)), Some((&mut db, 0.0)));
            out.extend([dx, dw, db]);
        }
        out
    }

    #[test]
    fn rows_match_channels() {
        let _settings = crate::parallel::test_settings_lock();
        // Bit for bit: the same f64 sums in the same order; on 1 and 2 threads, with blocks of
        // channels that end inside a block of 64 and shapes below the parallel threshold.
        for threads in [1, 2] {
            crate::parallel::set_threads(threads);
            for (s, affine) in [(BnShape { n: 128, c: 256, l: 1 }, true), (BnShape { n: 7, c: 100, l: 1 }, false), (BnShape { n: 300, c: 70, l: 1 }, true), (BnShape { n: 1, c: 3, l: 1 }, true)] {
                let rows = all_outputs(&s, 5, affine);
                FORCE_CHANNELS.store(true, Ordering::Relaxed);
                let channels = all_outputs(&s, 5, affine);
                FORCE_CHANNELS.store(false, Ordering::Relaxed);
                for (k, (a, b)) in rows.iter().zip(&channels).enumerate() {
                    for (i, (p, q)) in a.iter().zip(b).enumerate() {
                        assert!(p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()), "{s:?} output {k}[{i}]: rows {p} channels {q}");
                    }
                }
            }
        }
        crate::parallel::set_threads(1);
    }
}
