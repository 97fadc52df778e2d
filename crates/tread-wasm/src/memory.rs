//! Allocation of tensor storage in linear memory, and runtime settings.

use std::alloc::{alloc, dealloc, Layout};

/// Storage is aligned to 16 bytes so SIMD loads of a tensor's start are aligned.
const ALIGN: usize = 16;

/// Allocates `bytes` (rounded up to a multiple of 16); returns 0 when out of memory or when the
/// size cannot be allocated at all (rounding would overflow, or it exceeds `isize::MAX`, which on
/// wasm32 is 2 GiB - 1: Layout refuses it). Never a smaller block than asked for.
#[no_mangle]
pub extern "C" fn tread_alloc(bytes: usize) -> usize {
    match storage_layout(bytes) {
        Some(layout) => unsafe { alloc(layout) as usize },
        None => 0,
    }
}

/// The layout of a storage of `bytes`, in checked arithmetic (a size that wraps is refused).
fn storage_layout(bytes: usize) -> Option<Layout> {
    let size = bytes.max(1).checked_next_multiple_of(ALIGN)?;
    Layout::from_size_align(size, ALIGN).ok()
}

/// Frees what `tread_alloc(bytes)` returned.
///
/// # Safety
/// `ptr` must come from `tread_alloc` with the same `bytes`, and be freed once.
#[no_mangle]
pub unsafe extern "C" fn tread_free(ptr: usize, bytes: usize) {
    if ptr == 0 {
        return;
    }
    // Only sizes that tread_alloc accepted reach here (it returned a non-zero pointer).
    if let Some(layout) = storage_layout(bytes) {
        dealloc(ptr as *mut u8, layout);
    }
}

/// How many threads kernels may use; the TS runtime keeps it at most the pool size.
#[no_mangle]
pub extern "C" fn tread_set_threads(n: usize) {
    tread_core::parallel::set_threads(n);
}

#[no_mangle]
pub extern "C" fn tread_threads() -> usize {
    tread_core::parallel::threads()
}

/// 1 when this build was compiled with the thread pool.
#[no_mangle]
pub extern "C" fn tread_has_threads() -> u32 {
    cfg!(feature = "threads") as u32
}

/// Runs `tasks` tasks through the pool and returns how many distinct threads ran them
/// (tests use it to see that the pool really is parallel).
#[no_mangle]
pub extern "C" fn tread_probe_threads(tasks: usize) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let seen = Mutex::new(Vec::new());
    let busy = AtomicUsize::new(0);
    tread_core::parallel::for_each_task(tasks, |_| {
        // Spin a little so that one thread cannot take every task before the others wake.
        let mut x = 0u64;
        for i in 0..200_000u64 {
            x = std::hint::black_box(x.wrapping_add(i * i));
        }
        busy.fetch_add(x as usize & 1, Ordering::Relaxed);
        let id = tread_core::parallel::thread_index();
        let mut s = seen.lock().unwrap();
        if !s.contains(&id) {
            s.push(id);
        }
    });
    let n = seen.lock().unwrap().len();
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_that_would_wrap_are_refused() {
        // Rounding usize::MAX up to 16 overflows: refused, not wrapped to a tiny block.
        assert!(storage_layout(usize::MAX).is_none());
        assert!(storage_layout(usize::MAX - 7).is_none());
        assert!(storage_layout(isize::MAX as usize).is_none());
        assert_eq!(storage_layout(0).unwrap().size(), 16);
        assert_eq!(storage_layout(17).unwrap().size(), 32);
        assert_eq!(tread_alloc(usize::MAX), 0);
    }
}
