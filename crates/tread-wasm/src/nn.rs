//! Exports of the layer kernels (`tread_core::kernels::{linear, conv, pool, norm, group_norm, dropout}`;
//! the losses are in losses.rs). Pointers are byte offsets into linear memory; 0 means "not given" for
//! optional operands (bias, gradients that are not wanted).

use tread_core::kernels::{conv, dropout, group_norm, im2col, linear, norm, pool, window};

unsafe fn f32s<'a>(p: usize, n: usize) -> &'a [f32] {
    if n == 0 || p == 0 { &[] } else { std::slice::from_raw_parts(p as *const f32, n) }
}
unsafe fn f32s_mut<'a>(p: usize, n: usize) -> &'a mut [f32] {
    if n == 0 || p == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut f32, n) }
}
unsafe fn i32s<'a>(p: usize, n: usize) -> &'a [i32] {
    if n == 0 || p == 0 { &[] } else { std::slice::from_raw_parts(p as *const i32, n) }
}
unsafe fn i32s_mut<'a>(p: usize, n: usize) -> &'a mut [i32] {
    if n == 0 || p == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut i32, n) }
}
unsafe fn opt<'a>(p: usize, n: usize) -> Option<&'a [f32]> {
    if p == 0 { None } else { Some(f32s(p, n)) }
}
unsafe fn opt_mut<'a>(p: usize, n: usize) -> Option<&'a mut [f32]> {
    if p == 0 { None } else { Some(f32s_mut(p, n)) }
}

// ---- Linear ----

/// # Safety
/// Pointers address arrays of the implied sizes; `b` may be 0.
#[no_mangle]
pub unsafe extern "C" fn tread_linear_forward(m: usize, fin: usize, fout: usize, x: usize, w: usize, b: usize, y: usize) {
    linear::linear_forward(m, fin, fout, f32s(x, m * fin), f32s(w, fout * fin), opt(b, fout), f32s_mut(y, m * fout));
}

/// # Safety
/// As above; `dx`, `dw`, `db` may be 0 (not wanted).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_linear_backward(
    m: usize, fin: usize, fout: usize, x: usize, w: usize, dy: usize,
    dx: usize, dw: usize, dw_beta: f32, db: usize, db_beta: f32,
) {
    linear::linear_backward(
        m, fin, fout, f32s(x, m * fin), f32s(w, fout * fin), f32s(dy, m * fout),
        opt_mut(dx, m * fin), opt_mut(dw, fout * fin).map(|d| (d, dw_beta)), opt_mut(db, fout).map(|d| (d, db_beta)),
    );
}

/// `y[m, fout] = relu(x[m, fin]·Wᵀ + b)`: Linear followed by ReLU in one GEMM (bias and
/// clamp in its epilogue). Its backward is `tread_linear_relu_backward`. `b` may be 0.
///
/// # Safety
/// Pointers address arrays of the implied sizes.
#[no_mangle]
pub unsafe extern "C" fn tread_linear_forward_relu(m: usize, fin: usize, fout: usize, x: usize, w: usize, b: usize, y: usize) {
    linear::linear_forward_act(m, fin, fout, f32s(x, m * fin), f32s(w, fout * fin), opt(b, fout), true, f32s_mut(y, m * fout));
}

/// Backward of `tread_linear_forward_relu` from its output `y`: `dz = dy·[y > 0]` into the
/// scratch `dz` (`m × fout`), then dx, dW, db as `tread_linear_backward` on `dz`.
///
/// # Safety
/// As above; `dx`, `dw`, `db` may be 0 (not wanted).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_linear_relu_backward(
    m: usize, fin: usize, fout: usize, x: usize, w: usize, y: usize, dy: usize, dz: usize,
    dx: usize, dw: usize, dw_beta: f32, db: usize, db_beta: f32,
) {
    linear::linear_relu_backward(
        m, fin, fout, f32s(x, m * fin), f32s(w, fout * fin), f32s(y, m * fout), f32s(dy, m * fout), f32s_mut(dz, m * fout),
        opt_mut(dx, m * fin), opt_mut(dw, fout * fin).map(|d| (d, dw_beta)), opt_mut(db, fout).map(|d| (d, db_beta)),
    );
}

// ---- Conv2d ----

#[allow(clippy::too_many_arguments)]
fn conv_shape(n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize) -> conv::ConvShape {
    conv::ConvShape::plain(n, c, h, w, oc, kh, kw, sh, sw, ph, pw)
}

/// The full geometry of the `_ex` exports: padding before/after per axis (top, bottom, left,
/// right), dilation, groups and the padding mode (0 zeros, 1 reflect, 2 replicate, 3 circular).
#[allow(clippy::too_many_arguments)]
fn conv_shape_ex(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize,
    pt: usize, pb: usize, pl: usize, pr: usize, dh: usize, dw: usize, groups: usize, mode: u32,
) -> conv::ConvShape {
    let mode = im2col::PadMode::from_code(mode);
    conv::ConvShape { n, c, h, w, oc, kh, kw, sh, sw, ph: pt, pw: pl, ph_end: pb, pw_end: pr, dh, dw, groups, mode }
}

/// Window positions of one axis (conv and pooling share `kernels::window`): `len` inputs,
/// `k` taps `dilation` apart, `stride`, padding `pad_lo` before and `pad_hi` after, pooling's
/// `ceil` mode (0/1). 0 when the window does not fit.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn tread_window_out_size(len: usize, k: usize, stride: usize, dilation: usize, pad_lo: usize, pad_hi: usize, ceil: u32) -> usize {
    window::Axis { k, stride, dilation, pad_lo, pad_hi, ceil: ceil != 0 }.out_size(len)
}

/// Floats of the buffer `tread_conv2d_forward_ex` fills for the backward (im2col columns, or
/// a copy of the input on the depthwise path); `usize::MAX` (-1 as an i32) when that count does
/// not fit 32 bits: the caller must refuse the geometry, not allocate a wrapped size.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn tread_conv2d_saved_len_ex(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize,
    pt: usize, pb: usize, pl: usize, pr: usize, dh: usize, dw: usize, groups: usize, mode: u32,
) -> usize {
    conv_shape_ex(n, c, h, w, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups, mode).checked_saved_len().unwrap_or(usize::MAX)
}

/// Forward with every option (`conv_shape_ex`); weights `[oc, c/groups, kh, kw]`; `cols`:
/// `tread_conv2d_saved_len_ex` floats, kept for the backward pass.
///
/// # Safety
/// Pointers address arrays of the implied sizes; `b` may be 0.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_conv2d_forward_ex(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize,
    pt: usize, pb: usize, pl: usize, pr: usize, dh: usize, dw: usize, groups: usize, mode: u32,
    x: usize, wt: usize, b: usize, y: usize, cols: usize,
) {
    let s = conv_shape_ex(n, c, h, w, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups, mode);
    conv::conv2d_forward(&s, f32s(x, s.x_len()), f32s(wt, s.w_len()), opt(b, oc), f32s_mut(y, s.y_len()), f32s_mut(cols, s.saved_len()));
}

/// Backward of `tread_conv2d_forward_ex` from its `cols`; `dw`, `db`, `dx` may be 0.
///
/// # Safety
/// As above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_conv2d_backward_ex(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize,
    pt: usize, pb: usize, pl: usize, pr: usize, dh: usize, dw_: usize, groups: usize, mode: u32,
    cols: usize, wt: usize, dy: usize, dw: usize, dw_beta: f32, db: usize, db_beta: f32, dx: usize,
) {
    let s = conv_shape_ex(n, c, h, w, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw_, groups, mode);
    conv::conv2d_backward(
        &s, f32s(cols, s.saved_len()), f32s(wt, s.w_len()), f32s(dy, s.y_len()),
        opt_mut(dw, s.w_len()).map(|d| (d, dw_beta)), opt_mut(db, oc).map(|d| (d, db_beta)), opt_mut(dx, s.x_len()),
    );
}

/// `tread_conv2d_forward_ex` followed by ReLU (`relu` 0/1), clamped per sample while in cache.
///
/// # Safety
/// As `tread_conv2d_forward_ex`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_conv2d_forward_act_ex(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize,
    pt: usize, pb: usize, pl: usize, pr: usize, dh: usize, dw: usize, groups: usize, mode: u32,
    x: usize, wt: usize, b: usize, relu: u32, y: usize, cols: usize,
) {
    let s = conv_shape_ex(n, c, h, w, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups, mode);
    conv::conv2d_forward_act(&s, f32s(x, s.x_len()), f32s(wt, s.w_len()), opt(b, oc), relu != 0, f32s_mut(y, s.y_len()), f32s_mut(cols, s.saved_len()));
}

/// Backward of `tread_conv2d_forward_act_ex` with ReLU: `y` is its output (`dy` counts only
/// where `y > 0`); otherwise as `tread_conv2d_backward_ex`.
///
/// # Safety
/// As `tread_conv2d_backward_ex`; `y` addresses the output.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_conv2d_relu_backward_ex(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize,
    pt: usize, pb: usize, pl: usize, pr: usize, dh: usize, dw_: usize, groups: usize, mode: u32,
    cols: usize, wt: usize, y: usize, dy: usize, dw: usize, dw_beta: f32, db: usize, db_beta: f32, dx: usize,
) {
    let s = conv_shape_ex(n, c, h, w, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw_, groups, mode);
    conv::conv2d_backward_masked(
        &s, f32s(cols, s.saved_len()), f32s(wt, s.w_len()), Some(f32s(y, s.y_len())), f32s(dy, s.y_len()),
        opt_mut(dw, s.w_len()).map(|d| (d, dw_beta)), opt_mut(db, oc).map(|d| (d, db_beta)), opt_mut(dx, s.x_len()),
    );
}

/// Tile size of the Winograd path of 3x3 stride-1 convolutions: 4, 2 (default), or 0 (off:
/// im2col + GEMM). For tests and measurements comparing the paths; a buffer saved by a
/// forward must go to a backward run under the same setting.
#[no_mangle]
pub extern "C" fn tread_conv2d_set_winograd(m: u32) {
    conv::set_winograd_tile(m);
}

/// Direct-loop reference forward (tests).
///
/// # Safety
/// As above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_conv2d_forward_ref(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize,
    x: usize, wt: usize, b: usize, y: usize,
) {
    let s = conv_shape(n, c, h, w, oc, kh, kw, sh, sw, ph, pw);
    conv::conv2d_forward_ref(&s, f32s(x, s.x_len()), f32s(wt, s.w_len()), opt(b, oc), f32s_mut(y, s.y_len()));
}

/// Direct-loop reference backward (tests); all three gradients overwritten.
///
/// # Safety
/// As above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_conv2d_backward_ref(
    n: usize, c: usize, h: usize, w: usize, oc: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize,
    x: usize, wt: usize, dy: usize, dx: usize, dw: usize, db: usize,
) {
    let s = conv_shape(n, c, h, w, oc, kh, kw, sh, sw, ph, pw);
    conv::conv2d_backward_ref(
        &s, f32s(x, s.x_len()), f32s(wt, s.w_len()), f32s(dy, s.y_len()),
        f32s_mut(dx, s.x_len()), f32s_mut(dw, s.w_len()), f32s_mut(db, oc),
    );
}

// ---- Pooling ----

/// `dh`, `dw`: dilation (1 for average pooling); `ceil`: PyTorch's ceil_mode (0/1).
#[allow(clippy::too_many_arguments)]
fn pool_shape(planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, dh: usize, dw: usize, ceil: u32) -> pool::PoolShape {
    pool::PoolShape { planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil: ceil != 0 }
}

/// # Safety
/// Pointers address arrays of the implied sizes (`idx`: int32, one per output).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_maxpool2d_forward(
    planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, dh: usize, dw: usize, ceil: u32,
    x: usize, y: usize, idx: usize,
) {
    let s = pool_shape(planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil);
    pool::maxpool2d_forward(&s, f32s(x, s.x_len()), f32s_mut(y, s.y_len()), i32s_mut(idx, s.y_len()));
}

/// # Safety
/// As above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_maxpool2d_backward(
    planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, dh: usize, dw: usize, ceil: u32,
    dy: usize, idx: usize, dx: usize,
) {
    let s = pool_shape(planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil);
    pool::maxpool2d_backward(&s, f32s(dy, s.y_len()), i32s(idx, s.y_len()), f32s_mut(dx, s.x_len()));
}

/// `divisor_override`: 0 for none (PyTorch forbids 0).
///
/// # Safety
/// As above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_avgpool2d_forward(
    planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, ceil: u32,
    count_include_pad: u32, divisor_override: f32, x: usize, y: usize,
) {
    let s = pool_shape(planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1, ceil);
    pool::avgpool2d_forward(&s, f32s(x, s.x_len()), f32s_mut(y, s.y_len()), count_include_pad != 0, (divisor_override != 0.0).then_some(divisor_override));
}

/// # Safety
/// As above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_avgpool2d_backward(
    planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, ceil: u32,
    count_include_pad: u32, divisor_override: f32, dy: usize, dx: usize,
) {
    let s = pool_shape(planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1, ceil);
    pool::avgpool2d_backward(&s, f32s(dy, s.y_len()), f32s_mut(dx, s.x_len()), count_include_pad != 0, (divisor_override != 0.0).then_some(divisor_override));
}

// ---- BatchNorm ----

/// Training forward: writes y, the batch mean and invstd; updates running stats when
/// `rm`/`rv` are given (both or neither).
///
/// # Safety
/// Pointers address arrays of the implied sizes; `wt`, `b`, `rm`, `rv` may be 0.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_batchnorm_forward_train(
    n: usize, c: usize, l: usize, x: usize, wt: usize, b: usize, eps: f32, momentum: f32,
    y: usize, mean: usize, invstd: usize, rm: usize, rv: usize,
) {
    let s = norm::BnShape { n, c, l };
    let running = if rm != 0 && rv != 0 { Some((f32s_mut(rm, c), f32s_mut(rv, c))) } else { None };
    norm::batchnorm_forward_train(&s, f32s(x, s.len()), opt(wt, c), opt(b, c), eps, momentum, f32s_mut(y, s.len()), f32s_mut(mean, c), f32s_mut(invstd, c), running);
}

/// Evaluation forward with running statistics.
///
/// # Safety
/// As above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_batchnorm_forward_eval(n: usize, c: usize, l: usize, x: usize, wt: usize, b: usize, rm: usize, rv: usize, eps: f32, y: usize) {
    let s = norm::BnShape { n, c, l };
    norm::batchnorm_forward_eval(&s, f32s(x, s.len()), opt(wt, c), opt(b, c), f32s(rm, c), f32s(rv, c), eps, f32s_mut(y, s.len()));
}

/// Backward (`train` 0/1 says which statistics `mean`/`invstd` hold).
///
/// # Safety
/// As above; `wt`, `dx`, `dw`, `db` may be 0.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_batchnorm_backward(
    n: usize, c: usize, l: usize, train: u32, x: usize, dy: usize, wt: usize, mean: usize, invstd: usize,
    dx: usize, dw: usize, dw_beta: f32, db: usize, db_beta: f32,
) {
    let s = norm::BnShape { n, c, l };
    norm::batchnorm_backward(
        &s, train != 0, f32s(x, s.len()), f32s(dy, s.len()), opt(wt, c), f32s(mean, c), f32s(invstd, c),
        opt_mut(dx, s.len()), opt_mut(dw, c).map(|d| (d, dw_beta)), opt_mut(db, c).map(|d| (d, db_beta)),
    );
}

// ---- GroupNorm / LayerNorm ----

/// Forward over `[n, c, l]` in `g` groups: `y`, and `mean`/`rstd` per (sample, group).
///
/// # Safety
/// Pointers address arrays of the implied sizes; `wt` and `b` are both 0 (not affine) or both given.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_groupnorm_forward(n: usize, c: usize, l: usize, g: usize, x: usize, wt: usize, b: usize, eps: f32, y: usize, mean: usize, rstd: usize) {
    let s = group_norm::GnShape { n, c, l, g };
    let affine = opt(wt, c).zip(opt(b, c));
    group_norm::forward(&s, f32s(x, s.len()), affine, eps, f32s_mut(y, s.len()), f32s_mut(mean, s.rows()), f32s_mut(rstd, s.rows()));
}

/// Backward: `dx` overwritten, `dw`/`db` as `beta·old + new`.
///
/// # Safety
/// As above; `wt`, `dx`, `dw`, `db` may be 0.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_groupnorm_backward(
    n: usize, c: usize, l: usize, g: usize, x: usize, dy: usize, wt: usize, mean: usize, rstd: usize,
    dx: usize, dw: usize, dw_beta: f32, db: usize, db_beta: f32,
) {
    let s = group_norm::GnShape { n, c, l, g };
    group_norm::backward(
        &s, f32s(x, s.len()), f32s(dy, s.len()), opt(wt, c), f32s(mean, s.rows()), f32s(rstd, s.rows()),
        opt_mut(dx, s.len()), opt_mut(dw, c).map(|d| (d, dw_beta)), opt_mut(db, c).map(|d| (d, db_beta)),
    );
}

// ---- Dropout ----

/// # Safety
/// Pointers address `len` floats each.
#[no_mangle]
pub unsafe extern "C" fn tread_dropout_forward(seed_lo: u32, seed_hi: u32, p: f32, x: usize, y: usize, mask: usize, len: usize) {
    let seed = (seed_hi as u64) << 32 | seed_lo as u64;
    dropout::dropout_forward(seed, p, f32s(x, len), f32s_mut(y, len), f32s_mut(mask, len));
}

/// # Safety
/// Pointers address `len` floats each.
#[no_mangle]
pub unsafe extern "C" fn tread_dropout_backward(dy: usize, mask: usize, dx: usize, len: usize) {
    dropout::dropout_backward(f32s(dy, len), f32s(mask, len), f32s_mut(dx, len));
}
