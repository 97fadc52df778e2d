//! f32 depthwise-convolution plane kernels for WebAssembly SIMD128, column stride 1 or 2
//! (any row stride and dilation). Same contract as `f32_dwconv_scalar.rs`, which takes the
//! other column strides.
//!
//! Four neighbouring outputs of a row are one f32x4: at column stride 1 they read four
//! neighbouring inputs through every tap (one unaligned load), at stride 2 the even lanes
//! of eight (two loads and a shuffle). `correlate` keeps a block of up to 4 vectors (16
//! outputs) in registers across all taps and stores it once; 4 independent add chains hide
//! the add latency (no FMA: relaxed SIMD is not on by default in Node 20). `dot_taps` loads
//! each `dy` vector once for up to 8 taps of a kernel row. `scatter` adds along rows (at
//! stride 2 the products interleaved with zeros). Ragged row ends take smaller blocks, then
//! scalars.
//!
//! At stride 2 a block reads (or, in `scatter`, adds 0 to) one float past the last one it
//! needs; blocks run only while that float is inside the slice, the rest as scalars.

use super::depthwise::Taps;
use core::arch::wasm32::*;

/// Inputs `ox·SW ..` of four outputs: `p` points at the first.
#[inline(always)]
unsafe fn load_strided<const SW: usize>(p: *const f32) -> v128 {
    if SW == 1 {
        v128_load(p as *const v128)
    } else {
        let (a, b) = (v128_load(p as *const v128), v128_load(p.add(4) as *const v128));
        i32x4_shuffle::<0, 2, 4, 6>(a, b)
    }
}

/// How many outputs of a row, from the start, blocks may cover: `(end-1)·SW + SW-1`, the
/// last float a block ending at `end` touches (relative to the row's first tap, at the
/// row's last tap), must be at most `room`.
#[inline(always)]
fn block_limit<const SW: usize>(ow: usize, room: usize) -> usize {
    // (end - 1)·SW + SW - 1 <= room  <=>  end <= (room + 1) / SW
    ow.min((room + 1) / SW)
}

/// Outputs `ox..ox + 4·V` of one row: `out += Σ taps`; `irow` is the row's input at `ox·SW`.
///
/// # Safety
/// The caller checked the extents (see [`correlate`]).
#[inline(always)]
unsafe fn correlate_block<const V: usize, const SW: usize>(t: &Taps, irow: *const f32, ldi: usize, orow: *mut f32, k: *const f32) {
    let mut acc = [f32x4_splat(0.0); V];
    for (v, a) in acc.iter_mut().enumerate() {
        *a = v128_load(orow.add(4 * v) as *const v128);
    }
    for ki in 0..t.kh {
        let r = irow.add(ki * t.dh * ldi);
        let kr = k.add(ki * t.kw);
        for kj in 0..t.kw {
            let wv = v128_load32_splat(kr.add(kj) as *const u32);
            let p = r.add(kj * t.dw);
            for (v, a) in acc.iter_mut().enumerate() {
                *a = f32x4_add(*a, f32x4_mul(wv, load_strided::<SW>(p.add(4 * SW * v))));
            }
        }
    }
    for (v, a) in acc.iter().enumerate() {
        v128_store(orow.add(4 * v) as *mut v128, *a);
    }
}

/// `out[oy·ldo + ox] += Σ_{ki,kj} k[ki·kw + kj] · inp[(oy·sh + ki·dh)·ldi + ox·sw + kj·dw]`.
#[allow(clippy::too_many_arguments)]
pub fn correlate(t: &Taps, inp: &[f32], ldi: usize, out: &mut [f32], ldo: usize, oh: usize, ow: usize, k: &[f32]) {
    match t.sw {
        1 => correlate_sw::<1>(t, inp, ldi, out, ldo, oh, ow, k),
        2 => correlate_sw::<2>(t, inp, ldi, out, ldo, oh, ow, k),
        _ => super::f32_dwconv_scalar::correlate(t, inp, ldi, out, ldo, oh, ow, k),
    }
}

#[allow(clippy::too_many_arguments)]
fn correlate_sw<const SW: usize>(t: &Taps, inp: &[f32], ldi: usize, out: &mut [f32], ldo: usize, oh: usize, ow: usize, k: &[f32]) {
    if oh == 0 || ow == 0 {
        return;
    }
    // Every needed load stays within these extents (the last tap of the last output).
    let reach = |oy: usize| (oy * t.sh + (t.kh - 1) * t.dh) * ldi + (t.kw - 1) * t.dw;
    assert!(inp.len() > reach(oh - 1) + (ow - 1) * SW, "dwconv: input plane too short");
    assert!(out.len() >= (oh - 1) * ldo + ow && k.len() >= t.kh * t.kw, "dwconv: output plane or weights too short");
    let (ip, op, kp) = (inp.as_ptr(), out.as_mut_ptr(), k.as_ptr());
    for oy in 0..oh {
        let lim = block_limit::<SW>(ow, inp.len() - 1 - reach(oy));
        // SAFETY: blocks end by `lim`, inside the slice (`block_limit`); scalars inside `ow`.
        unsafe { correlate_row::<SW>(t, ip.add(oy * t.sh * ldi), ldi, op.add(oy * ldo), ow, lim, kp) };
    }
}

/// One output row of [`correlate`]: blocks up to `lim`, then scalars up to `ow`.
///
/// A function per row and stride, like `dot_row` (where inlining every variant into one
/// function made V8's code 2x slower; here it measured the same either way).
///
/// # Safety
/// As in [`correlate_sw`].
#[inline(never)]
unsafe fn correlate_row<const SW: usize>(t: &Taps, irow: *const f32, ldi: usize, orow: *mut f32, ow: usize, lim: usize, kp: *const f32) {
    let mut ox = 0;
    while ox + 16 <= lim {
        correlate_block::<4, SW>(t, irow.add(ox * SW), ldi, orow.add(ox), kp);
        ox += 16;
    }
    if ox + 8 <= lim {
        correlate_block::<2, SW>(t, irow.add(ox * SW), ldi, orow.add(ox), kp);
        ox += 8;
    }
    if ox + 4 <= lim {
        correlate_block::<1, SW>(t, irow.add(ox * SW), ldi, orow.add(ox), kp);
        ox += 4;
    }
    while ox < ow {
        let mut s = *orow.add(ox);
        for ki in 0..t.kh {
            for kj in 0..t.kw {
                s += *kp.add(ki * t.kw + kj) * *irow.add(ki * t.dh * ldi + ox * SW + kj * t.dw);
            }
        }
        *orow.add(ox) = s;
        ox += 1;
    }
}

/// `acc[q] += Σ_{oy,ox} g[oy·ldg + ox] · irow[oy·sh·ldi + ox·SW + q·dw]` for `q < N`: `N`
/// neighbouring taps of one kernel row at once, so each load of `g` serves `N` taps.
/// `room`: floats in the slice after the furthest tap's input for the first output of the
/// last row (see [`block_limit`]; a row above has `sh·ldi` more).
///
/// Not inlined, one function per `N` and `SW`: with all 16 inlined into `dot_taps_sw`,
/// V8 ran the weight gradient of a 3x3 depthwise layer 2x slower (1.6 vs 0.83 ms).
///
/// # Safety
/// The caller checked the extents (see [`dot_taps`]).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn dot_row<const N: usize, const SW: usize>(irow: *const f32, ldi: usize, sh: usize, dw: usize, g: *const f32, ldg: usize, oh: usize, ow: usize, room: usize, acc: &mut [f32]) {
    let mut vs = [f32x4_splat(0.0); N];
    let mut tails = [0.0f32; N];
    for oy in 0..oh {
        let lim = if SW == 1 { ow } else { block_limit::<SW>(ow, room + (oh - 1 - oy) * sh * ldi) };
        let gr = g.add(oy * ldg);
        let ir = irow.add(oy * sh * ldi);
        let mut ox = 0;
        while ox + 4 <= lim {
            let gv = v128_load(gr.add(ox) as *const v128);
            for (q, v) in vs.iter_mut().enumerate() {
                *v = f32x4_add(*v, f32x4_mul(gv, load_strided::<SW>(ir.add(ox * SW + q * dw))));
            }
            ox += 4;
        }
        while ox < ow {
            let gv = *gr.add(ox);
            for (q, tl) in tails.iter_mut().enumerate() {
                *tl += gv * *ir.add(ox * SW + q * dw);
            }
            ox += 1;
        }
    }
    for q in 0..N {
        let v = vs[q];
        let lanes = (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v));
        acc[q] += lanes + tails[q];
    }
}

/// `acc[ki·kw + kj] += Σ_{oy,ox} g[oy·ldg + ox] · inp[(oy·sh + ki·dh)·ldi + ox·sw + kj·dw]`.
#[allow(clippy::too_many_arguments)]
pub fn dot_taps(t: &Taps, inp: &[f32], ldi: usize, g: &[f32], ldg: usize, oh: usize, ow: usize, acc: &mut [f32]) {
    match t.sw {
        1 => dot_taps_sw::<1>(t, inp, ldi, g, ldg, oh, ow, acc),
        2 => dot_taps_sw::<2>(t, inp, ldi, g, ldg, oh, ow, acc),
        _ => super::f32_dwconv_scalar::dot_taps(t, inp, ldi, g, ldg, oh, ow, acc),
    }
}

#[allow(clippy::too_many_arguments)]
fn dot_taps_sw<const SW: usize>(t: &Taps, inp: &[f32], ldi: usize, g: &[f32], ldg: usize, oh: usize, ow: usize, acc: &mut [f32]) {
    if oh == 0 || ow == 0 {
        return;
    }
    let reach = |oy: usize| (oy * t.sh + (t.kh - 1) * t.dh) * ldi + (t.kw - 1) * t.dw;
    assert!(inp.len() > reach(oh - 1) + (ow - 1) * SW, "dwconv: input plane too short");
    assert!(g.len() >= (oh - 1) * ldg + ow && acc.len() >= t.kh * t.kw, "dwconv: gradient plane or accumulators too short");
    // Measured from the furthest tap, so the block ends hold for every tap.
    let room = inp.len() - 1 - reach(oh - 1);
    let (ip, gp) = (inp.as_ptr(), g.as_ptr());
    // SAFETY: as in `correlate`, every read is inside the checked extents.
    unsafe {
        for ki in 0..t.kh {
            // Up to 8 taps of the kernel row per pass (8 vector accumulators).
            let mut kj = 0;
            while kj < t.kw {
                let irow = ip.add(ki * t.dh * ldi + kj * t.dw);
                let a = &mut acc[ki * t.kw + kj..];
                let (l, d) = (ldi, t.dw);
                match t.kw - kj {
                    1 => dot_row::<1, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                    2 => dot_row::<2, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                    3 => dot_row::<3, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                    4 => dot_row::<4, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                    5 => dot_row::<5, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                    6 => dot_row::<6, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                    7 => dot_row::<7, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                    _ => dot_row::<8, SW>(irow, l, t.sh, d, gp, ldg, oh, ow, room, a),
                }
                kj += 8;
            }
        }
    }
}

/// `out[(oy·sh + ki·dh)·ldo + ox·sw + kj·dw] += k[ki·kw + kj] · g[oy·ldg + ox]`.
#[allow(clippy::too_many_arguments)]
pub fn scatter(t: &Taps, g: &[f32], ldg: usize, oh: usize, ow: usize, k: &[f32], out: &mut [f32], ldo: usize) {
    match t.sw {
        1 => scatter_sw::<1>(t, g, ldg, oh, ow, k, out, ldo),
        2 => scatter_sw::<2>(t, g, ldg, oh, ow, k, out, ldo),
        _ => super::f32_dwconv_scalar::scatter(t, g, ldg, oh, ow, k, out, ldo),
    }
}

#[allow(clippy::too_many_arguments)]
fn scatter_sw<const SW: usize>(t: &Taps, g: &[f32], ldg: usize, oh: usize, ow: usize, k: &[f32], out: &mut [f32], ldo: usize) {
    if oh == 0 || ow == 0 {
        return;
    }
    let reach = |oy: usize| (oy * t.sh + (t.kh - 1) * t.dh) * ldo + (t.kw - 1) * t.dw;
    assert!(out.len() > reach(oh - 1) + (ow - 1) * SW, "dwconv: gradient plane too short");
    assert!(g.len() >= (oh - 1) * ldg + ow && k.len() >= t.kh * t.kw, "dwconv: dy plane or weights too short");
    let (gp, op) = (g.as_ptr(), out.as_mut_ptr());
    let zero = f32x4_splat(0.0);
    // SAFETY: blocks end by `lim` (inside the slice), scalars inside `ow`.
    unsafe {
        for oy in 0..oh {
            let gr = gp.add(oy * ldg);
            let lim = block_limit::<SW>(ow, out.len() - 1 - reach(oy));
            for ki in 0..t.kh {
                for kj in 0..t.kw {
                    let wv = f32x4_splat(k[ki * t.kw + kj]);
                    let orow = op.add((oy * t.sh + ki * t.dh) * ldo + kj * t.dw);
                    let mut ox = 0;
                    while ox + 4 <= lim {
                        let p = orow.add(ox * SW);
                        let prod = f32x4_mul(wv, v128_load(gr.add(ox) as *const v128));
                        if SW == 1 {
                            v128_store(p as *mut v128, f32x4_add(v128_load(p as *const v128), prod));
                        } else {
                            // [g0, 0, g1, 0] and [g2, 0, g3, 0]: the odd positions get + 0.
                            let lo = i32x4_shuffle::<0, 4, 1, 4>(prod, zero);
                            let hi = i32x4_shuffle::<2, 4, 3, 4>(prod, zero);
                            v128_store(p as *mut v128, f32x4_add(v128_load(p as *const v128), lo));
                            let q = p.add(4);
                            v128_store(q as *mut v128, f32x4_add(v128_load(q as *const v128), hi));
                        }
                        ox += 4;
                    }
                    let wk = k[ki * t.kw + kj];
                    while ox < ow {
                        *orow.add(ox * SW) += wk * *gr.add(ox);
                        ox += 1;
                    }
                }
            }
        }
    }
}
