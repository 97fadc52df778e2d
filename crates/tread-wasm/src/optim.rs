//! Optimizer steps and their helper kernels (`tread_core::optim`). Pointers are byte
//! offsets of f32 arrays of `n` elements; an optional state buffer is 0 when absent.
//! Every step takes `use_ref`: 1 runs the plain scalar reference instead of the fused
//! SIMD/threaded kernel (tests compare the two through wasm). Flags: see `optim::*` consts.
//! Hyper-parameters whose complement the kernel needs (betas, α, ρ, dampening, AdamW's
//! lr·λ) arrive as f64, JavaScript's own numbers, so `1 - β` is computed in double and
//! rounded once, as PyTorch does (`optim::one_minus`).

use tread_core::optim::{adadelta, adagrad, adam, adamax, adamw, multi, nadam, one_minus, radam, reduce, rmsprop, sgd};

unsafe fn r<'a>(p: usize, n: usize) -> &'a [f32] {
    if n == 0 { &[] } else { std::slice::from_raw_parts(p as *const f32, n) }
}
unsafe fn w<'a>(p: usize, n: usize) -> &'a mut [f32] {
    if n == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut f32, n) }
}
unsafe fn opt<'a>(p: usize, n: usize) -> Option<&'a mut [f32]> {
    (p != 0).then(|| w(p, n))
}

/// SGD (momentum buffer `buf`, 0 when momentum = 0).
///
/// # Safety
/// Pointers must address `n` f32 each (or be 0 where optional).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_sgd(p: usize, g: usize, buf: usize, n: usize, lr: f32, momentum: f32, dampening: f64, weight_decay: f32, flags: u32, use_ref: u32) {
    let h = sgd::SgdHp { lr, momentum, dampening: dampening as f32, one_minus_dampening: one_minus(dampening), weight_decay, flags };
    if use_ref != 0 {
        sgd::step_ref(w(p, n), r(g, n), opt(buf, n), &h)
    } else {
        sgd::step(w(p, n), r(g, n), opt(buf, n), &h)
    }
}

/// Adam (`vmax` for AMSGrad, else 0).
///
/// # Safety
/// Pointers must address `n` f32 each (or be 0 where optional).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_adam(
    p: usize, g: usize, m: usize, v: usize, vmax: usize, n: usize, beta1: f64, beta2: f64, eps: f32, weight_decay: f32, step_size: f32, bc2_sqrt: f32, flags: u32, use_ref: u32,
) {
    let (one_minus_beta1, one_minus_beta2) = (one_minus(beta1), one_minus(beta2));
    let h = adam::AdamHp { beta1: beta1 as f32, beta2: beta2 as f32, one_minus_beta1, one_minus_beta2, eps, weight_decay, decay: 1.0, step_size, bc2_sqrt, flags };
    if use_ref != 0 {
        adam::step_ref(w(p, n), r(g, n), w(m, n), w(v, n), opt(vmax, n), &h)
    } else {
        adam::step(w(p, n), r(g, n), w(m, n), w(v, n), opt(vmax, n), &h)
    }
}

/// AdamW: Adam with decoupled decay `p ← p·(1 - lr·weight_decay)`.
///
/// # Safety
/// Pointers must address `n` f32 each (or be 0 where optional).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_adamw(
    p: usize, g: usize, m: usize, v: usize, vmax: usize, n: usize, lr: f64, weight_decay: f64, beta1: f64, beta2: f64, eps: f32, step_size: f32, bc2_sqrt: f32, flags: u32, use_ref: u32,
) {
    let h = adamw::hp(lr, weight_decay, beta1, beta2, eps, step_size, bc2_sqrt, flags);
    if use_ref != 0 {
        adamw::step_ref(w(p, n), r(g, n), w(m, n), w(v, n), opt(vmax, n), &h)
    } else {
        adamw::step(w(p, n), r(g, n), w(m, n), w(v, n), opt(vmax, n), &h)
    }
}

/// Adagrad (`clr` = lr / (1 + (t-1)·lr_decay)).
///
/// # Safety
/// Pointers must address `n` f32 each.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_adagrad(p: usize, g: usize, sum: usize, n: usize, clr: f32, eps: f32, weight_decay: f32, flags: u32, use_ref: u32) {
    let h = adagrad::AdagradHp { clr, eps, weight_decay, flags };
    if use_ref != 0 {
        adagrad::step_ref(w(p, n), r(g, n), w(sum, n), &h)
    } else {
        adagrad::step(w(p, n), r(g, n), w(sum, n), &h)
    }
}

/// RMSprop (`grad_avg` when centered, `buf` when momentum > 0, else 0).
///
/// # Safety
/// Pointers must address `n` f32 each (or be 0 where optional).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_rmsprop(
    p: usize, g: usize, square_avg: usize, grad_avg: usize, buf: usize, n: usize, lr: f32, alpha: f64, eps: f32, weight_decay: f32, momentum: f32, flags: u32, use_ref: u32,
) {
    let h = rmsprop::RmspropHp { lr, alpha: alpha as f32, one_minus_alpha: one_minus(alpha), eps, weight_decay, momentum, flags };
    if use_ref != 0 {
        rmsprop::step_ref(w(p, n), r(g, n), w(square_avg, n), opt(grad_avg, n), opt(buf, n), &h)
    } else {
        rmsprop::step(w(p, n), r(g, n), w(square_avg, n), opt(grad_avg, n), opt(buf, n), &h)
    }
}

/// Adadelta.
///
/// # Safety
/// Pointers must address `n` f32 each.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_adadelta(p: usize, g: usize, square_avg: usize, acc_delta: usize, n: usize, lr: f32, rho: f64, eps: f32, weight_decay: f32, flags: u32, use_ref: u32) {
    let h = adadelta::AdadeltaHp { lr, rho: rho as f32, one_minus_rho: one_minus(rho), eps, weight_decay, flags };
    if use_ref != 0 {
        adadelta::step_ref(w(p, n), r(g, n), w(square_avg, n), w(acc_delta, n), &h)
    } else {
        adadelta::step(w(p, n), r(g, n), w(square_avg, n), w(acc_delta, n), &h)
    }
}

/// Adamax (`clr` = lr / (1 - β1ᵗ)).
///
/// # Safety
/// Pointers must address `n` f32 each.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_adamax(p: usize, g: usize, exp_avg: usize, exp_inf: usize, n: usize, beta1: f64, beta2: f32, eps: f32, weight_decay: f32, clr: f32, flags: u32, use_ref: u32) {
    let h = adamax::AdamaxHp { beta1: beta1 as f32, beta2, one_minus_beta1: one_minus(beta1), eps, weight_decay, clr, flags };
    if use_ref != 0 {
        adamax::step_ref(w(p, n), r(g, n), w(exp_avg, n), w(exp_inf, n), &h)
    } else {
        adamax::step(w(p, n), r(g, n), w(exp_avg, n), w(exp_inf, n), &h)
    }
}

/// NAdam (step constants computed by the caller, see `nadam::NadamHp`).
///
/// # Safety
/// Pointers must address `n` f32 each.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_nadam(
    p: usize, g: usize, exp_avg: usize, exp_avg_sq: usize, n: usize, beta1: f64, beta2: f64, eps: f32, weight_decay: f32, bc2: f32, c_grad: f32, c_avg: f32, flags: u32, use_ref: u32,
) {
    let (one_minus_beta1, one_minus_beta2) = (one_minus(beta1), one_minus(beta2));
    let h = nadam::NadamHp { beta1: beta1 as f32, beta2: beta2 as f32, one_minus_beta1, one_minus_beta2, eps, weight_decay, bc2, c_grad, c_avg, flags };
    if use_ref != 0 {
        nadam::step_ref(w(p, n), r(g, n), w(exp_avg, n), w(exp_avg_sq, n), &h)
    } else {
        nadam::step(w(p, n), r(g, n), w(exp_avg, n), w(exp_avg_sq, n), &h)
    }
}

/// RAdam (`rect` = 0 for an un-rectified step).
///
/// # Safety
/// Pointers must address `n` f32 each.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_optim_radam(
    p: usize, g: usize, exp_avg: usize, exp_avg_sq: usize, n: usize, lr: f32, beta1: f64, beta2: f64, eps: f32, weight_decay: f32, bc1: f32, bc2_sqrt: f32, rect: f32, flags: u32, use_ref: u32,
) {
    let (one_minus_beta1, one_minus_beta2) = (one_minus(beta1), one_minus(beta2));
    let h = radam::RadamHp { lr, beta1: beta1 as f32, beta2: beta2 as f32, one_minus_beta1, one_minus_beta2, eps, weight_decay, bc1, bc2_sqrt, rect, flags };
    if use_ref != 0 {
        radam::step_ref(w(p, n), r(g, n), w(exp_avg, n), w(exp_avg_sq, n), &h)
    } else {
        radam::step(w(p, n), r(g, n), w(exp_avg, n), w(exp_avg_sq, n), &h)
    }
}

/// Index of the first NaN/±Inf among `n` f32 at `x`, or -1.
///
/// # Safety
/// `x` must address `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_first_nonfinite(x: usize, n: usize) -> i32 {
    reduce::first_nonfinite(r(x, n)).map_or(-1, |i| i as i32)
}

/// Σ|x|^p, or max|x| when p is +Inf.
///
/// # Safety
/// `x` must address `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_sum_pow(x: usize, n: usize, p: f64) -> f64 {
    if p == f64::INFINITY {
        reduce::max_abs(r(x, n))
    } else {
        reduce::sum_pow(r(x, n), p)
    }
}

/// x ← x·s
///
/// # Safety
/// `x` must address `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_scale(x: usize, n: usize, s: f32) {
    reduce::scale(w(x, n), s)
}

/// x ← clamp(x, lo, hi)
///
/// # Safety
/// `x` must address `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_clamp(x: usize, n: usize, lo: f32, hi: f32) {
    reduce::clamp(w(x, n), lo, hi)
}

/// g ← g + 2λ·w; returns Σw².
///
/// # Safety
/// `wp`, `g` must address `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_l2_penalty(wp: usize, g: usize, n: usize, lambda: f32) -> f64 {
    reduce::l2_penalty(r(wp, n), w(g, n), lambda)
}

/// g ← g + λ·sign(w); returns Σ|w|.
///
/// # Safety
/// `wp`, `g` must address `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_l1_penalty(wp: usize, g: usize, n: usize, lambda: f32) -> f64 {
    reduce::l1_penalty(r(wp, n), w(g, n), lambda)
}

/// One optimizer step over a whole parameter group (`optim::multi`): `table` holds `count`
/// rows of f64, each the arguments of the per-tensor export of `kind` without `use_ref`
/// (0 sgd, 1 adam, 2 adamw, 3 adagrad, 4 rmsprop, 5 adadelta, 6 adamax, 7 nadam, 8 radam).
/// In a row the columns before `n` are pointers. The group's elements are cut into chunks
/// over the threads; a chunk is the per-tensor kernel on sub-slices (pointers moved by the
/// chunk's start), so the result is the per-tensor calls' bit for bit. Returns 0, or -1 for
/// an unknown kind.
///
/// # Safety
/// `table` must address `count` rows of the kind's width; each row's pointers must address
/// its `n` f32 (or be 0 where optional).
#[no_mangle]
pub unsafe extern "C" fn tread_optim_step_multi(kind: u32, table: usize, count: usize) -> i32 {
    // (width of a row, column of n) per kind
    let (width, ncol) = match kind {
        0 => (9, 3),
        1 => (13, 5),
        2 => (14, 5),
        3 => (8, 3),
        4 => (12, 5),
        5 => (10, 4),
        6 => (11, 4),
        7 => (13, 4),
        8 => (14, 4),
        _ => return -1,
    };
    let rows: &[f64] = if count == 0 { &[] } else { std::slice::from_raw_parts(table as *const f64, count * width) };
    let lens: Vec<usize> = (0..count).map(|t| rows[t * width + ncol] as usize).collect();
    multi::for_each_chunk(&lens, |t, s, e| {
        let mut a = [0f64; 14];
        a[..width].copy_from_slice(&rows[t * width..(t + 1) * width]);
        for c in a.iter_mut().take(ncol) {
            if *c != 0.0 {
                *c += (4 * s) as f64;
            }
        }
        a[ncol] = (e - s) as f64;
        step_row(kind, &a);
    });
    0
}

/// Calls the per-tensor export of `kind` with a row's arguments (f64 to each parameter's
/// type, as the JS-to-wasm call would convert them).
unsafe fn step_row(kind: u32, a: &[f64; 14]) {
    let u = |i: usize| a[i] as usize;
    let f = |i: usize| a[i] as f32;
    let fl = |i: usize| a[i] as u32;
    match kind {
        0 => tread_optim_sgd(u(0), u(1), u(2), u(3), f(4), f(5), a[6], f(7), fl(8), 0),
        1 => tread_optim_adam(u(0), u(1), u(2), u(3), u(4), u(5), a[6], a[7], f(8), f(9), f(10), f(11), fl(12), 0),
        2 => tread_optim_adamw(u(0), u(1), u(2), u(3), u(4), u(5), a[6], a[7], a[8], a[9], f(10), f(11), f(12), fl(13), 0),
        3 => tread_optim_adagrad(u(0), u(1), u(2), u(3), f(4), f(5), f(6), fl(7), 0),
        4 => tread_optim_rmsprop(u(0), u(1), u(2), u(3), u(4), u(5), f(6), a[7], f(8), f(9), f(10), fl(11), 0),
        5 => tread_optim_adadelta(u(0), u(1), u(2), u(3), u(4), f(5), a[6], f(7), f(8), fl(9), 0),
        6 => tread_optim_adamax(u(0), u(1), u(2), u(3), u(4), a[5], f(6), f(7), f(8), f(9), fl(10), 0),
        7 => tread_optim_nadam(u(0), u(1), u(2), u(3), u(4), a[5], a[6], f(7), f(8), f(9), f(10), f(11), fl(12), 0),
        _ => tread_optim_radam(u(0), u(1), u(2), u(3), u(4), f(5), a[6], a[7], f(8), f(9), f(10), f(11), f(12), fl(13), 0),
    }
}

/// The first of `count` tensors (rows of f64 `(pointer, n)` in `table`) holding a NaN or
/// ±Inf, or -1; the chunks are checked over the threads.
///
/// # Safety
/// Each row's pointer must address its `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_first_nonfinite_multi(table: usize, count: usize) -> i32 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let rows: &[f64] = if count == 0 { &[] } else { std::slice::from_raw_parts(table as *const f64, count * 2) };
    let lens: Vec<usize> = (0..count).map(|t| rows[2 * t + 1] as usize).collect();
    let first = AtomicUsize::new(usize::MAX);
    multi::for_each_chunk(&lens, |t, s, e| {
        if t < first.load(Ordering::Relaxed) && reduce::first_nonfinite(r(rows[2 * t] as usize + 4 * s, e - s)).is_some() {
            first.fetch_min(t, Ordering::Relaxed);
        }
    });
    let t = first.load(Ordering::Relaxed);
    if t == usize::MAX { -1 } else { t as i32 }
}

/// Zeroes `count` tensors (rows of f64 `(pointer, n)` in `table`): zeroGrad in one call.
///
/// # Safety
/// Each row's pointer must address its `n` f32.
#[no_mangle]
pub unsafe extern "C" fn tread_optim_zero_multi(table: usize, count: usize) {
    let rows: &[f64] = if count == 0 { &[] } else { std::slice::from_raw_parts(table as *const f64, count * 2) };
    let lens: Vec<usize> = (0..count).map(|t| rows[2 * t + 1] as usize).collect();
    multi::for_each_chunk(&lens, |t, s, e| {
        w(rows[2 * t] as usize + 4 * s, e - s).fill(0.0);
    });
}
