//! Single-precision GEMM: `C = alpha·op(A)·op(B) + beta·C`, row-major.
//!
//! Layout (after XNNPACK/BLIS): the microkernel file names say type, tile and ISA
//! (`f32_gemm_4x8_wasmsimd.rs` for wasm32+simd128, `f32_gemm_4x8_scalar.rs` elsewhere),
//! `pack.rs` packs A and B into panels (which is where the four transpose forms are
//! absorbed), and this file does the cache blocking and the split over threads.
//!
//! Blocking (after GotoBLAS): op(B) is packed into `NR`-wide micro-panels of depth `KC`
//! (kept in L1 by the microkernel), op(A) into `MR`-tall micro-panels in blocks of `MC × KC`
//! (kept in L2); the macro-kernel walks the B micro-panels against all A micro-panels of
//! the block.
//!
//! Threads: C is cut into row ranges (and, when there are too few rows, column ranges), one
//! task each (`parallel::for_each_task`, a single join per call). Each task packs its own
//! rows of A, but the packed B is **shared**: it is packed once per call, in groups of
//! panels, by whichever task needs a group first (claimed with an atomic flag; the others
//! wait for that group, which is never blocked on anything). Tasks start their column sweep
//! at different groups so they pack different parts first. So packing costs the same on any
//! number of threads, and tasks can be small enough to balance cores running at unequal
//! speed. (Before this, each task of a 2-D grid packed its own parts of A and B: at n = 512
//! on 2 threads, 8 tasks packed A four times and B twice.)
//!
//! Epilogues (`sgemm_ep`): a bias per column or per row of C, then ReLU, applied to each
//! `mc × 64` block of C right after its last depth block is stored, while it is in cache.

mod pack;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod f32_interleave4_wasmsimd;

// Relaxed SIMD builds (tread-relaxed*): the FMA kernel. Plain SIMD128 builds: mul + add.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"))]
mod f32_gemm_4x8_wasmrelaxedsimd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"))]
use f32_gemm_4x8_wasmrelaxedsimd as ukr;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
mod f32_gemm_4x8_wasmsimd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
use f32_gemm_4x8_wasmsimd as ukr;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod f32_gemm_4x8_scalar;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use f32_gemm_4x8_scalar as ukr;

use crate::parallel::{self, SharedMut};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};

/// Register tile rows (of C / op(A)).
pub const MR: usize = ukr::MR;
/// Register tile columns (of C / op(B)).
pub const NR: usize = ukr::NR;
/// Depth of a packed block: a B micro-panel is `KC*NR*4` bytes (8 KiB), L1-resident.
const KC: usize = 256;
/// Rows of a packed A block: `MC*KC*4` bytes (128 KiB), L2-resident.
const MC: usize = 32 * MR;
/// B panels packed (and claimed) together: `GROUP*NR` columns.
const GROUP: usize = 8;
/// Groups of packed B that a task's row blocks share while in L2 (see `Job::rows`).
const L2_GROUPS: usize = 8;
/// Most floats of packed B held at once (8 MiB); wider products go in column chunks.
const SHARED_B_MAX: usize = 1 << 21;
/// Below this many multiply-adds (m·n·k) a call runs as one task.
const PARALLEL_MIN_MACS: usize = 96 * 96 * 96;
/// Tasks per thread of a grid with column ranges (too few rows to cut by rows alone): more
/// tasks balance better when cores run at unequal speed (a core shared with other work; on
/// the 2-vCPU dev machine one vCPU often gives ~2/3 of the other's throughput).
const TASKS_PER_THREAD: usize = 4;
/// Fewest rows a task is cut to (when there are enough rows to cut at all): the last,
/// smallest tasks of `parallel::split_guided`.
const MIN_TASK_ROWS: usize = 2 * MR;

thread_local! {
    /// This thread's packed-A block.
    static PACK_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The packed B of the calls this thread starts (shared with the tasks of that call).
    static PACK_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// What [`sgemm_ep`] does to each element of C once its product is complete:
/// `C = act(alpha·op(A)·op(B) + beta·C + col_bias[j] + row_bias[i])`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    /// One value per column of C, added to every row (a Linear layer's bias: `y = x·Wᵀ + b`).
    pub col_bias: Option<&'a [f32]>,
    /// One value per row of C, added to every column (a convolution's bias over `oc × hw`).
    pub row_bias: Option<&'a [f32]>,
    /// Then `x < 0 ? 0 : x` (NaN stays NaN, as `torch.relu`).
    pub relu: bool,
}

impl Epilogue<'_> {
    fn is_none(&self) -> bool {
        self.col_bias.is_none() && self.row_bias.is_none() && !self.relu
    }
}

/// The epilogue as raw pointers (null: absent), for tasks.
#[derive(Clone, Copy)]
struct Ep {
    col: *const f32,
    row: *const f32,
    relu: bool,
}

impl Ep {
    fn new(ep: &Epilogue) -> Ep {
        Ep {
            col: ep.col_bias.map_or(std::ptr::null(), |b| b.as_ptr()),
            row: ep.row_bias.map_or(std::ptr::null(), |b| b.as_ptr()),
            relu: ep.relu,
        }
    }

    fn active(&self) -> bool {
        !self.col.is_null() || !self.row.is_null() || self.relu
    }

    /// Applies the epilogue to the `mr × nr` block at `c` whose first element is C[i][j].
    ///
    /// # Safety
    /// The tile is valid; the biases cover rows `i..i+mr` and columns `j..j+nr`.
    #[inline]
    unsafe fn tile(&self, c: *mut f32, ldc: usize, mr: usize, nr: usize, i: usize, j: usize) {
        for ii in 0..mr {
            let row = std::slice::from_raw_parts_mut(c.add(ii * ldc), nr);
            let rb = if self.row.is_null() { 0.0 } else { *self.row.add(i + ii) };
            if !self.col.is_null() {
                let cb = std::slice::from_raw_parts(self.col.add(j), nr);
                for (v, b) in row.iter_mut().zip(cb) {
                    *v += *b + rb;
                }
            } else if rb != 0.0 {
                row.iter_mut().for_each(|v| *v += rb);
            }
            if self.relu {
                crate::kernels::activation::relu_in_place(row);
            }
        }
    }
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

fn check_epilogue(ep: &Epilogue, m: usize, n: usize) {
    if let Some(b) = ep.col_bias {
        assert!(b.len() >= n, "sgemm: the column bias has {} elements, needs {n} (one per column of C)", b.len());
    }
    if let Some(b) = ep.row_bias {
        assert!(b.len() >= m, "sgemm: the row bias has {} elements, needs {m} (one per row of C)", b.len());
    }
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
    sgemm_ep_ref(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Epilogue::default());
}

/// The plain reference of [`sgemm_ep`]: a triple loop in f64, then the epilogue.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_ep_ref(
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
    ep: Epilogue,
) {
    check_args(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    check_epilogue(&ep, m, n);
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
            let mut v = if beta == 0.0 { r } else { r + beta as f64 * *o as f64 };
            v += ep.col_bias.map_or(0.0, |b| b[j] as f64) + ep.row_bias.map_or(0.0, |b| b[i] as f64);
            if ep.relu && v < 0.0 {
                v = 0.0;
            }
            *o = v as f32;
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
    sgemm_ep(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Epilogue::default());
}

/// [`sgemm`] with an epilogue applied as each tile of C is finished:
/// `C = act(alpha·op(A)·op(B) + beta·C + col_bias[j] + row_bias[i])` (see [`Epilogue`]).
///
/// Panics as `sgemm`, and when a bias is shorter than C's columns (col) or rows (row).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_ep(
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
    ep: Epilogue,
) {
    check_args(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    check_epilogue(&ep, m, n);
    if m == 0 || n == 0 {
        return;
    }
    let ep_ptrs = Ep::new(&ep);
    if k == 0 || alpha == 0.0 {
        scale_c(m, n, beta, c, ldc);
        if !ep.is_none() {
            // SAFETY: C's m×n window and the biases were checked above.
            unsafe { ep_ptrs.tile(c.as_mut_ptr(), ldc, m, n, 0, 0) };
        }
        return;
    }
    let job = Job {
        trans_a, trans_b, k, alpha, a: a.as_ptr(), lda, b: b.as_ptr(), ldb, beta,
        c: SharedMut(c.as_mut_ptr()), ldc, ep: ep_ptrs,
    };
    let threads = parallel::threads();
    let kc_max = block(k, KC, 1);
    let kblocks = k.div_ceil(kc_max);
    // Columns per chunk of packed B (all of them unless B is huge), a multiple of a group.
    let chunk = ((SHARED_B_MAX / k).max(1) / (GROUP * NR)).max(1) * GROUP * NR;
    PACK_B.with(|cell| {
        let mut own;
        let mut borrowed = cell.try_borrow_mut();
        let bbuf: &mut Vec<f32> = match borrowed {
            Ok(ref mut v) => v,
            Err(_) => {
                own = Vec::new();
                &mut own
            }
        };
        let mut j0 = 0;
        while j0 < n {
            let nc = chunk.min(n - j0);
            let groups = nc.div_ceil(GROUP * NR);
            let bslice = aligned(bbuf, kblocks * kc_max * groups * GROUP * NR);
            let flags: Vec<AtomicU8> = (0..kblocks * groups).map(|_| AtomicU8::new(0)).collect();
            let (rows, tn) = task_grid(m, nc, k, threads, groups);
            let cols = parallel::split_range(groups, tn, 1);
            let ncols = cols.len();
            let ntasks = rows.len() * ncols;
            let shared = SharedB { buf: SharedMut(bslice.as_mut_ptr()), flags: &flags, j0, nc, kc_max, groups };
            parallel::for_each_task(ntasks, |t| {
                let (r, g) = (t / ncols, t % ncols);
                let (i0, i1) = rows[r];
                let (g0, g1) = cols[g];
                // Start the sweep at a different group in each task of a column range.
                let start = g0 + (g1 - g0) * r / rows.len();
                // SAFETY: arguments were checked above; tasks write disjoint rectangles of C
                // and B groups are written once, by the task that claimed them.
                unsafe { job.run(&shared, i0, i1, g0, g1, start) };
            });
            j0 += nc;
        }
    });
}

/// How to cut C for `threads` threads: into row ranges that shrink towards the end
/// (`parallel::split_guided`: the threads finish within a small task of each other; rows
/// cost nothing extra, B being shared), or, when there are too few rows for two each, into
/// about `TASKS_PER_THREAD` tasks per thread of `tm` row ranges × `tn` ranges of B groups
/// (each column range packs its rows of A again). Returns the row ranges and `tn`.
fn task_grid(m: usize, n: usize, k: usize, threads: usize, groups: usize) -> (Vec<(usize, usize)>, usize) {
    let macs = m.saturating_mul(n).saturating_mul(k);
    if threads <= 1 || macs < PARALLEL_MIN_MACS {
        return (vec![(0, m)], 1);
    }
    // Rows alone when they give every thread two tasks or more (slack to balance with);
    // on many threads a short C is also cut by columns, as before.
    let guided = parallel::split_guided(m, threads, MR, MIN_TASK_ROWS);
    if guided.len() >= 2 * threads {
        return (guided, 1);
    }
    let want = threads * TASKS_PER_THREAD;
    let tm = want.min(m.div_ceil(MIN_TASK_ROWS)).max(1);
    let tn = want.div_ceil(tm).min(groups).max(1);
    (parallel::split_range(m, tm, MR), tn)
}

/// Balanced block size: `len` cut into pieces of at most `max`, each a multiple of `align`.
fn block(len: usize, max: usize, align: usize) -> usize {
    let pieces = len.div_ceil(max);
    len.div_ceil(pieces).div_ceil(align) * align
}

/// The packed B of one column chunk, shared by the tasks of a call. Depth block `kb` of
/// group `g` lives at `(kb*groups + g) * kc_max*GROUP*NR` floats; each is packed once, by
/// the first task that claims its flag (0 free, 1 being packed, 2 ready).
struct SharedB<'a> {
    buf: SharedMut<f32>,
    flags: &'a [AtomicU8],
    /// First column of the chunk (in C / op(B)) and its width.
    j0: usize,
    nc: usize,
    kc_max: usize,
    groups: usize,
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
    ep: Ep,
}

// SAFETY: A, B and the biases are only read; each task writes its own rectangle of C.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Job {
    /// Computes rows `i0..i1` × the columns of B groups `g0..g1` of C, sweeping the groups
    /// from `start` (wrapping around).
    ///
    /// # Safety
    /// Shapes/strides checked by `sgemm_ep`; no other task touches this rectangle.
    unsafe fn run(&self, sb: &SharedB, i0: usize, i1: usize, g0: usize, g1: usize, start: usize) {
        let kc_max = sb.kc_max;
        let mc_max = block(i1 - i0, MC, MR);
        PACK_A.with(|cell| match cell.try_borrow_mut() {
            Ok(mut abuf) => {
                let abuf = aligned(&mut abuf, mc_max * kc_max);
                self.rows(sb, i0, i1, g0, g1, start, mc_max, abuf);
            }
            Err(_) => {
                let mut abuf = Vec::new();
                let abuf = aligned(&mut abuf, mc_max * kc_max);
                self.rows(sb, i0, i1, g0, g1, start, mc_max, abuf);
            }
        });
    }

    /// Loop order (per task): column chunks of `L2_GROUPS` groups, depth blocks, row blocks of
    /// `mc_max`, groups. A chunk of packed B for one depth block (`KC × 512` floats, 512 KiB)
    /// stays in L2 while every row block of the task passes over it; A is packed again per
    /// chunk, which is why a task with a single row block takes all its groups as one chunk.
    #[allow(clippy::too_many_arguments)]
    unsafe fn rows(&self, sb: &SharedB, i0: usize, i1: usize, g0: usize, g1: usize, start: usize, mc_max: usize, abuf: &mut [f32]) {
        let (k, kc_max) = (self.k, sb.kc_max);
        let ng = g1 - g0;
        let chunk = if i1 - i0 <= mc_max { ng } else { L2_GROUPS };
        let mut s0 = 0;
        while s0 < ng {
            let s1 = (s0 + chunk).min(ng);
            let mut pc = 0;
            let mut kb = 0;
            while pc < k {
                let kc = kc_max.min(k - pc);
                let last = pc + kc == k;
                let beta = if pc == 0 { self.beta } else { 1.0 };
                let mut ic = i0;
                while ic < i1 {
                    let mc = mc_max.min(i1 - ic);
                    pack::pack_a(self.trans_a, self.a, self.lda, ic, mc, pc, kc, abuf);
                    // A group another task is still packing is put off to the end of
                    // the sweep (bit `step - s0` of `later`) instead of waited for.
                    let mut later = 0u64;
                    for step in s0..s1 {
                        let g = g0 + (start - g0 + step) % ng;
                        let busy_ok = step - s0 < 64;
                        if !self.ensure_b(sb, kb, g, pc, kc, busy_ok) {
                            later |= 1 << (step - s0);
                            continue;
                        }
                        self.group(sb, kb, g, ic, mc, kc, beta, last, abuf);
                    }
                    while later != 0 {
                        let step = s0 + later.trailing_zeros() as usize;
                        later &= later - 1;
                        let g = g0 + (start - g0 + step) % ng;
                        self.ensure_b(sb, kb, g, pc, kc, false);
                        self.group(sb, kb, g, ic, mc, kc, beta, last, abuf);
                    }
                    ic += mc;
                }
                pc += kc;
                kb += 1;
            }
            s0 = s1;
        }
    }

    /// The macro-kernel for rows `ic..ic+mc` × B group `g` of depth block `kb` (packed).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    unsafe fn group(&self, sb: &SharedB, kb: usize, g: usize, ic: usize, mc: usize, kc: usize, beta: f32, last: bool, abuf: &[f32]) {
        let gw = GROUP * NR;
        let jg = g * gw; // within the chunk of B
        let nc = gw.min(sb.nc - jg);
        let bp = sb.buf.0.add((kb * sb.groups + g) * sb.kc_max * gw);
        let cblk = self.c.0.add(ic * self.ldc + sb.j0 + jg);
        macro_kernel(mc, nc, kc, abuf.as_ptr(), bp, cblk, self.ldc, self.alpha, beta);
        if last && self.ep.active() {
            // The block was just stored (mc × 64 floats, in L1/L2): one pass over it. (Applied
            // per register tile inside the macro-kernel instead, it measured slower.)
            self.ep.tile(cblk, self.ldc, mc, nc, ic, sb.j0 + jg);
        }
    }

    /// Makes sure B group `g` of depth block `kb` (depth `pc..pc+kc`) is packed: packs it if
    /// no task has claimed it yet. When another task is packing it, returns false at once
    /// if `may_defer`, else waits for it (that task never waits on anything, so this ends).
    #[allow(clippy::too_many_arguments)]
    unsafe fn ensure_b(&self, sb: &SharedB, kb: usize, g: usize, pc: usize, kc: usize, may_defer: bool) -> bool {
        let slot = kb * sb.groups + g;
        let flag = &sb.flags[slot];
        if flag.load(Ordering::Acquire) == 2 {
            return true;
        }
        if flag.compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire).is_ok() {
            let gw = GROUP * NR;
            let jg = g * gw;
            let nc = gw.min(sb.nc - jg);
            let bp = sb.buf.0.add(slot * sb.kc_max * gw);
            let dst = std::slice::from_raw_parts_mut(bp, nc.div_ceil(NR) * NR * kc);
            pack::pack_b(self.trans_b, self.b, self.ldb, pc, kc, sb.j0 + jg, nc, dst);
            flag.store(2, Ordering::Release);
            return true;
        }
        if may_defer {
            return false;
        }
        while flag.load(Ordering::Acquire) != 2 {
            std::hint::spin_loop();
        }
        true
    }
}

/// `len` floats of `v` starting on a 64-byte line (grown as needed): packed panels are read
/// 16 and 32 bytes at a time, and a buffer that starts mid-line splits some of those reads
/// across two lines.
fn aligned(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    const LINE: usize = 16; // floats
    if v.len() < len + LINE {
        v.resize(len + LINE, 0.0);
    }
    let skip = v.as_ptr().align_offset(64).min(LINE);
    &mut v[skip..skip + len]
}

/// Floats of work (multiply-adds x 2) in one repetition of [`macro_kernel_probe`].
pub const PROBE_FLOPS: usize = 2 * MC * GROUP * NR * KC;

/// The ceiling `sgemm` is measured against (bench:gemm reports tread's rate as a share of it,
/// so the target holds on any CPU): the macro-kernel alone, `reps` times over one packed
/// `MC × KC` block of A (128 KiB, L2) and one `KC × GROUP·NR` group of B (64 KiB), as
/// `sgemm`'s inner loops run them, with no packing, no edges and one thread. Returns an
/// element of C (`reps · KC` with the ones it multiplies), so the work is not optimized away.
pub fn macro_kernel_probe(reps: usize) -> f32 {
    thread_local! {
        /// The probe's packed A block and B group, all ones, made once per thread: filled per
        /// call, they would be timed too (a few percent of a call at small n).
        static PROBE_AB: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    }
    PROBE_AB.with(|cell| {
        let (va, vb) = &mut *cell.borrow_mut();
        let fresh = va.is_empty();
        let a = aligned(va, MC * KC);
        let b = aligned(vb, KC * GROUP * NR);
        if fresh {
            a.fill(1.0);
            b.fill(1.0);
        }
        let mut c = vec![0.0f32; MC * GROUP * NR];
        for _ in 0..reps {
            // SAFETY: the buffers hold the packed block, the group and the C block exactly.
            unsafe { macro_kernel(MC, GROUP * NR, KC, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), GROUP * NR, 1.0, 1.0) };
        }
        c[c.len() - 1]
    })
}

/// All register tiles of an `mc × nc` block of C from packed A (`ap`) and B (`bp`).
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn macro_kernel(
    mc: usize,
    nc: usize,
    kc: usize,
    ap: *const f32,
    bp: *const f32,
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
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
