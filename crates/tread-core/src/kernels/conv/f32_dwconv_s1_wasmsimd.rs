//! f32 depthwise-convolution plane kernels for WebAssembly SIMD128, unit column stride
//! (`sw == 1`; any row stride and dilation). Same contract as `f32_dwconv_scalar.rs`.
//!
//! With `sw == 1` four neighbouring outputs read four neighbouring inputs through every tap,
//! so an output row is computed in f32x4 lanes from unaligned loads of the padded input row.
//! `correlate` keeps a block of up to 4 vectors (16 outputs) in registers across all taps
//! and stores it once; 4 independent add chains hide the add latency (no FMA: relaxed SIMD
//! is not on by default in Node 20). Ragged row ends take 8/4-wide blocks, then scalars.

use super::depthwise::Taps;
use core::arch::wasm32::*;

/// Outputs `ox..ox + 4·V` of one row: `out += Σ taps`.
///
/// # Safety
/// The caller checked the plane extents (see [`correlate`]).
#[inline(always)]
unsafe fn correlate_block<const V: usize>(t: &Taps, irow: *const f32, ldi: usize, orow: *mut f32, k: *const f32) {
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
                *a = f32x4_add(*a, f32x4_mul(wv, v128_load(p.add(4 * v) as *const v128)));
            }
        }
    }
    for (v, a) in acc.iter().enumerate() {
        v128_store(orow.add(4 * v) as *mut v128, *a);
    }
}

/// `out[oy·ldo + ox] += Σ_{ki,kj} k[ki·kw + kj] · inp[(oy·sh + ki·dh)·ldi + ox + kj·dw]`.
#[allow(clippy::too_many_arguments)]
pub fn correlate(t: &Taps, inp: &[f32], ldi: usize, out: &mut [f32], ldo: usize, oh: usize, ow: usize, k: &[f32]) {
    debug_assert_eq!(t.sw, 1);
    if oh == 0 || ow == 0 {
        return;
    }
    // Every load below stays within these extents (the last tap of the last output).
    assert!(inp.len() > ((oh - 1) * t.sh + (t.kh - 1) * t.dh) * ldi + (ow - 1) + (t.kw - 1) * t.dw, "dwconv: input plane too short");
    assert!(out.len() >= (oh - 1) * ldo + ow && k.len() >= t.kh * t.kw, "dwconv: output plane or weights too short");
    let (ip, op, kp) = (inp.as_ptr(), out.as_mut_ptr(), k.as_ptr());
    // SAFETY: blocks never pass `ow`, so every access is inside the extents checked above.
    unsafe {
        for oy in 0..oh {
            let irow = ip.add(oy * t.sh * ldi);
            let orow = op.add(oy * ldo);
            let mut ox = 0;
            while ox + 16 <= ow {
                correlate_block::<4>(t, irow.add(ox), ldi, orow.add(ox), kp);
                ox += 16;
            }
            if ox + 8 <= ow {
                correlate_block::<2>(t, irow.add(ox), ldi, orow.add(ox), kp);
                ox += 8;
            }
            if ox + 4 <= ow {
                correlate_block::<1>(t, irow.add(ox), ldi, orow.add(ox), kp);
                ox += 4;
            }
            while ox < ow {
                let mut s = *orow.add(ox);
                for ki in 0..t.kh {
                    for kj in 0..t.kw {
                        s += *kp.add(ki * t.kw + kj) * *irow.add(ki * t.dh * ldi + ox + kj * t.dw);
                    }
                }
                *orow.add(ox) = s;
                ox += 1;
            }
        }
    }
}

/// `acc[q] += Σ_{oy,ox} g[oy·ldg + ox] · irow[oy·sh·ldi + ox + q·dw]` for `q < N`: `N`
/// neighbouring taps of one kernel row at once, so each load of `g` serves `N` taps.
///
/// # Safety
/// The caller checked the plane extents (see [`dot_taps`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dot_row<const N: usize>(irow: *const f32, ldi: usize, sh: usize, dw: usize, g: *const f32, ldg: usize, oh: usize, ow: usize, acc: &mut [f32]) {
    let mut vs = [f32x4_splat(0.0); N];
    let mut tails = [0.0f32; N];
    for oy in 0..oh {
        let gr = g.add(oy * ldg);
        let ir = irow.add(oy * sh * ldi);
        let mut ox = 0;
        while ox + 4 <= ow {
            let gv = v128_load(gr.add(ox) as *const v128);
            for (q, v) in vs.iter_mut().enumerate() {
                *v = f32x4_add(*v, f32x4_mul(gv, v128_load(ir.add(ox + q * dw) as *const v128)));
            }
            ox += 4;
        }
        while ox < ow {
            let gv = *gr.add(ox);
            for (q, tl) in tails.iter_mut().enumerate() {
                *tl += gv * *ir.add(ox + q * dw);
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

/// `acc[ki·kw + kj] += Σ_{oy,ox} g[oy·ldg + ox] · inp[(oy·sh + ki·dh)·ldi + ox + kj·dw]`.
#[allow(clippy::too_many_arguments)]
pub fn dot_taps(t: &Taps, inp: &[f32], ldi: usize, g: &[f32], ldg: usize, oh: usize, ow: usize, acc: &mut [f32]) {
    debug_assert_eq!(t.sw, 1);
    if oh == 0 || ow == 0 {
        return;
    }
    assert!(inp.len() > ((oh - 1) * t.sh + (t.kh - 1) * t.dh) * ldi + (ow - 1) + (t.kw - 1) * t.dw, "dwconv: input plane too short");
    assert!(g.len() >= (oh - 1) * ldg + ow && acc.len() >= t.kh * t.kw, "dwconv: gradient plane or accumulators too short");
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
                    1 => dot_row::<1>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                    2 => dot_row::<2>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                    3 => dot_row::<3>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                    4 => dot_row::<4>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                    5 => dot_row::<5>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                    6 => dot_row::<6>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                    7 => dot_row::<7>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                    _ => dot_row::<8>(irow, l, t.sh, d, gp, ldg, oh, ow, a),
                }
                kj += 8;
            }
        }
    }
}
