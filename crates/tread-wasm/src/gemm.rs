//! SGEMM exports: thin wrappers over `tread_core::kernels::gemm` (row-major,
//! `C = alpha·op(A)·op(B) + beta·C`). Pointers are byte offsets of f32 arrays in linear
//! memory; flags are 0/1. The slices span exactly what the strides say is read/written.

use tread_core::kernels::gemm;

/// Length of a row-major operand of `rows × cols` with row stride `ld` (0 when empty).
fn span(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * ld + cols
    }
}

type GemmFn = fn(bool, bool, usize, usize, usize, f32, &[f32], usize, &[f32], usize, f32, &mut [f32], usize);

#[allow(clippy::too_many_arguments)]
unsafe fn call(
    f: GemmFn,
    trans_a: u32,
    trans_b: u32,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a_ptr: usize,
    lda: usize,
    b_ptr: usize,
    ldb: usize,
    beta: f32,
    c_ptr: usize,
    ldc: usize,
) {
    let (ta, tb) = (trans_a != 0, trans_b != 0);
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    let slice = |p: usize, len: usize| -> &[f32] {
        if len == 0 { &[] } else { std::slice::from_raw_parts(p as *const f32, len) }
    };
    let a = slice(a_ptr, span(ar, ac, lda));
    let b = slice(b_ptr, span(br, bc, ldb));
    let clen = span(m, n, ldc);
    let c: &mut [f32] = if clen == 0 { &mut [] } else { std::slice::from_raw_parts_mut(c_ptr as *mut f32, clen) };
    f(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/// Blocked, packed, SIMD, multi-threaded SGEMM.
///
/// # Safety
/// The pointers must address f32 arrays of the sizes the shapes and strides imply.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_sgemm(
    trans_a: u32, trans_b: u32, m: usize, n: usize, k: usize, alpha: f32,
    a_ptr: usize, lda: usize, b_ptr: usize, ldb: usize, beta: f32, c_ptr: usize, ldc: usize,
) {
    call(gemm::sgemm, trans_a, trans_b, m, n, k, alpha, a_ptr, lda, b_ptr, ldb, beta, c_ptr, ldc);
}

/// The triple-loop reference with the same arguments (for tests).
///
/// # Safety
/// As for `tread_sgemm`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_sgemm_ref(
    trans_a: u32, trans_b: u32, m: usize, n: usize, k: usize, alpha: f32,
    a_ptr: usize, lda: usize, b_ptr: usize, ldb: usize, beta: f32, c_ptr: usize, ldc: usize,
) {
    call(gemm::sgemm_ref, trans_a, trans_b, m, n, k, alpha, a_ptr, lda, b_ptr, ldb, beta, c_ptr, ldc);
}
