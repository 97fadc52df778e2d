//! Parking on a 32-bit counter: wait while it holds a value, wake every waiter.
//!
//! wasm (shared memory): `memory.atomic.wait32` / `memory.atomic.notify` on the counter
//! itself; the wait compares and blocks atomically, so a bump between the caller's check
//! and the wait is never lost. Native (the tests): a mutex and a condition variable; the
//! waiter re-checks the counter under the mutex and the waker notifies under it, which
//! gives the same guarantee.

use std::sync::atomic::{AtomicU32, Ordering};

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub fn wait_while_equal(word: &AtomicU32, value: u32) {
    use core::arch::wasm32::memory_atomic_wait32;
    while word.load(Ordering::SeqCst) == value {
        // Returns on a notify, on "not equal" or spuriously: the loop re-checks.
        unsafe { memory_atomic_wait32(word.as_ptr() as *mut i32, value as i32, -1) };
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub fn wake_all(word: &AtomicU32) {
    unsafe { core::arch::wasm32::memory_atomic_notify(word.as_ptr() as *mut i32, u32::MAX) };
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
mod native {
    use std::sync::{Condvar, Mutex};
    pub static LOCK: Mutex<()> = Mutex::new(());
    pub static CV: Condvar = Condvar::new();
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
pub fn wait_while_equal(word: &AtomicU32, value: u32) {
    let mut g = native::LOCK.lock().unwrap_or_else(|e| e.into_inner());
    while word.load(Ordering::SeqCst) == value {
        g = native::CV.wait(g).unwrap_or_else(|e| e.into_inner());
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
pub fn wake_all(_word: &AtomicU32) {
    let _g = native::LOCK.lock().unwrap_or_else(|e| e.into_inner());
    native::CV.notify_all();
}
