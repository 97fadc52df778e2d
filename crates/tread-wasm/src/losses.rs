//! Exports of the loss kernels (`tread_core::kernels::loss`). Pointers are byte offsets into
//! linear memory; 0 means "not given" for the optional operands (`weight`, `pos_weight`).
//! Class losses return the number of counted samples, or `-1 - i` for a bad target at i.

use tread_core::kernels::loss::{self, ClassShape, ElementWeights};

unsafe fn f32s<'a>(p: usize, n: usize) -> &'a [f32] {
    if n == 0 || p == 0 { &[] } else { std::slice::from_raw_parts(p as *const f32, n) }
}
unsafe fn f32s_mut<'a>(p: usize, n: usize) -> &'a mut [f32] {
    if n == 0 || p == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut f32, n) }
}
unsafe fn i32s<'a>(p: usize, n: usize) -> &'a [i32] {
    if n == 0 || p == 0 { &[] } else { std::slice::from_raw_parts(p as *const i32, n) }
}
unsafe fn opt<'a>(p: usize, n: usize) -> Option<&'a [f32]> {
    if p == 0 { None } else { Some(f32s(p, n)) }
}

fn encode(r: Result<usize, loss::BadTarget>) -> i32 {
    match r {
        Ok(c) => c as i32,
        Err(b) => -1 - b.index as i32,
    }
}

/// Elements of the loss output: one per sample for `NONE`, else one.
fn out_len(reduction: u32, samples: usize) -> usize {
    if reduction == loss::NONE { samples } else { 1 }
}

/// Fused cross-entropy with class-index targets; `weight` (C floats) may be 0.
///
/// # Safety
/// `x`/`probs`: outer·c·inner floats; `target`: outer·inner int32; `out`: outer·inner or 1.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_cross_entropy_forward(
    outer: usize, c: usize, inner: usize, x: usize, target: usize, weight: usize, smoothing: f32, ignore_index: i32,
    reduction: u32, probs: usize, out: usize,
) -> i32 {
    let s = ClassShape { outer, c, inner };
    let ns = s.samples();
    encode(loss::cross_entropy_forward(
        &s, f32s(x, s.len()), i32s(target, ns), opt(weight, c), smoothing, ignore_index, reduction,
        f32s_mut(probs, s.len()), f32s_mut(out, out_len(reduction, ns)),
    ))
}

/// # Safety
/// As above; `g`: outer·inner or 1 floats; `dx` as x.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_cross_entropy_backward(
    outer: usize, c: usize, inner: usize, probs: usize, target: usize, weight: usize, smoothing: f32, ignore_index: i32,
    reduction: u32, g: usize, dx: usize,
) {
    let s = ClassShape { outer, c, inner };
    let ns = s.samples();
    loss::cross_entropy_backward(
        &s, f32s(probs, s.len()), i32s(target, ns), opt(weight, c), smoothing, ignore_index, reduction,
        f32s(g, out_len(reduction, ns)), f32s_mut(dx, s.len()),
    );
}

/// Cross-entropy against probability targets (float, shaped like x).
///
/// # Safety
/// `x`/`target`/`probs`: outer·c·inner floats; `weight`: c floats or 0; `out`: outer·inner or 1.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_cross_entropy_prob_forward(
    outer: usize, c: usize, inner: usize, x: usize, target: usize, weight: usize, smoothing: f32, reduction: u32, probs: usize, out: usize,
) {
    let s = ClassShape { outer, c, inner };
    loss::cross_entropy_prob_forward(
        &s, f32s(x, s.len()), f32s(target, s.len()), opt(weight, c), smoothing, reduction,
        f32s_mut(probs, s.len()), f32s_mut(out, out_len(reduction, s.samples())),
    );
}

/// # Safety
/// As above; `g`: outer·inner or 1 floats; `dx` as x.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_cross_entropy_prob_backward(
    outer: usize, c: usize, inner: usize, probs: usize, target: usize, weight: usize, smoothing: f32, reduction: u32, g: usize, dx: usize,
) {
    let s = ClassShape { outer, c, inner };
    loss::cross_entropy_prob_backward(
        &s, f32s(probs, s.len()), f32s(target, s.len()), opt(weight, c), smoothing, reduction,
        f32s(g, out_len(reduction, s.samples())), f32s_mut(dx, s.len()),
    );
}

/// NLL over log-probabilities; returns as cross-entropy.
///
/// # Safety
/// As for cross-entropy.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_nll_forward(outer: usize, c: usize, inner: usize, x: usize, target: usize, weight: usize, ignore_index: i32, reduction: u32, out: usize) -> i32 {
    let s = ClassShape { outer, c, inner };
    let ns = s.samples();
    encode(loss::nll_forward(&s, f32s(x, s.len()), i32s(target, ns), opt(weight, c), ignore_index, reduction, f32s_mut(out, out_len(reduction, ns))))
}

/// # Safety
/// As for cross-entropy.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_nll_backward(outer: usize, c: usize, inner: usize, target: usize, weight: usize, ignore_index: i32, reduction: u32, g: usize, dx: usize) {
    let s = ClassShape { outer, c, inner };
    let ns = s.samples();
    loss::nll_backward(&s, i32s(target, ns), opt(weight, c), ignore_index, reduction, f32s(g, out_len(reduction, ns)), f32s_mut(dx, s.len()));
}

/// Element-wise losses (`kind`: MSE 0, L1 1, SmoothL1 2, Huber 3, BCE 4, BCEWithLogits 5);
/// `weight`, `pos_weight`: n floats each (broadcast by the caller) or 0.
///
/// # Safety
/// `x`, `t`: n floats; `out`: n or 1.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_pointwise_loss_forward(kind: u32, param: f32, x: usize, t: usize, weight: usize, pos_weight: usize, n: usize, reduction: u32, out: usize) {
    let ew = ElementWeights { weight: opt(weight, n), pos_weight: opt(pos_weight, n) };
    loss::pointwise_forward(kind, param, f32s(x, n), f32s(t, n), ew, reduction, f32s_mut(out, out_len(reduction, n)));
}

/// # Safety
/// `x`, `t`, `dx`: n floats; `g`: n or 1; weights as above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_pointwise_loss_backward(kind: u32, param: f32, x: usize, t: usize, weight: usize, pos_weight: usize, n: usize, reduction: u32, g: usize, dx: usize) {
    let ew = ElementWeights { weight: opt(weight, n), pos_weight: opt(pos_weight, n) };
    loss::pointwise_backward(kind, param, f32s(x, n), f32s(t, n), ew, reduction, f32s(g, out_len(reduction, n)), f32s_mut(dx, n));
}
