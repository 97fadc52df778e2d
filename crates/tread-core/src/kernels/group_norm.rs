//! Group normalization, as PyTorch's `GroupNorm`, with `LayerNorm` as a special case.
//!
//! The input is `[N, C, L]` (L: the product of the dimensions after the channel), its C
//! channels in G groups of C/G. Each (sample, group) is one *row* of D = (C/G)·L contiguous
//! values, normalized by its own mean and biased variance; channel c then gets `weight[c]`
//! and `bias[c]`:
//!
//! ```text
//! y = (x - μ_row) · rstd_row · w[c] + b[c],   rstd = 1/√(σ²_row + eps)
//! dx = rstd · (g - mean_row(g) - x̂ · mean_row(g·x̂)),   g = dy · w[c],  x̂ = (x - μ)·rstd
//! dw[c] = Σ dy·x̂,  db[c] = Σ dy   (over the samples and the L values of channel c)
//! ```
//!
//! LayerNorm over the last dimensions (D values per sample) is G = 1, C = D, L = 1: every
//! value its own channel. That case (L = 1) keeps the weights as a slice beside the row, so
//! its loops run down contiguous values and vectorize; L > 1 takes a channel's run of L values
//! with its weight as a scalar.
//!
//! The forward goes over rows (threads take ranges of rows); the backward over fixed blocks of
//! samples, each computing its rows' input gradient and its own parameter-gradient sums, which
//! are then added in block order: the bits do not depend on the thread count. A row's sums
//! are f32 lanes within blocks of 4096 values, the blocks added in f64 (the earlier composition
//! of generic ops, mean/sub/square/div/mul/add, took ~20 ns per value and seven passes).

use super::norm_sums::{dev2, grad_terms, lane_sums};
use super::reduce::sum_long;
use crate::lanes::{Lane, Simd};
use crate::parallel::{self, SharedMut};

/// `[N, C, L]` in `G` groups (`C % G == 0`).
#[derive(Clone, Copy, Debug)]
pub struct GnShape {
    pub n: usize,
    pub c: usize,
    pub l: usize,
    pub g: usize,
}

impl GnShape {
    pub fn len(&self) -> usize {
        self.n * self.c * self.l
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Rows (sample, group): one mean and one rstd each.
    pub fn rows(&self) -> usize {
        self.n * self.g
    }
    fn cpg(&self) -> usize {
        self.c / self.g
    }
    /// Values per row.
    fn d(&self) -> usize {
        self.cpg() * self.l
    }
    fn check(&self) {
        assert!(self.g > 0 && self.c % self.g == 0, "group_norm: {} channels do not split into {} groups", self.c, self.g);
    }
}

/// Fewest values worth a second thread.
const PAR_MIN: usize = 16 * 1024;

/// Runs `f(r0, r1)` over ranges of rows, on threads when the input is big enough.
fn par_rows(s: &GnShape, f: impl Fn(usize, usize) + Sync + Send) {
    let t = parallel::threads();
    let rows = s.rows();
    if t <= 1 || rows < 2 || s.len() < PAR_MIN {
        f(0, rows);
        return;
    }
    let r = parallel::split_guided(rows, t, 1, (PAR_MIN / 4 / s.d().max(1)).max(1));
    parallel::for_each_task(r.len(), |i| f(r[i].0, r[i].1));
}

/// Writes `y`, and each row's mean and rstd (`rows()` of each, for the backward). `affine`:
/// the per-channel weight and bias (PyTorch has both or neither).
pub fn forward(s: &GnShape, x: &[f32], affine: Option<(&[f32], &[f32])>, eps: f32, y: &mut [f32], mean: &mut [f32], rstd: &mut [f32]) {
    s.check();
    let (len, rows, d, cpg, l) = (s.len(), s.rows(), s.d(), s.cpg(), s.l);
    assert!(x.len() >= len && y.len() >= len && mean.len() >= rows && rstd.len() >= rows, "group_norm: buffers too short");
    assert!(affine.is_none_or(|(w, b)| w.len() >= s.c && b.len() >= s.c), "group_norm: weight/bias shorter than {} channels", s.c);
    let (yp, mp, rp) = (SharedMut(y.as_mut_ptr()), SharedMut(mean.as_mut_ptr()), SharedMut(rstd.as_mut_ptr()));
    par_rows(s, |r0, r1| {
        for r in r0..r1 {
            let xr = &x[r * d..(r + 1) * d];
            let mu = (sum_long(xr) / d as f64) as f32;
            let var = lane_sums(xr, xr, xr, |v, _, _| dev2(v, mu), |v, _, _| dev2(v, mu)).0 / d as f64;
            let rs = (1.0 / (var + eps as f64).sqrt()) as f32;
            // SAFETY: row r's outputs and statistics belong to this task.
            let yr = unsafe {
                mp.slice(r, 1)[0] = mu;
                rp.slice(r, 1)[0] = rs;
                yp.slice(r * d, d)
            };
            let c0 = (r % s.g) * cpg;
            match affine {
                None => {
                    for (o, v) in yr.iter_mut().zip(xr) {
                        *o = (*v - mu) * rs;
                    }
                }
                Some((w, b)) if l == 1 => {
                    for (((o, v), w), b) in yr.iter_mut().zip(xr).zip(&w[c0..c0 + d]).zip(&b[c0..c0 + d]) {
                        *o = (*v - mu) * rs * *w + *b;
                    }
                }
                Some((w, b)) => {
                    for cj in 0..cpg {
                        let (w, b) = (w[c0 + cj], b[c0 + cj]);
                        let seg = cj * l..(cj + 1) * l;
                        for (o, v) in yr[seg.clone()].iter_mut().zip(&xr[seg]) {
                            *o = (*v - mu) * rs * w + b;
                        }
                    }
                }
            }
        }
    });
}

/// Gradients from the upstream `dy` and the forward's `mean`/`rstd`: `dx` (overwritten),
/// `dw` and `db` as `beta·old + new` (beta 0: overwritten, even NaN), each when given.
/// `weight` is the forward's (None: not affine).
///
/// One pass over blocks of samples (the tasks) computes `dx` row by row and each block's
/// parameter-gradient sums while the row is in cache; a second, short one adds the blocks'
/// sums per channel in block order. Blocks depend on the shape only, so the bits do not
/// depend on the thread count.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    s: &GnShape,
    x: &[f32],
    dy: &[f32],
    weight: Option<&[f32]>,
    mean: &[f32],
    rstd: &[f32],
    dx: Option<&mut [f32]>,
    dw: Option<(&mut [f32], f32)>,
    db: Option<(&mut [f32], f32)>,
) {
    s.check();
    let (len, rows, c) = (s.len(), s.rows(), s.c);
    assert!(x.len() >= len && dy.len() >= len && mean.len() >= rows && rstd.len() >= rows, "group_norm: buffers too short");
    assert!(weight.is_none_or(|w| w.len() >= c), "group_norm: weight shorter than {c} channels");
    assert!(dx.as_ref().is_none_or(|d| d.len() >= len), "group_norm: dx too short");
    assert!(dw.as_ref().is_none_or(|d| d.0.len() >= c) && db.as_ref().is_none_or(|d| d.0.len() >= c), "group_norm: dw/db shorter than {c} channels");
    let params = dw.is_some() || db.is_some();
    if s.n == 0 || (dx.is_none() && !params) {
        // No samples (the parameter gradients are empty sums), or nothing wanted.
        for (p, beta) in [dw, db].into_iter().flatten() {
            p[..c].iter_mut().for_each(|v| *v = if beta == 0.0 { 0.0 } else { beta * *v });
        }
        return;
    }
    let bs = s.n.div_ceil(MAX_BLOCKS);
    let blocks = s.n.div_ceil(bs);
    // Per block: Σ dy then Σ dy·x̂ for each channel.
    let mut parts = if params { vec![0.0f64; blocks * 2 * c] } else { Vec::new() };
    let (pp, dxp) = (SharedMut(parts.as_mut_ptr()), dx.map(|d| SharedMut(d.as_mut_ptr())));
    let block = |b: usize| {
        let (n0, n1) = (b * bs, ((b + 1) * bs).min(s.n));
        // SAFETY: block b's sums belong to this task.
        let part = params.then(|| unsafe { pp.slice(b * 2 * c, 2 * c) });
        sample_block(s, x, dy, weight, mean, rstd, n0, n1, dxp, part);
    };
    if parallel::threads() <= 1 || blocks < 2 || len < PAR_MIN {
        (0..blocks).for_each(block);
    } else {
        parallel::for_each_task(blocks, block);
    }
    if params {
        let (dw, db) = (dw.map(|(p, beta)| (SharedMut(p.as_mut_ptr()), beta)), db.map(|(p, beta)| (SharedMut(p.as_mut_ptr()), beta)));
        let parts = &parts;
        let sum_range = |c0: usize, c1: usize| {
            for ch in c0..c1 {
                let (mut sdy, mut sdyx) = (0.0f64, 0.0f64);
                for b in 0..blocks {
                    sdy += parts[b * 2 * c + ch];
                    sdyx += parts[b * 2 * c + c + ch];
                }
                dw.map(|p| store(p, ch, sdyx));
                db.map(|p| store(p, ch, sdy));
            }
        };
        if parallel::threads() <= 1 || blocks * c < PAR_MIN {
            sum_range(0, c);
        } else {
            let r = parallel::split_range(c, parallel::threads(), 16);
            parallel::for_each_task(r.len(), |i| sum_range(r[i].0, r[i].1));
        }
    }
}

/// Blocks of samples the backward splits into, at most (so the blocks' sums take at most
/// `2·MAX_BLOCKS·C` doubles).
const MAX_BLOCKS: usize = 64;
/// Samples an L = 1 block sums in f32 before adding into its f64 sums.
const F32_RUN: usize = 32;

/// Samples `n0..n1`: `dx` for their rows when wanted, and their parameter-gradient sums into
/// `part` (`[Σ dy; C]` then `[Σ dy·x̂; C]`) when wanted.
#[allow(clippy::too_many_arguments)]
fn sample_block(
    s: &GnShape,
    x: &[f32],
    dy: &[f32],
    weight: Option<&[f32]>,
    mean: &[f32],
    rstd: &[f32],
    n0: usize,
    n1: usize,
    dx: Option<SharedMut<f32>>,
    mut part: Option<&mut [f64]>,
) {
    let (d, cpg, l, c) = (s.d(), s.cpg(), s.l, s.c);
    // L = 1: a row's values are channels; f32 sums over up to F32_RUN samples, then into part.
    let mut acc = if l == 1 && part.is_some() { vec![0.0f32; 2 * c] } else { Vec::new() };
    let mut seg = vec![(0.0f64, 0.0f64); if l > 1 { cpg } else { 0 }];
    let one = Simd::splat(1.0);
    for n in n0..n1 {
        for gi in 0..s.g {
            let r = n * s.g + gi;
            let o = r * d;
            let (xr, gr, mu, rs) = (&x[o..o + d], &dy[o..o + d], mean[r], rstd[r]);
            let c0 = gi * cpg;
            if l > 1 {
                // Each channel's Σ dy and Σ dy·x̂: its parameter sums, and (weighted) the row's.
                for (cj, sc) in seg.iter_mut().enumerate() {
                    let (xs, gs) = (&xr[cj * l..(cj + 1) * l], &gr[cj * l..(cj + 1) * l]);
                    *sc = lane_sums(gs, xs, xs, |g, v, _| grad_terms(g, v, one, mu, rs), |g, v, _| grad_terms(g, v, 1.0, mu, rs));
                }
                if let Some(p) = part.as_deref_mut() {
                    for (cj, (u, v)) in seg.iter().enumerate() {
                        p[c0 + cj] += u;
                        p[c + c0 + cj] += v;
                    }
                }
            } else if part.is_some() {
                let (ady, adyx) = acc.split_at_mut(c);
                for (((a, b), g), v) in ady[c0..c0 + d].iter_mut().zip(&mut adyx[c0..c0 + d]).zip(gr).zip(xr) {
                    let (u, t) = grad_terms(*g, *v, 1.0, mu, rs);
                    *a += u;
                    *b += t;
                }
            }
            let Some(dx) = dx else { continue };
            // The row's Σ g and Σ g·x̂ (g = dy·w), only when dx is wanted.
            let (sg, sgx) = if l > 1 {
                seg.iter().enumerate().fold((0.0, 0.0), |(a, b), (cj, (u, v))| {
                    let w = weight.map_or(1.0, |w| w[c0 + cj] as f64);
                    (a + w * u, b + w * v)
                })
            } else {
                match weight {
                    None => lane_sums(gr, xr, xr, |g, v, _| grad_terms(g, v, one, mu, rs), |g, v, _| grad_terms(g, v, 1.0, mu, rs)),
                    Some(w) => lane_sums(gr, xr, &w[c0..c0 + d], |g, v, w| grad_terms(g, v, w, mu, rs), |g, v, w| grad_terms(g, v, w, mu, rs)),
                }
            };
            let (a, b) = ((sg / d as f64) as f32, (sgx / d as f64) as f32);
            // SAFETY: row r's gradient belongs to this task.
            let dr = unsafe { dx.slice(o, d) };
            let each = |o: &mut f32, g: f32, v: f32| *o = rs * (g - a - (v - mu) * rs * b);
            match weight {
                None => dr.iter_mut().zip(gr).zip(xr).for_each(|((o, g), v)| each(o, *g, *v)),
                Some(w) if l == 1 => dr.iter_mut().zip(gr).zip(xr).zip(&w[c0..c0 + d]).for_each(|(((o, g), v), w)| each(o, *g * *w, *v)),
                Some(w) => {
                    for cj in 0..cpg {
                        let (sg, wc) = (cj * l..(cj + 1) * l, w[c0 + cj]);
                        dr[sg.clone()].iter_mut().zip(&gr[sg.clone()]).zip(&xr[sg]).for_each(|((o, g), v)| each(o, *g * wc, *v));
                    }
                }
            }
        }
        if l == 1 && ((n + 1 - n0) % F32_RUN == 0 || n + 1 == n1) {
            if let Some(p) = part.as_deref_mut() {
                for (q, a) in p.iter_mut().zip(acc.iter_mut()) {
                    *q += *a as f64;
                    *a = 0.0;
                }
            }
        }
    }
}

fn store(p: (SharedMut<f32>, f32), c: usize, v: f64) {
    // SAFETY: channel c's gradient belongs to the calling task.
    let o = unsafe { &mut p.0.slice(c, 1)[0] };
    *o = if p.1 == 0.0 { v as f32 } else { p.1 * *o + v as f32 };
}

/// The plain reference in f64: `y` of the forward, straight from the definition.
pub fn forward_ref(s: &GnShape, x: &[f64], affine: Option<(&[f64], &[f64])>, eps: f64) -> Vec<f64> {
    let (d, cpg, l) = (s.d(), s.cpg(), s.l);
    let mut y = vec![0.0; s.len()];
    for r in 0..s.rows() {
        let xr = &x[r * d..(r + 1) * d];
        let mu = xr.iter().sum::<f64>() / d as f64;
        let var = xr.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / d as f64;
        for i in 0..d {
            let c = (r % s.g) * cpg + i / l;
            let (w, b) = affine.map_or((1.0, 0.0), |(w, b)| (w[c], b[c]));
            y[r * d + i] = (xr[i] - mu) / (var + eps).sqrt() * w + b;
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    fn f64s(v: &[f32]) -> Vec<f64> {
        v.iter().map(|&a| a as f64).collect()
    }

    /// (shape, affine): LayerNorm-like rows (one longer than a sum block), GroupNorm with runs
    /// of L > 1, GroupNorm on [N, C] (L = 1, several groups), a single group.
    fn cases() -> Vec<(GnShape, bool)> {
        vec![
            (GnShape { n: 37, c: 130, l: 1, g: 1 }, true),
            (GnShape { n: 3, c: 5000, l: 1, g: 1 }, true),
            (GnShape { n: 4, c: 6, l: 50, g: 3 }, true),
            (GnShape { n: 3, c: 6, l: 7, g: 2 }, false),
            (GnShape { n: 9, c: 12, l: 1, g: 4 }, true),
            (GnShape { n: 2, c: 4, l: 300, g: 1 }, false),
            // 3000 samples: blocks of 47, each summing its first 32 in f32 before the rest.
            (GnShape { n: 3000, c: 8, l: 1, g: 2 }, true),
        ]
    }

    /// Forward against the f64 definition (with an offset mean, where cancellation would show).
    #[test]
    fn forward_matches_definition() {
        for (s, affine) in cases() {
            let x: Vec<f32> = vals(s.len(), 1).iter().map(|v| v * 3.0 + 20.0).collect();
            let (w, b) = (vals(s.c, 2), vals(s.c, 3));
            let (mut y, mut mean, mut rstd) = (vec![0.0; s.len()], vec![0.0; s.rows()], vec![0.0; s.rows()]);
            forward(&s, &x, affine.then_some((&w[..], &b[..])), 1e-5, &mut y, &mut mean, &mut rstd);
            let (w64, b64) = (f64s(&w), f64s(&b));
            let want = forward_ref(&s, &f64s(&x), affine.then_some((&w64[..], &b64[..])), 1e-5);
            for (i, (a, e)) in y.iter().zip(&want).enumerate() {
                assert!((*a as f64 - e).abs() <= 2e-5 * (1.0 + e.abs()), "{s:?} y[{i}] = {a}, want {e}");
            }
        }
    }

    /// Backward against central differences of the f64 definition, for `L = Σ y·u`.
    #[test]
    fn backward_matches_finite_differences() {
        for (s, affine) in cases().into_iter().filter(|(s, _)| s.len() <= 30_000) {
            let x = vals(s.len(), 4);
            let u = vals(s.len(), 5);
            let (w, b) = (vals(s.c, 6), vals(s.c, 7));
            let (mut y, mut mean, mut rstd) = (vec![0.0; s.len()], vec![0.0; s.rows()], vec![0.0; s.rows()]);
            let aff = affine.then_some((&w[..], &b[..]));
            forward(&s, &x, aff, 1e-5, &mut y, &mut mean, &mut rstd);
            let (mut dx, mut dw, mut db) = (vec![0.0; s.len()], vec![0.0; s.c], vec![0.0; s.c]);
            let (dwo, dbo) = if affine { (Some((&mut dw[..], 0.0)), Some((&mut db[..], 0.0))) } else { (None, None) };
            backward(&s, &x, &u, affine.then_some(&w[..]), &mean, &rstd, Some(&mut dx), dwo, dbo);
            let (x64, u64s, w64, b64) = (f64s(&x), f64s(&u), f64s(&w), f64s(&b));
            let loss = |x: &[f64], w: &[f64], b: &[f64]| -> f64 {
                let y = forward_ref(&s, x, affine.then_some((w, b)), 1e-5);
                y.iter().zip(&u64s).map(|(a, b)| a * b).sum()
            };
            let h = 1e-6;
            let num = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
            let close = |a: f32, e: f64| (a as f64 - e).abs() <= 2e-4 * (1.0 + e.abs());
            for j in (0..s.len()).step_by(7.max(s.len() / 300)) {
                let e = num(&|dh| {
                    let mut xx = x64.clone();
                    xx[j] += dh;
                    loss(&xx, &w64, &b64)
                });
                assert!(close(dx[j], e), "{s:?} dx[{j}] = {}, finite differences {e}", dx[j]);
            }
            if affine {
                for c in 0..s.c {
                    let ew = num(&|dh| {
                        let mut ww = w64.clone();
                        ww[c] += dh;
                        loss(&x64, &ww, &b64)
                    });
                    let eb = num(&|dh| {
                        let mut bb = b64.clone();
                        bb[c] += dh;
                        loss(&x64, &w64, &bb)
                    });
                    assert!(close(dw[c], ew) && close(db[c], eb), "{s:?} channel {c}: dw {} vs {ew}, db {} vs {eb}", dw[c], db[c]);
                }
            }
        }
    }

    /// Parameter gradients accumulate as `beta·old + new`; a NaN there is overwritten with beta 0.
    #[test]
    fn param_grads_accumulate_with_beta() {
        let s = GnShape { n: 5, c: 8, l: 3, g: 2 };
        let (x, u, w) = (vals(s.len(), 8), vals(s.len(), 9), vals(s.c, 10));
        let b = vec![0.0; s.c];
        let (mut y, mut mean, mut rstd) = (vec![0.0; s.len()], vec![0.0; s.rows()], vec![0.0; s.rows()]);
        forward(&s, &x, Some((&w, &b)), 1e-5, &mut y, &mut mean, &mut rstd);
        let (mut dw0, mut db0) = (vec![f32::NAN; s.c], vec![f32::NAN; s.c]);
        backward(&s, &x, &u, Some(&w), &mean, &rstd, None, Some((&mut dw0, 0.0)), Some((&mut db0, 0.0)));
        assert!(dw0.iter().chain(&db0).all(|v| v.is_finite()));
        let (mut dw1, mut db1) = (vec![0.5; s.c], vec![-2.0; s.c]);
        backward(&s, &x, &u, Some(&w), &mean, &rstd, None, Some((&mut dw1, 1.0)), Some((&mut db1, 1.0)));
        for c in 0..s.c {
            assert_eq!(dw1[c], 0.5 + dw0[c]);
            assert_eq!(db1[c], -2.0 + db0[c]);
        }
    }

    /// No samples: the parameter gradients are empty sums (beta·old), as PyTorch's zeros.
    #[test]
    fn empty_batch_gives_zero_parameter_gradients() {
        let s = GnShape { n: 0, c: 4, l: 3, g: 2 };
        let (mut dw, mut db) = (vec![f32::NAN; 4], vec![2.0; 4]);
        backward(&s, &[], &[], Some(&[1.0; 4]), &[], &[], Some(&mut []), Some((&mut dw, 0.0)), Some((&mut db, 0.5)));
        assert_eq!((dw, db), (vec![0.0; 4], vec![1.0; 4]));
    }

    /// Rows and channels split over threads: the same bits on 1 and 3 threads.
    #[test]
    fn same_bits_on_any_thread_count() {
        let _settings = crate::parallel::test_settings_lock();
        for s in [GnShape { n: 64, c: 1024, l: 1, g: 1 }, GnShape { n: 8, c: 32, l: 196, g: 8 }, GnShape { n: 128, c: 256, l: 1, g: 4 }] {
            let (x, u, w, b) = (vals(s.len(), 11), vals(s.len(), 12), vals(s.c, 13), vals(s.c, 14));
            let mut runs = vec![];
            for threads in [1, 3] {
                crate::parallel::set_threads(threads);
                let (mut y, mut mean, mut rstd) = (vec![0.0; s.len()], vec![0.0; s.rows()], vec![0.0; s.rows()]);
                forward(&s, &x, Some((&w, &b)), 1e-5, &mut y, &mut mean, &mut rstd);
                let (mut dx, mut dw, mut db) = (vec![0.0; s.len()], vec![0.0; s.c], vec![0.0; s.c]);
                backward(&s, &x, &u, Some(&w), &mean, &rstd, Some(&mut dx), Some((&mut dw, 0.0)), Some((&mut db, 0.0)));
                runs.push((y, mean, rstd, dx, dw, db));
            }
            crate::parallel::set_threads(1);
            assert!(runs[0] == runs[1], "{s:?}: 1 and 3 threads differ");
        }
    }
}
