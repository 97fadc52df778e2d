//! Exports of the element-wise, activation, reduction and softmax kernels
//! (`tread_core::kernels::{elementwise, activation, reduce, softmax}`).
//!
//! Pointers are byte offsets of f32 (or i32 / usize) arrays in linear memory; op codes are
//! the constants of the core modules. Shapes and strides are passed as pointers to `ndim`
//! usize (u32 on wasm32) values that the TS side writes into a scratch area. Every export
//! has a `_ref` twin calling the plain reference, for the vitest comparisons.

use tread_core::kernels::{activation, elementwise as ew, reduce, softmax};

unsafe fn f32s<'a>(p: usize, n: usize) -> &'a [f32] {
    if n == 0 { &[] } else { std::slice::from_raw_parts(p as *const f32, n) }
}
unsafe fn f32s_mut<'a>(p: usize, n: usize) -> &'a mut [f32] {
    if n == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut f32, n) }
}
unsafe fn usizes<'a>(p: usize, n: usize) -> &'a [usize] {
    if n == 0 { &[] } else { std::slice::from_raw_parts(p as *const usize, n) }
}
/// The span a strided operand reaches over `shape`.
fn reach(shape: &[usize], st: &[usize]) -> usize {
    if shape.iter().any(|&d| d == 0) {
        return 0;
    }
    shape.iter().zip(st).map(|(&d, &s)| (d - 1) * s).sum::<usize>() + 1
}

type BinFn = fn(u32, f32, &[usize], &[f32], &[usize], &[f32], &[usize], &mut [f32]);

#[allow(clippy::too_many_arguments)]
unsafe fn binary_call(f: BinFn, op: u32, p: f32, ndim: usize, shape: usize, a: usize, sa: usize, b: usize, sb: usize, out: usize) {
    let shape = usizes(shape, ndim);
    let (sa, sb) = (usizes(sa, ndim), usizes(sb, ndim));
    let n: usize = shape.iter().product();
    f(op, p, shape, f32s(a, reach(shape, sa)), sa, f32s(b, reach(shape, sb)), sb, f32s_mut(out, n));
}

/// `out = a ∘ b` broadcast over `shape` (`ndim` values at `shape`), with element strides
/// `sa`, `sb` over it (0 where broadcast); `p` scales `SCALE_A`.
///
/// # Safety
/// All pointers must address arrays of the sizes the shape and strides imply.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_binary_bcast(op: u32, p: f32, ndim: usize, shape: usize, a: usize, sa: usize, b: usize, sb: usize, out: usize) {
    binary_call(ew::binary_bcast, op, p, ndim, shape, a, sa, b, sb, out);
}

/// # Safety
/// As for `tread_binary_bcast`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_binary_bcast_ref(op: u32, p: f32, ndim: usize, shape: usize, a: usize, sa: usize, b: usize, sb: usize, out: usize) {
    binary_call(ew::binary_bcast_ref, op, p, ndim, shape, a, sa, b, sb, out);
}

/// `out = a ∘ b`, `n` elements each (no broadcasting).
///
/// # Safety
/// The pointers must address `n` f32 each; `out` must not overlap `a` or `b`.
#[no_mangle]
pub unsafe extern "C" fn tread_binary(op: u32, a: usize, b: usize, out: usize, n: usize) {
    ew::binary(op, f32s(a, n), f32s(b, n), f32s_mut(out, n));
}

/// `out = f(x)` for a unary op code, parameters `p1`, `p2`.
///
/// # Safety
/// `n` f32 at `x` and at `out` (not overlapping).
#[no_mangle]
pub unsafe extern "C" fn tread_unary(op: u32, p1: f32, p2: f32, x: usize, out: usize, n: usize) {
    ew::unary(op, p1, p2, f32s(x, n), f32s_mut(out, n));
}

/// # Safety
/// As for `tread_unary`.
#[no_mangle]
pub unsafe extern "C" fn tread_unary_ref(op: u32, p1: f32, p2: f32, x: usize, out: usize, n: usize) {
    ew::unary_ref(op, p1, p2, f32s(x, n), f32s_mut(out, n));
}

/// `dx = g · f'(x)` (y = f(x)).
///
/// # Safety
/// `n` f32 at each pointer; `dx` overlaps none of the others.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_unary_backward(op: u32, p1: f32, p2: f32, x: usize, y: usize, g: usize, dx: usize, n: usize) {
    ew::unary_backward(op, p1, p2, f32s(x, n), f32s(y, n), f32s(g, n), f32s_mut(dx, n));
}

/// # Safety
/// As for `tread_unary_backward`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_unary_backward_ref(op: u32, p1: f32, p2: f32, x: usize, y: usize, g: usize, dx: usize, n: usize) {
    ew::unary_backward_ref(op, p1, p2, f32s(x, n), f32s(y, n), f32s(g, n), f32s_mut(dx, n));
}

/// `y += alpha · x`.
///
/// # Safety
/// `n` f32 at `x` and `y`, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn tread_axpy(alpha: f32, x: usize, y: usize, n: usize) {
    ew::axpy(alpha, f32s(x, n), f32s_mut(y, n));
}

/// # Safety
/// As for `tread_axpy`.
#[no_mangle]
pub unsafe extern "C" fn tread_axpy_ref(alpha: f32, x: usize, y: usize, n: usize) {
    ew::axpy_ref(alpha, f32s(x, n), f32s_mut(y, n));
}

/// `out[i] = value`.
///
/// # Safety
/// `n` f32 at `out`.
#[no_mangle]
pub unsafe extern "C" fn tread_fill(out: usize, n: usize, value: f32) {
    ew::fill(f32s_mut(out, n), value);
}

/// `out = act(x)`.
///
/// # Safety
/// `n` f32 at `x` and `out`, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn tread_act(op: u32, p1: f32, p2: f32, x: usize, out: usize, n: usize) {
    activation::forward(op, p1, p2, f32s(x, n), f32s_mut(out, n));
}

/// # Safety
/// As for `tread_act`.
#[no_mangle]
pub unsafe extern "C" fn tread_act_ref(op: u32, p1: f32, p2: f32, x: usize, out: usize, n: usize) {
    activation::forward_ref(op, p1, p2, f32s(x, n), f32s_mut(out, n));
}

/// `dx = g · act'(x)`, with `y = act(x)`.
///
/// # Safety
/// `n` f32 at each pointer; `dx` overlaps none of the others.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_act_backward(op: u32, p1: f32, p2: f32, x: usize, y: usize, g: usize, dx: usize, n: usize) {
    activation::backward(op, p1, p2, f32s(x, n), f32s(y, n), f32s(g, n), f32s_mut(dx, n));
}

/// # Safety
/// As for `tread_act_backward`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_act_backward_ref(op: u32, p1: f32, p2: f32, x: usize, y: usize, g: usize, dx: usize, n: usize) {
    activation::backward_ref(op, p1, p2, f32s(x, n), f32s(y, n), f32s(g, n), f32s_mut(dx, n));
}

/// `out[o, i] = scale · Σ_k x[o, k, i]`.
///
/// # Safety
/// `outer·n·inner` f32 at `x`, `outer·inner` at `out`.
#[no_mangle]
pub unsafe extern "C" fn tread_sum_axis(x: usize, outer: usize, n: usize, inner: usize, scale: f32, out: usize) {
    reduce::sum_axis(f32s(x, outer * n * inner), outer, n, inner, scale, f32s_mut(out, outer * inner));
}

/// # Safety
/// As for `tread_sum_axis`.
#[no_mangle]
pub unsafe extern "C" fn tread_sum_axis_ref(x: usize, outer: usize, n: usize, inner: usize, scale: f32, out: usize) {
    reduce::sum_axis_ref(f32s(x, outer * n * inner), outer, n, inner, scale, f32s_mut(out, outer * inner));
}

/// Σ of `n` f32.
///
/// # Safety
/// `n` f32 at `x`.
#[no_mangle]
pub unsafe extern "C" fn tread_sum_all(x: usize, n: usize) -> f32 {
    reduce::sum_all(f32s(x, n))
}

/// # Safety
/// As for `tread_sum_all`.
#[no_mangle]
pub unsafe extern "C" fn tread_sum_all_ref(x: usize, n: usize) -> f32 {
    reduce::sum_all_ref(f32s(x, n))
}

/// Max along the middle axis of `[outer, n, inner]`, with the argmax (i32) at `idx`.
///
/// # Safety
/// `outer·n·inner` f32 at `x`, `outer·inner` f32 at `out` and i32 at `idx`.
#[no_mangle]
pub unsafe extern "C" fn tread_max_axis(x: usize, outer: usize, n: usize, inner: usize, out: usize, idx: usize) {
    let m = outer * inner;
    let idx = if m == 0 { &mut [] } else { std::slice::from_raw_parts_mut(idx as *mut i32, m) };
    reduce::max_axis(f32s(x, outer * n * inner), outer, n, inner, f32s_mut(out, m), idx);
}

/// # Safety
/// As for `tread_max_axis`.
#[no_mangle]
pub unsafe extern "C" fn tread_max_axis_ref(x: usize, outer: usize, n: usize, inner: usize, out: usize, idx: usize) {
    let m = outer * inner;
    let idx = if m == 0 { &mut [] } else { std::slice::from_raw_parts_mut(idx as *mut i32, m) };
    reduce::max_axis_ref(f32s(x, outer * n * inner), outer, n, inner, f32s_mut(out, m), idx);
}

/// Backward of `tread_max_axis`: scatter `g` to the argmax positions of `dx` (zeroed).
///
/// # Safety
/// `outer·inner` f32 at `g` and i32 at `idx`, `outer·n·inner` f32 at `dx`.
#[no_mangle]
pub unsafe extern "C" fn tread_max_axis_backward(g: usize, idx: usize, outer: usize, n: usize, inner: usize, dx: usize) {
    let m = outer * inner;
    let idx = if m == 0 { &[] } else { std::slice::from_raw_parts(idx as *const i32, m) };
    reduce::max_axis_backward(f32s(g, m), idx, outer, n, inner, f32s_mut(dx, outer * n * inner));
}

/// Sum of a broadcast gradient `g` (contiguous over `shape`) back to the input whose strides
/// over `shape` are `st` (0 where broadcast). `out_len` elements at `out`.
///
/// # Safety
/// `Π shape` f32 at `g`, `out_len` f32 at `out`, `ndim` usize at `shape` and `st`.
#[no_mangle]
pub unsafe extern "C" fn tread_reduce_to(ndim: usize, shape: usize, g: usize, st: usize, out: usize, out_len: usize) {
    let shape = usizes(shape, ndim);
    let n: usize = shape.iter().product();
    reduce::reduce_to(shape, f32s(g, n), usizes(st, ndim), f32s_mut(out, out_len));
}

/// # Safety
/// As for `tread_reduce_to`.
#[no_mangle]
pub unsafe extern "C" fn tread_reduce_to_ref(ndim: usize, shape: usize, g: usize, st: usize, out: usize, out_len: usize) {
    let shape = usizes(shape, ndim);
    let n: usize = shape.iter().product();
    reduce::reduce_to_ref(shape, f32s(g, n), usizes(st, ndim), f32s_mut(out, out_len));
}

/// Softmax (`log` = 1: log-softmax) along the middle axis of `[outer, n, inner]`.
///
/// # Safety
/// `outer·n·inner` f32 at `x` and at `out` (not overlapping).
#[no_mangle]
pub unsafe extern "C" fn tread_softmax(x: usize, outer: usize, n: usize, inner: usize, log: u32, out: usize) {
    let len = outer * n * inner;
    softmax::softmax(f32s(x, len), outer, n, inner, log != 0, f32s_mut(out, len));
}

/// # Safety
/// As for `tread_softmax`.
#[no_mangle]
pub unsafe extern "C" fn tread_softmax_ref(x: usize, outer: usize, n: usize, inner: usize, log: u32, out: usize) {
    let len = outer * n * inner;
    softmax::softmax_ref(f32s(x, len), outer, n, inner, log != 0, f32s_mut(out, len));
}

/// Backward of `tread_softmax` from its output `y` and the gradient `g`.
///
/// # Safety
/// `outer·n·inner` f32 at each pointer; `dx` overlaps neither `y` nor `g`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_softmax_backward(y: usize, g: usize, outer: usize, n: usize, inner: usize, log: u32, dx: usize) {
    let len = outer * n * inner;
    softmax::softmax_backward(f32s(y, len), f32s(g, len), outer, n, inner, log != 0, f32s_mut(dx, len));
}

/// # Safety
/// As for `tread_softmax_backward`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_softmax_backward_ref(y: usize, g: usize, outer: usize, n: usize, inner: usize, log: u32, dx: usize) {
    let len = outer * n * inner;
    softmax::softmax_backward_ref(f32s(y, len), f32s(g, len), outer, n, inner, log != 0, f32s_mut(dx, len));
}
