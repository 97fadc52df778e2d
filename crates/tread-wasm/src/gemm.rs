//! SGEMM exports: thin wrappers over `tread_core::kernels::gemm` (row-major,
//! `C = alpha·op(A)·op(B) + beta·C`, and `sgemm_ep` with a bias/ReLU epilogue; the fused
//! Linear + ReLU is in nn.rs). Pointers are byte offsets of f32 arrays in linear memory,
//! 0 for an absent bias; flags are 0/1. The slices span exactly what the strides say is
//! read/written.

use tread_core::kernels::gemm;

/// Length of a row-major operand of `rows × cols` with row stride `ld` (0 when empty).
fn span(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * ld + cols
    }
}

unsafe fn slice<'a>(p: usize, len: usize) -> &'a [f32] {
    if len == 0 { &[] } else { std::slice::from_raw_parts(p as *const f32, len) }
}

/// Builds the A, B and C slices of a call and hands them to `f`.
#[allow(clippy::too_many_arguments)]
unsafe fn with_operands(
    trans_a: u32, trans_b: u32, m: usize, n: usize, k: usize,
    a_ptr: usize, lda: usize, b_ptr: usize, ldb: usize, c_ptr: usize, ldc: usize,
    f: impl FnOnce(bool, bool, &[f32], &[f32], &mut [f32]),
) {
    let (ta, tb) = (trans_a != 0, trans_b != 0);
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    let a = slice(a_ptr, span(ar, ac, lda));
    let b = slice(b_ptr, span(br, bc, ldb));
    let clen = span(m, n, ldc);
    let c: &mut [f32] = if clen == 0 { &mut [] } else { std::slice::from_raw_parts_mut(c_ptr as *mut f32, clen) };
    f(ta, tb, a, b, c);
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
    with_operands(trans_a, trans_b, m, n, k, a_ptr, lda, b_ptr, ldb, c_ptr, ldc, |ta, tb, a, b, c| {
        gemm::sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    });
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
    with_operands(trans_a, trans_b, m, n, k, a_ptr, lda, b_ptr, ldb, c_ptr, ldc, |ta, tb, a, b, c| {
        gemm::sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    });
}

/// `tread_sgemm` with an epilogue: `C = act(alpha·op(A)·op(B) + beta·C + col_bias[j] +
/// row_bias[i])`, `act` ReLU when `relu` is 1 (`col_bias` has n values, `row_bias` m; 0: none).
///
/// # Safety
/// As for `tread_sgemm`; the biases, when given, hold n (col) and m (row) floats.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_sgemm_ep(
    trans_a: u32, trans_b: u32, m: usize, n: usize, k: usize, alpha: f32,
    a_ptr: usize, lda: usize, b_ptr: usize, ldb: usize, beta: f32, c_ptr: usize, ldc: usize,
    col_bias: usize, row_bias: usize, relu: u32,
) {
    let ep = epilogue(m, n, col_bias, row_bias, relu);
    with_operands(trans_a, trans_b, m, n, k, a_ptr, lda, b_ptr, ldb, c_ptr, ldc, |ta, tb, a, b, c| {
        gemm::sgemm_ep(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
    });
}

/// The f64 triple-loop reference of `tread_sgemm_ep` (for tests).
///
/// # Safety
/// As for `tread_sgemm_ep`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_sgemm_ep_ref(
    trans_a: u32, trans_b: u32, m: usize, n: usize, k: usize, alpha: f32,
    a_ptr: usize, lda: usize, b_ptr: usize, ldb: usize, beta: f32, c_ptr: usize, ldc: usize,
    col_bias: usize, row_bias: usize, relu: u32,
) {
    let ep = epilogue(m, n, col_bias, row_bias, relu);
    with_operands(trans_a, trans_b, m, n, k, a_ptr, lda, b_ptr, ldb, c_ptr, ldc, |ta, tb, a, b, c| {
        gemm::sgemm_ep_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
    });
}

unsafe fn epilogue<'a>(m: usize, n: usize, col_bias: usize, row_bias: usize, relu: u32) -> gemm::Epilogue<'a> {
    gemm::Epilogue {
        col_bias: (col_bias != 0).then(|| slice(col_bias, n)),
        row_bias: (row_bias != 0).then(|| slice(row_bias, m)),
        relu: relu != 0,
    }
}

/// The in-cache macro-kernel, `reps` times (`gemm::macro_kernel_probe`): the ceiling bench:gemm
/// reports tread's rate against. Returns an element of C.
#[no_mangle]
pub extern "C" fn tread_gemm_probe(reps: usize) -> f32 {
    gemm::macro_kernel_probe(reps)
}

/// Floating-point operations of one repetition of `tread_gemm_probe`.
#[no_mangle]
pub extern "C" fn tread_gemm_probe_flops() -> usize {
    gemm::PROBE_FLOPS
}

