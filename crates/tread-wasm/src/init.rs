//! Initialisation fills (tread-core `init`): uniform and normal from the counter-based
//! Philox stream. Seeds are 64-bit, passed as two u32 halves; `out` is a byte offset.

use tread_core::init;

unsafe fn f32s_mut<'a>(p: usize, n: usize) -> &'a mut [f32] {
    if n == 0 || p == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut f32, n) }
}

/// `out[i] ~ U[low, high)` for `len` floats.
///
/// # Safety
/// `out` addresses `len` floats.
#[no_mangle]
pub unsafe extern "C" fn tread_init_uniform(seed_lo: u32, seed_hi: u32, out: usize, len: usize, low: f64, high: f64) {
    init::uniform((seed_hi as u64) << 32 | seed_lo as u64, f32s_mut(out, len), low, high);
}

/// `out[i] ~ N(mean, std²)` for `len` floats.
///
/// # Safety
/// `out` addresses `len` floats.
#[no_mangle]
pub unsafe extern "C" fn tread_init_normal(seed_lo: u32, seed_hi: u32, out: usize, len: usize, mean: f64, std: f64) {
    init::normal((seed_hi as u64) << 32 | seed_lo as u64, f32s_mut(out, len), mean, std);
}
