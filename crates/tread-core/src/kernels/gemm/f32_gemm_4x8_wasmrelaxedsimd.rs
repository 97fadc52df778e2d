//! f32 GEMM microkernel for WebAssembly relaxed SIMD, 4x8 register tile, FMA.
//!
//! The same tile and packed layout as `f32_gemm_4x8_wasmsimd.rs`, with each mul+add pair
//! replaced by `f32x4_relaxed_madd` (one `vfmadd` on x86 with FMA3; an unfused mul+add where
//! the CPU has no FMA, which is why the tests compare with a tolerance that holds either way).
//!
//! Why 4x8 (measured in one process, alternating rounds, a probe macro-kernel over packed
//! 120x256 A and 256x96 B blocks, Node 24 and Node 20 on the 2-vCPU Zen 4 dev machine): 4x8,
//! 2x16 and 3x12 all reach the same ~51-52 GFLOP/s best round; 5x8, 6x8, 8x8, 4x12 and 3x16
//! fall to 22-33 (V8 has 15 usable xmm registers and spills their accumulators), and
//! unrolling k by 2 or 4 loses (26-39) for the same reason. 4x8 keeps the plain kernel's
//! packing, so both variants share pack.rs.

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
    for _ in 0..kc {
        let b0 = v128_load(b as *const v128);
        let b1 = v128_load(b.add(4) as *const v128);
        let a0 = v128_load32_splat(a as *const u32);
        c00 = f32x4_relaxed_madd(a0, b0, c00);
        c01 = f32x4_relaxed_madd(a0, b1, c01);
        let a1 = v128_load32_splat(a.add(1) as *const u32);
        c10 = f32x4_relaxed_madd(a1, b0, c10);
        c11 = f32x4_relaxed_madd(a1, b1, c11);
        let a2 = v128_load32_splat(a.add(2) as *const u32);
        c20 = f32x4_relaxed_madd(a2, b0, c20);
        c21 = f32x4_relaxed_madd(a2, b1, c21);
        let a3 = v128_load32_splat(a.add(3) as *const u32);
        c30 = f32x4_relaxed_madd(a3, b0, c30);
        c31 = f32x4_relaxed_madd(a3, b1, c31);
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
