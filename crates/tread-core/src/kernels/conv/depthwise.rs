//! Direct convolution for one input channel per group (depthwise, `C/G == 1`, any channel
//! multiplier `m = OC/G`), zero padding: what `conv2d_forward` / `conv2d_backward` run
//! instead of im2col + GEMM when [`applies`] says so.
//!
//! Why: im2col + GEMM turns a depthwise layer into per-sample GEMMs of `[m × k²]·[k² × OH·OW]`
//! with `m` and `k²` tiny, which run at a few GFLOP/s and write `k²` copies of the input.
//! Here each (sample, channel) *plane* is done on its own: its input is copied once into a
//! zero-bordered scratch plane (so the inner loops have no bounds logic), then
//!
//! - forward: `y[o] = bias[o] + correlate(xpad, w[o])` for the `m` outputs `o` of the channel;
//! - input gradient, stride 1: `dx = Σ_o correlate(dypad[o], flip(w[o]))` (the adjoint of a
//!   stride-1 correlation is a correlation with the flipped kernel over `dy` bordered by the
//!   kernel extent), read back at the padding offset; strided: `dy` scattered through the
//!   taps into a padded plane, whose interior is `dx` (the gather form would skip zeros);
//! - weight gradient: `dW[o][ki][kj] += Σ dy[o] · xpad shifted by the tap` (dot products);
//! - bias gradient: sums of `dy` planes (f64 per plane, as the GEMM path).
//!
//! The plane kernels are `f32_dwconv_wasmsimd.rs` (column stride 1 or 2, wasm SIMD128) and
//! `f32_dwconv_scalar.rs` (any stride; native builds and wasm's column strides > 2).
//!
//! Planes `p = n·C + c` are cut into contiguous chunks, one task each; the weight and bias
//! gradients go to per-chunk partials reduced in chunk order, so the result does not depend
//! on which thread ran which chunk.
//!
//! The backward pass needs the input, but its interface carries only the forward's saved
//! buffer: on this path it holds a copy of `x` (`N·C·H·W` floats, `ConvShape::saved_len`)
//! instead of the im2col columns, which for a 3x3 kernel would be nine times larger.

// The plane kernels: wasm SIMD128 (column strides 1 and 2, the scalar ones otherwise), or
// the portable ones (native builds, where `cargo test` checks them).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use super::f32_dwconv_scalar::{correlate, dot_taps, scatter};
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::f32_dwconv_wasmsimd::{correlate, dot_taps, scatter};
use super::{finish_db, finish_dw, sum_f64, ConvShape};
use crate::kernels::im2col::{copy_run, PadMode};
use crate::parallel::{self, SharedMut};

/// Kernel taps of one plane: size, stride and dilation per axis.
#[derive(Clone, Copy, Debug)]
pub struct Taps {
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
}

/// Above this channel multiplier im2col + GEMM is as fast or faster: its GEMMs get `m`
/// rows to share each column with. Measured in wasm on the 2-vCPU dev machine (forward +
/// backward, 1 thread): one input channel to 8 outputs, 3x3 and 5x5, direct 1.3x faster;
/// to 16 outputs 5x5 about even; to 32 / 64 outputs 3x3 GEMM 1.5-1.8x faster.
const MAX_MULTIPLIER: usize = 8;

/// Whether `conv2d_forward` / `conv2d_backward` take this direct path for `s`.
///
/// Padding modes other than zeros keep im2col (their index maps live there, and depthwise
/// layers with them are rare); so do channel multipliers above [`MAX_MULTIPLIER`].
pub fn applies(s: &ConvShape) -> bool {
    s.c == s.groups && s.oc <= s.c * MAX_MULTIPLIER && s.mode == PadMode::Zeros
}

/// Zeros after a scratch plane, so that the SIMD kernels' stride-2 blocks, which touch one
/// float past the last one they need, run to the end of the last row too.
const SLACK: usize = 8;

/// The geometry shared by both passes.
struct Planes {
    t: Taps,
    /// Channel multiplier `OC/C`, taps per kernel `KH·KW`.
    m: usize,
    kk: usize,
    oh: usize,
    ow: usize,
    hw: usize,
    ohw: usize,
    /// The zero-padded input plane: `hp × wp`.
    hp: usize,
    wp: usize,
}

impl Planes {
    fn new(s: &ConvShape) -> Planes {
        let t = Taps { kh: s.kh, kw: s.kw, sh: s.sh, sw: s.sw, dh: s.dh, dw: s.dw };
        Planes {
            t,
            m: s.oc / s.c.max(1),
            kk: s.kh * s.kw,
            oh: s.oh(),
            ow: s.ow(),
            hw: s.h * s.w,
            ohw: s.ohw(),
            hp: s.ph + s.h + s.ph_end,
            wp: s.pw + s.w + s.pw_end,
        }
    }
}

/// Copies an `h × w` plane into `dst` (row stride `ld`) at row `top`, column `left`; the
/// border of `dst` is left as it is (zero: scratch planes are zeroed once and only their
/// interior is ever rewritten).
fn place(src: &[f32], h: usize, w: usize, dst: &mut [f32], ld: usize, top: usize, left: usize) {
    for r in 0..h {
        let at = (top + r) * ld + left;
        copy_run(&mut dst[at..at + w], &src[r * w..(r + 1) * w]);
    }
}

/// Contiguous ranges of planes, one task each: a few per thread when there is work enough.
fn plane_chunks(s: &ConvShape) -> Vec<(usize, usize)> {
    let threads = parallel::threads();
    let planes = s.n * s.c;
    let macs = s.y_len() * s.kh * s.kw;
    let parts = if threads <= 1 || planes < 2 || macs < 100_000 { 1 } else { (threads * 3).min(planes) };
    parallel::split_range(planes, parts, 1)
}

/// Forward (then ReLU when `relu`); `saved` (the caller's `cols`) receives a copy of `x` for
/// the backward pass.
#[allow(clippy::too_many_arguments)]
pub fn forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, relu: bool, y: &mut [f32], saved: &mut [f32]) {
    let g = Planes::new(s);
    let (t, hw, ohw) = (g.t, g.hw, g.ohw);
    let padded = s.has_padding();
    let chunks = plane_chunks(s);
    let (yp, sp) = (SharedMut(y.as_mut_ptr()), SharedMut(saved.as_mut_ptr()));
    parallel::for_each_task(chunks.len(), |task| {
        let mut xpad = vec![0.0f32; if padded { g.hp * g.wp + SLACK } else { 0 }];
        for p in chunks[task].0..chunks[task].1 {
            let c = p % s.c;
            let xs = &x[p * hw..(p + 1) * hw];
            // SAFETY: plane p of the saved input and its m output planes belong to this task.
            let (keep, ys) = unsafe { (sp.slice(p * hw, hw), yp.slice(p * g.m * ohw, g.m * ohw)) };
            keep.copy_from_slice(xs);
            let (inp, ldi): (&[f32], usize) = if padded {
                place(xs, s.h, s.w, &mut xpad, g.wp, s.ph, s.pw);
                (&xpad, g.wp)
            } else {
                (xs, s.w)
            };
            for j in 0..g.m {
                let o = c * g.m + j;
                let yo = &mut ys[j * ohw..(j + 1) * ohw];
                yo.fill(bias.map_or(0.0, |b| b[o]));
                correlate(&t, inp, ldi, yo, g.ow, g.oh, g.ow, &w[o * g.kk..(o + 1) * g.kk]);
                if relu {
                    crate::kernels::activation::relu_in_place(yo);
                }
            }
        }
    });
}

/// Backward from the input `forward` saved: same contract as `conv2d_backward`.
pub fn backward(s: &ConvShape, saved: &[f32], w: &[f32], dy: &[f32], dw: Option<(&mut [f32], f32)>, db: Option<(&mut [f32], f32)>, dx: Option<&mut [f32]>) {
    let g = Planes::new(s);
    let (t, hw, ohw, m, kk, oc) = (g.t, g.hw, g.ohw, g.m, g.kk, s.oc);
    let wl = s.w_len();
    let (want_dw, want_db) = (dw.is_some(), db.is_some());
    let dxp = dx.map(|d| SharedMut(d.as_mut_ptr()));
    let padded = s.has_padding();
    let unit_stride = s.sh == 1 && s.sw == 1;
    // Stride 1: dx is the correlation of dy, bordered by the dilated kernel extent, with
    // the flipped kernels (reversing a row-major kh·kw slice flips both axes).
    let (eh, ew) = ((s.kh - 1) * s.dh, (s.kw - 1) * s.dw);
    let (dyh, dyw) = (g.oh + 2 * eh, g.ow + 2 * ew);
    let flipped: Vec<f32> = if dxp.is_some() && unit_stride { w[..wl].chunks_exact(kk).flat_map(|k| k.iter().rev().copied()).collect() } else { Vec::new() };
    let chunks = plane_chunks(s);
    let nt = chunks.len();
    let mut partial_dw = vec![0.0f32; if want_dw { nt * wl } else { 0 }];
    let mut partial_db = vec![0.0f64; if want_db { nt * oc } else { 0 }];
    let (pdw, pdb) = (SharedMut(partial_dw.as_mut_ptr()), SharedMut(partial_db.as_mut_ptr()));
    parallel::for_each_task(nt, |task| {
        let mut xpad = vec![0.0f32; if want_dw && padded { g.hp * g.wp + SLACK } else { 0 }];
        let mut dypad = vec![0.0f32; if dxp.is_some() && unit_stride { dyh * dyw } else { 0 }];
        let mut dxpad = vec![0.0f32; if dxp.is_some() && !unit_stride { g.hp * g.wp + SLACK } else { 0 }];
        for p in chunks[task].0..chunks[task].1 {
            let c = p % s.c;
            let dys = &dy[p * m * ohw..(p + 1) * m * ohw];
            if want_db {
                // SAFETY: chunk `task` owns its partials.
                let acc = unsafe { pdb.slice(task * oc, oc) };
                for j in 0..m {
                    acc[c * m + j] += sum_f64(&dys[j * ohw..(j + 1) * ohw]);
                }
            }
            if want_dw {
                let acc = unsafe { pdw.slice(task * wl, wl) };
                let xs = &saved[p * hw..(p + 1) * hw];
                let (inp, ldi): (&[f32], usize) = if padded {
                    place(xs, s.h, s.w, &mut xpad, g.wp, s.ph, s.pw);
                    (&xpad, g.wp)
                } else {
                    (xs, s.w)
                };
                for j in 0..m {
                    let o = c * m + j;
                    dot_taps(&t, inp, ldi, &dys[j * ohw..(j + 1) * ohw], g.ow, g.oh, g.ow, &mut acc[o * kk..(o + 1) * kk]);
                }
            }
            if let Some(xp) = dxp {
                // SAFETY: plane p of dx belongs to this task.
                let dxs = unsafe { xp.slice(p * hw, hw) };
                if unit_stride {
                    dxs.fill(0.0);
                    let unit = Taps { sh: 1, sw: 1, ..t };
                    for j in 0..m {
                        let o = c * m + j;
                        place(&dys[j * ohw..(j + 1) * ohw], g.oh, g.ow, &mut dypad, dyw, eh, ew);
                        // dx[iy][ix] = Σ flip(w)[ki][kj] · dypad[iy + ph + ki·dh][ix + pw + kj·dw]
                        correlate(&unit, &dypad[s.ph * dyw + s.pw..], dyw, dxs, s.w, s.h, s.w, &flipped[o * kk..(o + 1) * kk]);
                    }
                } else {
                    dxpad.fill(0.0);
                    for j in 0..m {
                        let o = c * m + j;
                        scatter(&t, &dys[j * ohw..(j + 1) * ohw], g.ow, g.oh, g.ow, &w[o * kk..(o + 1) * kk], &mut dxpad, g.wp);
                    }
                    for r in 0..s.h {
                        let at = (s.ph + r) * g.wp + s.pw;
                        copy_run(&mut dxs[r * s.w..(r + 1) * s.w], &dxpad[at..at + s.w]);
                    }
                }
            }
        }
    });
    finish_db(db, &partial_db, nt, oc);
    finish_dw(dw, &partial_dw, nt, wl);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, rand_vec};
    use super::super::{conv2d_backward, conv2d_forward};
    use super::*;

    /// Every stride × dilation × padding (none, symmetric, 'same'-style asymmetric, wider
    /// than the kernel) × channel multiplier 1, 2, 3 on odd plane sizes, against the direct
    /// loops; all but those whose input is larger than `cols` must take this path.
    #[test]
    fn every_option_matches_the_direct_loops() {
        let mut seed = 21u64;
        let (mut direct, mut total) = (0, 0);
        for (sh, sw) in [(1, 1), (2, 2), (1, 2), (2, 1), (3, 2)] {
            for (dh, dw) in [(1, 1), (2, 1), (2, 3)] {
                for (ph, ph_end, pw, pw_end) in [(0, 0, 0, 0), (1, 1, 1, 1), (1, 2, 0, 1), (3, 4, 2, 3)] {
                    for (m, kh, kw) in [(1, 3, 3), (2, 2, 4), (3, 1, 3)] {
                        let (c, h, w) = (3, 9, 11);
                        let s = ConvShape { ph, ph_end, pw, pw_end, dh, dw, groups: c, ..ConvShape::plain(2, c, h, w, c * m, kh, kw, sh, sw, 0, 0) };
                        if s.ohw() == 0 {
                            continue;
                        }
                        total += 1;
                        direct += applies(&s) as usize;
                        assert!(applies(&s), "{s:?} missed the direct path");
                        check(s, &mut seed);
                    }
                }
            }
        }
        assert!(direct * 4 >= total * 3, "only {direct} of {total} shapes took the direct path");
    }

    /// One input channel (groups 1): the direct path too, up to 8 outputs.
    #[test]
    fn single_input_channel_with_up_to_8_outputs() {
        let mut seed = 22u64;
        let s = ConvShape { ph_end: 2, pw_end: 2, ..ConvShape::plain(3, 1, 12, 13, 8, 5, 5, 1, 1, 2, 2) };
        assert!(applies(&s));
        check(s, &mut seed);
        check(ConvShape::plain(2, 1, 12, 13, 5, 3, 3, 2, 2, 1, 1), &mut seed);
    }

    /// Shapes big enough to cut into several chunks, on 1 and 2 threads; the 2-thread
    /// gradients are bitwise the same when run again (partials reduced in chunk order).
    #[test]
    fn threads_split_the_planes_and_stay_deterministic() {
        let _settings = crate::parallel::test_settings_lock();
        let mut seed = 23u64;
        let p = ConvShape::plain;
        let shapes = [
            ConvShape { groups: 8, ..p(4, 8, 16, 15, 16, 3, 3, 1, 1, 1, 1) },
            ConvShape { groups: 6, dh: 2, dw: 2, ph_end: 3, ..p(8, 6, 17, 14, 12, 3, 3, 2, 1, 2, 2) },
        ];
        for threads in [1, 2] {
            parallel::set_threads(threads);
            for s in shapes {
                assert!(applies(&s) && s.y_len() * s.kh * s.kw >= 100_000, "{s:?} too small to split");
                check(s, &mut seed);
            }
        }
        let s = shapes[0];
        let (x, w, dy) = (rand_vec(s.x_len(), &mut seed), rand_vec(s.w_len(), &mut seed), rand_vec(s.y_len(), &mut seed));
        let mut y = vec![0.0; s.y_len()];
        let mut cols = vec![0.0; s.saved_len()];
        conv2d_forward(&s, &x, &w, None, &mut y, &mut cols);
        let grads = || {
            let (mut dw, mut db, mut dx) = (vec![0.0; s.w_len()], vec![0.0; s.oc], vec![0.0; s.x_len()]);
            conv2d_backward(&s, &cols, &w, &dy, Some((&mut dw, 0.0)), Some((&mut db, 0.0)), Some(&mut dx));
            (dw, db, dx)
        };
        let first = grads();
        for _ in 0..5 {
            assert!(grads() == first, "gradients changed between identical runs");
        }
        parallel::set_threads(1);
    }

    /// Only the gradients asked for are written; beta scales what is there.
    #[test]
    fn optional_gradients_and_beta() {
        let mut seed = 24u64;
        let s = ConvShape { groups: 2, ..ConvShape::plain(2, 2, 6, 7, 4, 3, 3, 1, 1, 1, 1) };
        let (x, w, dy) = (rand_vec(s.x_len(), &mut seed), rand_vec(s.w_len(), &mut seed), rand_vec(s.y_len(), &mut seed));
        let (mut y, mut cols) = (vec![0.0; s.y_len()], vec![0.0; s.saved_len()]);
        conv2d_forward(&s, &x, &w, None, &mut y, &mut cols);
        let (mut dxr, mut dwr, mut dbr) = (vec![0.0; s.x_len()], vec![0.0; s.w_len()], vec![0.0; s.oc]);
        super::super::conv2d_backward_ref(&s, &x, &w, &dy, &mut dxr, &mut dwr, &mut dbr);
        let mut dw = vec![2.0; s.w_len()];
        conv2d_backward(&s, &cols, &w, &dy, Some((&mut dw, 0.5)), None, None);
        for (a, r) in dw.iter().zip(&dwr) {
            assert!((a - (1.0 + r)).abs() < 1e-4, "{a} vs {}", 1.0 + r);
        }
        let mut db = vec![3.0; s.oc];
        conv2d_backward(&s, &cols, &w, &dy, None, Some((&mut db, 1.0)), None);
        for (a, r) in db.iter().zip(&dbr) {
            assert!((a - (3.0 + r)).abs() < 1e-4, "{a} vs {}", 3.0 + r);
        }
    }

    /// The direct path also runs where the stride skips input (kernel 1, stride 2: the saved
    /// copy of `x` is then longer than the columns would be, `saved_len` says so); im2col runs
    /// for other padding modes and for channel multipliers above 8.
    #[test]
    fn im2col_where_needed_or_faster() {
        let mut seed = 25u64;
        let p = ConvShape::plain;
        let s = ConvShape { groups: 4, ..p(2, 4, 9, 8, 4, 1, 1, 2, 2, 0, 0) };
        assert!(applies(&s) && s.saved_len() == s.x_len() && s.cols_len() < s.x_len());
        check(s, &mut seed);
        assert!(!applies(&ConvShape { mode: PadMode::Reflect, groups: 4, ..p(2, 4, 9, 8, 4, 3, 3, 1, 1, 1, 1) }));
        assert!(applies(&ConvShape { groups: 4, ..p(2, 4, 9, 8, 32, 3, 3, 1, 1, 1, 1) }));
        assert!(!applies(&ConvShape { groups: 4, ..p(2, 4, 9, 8, 36, 3, 3, 1, 1, 1, 1) }));
        assert!(!applies(&p(2, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0)));
    }
}
