//! tread's own thread pool: resident workers that spin, then park, on one epoch counter.
//!
//! Why not rayon's pool: a parallel region of a training step lasts tens of microseconds
//! (a 128x256x128 GEMM), and rayon hands a job to a sleeping worker through its sleep
//! module: a mutex, a condition variable and a futex wake per job (`memory.atomic.notify` in
//! wasm, which V8 serves through a global lock). In a 2-thread MLP step that hand-off was
//! 16% of the main thread's time, and the parked worker often started after the caller had
//! already done most of the work. Here a worker that has just finished a region spins on
//! the epoch for a while (`SPIN` loads) before it parks, so the regions of one training step,
//! which follow each other within microseconds, reach a worker that is awake: publishing a
//! region is a few stores and one atomic increment, and the wake-up call is only made when a
//! worker really sleeps.
//!
//! The protocol (all state is static; one region at a time):
//! - The caller takes `BUSY` (another thread already running a region runs its tasks in
//!   order instead: cargo runs tests on several threads), writes the region's description,
//!   publishes it by storing the claim word `n << 32 | 0` (release), bumps `EPOCH` and, only
//!   if `SLEEPERS` is non-zero, wakes the parked workers. It then takes tasks itself, stops
//!   further claims (swaps the claim word to 0: no task left) and waits until every claimed
//!   task is done. It never waits for a task nobody has claimed, so a late, slow or absent
//!   worker costs nothing but its share.
//! - A worker sees the epoch change (spinning, or woken), claims tasks with
//!   `claim.fetch_add(1)` and runs them. The claim returns the index *and* the task count of
//!   the region it landed in, in one atomic read, so it is checked against that region and
//!   no other: a claim past the end (or after the caller's stop) ends the worker's turn; one
//!   that lands in a later region belongs to that region (the acquire makes its description
//!   visible), whose caller waits for it in turn. (The count once lived in its own word, read
//!   after the claim: a worker preempted between the two could check a spent claim of one
//!   region against the larger count of the next and run a task twice, or one whose closure
//!   was gone. CI's two cores hit it as a SIGSEGV; `claims_survive_a_preempted_worker`
//!   widens that window on purpose.)
//! - Parking is race-free without a lock around the epoch: the worker counts itself in
//!   `SLEEPERS` (SeqCst) and then waits only while `EPOCH` still has the value it saw; the
//!   caller bumps `EPOCH` (SeqCst) before it reads `SLEEPERS`. At least one of them sees
//!   the other's write, so no worker parks through a region (see `futex`).
//! - A panicking task (native tests; wasm aborts) is caught, counted as done, and re-raised
//!   on the caller after the region: no worker dies, and no caller waits for it forever.

use super::futex;
use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Loads of the epoch a worker makes before it parks (wasm's spin hint is a no-op, so one
/// iteration is one atomic load, a few nanoseconds: 2^17 is roughly 0.1-0.5 ms). The gaps
/// between the regions of a training step are far shorter; a pool idle for longer sleeps.
const DEFAULT_SPIN: usize = 1 << 17;

/// The most tasks a region may have: the claim index lives in 32 bits, and every drainer
/// may add one claim past the count before it stops (larger regions run in order).
const MAX_TASKS: usize = (u32::MAX / 2) as usize;

static SPIN: AtomicUsize = AtomicUsize::new(DEFAULT_SPIN);
/// Bumped once per region; workers spin and park on it.
pub(super) static EPOCH: AtomicU32 = AtomicU32::new(0);
/// Workers parked (or about to park) on `EPOCH`.
static SLEEPERS: AtomicU32 = AtomicU32::new(0);
/// Held by the thread running a region.
static BUSY: AtomicBool = AtomicBool::new(false);
/// Workers started (wasm: asked of JavaScript; native: std threads).
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// The region in flight. Fields are atomics because workers read them concurrently; the
/// caller writes them before publishing (the release store of `claim`).
struct Region {
    /// The task count in the high 32 bits, the next task to claim in the low 32 (a count of
    /// 0, stored when the region closes, puts every claim out of range).
    claim: AtomicU64,
    /// Workers with an index below this take part (setThreads below the pool size).
    helpers: AtomicUsize,
    done: AtomicUsize,
    /// `&F` with its lifetime erased; dereferenced only after a claim in range, and the
    /// caller does not return before every claimed task is done.
    task: AtomicUsize,
    /// `call_task::<F>` as an address.
    call: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

static REGION: Region = Region {
    claim: AtomicU64::new(0),
    helpers: AtomicUsize::new(0),
    done: AtomicUsize::new(0),
    task: AtomicUsize::new(0),
    call: AtomicUsize::new(0),
    panic: Mutex::new(None),
};

/// (next task index, task count) of a claim word.
#[inline]
fn split_claim(word: u64) -> (usize, usize) {
    ((word & 0xffff_ffff) as usize, (word >> 32) as usize)
}

type CallFn = unsafe fn(usize, usize);

unsafe fn call_task<F: Fn(usize)>(task: usize, i: usize) {
    (*(task as *const F))(i)
}

thread_local! {
    /// 1 + the worker's index on pool workers, 0 elsewhere.
    static WORKER_ID: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// 1 + this worker's index on a pool worker, 0 on any other thread.
pub fn worker_id() -> usize {
    WORKER_ID.with(|c| c.get())
}

/// Sets how many epoch loads a worker spins before it parks (0: park at once).
pub fn set_spin(loads: usize) {
    SPIN.store(loads, Ordering::Relaxed);
}

/// How many workers were started.
pub fn workers() -> usize {
    WORKERS.load(Ordering::Acquire)
}

/// Records that `n` workers are being started by the host (wasm: JavaScript runs
/// `worker_main(i)` on each of its workers).
pub fn expect_workers(n: usize) {
    WORKERS.fetch_max(n, Ordering::AcqRel);
}

/// Takes and runs tasks of the current region until none is left.
fn drain() {
    super::as_task(|| loop {
        let (i, n) = split_claim(REGION.claim.fetch_add(1, Ordering::AcqRel));
        #[cfg(test)]
        tests::widen_the_claim_window(i);
        if i >= n {
            return;
        }
        let (task, call) = (REGION.task.load(Ordering::Relaxed), REGION.call.load(Ordering::Relaxed));
        let call: CallFn = unsafe { std::mem::transmute::<usize, CallFn>(call) };
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| unsafe { call(task, i) })) {
            REGION.panic.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(p);
        }
        REGION.done.fetch_add(1, Ordering::AcqRel);
    })
}

/// The loop of pool worker `index` (0-based); never returns.
pub fn worker_main(index: usize) -> ! {
    WORKER_ID.with(|c| c.set(index + 1));
    // Not the current epoch: a worker that starts while a region is in flight (JavaScript
    // starts workers asynchronously, after init() returns) joins it at once. Draining a
    // region that is over is harmless: its claim word holds a count of 0.
    let mut seen = EPOCH.load(Ordering::Acquire).wrapping_sub(1);
    loop {
        let mut e = EPOCH.load(Ordering::Acquire);
        let mut spins = SPIN.load(Ordering::Relaxed);
        while e == seen && spins > 0 {
            std::hint::spin_loop();
            spins -= 1;
            e = EPOCH.load(Ordering::Acquire);
        }
        if e == seen {
            SLEEPERS.fetch_add(1, Ordering::SeqCst);
            futex::wait_while_equal(&EPOCH, seen);
            SLEEPERS.fetch_sub(1, Ordering::SeqCst);
            e = EPOCH.load(Ordering::Acquire);
        }
        seen = e;
        if index < REGION.helpers.load(Ordering::Relaxed) {
            drain();
        }
    }
}

/// Starts native worker threads up to `n` (wasm workers come from JavaScript).
#[cfg(not(target_arch = "wasm32"))]
fn ensure_workers(n: usize) {
    static SPAWN: Mutex<()> = Mutex::new(());
    if WORKERS.load(Ordering::Acquire) >= n {
        return;
    }
    let _g = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    let have = WORKERS.load(Ordering::Acquire);
    for i in have..n {
        std::thread::Builder::new()
            .name(format!("tread-worker-{i}"))
            .spawn(move || worker_main(i))
            .expect("tread: could not start a pool thread");
    }
    WORKERS.fetch_max(n, Ordering::AcqRel);
}

/// Runs `f(0..n)` on the caller and up to `helpers` workers. Returns false, having run
/// nothing, when no worker can help (none started, or another thread holds the pool).
pub fn run<F: Fn(usize) + Sync + Send>(n: usize, helpers: usize, f: &F) -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    ensure_workers(helpers);
    let helpers = helpers.min(workers());
    if helpers == 0 || n > MAX_TASKS || BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        return false;
    }
    let r = &REGION;
    r.helpers.store(helpers, Ordering::Relaxed);
    r.task.store(f as *const F as usize, Ordering::Relaxed);
    r.call.store(call_task::<F> as CallFn as usize, Ordering::Relaxed);
    r.done.store(0, Ordering::Relaxed);
    r.claim.store((n as u64) << 32, Ordering::Release);
    EPOCH.fetch_add(1, Ordering::SeqCst);
    if SLEEPERS.load(Ordering::SeqCst) > 0 {
        futex::wake_all(&EPOCH);
    }
    // Every task runs under catch_unwind (drain), so nothing unwinds past this point
    // before the region is closed.
    drain();
    // Stop further claims, then wait for the ones in flight.
    let claimed = split_claim(r.claim.swap(0, Ordering::AcqRel)).0.min(n);
    while r.done.load(Ordering::Acquire) < claimed {
        std::hint::spin_loop();
    }
    let p = r.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    BUSY.store(false, Ordering::Release);
    if let Some(p) = p {
        resume_unwind(p);
    }
    true
}

/// A self-check of the pool (its tests and the wasm build's `tread_pool_check_regions`):
/// runs `regions` regions of `tasks` tiny tasks back to back, through `for_each_task` as
/// kernels do, and returns how many times a task did not run exactly once in its region
/// (0 when the pool is right). Back-to-back regions are the hard case: workers may still be
/// claiming in one region while the caller opens the next.
pub fn misruns(regions: usize, tasks: usize) -> usize {
    let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
    let mut wrong = 0;
    for r in 0..regions {
        super::for_each_task(tasks, |i| {
            counts[i].fetch_add(1, Ordering::Relaxed);
        });
        // The region is over when for_each_task returns: nothing may still be running.
        wrong += counts.iter().filter(|c| c.load(Ordering::Relaxed) != r + 1).count();
        // Count each miss once: put the counters back on track.
        counts.iter().for_each(|c| c.store(r + 1, Ordering::Relaxed));
    }
    wrong
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::{set_threads, test_settings_lock, threads};

    /// While on, a worker yields between a claim and its use (0-7 times, by task index):
    /// long enough for the caller to close the region and open the next.
    static YIELDS: AtomicBool = AtomicBool::new(false);

    pub(super) fn widen_the_claim_window(i: usize) {
        if YIELDS.load(Ordering::Relaxed) && worker_id() != 0 {
            for _ in 0..i % 8 {
                std::thread::yield_now();
            }
        }
    }

    #[test]
    fn claims_survive_a_preempted_worker() {
        let _g = test_settings_lock();
        let before = threads();
        set_threads(3);
        YIELDS.store(true, Ordering::Relaxed);
        // A lost claim leaves its caller waiting for ever: watch from another thread, so
        // that the test fails instead of hanging.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let wrong: Vec<(usize, usize)> = [2usize, 3, 7, 16].iter().map(|&n| (n, misruns(1500, n))).collect();
            let _ = tx.send(wrong);
        });
        let outcome = rx.recv_timeout(std::time::Duration::from_secs(120));
        YIELDS.store(false, Ordering::Relaxed);
        match outcome {
            Ok(wrong) => assert!(wrong.iter().all(|&(_, w)| w == 0), "tasks not run exactly once, (tasks per region, misruns in 1500 regions): {wrong:?}"),
            Err(_) => panic!("a region never finished: a claimed task was lost"),
        }
        set_threads(before);
    }

    #[test]
    fn claim_words_split_into_index_and_count() {
        assert_eq!(split_claim((7u64 << 32) | 3), (3, 7));
        assert_eq!(split_claim(0), (0, 0));
        assert_eq!(split_claim(((MAX_TASKS as u64) << 32) | 0xffff_ffff), (0xffff_ffff, MAX_TASKS));
    }
}
