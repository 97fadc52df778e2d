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

/// `parallel::pool::misruns`: runs `regions` back-to-back regions of `tasks` tiny tasks and
/// returns how many times a task did not run exactly once (test/tensor.test.ts expects 0).
#[no_mangle]
pub extern "C" fn tread_pool_check_regions(regions: usize, tasks: usize) -> usize {
    pool::misruns(regions, tasks)
}
