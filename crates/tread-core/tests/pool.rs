//! Stress tests of the thread pool (`parallel::pool`): many tiny regions, regions that need
//! a worker to wake (spinning and parked), nested regions, concurrent callers and panicking
//! tasks. The hangs these guard against (a worker parked through a region, a caller waiting
//! for a task nobody claims) would show as a test that never ends; the waits below that
//! need a worker give up after a deadline and fail instead.
#![cfg(feature = "threads")]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tread_core::parallel::{self, for_each_task, pool};

// Tests here change the global thread and spin settings; run them one at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `regions` regions of `n` tasks; every task must run exactly once per region.
fn every_task_once(regions: usize, n: usize) {
    assert_eq!(pool::misruns(regions, n), 0, "tasks not run exactly once in {regions} regions of {n} tasks");
}

#[test]
fn many_tiny_regions_run_every_task_once() {
    let _g = lock();
    for threads in [2, 3] {
        parallel::set_threads(threads);
        for spin in [1 << 17, 64, 0] {
            pool::set_spin(spin);
            for n in [2, 3, 7, 64] {
                every_task_once(if spin == 0 { 1500 } else { 4000 }, n);
            }
        }
    }
    pool::set_spin(1 << 17);
}

/// Task 0 waits for task 1 to start. The caller claims task 0 first, so task 1 can only be
/// run by a worker: each region needs a worker to notice it, awake or parked.
fn needs_a_worker(regions: usize) {
    for r in 0..regions {
        let started = AtomicBool::new(false);
        let on_worker = AtomicBool::new(false);
        for_each_task(2, |i| {
            if i == 1 {
                on_worker.store(parallel::thread_index() != 0, Ordering::SeqCst);
                started.store(true, Ordering::SeqCst);
            } else {
                let t = Instant::now();
                while !started.load(Ordering::SeqCst) {
                    assert!(t.elapsed() < Duration::from_secs(10), "region {r}: no worker took task 1 within 10 s");
                    std::hint::spin_loop();
                }
            }
        });
        assert!(started.load(Ordering::SeqCst));
    }
}

#[test]
fn a_parked_or_spinning_worker_takes_the_second_task() {
    let _g = lock();
    parallel::set_threads(2);
    for spin in [0, 16, 1 << 17] {
        pool::set_spin(spin);
        needs_a_worker(2000);
    }
    // Parked for a while (longer than any spin), then woken.
    pool::set_spin(0);
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(20));
        needs_a_worker(1);
    }
    pool::set_spin(1 << 17);
}

#[test]
fn regions_nested_in_tasks_run_in_order_on_the_task_thread() {
    let _g = lock();
    parallel::set_threads(3);
    for _ in 0..300 {
        let total = AtomicUsize::new(0);
        for_each_task(6, |t| {
            assert_eq!(parallel::threads(), 1);
            let me = std::thread::current().id();
            for_each_task(5, |u| {
                assert_eq!(std::thread::current().id(), me, "nested task {u} of {t} left its thread");
                total.fetch_add(1, Ordering::Relaxed);
            });
        });
        assert_eq!(total.load(Ordering::Relaxed), 30);
        assert_eq!(parallel::threads(), 3);
    }
}

#[test]
fn concurrent_callers_each_run_all_their_tasks() {
    let _g = lock();
    parallel::set_threads(2);
    std::thread::scope(|s| {
        for c in 0..4 {
            s.spawn(move || {
                for r in 0..2000 {
                    let sum = AtomicUsize::new(0);
                    for_each_task(9, |i| {
                        sum.fetch_add(i + 1, Ordering::Relaxed);
                    });
                    assert_eq!(sum.load(Ordering::Relaxed), 45, "caller {c} region {r}");
                }
            });
        }
    });
}

#[test]
fn a_panicking_task_reaches_the_caller_and_the_pool_goes_on() {
    let _g = lock();
    parallel::set_threads(2);
    for spin in [1 << 17, 0] {
        pool::set_spin(spin);
        for round in 0..50 {
            // On the caller's own thread or a worker's, whichever claims task 3.
            let r = catch_unwind(AssertUnwindSafe(|| {
                for_each_task(8, |i| {
                    if i == 3 {
                        panic!("task three fails (round {round})");
                    }
                })
            }));
            let msg = r.expect_err("the panic was lost");
            let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(msg.contains("task three fails"), "{msg}");
            // On a worker for certain: task 0 (the caller's) waits until task 1 has panicked.
            let panicked = AtomicBool::new(false);
            let r = catch_unwind(AssertUnwindSafe(|| {
                for_each_task(2, |i| {
                    if i == 1 {
                        panicked.store(true, Ordering::SeqCst);
                        panic!("worker task fails");
                    }
                    let t = Instant::now();
                    while !panicked.load(Ordering::SeqCst) {
                        assert!(t.elapsed() < Duration::from_secs(10), "no worker took task 1");
                        std::hint::spin_loop();
                    }
                })
            }));
            assert!(r.is_err(), "the worker's panic was lost");
            // The pool still runs every task.
            every_task_once(20, 5);
            needs_a_worker(5);
        }
    }
    pool::set_spin(1 << 17);
}
