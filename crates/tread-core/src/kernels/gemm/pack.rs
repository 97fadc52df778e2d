//! Packing of A and B into the panel layouts the microkernels read.
//!
//! All four transpose forms of `op(A)·op(B)` are handled here: after packing, the
//! microkernel sees the same layout whatever the source strides were, so every form runs
//! at the same speed.
//!
//! * A block (`mc × kc` of `op(A)`) becomes `ceil(mc/MR)` panels; panel `r` holds, for each
//!   `p` in `0..kc`, the `MR` values `op(A)[r*MR + 0..MR][p]` side by side. Rows past `mc`
//!   are zero.
//! * B block (`kc × nc` of `op(B)`) becomes `ceil(nc/NR)` panels; panel `s` holds, for each
//!   `p`, the `NR` values `op(B)[p][s*NR + 0..NR]`. Columns past `nc` are zero.

use super::{MR, NR};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::f32_interleave4_wasmsimd::interleave4;

/// `dst[p*ld + r] = src[r][p]` for `p < kc`, `r < 4`: the portable twin of
/// `f32_interleave4_wasmsimd::interleave4` (native builds, and the reference it must match).
///
/// # Safety
/// Each `src[r]` is readable for `kc` values; `dst` is writable at every `p*ld + r`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
unsafe fn interleave4(src: [*const f32; 4], kc: usize, dst: *mut f32, ld: usize) {
    for p in 0..kc {
        for (r, s) in src.iter().enumerate() {
            *dst.add(p * ld + r) = *s.add(p);
        }
    }
}

// The transposing packs below interleave streams four at a time.
const _: () = assert!(MR == 4 && NR % 4 == 0);

/// Packs rows `i0..i0+mc`, depth `p0..p0+kc` of `op(A)` into `dst`
/// (`dst.len() >= ceil(mc/MR)*MR*kc`).
///
/// # Safety
/// `a` must be valid for every element of the block: element `(i, p)` of `op(A)` is
/// `a[i*lda + p]` when `!trans`, else `a[p*lda + i]`.
#[inline]
pub unsafe fn pack_a(
    trans: bool,
    a: *const f32,
    lda: usize,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    dst: &mut [f32],
) {
    let panels = mc.div_ceil(MR);
    debug_assert!(dst.len() >= panels * MR * kc);
    let d = dst.as_mut_ptr();
    if trans {
        // op(A)[i][p] = a[p*lda + i]: row p of the stored A holds the block's values
        // contiguously. Panels go in groups spanning one 64-byte line of a row, and each group
        // walks p: every source line is read once, whole, and each panel is written front to
        // back. (Panel by panel, MR values from each of kc rows `lda` apart, re-reads every
        // line GROUP times after power-of-two strides have evicted it; p outermost instead
        // writes all panels at once, `kc*MR` floats apart, and thrashes on the stores.)
        const GROUP: usize = 16 / MR;
        let mut r0 = 0;
        while r0 < panels {
            let group = GROUP.min(panels - r0);
            for p in 0..kc {
                let s = a.add((p0 + p) * lda + i0);
                for r in r0..r0 + group {
                    let o = d.add(r * MR * kc + p * MR);
                    let rows = (mc - r * MR).min(MR);
                    if rows == MR {
                        std::ptr::copy_nonoverlapping(s.add(r * MR), o, MR);
                    } else {
                        for ii in 0..MR {
                            *o.add(ii) = if ii < rows { *s.add(r * MR + ii) } else { 0.0 };
                        }
                    }
                }
            }
            r0 += group;
        }
        return;
    }
    for r in 0..panels {
        let rows = (mc - r * MR).min(MR);
        let pd = d.add(r * MR * kc);
        let ib = i0 + r * MR;
        // Rows of A are contiguous in p: read MR = 4 row streams, interleave them.
        if rows == MR {
            let src = [0, 1, 2, 3].map(|ii| a.add((ib + ii) * lda + p0));
            interleave4(src, kc, pd, MR);
        } else {
            for p in 0..kc {
                for ii in 0..MR {
                    *pd.add(p * MR + ii) =
                        if ii < rows { *a.add((ib + ii) * lda + p0 + p) } else { 0.0 };
                }
            }
        }
    }
}

/// Packs depth `p0..p0+kc`, columns `j0..j0+nc` of `op(B)` into `dst`
/// (`dst.len() >= ceil(nc/NR)*NR*kc`).
///
/// # Safety
/// `b` must be valid for every element of the block: element `(p, j)` of `op(B)` is
/// `b[p*ldb + j]` when `!trans`, else `b[j*ldb + p]`.
#[inline]
pub unsafe fn pack_b(
    trans: bool,
    b: *const f32,
    ldb: usize,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    dst: &mut [f32],
) {
    let panels = nc.div_ceil(NR);
    debug_assert!(dst.len() >= panels * NR * kc);
    let d = dst.as_mut_ptr();
    for s in 0..panels {
        let cols = (nc - s * NR).min(NR);
        let pd = d.add(s * NR * kc);
        let jb = j0 + s * NR;
        if !trans {
            // Rows of B are contiguous in j: NR contiguous values per p.
            for p in 0..kc {
                let src = b.add((p0 + p) * ldb + jb);
                let o = pd.add(p * NR);
                if cols == NR {
                    std::ptr::copy_nonoverlapping(src, o, NR);
                } else {
                    for jj in 0..NR {
                        *o.add(jj) = if jj < cols { *src.add(jj) } else { 0.0 };
                    }
                }
            }
        } else if cols == NR {
            // op(B)[p][j] = b[j*ldb + p]: NR column streams, interleaved four at a time.
            for g in (0..NR).step_by(4) {
                let src = [0, 1, 2, 3].map(|jj| b.add((jb + g + jj) * ldb + p0));
                interleave4(src, kc, pd.add(g), NR);
            }
        } else {
            for p in 0..kc {
                for jj in 0..NR {
                    *pd.add(p * NR + jj) =
                        if jj < cols { *b.add((jb + jj) * ldb + p0 + p) } else { 0.0 };
                }
            }
        }
    }
}
