//! Element-wise kernels: binary ops with NumPy broadcasting, unary ops (and their
//! backward), axpy.
//!
//! Broadcasting is described the way the TS side sees it: the output `shape` (contiguous,
//! row-major) and, for each operand, its element strides over that shape (0 along a
//! broadcast dimension). Any strides work, so the same machinery copies transposed or
//! permuted views (`strided_copy`). Before the loop the description is collapsed (size-1
//! dimensions dropped, dimensions that are contiguous for both operands merged), which
//! turns the common cases into one of: one flat same-shape loop, an operand that is a
//! scalar, or rows where the inner loop is same-shape / scalar-against-row. Those inner
//! loops are SIMD on wasm32+simd128; big outputs are split over threads by rows.
//!
//! Every fast kernel has a `*_ref` beside it: a plain loop over the original description.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

use crate::parallel::{self, SharedMut};

/// Below this many output elements a kernel runs on one thread.
pub const PAR_MIN: usize = 1 << 16;

/// Runs `f(start, end)` over `0..n`, split over the active threads when `work` (elements
/// touched) is large enough. Ranges are multiples of `align` long except the last.
pub(crate) fn par_ranges<F>(n: usize, work: usize, align: usize, f: F)
where
    F: Fn(usize, usize) + Sync + Send,
{
    let t = parallel::threads();
    if t <= 1 || work < PAR_MIN || n < 2 {
        if n > 0 {
            f(0, n);
        }
        return;
    }
    let parts = t.min(work / (PAR_MIN / 2)).max(1);
    let ranges = parallel::split_range(n, parts, align);
    parallel::for_each_task(ranges.len(), |i| f(ranges[i].0, ranges[i].1));
}

// ---------------------------------------------------------------------------------------
// Binary ops
// ---------------------------------------------------------------------------------------

pub const ADD: u32 = 0;
pub const SUB: u32 = 1;
pub const MUL: u32 = 2;
pub const DIV: u32 = 3;
/// `-(a·b)` (the gradient of a divisor: `-(g/b)·out`).
pub const MULNEG: u32 = 4;
/// `p·a`, `b` ignored (a strided or broadcast copy, scaled).
pub const SCALE_A: u32 = 5;

/// A binary operation, scalar and (on wasm) four lanes at a time.
pub(crate) trait BinOp: Sync + Send + Copy {
    fn s(self, a: f32, b: f32) -> f32;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn v(self, a: v128, b: v128) -> v128;
}

macro_rules! binop {
    ($name:ident, |$a:ident, $b:ident| $s:expr, |$va:ident, $vb:ident| $v:expr) => {
        #[derive(Clone, Copy)]
        pub(crate) struct $name;
        impl BinOp for $name {
            #[inline(always)]
            fn s(self, $a: f32, $b: f32) -> f32 {
                $s
            }
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            #[inline(always)]
            fn v(self, $va: v128, $vb: v128) -> v128 {
                $v
            }
        }
    };
}

binop!(Add, |a, b| a + b, |a, b| f32x4_add(a, b));
binop!(Sub, |a, b| a - b, |a, b| f32x4_sub(a, b));
binop!(Mul, |a, b| a * b, |a, b| f32x4_mul(a, b));
binop!(Div, |a, b| a / b, |a, b| f32x4_div(a, b));
binop!(MulNeg, |a, b| -(a * b), |a, b| f32x4_neg(f32x4_mul(a, b)));

#[derive(Clone, Copy)]
pub(crate) struct ScaleA(pub f32);
impl BinOp for ScaleA {
    #[inline(always)]
    fn s(self, a: f32, _b: f32) -> f32 {
        self.0 * a
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn v(self, a: v128, _b: v128) -> v128 {
        f32x4_mul(f32x4_splat(self.0), a)
    }
}

#[inline(always)]
fn op_scalar(op: u32, p: f32, a: f32, b: f32) -> f32 {
    match op {
        ADD => a + b,
        SUB => a - b,
        MUL => a * b,
        DIV => a / b,
        MULNEG => -(a * b),
        SCALE_A => p * a,
        _ => panic!("binary: unknown op {op}"),
    }
}

/// `out[i] = a[i] ∘ b[i]` (equal lengths).
#[inline(always)]
fn same<O: BinOp>(o: O, a: &[f32], b: &[f32], out: &mut [f32]) {
    let n = out.len();
    let (a, b) = (&a[..n], &b[..n]);
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        while i + 8 <= n {
            let x0 = v128_load(a.as_ptr().add(i) as *const v128);
            let x1 = v128_load(a.as_ptr().add(i + 4) as *const v128);
            let y0 = v128_load(b.as_ptr().add(i) as *const v128);
            let y1 = v128_load(b.as_ptr().add(i + 4) as *const v128);
            v128_store(out.as_mut_ptr().add(i) as *mut v128, o.v(x0, y0));
            v128_store(out.as_mut_ptr().add(i + 4) as *mut v128, o.v(x1, y1));
            i += 8;
        }
    }
    while i < n {
        out[i] = o.s(a[i], b[i]);
        i += 1;
    }
}

/// `out[i] = a[i] ∘ s` (b is a scalar).
#[inline(always)]
fn row_scalar<O: BinOp>(o: O, a: &[f32], s: f32, out: &mut [f32]) {
    let n = out.len();
    let a = &a[..n];
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let vs = f32x4_splat(s);
        while i + 4 <= n {
            let x = v128_load(a.as_ptr().add(i) as *const v128);
            v128_store(out.as_mut_ptr().add(i) as *mut v128, o.v(x, vs));
            i += 4;
        }
    }
    while i < n {
        out[i] = o.s(a[i], s);
        i += 1;
    }
}

/// `o` with its operands swapped, so that `s ∘ b[i]` runs as `row_scalar(Swapped(o), b, s)`.
#[derive(Clone, Copy)]
struct Swapped<O>(O);
impl<O: BinOp> BinOp for Swapped<O> {
    #[inline(always)]
    fn s(self, a: f32, b: f32) -> f32 {
        self.0.s(b, a)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn v(self, a: v128, b: v128) -> v128 {
        self.0.v(b, a)
    }
}

/// The collapsed form of a broadcast description (at least one dimension).
pub(crate) struct Collapsed {
    pub shape: Vec<usize>,
    pub sa: Vec<usize>,
    pub sb: Vec<usize>,
}

/// Drops size-1 dimensions and merges neighbours that are contiguous for both operands.
pub(crate) fn collapse(shape: &[usize], sa: &[usize], sb: &[usize]) -> Collapsed {
    let mut c = Collapsed { shape: Vec::new(), sa: Vec::new(), sb: Vec::new() };
    for d in 0..shape.len() {
        if shape[d] == 1 {
            continue;
        }
        if let Some(last) = c.shape.len().checked_sub(1) {
            // Merge into the previous (outer) dimension when it steps exactly over this one.
            if c.sa[last] == sa[d] * shape[d] && c.sb[last] == sb[d] * shape[d] {
                c.shape[last] *= shape[d];
                c.sa[last] = sa[d];
                c.sb[last] = sb[d];
                continue;
            }
        }
        c.shape.push(shape[d]);
        c.sa.push(sa[d]);
        c.sb.push(sb[d]);
    }
    if c.shape.is_empty() {
        c.shape.push(1);
        c.sa.push(0);
        c.sb.push(0);
    }
    c
}

/// Offset of element `(index over shape[..nd-1], 0)` for strides `s`.
#[inline]
fn row_offsets(shape: &[usize], sa: &[usize], sb: &[usize], mut row: usize) -> (usize, usize) {
    let nd = shape.len();
    let (mut oa, mut ob) = (0, 0);
    for d in (0..nd - 1).rev() {
        let i = row % shape[d];
        row /= shape[d];
        oa += i * sa[d];
        ob += i * sb[d];
    }
    (oa, ob)
}

fn bcast_generic<O: BinOp>(o: O, shape: &[usize], a: &[f32], sa: &[usize], b: &[f32], sb: &[usize], out: &mut [f32]) {
    let c = collapse(shape, sa, sb);
    let nd = c.shape.len();
    let cols = c.shape[nd - 1];
    let rows = out.len() / cols.max(1);
    let (ia, ib) = (c.sa[nd - 1], c.sb[nd - 1]);
    let outp = SharedMut(out.as_mut_ptr());
    let align = if cols == 1 { 16 } else { 1 };
    par_ranges(rows, out.len(), align, |r0, r1| {
        // SAFETY: each task writes rows r0..r1 of the output only.
        let out = unsafe { outp.slice(r0 * cols, (r1 - r0) * cols) };
        for r in r0..r1 {
            let (oa, ob) = row_offsets(&c.shape, &c.sa, &c.sb, r);
            let dst = &mut out[(r - r0) * cols..(r - r0 + 1) * cols];
            match (ia, ib) {
                (1, 1) => same(o, &a[oa..oa + cols], &b[ob..ob + cols], dst),
                (1, 0) => row_scalar(o, &a[oa..oa + cols], b[ob], dst),
                (0, 1) => row_scalar(Swapped(o), &b[ob..ob + cols], a[oa], dst),
                // Both operands broadcast along the row (a sum's gradient spread over its
                // input): one value, so a fill instead of a per-element loop.
                (0, 0) => dst.fill(o.s(a[oa], b[ob])),
                _ => {
                    for (j, v) in dst.iter_mut().enumerate() {
                        *v = o.s(a[oa + j * ia], b[ob + j * ib]);
                    }
                }
            }
        }
    });
}

fn check_bcast(shape: &[usize], a: &[f32], sa: &[usize], b: &[f32], sb: &[usize], out: &[f32]) {
    assert!(sa.len() == shape.len() && sb.len() == shape.len(), "binary: strides and shape differ in length");
    let n: usize = shape.iter().product();
    assert_eq!(out.len(), n, "binary: output has {} elements, shape needs {n}", out.len());
    if n == 0 {
        return;
    }
    let reach = |s: &[usize]| shape.iter().zip(s).map(|(&d, &st)| (d - 1) * st).sum::<usize>() + 1;
    assert!(a.len() >= reach(sa), "binary: a is too short for its strides");
    assert!(b.len() >= reach(sb), "binary: b is too short for its strides");
}

/// `out = a ∘ b` over the broadcast `shape`; `sa`/`sb` are the operands' element strides
/// over that shape (0 where broadcast). `p` is the scale of `SCALE_A`.
#[allow(clippy::too_many_arguments)]
pub fn binary_bcast(op: u32, p: f32, shape: &[usize], a: &[f32], sa: &[usize], b: &[f32], sb: &[usize], out: &mut [f32]) {
    check_bcast(shape, a, sa, b, sb, out);
    if out.is_empty() {
        return;
    }
    match op {
        ADD => bcast_generic(Add, shape, a, sa, b, sb, out),
        SUB => bcast_generic(Sub, shape, a, sa, b, sb, out),
        MUL => bcast_generic(Mul, shape, a, sa, b, sb, out),
        DIV => bcast_generic(Div, shape, a, sa, b, sb, out),
        MULNEG => bcast_generic(MulNeg, shape, a, sa, b, sb, out),
        SCALE_A => bcast_generic(ScaleA(p), shape, a, sa, b, sb, out),
        _ => panic!("binary: unknown op {op}"),
    }
}

/// Reference for [`binary_bcast`]: one multi-index per element, no collapsing.
#[allow(clippy::too_many_arguments)]
pub fn binary_bcast_ref(op: u32, p: f32, shape: &[usize], a: &[f32], sa: &[usize], b: &[f32], sb: &[usize], out: &mut [f32]) {
    check_bcast(shape, a, sa, b, sb, out);
    for (i, v) in out.iter_mut().enumerate() {
        let (mut rest, mut oa, mut ob) = (i, 0, 0);
        for d in (0..shape.len()).rev() {
            let k = rest % shape[d];
            rest /= shape[d];
            oa += k * sa[d];
            ob += k * sb[d];
        }
        *v = op_scalar(op, p, a[oa], b[ob]);
    }
}

/// `out = a ∘ b`, same lengths.
pub fn binary(op: u32, a: &[f32], b: &[f32], out: &mut [f32]) {
    let n = out.len();
    binary_bcast(op, 1.0, &[n], a, &[1], b, &[1], out);
}

/// `out = scale · x` read through strides `sx` over `shape` (transpose, permute, expand).
pub fn strided_copy(shape: &[usize], x: &[f32], sx: &[usize], scale: f32, out: &mut [f32]) {
    binary_bcast(SCALE_A, scale, shape, x, sx, x, sx, out);
}

/// Reference for [`strided_copy`].
pub fn strided_copy_ref(shape: &[usize], x: &[f32], sx: &[usize], scale: f32, out: &mut [f32]) {
    binary_bcast_ref(SCALE_A, scale, shape, x, sx, x, sx, out);
}

// ---------------------------------------------------------------------------------------
// Unary ops
// ---------------------------------------------------------------------------------------

/// `exp(x)`.
pub const EXP: u32 = 0;
/// `ln(x)`.
pub const LOG: u32 = 1;
pub const SQRT: u32 = 2;
pub const ABS: u32 = 3;
/// `x^p1`.
pub const POW: u32 = 4;
/// `p1·x + p2` (scale, add a scalar, negate, scalar minus tensor).
pub const AFFINE: u32 = 5;
/// `p1 / x`.
pub const RDIV: u32 = 6;
/// `min(max(x, p1), p2)`.
pub const CLAMP: u32 = 7;
/// `x` (a copy).
pub const COPY: u32 = 8;

#[inline(always)]
fn pow_s(x: f32, p: f32) -> f32 {
    if p == 2.0 {
        x * x
    } else if p == 1.0 {
        x
    } else if p == 0.5 {
        x.sqrt()
    } else if p == -1.0 {
        1.0 / x
    } else if p == 3.0 {
        x * x * x
    } else {
        x.powf(p)
    }
}

#[inline(always)]
fn clamp_s(x: f32, lo: f32, hi: f32) -> f32 {
    // NaN stays NaN (as torch.clamp). The explicit test is needed: vectorized, the two
    // compares become min/max, which the relaxed builds emit as relaxed_min/max, and on x86
    // those return the bound for a NaN.
    let c = if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    };
    if x.is_nan() {
        x
    } else {
        c
    }
}

fn unary_chunk(op: u32, p1: f32, p2: f32, x: &[f32], out: &mut [f32]) {
    let x = &x[..out.len()];
    match op {
        EXP => crate::kernels::activation::exp_slice(x, out),
        LOG => out.iter_mut().zip(x).for_each(|(o, &v)| *o = v.ln()),
        SQRT => out.iter_mut().zip(x).for_each(|(o, &v)| *o = v.sqrt()),
        ABS => out.iter_mut().zip(x).for_each(|(o, &v)| *o = v.abs()),
        POW => {
            if p1 == 2.0 {
                out.iter_mut().zip(x).for_each(|(o, &v)| *o = v * v)
            } else {
                out.iter_mut().zip(x).for_each(|(o, &v)| *o = pow_s(v, p1))
            }
        }
        AFFINE => out.iter_mut().zip(x).for_each(|(o, &v)| *o = p1 * v + p2),
        RDIV => out.iter_mut().zip(x).for_each(|(o, &v)| *o = p1 / v),
        CLAMP => out.iter_mut().zip(x).for_each(|(o, &v)| *o = clamp_s(v, p1, p2)),
        COPY => out.copy_from_slice(x),
        _ => panic!("unary: unknown op {op}"),
    }
}

fn unary_scalar(op: u32, p1: f32, p2: f32, v: f32) -> f32 {
    match op {
        EXP => v.exp(),
        LOG => v.ln(),
        SQRT => v.sqrt(),
        ABS => v.abs(),
        POW => v.powf(p1),
        AFFINE => p1 * v + p2,
        RDIV => p1 / v,
        CLAMP => clamp_s(v, p1, p2),
        COPY => v,
        _ => panic!("unary: unknown op {op}"),
    }
}

/// `out = f(x)` for one of the unary op codes, with parameters `p1`, `p2`.
pub fn unary(op: u32, p1: f32, p2: f32, x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "unary: input and output lengths differ");
    let outp = SharedMut(out.as_mut_ptr());
    par_ranges(out.len(), out.len(), 16, |s, e| {
        // SAFETY: disjoint output ranges.
        let o = unsafe { outp.slice(s, e - s) };
        unary_chunk(op, p1, p2, &x[s..e], o);
    });
}

/// Reference for [`unary`] (std math, no SIMD, one thread).
pub fn unary_ref(op: u32, p1: f32, p2: f32, x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "unary: input and output lengths differ");
    for (o, &v) in out.iter_mut().zip(x) {
        *o = unary_scalar(op, p1, p2, v);
    }
}

#[inline(always)]
fn unary_grad(op: u32, p1: f32, p2: f32, x: f32, y: f32, g: f32) -> f32 {
    match op {
        EXP => g * y,
        LOG => g / x,
        SQRT => g * 0.5 / y,
        ABS => {
            if x > 0.0 {
                g
            } else if x < 0.0 {
                -g
            } else {
                0.0
            }
        }
        POW => {
            if p1 == 0.0 {
                0.0
            } else if p1 == 2.0 {
                g * 2.0 * x
            } else if p1 == 1.0 {
                g
            } else {
                g * p1 * pow_s(x, p1 - 1.0)
            }
        }
        AFFINE => g * p1,
        RDIV => -g * y / x,
        CLAMP => {
            if x >= p1 && x <= p2 {
                g
            } else {
                0.0
            }
        }
        COPY => g,
        _ => panic!("unary_backward: unknown op {op}"),
    }
}

fn check_backward(x: &[f32], y: &[f32], g: &[f32], dx: &[f32]) {
    let n = dx.len();
    assert!(x.len() >= n && y.len() >= n && g.len() >= n, "backward: input lengths differ from the gradient's");
}

/// `dx = g · f'(x)` for unary op `op`, given the input `x` and the output `y = f(x)` (some
/// gradients read one, some the other; both must have `dx.len()` elements).
pub fn unary_backward(op: u32, p1: f32, p2: f32, x: &[f32], y: &[f32], g: &[f32], dx: &mut [f32]) {
    check_backward(x, y, g, dx);
    let dxp = SharedMut(dx.as_mut_ptr());
    par_ranges(dx.len(), dx.len(), 16, |s, e| {
        // SAFETY: disjoint output ranges.
        let d = unsafe { dxp.slice(s, e - s) };
        let (x, y, g) = (&x[s..e], &y[s..e], &g[s..e]);
        match op {
            // Monomorphic loops for the common ones, so they vectorise.
            EXP => d.iter_mut().zip(g.iter().zip(y)).for_each(|(o, (&g, &y))| *o = g * y),
            AFFINE => d.iter_mut().zip(g).for_each(|(o, &g)| *o = g * p1),
            _ => {
                for i in 0..d.len() {
                    d[i] = unary_grad(op, p1, p2, x[i], y[i], g[i]);
                }
            }
        }
    });
}

/// Reference for [`unary_backward`].
pub fn unary_backward_ref(op: u32, p1: f32, p2: f32, x: &[f32], y: &[f32], g: &[f32], dx: &mut [f32]) {
    check_backward(x, y, g, dx);
    for i in 0..dx.len() {
        let (xv, yv, gv) = (x[i] as f64, y[i] as f64, g[i] as f64);
        dx[i] = match op {
            EXP => gv * yv,
            LOG => gv / xv,
            SQRT => gv * 0.5 / yv,
            POW => {
                if p1 == 0.0 {
                    0.0
                } else {
                    gv * p1 as f64 * xv.powf(p1 as f64 - 1.0)
                }
            }
            RDIV => -gv * yv / xv,
            _ => unary_grad(op, p1, p2, x[i], y[i], g[i]) as f64,
        } as f32;
    }
}

// ---------------------------------------------------------------------------------------
// axpy
// ---------------------------------------------------------------------------------------

fn axpy_chunk(alpha: f32, x: &[f32], y: &mut [f32]) {
    let n = y.len();
    let x = &x[..n];
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let va = f32x4_splat(alpha);
        while i + 8 <= n {
            let x0 = v128_load(x.as_ptr().add(i) as *const v128);
            let x1 = v128_load(x.as_ptr().add(i + 4) as *const v128);
            let p0 = y.as_mut_ptr().add(i) as *mut v128;
            let p1 = y.as_mut_ptr().add(i + 4) as *mut v128;
            v128_store(p0, f32x4_add(v128_load(p0), f32x4_mul(va, x0)));
            v128_store(p1, f32x4_add(v128_load(p1), f32x4_mul(va, x1)));
            i += 8;
        }
    }
    while i < n {
        y[i] += alpha * x[i];
        i += 1;
    }
}

/// `y += alpha · x` (gradient accumulation is `alpha = 1`).
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "axpy: lengths differ");
    let yp = SharedMut(y.as_mut_ptr());
    par_ranges(y.len(), y.len(), 16, |s, e| {
        // SAFETY: disjoint ranges of y.
        axpy_chunk(alpha, &x[s..e], unsafe { yp.slice(s, e - s) });
    });
}

/// Reference for [`axpy`].
pub fn axpy_ref(alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "axpy: lengths differ");
    for (v, &u) in y.iter_mut().zip(x) {
        *v += alpha * u;
    }
}

/// `out[i] = value`.
pub fn fill(out: &mut [f32], value: f32) {
    out.fill(value);
}
