//! Single-precision GEMM: `C = alpha·op(A)·op(B) + beta·C`, row-major.
//!
//! Layout (after XNNPACK/BLIS): the microkernel file names say type, tile and ISA
//! (`f32_gemm_4x8_wasmsimd.rs` for wasm32+simd128, `f32_gemm_4x8_scalar.rs` elsewhere),
//! `pack.rs` packs A and B into panels (which is where the four transpose forms are
//! absorbed), and this file does the cache blocking and the split over threads.
//!
//! Blocking (GotoBLAS order): for each column block `jc` (NC) and depth block `pc` (KC) a
//! `kc × nc` block of B is packed; for each row block `ic` (MC) an `mc × kc` block of A is
//! packed; then the macro-kernel walks `NR`-wide B micro-panels (kept in L1) against all
//! `MR`-tall A micro-panels of the block (kept in L2).
//!
//! Threads: C is cut into a grid of rectangles, one task each (`parallel::for_each_task`);
//! each task packs its own parts of A and B into thread-local buffers, so tasks share
//! nothing and there is a single join per call.

mod pack;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod f32_gemm_4x8_wasmsimd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use f32_gemm_4x8_wasmsimd as ukr;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod f32_gemm_4x8_scalar;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use f32_gemm_4x8_scalar as ukr;

use crate::parallel::{self, SharedMut};
use std::cell::RefCell;

/// Register tile rows (of C / op(A)).
pub const MR: usize = ukr::MR;
/// Register tile columns (of C / op(B)).
pub const NR: usize = ukr::NR;
/// Depth of a packed block: a B micro-panel is `KC*NR*4` bytes (8 KiB), L1-resident.
const KC: usize = 256;
/// Rows of a packed A block: `MC*KC*4` bytes (128 KiB), L2-resident.
const MC: usize = 32 * MR;
/// Columns of a packed B block: `KC*NC*4` bytes (2 MiB at most).
const NC: usize = 256 * NR;
/// Below this many multiply-adds (m·n·k) a call runs as one task.
const PARALLEL_MIN_MACS: usize = 96 * 96 * 96;
/// Work per task to aim for when cutting C into more tasks than threads.
const TASK_MACS: usize = 1 << 20;
/// At most this many tasks per thread: more tasks balance better when cores run at unequal
/// speed (a core shared with other work; measured on the 2-vCPU dev machine, where one vCPU
/// often gives ~2/3 of the other's throughput), at the cost of packing parts of A and B
/// once per task.
const TASKS_PER_THREAD: usize = 4;

thread_local! {
    static PACK_BUFS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn check_operand(name: &str, len: usize, rows: usize, cols: usize, ld: usize) {
    assert!(ld >= cols.max(1), "sgemm: ld{name} = {ld} is less than {cols}");
    if rows > 0 && cols > 0 {
        let need = (rows - 1) * ld + cols;
        assert!(len >= need, "sgemm: {name} has {len} elements, needs at least {need}");
    }
}

#[allow(clippy::too_many_arguments)]
fn check_args(
    trans_a: bool,
    trans_b: bool,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &[f32],
    ldc: usize,
) {
    let (ar, ac) = if trans_a { (k, m) } else { (m, k) };
    let (br, bc) = if trans_b { (n, k) } else { (k, n) };
    check_operand("a", a.len(), ar, ac, lda);
    check_operand("b", b.len(), br, bc, ldb);
    check_operand("c", c.len(), m, n, ldc);
}

/// `C = beta·C` over the `m × n` window (beta == 0 writes zeros, never reading C).
fn scale_c(m: usize, n: usize, beta: f32, c: &mut [f32], ldc: usize) {
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        if beta == 0.0 {
            row.fill(0.0);
        } else if beta != 1.0 {
            row.iter_mut().for_each(|v| *v *= beta);
        }
    }
}

/// The plain reference: a triple loop, accumulating in f64. Same contract as [`sgemm`].
#[allow(clippy::too_many_arguments)]
pub fn sgemm_ref(
    trans_a: bool,
    trans_b: bool,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    check_args(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                let av = if trans_a { a[p * lda + i] } else { a[i * lda + p] };
                let bv = if trans_b { b[j * ldb + p] } else { b[p * ldb + j] };
                s += av as f64 * bv as f64;
            }
            let o = &mut c[i * ldc + j];
            let r = alpha as f64 * s;
            *o = if beta == 0.0 { r as f32 } else { (r + beta as f64 * *o as f64) as f32 };
        }
    }
}

/// Single-precision matrix product, row-major:
/// `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`, where `op(X)` is `Xᵀ` when the
/// matching `trans_*` flag is set. `lda`, `ldb`, `ldc` are the row strides of A, B and C as
/// stored (A is stored `k×m` when `trans_a`, B `n×k` when `trans_b`). With `beta == 0`
/// the old contents of C are ignored, even NaN. Runs on `parallel::threads()` threads.
///
/// Panics when a stride is too small or a slice too short for the shapes.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    trans_a: bool,
    trans_b: bool,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    check_args(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    let (tm, tn) = task_grid(m, n, k, parallel::threads());
    let rows = parallel::split_range(m, tm, MR);
    let cols = parallel::split_range(n, tn, NR);
    let ncols = cols.len();
    let job = Job { trans_a, trans_b, k, alpha, a: a.as_ptr(), lda, b: b.as_ptr(), ldb, beta, c: SharedMut(c.as_mut_ptr()), ldc };
    parallel::for_each_task(rows.len() * ncols, |t| {
        let (i0, i1) = rows[t / ncols];
        let (j0, j1) = cols[t % ncols];
        // SAFETY: arguments were checked above; tasks write disjoint rectangles of C.
        unsafe { job.run(i0, i1, j0, j1) };
    });
}

/// How to cut C into `tm × tn` rectangles for `threads` threads: a multiple of `threads`
/// tasks (up to `TASKS_PER_THREAD` each, when there is enough work), shaped to keep each
/// task's packing (∝ its rows + its columns) small.
fn task_grid(m: usize, n: usize, k: usize, threads: usize) -> (usize, usize) {
    let macs = m.saturating_mul(n).saturating_mul(k);
    if threads <= 1 || macs < PARALLEL_MIN_MACS {
        return (1, 1);
    }
    let per_thread = (macs / TASK_MACS / threads).clamp(1, TASKS_PER_THREAD);
    let threads = threads * per_thread;
    let mut best = (1, 1);
    let mut best_cost = f64::INFINITY;
    for tm in 1..=threads {
        if threads % tm != 0 {
            continue;
        }
        let tn = threads / tm;
        // Tiles no thinner than one register tile.
        if m.div_ceil(MR) < tm || n.div_ceil(NR) < tn {
            continue;
        }
        let cost = m as f64 / tm as f64 + n as f64 / tn as f64;
        if cost < best_cost {
            best_cost = cost;
            best = (tm, tn);
        }
    }
    if best == (1, 1) {
        // Too thin for a balanced grid: cut along whichever side has room.
        if m.div_ceil(MR) >= n.div_ceil(NR) {
            best = (threads.min(m.div_ceil(MR)), 1);
        } else {
            best = (1, threads.min(n.div_ceil(NR)));
        }
    }
    best
}

/// Balanced block size: `len` cut into pieces of at most `max`, each a multiple of `align`.
fn block(len: usize, max: usize, align: usize) -> usize {
    let pieces = len.div_ceil(max);
    len.div_ceil(pieces).div_ceil(align) * align
}

#[derive(Clone, Copy)]
struct Job {
    trans_a: bool,
    trans_b: bool,
    k: usize,
    alpha: f32,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    beta: f32,
    c: SharedMut<f32>,
    ldc: usize,
}

// SAFETY: A and B are only read; each task writes its own rectangle of C.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Job {
    /// Computes the `i0..i1 × j0..j1` rectangle of C.
    ///
    /// # Safety
    /// Shapes/strides checked by `sgemm`; no other task touches this rectangle.
    #[allow(clippy::too_many_arguments)]
    unsafe fn run(&self, i0: usize, i1: usize, j0: usize, j1: usize) {
        let (a, b, c) = (self.a, self.b, self.c.0);
        let (m, n, k) = (i1 - i0, j1 - j0, self.k);
        let kc_max = block(k, KC, 1);
        let mc_max = block(m, MC, MR);
        let nc_max = block(n, NC, NR);
        PACK_BUFS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut bufs) => {
                let (abuf, bbuf) = &mut *bufs;
                grow(abuf, mc_max * kc_max);
                grow(bbuf, nc_max * kc_max);
                self.blocks(a, b, c, i0, m, j0, n, kc_max, mc_max, nc_max, abuf, bbuf);
            }
            Err(_) => {
                let mut abuf = vec![0.0; mc_max * kc_max];
                let mut bbuf = vec![0.0; nc_max * kc_max];
                self.blocks(a, b, c, i0, m, j0, n, kc_max, mc_max, nc_max, &mut abuf, &mut bbuf);
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn blocks(
        &self,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        i0: usize,
        m: usize,
        j0: usize,
        n: usize,
        kc_max: usize,
        mc_max: usize,
        nc_max: usize,
        abuf: &mut [f32],
        bbuf: &mut [f32],
    ) {
        let k = self.k;
        let mut jc = 0;
        while jc < n {
            let nc = nc_max.min(n - jc);
            let mut pc = 0;
            while pc < k {
                let kc = kc_max.min(k - pc);
                pack::pack_b(self.trans_b, b, self.ldb, pc, kc, j0 + jc, nc, bbuf);
                let beta = if pc == 0 { self.beta } else { 1.0 };
                let mut ic = 0;
                while ic < m {
                    let mc = mc_max.min(m - ic);
                    pack::pack_a(self.trans_a, a, self.lda, i0 + ic, mc, pc, kc, abuf);
                    let cblk = c.add((i0 + ic) * self.ldc + j0 + jc);
                    macro_kernel(mc, nc, kc, abuf, bbuf, cblk, self.ldc, self.alpha, beta);
                    ic += mc;
                }
                pc += kc;
            }
            jc += nc;
        }
    }
}

fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// All register tiles of an `mc × nc` block of C from packed A (`abuf`) and B (`bbuf`).
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn macro_kernel(
    mc: usize,
    nc: usize,
    kc: usize,
    abuf: &[f32],
    bbuf: &[f32],
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    let ap = abuf.as_ptr();
    let bp = bbuf.as_ptr();
    let mut jr = 0;
    while jr < nc {
        let nr = NR.min(nc - jr);
        let bpanel = bp.add(jr * kc);
        let mut ir = 0;
        while ir < mc {
            let mr = MR.min(mc - ir);
            let apanel = ap.add(ir * kc);
            let ct = c.add(ir * ldc + jr);
            if mr == MR && nr == NR {
                ukr::ukernel(kc, apanel, bpanel, ct, ldc, alpha, beta);
            } else {
                let mut tmp = [0.0f32; MR * NR];
                ukr::ukernel(kc, apanel, bpanel, tmp.as_mut_ptr(), NR, 1.0, 0.0);
                for i in 0..mr {
                    for j in 0..nr {
                        let o = ct.add(i * ldc + j);
                        let v = alpha * tmp[i * NR + j];
                        *o = if beta == 0.0 { v } else { v + beta * *o };
                    }
                }
            }
            ir += MR;
        }
        jr += NR;
    }
}
