//! The thread pool on web workers (`tread_core::parallel::pool`).
//!
//! JavaScript starts the workers: `tread_pool_init(n)` asks it, through the imported
//! `tread.spawn_worker(i)`, to run worker `i`, and a worker that shares this module and
//! memory calls `tread_worker_run(i)`, which runs the pool's worker loop for the life of
//! the worker.

use tread_core::parallel::pool;

#[link(wasm_import_module = "tread")]
extern "C" {
    fn spawn_worker(index: usize);
}

/// Starts the pool's `n` workers; 0 on success, -1 if it was already started.
#[no_mangle]
pub extern "C" fn tread_pool_init(n: usize) -> i32 {
    if pool::workers() > 0 {
        return -1;
    }
    let n = n.max(1);
    pool::expect_workers(n);
    for i in 0..n {
        unsafe { spawn_worker(i) };
    }
    0
}

/// Entry point of a worker: runs pool worker `index` until the process ends.
#[no_mangle]
pub extern "C" fn tread_worker_run(index: usize) {
    pool::worker_main(index)
}

/// Sets how many loads of the pool's epoch a worker spins before it parks (0: park at once;
/// benchmarks compare settings).
#[no_mangle]
pub extern "C" fn tread_pool_set_spin(loads: usize) {
    pool::set_spin(loads)
}

/// Runs `regions` parallel regions of 2 tasks in which task 0 (the caller's) waits until a
/// worker has started task 1: the time a region takes to reach a worker (bench/step_loop.ts
/// times it with the workers spinning and parked).
#[no_mangle]
pub extern "C" fn tread_pool_probe_regions(regions: usize) {
    use std::sync::atomic::{AtomicBool, Ordering};
    for _ in 0..regions {
        let started = AtomicBool::new(false);
        tread_core::parallel::for_each_task(2, |i| {
            if i == 1 {
                started.store(true, Ordering::Release);
            } else {
                while !started.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
            }
        });
    }
}

/// Runs `regions` regions of `tasks` tiny tasks back to back (the pool's hardest case:
/// workers still finishing one region's claims while the next opens) and returns how many
/// tasks did not run exactly once. Tests expect 0.
#[no_mangle]
pub extern "C" fn tread_pool_check_regions(regions: usize, tasks: usize) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
    let mut wrong = 0;
    for r in 0..regions {
        tread_core::parallel::for_each_task(tasks, |i| {
            counts[i].fetch_add(1, Ordering::Relaxed);
        });
        wrong += counts.iter().filter(|c| c.load(Ordering::Relaxed) != r + 1).count();
        // Count each miss once: put the counters back on track.
        counts.iter().for_each(|c| c.store(r + 1, Ordering::Relaxed));
    }
    wrong
}
