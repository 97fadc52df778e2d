//! General pooling windows (any kernel, stride, padding, dilation), four outputs of a row at a
//! time, for the outputs whose windows lie wholly inside the plane (`interior`); `pool.rs`
//! does the border outputs with its per-output loops, and everything off wasm.
//!
//! Why: those loops cost ~7 ns a tap for max pooling (a compare that branches, mispredicted
//! on real data half the time, and bounds checks); MaxPool2d(3, stride 1, padding 1) on a
//! `[64, 32, 28, 28]` batch took ~100 ms, 15x its memory traffic. Here the taps are walked in
//! the same order (rows, then columns) with vector compares and selects, so every output and
//! index is the per-output loop's, ties and NaNs included: the first maximum wins, a NaN wins
//! over anything after it. Averages add the taps in the same order from 0.0 and divide by the
//! same divisor: the same bits.
//!
//! Strides: 1 reads four adjacent values with one load, 2 with two loads and a shuffle, others
//! gather four scalars.

use super::pool::PoolShape;
use core::arch::wasm32::*;

/// The values at `q`, `q + s`, `q + 2s`, `q + 3s` (`S` = 1 or 2: the stride known when
/// compiled; 0: `s` at run time). Reads nothing past `q + 3s`.
#[inline(always)]
unsafe fn load4<const S: usize>(q: *const f32, s: usize) -> v128 {
    match S {
        1 => v128_load(q as *const v128),
        2 => {
            let a = v128_load(q as *const v128); // q0 q1 q2 q3
            let b = v128_load(q.add(3) as *const v128); // q3 q4 q5 q6
            i32x4_shuffle::<0, 2, 5, 7>(a, b)
        }
        _ => f32x4(*q, *q.add(s), *q.add(2 * s), *q.add(3 * s)),
    }
}

/// Max pooling outputs `ox0..` of output row `oy` (taps rows `y0..y1`), four at a time while
/// all four are below `ox1`; returns the first output not done.
///
/// # Safety
/// `xq` is the plane (`s.h × s.w`); outputs `ox0..ox1` are interior along x; `y` and `idx`
/// are the output row.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn max_run<const S: usize>(s: &PoolShape, xq: *const f32, y0: usize, y1: usize, ox0: usize, ox1: usize, y: *mut f32, idx: *mut i32) -> usize {
    let sw = s.sw;
    let offs = i32x4(0, sw as i32, 2 * sw as i32, 3 * sw as i32);
    let mut ox = ox0;
    while ox + 4 <= ox1 {
        let c0 = ox * sw - s.pw;
        let mut best = f32x4_splat(f32::NEG_INFINITY);
        // The first tap, as the per-output loop starts (kept if every tap is -inf).
        let mut bi = i32x4_add(i32x4_splat((y0 * s.w + c0) as i32), offs);
        for iy in (y0..y1).step_by(s.dh) {
            for tx in 0..s.kw {
                let at = iy * s.w + c0 + tx * s.dw;
                let v = load4::<S>(xq.add(at), sw);
                let take = v128_or(f32x4_gt(v, best), f32x4_ne(v, v));
                best = v128_bitselect(v, best, take);
                bi = v128_bitselect(i32x4_add(i32x4_splat(at as i32), offs), bi, take);
            }
        }
        v128_store(y.add(ox) as *mut v128, best);
        v128_store(idx.add(ox) as *mut v128, bi);
        ox += 4;
    }
    ox
}

/// [`max_run`] with the stride picked once.
///
/// # Safety
/// As [`max_run`].
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn max_interior(s: &PoolShape, xq: *const f32, y0: usize, y1: usize, ox0: usize, ox1: usize, y: *mut f32, idx: *mut i32) -> usize {
    match s.sw {
        1 => max_run::<1>(s, xq, y0, y1, ox0, ox1, y, idx),
        2 => max_run::<2>(s, xq, y0, y1, ox0, ox1, y, idx),
        _ => max_run::<0>(s, xq, y0, y1, ox0, ox1, y, idx),
    }
}

/// Average pooling outputs `ox0..` of an output row (taps rows `y0..y1`, every output's
/// divisor `div`), four at a time while all four are below `ox1`; returns the first output
/// not done.
///
/// # Safety
/// As [`max_run`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn avg_run<const S: usize>(s: &PoolShape, xq: *const f32, y0: usize, y1: usize, ox0: usize, ox1: usize, div: f32, y: *mut f32) -> usize {
    let sw = s.sw;
    let vdiv = f32x4_splat(div);
    let mut ox = ox0;
    while ox + 4 <= ox1 {
        let c0 = ox * sw - s.pw;
        let mut acc = f32x4_splat(0.0);
        for iy in y0..y1 {
            for tx in 0..s.kw {
                acc = f32x4_add(acc, load4::<S>(xq.add(iy * s.w + c0 + tx), sw));
            }
        }
        v128_store(y.add(ox) as *mut v128, f32x4_div(acc, vdiv));
        ox += 4;
    }
    ox
}

/// [`avg_run`] with the stride picked once.
///
/// # Safety
/// As [`max_run`].
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn avg_interior(s: &PoolShape, xq: *const f32, y0: usize, y1: usize, ox0: usize, ox1: usize, div: f32, y: *mut f32) -> usize {
    match s.sw {
        1 => avg_run::<1>(s, xq, y0, y1, ox0, ox1, div, y),
        2 => avg_run::<2>(s, xq, y0, y1, ox0, ox1, div, y),
        _ => avg_run::<0>(s, xq, y0, y1, ox0, ox1, div, y),
    }
}
