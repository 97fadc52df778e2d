//! Work splitting over the thread pool.
//!
//! Kernels never talk to rayon directly: they ask `for_each_task` to run `n` independent
//! tasks. With the `threads` feature and more than one active thread, the calling thread and
//! up to `threads() - 1` pool workers take tasks from one shared counter; otherwise the tasks
//! run in order on the calling thread. The number of active threads is a runtime setting,
//! so one build can be measured on 1 and on 2 threads.
//!
//! The pool is tread's own (`parallel/pool.rs`): resident workers that spin briefly on an
//! epoch counter after each region and then park, so that the back-to-back regions of a
//! training step reach awake workers without a wake-up call each.
//!
//! Why the caller works too: in wasm the caller is the JS main thread, and a hand-off to the
//! pool and back costs two cross-thread wake-ups (tens of microseconds each). With the
//! caller taking tasks itself, the pool is woken once, the caller starts at once, and it
//! never sleeps waiting: a training step's many mid-sized products gain from a second
//! thread instead of losing to the hand-offs. The pool therefore has `threads - 1` workers.

#[cfg(feature = "threads")]
mod futex;
#[cfg(feature = "threads")]
pub mod pool;

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

static ACTIVE_THREADS: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// Set while this thread runs a task of a parallel region.
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Sets how many threads kernels may use (clamped to at least 1).
pub fn set_threads(n: usize) {
    ACTIVE_THREADS.store(n.max(1), Ordering::Relaxed);
}

/// How many threads kernels may use right now: 1 inside a task of a parallel region.
///
/// Why 1 there: the region already keeps every thread busy, so a kernel called from a task
/// (a convolution's per-sample GEMM) gains nothing from splitting its own work; split
/// anyway, it would cut a small product into tiles that each pack their own copy of A and B,
/// and post jobs that no idle thread is left to take.
pub fn threads() -> usize {
    if IN_TASK.with(Cell::get) {
        1
    } else {
        ACTIVE_THREADS.load(Ordering::Relaxed)
    }
}

/// Runs `f(0..n)`; in parallel when threads are on, there is more than one task and this
/// is not already a task of a parallel region (nested regions run in order, see [`threads`]).
pub fn for_each_task<F>(n: usize, f: F)
where
    F: Fn(usize) + Sync + Send,
{
    #[cfg(feature = "threads")]
    {
        let helpers = threads().min(n) - 1;
        if n > 1 && helpers > 0 && pool::run(n, helpers, &f) {
            return;
        }
    }
    for i in 0..n {
        f(i);
    }
}

/// Runs `f` with this thread marked as inside a task, restoring the old mark afterwards
/// (also when `f` panics, in native tests).
#[cfg(feature = "threads")]
fn as_task<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_TASK.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(IN_TASK.with(|c| c.replace(true)));
    f()
}

/// Splits `0..len` into at most `parts` contiguous ranges of roughly equal size, each a
/// multiple of `align` long except the last.
pub fn split_range(len: usize, parts: usize, align: usize) -> Vec<(usize, usize)> {
    let parts = parts.max(1);
    let align = align.max(1);
    let units = len.div_ceil(align);
    let per = units.div_ceil(parts).max(1) * align;
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    while start < len {
        let end = (start + per).min(len);
        out.push((start, end));
        start = end;
    }
    out
}

/// Splits `0..len` into contiguous ranges that shrink towards the end (guided scheduling),
/// for tasks claimed in order by `threads` threads: each range is about `1/(2·threads)` of
/// what is left from its start, but at least `min` long, and all but the last are multiples
/// of `align`. Why: a pool claims tasks in index order, so the last task claimed decides how
/// long the other threads wait at the end of a region; with equal ranges that wait is half a
/// range on average, with shrinking ones it is half of a `min`-long one.
pub fn split_guided(len: usize, threads: usize, align: usize, min: usize) -> Vec<(usize, usize)> {
    let align = align.max(1);
    // Work in units of `align` (the last one may be partial), so every start is aligned.
    let units = len.div_ceil(align);
    let min = min.max(1).div_ceil(align);
    let ratio = (2 * threads.max(1)).max(2) - 1;
    // Built from the end: a range is about 1/ratio of all that follows it.
    let mut sizes = Vec::new();
    let mut covered = 0;
    while covered < units {
        let size = covered.div_ceil(ratio).max(min).min(units - covered);
        sizes.push(size);
        covered += size;
    }
    // The first range takes what was left over; merged into the next when shorter than min.
    if sizes.len() > 1 && *sizes.last().unwrap() < min {
        let short = sizes.pop().unwrap();
        *sizes.last_mut().unwrap() += short;
    }
    let mut out = Vec::with_capacity(sizes.len());
    let mut start = 0;
    for size in sizes.into_iter().rev() {
        let end = ((start + size) * align).min(len);
        out.push((start * align, end));
        start += size;
    }
    out
}

/// Held by every unit test that changes the thread count: tests run in parallel in one
/// process, and a kernel's split (so the order of a reduction, in the last bits) follows the
/// count, so a test comparing two runs bit for bit must not see another test change it.
#[cfg(test)]
pub(crate) fn test_settings_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A raw pointer that may be shared across tasks. Each task must touch a disjoint part.
#[derive(Clone, Copy)]
pub struct SharedMut<T>(pub *mut T);
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// # Safety
    /// The caller guarantees the range is in bounds and not touched by another task.
    #[inline]
    pub unsafe fn slice(&self, start: usize, len: usize) -> &mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(start), len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_range_covers_everything_once() {
        for len in [0usize, 1, 7, 63, 129, 1000] {
            for parts in [1usize, 2, 3, 8] {
                for align in [1usize, 4, 8] {
                    let r = split_range(len, parts, align);
                    let mut next = 0;
                    for &(a, b) in &r {
                        assert_eq!(a, next);
                        assert!(b > a);
                        next = b;
                    }
                    assert_eq!(next, len);
                    assert!(r.len() <= parts);
                }
            }
        }
    }

    #[test]
    fn split_guided_covers_everything_once_and_shrinks() {
        for len in [0usize, 1, 7, 63, 128, 129, 256, 1000, 4096] {
            for threads in [1usize, 2, 3, 16] {
                for (align, min) in [(1usize, 1usize), (4, 8), (4, 16), (16, 16)] {
                    let r = split_guided(len, threads, align, min);
                    let mut next = 0;
                    for (i, &(a, b)) in r.iter().enumerate() {
                        assert_eq!(a, next, "len {len} threads {threads}: {r:?}");
                        assert!(b > a);
                        // Every range is at least min long (the last one: less a partial unit) ...
                        let short = if b == len { (align - len % align) % align } else { 0 };
                        assert!(b - a + short >= min.min(len), "len {len} threads {threads} min {min}: {r:?}");
                        // ... starts on the alignment, and is no longer than the one before it
                        // (the first one may be shorter: it takes the leftover).
                        assert_eq!(a % align, 0, "{r:?}");
                        if i >= 2 {
                            assert!(b - a <= r[i - 1].1 - r[i - 1].0 + align, "len {len} threads {threads}: {r:?}");
                        }
                        next = b;
                    }
                    assert_eq!(next, len);
                }
            }
        }
        // The tail is min-sized and the early ranges are about a (2·threads)th of what is left.
        let r = split_guided(128, 2, 4, 8);
        assert_eq!(r.last(), Some(&(120, 128)));
        assert!(r.len() >= 8 && r[1].1 - r[1].0 >= 24, "{r:?}");
    }

    /// A region inside a task runs in order on that task's thread, with `threads() == 1`
    /// there, and the mark is gone again after the region.
    #[cfg(feature = "threads")]
    #[test]
    fn nested_regions_run_in_order_inside_a_task() {
        let _settings = crate::parallel::test_settings_lock();
        use std::sync::Mutex;
        set_threads(2);
        let seen = Mutex::new(Vec::new());
        for_each_task(4, |t| {
            assert_eq!(threads(), 1, "inside task {t}");
            let me = std::thread::current().id();
            for_each_task(3, |u| {
                assert_eq!(std::thread::current().id(), me, "nested task {u} of {t} left its thread");
                seen.lock().unwrap().push((t, u));
            });
        });
        assert!(!IN_TASK.with(Cell::get), "the caller is still marked as inside a task");
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        let want: Vec<_> = (0..4).flat_map(|t| (0..3).map(move |u| (t, u))).collect();
        assert_eq!(seen, want);
    }
}

/// Index of the pool thread running the caller: 1 + the worker's index (0 outside the pool or without threads).
pub fn thread_index() -> usize {
    #[cfg(feature = "threads")]
    let id = pool::worker_id();
    #[cfg(not(feature = "threads"))]
    let id = 0;
    id
}
