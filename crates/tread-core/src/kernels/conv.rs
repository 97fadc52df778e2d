//! 2-D convolution, NCHW, cross-correlation as PyTorch's `Conv2d` (stride, padding that may
//! be asymmetric, dilation, groups, padding modes), by im2col + SGEMM, parallel over the
//! batch.
//!
//! The batch is cut into chunks, one task each (a few per thread, for uneven cores). For
//! each sample a task builds its columns `cols[n]` (`[C·KH·KW, OH·OW]`, kept in the caller's
//! buffer for the backward pass, see `im2col.rs`) and runs one GEMM per group while they are
//! still in cache. Group `g` owns input channels `g·C/G..`, output channels `g·OC/G..` and
//! the weights `W[g]` (`[OC/G, C/G·KH·KW]`, contiguous); its rows of the columns are
//! contiguous too (channel-major), so:
//!
//! - forward:  `Y[n][g] (OC/G×OHW) = W[g] · cols[n][g]` (+ bias, written first, beta = 1);
//! - backward: `dW[g] += dY[n][g] · cols[n][g]ᵀ` into a per-chunk partial (summed at the end),
//!   `dcols[g] = W[g]ᵀ · dY[n][g]` into per-chunk scratch, then col2im adds it into `dX[n]`;
//!   `db` = sums of dY rows.
//!
//! NCHW makes every per-sample operand contiguous, so nothing is transposed or gathered.
//! (One GEMM over the whole batch streams its operands through memory and measured about
//! half as fast on the 2-core dev machine.) With one group this is exactly one GEMM per
//! sample and pass, as before groups existed.
//!
//! One input channel per group (depthwise; channel multiplier `m` up to 8) with zero
//! padding runs a direct kernel instead (`conv/depthwise.rs`): there the GEMMs would be
//! `[m × k²]·[k² × OH·OW]`, too small to run fast. Its `cols` buffer then holds a copy of
//! the input, not columns: `cols` is the forward's saved state, read only by
//! `conv2d_backward`. (Other padding modes keep im2col, whose index maps implement them.)
//!
//! Dense 3×3 convolutions with stride 1 (no dilation, one group, at least 8 input and
//! output channels, zero padding or none) run Winograd F(4×4, 3×3) instead
//! (`conv/winograd.rs`): 36 products per 16 outputs instead of 144, in all three passes.
//! There `cols` holds the transformed input tiles (about a quarter of the im2col columns).

mod depthwise;
mod f32x4;
mod winograd;
mod winograd_tile;
mod f32_dwconv_scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod f32_dwconv_wasmsimd;

pub use winograd::set_tile as set_winograd_tile;

use super::im2col::{col2im_add_sample, im2col_sample, PadMode};
use super::window::Axis;
use crate::kernels::gemm::sgemm;
use crate::kernels::activation::{relu_in_place, relu_mask};
use crate::parallel::{self, SharedMut};

/// The geometry of one convolution. `ph`/`pw` pad before (top/left), `ph_end`/`pw_end`
/// after (PyTorch's `padding='same'` puts an odd remainder after).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub oc: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub ph_end: usize,
    pub pw_end: usize,
    pub dh: usize,
    pub dw: usize,
    pub groups: usize,
    pub mode: PadMode,
}

impl ConvShape {
    /// Symmetric zero padding, no dilation, one group (the common convolution).
    #[allow(clippy::too_many_arguments)]
    pub fn plain(n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize) -> ConvShape {
        ConvShape { n, c, h, w, oc, kh, kw, sh, sw, ph, pw, ph_end: ph, pw_end: pw, dh: 1, dw: 1, groups: 1, mode: PadMode::Zeros }
    }
    fn axis_h(&self) -> Axis {
        Axis { k: self.kh, stride: self.sh, dilation: self.dh, pad_lo: self.ph, pad_hi: self.ph_end, ceil: false }
    }
    fn axis_w(&self) -> Axis {
        Axis { k: self.kw, stride: self.sw, dilation: self.dw, pad_lo: self.pw, pad_hi: self.pw_end, ceil: false }
    }
    /// Output height (0 when the kernel does not fit).
    pub fn oh(&self) -> usize {
        self.axis_h().out_size(self.h)
    }
    pub fn ow(&self) -> usize {
        self.axis_w().out_size(self.w)
    }
    pub fn ohw(&self) -> usize {
        self.oh() * self.ow()
    }
    pub fn has_padding(&self) -> bool {
        self.ph + self.pw + self.ph_end + self.pw_end > 0
    }
    /// Rows of a sample's columns: `C·KH·KW`.
    pub fn ckk(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Rows of one group's columns, and the length of a weight row: `C/G·KH·KW`.
    pub fn group_ckk(&self) -> usize {
        self.ckk() / self.groups
    }
    /// Output channels per group.
    pub fn group_oc(&self) -> usize {
        self.oc / self.groups
    }
    /// Elements of one sample's columns.
    pub fn sample_cols(&self) -> usize {
        self.ckk() * self.ohw()
    }
    /// Elements of the im2col columns of the whole batch: `N · C·KH·KW · OH·OW`.
    pub fn cols_len(&self) -> usize {
        self.n * self.sample_cols()
    }
    /// Elements of the buffer the forward fills for the backward (`cols` in
    /// [`conv2d_forward`]): the columns, or on the depthwise path a copy of the input.
    pub fn saved_len(&self) -> usize {
        if depthwise::applies(self) {
            self.x_len()
        } else if winograd::applies(self) {
            winograd::saved_len(self).unwrap_or(usize::MAX)
        } else {
            self.cols_len()
        }
    }
    /// [`Self::saved_len`] in checked arithmetic: `None` when it does not fit a `usize` (on
    /// wasm32, 2^32 elements), where the plain product would wrap to a too-small buffer.
    pub fn checked_saved_len(&self) -> Option<usize> {
        let prod = |xs: &[usize]| xs.iter().try_fold(1usize, |acc, &x| acc.checked_mul(x));
        if depthwise::applies(self) {
            prod(&[self.n, self.c, self.h, self.w])
        } else if winograd::applies(self) {
            winograd::saved_len(self)
        } else {
            prod(&[self.n, self.c, self.kh, self.kw, self.oh(), self.ow()])
        }
    }
    pub fn x_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.n * self.oc * self.ohw()
    }
    /// Weights `[OC, C/G, KH, KW]`.
    pub fn w_len(&self) -> usize {
        self.oc * self.group_ckk()
    }
    /// Panics (with the numbers) on a geometry the kernels cannot run.
    pub fn validate(&self) {
        assert!(self.groups >= 1 && self.c % self.groups == 0 && self.oc % self.groups == 0, "conv2d: channels {} and {} not divisible by groups {}", self.c, self.oc, self.groups);
        assert!(self.sh >= 1 && self.sw >= 1 && self.dh >= 1 && self.dw >= 1, "conv2d: stride and dilation must be positive");
        if self.mode != PadMode::Zeros {
            let limit = |len: usize| if self.mode == PadMode::Reflect { len.saturating_sub(1) } else if self.mode == PadMode::Circular { len } else { usize::MAX };
            assert!(
                self.h > 0 && self.w > 0 && self.ph.max(self.ph_end) <= limit(self.h) && self.pw.max(self.pw_end) <= limit(self.w),
                "conv2d: padding ({}, {}) too large for {:?} padding of a {}x{} input", self.ph.max(self.ph_end), self.pw.max(self.pw_end), self.mode, self.h, self.w
            );
        }
    }
}

/// Σ x: eight f32 lanes per block of 512, blocks added in f64.
pub(crate) fn sum_f64(x: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for ch in x.chunks(512) {
        let mut acc = [0.0f32; 8];
        let mut it = ch.chunks_exact(8);
        for c8 in &mut it {
            for l in 0..8 {
                acc[l] += c8[l];
            }
        }
        let mut s: f32 = acc.iter().sum();
        for v in it.remainder() {
            s += *v;
        }
        total += s as f64;
    }
    total
}

/// Contiguous ranges of samples, one task each: a few per thread when there is work enough.
fn batch_chunks(s: &ConvShape) -> Vec<(usize, usize)> {
    let t = parallel::threads();
    let macs = s.y_len() * s.group_ckk();
    let parts = if t <= 1 || s.n < 2 || macs < 200_000 { 1 } else { (t * 3).min(s.n) };
    parallel::split_range(s.n, parts, 1)
}

/// Forward: `y = conv(x, w) + bias`; `cols` (`saved_len`) keeps what the backward reads: the
/// columns, or on the depthwise path a copy of `x`.
pub fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], cols: &mut [f32]) {
    conv2d_forward_act(s, x, w, bias, false, y, cols);
}

/// [`conv2d_forward`], then ReLU when `relu` (a Conv2d followed by a ReLU): each task clamps
/// the output of its samples right after computing it, while it is in cache, instead of a
/// separate pass over the whole batch. The backward is [`conv2d_backward_masked`] with `y`.
pub fn conv2d_forward_act(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, relu: bool, y: &mut [f32], cols: &mut [f32]) {
    s.validate();
    assert!(x.len() >= s.x_len() && w.len() >= s.w_len() && y.len() >= s.y_len() && cols.len() >= s.saved_len(), "conv2d_forward: buffers too short");
    if let Some(b) = bias {
        assert!(b.len() >= s.oc);
    }
    if s.y_len() == 0 {
        return;
    }
    if depthwise::applies(s) {
        return depthwise::forward(s, x, w, bias, relu, y, cols);
    }
    if winograd::applies(s) {
        return winograd::forward(s, x, w, bias, relu, y, cols);
    }
    let (ohw, gk, go) = (s.ohw(), s.group_ckk(), s.group_oc());
    let (chw, sc, yn) = (s.c * s.h * s.w, s.sample_cols(), s.oc * ohw);
    let chunks = batch_chunks(s);
    let (yp, cp) = (SharedMut(y.as_mut_ptr()), SharedMut(cols.as_mut_ptr()));
    parallel::for_each_task(chunks.len(), |t| {
        for n in chunks[t].0..chunks[t].1 {
            // SAFETY: sample n's columns and output belong to this task.
            let (cn, ys) = unsafe { (cp.slice(n * sc, sc), yp.slice(n * yn, yn)) };
            im2col_sample(s, &x[n * chw..(n + 1) * chw], cn);
            let beta = match bias {
                Some(b) => {
                    for (o, row) in ys.chunks_exact_mut(ohw).enumerate() {
                        row.fill(b[o]);
                    }
                    1.0
                }
                None => 0.0,
            };
            for g in 0..s.groups {
                let wg = &w[g * go * gk..(g + 1) * go * gk];
                let cg = &cn[g * gk * ohw..(g + 1) * gk * ohw];
                let yg = &mut ys[g * go * ohw..(g + 1) * go * ohw];
                sgemm(false, false, go, ohw, gk, 1.0, wg, gk.max(1), cg, ohw, beta, yg, ohw);
            }
            if relu {
                relu_in_place(ys);
            }
        }
    });
}

/// Backward from the forward's `cols`. Gradients: `dw = beta_w·dw + Σ dY[n]·cols[n]ᵀ`,
/// `db = beta_b·db + Σ dY`, `dx = col2im(Wᵀ·dY[n])` (overwritten); each optional.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward(
    s: &ConvShape,
    cols: &[f32],
    w: &[f32],
    dy: &[f32],
    dw: Option<(&mut [f32], f32)>,
    db: Option<(&mut [f32], f32)>,
    dx: Option<&mut [f32]>,
) {
    conv2d_backward_masked(s, cols, w, None, dy, dw, db, dx);
}

/// [`conv2d_backward`] of [`conv2d_forward_act`] with `relu`: `y` is that forward's output, and
/// `dy` counts only where `y > 0`. Each task masks its samples' `dy` into scratch as it takes
/// them (one pass in cache instead of a ReLU backward over the whole batch); the results are
/// bit for bit those of the masked `dy` given to `conv2d_backward`.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward_masked(
    s: &ConvShape,
    cols: &[f32],
    w: &[f32],
    y: Option<&[f32]>,
    dy: &[f32],
    dw: Option<(&mut [f32], f32)>,
    db: Option<(&mut [f32], f32)>,
    dx: Option<&mut [f32]>,
) {
    s.validate();
    if let Some(y) = y {
        assert!(y.len() >= s.y_len(), "conv2d_backward: y has {} floats, needs {}", y.len(), s.y_len());
    }
    let (ohw, gk, go, oc) = (s.ohw(), s.group_ckk(), s.group_oc(), s.oc);
    assert!(dy.len() >= s.y_len() && w.len() >= s.w_len() && cols.len() >= s.saved_len(), "conv2d_backward: buffers too short");
    let (chw, sc, yn, wl) = (s.c * s.h * s.w, s.sample_cols(), oc * ohw, s.w_len());
    if let Some(d) = &dx {
        assert!(d.len() >= s.x_len(), "conv2d_backward: dx has {} floats, needs {}", d.len(), s.x_len());
    }
    if depthwise::applies(s) && s.y_len() > 0 {
        // The direct kernel walks dy by planes; it gets the masked copy whole.
        return match y {
            Some(y) => {
                let mut dz = vec![0.0f32; s.y_len()];
                relu_mask(&y[..s.y_len()], &dy[..s.y_len()], &mut dz);
                depthwise::backward(s, cols, w, &dz, dw, db, dx)
            }
            None => depthwise::backward(s, cols, w, dy, dw, db, dx),
        };
    }
    if winograd::applies(s) && s.y_len() > 0 {
        return winograd::backward(s, cols, w, y, dy, dw, db, dx);
    }
    let want_dw = dw.is_some();
    let want_db = db.is_some();
    let dxp = dx.map(|d| {
        SharedMut(d.as_mut_ptr())
    });
    if !want_dw && !want_db && dxp.is_none() {
        return;
    }
    let chunks = batch_chunks(s);
    let nt = chunks.len();
    // Per-chunk partial weight and bias gradients and column scratch, reduced in chunk order
    // below (so the result does not depend on which thread ran which chunk). The bias sums
    // run in the tasks too: over all of dy they are as much memory traffic as a GEMM operand.
    let mut partial = vec![0.0f32; if want_dw { nt * wl } else { 0 }];
    let mut partial_db = vec![0.0f64; if want_db { nt * oc } else { 0 }];
    let mut scratch = vec![0.0f32; if dxp.is_some() { nt * sc } else { 0 }];
    let mut masked = vec![0.0f32; if y.is_some() { nt * yn } else { 0 }];
    let (pp, sp) = (SharedMut(partial.as_mut_ptr()), SharedMut(scratch.as_mut_ptr()));
    let (pdb, mp) = (SharedMut(partial_db.as_mut_ptr()), SharedMut(masked.as_mut_ptr()));
    let ld = ohw.max(1);
    parallel::for_each_task(nt, |t| {
        // SAFETY: chunk t owns partial[t], scratch[t], masked[t] and its samples' part of dx.
        for (i, n) in (chunks[t].0..chunks[t].1).enumerate() {
            let cn = &cols[n * sc..(n + 1) * sc];
            let dyn_ = unsafe { dy_span(y, dy, n * yn, (n + 1) * yn, mp, t * yn) };
            if want_db {
                let acc = unsafe { pdb.slice(t * oc, oc) };
                for (o, a) in acc.iter_mut().enumerate() {
                    *a += sum_f64(&dyn_[o * ohw..(o + 1) * ohw]);
                }
            }
            if want_dw {
                let pw = unsafe { pp.slice(t * wl, wl) };
                for g in 0..s.groups {
                    let dyg = &dyn_[g * go * ohw..(g + 1) * go * ohw];
                    let cg = &cn[g * gk * ohw..(g + 1) * gk * ohw];
                    let pg = &mut pw[g * go * gk..(g + 1) * go * gk];
                    sgemm(false, true, go, gk, ohw, 1.0, dyg, ld, cg, ld, if i == 0 { 0.0 } else { 1.0 }, pg, gk.max(1));
                }
            }
            if let Some(xp) = dxp {
                let dcols = unsafe { sp.slice(t * sc, sc) };
                let dxn = unsafe { xp.slice(n * chw, chw) };
                dxn.fill(0.0);
                for g in 0..s.groups {
                    let wg = &w[g * go * gk..(g + 1) * go * gk];
                    let dyg = &dyn_[g * go * ohw..(g + 1) * go * ohw];
                    let dg = &mut dcols[g * gk * ohw..(g + 1) * gk * ohw];
                    sgemm(true, false, gk, ohw, go, 1.0, wg, gk.max(1), dyg, ld, 0.0, dg, ld);
                }
                col2im_add_sample(s, dcols, dxn);
            }
        }
    });
    finish_db(db, &partial_db, nt, oc);
    finish_dw(dw, &partial, nt, wl);
}

/// `dy[lo..hi]`, or, with `y` (the output of a forward fused with ReLU), that span masked by
/// `y > 0` into `scratch[at..at + hi - lo]`: what a task of the backward reads as its dy.
///
/// # Safety
/// That part of `scratch` exists and belongs to the caller's task.
pub(super) unsafe fn dy_span<'a>(y: Option<&[f32]>, dy: &'a [f32], lo: usize, hi: usize, scratch: SharedMut<f32>, at: usize) -> &'a [f32] {
    match y {
        Some(y) => {
            let dz = std::slice::from_raw_parts_mut(scratch.0.add(at), hi - lo);
            relu_mask(&y[lo..hi], &dy[lo..hi], dz);
            dz
        }
        None => &dy[lo..hi],
    }
}

/// `db = beta·db + Σ_t partial[t]` over the per-task bias sums, in task order.
fn finish_db(db: Option<(&mut [f32], f32)>, partial: &[f64], nt: usize, oc: usize) {
    if let Some((db, beta)) = db {
        for (o, d) in db[..oc].iter_mut().enumerate() {
            let a: f64 = (0..nt).map(|t| partial[t * oc + o]).sum();
            *d = if beta == 0.0 { a as f32 } else { beta * *d + a as f32 };
        }
    }
}

/// `dw = beta·dw + Σ_t partial[t]` over the per-task weight gradients, in task order (so
/// the result does not depend on which thread ran which task). An untouched partial is 0.
fn finish_dw(dw: Option<(&mut [f32], f32)>, partial: &[f32], nt: usize, wl: usize) {
    if let Some((dw, beta)) = dw {
        let dw = &mut dw[..wl];
        if beta == 0.0 {
            dw.fill(0.0);
        } else if beta != 1.0 {
            dw.iter_mut().for_each(|v| *v *= beta);
        }
        for t in 0..nt {
            for (d, p) in dw.iter_mut().zip(&partial[t * wl..(t + 1) * wl]) {
                *d += *p;
            }
        }
    }
}

/// The input index (within its plane) that output `(oy, ox)` reads through tap `(ki, kj)`,
/// or `None` where zero padding is read. Written straight from the definition, for the
/// references.
fn tap_source(s: &ConvShape, oy: usize, ox: usize, ki: usize, kj: usize) -> Option<usize> {
    let iy = (oy * s.sh + ki * s.dh) as isize - s.ph as isize;
    let ix = (ox * s.sw + kj * s.dw) as isize - s.pw as isize;
    Some(s.mode.source(iy, s.h)? * s.w + s.mode.source(ix, s.w)?)
}

/// Reference forward: the direct 7-deep loop, accumulated in f64.
pub fn conv2d_forward_ref(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    s.validate();
    let (oh, ow, cg, go) = (s.oh(), s.ow(), s.c / s.groups, s.group_oc());
    for nn in 0..s.n {
        for o in 0..s.oc {
            let g = o / go;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias.map_or(0.0, |b| b[o] as f64);
                    for ci in 0..cg {
                        let plane = (nn * s.c + g * cg + ci) * s.h * s.w;
                        for ki in 0..s.kh {
                            for kj in 0..s.kw {
                                if let Some(i) = tap_source(s, oy, ox, ki, kj) {
                                    let wv = w[((o * cg + ci) * s.kh + ki) * s.kw + kj];
                                    acc += x[plane + i] as f64 * wv as f64;
                                }
                            }
                        }
                    }
                    y[((nn * s.oc + o) * oh + oy) * ow + ox] = acc as f32;
                }
            }
        }
    }
}

/// Reference backward (direct loops, f64): overwrites `dx`, `dw`, `db`.
pub fn conv2d_backward_ref(s: &ConvShape, x: &[f32], w: &[f32], dy: &[f32], dx: &mut [f32], dw: &mut [f32], db: &mut [f32]) {
    s.validate();
    let (oh, ow, cg, go) = (s.oh(), s.ow(), s.c / s.groups, s.group_oc());
    let mut dx64 = vec![0.0f64; s.x_len()];
    let mut dw64 = vec![0.0f64; s.w_len()];
    let mut db64 = vec![0.0f64; s.oc];
    for nn in 0..s.n {
        for o in 0..s.oc {
            let g = o / go;
            for oy in 0..oh {
                for ox in 0..ow {
                    let gy = dy[((nn * s.oc + o) * oh + oy) * ow + ox] as f64;
                    db64[o] += gy;
                    for ci in 0..cg {
                        let plane = (nn * s.c + g * cg + ci) * s.h * s.w;
                        for ki in 0..s.kh {
                            for kj in 0..s.kw {
                                if let Some(i) = tap_source(s, oy, ox, ki, kj) {
                                    let wi = ((o * cg + ci) * s.kh + ki) * s.kw + kj;
                                    dx64[plane + i] += gy * w[wi] as f64;
                                    dw64[wi] += gy * x[plane + i] as f64;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    dx.iter_mut().zip(&dx64).for_each(|(a, b)| *a = *b as f32);
    dw.iter_mut().zip(&dw64).for_each(|(a, b)| *a = *b as f32);
    db.iter_mut().zip(&db64).for_each(|(a, b)| *a = *b as f32);
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn rand_vec(n: usize, seed: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "at {i}: {x} vs {y}");
        }
    }

    /// Fast forward and backward against the direct loops (dw accumulated onto 0.5).
    pub(super) fn check(s: ConvShape, seed: &mut u64) {
        let x = rand_vec(s.x_len(), seed);
        let w = rand_vec(s.w_len(), seed);
        let b = rand_vec(s.oc, seed);
        let dy = rand_vec(s.y_len(), seed);
        let mut y = vec![0.0; s.y_len()];
        let mut yr = vec![0.0; s.y_len()];
        let mut cols = vec![0.0; s.saved_len()];
        conv2d_forward(&s, &x, &w, Some(&b), &mut y, &mut cols);
        conv2d_forward_ref(&s, &x, &w, Some(&b), &mut yr);
        // F(4×4, 3×3) Winograd rounds about ten times more than a reordered sum (its own
        // tests in conv/winograd.rs bound it); the other paths are plain sums.
        close(&y, &yr, if winograd::applies(&s) { 1e-4 } else { 1e-5 });
        let (mut dx, mut dw, mut db) = (vec![1.0; s.x_len()], vec![0.5; s.w_len()], vec![0.25; s.oc]);
        conv2d_backward(&s, &cols, &w, &dy, Some((&mut dw, 1.0)), Some((&mut db, 0.0)), Some(&mut dx));
        let (mut dxr, mut dwr, mut dbr) = (vec![0.0; s.x_len()], vec![0.0; s.w_len()], vec![0.0; s.oc]);
        conv2d_backward_ref(&s, &x, &w, &dy, &mut dxr, &mut dwr, &mut dbr);
        dwr.iter_mut().for_each(|v| *v += 0.5);
        close(&dx, &dxr, 1e-4);
        close(&dw, &dwr, 1e-4);
        close(&db, &dbr, 1e-4);
    }

    #[test]
    fn conv_matches_reference() {
        let shapes = [
            ConvShape::plain(2, 3, 7, 6, 4, 3, 3, 1, 1, 0, 0),
            ConvShape::plain(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1),
            ConvShape::plain(2, 3, 7, 6, 4, 3, 3, 2, 2, 1, 1),
            ConvShape::plain(1, 2, 5, 6, 3, 3, 2, 1, 2, 1, 0),
            ConvShape::plain(3, 5, 9, 8, 7, 2, 4, 3, 1, 2, 3),
            ConvShape::plain(4, 8, 13, 13, 16, 3, 3, 1, 1, 0, 0),
        ];
        let mut seed = 7u64;
        for s in shapes {
            check(s, &mut seed);
        }
    }

    #[test]
    fn dilation_groups_and_asymmetric_padding_match_reference() {
        let p = ConvShape::plain;
        let shapes = [
            // dilation, no padding (the stride-1 copy path) and with padding / stride
            ConvShape { dh: 2, dw: 3, ..p(2, 3, 9, 11, 4, 3, 2, 1, 1, 0, 0) },
            ConvShape { dh: 2, dw: 2, ..p(2, 3, 9, 8, 4, 3, 3, 2, 1, 2, 1) },
            // groups 2, grouped and depthwise (groups == c), channel multiplier 2
            ConvShape { groups: 2, ..p(2, 4, 7, 6, 6, 3, 3, 1, 1, 1, 1) },
            ConvShape { groups: 3, ..p(3, 3, 8, 7, 6, 3, 2, 2, 1, 1, 0) },
            ConvShape { groups: 5, dh: 2, dw: 1, ..p(4, 5, 10, 9, 5, 2, 3, 1, 2, 1, 1) },
            // padding='same' with an even kernel: 1 before, 2 after (k 4) and dilated
            ConvShape { ph_end: 2, pw_end: 2, ..p(2, 2, 6, 7, 3, 4, 4, 1, 1, 1, 1) },
            ConvShape { ph: 3, ph_end: 3, pw: 1, pw_end: 2, dh: 3, dw: 3, ..p(2, 2, 8, 7, 3, 3, 2, 1, 1, 0, 0) },
        ];
        let mut seed = 11u64;
        for s in shapes {
            check(s, &mut seed);
        }
    }

    #[test]
    fn padding_modes_match_reference() {
        let p = ConvShape::plain;
        let mut seed = 13u64;
        for mode in [PadMode::Reflect, PadMode::Replicate, PadMode::Circular] {
            let shapes = [
                ConvShape { mode, ..p(2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1) },
                ConvShape { mode, ..p(2, 2, 7, 6, 3, 3, 2, 2, 1, 2, 1) },
                ConvShape { mode, groups: 2, dh: 2, dw: 2, ..p(3, 4, 9, 8, 2, 3, 3, 1, 2, 2, 3) },
                ConvShape { mode, ph: 1, ph_end: 2, pw: 1, pw_end: 2, ..p(2, 2, 5, 6, 2, 4, 4, 1, 1, 0, 0) },
            ];
            for s in shapes {
                check(s, &mut seed);
            }
        }
    }

    #[test]
    fn big_enough_to_split_the_batch_over_threads() {
        let p = ConvShape::plain;
        let mut seed = 17u64;
        check(ConvShape { groups: 4, ..p(8, 8, 14, 13, 16, 3, 3, 1, 1, 1, 1) }, &mut seed);
        check(ConvShape { groups: 8, dh: 2, dw: 2, mode: PadMode::Reflect, ..p(6, 8, 16, 15, 8, 3, 3, 1, 1, 2, 2) }, &mut seed);
    }

    #[test]
    #[should_panic(expected = "not divisible by groups")]
    fn rejects_channels_not_divisible_by_groups() {
        let s = ConvShape { groups: 2, ..ConvShape::plain(1, 3, 5, 5, 4, 3, 3, 1, 1, 0, 0) };
        conv2d_forward_ref(&s, &[0.0; 75], &[0.0; 24], None, &mut [0.0; 36]);
    }

    #[test]
    #[should_panic(expected = "too large for Reflect")]
    fn rejects_reflect_padding_as_wide_as_the_input() {
        let s = ConvShape { mode: PadMode::Reflect, ..ConvShape::plain(1, 1, 3, 5, 1, 3, 3, 1, 1, 3, 1) };
        conv2d_forward_ref(&s, &[0.0; 15], &[0.0; 9], None, &mut [0.0; 35]);
    }

    /// Conv + ReLU fused (`conv2d_forward_act`, `conv2d_backward_masked`) against the
    /// composition (`conv2d_forward` then a clamp; the masked `dy` into `conv2d_backward`), bit
    /// for bit, on the im2col, Winograd and depthwise paths, on 1 and 2 threads.
    #[test]
    fn relu_fusion_is_the_composition() {
        let _settings = crate::parallel::test_settings_lock();
        let mut seed = 21;
        let depthwise = ConvShape { groups: 6, ..ConvShape::plain(3, 6, 9, 9, 6, 3, 3, 1, 1, 1, 1) };
        for s in [ConvShape::plain(5, 1, 12, 11, 8, 3, 3, 1, 1, 0, 0), ConvShape::plain(4, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1), depthwise] {
            assert!(s.groups > 1 || winograd::applies(&s) == (s.c == 8), "{s:?}: not the path meant");
            let x = rand_vec(s.x_len(), &mut seed);
            let w = rand_vec(s.w_len(), &mut seed);
            let b = rand_vec(s.oc, &mut seed);
            let dy = rand_vec(s.y_len(), &mut seed);
            for threads in [1, 2] {
                crate::parallel::set_threads(threads);
                let (mut y1, mut c1) = (vec![0.0; s.y_len()], vec![0.0; s.saved_len()]);
                conv2d_forward(&s, &x, &w, Some(&b), &mut y1, &mut c1);
                relu_in_place(&mut y1);
                let (mut y2, mut c2) = (vec![f32::NAN; s.y_len()], vec![0.0; s.saved_len()]);
                conv2d_forward_act(&s, &x, &w, Some(&b), true, &mut y2, &mut c2);
                assert!(y1.iter().filter(|v| **v == 0.0).count() > s.y_len() / 10, "{s:?}: too few clamped outputs to test the mask");
                let mut dz = vec![0.0; s.y_len()];
                relu_mask(&y1, &dy, &mut dz);
                let (mut dx1, mut dw1, mut db1) = (vec![0.0; s.x_len()], vec![0.5; s.w_len()], vec![0.0; s.oc]);
                conv2d_backward(&s, &c1, &w, &dz, Some((&mut dw1, 1.0)), Some((&mut db1, 0.0)), Some(&mut dx1));
                let (mut dx2, mut dw2, mut db2) = (vec![0.0; s.x_len()], vec![0.5; s.w_len()], vec![0.0; s.oc]);
                conv2d_backward_masked(&s, &c2, &w, Some(&y2), &dy, Some((&mut dw2, 1.0)), Some((&mut db2, 0.0)), Some(&mut dx2));
                for (what, a, b) in [("y", &y1, &y2), ("dx", &dx1, &dx2), ("dw", &dw1, &dw2), ("db", &db1, &db2)] {
                    assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "{s:?} threads={threads}: {what}");
                }
            }
            crate::parallel::set_threads(1);
        }
    }
}

#[cfg(test)]
mod checked_len_tests {
    use super::*;

    #[test]
    fn saved_len_that_would_wrap_on_32_bits_is_none() {
        // im2col path (two channels, one group): 2 * 17^2 * 2800^2 = 2^32 + 236,552,704 floats.
        let s = ConvShape::plain(1, 2, 2800, 2800, 1, 17, 17, 1, 1, 8, 8);
        assert_eq!(s.checked_saved_len(), Some(2 * 289 * 2800 * 2800));
        assert_eq!(s.checked_saved_len(), Some(s.saved_len()));
        // The depthwise path keeps a copy of x, which always fits.
        let dw = ConvShape::plain(1, 1, 3900, 3900, 1, 17, 17, 1, 1, 8, 8);
        assert_eq!(dw.checked_saved_len(), Some(3900 * 3900));
        let huge = ConvShape::plain(usize::MAX / 2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
        assert_eq!(huge.checked_saved_len(), None);
    }
}
