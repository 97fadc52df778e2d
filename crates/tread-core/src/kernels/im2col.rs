//! im2col / col2im for one sample of a 2-D convolution (dilation, padding modes).
//!
//! A sample's columns are `[C·KH·KW, OH·OW]`: row `(ci, ki, kj)` holds, for every output
//! position, the input the tap `(ki, kj)` of channel `ci` sees there. Channel-major rows make
//! the rows of one group of channels contiguous, so a grouped convolution multiplies
//! each group's block of rows by its own weights.
//!
//! Two ways to find a tap's input, by padding mode:
//! - `Zeros`: input row `oy·sh + ki·dh - ph`, zero outside the plane; the valid output range
//!   of each tap is computed once, and in-range runs are copied as wide as possible (stride 1
//!   makes a run of outputs a run of inputs, dilation or not).
//! - `Reflect` / `Replicate` / `Circular`: every padded position maps to a real input
//!   (PyTorch pads the input with `F.pad` in that mode, then convolves without padding), so
//!   per-axis index maps are built once per call and the columns are gathered through them;
//!   col2im scatters back through the same maps, which gives the padding's gradient.

use super::conv::ConvShape;

/// How a convolution pads its input (PyTorch's `padding_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    Zeros,
    Reflect,
    Replicate,
    Circular,
}

impl PadMode {
    /// From the C ABI's code (0 zeros, 1 reflect, 2 replicate, 3 circular).
    pub fn from_code(code: u32) -> PadMode {
        match code {
            1 => PadMode::Reflect,
            2 => PadMode::Replicate,
            3 => PadMode::Circular,
            _ => PadMode::Zeros,
        }
    }

    /// The input index that padded position `i` (may be negative or `>= len`) reads, or
    /// `None` for zero padding outside the input. Reflect needs `pad < len`, circular
    /// `pad <= len` (checked by the caller, as PyTorch's `F.pad` does).
    #[inline]
    pub fn source(self, i: isize, len: usize) -> Option<usize> {
        let n = len as isize;
        if (0..n).contains(&i) {
            return Some(i as usize);
        }
        match self {
            PadMode::Zeros => None,
            PadMode::Reflect => {
                let r = if i < 0 { -i } else { 2 * (n - 1) - i };
                Some(r.clamp(0, n - 1) as usize)
            }
            PadMode::Replicate => Some(i.clamp(0, n - 1) as usize),
            PadMode::Circular => Some(i.rem_euclid(n) as usize),
        }
    }
}

/// `d = s` for the short runs of im2col (an output row, e.g. 11 floats): explicit SIMD
/// moves, because a `memcpy`/`memory.copy` call per run costs more than the copy itself.
#[inline(always)]
pub(crate) fn copy_run(d: &mut [f32], s: &[f32]) {
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

/// The range of output positions `o` (of `out` in all) whose input `o·s + off - p` falls in
/// `[0, len)` (`off` = tap index times dilation).
#[inline]
pub(crate) fn valid_range(out: usize, len: usize, s: usize, off: usize, p: usize) -> (usize, usize) {
    // o·s + off >= p  <=>  o >= ceil((p - off) / s)
    let lo = if off >= p { 0 } else { (p - off).div_ceil(s) };
    // o·s + off - p < len  <=>  o·s < len + p - off
    let lim = len + p;
    let hi = if lim <= off { 0 } else { (lim - off).div_ceil(s) };
    (lo.min(out), hi.min(out).max(lo.min(out)))
}

/// For a non-zero padding mode: the input index of every (tap, output) pair of one axis,
/// `map[k·out + o]`.
fn index_map(out: usize, len: usize, k: usize, stride: usize, dilation: usize, pad: usize, mode: PadMode) -> Vec<usize> {
    let mut map = Vec::with_capacity(k * out);
    for ki in 0..k {
        for o in 0..out {
            let i = (o * stride + ki * dilation) as isize - pad as isize;
            map.push(mode.source(i, len).expect("index_map: padding mode without zeros"));
        }
    }
    map
}

/// One sample's columns (`[CKK, OHW]`) from its `[C, H, W]` input.
pub fn im2col_sample(s: &ConvShape, x: &[f32], cols: &mut [f32]) {
    assert!(x.len() >= s.c * s.h * s.w && cols.len() >= s.sample_cols(), "im2col: buffers too short");
    if s.mode != PadMode::Zeros && s.has_padding() {
        return im2col_mapped(s, x, cols);
    }
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    if s.sh == 1 && s.sw == 1 && !s.has_padding() {
        for ci in 0..s.c {
            for ki in 0..s.kh {
                for kj in 0..s.kw {
                    let row = (ci * s.kh + ki) * s.kw + kj;
                    // SAFETY: row `oy` reads x[ci][oy+ki·dh][kj·dw..kj·dw+ow] (inside the
                    // plane since oy+ki·dh < h and kj·dw+ow <= w) and writes cols[row][oy·ow..];
                    // the whole-vector copy of rows before the last may run up to 3 floats
                    // past both, which stays inside the plane (a next input row exists) and
                    // inside this row of cols (the next run, written after, overwrites them).
                    unsafe {
                        let mut sp = x.as_ptr().add((ci * s.h + ki * s.dh) * s.w + kj * s.dw);
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
            let (ylo, yhi) = valid_range(oh, s.h, s.sh, ki * s.dh, s.ph);
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                let dst = &mut cols[row * ohw..(row + 1) * ohw];
                let (xlo, xhi) = valid_range(ow, s.w, s.sw, kj * s.dw, s.pw);
                for oy in 0..oh {
                    let d = &mut dst[oy * ow..(oy + 1) * ow];
                    if oy < ylo || oy >= yhi {
                        d.fill(0.0);
                        continue;
                    }
                    let iy = oy * s.sh + ki * s.dh - s.ph;
                    let src = &xp[iy * s.w..(iy + 1) * s.w];
                    if xlo > 0 || xhi < ow {
                        d[..xlo].fill(0.0);
                        d[xhi..].fill(0.0);
                    }
                    if xlo == xhi {
                        // (A tap that only ever reads padding: with dilation or 'same' padding
                        // its input offset may lie past the row.)
                        continue;
                    }
                    if s.sw == 1 {
                        let i0 = xlo + kj * s.dw - s.pw;
                        copy_run(&mut d[xlo..xhi], &src[i0..i0 + (xhi - xlo)]);
                    } else {
                        for ox in xlo..xhi {
                            d[ox] = src[ox * s.sw + kj * s.dw - s.pw];
                        }
                    }
                }
            }
        }
    }
}

/// im2col through index maps (reflect / replicate / circular padding).
fn im2col_mapped(s: &ConvShape, x: &[f32], cols: &mut [f32]) {
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    let ymap = index_map(oh, s.h, s.kh, s.sh, s.dh, s.ph, s.mode);
    let xmap = index_map(ow, s.w, s.kw, s.sw, s.dw, s.pw, s.mode);
    for ci in 0..s.c {
        let xp = &x[ci * s.h * s.w..(ci + 1) * s.h * s.w];
        for ki in 0..s.kh {
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                let dst = &mut cols[row * ohw..(row + 1) * ohw];
                let xm = &xmap[kj * ow..(kj + 1) * ow];
                for oy in 0..oh {
                    let src = &xp[ymap[ki * oh + oy] * s.w..][..s.w];
                    for (d, &ix) in dst[oy * ow..(oy + 1) * ow].iter_mut().zip(xm) {
                        *d = src[ix];
                    }
                }
            }
        }
    }
}

/// `dx += col2im(dcols)` for one sample: every column entry added back to the input
/// position it came from.
pub fn col2im_add_sample(s: &ConvShape, dcols: &[f32], dx: &mut [f32]) {
    assert!(dx.len() >= s.c * s.h * s.w && dcols.len() >= s.sample_cols(), "col2im: buffers too short");
    if s.mode != PadMode::Zeros && s.has_padding() {
        return col2im_mapped(s, dcols, dx);
    }
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    for ci in 0..s.c {
        let dxp = &mut dx[ci * s.h * s.w..(ci + 1) * s.h * s.w];
        for ki in 0..s.kh {
            let (ylo, yhi) = valid_range(oh, s.h, s.sh, ki * s.dh, s.ph);
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                let src = &dcols[row * ohw..(row + 1) * ohw];
                let (xlo, xhi) = valid_range(ow, s.w, s.sw, kj * s.dw, s.pw);
                if xlo >= xhi {
                    continue;
                }
                for oy in ylo..yhi {
                    let iy = oy * s.sh + ki * s.dh - s.ph;
                    let d = &mut dxp[iy * s.w..(iy + 1) * s.w];
                    let sr = &src[oy * ow..(oy + 1) * ow];
                    if s.sw == 1 {
                        let i0 = xlo + kj * s.dw - s.pw;
                        add_run(&mut d[i0..i0 + (xhi - xlo)], &sr[xlo..xhi]);
                    } else {
                        for ox in xlo..xhi {
                            d[ox * s.sw + kj * s.dw - s.pw] += sr[ox];
                        }
                    }
                }
            }
        }
    }
}

/// col2im through index maps: a padded position's gradient goes to the input it copied.
fn col2im_mapped(s: &ConvShape, dcols: &[f32], dx: &mut [f32]) {
    let (oh, ow, ohw) = (s.oh(), s.ow(), s.ohw());
    let ymap = index_map(oh, s.h, s.kh, s.sh, s.dh, s.ph, s.mode);
    let xmap = index_map(ow, s.w, s.kw, s.sw, s.dw, s.pw, s.mode);
    for ci in 0..s.c {
        let dxp = &mut dx[ci * s.h * s.w..(ci + 1) * s.h * s.w];
        for ki in 0..s.kh {
            for kj in 0..s.kw {
                let row = (ci * s.kh + ki) * s.kw + kj;
                let src = &dcols[row * ohw..(row + 1) * ohw];
                let xm = &xmap[kj * ow..(kj + 1) * ow];
                for oy in 0..oh {
                    let d = &mut dxp[ymap[ki * oh + oy] * s.w..][..s.w];
                    for (g, &ix) in src[oy * ow..(oy + 1) * ow].iter().zip(xm) {
                        d[ix] += *g;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges() {
        // kernel 3, pad 1, stride 1 over 5: ox=0 reads -1 (invalid) .. ox=4 reads 5 (invalid) for k=2.
        assert_eq!(valid_range(5, 5, 1, 0, 1), (1, 5));
        assert_eq!(valid_range(5, 5, 1, 2, 1), (0, 4));
        assert_eq!(valid_range(3, 6, 2, 1, 1), (0, 3));
        // Dilation 2, tap 2 (offset 4), pad 2 over 5, 5 outputs: o + 2 in [0, 5) for o < 3.
        assert_eq!(valid_range(5, 5, 1, 4, 2), (0, 3));
    }

    #[test]
    fn taps_that_only_read_padding() {
        // padding='same', kernel width 4 dilated by 2 over a width of 2: 3 zero columns each
        // side, and the last tap (offset 6) reads only the right padding.
        let s = ConvShape { pw: 3, pw_end: 3, dw: 2, ..ConvShape::plain(1, 1, 3, 2, 1, 1, 4, 1, 1, 0, 0) };
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut cols = vec![f32::NAN; s.sample_cols()];
        im2col_sample(&s, &x, &mut cols);
        // Taps kj = 0..4 read columns 2·kj - 3 + ox for ox = 0, 1.
        let want_row = |kj: isize, iy: usize| -> Vec<f32> {
            (0..2).map(|ox| { let ix = 2 * kj - 3 + ox; if (0..2).contains(&ix) { x[iy * 2 + ix as usize] } else { 0.0 } }).collect()
        };
        for kj in 0..4 {
            let row: Vec<f32> = (0..3).flat_map(|iy| want_row(kj as isize, iy)).collect();
            assert_eq!(&cols[kj * 6..(kj + 1) * 6], &row[..], "tap {kj}");
        }
        let mut dx = vec![0.0; 6];
        col2im_add_sample(&s, &vec![1.0; s.sample_cols()], &mut dx);
        // Every input is read by exactly one tap (kj = 1 reads ox - 1, kj = 2 reads ox + 1).
        assert_eq!(dx, vec![1.0; 6]);
    }

    #[test]
    fn padding_modes_map_as_torch_pad() {
        // F.pad(arange(4), (3, 3), mode): reflect 3 2 1 | 0 1 2 3 | 2 1 0,
        // replicate 0 0 0 | .. | 3 3 3, circular 1 2 3 | .. | 0 1 2.
        let src = |m: PadMode| (-3..7).map(|i| m.source(i, 4).unwrap()).collect::<Vec<_>>();
        assert_eq!(src(PadMode::Reflect), [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
        assert_eq!(src(PadMode::Replicate), [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]);
        assert_eq!(src(PadMode::Circular), [1, 2, 3, 0, 1, 2, 3, 0, 1, 2]);
        assert_eq!(PadMode::Zeros.source(-1, 4), None);
        assert_eq!(PadMode::Zeros.source(4, 4), None);
    }
}
