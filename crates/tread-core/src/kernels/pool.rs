//! 2-D max and average pooling over `planes` (= N·C) planes of `h × w`, as PyTorch's
//! `MaxPool2d` (dilation, ceil mode) / `AvgPool2d` (ceil mode, `count_include_pad`,
//! `divisor_override`). Padding counts as -inf for max. The max forward saves, per output,
//! the index of the winning input within its plane (`iy·w + ix`); its backward scatters the
//! gradient there. Parallel over planes. Ties keep the first maximum; a NaN wins (as
//! PyTorch). Window bounds and divisors follow PyTorch's CPU kernels (MaxPoolKernel.cpp,
//! AvgPoolKernel.cpp) line by line, ceil-mode windows that run past the padding included.

use super::window::Axis;
use crate::parallel::{self, SharedMut};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolShape {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    /// Dilation (max pooling only; 1 for average pooling).
    pub dh: usize,
    pub dw: usize,
    pub ceil: bool,
}

impl PoolShape {
    /// Floor mode, no dilation.
    #[allow(clippy::too_many_arguments)]
    pub fn plain(planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize) -> PoolShape {
        PoolShape { planes, h, w, kh, kw, sh, sw, ph, pw, dh: 1, dw: 1, ceil: false }
    }
    pub fn oh(&self) -> usize {
        Axis { k: self.kh, stride: self.sh, dilation: self.dh, pad_lo: self.ph, pad_hi: self.ph, ceil: self.ceil }.out_size(self.h)
    }
    pub fn ow(&self) -> usize {
        Axis { k: self.kw, stride: self.sw, dilation: self.dw, pad_lo: self.pw, pad_hi: self.pw, ceil: self.ceil }.out_size(self.w)
    }
    pub fn x_len(&self) -> usize {
        self.planes * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.planes * self.oh() * self.ow()
    }
    /// Max pooling's taps of output (oy, ox) that fall in the plane, as PyTorch walks them:
    /// rows `y0, y0+dh, .. < y1`, columns `x0, x0+dw, .. < x1`.
    #[inline]
    fn taps(&self, oy: usize, ox: usize) -> (usize, usize, usize, usize) {
        let (y0, y1) = taps_1d(oy, self.sh, self.ph, self.kh, self.dh, self.h);
        let (x0, x1) = taps_1d(ox, self.sw, self.pw, self.kw, self.dw, self.w);
        (y0, y1, x0, x1)
    }
}

/// One axis of `taps`: start `o·s - p` moved forward by whole dilations until inside, end
/// one past the last tap, clipped to `len`.
#[inline]
fn taps_1d(o: usize, s: usize, p: usize, k: usize, d: usize, len: usize) -> (usize, usize) {
    let start = (o * s) as isize - p as isize;
    let end = (start + ((k - 1) * d + 1) as isize).min(len as isize);
    let first = if start < 0 { start + ((-start) as usize).div_ceil(d) as isize * d as isize } else { start };
    (first as usize, end.max(first) as usize)
}

/// Average pooling's window of output (oy, ox): PyTorch's `(y0, y1, x0, x1, pool_size)`, the
/// window clipped to the plane and the size of the window clipped to the padded plane.
#[inline]
fn avg_window(s: &PoolShape, oy: usize, ox: usize) -> (usize, usize, usize, usize, usize) {
    let ys = (oy * s.sh) as isize - s.ph as isize;
    let xs = (ox * s.sw) as isize - s.pw as isize;
    let ye = (ys + s.kh as isize).min((s.h + s.ph) as isize);
    let xe = (xs + s.kw as isize).min((s.w + s.pw) as isize);
    let pool_size = ((ye - ys).max(0) * (xe - xs).max(0)) as usize;
    let (y0, x0) = (ys.max(0) as usize, xs.max(0) as usize);
    let (y1, x1) = ((ye.max(0) as usize).min(s.h), (xe.max(0) as usize).min(s.w));
    (y0, y1.max(y0), x0, x1.max(x0), pool_size)
}

/// The divisor of an average: `divisor_override` when given, else the window clipped to
/// the padded plane (`count_include_pad`) or to the plane.
#[inline]
fn divisor(win: (usize, usize, usize, usize, usize), count_include_pad: bool, divisor_override: Option<f32>) -> f32 {
    let (y0, y1, x0, x1, pool_size) = win;
    if let Some(d) = divisor_override {
        d
    } else if count_include_pad {
        pool_size as f32
    } else {
        ((y1 - y0) * (x1 - x0)) as f32
    }
}

fn par_planes<F: Fn(usize) + Sync + Send>(planes: usize, work: usize, f: F) {
    let t = parallel::threads();
    if t <= 1 || planes < 2 || work < 32 * 1024 {
        (0..planes).for_each(f);
        return;
    }
    let r = parallel::split_range(planes, (t * 4).min(planes), 1);
    parallel::for_each_task(r.len(), |i| (r[i].0..r[i].1).for_each(&f));
}

/// Outputs `lo..hi` of an axis of `o_len` outputs whose windows (`k` taps `d` apart, start
/// `o·s - p`) lie wholly inside `0..len`.
fn interior(o_len: usize, s: usize, p: usize, k: usize, d: usize, len: usize) -> (usize, usize) {
    let span = (k - 1) * d + 1;
    let lo = p.div_ceil(s).min(o_len);
    let hi = if len + p >= span { ((len + p - span) / s + 1).min(o_len) } else { 0 };
    (lo, hi.max(lo))
}

/// The outputs of a row that `run(lo, hi)` did with vectors (`pool_interior.rs`): it is given
/// the interior outputs `lo..hi` (at least four of them) and returns where it stopped. The
/// caller does the outputs outside the returned range one by one.
#[inline(always)]
fn interior_run(interior: (usize, usize), run: impl FnOnce(usize, usize) -> usize) -> (usize, usize) {
    let (lo, hi) = interior;
    if hi - lo < 4 {
        return (lo, lo);
    }
    (lo, run(lo, hi))
}

/// The max of the 2×2 window at `i0` (row stride `w`) and its index; first max wins, NaN wins.
#[inline(always)]
unsafe fn max2x2_scalar(xq: *const f32, w: usize, i0: usize) -> (f32, usize) {
    let mut best = *xq.add(i0);
    let mut bi = i0;
    for i in [i0 + 1, i0 + w, i0 + w + 1] {
        let v = *xq.add(i);
        if (v > best) | v.is_nan() {
            best = v;
            bi = i;
        }
    }
    (best, bi)
}

/// The four taps of four adjacent 2×2 windows whose first starts at `j` (row stride `w`): top
/// left, top right, bottom left, bottom right, one vector each (8 inputs of each row read).
///
/// # Safety
/// `xq` is readable at `j..j + 8` and `j + w..j + w + 8`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn quads_2x2(xq: *const f32, j: usize, w: usize) -> [core::arch::wasm32::v128; 4] {
    use core::arch::wasm32::*;
    let r0a = v128_load(xq.add(j) as *const v128);
    let r0b = v128_load(xq.add(j + 4) as *const v128);
    let r1a = v128_load(xq.add(j + w) as *const v128);
    let r1b = v128_load(xq.add(j + w + 4) as *const v128);
    [
        i32x4_shuffle::<0, 2, 4, 6>(r0a, r0b),
        i32x4_shuffle::<1, 3, 5, 7>(r0a, r0b),
        i32x4_shuffle::<0, 2, 4, 6>(r1a, r1b),
        i32x4_shuffle::<1, 3, 5, 7>(r1a, r1b),
    ]
}

/// Four outputs at a time of one output row of 2×2/stride-2 max pooling, with SIMD compares
/// and selects (scalar code compiles to branches in wasm, which mispredict on real data).
/// Returns how many outputs it did (a multiple of 4); the caller does the rest.
#[inline(always)]
unsafe fn max2x2_simd(xq: *const f32, w: usize, base: usize, ow: usize, y: *mut f32, idx: *mut i32) -> usize {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let mut ox = 0;
        // 8 inputs per row are read for 4 outputs: inside the row while ox + 4 <= ow.
        while ox + 4 <= ow {
            let j = base + 2 * ox;
            let [a, b, c, d] = quads_2x2(xq, j, w);
            let ia = i32x4_add(i32x4_splat(j as i32), i32x4(0, 2, 4, 6));
            let mut best = a;
            let mut bi = ia;
            for (v, off) in [(b, 1), (c, w as i32), (d, w as i32 + 1)] {
                let take = v128_or(f32x4_gt(v, best), f32x4_ne(v, v));
                best = v128_bitselect(v, best, take);
                bi = v128_bitselect(i32x4_add(ia, i32x4_splat(off)), bi, take);
            }
            v128_store(y.add(ox) as *mut v128, best);
            v128_store(idx.add(ox) as *mut v128, bi);
            ox += 4;
        }
        ox
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let _ = (xq, w, base, ow, y, idx);
        0
    }
}

/// Max pooling: `y` and the argmax `idx` (index within the plane).
pub fn maxpool2d_forward(s: &PoolShape, x: &[f32], y: &mut [f32], idx: &mut [i32]) {
    let (oh, ow) = (s.oh(), s.ow());
    let (ohw, hw) = (oh * ow, s.h * s.w);
    assert!(x.len() >= s.x_len() && y.len() >= s.y_len() && idx.len() >= s.y_len(), "maxpool2d: buffers too short");
    assert!(s.dh >= 1 && s.dw >= 1 && s.sh >= 1 && s.sw >= 1, "maxpool2d: stride and dilation must be positive");
    let yp = SharedMut(y.as_mut_ptr());
    let ip = SharedMut(idx.as_mut_ptr());
    // (Ceil mode may add a last, partial window: the fast path needs every window whole.)
    let fast2 = whole_2x2(s);
    let interior_x = interior(ow, s.sw, s.pw, s.kw, s.dw, s.w);
    par_planes(s.planes, s.x_len(), |p| {
        let xp = &x[p * hw..(p + 1) * hw];
        // SAFETY: each plane's outputs belong to one task.
        let (yo, io) = unsafe { (yp.slice(p * ohw, ohw), ip.slice(p * ohw, ohw)) };
        if fast2 {
            // Branch-free (random data makes a comparison branch mispredict half the time),
            // and over raw pointers: per-row slicing cost more than the work on short rows.
            let w = s.w;
            let (xq, yq, iq) = (xp.as_ptr(), yo.as_mut_ptr(), io.as_mut_ptr());
            for oy in 0..oh {
                let base = 2 * oy * w;
                // SAFETY: 2·oh <= h and 2·ow <= w, so every read is inside the plane; the
                // writes are this plane's own outputs.
                unsafe {
                    let ox0 = max2x2_simd(xq, w, base, ow, yq.add(oy * ow), iq.add(oy * ow));
                    for ox in ox0..ow {
                        let (v, i) = max2x2_scalar(xq, w, base + 2 * ox);
                        *yq.add(oy * ow + ox) = v;
                        *iq.add(oy * ow + ox) = i as i32;
                    }
                }
            }
            return;
        }
        for oy in 0..oh {
            // Outputs `a..b` of the row four at a time (wasm; windows inside the plane).
            let (a, b) = interior_run(interior_x, |ox0, ox1| {
                let (y0, y1, _, _) = s.taps(oy, ox0);
                if y0 >= y1 {
                    return ox0;
                }
                // SAFETY: interior outputs read inside the plane; the row is this task's.
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                unsafe {
                    super::pool_interior::max_interior(s, xp.as_ptr(), y0, y1, ox0, ox1, yo.as_mut_ptr().add(oy * ow), io.as_mut_ptr().add(oy * ow))
                }
                #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
                {
                    let _ = (y1, ox1);
                    ox0
                }
            });
            for ox in (0..a).chain(b..ow) {
                let (y0, y1, x0, x1) = s.taps(oy, ox);
                let mut best = f32::NEG_INFINITY;
                let mut bi = y0 * s.w + x0;
                for iy in (y0..y1).step_by(s.dh) {
                    for ix in (x0..x1).step_by(s.dw) {
                        let v = xp[iy * s.w + ix];
                        // As PyTorch: a NaN wins (the last one, like its CPU kernel).
                        if (v > best) | v.is_nan() {
                            best = v;
                            bi = iy * s.w + ix;
                        }
                    }
                }
                yo[oy * ow + ox] = best;
                io[oy * ow + ox] = bi as i32;
            }
        }
    });
}

/// Max pooling backward: `dx = 0`, then `dx[idx] += dy`.
pub fn maxpool2d_backward(s: &PoolShape, dy: &[f32], idx: &[i32], dx: &mut [f32]) {
    let ohw = s.oh() * s.ow();
    let hw = s.h * s.w;
    assert!(dx.len() >= s.x_len() && dy.len() >= s.y_len() && idx.len() >= s.y_len(), "maxpool2d backward: buffers too short");
    let xp = SharedMut(dx.as_mut_ptr());
    par_planes(s.planes, s.x_len(), |p| {
        // SAFETY: one task per plane.
        let d = unsafe { xp.slice(p * hw, hw) };
        d.fill(0.0);
        for (g, &i) in dy[p * ohw..(p + 1) * ohw].iter().zip(&idx[p * ohw..(p + 1) * ohw]) {
            // (A window with no input at all keeps PyTorch's out-of-plane start index: no
            // input gets its gradient.)
            if let Some(v) = d.get_mut(i as usize) {
                *v += *g;
            }
        }
    });
}

/// Every window a whole 2×2 block of the plane (kernel 2, stride 2, no padding, and in ceil
/// mode no partial last window): the case the pooling fast paths take.
fn whole_2x2(s: &PoolShape) -> bool {
    s.kh == 2 && s.kw == 2 && s.sh == 2 && s.sw == 2 && s.ph == 0 && s.pw == 0 && s.dh == 1 && s.dw == 1 && 2 * s.oh() <= s.h && 2 * s.ow() <= s.w
}

/// Four outputs at a time of one output row of 2×2/stride-2 average pooling: the sum in the
/// generic loop's order, from 0.0 (so that four -0.0 give +0.0 there too), over `div`.
/// Returns how many outputs it did (a multiple of 4); the caller does the rest.
#[inline(always)]
unsafe fn avg2x2_simd(xq: *const f32, w: usize, base: usize, ow: usize, y: *mut f32, div: f32) -> usize {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let (zero, vd) = (f32x4_splat(0.0), f32x4_splat(div));
        let mut ox = 0;
        while ox + 4 <= ow {
            let j = base + 2 * ox;
            let [a, b, c, d] = quads_2x2(xq, j, w);
            let acc = f32x4_add(f32x4_add(f32x4_add(f32x4_add(zero, a), b), c), d);
            v128_store(y.add(ox) as *mut v128, f32x4_div(acc, vd));
            ox += 4;
        }
        ox
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let _ = (xq, w, base, ow, y, div);
        0
    }
}

/// Average pooling (`divisor_override`: PyTorch's, any non-zero value).
pub fn avgpool2d_forward(s: &PoolShape, x: &[f32], y: &mut [f32], count_include_pad: bool, divisor_override: Option<f32>) {
    let (oh, ow) = (s.oh(), s.ow());
    let (ohw, hw) = (oh * ow, s.h * s.w);
    assert!(x.len() >= s.x_len() && y.len() >= s.y_len(), "avgpool2d: buffers too short");
    assert!(s.dh == 1 && s.dw == 1 && s.sh >= 1 && s.sw >= 1, "avgpool2d: stride must be positive, dilation 1");
    let yp = SharedMut(y.as_mut_ptr());
    // Whole 2×2 windows: every divisor is 4 (or the override), and four outputs go at a time.
    let fast2 = whole_2x2(s).then(|| divisor_override.unwrap_or(4.0));
    let interior_x = interior(ow, s.sw, s.pw, s.kw, 1, s.w);
    par_planes(s.planes, s.x_len(), |p| {
        let xp = &x[p * hw..(p + 1) * hw];
        // SAFETY: one task per plane.
        let yo = unsafe { yp.slice(p * ohw, ohw) };
        if let Some(div) = fast2 {
            let (w, xq, yq) = (s.w, xp.as_ptr(), yo.as_mut_ptr());
            for oy in 0..oh {
                let base = 2 * oy * w;
                // SAFETY: 2·oh <= h and 2·ow <= w keep every read in the plane.
                unsafe {
                    let ox0 = avg2x2_simd(xq, w, base, ow, yq.add(oy * ow), div);
                    for ox in ox0..ow {
                        let j = base + 2 * ox;
                        let acc = 0.0 + *xq.add(j) + *xq.add(j + 1) + *xq.add(j + w) + *xq.add(j + w + 1);
                        *yq.add(oy * ow + ox) = acc / div;
                    }
                }
            }
            return;
        }
        for oy in 0..oh {
            // Outputs `a..b` of the row four at a time (wasm; windows inside the plane, whose
            // divisor is the same along the row).
            let (a, b) = interior_run(interior_x, |ox0, ox1| {
                let win = avg_window(s, oy, ox0);
                let (y0, y1, _, _, _) = win;
                if y0 >= y1 {
                    return ox0;
                }
                let div = divisor(win, count_include_pad, divisor_override);
                // SAFETY: interior outputs read inside the plane; the row is this task's.
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                unsafe {
                    super::pool_interior::avg_interior(s, xp.as_ptr(), y0, y1, ox0, ox1, div, yo.as_mut_ptr().add(oy * ow))
                }
                #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
                {
                    let _ = (div, ox1);
                    ox0
                }
            });
            for ox in (0..a).chain(b..ow) {
                let win = avg_window(s, oy, ox);
                let (y0, y1, x0, x1, _) = win;
                // PyTorch: a window with no input is 0 (never a division by 0).
                if y0 >= y1 || x0 >= x1 {
                    yo[oy * ow + ox] = 0.0;
                    continue;
                }
                let mut acc = 0.0f32;
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        acc += xp[iy * s.w + ix];
                    }
                }
                yo[oy * ow + ox] = acc / divisor(win, count_include_pad, divisor_override);
            }
        }
    });
}

/// Average pooling backward (`dx` overwritten).
pub fn avgpool2d_backward(s: &PoolShape, dy: &[f32], dx: &mut [f32], count_include_pad: bool, divisor_override: Option<f32>) {
    let (oh, ow) = (s.oh(), s.ow());
    let (ohw, hw) = (oh * ow, s.h * s.w);
    assert!(dx.len() >= s.x_len() && dy.len() >= s.y_len(), "avgpool2d backward: buffers too short");
    assert!(s.dh == 1 && s.dw == 1 && s.sh >= 1 && s.sw >= 1, "avgpool2d: stride must be positive, dilation 1");
    let xp = SharedMut(dx.as_mut_ptr());
    let fast2 = whole_2x2(s).then(|| divisor_override.unwrap_or(4.0));
    let interior_x = interior(ow, s.sw, s.pw, s.kw, 1, s.w);
    par_planes(s.planes, s.x_len(), |p| {
        // SAFETY: one task per plane.
        let d = unsafe { xp.slice(p * hw, hw) };
        let g = &dy[p * ohw..(p + 1) * ohw];
        if let Some(div) = fast2 {
            // Windows do not overlap: each input takes its window's share (0.0 + v, as the
            // generic loop's += into zeros, which turns -0.0 into +0.0), and only what no
            // window covers (a last odd row or column) is zeroed.
            let w = s.w;
            for oy in 0..oh {
                let (r0, r1) = d[2 * oy * w..(2 * oy + 2) * w].split_at_mut(w);
                for (ox, gv) in g[oy * ow..(oy + 1) * ow].iter().enumerate() {
                    let v = 0.0 + *gv / div;
                    r0[2 * ox] = v;
                    r0[2 * ox + 1] = v;
                    r1[2 * ox] = v;
                    r1[2 * ox + 1] = v;
                }
                r0[2 * ow..].fill(0.0);
                r1[2 * ow..].fill(0.0);
            }
            d[2 * oh * w..].fill(0.0);
            return;
        }
        // Every tap of a window gets the same share, so the scatter splits by axes: an output
        // row's shares are spread along x into one input-row-sized sum (`spread`), which is
        // then added to each input row of the row's windows (a vector add along the row).
        // (Tap by tap, the windows' overlaps made a chain of scalar read-modify-writes: ~4 ns
        // a tap with stride 1.) The outputs whose windows lie inside the plane share one
        // window height and divisor per row: their shares are taken as a run and spread tap
        // column by tap column. The sums associate differently from tap by tap: equal up to
        // rounding where windows overlap, the same bits where they do not.
        d.fill(0.0);
        let (lo, hi) = interior_x;
        let mut spread = vec![0.0f32; s.w];
        let mut share = vec![0.0f32; hi - lo];
        for oy in 0..oh {
            spread.fill(0.0);
            let mut rows = 0..0;
            for ox in (0..lo).chain(hi..ow) {
                let win = avg_window(s, oy, ox);
                let (y0, y1, x0, x1, _) = win;
                if y0 >= y1 || x0 >= x1 {
                    continue;
                }
                // The same rows for every output of the row.
                rows = y0..y1;
                let v = g[oy * ow + ox] / divisor(win, count_include_pad, divisor_override);
                spread[x0..x1].iter_mut().for_each(|h| *h += v);
            }
            // (The interior's window, when there is one; its height is every output's.)
            let win = (lo < hi).then(|| avg_window(s, oy, lo)).filter(|w| w.0 < w.1);
            if let Some(win) = win {
                rows = win.0..win.1;
                let div = divisor(win, count_include_pad, divisor_override);
                share.iter_mut().zip(&g[oy * ow + lo..oy * ow + hi]).for_each(|(v, gv)| *v = *gv / div);
                for tx in 0..s.kw {
                    let c0 = lo * s.sw - s.pw + tx;
                    if s.sw == 1 {
                        spread[c0..c0 + share.len()].iter_mut().zip(&share).for_each(|(h, v)| *h += *v);
                    } else {
                        share.iter().enumerate().for_each(|(j, v)| spread[c0 + j * s.sw] += *v);
                    }
                }
            }
            for iy in rows {
                d[iy * s.w..(iy + 1) * s.w].iter_mut().zip(&spread).for_each(|(dv, h)| *dv += *h);
            }
        }
    });
}

/// Reference max pooling: every tap of the dilated window, padding explicit as -inf, the
/// index of the first maximum (or of a NaN).
pub fn maxpool2d_forward_ref(s: &PoolShape, x: &[f32], y: &mut [f32], idx: &mut [i32]) {
    let (oh, ow) = (s.oh(), s.ow());
    for p in 0..s.planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = f32::NEG_INFINITY;
                let mut bi = -1i32;
                for ki in 0..s.kh {
                    for kj in 0..s.kw {
                        let iy = (oy * s.sh + ki * s.dh) as isize - s.ph as isize;
                        let ix = (ox * s.sw + kj * s.dw) as isize - s.pw as isize;
                        if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                            continue;
                        }
                        let v = x[(p * s.h + iy as usize) * s.w + ix as usize];
                        if bi < 0 || v > best || v.is_nan() {
                            best = v;
                            bi = iy as i32 * s.w as i32 + ix as i32;
                        }
                    }
                }
                y[(p * oh + oy) * ow + ox] = best;
                idx[(p * oh + oy) * ow + ox] = bi;
            }
        }
    }
}

/// Reference average pooling: taps counted one by one (inside the input, inside the
/// padding, or past it, where ceil mode lets a window run), divisor as PyTorch.
pub fn avgpool2d_forward_ref(s: &PoolShape, x: &[f32], y: &mut [f32], count_include_pad: bool, divisor_override: Option<f32>) {
    let (oh, ow) = (s.oh(), s.ow());
    for p in 0..s.planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = 0.0f64;
                let (mut inside, mut padded) = (0usize, 0usize);
                for ki in 0..s.kh {
                    for kj in 0..s.kw {
                        let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                        let ix = (ox * s.sw + kj) as isize - s.pw as isize;
                        if iy < (s.h + s.ph) as isize && ix < (s.w + s.pw) as isize {
                            padded += 1;
                        }
                        if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                            continue;
                        }
                        acc += x[(p * s.h + iy as usize) * s.w + ix as usize] as f64;
                        inside += 1;
                    }
                }
                let div = divisor_override.map_or(if count_include_pad { padded } else { inside } as f64, |d| d as f64);
                y[(p * oh + oy) * ow + ox] = if inside == 0 { 0.0 } else { (acc / div) as f32 };
            }
        }
    }
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

    fn shapes() -> Vec<PoolShape> {
        let p = PoolShape::plain;
        vec![
            p(6, 6, 6, 2, 2, 2, 2, 0, 0),
            p(2, 7, 7, 3, 3, 2, 2, 1, 1),
            p(3, 9, 5, 3, 2, 1, 2, 1, 1),
            p(64, 26, 26, 2, 2, 2, 2, 0, 0),
            // floor mode over odd sizes: the fast path leaves the last row and column alone
            p(2, 19, 21, 2, 2, 2, 2, 0, 0),
            // ceil mode: a last partial window (2x2/2 over odd sizes, also on the fast path's
            // shape), windows past the right padding, stride > kernel
            PoolShape { ceil: true, ..p(3, 7, 9, 2, 2, 2, 2, 0, 0) },
            PoolShape { ceil: true, ..p(2, 8, 6, 3, 3, 2, 2, 1, 1) },
            PoolShape { ceil: true, ..p(2, 10, 7, 2, 3, 3, 4, 1, 1) },
            PoolShape { ceil: true, ..p(1, 1, 1, 2, 2, 2, 2, 0, 0) },
        ]
    }

    fn dilated() -> Vec<PoolShape> {
        let p = PoolShape::plain;
        vec![
            PoolShape { dh: 2, dw: 2, ..p(2, 9, 9, 3, 3, 1, 1, 1, 1) },
            PoolShape { dh: 3, dw: 2, ceil: true, ..p(3, 11, 8, 2, 3, 2, 2, 1, 1) },
            PoolShape { dh: 2, dw: 1, ..p(2, 2, 2, 2, 2, 1, 1, 1, 1) },
        ]
    }

    #[test]
    fn max_matches_reference_and_scatters() {
        let mut seed = 3;
        for s in shapes().into_iter().chain(dilated()) {
            let x = rand_vec(s.x_len(), &mut seed);
            let (mut y, mut yr) = (vec![0.0; s.y_len()], vec![0.0; s.y_len()]);
            let (mut i, mut ir) = (vec![0; s.y_len()], vec![0; s.y_len()]);
            maxpool2d_forward(&s, &x, &mut y, &mut i);
            maxpool2d_forward_ref(&s, &x, &mut yr, &mut ir);
            assert_eq!(y, yr, "{s:?}");
            assert_eq!(i, ir, "{s:?}");
            let dy = rand_vec(s.y_len(), &mut seed);
            let mut dx = vec![9.0; s.x_len()];
            maxpool2d_backward(&s, &dy, &i, &mut dx);
            let mut want = vec![0.0f32; s.x_len()];
            let hw = s.h * s.w;
            let ohw = s.oh() * s.ow();
            for (k, &j) in ir.iter().enumerate() {
                want[(k / ohw) * hw + j as usize] += dy[k];
            }
            assert_eq!(dx, want, "{s:?}");
        }
    }

    #[test]
    fn avg_matches_reference() {
        let mut seed = 5;
        for s in shapes() {
            for (cip, over) in [(true, None), (false, None), (true, Some(5.0)), (false, Some(-3.0))] {
                let x = rand_vec(s.x_len(), &mut seed);
                let (mut y, mut yr) = (vec![0.0; s.y_len()], vec![0.0; s.y_len()]);
                avgpool2d_forward(&s, &x, &mut y, cip, over);
                avgpool2d_forward_ref(&s, &x, &mut yr, cip, over);
                for (a, b) in y.iter().zip(&yr) {
                    assert!((a - b).abs() < 1e-5, "{s:?} {cip} {over:?}: {a} vs {b}");
                }
                // Adjoint check: <avg(x), dy> == <x, avg_backward(dy)>.
                let dy = rand_vec(s.y_len(), &mut seed);
                let mut dx = vec![0.0; s.x_len()];
                avgpool2d_backward(&s, &dy, &mut dx, cip, over);
                let l: f64 = y.iter().zip(&dy).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
                let r: f64 = x.iter().zip(&dx).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
                assert!((l - r).abs() < 1e-4, "{l} vs {r}");
            }
        }
    }

    /// The 2×2 fast path, bit for bit: the sum from 0.0 in row order over 4 (or the override)
    /// forward, the share of each window's gradient backward, and zeros where no window reaches.
    #[test]
    fn avg_2x2_fast_path_is_exact() {
        let mut seed = 11;
        let s = PoolShape::plain(3, 9, 19, 2, 2, 2, 2, 0, 0);
        let (oh, ow) = (s.oh(), s.ow());
        let mut x = rand_vec(s.x_len(), &mut seed);
        x[0..4].copy_from_slice(&[-0.0; 4]);
        x[19..23].copy_from_slice(&[-0.0; 4]);
        for over in [None, Some(3.0)] {
            let div = over.unwrap_or(4.0);
            let mut y = vec![9.0; s.y_len()];
            avgpool2d_forward(&s, &x, &mut y, true, over);
            let dy: Vec<f32> = (0..s.y_len()).map(|i| if i == 0 { -0.0 } else { i as f32 * 0.37 - 5.0 }).collect();
            let mut dx = vec![9.0; s.x_len()];
            avgpool2d_backward(&s, &dy, &mut dx, true, over);
            for p in 0..s.planes {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let at = |dy_: usize, dx_: usize| p * 9 * 19 + (2 * oy + dy_) * 19 + 2 * ox + dx_;
                        let want = (0.0 + x[at(0, 0)] + x[at(0, 1)] + x[at(1, 0)] + x[at(1, 1)]) / div;
                        let o = (p * oh + oy) * ow + ox;
                        assert_eq!(y[o].to_bits(), want.to_bits(), "forward plane {p} ({oy}, {ox})");
                        for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                            assert_eq!(dx[at(a, b)].to_bits(), (0.0 + dy[o] / div).to_bits(), "backward plane {p} ({oy}, {ox})");
                        }
                    }
                }
                // Row 8 and column 18 are in no window.
                assert!((0..19).all(|c| dx[p * 171 + 8 * 19 + c] == 0.0) && (0..9).all(|r| dx[p * 171 + r * 19 + 18] == 0.0));
            }
        }
    }

    #[test]
    fn ceil_mode_divisors_as_pytorch() {
        // torch.nn.AvgPool2d(3, 2, padding=1, ceil_mode=True)(torch.ones(1, 1, 4, 4)) in
        // PyTorch 1.13 prints 0.4444 0.6667 0.3333 / 0.6667 1 0.5 / 0.3333 0.5 0.25: the last
        // window (padded rows 3..6 of 0..6) is clipped to the padded plane, so its divisor
        // counts 2 rows, of which 1 is input: 2/6 at the edge, 1/4 in the corner.
        let s = PoolShape { ceil: true, ..PoolShape::plain(1, 4, 4, 3, 3, 2, 2, 1, 1) };
        assert_eq!((s.oh(), s.ow()), (3, 3));
        let mut y = vec![0.0; 9];
        avgpool2d_forward(&s, &[1.0; 16], &mut y, true, None);
        let want = [4.0 / 9.0, 6.0 / 9.0, 2.0 / 6.0, 6.0 / 9.0, 1.0, 3.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0, 1.0 / 4.0];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{y:?}");
        }
    }
}
