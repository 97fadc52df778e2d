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
            for kj in 0..t.kw {
                let off = ki * t.dh * ldi + kj * t.dw;
                let (mut s0, mut s1) = (f32x4_splat(0.0), f32x4_splat(0.0));
                let mut tail = 0.0f32;
                for oy in 0..oh {
                    let gr = gp.add(oy * ldg);
                    let ir = ip.add(oy * t.sh * ldi + off);
                    let mut ox = 0;
                    while ox + 8 <= ow {
                        s0 = f32x4_add(s0, f32x4_mul(v128_load(gr.add(ox) as *const v128), v128_load(ir.add(ox) as *const v128)));
                        s1 = f32x4_add(s1, f32x4_mul(v128_load(gr.add(ox + 4) as *const v128), v128_load(ir.add(ox + 4) as *const v128)));
                        ox += 8;
                    }
                    if ox + 4 <= ow {
                        s0 = f32x4_add(s0, f32x4_mul(v128_load(gr.add(ox) as *const v128), v128_load(ir.add(ox) as *const v128)));
                        ox += 4;
                    }
                    while ox < ow {
                        tail += *gr.add(ox) * *ir.add(ox);
                        ox += 1;
                    }
                }
                let s = f32x4_add(s0, s1);
                let lanes = f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<1>(s) + f32x4_extract_lane::<2>(s) + f32x4_extract_lane::<3>(s);
                acc[ki * t.kw + kj] += lanes + tail;
            }
        }
    }
}
