//! 2-D convolution, NCHW, cross-correlation as PyTorch's `Conv2d` (no dilation, no groups),
//! by im2col + SGEMM.
//!
//! The columns of the whole batch sit side by side: `cols` is `[C·KH·KW, N·OH·OW]`, row
//! `(ci, ki, kj)`, column `n·OH·OW + oy·OW + ox`. Then every pass is ONE large GEMM (which
//! packs well and splits over threads by itself):
//!
//! - forward:  `Yb[OC, N·OHW] = W[OC, CKK] · cols`, then `Yb` is scattered to NCHW (+ bias);
//! - backward: `dY` is gathered to `dYb[OC, N·OHW]`, `db = rowsum(dYb)`,
//!   `dW (+)= dYb · colsᵀ`, `dcols = Wᵀ · dYb`, and col2im adds `dcols` into `dX`.
//!
//! im2col, col2im, the scatter and the gather run in parallel over (sample, channel) planes.
//! The forward keeps `cols` (the caller's buffer) for the weight gradient.

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
        let span = self.h + 2 * self.ph;
        if span < self.kh || self.sh == 0 { 0 } else { (span - self.kh) / self.sh + 1 }
    }
    pub fn ow(&self) -> usize {
        let span = self.w + 2 * self.pw;
        if span < self.kw || self.sw == 0 { 0 } else { (span - self.kw) / self.sw + 1 }
    }
    pub fn ohw(&self) -> usize {
        self.oh() * self.ow()
    }
    /// Rows of `cols`: `C·KH·KW`.
    pub fn ckk(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Elements of `cols` (and of `dcols`): `C·KH·KW · N·OH·OW`.
    pub fn cols_len(&self) -> usize {
        self.ckk() * self.n * self.ohw()
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

/// Runs `f(i)` for `i in 0..count`, in contiguous chunks over the threads when `work` (elements
/// touched) is big enough.
fn par_chunks<F: Fn(usize) + Sync + Send>(count: usize, work: usize, f: F) {
    let t = parallel::threads();
    if t <= 1 || count < 2 || work < 32 * 1024 {
        (0..count).for_each(f);
        return;
    }
    let r = parallel::split_range(count, (t * 4).min(count), 1);
    parallel::for_each_task(r.len(), |i| (r[i].0..r[i].1).for_each(&f));
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

/// `cols` (`[CKK, N·OHW]`) from `x` (NCHW).
pub fn im2col(s: &ConvShape, x: &[f32], cols: &mut [f32]) {
    assert!(x.len() >= s.x_len() && cols.len() >= s.cols_len(), "im2col: buffers too short");
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    let ld = s.n * ohw;
    let cp = SharedMut(cols.as_mut_ptr());
    par_chunks(s.n * s.c, s.cols_len(), |plane| {
        let (nn, ci) = (plane / s.c, plane % s.c);
        let xp = &x[plane * s.h * s.w..(plane + 1) * s.h * s.w];
        for ki in 0..s.kh {
            let (ylo, yhi) = valid_range(oh, s.h, s.sh, ki, s.ph);
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                // SAFETY: each (n, ci) plane writes its own rows' column block n·OHW.. .
                let dst = unsafe { cp.slice(row * ld + nn * ohw, ohw) };
                let (xlo, xhi) = valid_range(ow, s.w, s.sw, kj, s.pw);
                for oy in 0..oh {
                    let d = &mut dst[oy * ow..(oy + 1) * ow];
                    if oy < ylo || oy >= yhi {
                        d.fill(0.0);
                        continue;
                    }
                    let iy = oy * s.sh + ki - s.ph;
                    let src = &xp[iy * s.w..(iy + 1) * s.w];
                    d[..xlo].fill(0.0);
                    d[xhi..].fill(0.0);
                    if s.sw == 1 {
                        let i0 = xlo + kj - s.pw;
                        d[xlo..xhi].copy_from_slice(&src[i0..i0 + (xhi - xlo)]);
                    } else {
                        for ox in xlo..xhi {
                            d[ox] = src[ox * s.sw + kj - s.pw];
                        }
                    }
                }
            }
        }
    });
}

/// `dx += col2im(dcols)`: every column entry added back to the input position it came from.
/// `dx` must be zeroed by the caller for a plain (non-accumulating) gradient.
pub fn col2im_add(s: &ConvShape, dcols: &[f32], dx: &mut [f32]) {
    assert!(dx.len() >= s.x_len() && dcols.len() >= s.cols_len(), "col2im: buffers too short");
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    let ld = s.n * ohw;
    let hw = s.h * s.w;
    let xp = SharedMut(dx.as_mut_ptr());
    par_chunks(s.n * s.c, s.cols_len(), |plane| {
        let (nn, ci) = (plane / s.c, plane % s.c);
        // SAFETY: each task owns its (n, ci) plane of dx.
        let dxp = unsafe { xp.slice(plane * hw, hw) };
        for ki in 0..s.kh {
            let (ylo, yhi) = valid_range(oh, s.h, s.sh, ki, s.ph);
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                let src = &dcols[row * ld + nn * ohw..row * ld + (nn + 1) * ohw];
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
                        for (a, b) in d[i0..i0 + (xhi - xlo)].iter_mut().zip(&sr[xlo..xhi]) {
                            *a += *b;
                        }
                    } else {
                        for ox in xlo..xhi {
                            d[ox * s.sw + kj - s.pw] += sr[ox];
                        }
                    }
                }
            }
        }
    });
}

/// Forward: `y = conv(x, w) + bias`. `cols` (`cols_len`) keeps the columns for the
/// backward pass; `ybuf` (`y_len`) is scratch.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], cols: &mut [f32], ybuf: &mut [f32]) {
    assert!(w.len() >= s.w_len() && y.len() >= s.y_len() && ybuf.len() >= s.y_len(), "conv2d_forward: buffers too short");
    if let Some(b) = bias {
        assert!(b.len() >= s.oc);
    }
    let (ohw, ckk, oc) = (s.ohw(), s.ckk(), s.oc);
    let ncols = s.n * ohw;
    if s.y_len() == 0 {
        return;
    }
    im2col(s, x, cols);
    sgemm(false, false, oc, ncols, ckk, 1.0, w, ckk.max(1), cols, ncols, 0.0, ybuf, ncols);
    // Scatter [OC, N·OHW] -> [N, OC, OHW], adding the bias.
    let yp = SharedMut(y.as_mut_ptr());
    let ybuf = &*ybuf;
    par_chunks(s.n * oc, s.y_len(), |r| {
        let (nn, o) = (r / oc, r % oc);
        // SAFETY: row r of y is written by this task only.
        let dst = unsafe { yp.slice(r * ohw, ohw) };
        let src = &ybuf[o * ncols + nn * ohw..o * ncols + (nn + 1) * ohw];
        match bias {
            Some(b) => {
                let bv = b[o];
                for (d, v) in dst.iter_mut().zip(src) {
                    *d = *v + bv;
                }
            }
            None => dst.copy_from_slice(src),
        }
    });
}

/// Backward. `cols` are the forward's columns; `dybuf` (`y_len`) and `dcols` (`cols_len`,
/// only when `dx` is wanted) are scratch. Gradients: `dw = beta_w·dw + dYb·colsᵀ`,
/// `db = beta_b·db + Σ dY`, `dx = col2im(Wᵀ·dYb)` (overwritten).
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward(
    s: &ConvShape,
    cols: &[f32],
    w: &[f32],
    dy: &[f32],
    dybuf: &mut [f32],
    dw: Option<(&mut [f32], f32)>,
    db: Option<(&mut [f32], f32)>,
    dx: Option<(&mut [f32], &mut [f32])>,
) {
    let (ohw, ckk, oc) = (s.ohw(), s.ckk(), s.oc);
    let ncols = s.n * ohw;
    assert!(dy.len() >= s.y_len() && dybuf.len() >= s.y_len() && w.len() >= s.w_len(), "conv2d_backward: buffers too short");
    // Gather [N, OC, OHW] -> [OC, N·OHW].
    {
        let bp = SharedMut(dybuf.as_mut_ptr());
        par_chunks(s.n * oc, s.y_len(), |r| {
            let (nn, o) = (r / oc, r % oc);
            // SAFETY: each (n, o) run of dybuf is written by one task.
            let dst = unsafe { bp.slice(o * ncols + nn * ohw, ohw) };
            dst.copy_from_slice(&dy[r * ohw..(r + 1) * ohw]);
        });
    }
    let dybuf = &*dybuf;
    if let Some((db, beta)) = db {
        let dp = SharedMut(db.as_mut_ptr());
        par_chunks(oc, s.y_len(), |o| {
            let row = &dybuf[o * ncols..(o + 1) * ncols];
            let acc = sum_f64(row);
            // SAFETY: one task per channel.
            let d = unsafe { dp.slice(o, 1) };
            d[0] = if beta == 0.0 { acc as f32 } else { beta * d[0] + acc as f32 };
        });
    }
    if let Some((dw, beta)) = dw {
        assert!(dw.len() >= s.w_len());
        if ncols == 0 {
            if beta != 1.0 {
                dw[..s.w_len()].iter_mut().for_each(|v| *v *= beta);
            }
        } else {
            sgemm(false, true, oc, ckk, ncols, 1.0, dybuf, ncols, cols, ncols, beta, dw, ckk.max(1));
        }
    }
    if let Some((dx, dcols)) = dx {
        assert!(dx.len() >= s.x_len() && dcols.len() >= s.cols_len());
        dx[..s.x_len()].fill(0.0);
        if ncols > 0 {
            sgemm(true, false, ckk, ncols, oc, 1.0, w, ckk.max(1), dybuf, ncols, 0.0, dcols, ncols);
            col2im_add(s, dcols, dx);
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
            let mut ybuf = vec![0.0; s.y_len()];
            conv2d_forward(&s, &x, &w, Some(&b), &mut y, &mut cols, &mut ybuf);
            conv2d_forward_ref(&s, &x, &w, Some(&b), &mut yr);
            close(&y, &yr, 1e-5);
            let (mut dx, mut dw, mut db) = (vec![1.0; s.x_len()], vec![0.5; s.w_len()], vec![0.25; s.oc]);
            let mut dcols = vec![0.0; s.cols_len()];
            conv2d_backward(&s, &cols, &w, &dy, &mut ybuf, Some((&mut dw, 1.0)), Some((&mut db, 0.0)), Some((&mut dx, &mut dcols)));
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
