//! 2-D max and average pooling over `planes` (= N·C) planes of `h × w`, as PyTorch's
//! `MaxPool2d` / `AvgPool2d` (floor mode, no dilation). Padding counts as -inf for max; for
//! average, `count_include_pad` chooses PyTorch's divisor. The max forward saves, per output,
//! the index of the winning input within its plane (`iy·w + ix`); its backward scatters the
//! gradient there. Parallel over planes. Ties keep the first maximum; a NaN wins (as PyTorch).

use super::window::out_size;
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
}

impl PoolShape {
    pub fn oh(&self) -> usize {
        out_size(self.h, self.ph, self.kh, self.sh)
    }
    pub fn ow(&self) -> usize {
        out_size(self.w, self.pw, self.kw, self.sw)
    }
    pub fn x_len(&self) -> usize {
        self.planes * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.planes * self.oh() * self.ow()
    }
    /// The input window of output (oy, ox), clipped to the plane: (y0, y1, x0, x1).
    #[inline]
    fn window(&self, oy: usize, ox: usize) -> (usize, usize, usize, usize) {
        let ys = (oy * self.sh) as isize - self.ph as isize;
        let xs = (ox * self.sw) as isize - self.pw as isize;
        let y0 = ys.max(0) as usize;
        let x0 = xs.max(0) as usize;
        let y1 = ((ys + self.kh as isize).max(0) as usize).min(self.h);
        let x1 = ((xs + self.kw as isize).max(0) as usize).min(self.w);
        (y0, y1, x0, x1)
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
            let r0a = v128_load(xq.add(j) as *const v128);
            let r0b = v128_load(xq.add(j + 4) as *const v128);
            let r1a = v128_load(xq.add(j + w) as *const v128);
            let r1b = v128_load(xq.add(j + w + 4) as *const v128);
            let a = i32x4_shuffle::<0, 2, 4, 6>(r0a, r0b);
            let b = i32x4_shuffle::<1, 3, 5, 7>(r0a, r0b);
            let c = i32x4_shuffle::<0, 2, 4, 6>(r1a, r1b);
            let d = i32x4_shuffle::<1, 3, 5, 7>(r1a, r1b);
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
    let yp = SharedMut(y.as_mut_ptr());
    let ip = SharedMut(idx.as_mut_ptr());
    let fast2 = s.kh == 2 && s.kw == 2 && s.sh == 2 && s.sw == 2 && s.ph == 0 && s.pw == 0;
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
            for ox in 0..ow {
                let (y0, y1, x0, x1) = s.window(oy, ox);
                let mut best = f32::NEG_INFINITY;
                let mut bi = y0 * s.w + x0;
                for iy in y0..y1 {
                    for ix in x0..x1 {
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
            d[i as usize] += *g;
        }
    });
}

#[inline]
fn divisor(s: &PoolShape, oy: usize, ox: usize, count_include_pad: bool) -> f32 {
    if count_include_pad {
        // PyTorch: the window clipped to the padded plane.
        let ys = (oy * s.sh) as isize - s.ph as isize;
        let xs = (ox * s.sw) as isize - s.pw as isize;
        let ye = (ys + s.kh as isize).min((s.h + s.ph) as isize);
        let xe = (xs + s.kw as isize).min((s.w + s.pw) as isize);
        ((ye - ys) * (xe - xs)) as f32
    } else {
        let (y0, y1, x0, x1) = s.window(oy, ox);
        ((y1 - y0) * (x1 - x0)).max(1) as f32
    }
}

/// Average pooling.
pub fn avgpool2d_forward(s: &PoolShape, x: &[f32], y: &mut [f32], count_include_pad: bool) {
    let (oh, ow) = (s.oh(), s.ow());
    let (ohw, hw) = (oh * ow, s.h * s.w);
    assert!(x.len() >= s.x_len() && y.len() >= s.y_len(), "avgpool2d: buffers too short");
    let yp = SharedMut(y.as_mut_ptr());
    par_planes(s.planes, s.x_len(), |p| {
        let xp = &x[p * hw..(p + 1) * hw];
        // SAFETY: one task per plane.
        let yo = unsafe { yp.slice(p * ohw, ohw) };
        for oy in 0..oh {
            for ox in 0..ow {
                let (y0, y1, x0, x1) = s.window(oy, ox);
                let mut acc = 0.0f32;
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        acc += xp[iy * s.w + ix];
                    }
                }
                yo[oy * ow + ox] = acc / divisor(s, oy, ox, count_include_pad);
            }
        }
    });
}

/// Average pooling backward (`dx` overwritten).
pub fn avgpool2d_backward(s: &PoolShape, dy: &[f32], dx: &mut [f32], count_include_pad: bool) {
    let (oh, ow) = (s.oh(), s.ow());
    let (ohw, hw) = (oh * ow, s.h * s.w);
    assert!(dx.len() >= s.x_len() && dy.len() >= s.y_len(), "avgpool2d backward: buffers too short");
    let xp = SharedMut(dx.as_mut_ptr());
    par_planes(s.planes, s.x_len(), |p| {
        // SAFETY: one task per plane.
        let d = unsafe { xp.slice(p * hw, hw) };
        d.fill(0.0);
        let g = &dy[p * ohw..(p + 1) * ohw];
        for oy in 0..oh {
            for ox in 0..ow {
                let (y0, y1, x0, x1) = s.window(oy, ox);
                let v = g[oy * ow + ox] / divisor(s, oy, ox, count_include_pad);
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        d[iy * s.w + ix] += v;
                    }
                }
            }
        }
    });
}

/// Reference max pooling (plain loops, padding explicit as -inf).
pub fn maxpool2d_forward_ref(s: &PoolShape, x: &[f32], y: &mut [f32], idx: &mut [i32]) {
    let (oh, ow) = (s.oh(), s.ow());
    for p in 0..s.planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = f32::NEG_INFINITY;
                let mut bi = -1i32;
                for ki in 0..s.kh {
                    for kj in 0..s.kw {
                        let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                        let ix = (ox * s.sw + kj) as isize - s.pw as isize;
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

/// Reference average pooling (plain loops, divisor as PyTorch).
pub fn avgpool2d_forward_ref(s: &PoolShape, x: &[f32], y: &mut [f32], count_include_pad: bool) {
    let (oh, ow) = (s.oh(), s.ow());
    for p in 0..s.planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = 0.0f64;
                let mut cnt = 0usize;
                for ki in 0..s.kh {
                    for kj in 0..s.kw {
                        let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                        let ix = (ox * s.sw + kj) as isize - s.pw as isize;
                        let inside_padded = iy < (s.h + s.ph) as isize && ix < (s.w + s.pw) as isize;
                        if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                            if count_include_pad && inside_padded {
                                cnt += 1;
                            }
                            continue;
                        }
                        acc += x[(p * s.h + iy as usize) * s.w + ix as usize] as f64;
                        cnt += 1;
                    }
                }
                y[(p * oh + oy) * ow + ox] = (acc / cnt.max(1) as f64) as f32;
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

    const SHAPES: [PoolShape; 4] = [
        PoolShape { planes: 6, h: 6, w: 6, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 },
        PoolShape { planes: 2, h: 7, w: 7, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
        PoolShape { planes: 3, h: 9, w: 5, kh: 3, kw: 2, sh: 1, sw: 2, ph: 1, pw: 1 },
        PoolShape { planes: 64, h: 26, w: 26, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 },
    ];

    #[test]
    fn max_matches_reference_and_scatters() {
        let mut seed = 3;
        for s in SHAPES {
            let x = rand_vec(s.x_len(), &mut seed);
            let (mut y, mut yr) = (vec![0.0; s.y_len()], vec![0.0; s.y_len()]);
            let (mut i, mut ir) = (vec![0; s.y_len()], vec![0; s.y_len()]);
            maxpool2d_forward(&s, &x, &mut y, &mut i);
            maxpool2d_forward_ref(&s, &x, &mut yr, &mut ir);
            assert_eq!(y, yr);
            assert_eq!(i, ir);
            let dy = rand_vec(s.y_len(), &mut seed);
            let mut dx = vec![9.0; s.x_len()];
            maxpool2d_backward(&s, &dy, &i, &mut dx);
            let total: f32 = dx.iter().sum();
            let want: f32 = dy.iter().sum();
            assert!((total - want).abs() < 1e-3);
        }
    }

    #[test]
    fn avg_matches_reference() {
        let mut seed = 5;
        for s in SHAPES {
            for cip in [true, false] {
                let x = rand_vec(s.x_len(), &mut seed);
                let (mut y, mut yr) = (vec![0.0; s.y_len()], vec![0.0; s.y_len()]);
                avgpool2d_forward(&s, &x, &mut y, cip);
                avgpool2d_forward_ref(&s, &x, &mut yr, cip);
                for (a, b) in y.iter().zip(&yr) {
                    assert!((a - b).abs() < 1e-5);
                }
                // Adjoint check: <avg(x), dy> == <x, avg_backward(dy)>.
                let dy = rand_vec(s.y_len(), &mut seed);
                let mut dx = vec![0.0; s.x_len()];
                avgpool2d_backward(&s, &dy, &mut dx, cip);
                let l: f64 = y.iter().zip(&dy).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
                let r: f64 = x.iter().zip(&dx).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
                assert!((l - r).abs() < 1e-4, "{l} vs {r}");
            }
        }
    }
}
