//! Batch normalization over `[N, C]` (BatchNorm1d on a 2-D batch: L = 1).
//!
//! Why a second layout: `norm.rs` walks one channel at a time, which for L = 1 strides C
//! floats from one element to the next: every load a new cache line, nothing vectorized (a
//! `[128, 256]` batch took ~0.35 ms per call, 20x a pass over the data). Here a task takes a
//! block of channels and runs down the rows, so each row's slice of the block is contiguous
//! and the per-channel work vectorizes across channels. The sums are the same f64 sums in the
//! same order (row 0, 1, ...), so the results are bit for bit those of the channel-major loops.

use super::norm::BnShape;
use crate::parallel::{self, SharedMut};

/// Channels a block's statistics live for on the stack.
const BLOCK: usize = 64;

/// Runs `f(c0, c1)` over blocks of channels, in parallel for batches worth it.
fn par_blocks<F: Fn(usize, usize) + Sync + Send>(s: &BnShape, f: F) {
    let t = parallel::threads();
    let ranges = if t <= 1 || s.c < 32 || s.len() < 16 * 1024 {
        vec![(0, s.c)]
    } else {
        parallel::split_guided(s.c, t, 16, 16)
    };
    parallel::for_each_task(ranges.len(), |i| {
        let (a, b) = ranges[i];
        let mut c0 = a;
        while c0 < b {
            let c1 = (c0 + BLOCK).min(b);
            f(c0, c1);
            c0 = c1;
        }
    });
}

/// The rows of channels `c0..c1`: `n` slices of `c1 - c0` values, `c` apart.
#[inline]
fn rows(x: &[f32], s: BnShape, c0: usize, c1: usize) -> impl Iterator<Item = &[f32]> {
    (0..s.n).map(move |i| &x[i * s.c + c0..i * s.c + c1])
}

/// Training forward for L = 1: what `norm::batchnorm_forward_train` writes.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_train(
    s: &BnShape,
    x: &[f32],
    weight: Option<&[f32]>,
    bias: Option<&[f32]>,
    eps: f32,
    momentum: f32,
    y: SharedMut<f32>,
    mean: SharedMut<f32>,
    invstd: SharedMut<f32>,
    running: Option<(SharedMut<f32>, SharedMut<f32>)>,
) {
    debug_assert!(s.l == 1);
    let m = s.n;
    par_blocks(s, |c0, c1| {
        let w = c1 - c0;
        let mut sum = [0.0f64; BLOCK];
        for r in rows(x, *s, c0, c1) {
            for (a, v) in sum[..w].iter_mut().zip(r) {
                *a += *v as f64;
            }
        }
        let mut mu = [0.0f64; BLOCK];
        for (u, a) in mu[..w].iter_mut().zip(&sum[..w]) {
            *u = if m > 0 { *a / m as f64 } else { 0.0 };
        }
        let mut sq = [0.0f64; BLOCK];
        for r in rows(x, *s, c0, c1) {
            for ((q, v), u) in sq[..w].iter_mut().zip(r).zip(&mu[..w]) {
                let d = *v as f64 - *u;
                *q += d * d;
            }
        }
        let (mut scale, mut shift) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
        // SAFETY: channels c0..c1's statistics and elements belong to this task.
        unsafe {
            let (mo, io) = (mean.slice(c0, w), invstd.slice(c0, w));
            for j in 0..w {
                let c = c0 + j;
                let var = if m > 0 { sq[j] / m as f64 } else { 0.0 };
                let is = 1.0 / (var + eps as f64).sqrt();
                let g = weight.map_or(1.0, |w| w[c] as f64);
                let b = bias.map_or(0.0, |b| b[c] as f64);
                scale[j] = (g * is) as f32;
                shift[j] = (b - mu[j] * g * is) as f32;
                mo[j] = mu[j] as f32;
                io[j] = is as f32;
            }
            if let Some((rm, rv)) = running {
                let (rm, rv) = (rm.slice(c0, w), rv.slice(c0, w));
                let mo = momentum as f64;
                for j in 0..w {
                    let unbiased = if m > 1 { sq[j] / (m - 1) as f64 } else { f64::NAN };
                    rm[j] = ((1.0 - mo) * rm[j] as f64 + mo * mu[j]) as f32;
                    rv[j] = ((1.0 - mo) * rv[j] as f64 + mo * unbiased) as f32;
                }
            }
            for i in 0..s.n {
                let o = i * s.c + c0;
                for (((d, v), a), b) in y.slice(o, w).iter_mut().zip(&x[o..o + w]).zip(&scale[..w]).zip(&shift[..w]) {
                    *d = *v * *a + *b;
                }
            }
        }
    });
}

/// Evaluation forward for L = 1 (running statistics): `y = x·scale + shift` per channel.
pub(super) fn forward_eval(s: &BnShape, x: &[f32], scale_shift: impl Fn(usize) -> (f32, f32) + Sync + Send, y: SharedMut<f32>) {
    par_blocks(s, |c0, c1| {
        let w = c1 - c0;
        let (mut scale, mut shift) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
        for j in 0..w {
            (scale[j], shift[j]) = scale_shift(c0 + j);
        }
        for i in 0..s.n {
            let o = i * s.c + c0;
            // SAFETY: channels c0..c1 of every row belong to this task.
            let d = unsafe { y.slice(o, w) };
            for (((d, v), a), b) in d.iter_mut().zip(&x[o..o + w]).zip(&scale[..w]).zip(&shift[..w]) {
                *d = *v * *a + *b;
            }
        }
    });
}

/// Backward for L = 1: what `norm::batchnorm_backward` writes.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    s: &BnShape,
    train: bool,
    x: &[f32],
    dy: &[f32],
    weight: Option<&[f32]>,
    mean: &[f32],
    invstd: &[f32],
    dx: Option<SharedMut<f32>>,
    dw: Option<(SharedMut<f32>, f32)>,
    db: Option<(SharedMut<f32>, f32)>,
) {
    debug_assert!(s.l == 1);
    let m = s.n as f64;
    par_blocks(s, |c0, c1| {
        let w = c1 - c0;
        let (mu, is) = (&mean[c0..c1], &invstd[c0..c1]);
        let (mut sdy, mut sdyx) = ([0.0f64; BLOCK], [0.0f64; BLOCK]);
        for (gr, xr) in rows(dy, *s, c0, c1).zip(rows(x, *s, c0, c1)) {
            for j in 0..w {
                let g = gr[j];
                sdy[j] += g as f64;
                sdyx[j] += g as f64 * ((xr[j] - mu[j]) * is[j]) as f64;
            }
        }
        // SAFETY: channels c0..c1's gradients and elements belong to this task.
        unsafe {
            if let Some((p, beta)) = dw {
                for (d, v) in p.slice(c0, w).iter_mut().zip(&sdyx[..w]) {
                    *d = if beta == 0.0 { *v as f32 } else { beta * *d + *v as f32 };
                }
            }
            if let Some((p, beta)) = db {
                for (d, v) in p.slice(c0, w).iter_mut().zip(&sdy[..w]) {
                    *d = if beta == 0.0 { *v as f32 } else { beta * *d + *v as f32 };
                }
            }
            let Some(p) = dx else { return };
            let mut k = [0.0f32; BLOCK];
            let (mut a, mut b) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
            for j in 0..w {
                k[j] = weight.map_or(1.0, |w| w[c0 + j]) * is[j];
                if train && m > 0.0 {
                    a[j] = (sdy[j] / m) as f32;
                    b[j] = (sdyx[j] / m) as f32;
                }
            }
            for i in 0..s.n {
                let o = i * s.c + c0;
                let (d, gr, xr) = (p.slice(o, w), &dy[o..o + w], &x[o..o + w]);
                if train && m > 0.0 {
                    for j in 0..w {
                        let xh = (xr[j] - mu[j]) * is[j];
                        d[j] = k[j] * (gr[j] - a[j] - xh * b[j]);
                    }
                } else {
                    for j in 0..w {
                        d[j] = k[j] * gr[j];
                    }
                }
            }
        }
    });
}
