//! Batch normalization over `[N, C]` (BatchNorm1d on a 2-D batch: L = 1).
//!
//! Why a second layout: `norm.rs` walks one channel at a time, which for L = 1 strides C
//! floats from one element to the next: every load a new cache line, nothing vectorized (a
//! `[128, 256]` batch took ~0.35 ms per call, 20x a pass over the data). Here a task takes a
//! block of channels. Sums run down the rows four channels at a time (`Lane`s, f64
//! accumulators in registers: `Lane::Wide`); the elementwise passes run along each row's slice
//! of the block. The sums are the same f64 sums in the same order (row 0, 1, ...), so the
//! results are bit for bit those of the channel-major loops. (Written as plain loops over
//! accumulator arrays, the compiler kept the f64 sums scalar and in memory in wasm: ~5 ns a
//! value for the backward.)

use super::norm::BnShape;
use crate::lanes::{Lane, Simd, Wide};
use crate::parallel::{self, SharedMut};

/// Channels a block's statistics live for on the stack.
const BLOCK: usize = 64;

/// Runs `$body` over the channels `0..$w` in groups: `$U` vectors of `$L` = `Simd` (eight
/// channels, then four), then `$L` = `f32` for each channel left; `$j` is the group's first
/// channel. Two vectors at a time give the f64 sums down the rows two independent chains
/// per f64x2 accumulator (an add's latency, not its throughput, bounds a single chain).
macro_rules! by_lanes {
    ($w:expr, |$L:ident, $U:ident, $j:ident| $body:block) => {{
        let w = $w;
        let mut $j = 0;
        while $j + 8 <= w {
            {
                type $L = Simd;
                const $U: usize = 2;
                $body
            }
            $j += 8;
        }
        while $j + 4 <= w {
            {
                type $L = Simd;
                const $U: usize = 1;
                $body
            }
            $j += 4;
        }
        while $j < w {
            {
                type $L = f32;
                const $U: usize = 1;
                $body
            }
            $j += 1;
        }
    }};
}

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

/// `Σᵢ x[i·ld]` over `n` rows for `U` vectors of lanes at `x`, in f64, rows in order.
///
/// # Safety
/// `x` is readable for `U·L::W` values at every row.
#[inline(always)]
unsafe fn col_sum<L: Lane, const U: usize>(x: *const f32, n: usize, ld: usize) -> [L::Wide; U] {
    let mut s = [L::Wide::splat(0.0); U];
    for i in 0..n {
        let r = x.add(i * ld);
        for (u, a) in s.iter_mut().enumerate() {
            *a = a.add(L::load(r.add(u * L::W)).widen());
        }
    }
    s
}

/// `Σᵢ (x[i·ld] - mu)²` in f64, rows in order.
///
/// # Safety
/// As [`col_sum`].
#[inline(always)]
unsafe fn col_dev2<L: Lane, const U: usize>(x: *const f32, n: usize, ld: usize, mu: [L::Wide; U]) -> [L::Wide; U] {
    let mut s = [L::Wide::splat(0.0); U];
    for i in 0..n {
        let r = x.add(i * ld);
        for (u, a) in s.iter_mut().enumerate() {
            let d = L::load(r.add(u * L::W)).widen().sub(mu[u]);
            *a = a.add(d.mul(d));
        }
    }
    s
}

/// `(Σᵢ dy, Σᵢ dy·x̂)` in f64, rows in order, with `x̂ = (x - mu)·is` in f32.
///
/// # Safety
/// As [`col_sum`], for `dy` and `x`.
#[inline(always)]
unsafe fn col_grad_sums<L: Lane, const U: usize>(dy: *const f32, x: *const f32, n: usize, ld: usize, mu: [L; U], is: [L; U]) -> ([L::Wide; U], [L::Wide; U]) {
    let (mut sdy, mut sdyx) = ([L::Wide::splat(0.0); U], [L::Wide::splat(0.0); U]);
    for i in 0..n {
        for u in 0..U {
            let o = i * ld + u * L::W;
            let g = L::load(dy.add(o)).widen();
            let xh = L::load(x.add(o)).sub(mu[u]).mul(is[u]);
            sdy[u] = sdy[u].add(g);
            sdyx[u] = sdyx[u].add(g.mul(xh.widen()));
        }
    }
    (sdy, sdyx)
}

/// `U` vectors of lanes from `p` on.
///
/// # Safety
/// `p` is readable for `U·L::W` values.
#[inline(always)]
unsafe fn load<L: Lane, const U: usize>(p: *const f32) -> [L; U] {
    core::array::from_fn(|u| L::load(p.add(u * L::W)))
}

/// Stores `U` vectors of f64 lanes from `p` on.
///
/// # Safety
/// `p` is writable for `U·W` values.
#[inline(always)]
unsafe fn store_wide<W: Wide, const U: usize>(v: [W; U], p: *mut f64, lanes: usize) {
    for (u, w) in v.iter().enumerate() {
        w.store(p.add(u * lanes));
    }
}

/// `y = x·scale + shift` along one row's `w` channels.
///
/// # Safety
/// `x`, `y` valid for `w` values; `scale`, `shift` hold at least `w`.
#[inline(always)]
unsafe fn affine_row(x: *const f32, y: *mut f32, w: usize, scale: &[f32; BLOCK], shift: &[f32; BLOCK]) {
    by_lanes!(w, |L, U, j0| {
        for j in (j0..j0 + U * L::W).step_by(L::W) {
            let v = L::load(x.add(j));
            v.mul(L::load(scale.as_ptr().add(j))).add(L::load(shift.as_ptr().add(j))).store(y.add(j));
        }
    });
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
    assert!(x.len() >= s.len());
    let m = s.n;
    par_blocks(s, |c0, c1| {
        let w = c1 - c0;
        // SAFETY: rows 0..n of channels c0..c1 lie in x (checked above); the statistics and
        // outputs of channels c0..c1 belong to this task.
        unsafe {
            let xb = x.as_ptr().add(c0);
            let (mut mu, mut sq) = ([0.0f64; BLOCK], [0.0f64; BLOCK]);
            by_lanes!(w, |L, U, j| {
                store_wide(col_sum::<L, U>(xb.add(j), s.n, s.c), mu.as_mut_ptr().add(j), L::W);
            });
            for u in &mut mu[..w] {
                *u = if m > 0 { *u / m as f64 } else { 0.0 };
            }
            by_lanes!(w, |L, U, j| {
                let u: [<L as Lane>::Wide; U] = core::array::from_fn(|u| Wide::load(mu.as_ptr().add(j + u * L::W)));
                store_wide(col_dev2::<L, U>(xb.add(j), s.n, s.c, u), sq.as_mut_ptr().add(j), L::W);
            });
            let (mut scale, mut shift) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
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
                affine_row(x.as_ptr().add(o), y.slice(o, w).as_mut_ptr(), w, &scale, &shift);
            }
        }
    });
}

/// Evaluation forward for L = 1 (running statistics): `y = x·scale + shift` per channel.
pub(super) fn forward_eval(s: &BnShape, x: &[f32], scale_shift: impl Fn(usize) -> (f32, f32) + Sync + Send, y: SharedMut<f32>) {
    assert!(x.len() >= s.len());
    par_blocks(s, |c0, c1| {
        let w = c1 - c0;
        let (mut scale, mut shift) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
        for j in 0..w {
            (scale[j], shift[j]) = scale_shift(c0 + j);
        }
        for i in 0..s.n {
            let o = i * s.c + c0;
            // SAFETY: in x (checked above); channels c0..c1 of every row belong to this task.
            unsafe { affine_row(x.as_ptr().add(o), y.slice(o, w).as_mut_ptr(), w, &scale, &shift) };
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
    assert!(x.len() >= s.len() && dy.len() >= s.len() && mean.len() >= s.c && invstd.len() >= s.c);
    let m = s.n as f64;
    par_blocks(s, |c0, c1| {
        let w = c1 - c0;
        // SAFETY: rows 0..n of channels c0..c1 lie in x and dy, the statistics cover c0..c1
        // (checked above); channels c0..c1's gradients and elements belong to this task.
        unsafe {
            let (mu, is) = (mean.as_ptr().add(c0), invstd.as_ptr().add(c0));
            let (xb, gb) = (x.as_ptr().add(c0), dy.as_ptr().add(c0));
            let (mut sdy, mut sdyx) = ([0.0f64; BLOCK], [0.0f64; BLOCK]);
            by_lanes!(w, |L, U, j| {
                let (u, v) = col_grad_sums::<L, U>(gb.add(j), xb.add(j), s.n, s.c, load(mu.add(j)), load(is.add(j)));
                store_wide(u, sdy.as_mut_ptr().add(j), L::W);
                store_wide(v, sdyx.as_mut_ptr().add(j), L::W);
            });
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
            let (mut k, mut a, mut b) = ([0.0f32; BLOCK], [0.0f32; BLOCK], [0.0f32; BLOCK]);
            for j in 0..w {
                k[j] = weight.map_or(1.0, |w| w[c0 + j]) * *is.add(j);
                if train && m > 0.0 {
                    a[j] = (sdy[j] / m) as f32;
                    b[j] = (sdyx[j] / m) as f32;
                }
            }
            let (kp, ap, bp) = (k.as_ptr(), a.as_ptr(), b.as_ptr());
            for i in 0..s.n {
                let o = i * s.c;
                let (d, gr, xr) = (p.slice(o + c0, w).as_mut_ptr(), gb.add(o), xb.add(o));
                if train && m > 0.0 {
                    by_lanes!(w, |L, U, j0| {
                        for j in (j0..j0 + U * L::W).step_by(L::W) {
                            let xh = L::load(xr.add(j)).sub(L::load(mu.add(j))).mul(L::load(is.add(j)));
                            let t = L::load(gr.add(j)).sub(L::load(ap.add(j))).sub(xh.mul(L::load(bp.add(j))));
                            L::load(kp.add(j)).mul(t).store(d.add(j));
                        }
                    });
                } else {
                    by_lanes!(w, |L, U, j0| {
                        for j in (j0..j0 + U * L::W).step_by(L::W) {
                            L::load(kp.add(j)).mul(L::load(gr.add(j))).store(d.add(j));
                        }
                    });
                }
            }
        }
    });
}
