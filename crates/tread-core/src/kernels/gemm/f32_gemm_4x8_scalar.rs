//! Portable f32 GEMM microkernel, 4x8 register tile (native builds and the reference for
//! the tile contract). Plain Rust over fixed-size arrays; LLVM vectorises it on x86_64.

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
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    let mut acc = [[0.0f32; NR]; MR];
    let a = std::slice::from_raw_parts(a, kc * MR);
    let b = std::slice::from_raw_parts(b, kc * NR);
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for i in 0..MR {
            let ai = ap[i];
            for j in 0..NR {
                acc[i][j] += ai * bp[j];
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        let cr = c.add(i * ldc);
        for (j, &v) in row.iter().enumerate() {
            let o = cr.add(j);
            *o = if beta == 0.0 { alpha * v } else { alpha * v + beta * *o };
        }
    }
}
