//! 2-D convolution, NCHW, cross-correlation as PyTorch's `Conv2d` (no dilation, no groups),
//! by im2col + SGEMM, parallel over the batch.
//!
//! The batch is cut into chunks, one task each (a few per thread, for uneven cores). For
//! each sample a task builds its columns `cols[n]` (`[C·KH·KW, OH·OW]`, kept in the caller's
//! buffer for the backward pass) and runs one GEMM while they are still in cache:
//!
//! - forward:  `Y[n] (OC×OHW) = W (OC×CKK) · cols[n]` (+ bias, written first, beta = 1);
//! - backward: `dW += dY[n] · cols[n]ᵀ` into a per-chunk partial (summed at the end),
//!   `dcols = Wᵀ · dY[n]` into per-chunk scratch, then col2im adds it into `dX[n]`;
//!   `db` = sums of dY rows.
//!
//! NCHW makes every per-sample operand contiguous, so nothing is transposed or gathered.
//! (One GEMM over the whole batch streams its operands through memory and measured about
//! half as fast on the 2-core dev machine.)

use super::window::out_size;
use crate::kernels::gemm::sgemm;
use crate::parallel::{self, SharedMut};

/// The geometry of one convolution.
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
}

impl ConvShape {
    /// Output height (0 when the kernel does not fit).
    pub fn oh(&self) -> usize {
        out_size(self.h, self.ph, self.kh, self.sh)
    }
    pub fn ow(&self) -> usize {
        out_size(self.w, self.pw, self.kw, self.sw)
    }
    pub fn ohw(&self) -> usize {
        self.oh() * self.ow()
    }
    /// Rows of a sample's columns: `C·KH·KW`.
    pub fn ckk(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Elements of one sample's columns.
    pub fn sample_cols(&self) -> usize {
        self.ckk() * self.ohw()
    }
    /// Elements of the saved columns buffer: `N · C·KH·KW · OH·OW`.
    pub fn cols_len(&self) -> usize {
        self.n * self.sample_cols()
    }
    pub fn x_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.n * self.oc * self.ohw()
    }
    pub fn w_len(&self) -> usize {
        self.oc * self.ckk()
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

/// `d = s` for the short runs of im2col (an output row, e.g. 11 floats): explicit SIMD
/// moves, because a `memcpy`/`memory.copy` call per run costs more than the copy itself.
#[inline(always)]
fn copy_run(d: &mut [f32], s: &[f32]) {
    let n = d.len().min(s.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        use core::arch::wasm32::*;
        let (dp, sp) = (d.as_mut_ptr(), s.as_ptr());
        let mut i = 0;
        while i + 4 <= n {
            v128_store(dp.add(i) as *mut v128, v128_load(sp.add(i) as *const v128));
            i += 4;
        }
        if i < n {
            *dp.add(i) = *sp.add(i);
            if i + 1 < n {
                *dp.add(i + 1) = *sp.add(i + 1);
                if i + 2 < n {
                    *dp.add(i + 2) = *sp.add(i + 2);
                }
            }
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    d[..n].copy_from_slice(&s[..n]);
}

/// `d[..n] = s[..n]` in whole 4-float vectors: may write and read up to 3 floats beyond `n`.
///
/// # Safety
/// `ceil4(n)` floats must be readable at `s` and writable at `d`, and the extra ones
/// overwritten afterwards by the caller.
#[inline(always)]
unsafe fn copy_run_over(d: *mut f32, s: *const f32, n: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let mut i = 0;
        while i < n {
            v128_store(d.add(i) as *mut v128, v128_load(s.add(i) as *const v128));
            i += 4;
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    std::ptr::copy_nonoverlapping(s, d, n);
}

/// `d += s` for short runs (col2im).
#[inline(always)]
fn add_run(d: &mut [f32], s: &[f32]) {
    let n = d.len().min(s.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        use core::arch::wasm32::*;
        let (dp, sp) = (d.as_mut_ptr(), s.as_ptr());
        let mut i = 0;
        while i + 4 <= n {
            let p = dp.add(i) as *mut v128;
            v128_store(p, f32x4_add(v128_load(p), v128_load(sp.add(i) as *const v128)));
            i += 4;
        }
        while i < n {
            *dp.add(i) += *sp.add(i);
            i += 1;
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for (a, b) in d[..n].iter_mut().zip(&s[..n]) {
        *a += *b;
    }
}

/// Contiguous ranges of samples, one task each: a few per thread when there is work enough.
fn batch_chunks(s: &ConvShape) -> Vec<(usize, usize)> {
    let t = parallel::threads();
    let macs = s.y_len() * s.ckk();
    let parts = if t <= 1 || s.n < 2 || macs < 200_000 { 1 } else { (t * 3).min(s.n) };
    parallel::split_range(s.n, parts, 1)
}

/// The range of output positions `o` (of `out` in all) whose input `o·s + k - p` falls in
/// `[0, len)`.
#[inline]
fn valid_range(out: usize, len: usize, s: usize, k: usize, p: usize) -> (usize, usize) {
    // o·s + k >= p  <=>  o >= ceil((p - k) / s)
    let lo = if k >= p { 0 } else { (p - k).div_ceil(s) };
    // o·s + k - p < len  <=>  o·s < len + p - k
    let lim = len + p;
    let hi = if lim <= k { 0 } else { (lim - k).div_ceil(s) };
    (lo.min(out), hi.min(out).max(lo.min(out)))
}

/// One sample's columns (`[CKK, OHW]`) from its `[C, H, W]` input.
pub fn im2col_sample(s: &ConvShape, x: &[f32], cols: &mut [f32]) {
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    if s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0 {
        assert!(x.len() >= s.c * s.h * s.w && cols.len() >= s.sample_cols());
        for ci in 0..s.c {
            for ki in 0..s.kh {
                for kj in 0..s.kw {
                    let row = (ci * s.kh + ki) * s.kw + kj;
                    // SAFETY: row `oy` reads x[ci][oy+ki][kj..kj+ow] (inside the plane since
                    // oy+ki < h and kj+ow <= w) and writes cols[row][oy·ow..]; the whole-vector
                    // copy of rows before the last may run up to 3 floats past both, which
                    // stays inside the plane (a next input row exists) and inside this row
                    // of cols (the next run, written after, overwrites them).
                    unsafe {
                        let mut sp = x.as_ptr().add((ci * s.h + ki) * s.w + kj);
                        let mut dp = cols.as_mut_ptr().add(row * ohw);
                        for oy in 0..oh {
                            if oy + 1 < oh {
                                copy_run_over(dp, sp, ow);
                            } else {
                                copy_run(std::slice::from_raw_parts_mut(dp, ow), std::slice::from_raw_parts(sp, ow));
                            }
                            sp = sp.add(s.w);
                            dp = dp.add(ow);
                        }
                    }
                }
            }
        }
        return;
    }
    for ci in 0..s.c {
        let xp = &x[ci * s.h * s.w..(ci + 1) * s.h * s.w];
        for ki in 0..s.kh {
            let (ylo, yhi) = valid_range(oh, s.h, s.sh, ki, s.ph);
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                let dst = &mut cols[row * ohw..(row + 1) * ohw];
                let (xlo, xhi) = valid_range(ow, s.w, s.sw, kj, s.pw);
                for oy in 0..oh {
                    let d = &mut dst[oy * ow..(oy + 1) * ow];
                    if oy < ylo || oy >= yhi {
                        d.fill(0.0);
                        continue;
                    }
                    let iy = oy * s.sh + ki - s.ph;
                    let src = &xp[iy * s.w..(iy + 1) * s.w];
                    if xlo > 0 || xhi < ow {
                        d[..xlo].fill(0.0);
                        d[xhi..].fill(0.0);
                    }
                    if s.sw == 1 {
                        let i0 = xlo + kj - s.pw;
                        copy_run(&mut d[xlo..xhi], &src[i0..i0 + (xhi - xlo)]);
                    } else {
                        for ox in xlo..xhi {
                            d[ox] = src[ox * s.sw + kj - s.pw];
                        }
                    }
                }
            }
        }
    }
}

/// `dx += col2im(dcols)` for one sample: every column entry added back to the input
/// position it came from.
pub fn col2im_add_sample(s: &ConvShape, dcols: &[f32], dx: &mut [f32]) {
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    for ci in 0..s.c {
        let dxp = &mut dx[ci * s.h * s.w..(ci + 1) * s.h * s.w];
        for ki in 0..s.kh {
            let (ylo, yhi) = valid_range(oh, s.h, s.sh, ki, s.ph);
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                let src = &dcols[row * ohw..(row + 1) * ohw];
                let (xlo, xhi) = valid_range(ow, s.w, s.sw, kj, s.pw);
                if xlo >= xhi {
                    continue;
                }
                for oy in ylo..yhi {
                    let iy = oy * s.sh + ki - s.ph;
                    let d = &mut dxp[iy * s.w..(iy + 1) * s.w];
                    let sr = &src[oy * ow..(oy + 1) * ow];
                    if s.sw == 1 {
                        let i0 = xlo + kj - s.pw;
                        add_run(&mut d[i0..i0 + (xhi - xlo)], &sr[xlo..xhi]);
                    } else {
                        for ox in xlo..xhi {
                            d[ox * s.sw + kj - s.pw] += sr[ox];
                        }
                    }
                }
            }
        }
    }
}

/// Forward: `y = conv(x, w) + bias`; `cols` (`cols_len`) keeps the columns for backward.
pub fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], cols: &mut [f32]) {
    assert!(x.len() >= s.x_len() && w.len() >= s.w_len() && y.len() >= s.y_len() && cols.len() >= s.cols_len(), "conv2d_forward: buffers too short");
    if let Some(b) = bias {
        assert!(b.len() >= s.oc);
    }
    if s.y_len() == 0 {
        return;
    }
    let (ohw, ckk, oc) = (s.ohw(), s.ckk(), s.oc);
    let (chw, sc, yn) = (s.c * s.h * s.w, s.sample_cols(), oc * ohw);
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
            sgemm(false, false, oc, ohw, ckk, 1.0, w, ckk.max(1), cn, ohw, beta, ys, ohw);
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
    let (ohw, ckk, oc) = (s.ohw(), s.ckk(), s.oc);
    assert!(dy.len() >= s.y_len() && w.len() >= s.w_len() && cols.len() >= s.cols_len(), "conv2d_backward: buffers too short");
    let (chw, sc, yn, wl) = (s.c * s.h * s.w, s.sample_cols(), oc * ohw, s.w_len());
    if let Some((db, beta)) = db {
        let mut acc = vec![0.0f64; oc];
        for n in 0..s.n {
            for (o, a) in acc.iter_mut().enumerate() {
                *a += sum_f64(&dy[n * yn + o * ohw..n * yn + (o + 1) * ohw]);
            }
        }
        for (d, a) in db[..oc].iter_mut().zip(&acc) {
            *d = if beta == 0.0 { *a as f32 } else { beta * *d + *a as f32 };
        }
    }
    let want_dw = dw.is_some();
    let dxp = dx.map(|d| {
        assert!(d.len() >= s.x_len());
        SharedMut(d.as_mut_ptr())
    });
    if !want_dw && dxp.is_none() {
        return;
    }
    let chunks = batch_chunks(s);
    let nt = chunks.len();
    // Per-chunk partial weight gradients and column scratch (heap memory is reused by the
    // allocator from call to call).
    let mut partial = vec![0.0f32; if want_dw { nt * wl } else { 0 }];
    let mut scratch = vec![0.0f32; if dxp.is_some() { nt * sc } else { 0 }];
    let (pp, sp) = (SharedMut(partial.as_mut_ptr()), SharedMut(scratch.as_mut_ptr()));
    parallel::for_each_task(nt, |t| {
        // SAFETY: chunk t owns partial[t], scratch[t] and its samples' part of dx.
        for (i, n) in (chunks[t].0..chunks[t].1).enumerate() {
            let cn = &cols[n * sc..(n + 1) * sc];
            let dyn_ = &dy[n * yn..(n + 1) * yn];
            if want_dw {
                let pw = unsafe { pp.slice(t * wl, wl) };
                sgemm(false, true, oc, ckk, ohw, 1.0, dyn_, ohw.max(1), cn, ohw.max(1), if i == 0 { 0.0 } else { 1.0 }, pw, ckk.max(1));
            }
            if let Some(xp) = dxp {
                let dcols = unsafe { sp.slice(t * sc, sc) };
                let dxn = unsafe { xp.slice(n * chw, chw) };
                dxn.fill(0.0);
                sgemm(true, false, ckk, ohw, oc, 1.0, w, ckk.max(1), dyn_, ohw.max(1), 0.0, dcols, ohw.max(1));
                col2im_add_sample(s, dcols, dxn);
            }
        }
    });
    if let Some((dw, beta)) = dw {
        let dw = &mut dw[..wl];
        if beta == 0.0 {
            dw.fill(0.0);
        } else if beta != 1.0 {
            dw.iter_mut().for_each(|v| *v *= beta);
        }
        for t in 0..nt {
            if chunks[t].1 > chunks[t].0 {
                for (d, p) in dw.iter_mut().zip(&partial[t * wl..(t + 1) * wl]) {
                    *d += *p;
                }
            }
        }
    }
}

/// Reference forward: the direct 7-deep loop, accumulated in f64.
pub fn conv2d_forward_ref(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    let (oh, ow) = (s.oh(), s.ow());
    for nn in 0..s.n {
        for o in 0..s.oc {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias.map_or(0.0, |b| b[o] as f64);
                    for ci in 0..s.c {
                        for ki in 0..s.kh {
                            for kj in 0..s.kw {
                                let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                                let ix = (ox * s.sw + kj) as isize - s.pw as isize;
                                if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                                    continue;
                                }
                                let xv = x[((nn * s.c + ci) * s.h + iy as usize) * s.w + ix as usize];
                                let wv = w[((o * s.c + ci) * s.kh + ki) * s.kw + kj];
                                acc += xv as f64 * wv as f64;
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
    let (oh, ow) = (s.oh(), s.ow());
    let mut dx64 = vec![0.0f64; s.x_len()];
    let mut dw64 = vec![0.0f64; s.w_len()];
    let mut db64 = vec![0.0f64; s.oc];
    for nn in 0..s.n {
        for o in 0..s.oc {
            for oy in 0..oh {
                for ox in 0..ow {
                    let g = dy[((nn * s.oc + o) * oh + oy) * ow + ox] as f64;
                    db64[o] += g;
                    for ci in 0..s.c {
                        for ki in 0..s.kh {
                            for kj in 0..s.kw {
                                let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                                let ix = (ox * s.sw + kj) as isize - s.pw as isize;
                                if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                                    continue;
                                }
                                let xi = ((nn * s.c + ci) * s.h + iy as usize) * s.w + ix as usize;
                                let wi = ((o * s.c + ci) * s.kh + ki) * s.kw + kj;
                                dx64[xi] += g * w[wi] as f64;
                                dw64[wi] += g * x[xi] as f64;
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

    fn rand_vec(n: usize, seed: &mut u64) -> Vec<f32> {
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

    #[test]
    fn conv_matches_reference() {
        let shapes = [
            ConvShape { n: 2, c: 3, h: 7, w: 6, oc: 4, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0 },
            ConvShape { n: 2, c: 3, h: 7, w: 6, oc: 4, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
            ConvShape { n: 2, c: 3, h: 7, w: 6, oc: 4, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
            ConvShape { n: 1, c: 2, h: 5, w: 6, oc: 3, kh: 3, kw: 2, sh: 1, sw: 2, ph: 1, pw: 0 },
            ConvShape { n: 3, c: 5, h: 9, w: 8, oc: 7, kh: 2, kw: 4, sh: 3, sw: 1, ph: 2, pw: 3 },
            ConvShape { n: 4, c: 8, h: 13, w: 13, oc: 16, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0 },
        ];
        let mut seed = 7u64;
        for s in shapes {
            let x = rand_vec(s.x_len(), &mut seed);
            let w = rand_vec(s.w_len(), &mut seed);
            let b = rand_vec(s.oc, &mut seed);
            let dy = rand_vec(s.y_len(), &mut seed);
            let mut y = vec![0.0; s.y_len()];
            let mut yr = vec![0.0; s.y_len()];
            let mut cols = vec![0.0; s.cols_len()];
            conv2d_forward(&s, &x, &w, Some(&b), &mut y, &mut cols);
            conv2d_forward_ref(&s, &x, &w, Some(&b), &mut yr);
            close(&y, &yr, 1e-5);
            let (mut dx, mut dw, mut db) = (vec![1.0; s.x_len()], vec![0.5; s.w_len()], vec![0.25; s.oc]);
            conv2d_backward(&s, &cols, &w, &dy, Some((&mut dw, 1.0)), Some((&mut db, 0.0)), Some(&mut dx));
            let (mut dxr, mut dwr, mut dbr) = (vec![0.0; s.x_len()], vec![0.0; s.w_len()], vec![0.0; s.oc]);
            conv2d_backward_ref(&s, &x, &w, &dy, &mut dxr, &mut dwr, &mut dbr);
            dwr.iter_mut().for_each(|v| *v += 0.5);
            close(&dx, &dxr, 1e-4);
            close(&dw, &dwr, 1e-4);
            close(&db, &dbr, 1e-4);
        }
    }

    #[test]
    fn valid_ranges() {
        // kernel 3, pad 1, stride 1 over 5: ox=0 reads -1 (invalid) .. ox=4 reads 5 (invalid) for k=2.
        assert_eq!(valid_range(5, 5, 1, 0, 1), (1, 5));
        assert_eq!(valid_range(5, 5, 1, 2, 1), (0, 4));
        assert_eq!(valid_range(3, 6, 2, 1, 1), (0, 3));
    }
}
