//! Packing helper for WebAssembly SIMD128: interleaves four f32 streams with 4x4 transposes.
//!
//! `pack_a` (A not transposed: MR = 4 rows, each contiguous in k) and `pack_b` (B transposed:
//! NR = 8 columns in two groups of 4, each contiguous in k) both turn four streams into
//! `dst[p*ld + r] = src[r][p]`. Element by element that is a scalar load and store per value;
//! here four vector loads, eight shuffles and four vector stores move 16 values. The portable
//! twin is `interleave4` in `pack.rs`.

use core::arch::wasm32::*;

/// `dst[p*ld + r] = src[r][p]` for `p < kc`, `r < 4`.
///
/// # Safety
/// Each `src[r]` is readable for `kc` values; `dst` is writable at every `p*ld + r`.
#[inline]
pub unsafe fn interleave4(src: [*const f32; 4], kc: usize, dst: *mut f32, ld: usize) {
    let [s0, s1, s2, s3] = src;
    let mut p = 0;
    while p + 4 <= kc {
        let v0 = v128_load(s0.add(p) as *const v128); // r0: p..p+4
        let v1 = v128_load(s1.add(p) as *const v128);
        let v2 = v128_load(s2.add(p) as *const v128);
        let v3 = v128_load(s3.add(p) as *const v128);
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(v0, v1); // r0p0 r1p0 r0p1 r1p1
        let t1 = i32x4_shuffle::<2, 6, 3, 7>(v0, v1); // r0p2 r1p2 r0p3 r1p3
        let t2 = i32x4_shuffle::<0, 4, 1, 5>(v2, v3);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(v2, v3);
        let o = dst.add(p * ld);
        v128_store(o as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t0, t2));
        v128_store(o.add(ld) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t0, t2));
        v128_store(o.add(2 * ld) as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t1, t3));
        v128_store(o.add(3 * ld) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t1, t3));
        p += 4;
    }
    while p < kc {
        let o = dst.add(p * ld);
        *o = *s0.add(p);
        *o.add(1) = *s1.add(p);
        *o.add(2) = *s2.add(p);
        *o.add(3) = *s3.add(p);
        p += 1;
    }
}
