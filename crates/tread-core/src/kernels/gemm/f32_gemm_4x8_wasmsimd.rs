//! f32 GEMM microkernel for WebAssembly SIMD128, 4x8 register tile.
//!
//! 8 f32x4 accumulators (4 rows × 2 vectors of 4 columns). Per step of k: two vector loads
//! of the packed B row, four load-splats of the packed A column, 8 mul + 8 add. No FMA:
//! relaxed SIMD is not on by default in Node 20.

use core::arch::wasm32::*;

pub const MR: usize = 4;
pub const NR: usize = 8;

/// `C[0..MR][0..NR] = alpha * (Apanel · Bpanel) + beta * C` (beta == 0: C is not read).
///
/// # Safety
/// `a` holds `kc*MR` packed values, `b` holds `kc*NR`, and `c` is valid for an `MR×NR`
/// tile with row stride `ldc`.
#[inline]
pub unsafe fn ukernel(
    kc: usize,
    mut a: *const f32,
    mut b: *const f32,
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    let z = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
    let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
    macro_rules! step {
        ($a:expr, $b:expr) => {{
            let b0 = v128_load($b as *const v128);
            let b1 = v128_load($b.add(4) as *const v128);
            let a0 = v128_load32_splat($a as *const u32);
            c00 = f32x4_add(c00, f32x4_mul(a0, b0));
            c01 = f32x4_add(c01, f32x4_mul(a0, b1));
            let a1 = v128_load32_splat($a.add(1) as *const u32);
            c10 = f32x4_add(c10, f32x4_mul(a1, b0));
            c11 = f32x4_add(c11, f32x4_mul(a1, b1));
            let a2 = v128_load32_splat($a.add(2) as *const u32);
            c20 = f32x4_add(c20, f32x4_mul(a2, b0));
            c21 = f32x4_add(c21, f32x4_mul(a2, b1));
            let a3 = v128_load32_splat($a.add(3) as *const u32);
            c30 = f32x4_add(c30, f32x4_mul(a3, b0));
            c31 = f32x4_add(c31, f32x4_mul(a3, b1));
        }};
    }
    for _ in 0..kc {
        step!(a, b);
        a = a.add(MR);
        b = b.add(NR);
    }
    let va = f32x4_splat(alpha);
    let rows = [(c00, c01), (c10, c11), (c20, c21), (c30, c31)];
    if beta == 0.0 {
        for (i, &(x0, x1)) in rows.iter().enumerate() {
            let cr = c.add(i * ldc);
            v128_store(cr as *mut v128, f32x4_mul(va, x0));
            v128_store(cr.add(4) as *mut v128, f32x4_mul(va, x1));
        }
    } else {
        let vb = f32x4_splat(beta);
        for (i, &(x0, x1)) in rows.iter().enumerate() {
            let cr = c.add(i * ldc);
            let o0 = v128_load(cr as *const v128);
            let o1 = v128_load(cr.add(4) as *const v128);
            v128_store(cr as *mut v128, f32x4_add(f32x4_mul(va, x0), f32x4_mul(vb, o0)));
            v128_store(cr.add(4) as *mut v128, f32x4_add(f32x4_mul(va, x1), f32x4_mul(vb, o1)));
        }
    }
}
