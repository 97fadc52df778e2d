//! Winograd F(4×4, 3×3) for 3×3 convolutions with stride 1, no dilation, one group (and
//! zero padding, or none): what `conv2d_forward` / `conv2d_backward` run instead of
//! im2col + GEMM when [`applies`] says so.
//!
//! Why: a 3×3 layer's per-sample GEMMs already run near the GEMM's rate, so the only way
//! to make them much faster is to do fewer multiplies. F(4×4, 3×3) does 36 products per
//! 16 outputs instead of 144; with the transforms and the ragged last tiles the GEMMs of
//! all three passes shrink about 3.4x on the 11×11 outputs of the benchmark's second layer.
//!
//! Layout (`c4`/`o4`: channels rounded up to 4, `ξ` one of the `α² = 36` tile positions,
//! `t` a tile, numbered sample-major over the batch):
//!
//! - `U[ξ][o4][c4]`: the transformed weights (once per call);
//! - `V[ξ][t][c4]`: the transformed input tiles: the buffer saved for the backward (in
//!   place of the im2col columns: `2.25·c·OH·OW` floats per sample, against `9·c·OH·OW`);
//! - per task, `M[ξ][t][o4] = V[ξ]·U[ξ]ᵀ`, one GEMM per `ξ` over the task's tiles, and the
//!   output transform reads it back into NCHW.
//!
//! Backward, over the same tiles: `dM = A dY Aᵀ` per tile, then per `ξ`
//! `dU[ξ] += dM[ξ]ᵀ·V[ξ]` (per-task partials, reduced in task order, then `dW = Gᵀ dU G`)
//! and `dV[ξ] = dM[ξ]·U[ξ]`, whose tiles `B dV Bᵀ` add up (they overlap) into the input
//! gradient. These are the adjoints of the forward's linear maps (`winograd_tile.rs`).
//!
//! Tasks are chunks of whole samples (the input tiles of neighbouring output blocks
//! overlap, so a sample's gradient tiles must be added by one task); the input is first
//! copied into a zero-bordered, channel-blocked scratch (`[c4/4][Hp][Wp][4]` per sample), so
//! the tile loops have no bounds logic and every load is four channels at once.
//!
//! Accuracy: F(4×4)'s transforms (coefficients up to 8 and 1/24) round about ten times
//! more than a reordered float32 sum: measured here, the largest error over the rms of the
//! result is 2-5e-5 (y, dx, dw) where F(2×2) and im2col give 2-4e-6. F(2×2, 3×3) is kept
//! (`set_tile(2)`, the wasm export `tread_conv2d_set_winograd`) for comparisons; it
//! saves less (16 products per 4 outputs). The setting must not change between a forward
//! and its backward (the saved tiles' layout depends on it).

use super::f32x4::F4;
use super::winograd_tile::{self as tile, Wino, W2, W4};
use super::{dy_span, finish_db, sum_f64, ConvShape};
use crate::kernels::activation::relu_in_place;
use crate::kernels::gemm::sgemm;
use crate::kernels::im2col::PadMode;
use crate::parallel::{self, SharedMut};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which tile size runs: 4 (F(4×4, 3×3)), 2 (F(2×2, 3×3)) or 0 (off: im2col + GEMM).
static TILE: AtomicU32 = AtomicU32::new(DEFAULT_TILE);
const DEFAULT_TILE: u32 = 4;

/// Sets the tile size (4, 2, or 0 to switch this path off); for tests and measurements.
pub fn set_tile(m: u32) {
    TILE.store(if m == 4 || m == 2 { m } else { 0 }, Ordering::Relaxed);
}

fn tile_m() -> usize {
    TILE.load(Ordering::Relaxed) as usize
}

/// Fewer input or output channels than this keep im2col + GEMM: the Winograd GEMMs would
/// be `[tiles × c]·[c × oc]` with a tiny side.
const MIN_CHANNELS: usize = 8;

/// Whether the convolution runs here.
pub fn applies(s: &ConvShape) -> bool {
    s.kh == 3
        && s.kw == 3
        && s.sh == 1
        && s.sw == 1
        && s.dh == 1
        && s.dw == 1
        && s.groups == 1
        && (s.mode == PadMode::Zeros || !s.has_padding())
        && s.c >= MIN_CHANNELS
        && s.oc >= MIN_CHANNELS
        && s.oh() > 0
        && s.ow() > 0
        && tile_m() != 0
}

/// The tile geometry of one call.
#[derive(Clone, Copy)]
struct Geo {
    n: usize,
    c: usize,
    oc: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    ph: usize,
    pw: usize,
    /// Tiles per column / row / sample.
    th: usize,
    tw: usize,
    tps: usize,
    /// The bordered scratch plane: `hp × wp`.
    hp: usize,
    wp: usize,
    c4: usize,
    o4: usize,
}

impl Geo {
    fn new<const A: usize, const M: usize>(s: &ConvShape) -> Geo {
        let (oh, ow) = (s.oh(), s.ow());
        let (th, tw) = (oh.div_ceil(M), ow.div_ceil(M));
        Geo {
            n: s.n,
            c: s.c,
            oc: s.oc,
            h: s.h,
            w: s.w,
            oh,
            ow,
            ph: s.ph,
            pw: s.pw,
            th,
            tw,
            tps: th * tw,
            hp: (th - 1) * M + A,
            wp: (tw - 1) * M + A,
            c4: s.c.div_ceil(4) * 4,
            o4: s.oc.div_ceil(4) * 4,
        }
    }
    /// Floats of the blocked, bordered input scratch of one sample.
    fn plane_block(&self) -> usize {
        self.c4 * self.hp * self.wp
    }
}

/// Floats of the transformed input kept for the backward: `36 · N·tiles · c4`.
pub fn saved_len(s: &ConvShape) -> Option<usize> {
    let m = tile_m();
    let (th, tw) = (s.oh().div_ceil(m), s.ow().div_ceil(m));
    [(m + 2) * (m + 2), s.n, th, tw, s.c.div_ceil(4) * 4].iter().try_fold(1usize, |acc, &x| acc.checked_mul(x))
}

/// Tiles a task multiplies at once: the transformed tiles `M` (`α²·tiles·o4` floats,
/// 36·40·64·4 bytes = 369 KiB for F(4×4) and 64 output channels) stay in L2 between the
/// GEMMs and the output transform.
const TILES_PER_STEP: usize = 40;

/// Contiguous ranges of samples, one task each (3 per thread, for cores of unequal speed),
/// and how many samples a task takes at a time.
fn sample_chunks(g: &Geo) -> (Vec<(usize, usize)>, usize) {
    let t = parallel::threads();
    let parts = if t > 1 { (3 * t).min(g.n) } else { 1 };
    let per = (TILES_PER_STEP / g.tps.max(1)).max(1);
    (parallel::split_range(g.n, parts, 1), per)
}

thread_local! {
    /// Per-thread scratch: (bordered input or input gradient, M or dM, dV).
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

fn grow(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len {
        v.resize(len, 0.0);
    }
    &mut v[..len]
}

/// `U[ξ][o][c]` from weights `[oc][c][3][3]` (zero rows and columns up to `o4`, `c4`).
fn transform_weights<W: Wino<A, M>, const A: usize, const M: usize>(g: &Geo, w: &[f32]) -> Vec<f32> {
    let mut u = vec![0.0f32; A * A * g.o4 * g.c4];
    for o in 0..g.oc {
        for ci in 0..g.c {
            let k: &[f32; 9] = w[(o * g.c + ci) * 9..(o * g.c + ci + 1) * 9].try_into().unwrap();
            let t = tile::kernel(&W::MATS, k);
            for (xi, v) in t.iter().flatten().enumerate() {
                u[(xi * g.o4 + o) * g.c4 + ci] = *v;
            }
        }
    }
    u
}

/// NCHW planes `src` (`nb × [ch][h][w]`) into channel-blocked planes `dst`
/// (`nb × [ch4/4][hb][wb][4]`, zeroed by the caller) at row `top`, column `left`: four
/// channels' rows of four at a time, transposed in registers.
#[allow(clippy::too_many_arguments)]
fn to_blocked(src: &[f32], nb: usize, ch: usize, h: usize, w: usize, dst: &mut [f32], hb: usize, wb: usize, top: usize, left: usize) {
    let (hw, lp, ch4) = (h * w, hb * wb * 4, ch.div_ceil(4) * 4);
    assert!(src.len() >= nb * ch * hw && dst.len() >= nb * ch4 * hb * wb && top + h <= hb && left + w <= wb);
    for s in 0..nb {
        for cb in 0..ch4 / 4 {
            let lanes = 4.min(ch - cb * 4);
            let plane0 = (s * ch + cb * 4) * hw;
            let out = (s * ch4 / 4 + cb) * lp;
            for r in 0..h {
                let orow = out + ((top + r) * wb + left) * 4;
                let mut col = 0;
                if lanes == 4 {
                    while col + 4 <= w {
                        // SAFETY: four rows of four inside the four planes; four columns of
                        // four channels inside the blocked row (asserted extents above).
                        unsafe {
                            let rows: [F4; 4] = std::array::from_fn(|l| F4::load(src.as_ptr().add(plane0 + l * hw + r * w + col)));
                            for (j, v) in F4::transpose(rows).iter().enumerate() {
                                v.store(dst.as_mut_ptr().add(orow + (col + j) * 4));
                            }
                        }
                        col += 4;
                    }
                }
                for c in col..w {
                    for l in 0..lanes {
                        dst[orow + c * 4 + l] = src[plane0 + l * hw + r * w + c];
                    }
                }
            }
        }
    }
}

/// The inverse of [`to_blocked`]: the `h × w` window at (`top`, `left`) of blocked planes
/// back to NCHW `dst`.
#[allow(clippy::too_many_arguments)]
fn from_blocked(src: &[f32], nb: usize, ch: usize, h: usize, w: usize, hb: usize, wb: usize, top: usize, left: usize, dst: &mut [f32]) {
    let (hw, lp, ch4) = (h * w, hb * wb * 4, ch.div_ceil(4) * 4);
    assert!(dst.len() >= nb * ch * hw && src.len() >= nb * ch4 * hb * wb && top + h <= hb && left + w <= wb);
    for s in 0..nb {
        for cb in 0..ch4 / 4 {
            let lanes = 4.min(ch - cb * 4);
            let plane0 = (s * ch + cb * 4) * hw;
            let inp = (s * ch4 / 4 + cb) * lp;
            for r in 0..h {
                let irow = inp + ((top + r) * wb + left) * 4;
                let mut col = 0;
                if lanes == 4 {
                    while col + 4 <= w {
                        // SAFETY: as in `to_blocked`, reading and writing swapped.
                        unsafe {
                            let cols: [F4; 4] = std::array::from_fn(|j| F4::load(src.as_ptr().add(irow + (col + j) * 4)));
                            for (l, v) in F4::transpose(cols).iter().enumerate() {
                                v.store(dst.as_mut_ptr().add(plane0 + l * hw + r * w + col));
                            }
                        }
                        col += 4;
                    }
                }
                for c in col..w {
                    for l in 0..lanes {
                        dst[plane0 + l * hw + r * w + c] = src[irow + c * 4 + l];
                    }
                }
            }
        }
    }
}

/// Input transform of `nb` packed samples into `v` (`[ξ][..][c4]`, row `t` of each `ξ`
/// block at `t · c4`, blocks `stride` floats apart).
///
/// # Safety
/// `v` must be writable at every row `t` of the `nb` samples in all 36 blocks.
unsafe fn transform_input<W: Wino<A, M>, const A: usize, const M: usize>(g: &Geo, xp: &[f32], nb: usize, v: *mut f32, stride: usize) {
    let (pb, lp) = (g.plane_block(), g.hp * g.wp * 4);
    for s in 0..nb {
        for cb in 0..g.c4 / 4 {
            let plane = &xp[s * pb + cb * lp..s * pb + (cb + 1) * lp];
            for ty in 0..g.th {
                for tx in 0..g.tw {
                    let t = s * g.tps + ty * g.tw + tx;
                    let at = (ty * M * g.wp + tx * M) * 4;
                    let d: [[F4; A]; A] = std::array::from_fn(|i| {
                        std::array::from_fn(|j| {
                            // SAFETY: the tile lies inside the bordered plane (hp, wp cover
                            // every tile's input).
                            unsafe { F4::load(plane.as_ptr().add(at + (i * g.wp + j) * 4)) }
                        })
                    });
                    let vt = tile::input::<W, A, M>(&d);
                    let o = t * g.c4 + cb * 4;
                    for (xi, val) in vt.iter().flatten().enumerate() {
                        val.store(v.add(xi * stride + o));
                    }
                }
            }
        }
    }
}

/// Forward: `y = conv(x, w) + bias`; `saved` (`saved_len`) receives `V` for the backward.
pub fn forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, relu: bool, y: &mut [f32], saved: &mut [f32]) {
    if tile_m() == 4 {
        forward_impl::<W4, 6, 4>(s, x, w, bias, relu, y, saved)
    } else {
        forward_impl::<W2, 4, 2>(s, x, w, bias, relu, y, saved)
    }
}

/// Backward from the forward's `saved` (`V`): same contract as `conv2d_backward_masked`
/// (`y`: the output of a forward with ReLU, whose mask `y > 0` applies to `dy`).
#[allow(clippy::too_many_arguments)]
pub fn backward(s: &ConvShape, saved: &[f32], w: &[f32], y: Option<&[f32]>, dy: &[f32], dw: Option<(&mut [f32], f32)>, db: Option<(&mut [f32], f32)>, dx: Option<&mut [f32]>) {
    if tile_m() == 4 {
        backward_impl::<W4, 6, 4>(s, saved, w, y, dy, dw, db, dx)
    } else {
        backward_impl::<W2, 4, 2>(s, saved, w, y, dy, dw, db, dx)
    }
}

/// Forward: `y = conv(x, w) + bias` (then ReLU when `relu`); `saved` (`saved_len`) receives
/// `V` for the backward.
fn forward_impl<W: Wino<A, M>, const A: usize, const M: usize>(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, relu: bool, y: &mut [f32], saved: &mut [f32]) {
    let g = Geo::new::<A, M>(s);
    let u = transform_weights::<W, A, M>(&g, w);
    let nt_all = g.n * g.tps;
    let vstride = nt_all * g.c4;
    let (chunks, per) = sample_chunks(&g);
    let (chw, ohw) = (g.c * g.h * g.w, g.oh * g.ow);
    let (yp, vp) = (SharedMut(y.as_mut_ptr()), SharedMut(saved.as_mut_ptr()));
    parallel::for_each_task(chunks.len(), |task| {
        let (a0, a1) = chunks[task];
        for n0 in (a0..a1).step_by(per) {
            let n1 = (n0 + per).min(a1);
            let nb = n1 - n0;
            let tc = nb * g.tps;
            let t0 = n0 * g.tps;
            SCRATCH.with(|cell| {
                let mut guard = cell.borrow_mut();
                let (xb, mb, _) = &mut *guard;
                let xp = grow(xb, nb * g.plane_block());
                xp.fill(0.0);
                to_blocked(&x[n0 * chw..n1 * chw], nb, g.c, g.h, g.w, xp, g.hp, g.wp, g.ph, g.pw);
                // SAFETY: rows t0..t0+tc of every ξ block of V belong to this task.
                unsafe { transform_input::<W, A, M>(&g, xp, nb, vp.0.add(t0 * g.c4), vstride) };
                let mm = grow(mb, A * A * tc * g.o4);
                for xi in 0..A * A {
                    let vx = unsafe { vp.slice(xi * vstride + t0 * g.c4, tc * g.c4) };
                    let ux = &u[xi * g.o4 * g.c4..(xi + 1) * g.o4 * g.c4];
                    sgemm(false, true, tc, g.o4, g.c4, 1.0, vx, g.c4, ux, g.c4, 0.0, &mut mm[xi * tc * g.o4..(xi + 1) * tc * g.o4], g.o4);
                }
                // The output blocks, channel-blocked (reusing the input scratch), then NCHW.
                let (yh, yw) = (g.th * M, g.tw * M);
                let yb = grow(xb, nb * g.o4 * yh * yw);
                transform_output::<W, A, M>(&g, mm, nb, bias, yb);
                // SAFETY: samples n0..n1 of y belong to this task.
                let ys = unsafe { yp.slice(n0 * g.oc * ohw, nb * g.oc * ohw) };
                from_blocked(yb, nb, g.oc, g.oh, g.ow, yh, yw, 0, 0, ys);
                if relu {
                    relu_in_place(ys);
                }
            });
        }
    });
}

/// Output transform of a task's `M` (`[ξ][tc][o4]`), plus bias, into channel-blocked
/// output planes `yb` (`nb × [o4/4][th·m][tw·m][4]`, the last tiles' overhang included).
fn transform_output<W: Wino<A, M>, const A: usize, const M: usize>(g: &Geo, mm: &[f32], nb: usize, bias: Option<&[f32]>, yb: &mut [f32]) {
    let tc = nb * g.tps;
    let blk = tc * g.o4;
    let (yh, yw) = (g.th * M, g.tw * M);
    assert!(mm.len() >= A * A * blk && yb.len() >= nb * g.o4 * yh * yw);
    for s in 0..nb {
        for ob in 0..g.o4 / 4 {
            let bv = match bias {
                Some(b) => F4::from_fn(|l| if ob * 4 + l < g.oc { b[ob * 4 + l] } else { 0.0 }),
                None => F4::zero(),
            };
            let plane = (s * g.o4 / 4 + ob) * yh * yw * 4;
            for ty in 0..g.th {
                for tx in 0..g.tw {
                    let o = (s * g.tps + ty * g.tw + tx) * g.o4 + ob * 4;
                    // SAFETY: o + 4 <= blk, and the tile's outputs lie inside the plane
                    // (both asserted through the extents above).
                    unsafe {
                        let mt: [[F4; A]; A] = std::array::from_fn(|i| std::array::from_fn(|j| F4::load(mm.as_ptr().add((i * A + j) * blk + o))));
                        let yt = tile::output::<W, A, M>(&mt);
                        for (i, yrow) in yt.iter().enumerate() {
                            let at = plane + ((ty * M + i) * yw + tx * M) * 4;
                            for (j, yv) in yrow.iter().enumerate() {
                                yv.add(bv).store(yb.as_mut_ptr().add(at + j * 4));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Backward from the forward's `saved` (`V`): same contract as `conv2d_backward`.
#[allow(clippy::too_many_arguments)]
fn backward_impl<W: Wino<A, M>, const A: usize, const M: usize>(s: &ConvShape, saved: &[f32], w: &[f32], y: Option<&[f32]>, dy: &[f32], dw: Option<(&mut [f32], f32)>, db: Option<(&mut [f32], f32)>, dx: Option<&mut [f32]>) {
    let g = Geo::new::<A, M>(s);
    let (want_dw, want_db) = (dw.is_some(), db.is_some());
    let dxp = dx.map(|d| SharedMut(d.as_mut_ptr()));
    if !want_dw && !want_db && dxp.is_none() {
        return;
    }
    let u = if dxp.is_some() { transform_weights::<W, A, M>(&g, w) } else { Vec::new() };
    let vstride = g.n * g.tps * g.c4;
    let (chunks, per) = sample_chunks(&g);
    let nt = chunks.len();
    let (chw, ohw, oc) = (g.c * g.h * g.w, g.oh * g.ow, g.oc);
    let ul = A * A * g.o4 * g.c4;
    let mut partial_du = vec![0.0f32; if want_dw { nt * ul } else { 0 }];
    let mut partial_db = vec![0.0f64; if want_db { nt * oc } else { 0 }];
    let (pdu, pdb) = (SharedMut(partial_du.as_mut_ptr()), SharedMut(partial_db.as_mut_ptr()));
    // With `y`: each task's masked dy, `per` samples at a time.
    let mut masked = vec![0.0f32; if y.is_some() { nt * per * oc * ohw } else { 0 }];
    let mp = SharedMut(masked.as_mut_ptr());
    parallel::for_each_task(nt, |task| {
        let (a0, a1) = chunks[task];
        for n0 in (a0..a1).step_by(per) {
            let n1 = (n0 + per).min(a1);
            let nb = n1 - n0;
            let first = n0 == a0;
            let tc = nb * g.tps;
            let t0 = n0 * g.tps;
            // SAFETY: task `task` owns its part of `masked`.
            let dys = unsafe { dy_span(y, dy, n0 * oc * ohw, n1 * oc * ohw, mp, task * per * oc * ohw) };
            if want_db {
                // SAFETY: task `task` owns its partials.
                let acc = unsafe { pdb.slice(task * oc, oc) };
                for s in 0..nb {
                    for (o, a) in acc.iter_mut().enumerate() {
                        *a += sum_f64(&dys[(s * oc + o) * ohw..(s * oc + o + 1) * ohw]);
                    }
                }
            }
            if !want_dw && dxp.is_none() {
                continue;
            }
            SCRATCH.with(|cell| {
                let mut guard = cell.borrow_mut();
                let (xb, mb, vb) = &mut *guard;
                let (yh, yw) = (g.th * M, g.tw * M);
                let dyb = grow(xb, nb * g.o4 * yh * yw);
                dyb.fill(0.0);
                to_blocked(dys, nb, oc, g.oh, g.ow, dyb, yh, yw, 0, 0);
                let dm = grow(mb, A * A * tc * g.o4);
                transform_output_grad::<W, A, M>(&g, dyb, nb, dm);
                if want_dw {
                    let du = unsafe { pdu.slice(task * ul, ul) };
                    for xi in 0..A * A {
                        let vx = &saved[xi * vstride + t0 * g.c4..xi * vstride + (t0 + tc) * g.c4];
                        let dmx = &dm[xi * tc * g.o4..(xi + 1) * tc * g.o4];
                        sgemm(true, false, g.o4, g.c4, tc, 1.0, dmx, g.o4, vx, g.c4, if first { 0.0 } else { 1.0 }, &mut du[xi * g.o4 * g.c4..(xi + 1) * g.o4 * g.c4], g.c4);
                    }
                }
                if let Some(xp) = dxp {
                    let dv = grow(vb, A * A * tc * g.c4);
                    for xi in 0..A * A {
                        let dmx = &dm[xi * tc * g.o4..(xi + 1) * tc * g.o4];
                        let ux = &u[xi * g.o4 * g.c4..(xi + 1) * g.o4 * g.c4];
                        sgemm(false, false, tc, g.c4, g.o4, 1.0, dmx, g.o4, ux, g.c4, 0.0, &mut dv[xi * tc * g.c4..(xi + 1) * tc * g.c4], g.c4);
                    }
                    let dxb = grow(xb, nb * g.plane_block());
                    dxb.fill(0.0);
                    transform_input_grad::<W, A, M>(&g, dv, nb, dxb);
                    // SAFETY: samples n0..n1 of dx belong to this task.
                    let dxs = unsafe { xp.slice(n0 * chw, nb * chw) };
                    from_blocked(dxb, nb, g.c, g.h, g.w, g.hp, g.wp, g.ph, g.pw, dxs);
                }
            });
        }
    });
    finish_db(db, &partial_db, nt, oc);
    if let Some((dw, beta)) = dw {
        let mut du = vec![0.0f32; ul];
        for t in 0..nt {
            for (d, p) in du.iter_mut().zip(&partial_du[t * ul..(t + 1) * ul]) {
                *d += *p;
            }
        }
        for o in 0..g.oc {
            for ci in 0..g.c {
                let t: [[f32; A]; A] = std::array::from_fn(|p| std::array::from_fn(|q| du[((p * A + q) * g.o4 + o) * g.c4 + ci]));
                let k = tile::kernel_adjoint(&W::MATS, &t);
                let dst = &mut dw[(o * g.c + ci) * 9..(o * g.c + ci + 1) * 9];
                for (d, v) in dst.iter_mut().zip(k) {
                    *d = if beta == 0.0 { v } else { beta * *d + v };
                }
            }
        }
    }
}

/// `dM = A dY Aᵀ` for every tile of the task's output gradient, channel-blocked in `dyb`
/// (`nb × [o4/4][th·m][tw·m][4]`, zero past the edges), into `dm` (`[ξ][tc][o4]`).
fn transform_output_grad<W: Wino<A, M>, const A: usize, const M: usize>(g: &Geo, dyb: &[f32], nb: usize, dm: &mut [f32]) {
    let tc = nb * g.tps;
    let blk = tc * g.o4;
    let (yh, yw) = (g.th * M, g.tw * M);
    assert!(dm.len() >= A * A * blk && dyb.len() >= nb * g.o4 * yh * yw);
    for s in 0..nb {
        for ob in 0..g.o4 / 4 {
            let plane = (s * g.o4 / 4 + ob) * yh * yw * 4;
            for ty in 0..g.th {
                for tx in 0..g.tw {
                    let o = (s * g.tps + ty * g.tw + tx) * g.o4 + ob * 4;
                    // SAFETY: inside both buffers (extents asserted above).
                    unsafe {
                        let d: [[F4; M]; M] = std::array::from_fn(|i| {
                            std::array::from_fn(|j| F4::load(dyb.as_ptr().add(plane + ((ty * M + i) * yw + tx * M + j) * 4)))
                        });
                        let mt = tile::output_adjoint::<W, A, M>(&d);
                        for (xi, val) in mt.iter().flatten().enumerate() {
                            val.store(dm.as_mut_ptr().add(xi * blk + o));
                        }
                    }
                }
            }
        }
    }
}

/// `dd = B dV Bᵀ` for every tile, added into the blocked, bordered `dxb` (zeroed by the
/// caller).
fn transform_input_grad<W: Wino<A, M>, const A: usize, const M: usize>(g: &Geo, dv: &[f32], nb: usize, dxb: &mut [f32]) {
    let tc = nb * g.tps;
    let blk = tc * g.c4;
    let (pb, lp) = (g.plane_block(), g.hp * g.wp * 4);
    assert!(dv.len() >= A * A * blk && dxb.len() >= nb * pb);
    for s in 0..nb {
        for cb in 0..g.c4 / 4 {
            let plane = &mut dxb[s * pb + cb * lp..s * pb + (cb + 1) * lp];
            for ty in 0..g.th {
                for tx in 0..g.tw {
                    let t = s * g.tps + ty * g.tw + tx;
                    let o = t * g.c4 + cb * 4;
                    let vt: [[F4; A]; A] = std::array::from_fn(|i| {
                        std::array::from_fn(|j| {
                            // SAFETY: o + 4 <= blk, and dv holds A·A blocks (asserted above).
                            unsafe { F4::load(dv.as_ptr().add((i * A + j) * blk + o)) }
                        })
                    });
                    let dd = tile::input_adjoint::<W, A, M>(&vt);
                    let at = (ty * M * g.wp + tx * M) * 4;
                    for (i, row) in dd.iter().enumerate() {
                        for (j, val) in row.iter().enumerate() {
                            // SAFETY: the tile lies inside the bordered plane.
                            unsafe {
                                let q = plane.as_mut_ptr().add(at + (i * g.wp + j) * 4);
                                F4::load(q).add(*val).store(q);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::rand_vec;
    use super::super::{conv2d_backward_ref, conv2d_forward_ref};
    use super::*;

    /// Largest |a - b| / (1 + |b|).
    fn err(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs() / (1.0 + y.abs())).fold(0.0, f32::max)
    }

    /// Both tile sizes against the direct loops: forward with bias, backward with dw
    /// accumulated onto 0.5 (beta 1), db overwritten, dx.
    fn check(s: ConvShape, seed: &mut u64) {
        let x = rand_vec(s.x_len(), seed);
        let w = rand_vec(s.w_len(), seed);
        let b = rand_vec(s.oc, seed);
        let dy = rand_vec(s.y_len(), seed);
        let mut yr = vec![0.0; s.y_len()];
        conv2d_forward_ref(&s, &x, &w, Some(&b), &mut yr);
        let (mut dxr, mut dwr, mut dbr) = (vec![0.0; s.x_len()], vec![0.0; s.w_len()], vec![0.0; s.oc]);
        conv2d_backward_ref(&s, &x, &w, &dy, &mut dxr, &mut dwr, &mut dbr);
        dwr.iter_mut().for_each(|v| *v += 0.5);
        fn run<W: Wino<A, M>, const A: usize, const M: usize>(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], dy: &[f32]) -> [Vec<f32>; 4] {
            let g = Geo::new::<A, M>(s);
            let mut saved = vec![f32::NAN; A * A * s.n * g.tps * g.c4];
            let mut y = vec![f32::NAN; s.y_len()];
            forward_impl::<W, A, M>(s, x, w, Some(b), false, &mut y, &mut saved);
            let (mut dx, mut dw, mut db) = (vec![f32::NAN; s.x_len()], vec![0.5; s.w_len()], vec![f32::NAN; s.oc]);
            backward_impl::<W, A, M>(s, &saved, w, None, dy, Some((&mut dw, 1.0)), Some((&mut db, 0.0)), Some(&mut dx));
            [y, dx, dw, db]
        }
        // Error bounds: F(2×2) stays within plain float32 reordering; F(4×4)'s transforms
        // (coefficients up to 8 and 1/24) cost about an order of magnitude more.
        for (m, got, tol) in [(2, run::<W2, 4, 2>(&s, &x, &w, &b, &dy), 2e-5f32), (4, run::<W4, 6, 4>(&s, &x, &w, &b, &dy), 2e-4)] {
            let scale = (s.c * 9) as f32 / 72.0;
            let e = [err(&got[0], &yr), err(&got[1], &dxr), err(&got[2], &dwr), err(&got[3], &dbr)];
            let lim = [tol * scale.max(1.0), tol * (s.oc as f32 / 8.0).max(1.0), tol * (s.n * s.ohw()) as f32 / 64.0, 1e-5];
            for k in 0..4 {
                assert!(e[k] <= lim[k], "F({m}x{m}) {:?}: {} error {} > {}", s, ["y", "dx", "dw", "db"][k], e[k], lim[k]);
            }
        }
    }

    #[test]
    fn both_tile_sizes_match_the_direct_loops() {
        let p = ConvShape::plain;
        let mut seed = 23u64;
        let shapes = [
            p(2, 8, 7, 6, 8, 3, 3, 1, 1, 0, 0),
            p(2, 8, 7, 6, 8, 3, 3, 1, 1, 1, 1),
            // odd sizes, channels not multiples of 4, batch 1
            p(1, 9, 11, 13, 10, 3, 3, 1, 1, 1, 1),
            p(3, 13, 5, 9, 11, 3, 3, 1, 1, 0, 0),
            p(2, 8, 3, 3, 9, 3, 3, 1, 1, 0, 0),
            p(2, 8, 1, 2, 8, 3, 3, 1, 1, 1, 1),
            // the benchmark's second layer, smaller batch
            p(4, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0),
            // padding 2, asymmetric ('same'-like) padding
            p(2, 8, 6, 7, 8, 3, 3, 1, 1, 2, 2),
            ConvShape { ph_end: 0, pw_end: 2, ..p(2, 8, 6, 7, 12, 3, 3, 1, 1, 1, 1) },
            // many samples: several tasks on threads
            p(16, 8, 10, 10, 8, 3, 3, 1, 1, 1, 1),
        ];
        for s in shapes {
            assert!(applies(&s), "{s:?}");
            check(s, &mut seed);
        }
    }

    #[test]
    fn other_convolutions_do_not_take_this_path() {
        let p = ConvShape::plain;
        assert!(!applies(&p(2, 8, 7, 7, 8, 3, 3, 2, 2, 1, 1)));
        assert!(!applies(&p(2, 8, 7, 7, 8, 5, 5, 1, 1, 1, 1)));
        assert!(!applies(&p(2, 4, 7, 7, 8, 3, 3, 1, 1, 1, 1)));
        assert!(!applies(&ConvShape { dh: 2, dw: 2, ..p(2, 8, 9, 9, 8, 3, 3, 1, 1, 0, 0) }));
        assert!(!applies(&ConvShape { groups: 2, ..p(2, 8, 9, 9, 8, 3, 3, 1, 1, 0, 0) }));
        assert!(!applies(&ConvShape { mode: PadMode::Reflect, ..p(2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1) }));
        assert!(applies(&ConvShape { mode: PadMode::Reflect, ..p(2, 8, 9, 9, 8, 3, 3, 1, 1, 0, 0) }));
    }
}
