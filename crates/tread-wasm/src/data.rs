//! Data pipeline exports: thin wrappers over `tread_core::data`. Pointers are byte offsets
//! into linear memory; f32 buffers are f32 arrays, i32 index lists are i32 arrays, f64
//! parameter/result buffers are f64 arrays. Random transforms take their key as four u32
//! (seed, epoch, batch, salt), see `tread_core::data::rng`.

use tread_core::data::{augment, gather, linalg, rng::BatchKey, stats};

unsafe fn sl<'a, T>(p: usize, len: usize) -> &'a [T] {
    if len == 0 { &[] } else { std::slice::from_raw_parts(p as *const T, len) }
}
unsafe fn sl_mut<'a, T>(p: usize, len: usize) -> &'a mut [T] {
    if len == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut T, len) }
}

fn status(r: Result<(), usize>) -> i32 {
    match r {
        Ok(()) => -1,
        Err(p) => p as i32,
    }
}

/// Gathers rows `idx[0..count]` of `src` (`rows × row_len` 4-byte elements: f32 or i32)
/// into `dst`. Returns -1, or the position of the first index outside `0..rows` (nothing is
/// written then).
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_gather_u32(src: usize, rows: usize, row_len: usize, idx: usize, count: usize, dst: usize) -> i32 {
    status(gather::gather_rows_u32(sl(src, rows * row_len), row_len, sl(idx, count), sl_mut(dst, count * row_len)))
}

/// As `tread_data_gather_u32` for byte rows, widened to f32 times `scale`.
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_gather_u8_f32(src: usize, rows: usize, row_len: usize, idx: usize, count: usize, scale: f32, dst: usize) -> i32 {
    status(gather::gather_rows_u8_f32(sl(src, rows * row_len), row_len, sl(idx, count), scale, sl_mut(dst, count * row_len)))
}

/// `dst[i] = src[i] * scale` from bytes to f32.
///
/// # Safety
/// Pointers must address arrays of `n` elements.
#[no_mangle]
pub unsafe extern "C" fn tread_data_u8_to_f32(src: usize, n: usize, scale: f32, dst: usize) {
    gather::u8_to_f32(sl(src, n), scale, sl_mut(dst, n));
}

fn shape(n: usize, c: usize, h: usize, w: usize) -> augment::Nchw {
    augment::Nchw { n, c, h, w }
}

/// RandomCrop(oh × ow, padding `pad`, fill) on an NCHW batch into `dst` (n × c × oh × ow).
///
/// # Safety
/// Pointers must address arrays of the sizes given; the caller checked oh <= h + 2·pad, ow <= w + 2·pad.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_data_random_crop(
    src: usize, n: usize, c: usize, h: usize, w: usize, dst: usize, oh: usize, ow: usize, pad: usize, fill: f32,
    seed: u32, epoch: u32, batch: u32, salt: u32,
) {
    let s = shape(n, c, h, w);
    augment::random_crop(sl(src, s.len()), s, sl_mut(dst, n * c * oh * ow), oh, ow, pad, fill, BatchKey::new(seed, epoch, batch, salt));
}

/// Random whole-pixel translation by |dy| <= max_dy, |dx| <= max_dx, `fill` shifted in.
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_data_random_translate(
    src: usize, n: usize, c: usize, h: usize, w: usize, dst: usize, max_dy: usize, max_dx: usize, fill: f32,
    seed: u32, epoch: u32, batch: u32, salt: u32,
) {
    let s = shape(n, c, h, w);
    augment::random_translate(sl(src, s.len()), s, sl_mut(dst, s.len()), max_dy, max_dx, fill, BatchKey::new(seed, epoch, batch, salt));
}

/// Random horizontal (`horizontal` = 1) or vertical flip of each image with probability p.
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tread_data_random_flip(
    src: usize, n: usize, c: usize, h: usize, w: usize, dst: usize, p: f64, horizontal: u32,
    seed: u32, epoch: u32, batch: u32, salt: u32,
) {
    let s = shape(n, c, h, w);
    augment::random_flip(sl(src, s.len()), s, sl_mut(dst, s.len()), p, horizontal != 0, BatchKey::new(seed, epoch, batch, salt));
}

/// `dst = (src - sub[ch]) * mul[ch]` over `[outer, c, inner]` (sub, mul: f32 × c).
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_channel_affine(src: usize, outer: usize, c: usize, inner: usize, sub: usize, mul: usize, dst: usize) {
    let len = outer * c * inner;
    augment::channel_affine(sl(src, len), outer, c, inner, sl(sub, c), sl(mul, c), sl_mut(dst, len));
}

/// Per-channel moments of `[outer, c, inner]` into `out` (f64 × 5c: count, mean, m2, min,
/// max for channel 0, then channel 1, ...).
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_moments(x: usize, outer: usize, c: usize, inner: usize, out: usize) {
    let m = stats::channel_moments(sl(x, outer * c * inner), outer, c, inner);
    let o: &mut [f64] = sl_mut(out, 5 * c);
    for (ch, m) in m.iter().enumerate() {
        o[5 * ch..5 * ch + 5].copy_from_slice(&[m.count, m.mean, m.m2, m.min as f64, m.max as f64]);
    }
}

/// Mean (f64 × d) and population covariance (f64 × d·d) of the rows of `x` (n × d, f32).
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_covariance(x: usize, n: usize, d: usize, mean_out: usize, cov_out: usize) {
    let (m, c) = linalg::covariance(sl(x, n * d), n, d);
    sl_mut::<f64>(mean_out, d).copy_from_slice(&m);
    sl_mut::<f64>(cov_out, d * d).copy_from_slice(&c);
}

/// Eigenvalues (decreasing, f64 × d) and eigenvectors (rows, f64 × d·d) of a symmetric f64
/// matrix. Returns 0, or 1 when the iteration did not converge.
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_sym_eigen(a: usize, d: usize, vals_out: usize, vecs_out: usize) -> i32 {
    match linalg::sym_eigen(sl(a, d * d), d) {
        Ok((v, e)) => {
            sl_mut::<f64>(vals_out, d).copy_from_slice(&v);
            sl_mut::<f64>(vecs_out, d * d).copy_from_slice(&e);
            0
        }
        Err(_) => 1,
    }
}

/// The d × k whitening matrix (f32) from eigenvalues/vectors (f64); `zca` = 1 for ZCA (k = d).
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_whitening_matrix(vals: usize, vecs: usize, d: usize, k: usize, eps: f64, zca: u32, w_out: usize) {
    let k = if zca != 0 { d } else { k };
    let w = linalg::whitening_matrix(sl(vals, d), sl(vecs, d * d), d, k, eps, zca != 0);
    sl_mut::<f32>(w_out, d * k).copy_from_slice(&w);
}

/// `out (n × k) = (x - mean) · W`; mean is f64 × d, W f32 d × k.
///
/// # Safety
/// Pointers must address arrays of the sizes given.
#[no_mangle]
pub unsafe extern "C" fn tread_data_whiten_apply(x: usize, n: usize, d: usize, mean: usize, w: usize, k: usize, out: usize) {
    linalg::whiten_apply(sl(x, n * d), n, d, sl(mean, d), sl(w, d * k), k, sl_mut(out, n * k));
}
